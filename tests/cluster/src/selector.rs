//! Label selectors (as `k8s.io/apimachinery/pkg/labels.Parse` reads them, error messages
//! included) and field selectors (`fields.ParseSelector` plus the per-resource field labels
//! the real API server supports).

use std::collections::BTreeMap;

use serde_json::Value;

/// A label selector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `key=value`, `key==value`, `key in (a,b)`.
    In,
    /// `key!=value`, `key notin (a,b)`.
    NotIn,
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
    /// `key>3`.
    GreaterThan,
    /// `key<3`.
    LessThan,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub operator: Operator,
    /// Values (empty for exists / does not exist).
    pub values: Vec<String>,
}

impl Requirement {
    fn matches(&self, labels: &serde_json::Map<String, Value>) -> bool {
        let value = labels.get(&self.key).and_then(Value::as_str);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(actual), Some(bound)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }
}

/// A parsed label selector: all requirements must match. Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// Requirements, sorted by key.
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the `labelSelector` query syntax; the error is the real parser's message.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let tokens = lex(text);
        let mut parser = Parser {
            tokens,
            position: 0,
        };
        let mut requirements = parser.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements })
    }

    /// A selector from `matchLabels` / `matchExpressions` of a `metav1.LabelSelector` object.
    /// `None` for a malformed object; an empty object matches everything.
    pub fn from_label_selector(selector: &Value) -> Option<LabelSelector> {
        let mut requirements = Vec::new();
        if let Some(match_labels) = selector.get("matchLabels") {
            for (key, value) in match_labels.as_object()? {
                requirements.push(Requirement {
                    key: key.clone(),
                    operator: Operator::In,
                    values: vec![value.as_str()?.to_string()],
                });
            }
        }
        if let Some(expressions) = selector.get("matchExpressions") {
            for expression in expressions.as_array()? {
                let values: Vec<String> = match expression.get("values") {
                    Some(values) => values
                        .as_array()?
                        .iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect::<Option<_>>()?,
                    None => Vec::new(),
                };
                let operator = match expression.get("operator")?.as_str()? {
                    "In" => Operator::In,
                    "NotIn" => Operator::NotIn,
                    "Exists" => Operator::Exists,
                    "DoesNotExist" => Operator::DoesNotExist,
                    _ => return None,
                };
                requirements.push(Requirement {
                    key: expression.get("key")?.as_str()?.to_string(),
                    operator,
                    values,
                });
            }
        }
        Some(LabelSelector { requirements })
    }

    /// A selector matching exactly these labels (a Service's `spec.selector`).
    pub fn from_map(labels: &serde_json::Map<String, Value>) -> LabelSelector {
        let requirements = labels
            .iter()
            .map(|(key, value)| Requirement {
                key: key.clone(),
                operator: Operator::In,
                values: vec![value.as_str().unwrap_or_default().to_string()],
            })
            .collect();
        LabelSelector { requirements }
    }

    /// Whether this selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object's `metadata.labels` match.
    pub fn matches(&self, obj: &Value) -> bool {
        if self.requirements.is_empty() {
            return true;
        }
        let empty = serde_json::Map::new();
        let labels = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        self.matches_labels(labels)
    }

    /// Whether a label map matches.
    pub fn matches_labels(&self, labels: &serde_json::Map<String, Value>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Error(String),
    End,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier(String),
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

impl Token {
    fn literal(&self) -> &str {
        match self {
            Token::Error(text) | Token::Identifier(text) => text,
            Token::End => "",
            Token::ClosedPar => ")",
            Token::Comma => ",",
            Token::DoesNotExist => "!",
            Token::DoubleEquals => "==",
            Token::Equals => "=",
            Token::GreaterThan => ">",
            Token::In => "in",
            Token::LessThan => "<",
            Token::NotEquals => "!=",
            Token::NotIn => "notin",
            Token::OpenPar => "(",
        }
    }

    /// In a value position `in` and `notin` are plain identifiers.
    fn as_value(&self) -> Token {
        match self {
            Token::In | Token::NotIn => Token::Identifier(self.literal().to_string()),
            other => other.clone(),
        }
    }
}

fn symbol_token(text: &str) -> Option<Token> {
    Some(match text {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "(" => Token::OpenPar,
        "in" => Token::In,
        "notin" => Token::NotIn,
        _ => return None,
    })
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut tokens = Vec::new();
    loop {
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            tokens.push(Token::End);
            return tokens;
        }
        if is_special(bytes[pos]) {
            let mut buffer = String::new();
            let mut last: Option<Token> = None;
            while pos < bytes.len() && is_special(bytes[pos]) {
                buffer.push(bytes[pos] as char);
                if let Some(token) = symbol_token(&buffer) {
                    last = Some(token);
                    pos += 1;
                } else if last.is_some() {
                    break;
                } else {
                    pos += 1;
                }
            }
            tokens.push(last.unwrap_or_else(|| {
                Token::Error(format!("error expected: keyword found '{buffer}'"))
            }));
        } else {
            let start = pos;
            while pos < bytes.len() && !is_special(bytes[pos]) && !is_space(bytes[pos]) {
                pos += 1;
            }
            let word = &text[start..pos];
            tokens.push(match word {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier(word.to_string()),
            });
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn lookahead(&self) -> Token {
        self.tokens
            .get(self.position)
            .unwrap_or(&Token::End)
            .as_value()
    }

    fn consume_raw(&mut self) -> Token {
        let token = self
            .tokens
            .get(self.position)
            .cloned()
            .unwrap_or(Token::End);
        self.position += 1;
        token
    }

    fn consume(&mut self) -> Token {
        self.consume_raw().as_value()
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            match self.lookahead() {
                Token::Identifier(_) | Token::DoesNotExist => {
                    let requirement = self
                        .parse_requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(requirement);
                    match self.consume() {
                        Token::End => return Ok(requirements),
                        Token::Comma => {
                            let next = self.lookahead();
                            if !matches!(next, Token::Identifier(_) | Token::DoesNotExist) {
                                return Err(format!(
                                    "found '{}', expected: identifier after ','",
                                    next.literal()
                                ));
                            }
                        }
                        other => {
                            return Err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                other.literal()
                            ));
                        }
                    }
                }
                Token::End => return Ok(requirements),
                other => {
                    return Err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.literal()
                    ));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let mut token = self.consume();
        let negated = token == Token::DoesNotExist;
        if negated {
            token = self.consume();
        }
        let Token::Identifier(key) = token else {
            return Err(format!("found '{}', expected: identifier", token.literal()));
        };
        validate_key(&key)?;
        if matches!(self.lookahead(), Token::End | Token::Comma) || negated {
            let operator = if negated {
                Operator::DoesNotExist
            } else {
                Operator::Exists
            };
            return Ok(Requirement {
                key,
                operator,
                values: Vec::new(),
            });
        }
        let operator_token = self.consume_raw();
        let (operator, values) = match operator_token {
            Token::In => (Operator::In, self.parse_values()?),
            Token::NotIn => (Operator::NotIn, self.parse_values()?),
            Token::Equals | Token::DoubleEquals => (Operator::In, self.parse_exact_value()?),
            Token::NotEquals => (Operator::NotIn, self.parse_exact_value()?),
            Token::GreaterThan => (Operator::GreaterThan, self.parse_exact_value()?),
            Token::LessThan => (Operator::LessThan, self.parse_exact_value()?),
            other => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    other.literal()
                ));
            }
        };
        if matches!(operator, Operator::GreaterThan | Operator::LessThan) {
            for value in &values {
                if value.parse::<i64>().is_err() {
                    return Err(format!(
                        "values[0]: Invalid value: {value:?}: for 'Gt', 'Lt' operators, the value must be an integer"
                    ));
                }
            }
        }
        for (i, value) in values.iter().enumerate() {
            validate_value(&key, i, value)?;
        }
        Ok(Requirement {
            key,
            operator,
            values,
        })
    }

    fn parse_values(&mut self) -> Result<Vec<String>, String> {
        let token = self.consume();
        if token != Token::OpenPar {
            return Err(format!("found '{}' expected: '('", token.literal()));
        }
        match self.lookahead() {
            Token::Identifier(_) | Token::Comma => {
                let values = self.parse_identifiers()?;
                let closing = self.consume();
                if closing != Token::ClosedPar {
                    return Err(format!("found '{}', expected: ')'", closing.literal()));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume();
                Ok(vec![String::new()])
            }
            other => Err(format!(
                "found '{}', expected: ',', ')' or identifier",
                other.literal()
            )),
        }
    }

    fn parse_identifiers(&mut self) -> Result<Vec<String>, String> {
        let mut values: Vec<String> = Vec::new();
        let insert = |values: &mut Vec<String>, v: String| {
            if !values.contains(&v) {
                values.push(v);
            }
        };
        loop {
            match self.consume() {
                Token::Identifier(value) => {
                    insert(&mut values, value);
                    match self.lookahead() {
                        Token::Comma => continue,
                        Token::ClosedPar => break,
                        other => {
                            return Err(format!(
                                "found '{}', expected: ',' or ')'",
                                other.literal()
                            ));
                        }
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        insert(&mut values, String::new());
                    }
                    match self.lookahead() {
                        Token::ClosedPar => {
                            insert(&mut values, String::new());
                            break;
                        }
                        Token::Comma => insert(&mut values, String::new()),
                        _ => {}
                    }
                }
                other => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        other.literal()
                    ));
                }
            }
        }
        values.sort();
        Ok(values)
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, String> {
        if matches!(self.lookahead(), Token::End | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.consume() {
            Token::Identifier(value) => Ok(vec![value]),
            other => Err(format!("found '{}', expected: identifier", other.literal())),
        }
    }
}

