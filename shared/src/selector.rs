//! Label selectors checked as `k8s.io/apimachinery/pkg/labels.Parse` checks them, so a
//! malformed `-l` is a usage error before any request.
//!
//! Accepted: `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`,
//! `key`, `!key`, `key>1`, `key<1`, joined by commas; the empty selector selects everything.
//! Keys are an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63
//! characters of `[A-Za-z0-9-_.]` starting and ending alphanumeric; values are empty or such
//! a name.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    In,
    NotIn,
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Ident(s) => s,
            Token::In => "in",
            Token::NotIn => "notin",
            Token::Not => "!",
            Token::Eq => "=",
            Token::DoubleEq => "==",
            Token::NotEq => "!=",
            Token::Gt => ">",
            Token::Lt => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn tokens(s: &str) -> Vec<Token> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_space(c) {
            i += 1;
        } else if is_special(c) {
            let next = chars.get(i + 1).copied();
            let (tok, len) = match (c, next) {
                ('!', Some('=')) => (Token::NotEq, 2),
                ('=', Some('=')) => (Token::DoubleEq, 2),
                ('!', _) => (Token::Not, 1),
                ('=', _) => (Token::Eq, 1),
                ('(', _) => (Token::Open, 1),
                (')', _) => (Token::Close, 1),
                (',', _) => (Token::Comma, 1),
                ('>', _) => (Token::Gt, 1),
                _ => (Token::Lt, 1),
            };
            out.push(tok);
            i += len;
        } else {
            let start = i;
            while i < chars.len() && !is_space(chars[i]) && !is_special(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(match word.as_str() {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Ident(word),
            });
        }
    }
    out
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// The next token read as a value: `in` and `notin` are plain words there.
    fn next_value(&mut self) -> Option<Token> {
        self.next().map(|t| match t {
            Token::In | Token::NotIn => Token::Ident(t.text().to_string()),
            t => t,
        })
    }

    fn peek_value_is_word(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::Ident(_) | Token::In | Token::NotIn)
        )
    }
}

fn found(t: Option<&Token>) -> String {
    format!("found '{}'", t.map(Token::text).unwrap_or(""))
}

/// Checks `s` as a label selector; returns it unchanged, or why it is malformed in one line.
pub fn parse_label_selector(s: &str) -> Result<String, String> {
    check(s).map(|()| s.to_string()).map_err(|reason| {
        let shown: String = s.chars().take(80).collect();
        let more = if s.chars().count() > 80 { "..." } else { "" };
        format!(
            "invalid label selector {:?}: {reason}",
            format!("{shown}{more}")
        )
    })
}

fn check(s: &str) -> Result<(), String> {
    let mut p = Parser {
        tokens: tokens(s),
        pos: 0,
    };
    if p.peek().is_none() {
        return Ok(());
    }
    loop {
        requirement(&mut p)?;
        match p.next() {
            None => return Ok(()),
            Some(Token::Comma) => {
                if !matches!(p.peek(), Some(Token::Ident(_) | Token::Not)) {
                    return Err(format!(
                        "{}, expected: identifier after ','",
                        found(p.peek())
                    ));
                }
            }
            t => {
                return Err(format!(
                    "{}, expected: ',' or 'end of string'",
                    found(t.as_ref())
                ));
            }
        }
    }
}

fn requirement(p: &mut Parser) -> Result<(), String> {
    let negated = matches!(p.peek(), Some(Token::Not));
    if negated {
        p.next();
    }
    let key = match p.next() {
        Some(Token::Ident(k)) => k,
        t => {
            return Err(format!(
                "{}, expected: !, identifier, or 'end of string'",
                found(t.as_ref())
            ));
        }
    };
    check_key(&key)?;
    if negated {
        return match p.peek() {
            None | Some(Token::Comma) => Ok(()),
            t => Err(format!(
                "{}, expected: ',' or 'end of string' after !{key}",
                found(t)
            )),
        };
    }
    match p.next() {
        None => Ok(()),
        Some(Token::Comma) => {
            p.pos -= 1;
            Ok(())
        }
        Some(Token::Eq | Token::DoubleEq | Token::NotEq) => {
            if p.peek_value_is_word() {
                let Some(Token::Ident(v)) = p.next_value() else {
                    unreachable!("peeked a word")
                };
                check_value(&v)
            } else {
                match p.peek() {
                    None | Some(Token::Comma) => Ok(()),
                    t => Err(format!("{}, expected: identifier", found(t))),
                }
            }
        }
        Some(Token::Gt | Token::Lt) => match p.next_value() {
            Some(Token::Ident(v)) => {
                check_value(&v)?;
                v.parse::<i64>().map(|_| ()).map_err(|_| {
                    format!("for 'Gt', 'Lt' operators, the value must be an integer: {v:?}")
                })
            }
            t => Err(format!("{}, expected: an integer", found(t.as_ref()))),
        },
        Some(Token::In | Token::NotIn) => values(p),
        t => Err(format!(
            "{}, expected: '=', '!=', '==', 'in', 'notin', '>' or '<'",
            found(t.as_ref())
        )),
    }
}

/// `(a,b)` after `in` or `notin`; empty members are allowed, as Kubernetes allows them.
fn values(p: &mut Parser) -> Result<(), String> {
    match p.next() {
        Some(Token::Open) => {}
        t => return Err(format!("{}, expected: '('", found(t.as_ref()))),
    }
    loop {
        match p.next_value() {
            Some(Token::Ident(v)) => {
                check_value(&v)?;
                match p.next() {
                    Some(Token::Comma) => {}
                    Some(Token::Close) => return Ok(()),
                    t => return Err(format!("{}, expected: ',' or ')'", found(t.as_ref()))),
                }
            }
            Some(Token::Comma) => {}
            Some(Token::Close) => return Ok(()),
            t => {
                return Err(format!(
                    "{}, expected: identifier, ',' or ')'",
                    found(t.as_ref())
                ));
            }
        }
    }
}

fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && !s.is_empty()
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

const NAME_RULE: &str = "at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

fn check_key(key: &str) -> Result<(), String> {
    let short: String = key.chars().take(80).collect();
    let name = match key.split_once('/') {
        None => key,
        Some((prefix, name)) => {
            if !is_dns1123_subdomain(prefix) {
                return Err(format!(
                    "key {short:?}: the prefix must be a DNS-1123 subdomain (lowercase, at most 253 characters)"
                ));
            }
            name
        }
    };
    if name.contains('/') || !is_name(name) {
        return Err(format!("key {short:?}: the name must be {NAME_RULE}"));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_name(value) {
        Ok(())
    } else {
        let short: String = value.chars().take(80).collect();
        Err(format!("value {short:?}: must be empty or {NAME_RULE}"))
    }
}

/// True when `labels` satisfy `selector` as the API server matches a `metav1.LabelSelector`:
/// every matchLabels pair AND every matchExpression. An empty selector matches everything; an
/// expression with an unknown operator matches nothing (the API server would reject it).
pub fn label_selector_matches(
    selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    by_labels && by_expressions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_kubernetes_accepts() {
        for good in [
            "",
            "  ",
            "app",
            "!app",
            "app=gw",
            "app==gw",
            "app!=gw",
            "app=",
            "app=,tier",
            "app = gw , tier != db",
            "app in (a,b)",
            "app notin (a, b)",
            "app in ()",
            "app in (a,,b)",
            "app in (,)",
            "app in (in, notin)",
            "x=in",
            "kubernetes.io/hostname=node-1",
            "example.com/a_b.c=X-1",
            "a>1",
            "a<5",
            "!a,b=c,d in (e),f",
        ] {
            assert_eq!(parse_label_selector(good), Ok(good.to_string()), "{good:?}");
        }
        let long = format!("{}={}", "k".repeat(63), "v".repeat(63));
        assert!(parse_label_selector(&long).is_ok());
    }

    #[test]
    fn refuses_what_kubernetes_refuses_in_one_line() {
        let long_key = format!("{}=y", "x".repeat(5000));
        for bad in [
            "a=b,(",
            "!!=",
            "a in (b",
            "=x",
            "a==b==c",
            "a=b=c",
            ",",
            "a!",
            "a=b,",
            "a,,b",
            "!a=b",
            "in=b",
            "a in b",
            "a in (b))",
            "a=b c",
            "a b",
            "-a=b",
            "a-=b",
            "A/b=c",
            "a/b/c=d",
            "/b=c",
            "a/=c",
            "a=-b",
            "a=b!",
            "a>b",
            "a>",
            "a<1.5",
            "a=é",
            "a\n=\u{0}",
            long_key.as_str(),
        ] {
            let err = parse_label_selector(bad).expect_err(bad);
            assert!(!err.contains('\n'), "{err}");
            assert!(err.len() < 400, "{err}");
            assert!(err.starts_with("invalid label selector"), "{err}");
        }
        let long_value = format!("a={}", "v".repeat(64));
        assert!(parse_label_selector(&long_value).is_err());
    }
}