const NAME_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn is_label_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let mut problems = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            problems.push("prefix part must be non-empty".to_string());
        } else if !crate::validation::is_dns1123_subdomain(prefix) {
            problems.push(format!(
                "prefix part {}",
                crate::validation::DNS1123_SUBDOMAIN_MESSAGE
            ));
        }
    }
    if name.is_empty() {
        problems.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        problems.push("name part must be no more than 63 characters".to_string());
    } else if !is_label_token(name) || name.contains('/') {
        problems.push(NAME_MESSAGE.to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "key: Invalid value: {key:?}: {}",
            problems.join("; ")
        ))
    }
}

fn validate_value(key: &str, index: usize, value: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push("must be no more than 63 characters".to_string());
    }
    if !value.is_empty() && !is_label_token(value) {
        problems.push(VALUE_MESSAGE.to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "values[{index}][{key}]: Invalid value: {value:?}: {}",
            problems.join("; ")
        ))
    }
}

/// One term of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    /// Field label, e.g. `spec.nodeName`.
    pub field: String,
    /// Wanted value.
    pub value: String,
    /// `!=` instead of `=`.
    pub negated: bool,
}

/// A parsed field selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// Terms, all of which must hold.
    pub terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses `fieldSelector` syntax (`a=b,c!=d`, backslash escapes) as `fields.ParseSelector` does.
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for part in split_unescaped(text, ',') {
            if part.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some(i) = find_unescaped(&part, "!=") {
                (&part[..i], &part[i + 2..], true)
            } else if let Some(i) = find_unescaped(&part, "==") {
                (&part[..i], &part[i + 2..], false)
            } else if let Some(i) = find_unescaped(&part, "=") {
                (&part[..i], &part[i + 1..], false)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let value = unescape(value).map_err(|e| format!("invalid field selector: {e}"))?;
            terms.push(FieldTerm {
                field: field.to_string(),
                value,
                negated,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// 400-style error text if a term uses a field the resource does not support.
    pub fn check_supported(&self, plural: &str) -> Result<(), String> {
        for term in &self.terms {
            if field_value(plural, &Value::Null, &term.field).is_none() {
                return Err(format!("field label not supported: {}", term.field));
            }
        }
        Ok(())
    }

    /// Whether `obj` (of resource `plural`) matches.
    pub fn matches(&self, plural: &str, obj: &Value) -> bool {
        self.terms.iter().all(|term| {
            let actual = field_value(plural, obj, &term.field).unwrap_or_default();
            (actual == term.value) != term.negated
        })
    }

    /// The value a `metadata.name=` term requires, if any.
    pub fn required_name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == "metadata.name" && !t.negated)
            .map(|t| t.value.as_str())
    }
}

fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if escaped {
        current.push('\\');
    }
    parts.push(current);
    parts
}

fn find_unescaped(text: &str, operator: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if text[i..].starts_with(operator) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next @ ('\\' | ',' | '=')) => out.push(next),
                Some(other) => return Err(format!("invalid escape sequence: \\{other}")),
                None => return Err("unterminated escape sequence".to_string()),
            }
        } else if matches!(c, ',' | '=') {
            return Err(format!("unescaped {c}"));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn text_at(obj: &Value, pointer: &str) -> String {
    match obj.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn bool_at(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

/// The value of field label `field` on `obj` of resource `plural`, or `None` if the real API
/// server does not support that field selector for the resource.
pub fn field_value(plural: &str, obj: &Value, field: &str) -> Option<String> {
    let common = match field {
        "metadata.name" => Some(text_at(obj, "/metadata/name")),
        "metadata.namespace" => Some(text_at(obj, "/metadata/namespace")),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    let value = match (plural, field) {
        ("pods", "spec.nodeName") => text_at(obj, "/spec/nodeName"),
        ("pods", "spec.restartPolicy") => text_at(obj, "/spec/restartPolicy"),
        ("pods", "spec.schedulerName") => text_at(obj, "/spec/schedulerName"),
        ("pods", "spec.serviceAccountName") => text_at(obj, "/spec/serviceAccountName"),
        ("pods", "spec.hostNetwork") => bool_at(obj, "/spec/hostNetwork"),
        ("pods", "status.phase") => text_at(obj, "/status/phase"),
        ("pods", "status.podIP") => text_at(obj, "/status/podIP"),
        ("pods", "status.nominatedNodeName") => text_at(obj, "/status/nominatedNodeName"),
        ("nodes", "spec.unschedulable") => bool_at(obj, "/spec/unschedulable"),
        ("namespaces", "status.phase") => text_at(obj, "/status/phase"),
        ("secrets", "type") => text_at(obj, "/type"),
        ("replicasets", "status.replicas") => text_at(obj, "/status/replicas"),
        ("jobs", "status.successful") => text_at(obj, "/status/succeeded"),
        ("events", "involvedObject.kind") => text_at(obj, "/involvedObject/kind"),
        ("events", "involvedObject.namespace") => text_at(obj, "/involvedObject/namespace"),
        ("events", "involvedObject.name") => text_at(obj, "/involvedObject/name"),
        ("events", "involvedObject.uid") => text_at(obj, "/involvedObject/uid"),
        ("events", "involvedObject.apiVersion") => text_at(obj, "/involvedObject/apiVersion"),
        ("events", "involvedObject.resourceVersion") => {
            text_at(obj, "/involvedObject/resourceVersion")
        }
        ("events", "involvedObject.fieldPath") => text_at(obj, "/involvedObject/fieldPath"),
        ("events", "reason") => text_at(obj, "/reason"),
        ("events", "reportingComponent") => text_at(obj, "/reportingComponent"),
        ("events", "source") => text_at(obj, "/source/component"),
        ("events", "type") => text_at(obj, "/type"),
        _ => return None,
    };
    Some(value)
}

/// Labels of an object as a sorted map (for printing).
pub fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "labels": labels}})
    }

    fn matches(selector: &str, labels: Value) -> bool {
        LabelSelector::parse(selector)
            .unwrap_or_else(|e| panic!("{selector}: {e}"))
            .matches(&obj(labels))
    }

    #[test]
    fn equality_operators() {
        assert!(matches("app=web", json!({"app": "web"})));
        assert!(matches("app==web", json!({"app": "web"})));
        assert!(!matches("app=web", json!({"app": "db"})));
        assert!(!matches("app=web", json!({})));
        assert!(matches("app!=web", json!({"app": "db"})));
        assert!(matches("app!=web", json!({})), "!= matches a missing key");
        assert!(!matches("app!=web", json!({"app": "web"})));
        assert!(matches(
            " app = web , tier=front ",
            json!({"app": "web", "tier": "front"})
        ));
        assert!(matches("app=", json!({"app": ""})));
    }

    #[test]
    fn set_operators() {
        assert!(matches("env in (prod, staging)", json!({"env": "staging"})));
        assert!(!matches("env in (prod,staging)", json!({"env": "dev"})));
        assert!(!matches("env in (prod)", json!({})));
        assert!(matches("env notin (prod)", json!({"env": "dev"})));
        assert!(matches("env notin (prod)", json!({})));
        assert!(!matches("env notin (prod,dev)", json!({"env": "dev"})));
        assert!(
            matches("in in (in,notin)", json!({"in": "notin"})),
            "keywords as key and values"
        );
    }

    #[test]
    fn existence_and_comparison() {
        assert!(matches("app", json!({"app": ""})));
        assert!(!matches("app", json!({})));
        assert!(matches("!app", json!({"other": "x"})));
        assert!(!matches("!app", json!({"app": "x"})));
        assert!(matches("tier,!canary", json!({"tier": "a"})));
        assert!(matches("rank>3", json!({"rank": "4"})));
        assert!(!matches("rank>3", json!({"rank": "3"})));
        assert!(matches("rank<3", json!({"rank": "2"})));
        assert!(!matches("rank<3", json!({"rank": "x"})));
        assert!(matches(
            "example.com/app=web",
            json!({"example.com/app": "web"})
        ));
        assert!(matches("", json!({})));
    }

    #[test]
    fn parse_errors_use_the_real_messages() {
        let cases = [
            (
                "app in (a",
                "unable to parse requirement: found '', expected: ',' or ')'",
            ),
            (
                "app in a",
                "unable to parse requirement: found 'a' expected: '('",
            ),
            ("app=a=b", "found '=', expected: ',' or 'end of string'"),
            (
                "=a",
                "found '=', expected: !, identifier, or 'end of string'",
            ),
            ("a,", "found '', expected: identifier after ','"),
            (
                "a b",
                "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
            ),
            (
                "a=(",
                "unable to parse requirement: found '(', expected: identifier",
            ),
            (
                "rank>x",
                "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
        ];
        for (input, expected) in cases {
            let err = LabelSelector::parse(input).expect_err(input);
            assert!(err.contains(expected), "{input}: {err}");
        }
        let err = LabelSelector::parse("a=b c").unwrap_err();
        assert_eq!(err, "found 'c', expected: ',' or 'end of string'");
        let err = LabelSelector::parse("-bad=x").unwrap_err();
        assert!(
            err.starts_with("unable to parse requirement: key: Invalid value: \"-bad\""),
            "{err}"
        );
        let err = LabelSelector::parse("a=b@d").unwrap_err();
        assert!(
            err.contains("values[0][a]: Invalid value: \"b@d\""),
            "{err}"
        );
    }

    #[test]
    fn label_selector_objects() {
        let selector = LabelSelector::from_label_selector(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}, {"key": "x", "operator": "DoesNotExist"}]
        }))
        .unwrap();
        assert!(selector.matches(&obj(json!({"app": "web", "tier": "front"}))));
        assert!(!selector.matches(&obj(json!({"app": "web", "tier": "db"}))));
        assert!(!selector.matches(&obj(json!({"app": "web", "x": "1"}))));
        assert!(
            LabelSelector::from_label_selector(&json!({}))
                .unwrap()
                .matches(&obj(json!({})))
        );
        assert!(
            LabelSelector::from_label_selector(
                &json!({"matchExpressions": [{"key": "a", "operator": "Bad"}]})
            )
            .is_none()
        );
    }

    #[test]
    fn field_selectors() {
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let selector = FieldSelector::parse("spec.nodeName=n1,status.phase!=Succeeded").unwrap();
        assert!(selector.check_supported("pods").is_ok());
        assert!(selector.matches("pods", &pod));
        assert!(
            !FieldSelector::parse("spec.nodeName==n2")
                .unwrap()
                .matches("pods", &pod)
        );
        assert!(
            FieldSelector::parse("spec.nodeName=")
                .unwrap()
                .matches("pods", &json!({"spec": {}}))
        );
        assert_eq!(
            FieldSelector::parse("spec.nodeName=n1")
                .unwrap()
                .check_supported("services"),
            Err("field label not supported: spec.nodeName".to_string())
        );
        let node = json!({"metadata": {"name": "n"}, "spec": {}});
        assert!(
            FieldSelector::parse("spec.unschedulable=false")
                .unwrap()
                .matches("nodes", &node)
        );
        let event = json!({"involvedObject": {"kind": "Pod", "name": "p"}, "type": "Warning", "source": {"component": "kubelet"}});
        let selector = FieldSelector::parse(
            "involvedObject.kind=Pod,involvedObject.name=p,type=Warning,source=kubelet",
        )
        .unwrap();
        assert!(selector.check_supported("events").is_ok());
        assert!(selector.matches("events", &event));
        assert!(
            FieldSelector::parse("nonsense")
                .unwrap_err()
                .contains("can't understand 'nonsense'")
        );
        assert_eq!(
            FieldSelector::parse("metadata.name=a\\,b").unwrap().terms[0].value,
            "a,b"
        );
        assert_eq!(
            FieldSelector::parse("metadata.name=x")
                .unwrap()
                .required_name(),
            Some("x")
        );
    }
}
