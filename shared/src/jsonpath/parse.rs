//! Parses kubectl's jsonpath template syntax (`k8s.io/client-go/util/jsonpath`) into
//! [`Node`]s. Navigation (`.name`, `[0]`, `[1:3]`, `[*]`, `..name`) is translated to
//! RFC 9535 and compiled once by jsonpath-rust; filters, multi-segment unions, a bare
//! `..`, `range`/`end` and literal text are kept as nodes evaluated here.

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use serde_json::Value;

use super::JsonPathError;
use super::print::go_text;

/// One piece of a template.
#[derive(Debug)]
pub(super) enum Node {
    /// Text printed as is: outside braces, or a quoted literal such as `{"\t"}`.
    Text(String),
    /// `{.path}`: every result printed, separated by spaces.
    Expr(Expr),
    /// `{range .path}...{end}`: the body printed once per result, relative to it.
    Range(Expr, Vec<Node>),
}

/// A path, evaluated relative to the current value.
#[derive(Debug)]
pub(super) struct Expr {
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub(super) enum Step {
    /// A run of navigation segments, compiled for jsonpath-rust.
    Query(JpQuery),
    /// `[?(...)]`: the array elements the filter accepts.
    Filter(Box<Filter>),
    /// `['a.b', 'c']` with a nested alternative: each alternative over all inputs, in turn.
    Union(Vec<Expr>),
    /// A bare `..`: the value and every non-empty array or object below it.
    DescendAll,
}

#[derive(Debug)]
pub(super) struct Filter {
    pub left: Operand,
    /// `None` for an existence test such as `[?(@.z)]`.
    pub comparison: Option<(CmpOp, Operand)>,
}

#[derive(Debug)]
pub(super) enum Operand {
    Path(Expr),
    Literal(Value),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Parses a whole kubectl template.
pub(super) fn parse_template(src: &str) -> Result<Vec<Node>, JsonPathError> {
    TemplateParser { src }.parse()
}

/// Compiles a plain RFC 9535 query (`$.items[*].x`).
pub(super) fn parse_rfc(src: &str) -> Result<Vec<Node>, JsonPathError> {
    let query = parse_json_path(src).map_err(|e| rfc_error(src, 0, &e))?;
    Ok(vec![Node::Expr(Expr {
        steps: vec![Step::Query(query)],
    })])
}

/// A jsonpath-rust error as one line, with the column it names when it names one.
fn rfc_error(
    src: &str,
    offset: usize,
    e: &jsonpath_rust::parser::errors::JsonPathError,
) -> JsonPathError {
    use jsonpath_rust::parser::errors::JsonPathError as Rfc;
    match e {
        Rfc::PestError(pest) => {
            let column = match pest.line_col {
                pest::error::LineColLocation::Pos((_, c))
                | pest::error::LineColLocation::Span((_, c), _) => c,
            };
            JsonPathError::Syntax {
                column: column_of(src, offset) + column.saturating_sub(1),
                message: format!("invalid RFC 9535 query: {}", pest.variant.message()),
            }
        }
        other => JsonPathError::Syntax {
            column: column_of(src, offset),
            message: format!("invalid RFC 9535 query: {other}"),
        },
    }
}

/// The 1-based column (in characters) of a byte offset.
fn column_of(src: &str, offset: usize) -> usize {
    src[..offset].chars().count() + 1
}

/// What an action (`{...}`) holds.
enum Action {
    Node(Node),
    Range(Expr),
    End,
}

/// Uncompiled pieces of a path: RFC segments are merged and compiled at the end.
enum Part {
    Rfc(String),
    Step(Step),
}

/// The inside of `[...]`.
enum Bracket {
    /// An RFC selector without brackets: `0`, `1:3`, `*`, `'name'`.
    Selector(String),
    /// Anything else (filters, nested keys, unions with nested keys).
    Parts(Vec<Part>),
}

struct TemplateParser<'t> {
    src: &'t str,
}

impl TemplateParser<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> JsonPathError {
        JsonPathError::Syntax {
            column: column_of(self.src, at),
            message: message.into(),
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    fn char_at(&self, at: usize) -> char {
        self.src[at..].chars().next().unwrap_or('\0')
    }

    fn parse(&self) -> Result<Vec<Node>, JsonPathError> {
        // Open ranges: their path and the body parsed so far. The bottom entry is the template.
        let mut stack: Vec<(Option<Expr>, Vec<Node>)> = vec![(None, Vec::new())];
        let mut pos = 0;
        while pos < self.src.len() {
            let Some(rel) = self.src[pos..].find('{') else {
                push(&mut stack, Node::Text(self.src[pos..].to_string()));
                break;
            };
            if rel > 0 {
                push(&mut stack, Node::Text(self.src[pos..pos + rel].to_string()));
            }
            let open = pos + rel;
            let close = self.action_end(open)?;
            match self.parse_action(open + 1, close)? {
                Action::Node(node) => push(&mut stack, node),
                Action::Range(expr) => stack.push((Some(expr), Vec::new())),
                Action::End => {
                    if stack.len() == 1 {
                        return Err(self.err(open, "not in range, nothing to end"));
                    }
                    close_range(&mut stack);
                }
            }
            pos = close + 1;
        }
        // kubectl runs a range without {end} to the end of the template.
        while stack.len() > 1 {
            close_range(&mut stack);
        }
        Ok(stack.pop().map(|(_, nodes)| nodes).unwrap_or_default())
    }

    /// The position of the `}` closing the action opened at `open`, skipping quoted text.
    fn action_end(&self, open: usize) -> Result<usize, JsonPathError> {
        let mut quote = None;
        let mut prev = '{';
        let mut chars = self.src[open + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (_, '\\') => {
                    chars.next();
                }
                (None, '"' | '\'') if opens_quote(prev) => quote = Some(c),
                (Some(q), _) if c == q => quote = None,
                (None, '}') => return Ok(open + 1 + i),
                (None, '\n' | '\r') => break,
                _ => {}
            }
            prev = c;
        }
        Err(self.err(open, "unclosed action"))
    }

    fn trim(&self, mut start: usize, mut end: usize) -> (usize, usize) {
        while start < end && matches!(self.byte(start), Some(b' ' | b'\t')) {
            start += 1;
        }
        while end > start
            && matches!(self.byte(end - 1), Some(b' ' | b'\t'))
            && !self.escaped(start, end - 1)
        {
            end -= 1;
        }
        (start, end)
    }

    /// Whether the character at `at` follows an odd run of backslashes (from `start`).
    fn escaped(&self, start: usize, at: usize) -> bool {
        let slashes = self.src.as_bytes()[start..at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        slashes % 2 == 1
    }

    fn parse_action(&self, start: usize, end: usize) -> Result<Action, JsonPathError> {
        let (s, e) = self.trim(start, end);
        if s == e {
            return Err(self.err(start, "empty action {}"));
        }
        let first = self.char_at(s);
        if first == '"' || first == '\'' {
            let (text, next) = self.parse_quoted(s, e)?;
            if next != e {
                return Err(self.err(next, "unexpected text after quoted string"));
            }
            return Ok(Action::Node(Node::Text(text)));
        }
        if first.is_alphabetic() || first == '_' {
            let ident_end = self.name_end(s, e);
            let ident = &self.src[s..ident_end];
            return match ident {
                "range" => {
                    let (ps, pe) = self.trim(ident_end, e);
                    if ps == pe {
                        return Err(self.err(s, "range needs a path, as in {range .items[*]}"));
                    }
                    Ok(Action::Range(self.parse_expr(ps, pe)?))
                }
                "end" if ident_end == e => Ok(Action::End),
                "true" | "false" if ident_end == e => Ok(Action::Node(Node::Text(ident.into()))),
                _ => Err(self.err(s, format!("unrecognized identifier {ident}"))),
            };
        }
        if first.is_ascii_digit() || first == '+' || first == '-' {
            let number = self.parse_number(s, e)?;
            return Ok(Action::Node(Node::Text(go_text(&number))));
        }
        Ok(Action::Node(Node::Expr(self.parse_expr(s, e)?)))
    }

    fn parse_number(&self, s: usize, e: usize) -> Result<Value, JsonPathError> {
        let text = &self.src[s..e];
        let unsigned = text.strip_prefix('+').unwrap_or(text);
        if let Ok(i) = unsigned.parse::<i64>() {
            return Ok(Value::from(i));
        }
        let numeric = unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
        numeric
            .then(|| unsigned.parse::<f64>().ok())
            .flatten()
            .filter(|f| f.is_finite())
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .ok_or_else(|| self.err(s, format!("cannot parse number {text}")))
    }

    /// A quoted string starting at `s` (Go escapes), and the position after its closing quote.
    fn parse_quoted(&self, s: usize, e: usize) -> Result<(String, usize), JsonPathError> {
        let quote = self.char_at(s);
        let mut out = String::new();
        let mut chars = self.src[s + 1..e].char_indices();
        while let Some((i, c)) = chars.next() {
            let at = s + 1 + i;
            if c == quote {
                return Ok((out, at + 1));
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let bad = || self.err(at, "invalid escape in quoted string");
            let Some((_, esc)) = chars.next() else {
                return Err(bad());
            };
            let mut hex = |n: usize| -> Result<char, JsonPathError> {
                let digits: String = (0..n)
                    .filter_map(|_| chars.next().map(|(_, c)| c))
                    .collect();
                u32::from_str_radix(&digits, 16)
                    .ok()
                    .filter(|_| digits.len() == n)
                    .and_then(char::from_u32)
                    .ok_or_else(bad)
            };
            out.push(match esc {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'v' => '\u{b}',
                '\\' | '\'' | '"' => esc,
                'x' => hex(2)?,
                'u' => hex(4)?,
                'U' => hex(8)?,
                _ => return Err(bad()),
            });
        }
        Err(self.err(s, "unterminated quoted string"))
    }

    /// The end of a field name: kubectl's terminators, with `\` escaping the next character.
    fn name_end(&self, s: usize, e: usize) -> usize {
        let mut chars = self.src[s..e].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}' => {
                    return s + i;
                }
                _ => {}
            }
        }
        e
    }

    /// A field name with its escapes removed (`kubernetes\.io/name` is `kubernetes.io/name`).
    fn unescape_name(&self, s: usize, e: usize) -> String {
        let mut out = String::new();
        let mut chars = self.src[s..e].chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn parse_expr(&self, s: usize, e: usize) -> Result<Expr, JsonPathError> {
        let parts = self.parse_path(s, e)?;
        self.compile(parts, s)
    }

    /// Merges adjacent RFC segments and compiles them.
    fn compile(&self, parts: Vec<Part>, at: usize) -> Result<Expr, JsonPathError> {
        let mut steps = Vec::new();
        let mut rfc = String::new();
        let flush = |rfc: &mut String, steps: &mut Vec<Step>| -> Result<(), JsonPathError> {
            if !rfc.is_empty() {
                let query = format!("${rfc}");
                let compiled = parse_json_path(&query).map_err(|e| {
                    let inner = rfc_error(&query, 0, &e);
                    self.err(at, format!("cannot translate path ({inner})"))
                })?;
                steps.push(Step::Query(compiled));
                rfc.clear();
            }
            Ok(())
        };
        for part in parts {
            match part {
                Part::Rfc(segment) => rfc.push_str(&segment),
                Part::Step(step) => {
                    flush(&mut rfc, &mut steps)?;
                    steps.push(step);
                }
            }
        }
        flush(&mut rfc, &mut steps)?;
        Ok(Expr { steps })
    }

    /// A kubectl path: optional `$`/`@`, then `.name`, `.*`, `..name`, `..`, `[...]` segments.
    fn parse_path(&self, s: usize, e: usize) -> Result<Vec<Part>, JsonPathError> {
        let mut parts = Vec::new();
        let mut pos = s;
        if matches!(self.byte(pos), Some(b'$' | b'@')) {
            pos += 1;
        }
        while pos < e {
            match self.byte(pos) {
                Some(b'.') if self.byte(pos + 1) == Some(b'.') => {
                    pos = self.parse_descent(pos + 2, e, &mut parts)?;
                }
                Some(b'.') => {
                    pos += 1;
                    if self.byte(pos) == Some(b'*') {
                        parts.push(Part::Rfc("[*]".into()));
                        pos += 1;
                        continue;
                    }
                    let end = self.name_end(pos, e);
                    if end == pos {
                        if pos == e || self.byte(pos) == Some(b'[') {
                            continue;
                        }
                        return Err(self.unexpected(pos));
                    }
                    let name = self.unescape_name(pos, end);
                    parts.push(Part::Rfc(format!("[{}]", rfc_name(&name))));
                    pos = end;
                }
                Some(b'[') => {
                    let (bracket, next) = self.parse_bracket(pos, e)?;
                    match bracket {
                        Bracket::Selector(sel) => parts.push(Part::Rfc(format!("[{sel}]"))),
                        Bracket::Parts(more) => parts.extend(more),
                    }
                    pos = next;
                }
                _ => return Err(self.unexpected(pos)),
            }
        }
        Ok(parts)
    }

    fn unexpected(&self, at: usize) -> JsonPathError {
        match self.char_at(at) {
            ' ' | '\t' => self.err(at, "unexpected space in path"),
            c => self.err(at, format!("unrecognized character in path: {c:?}")),
        }
    }

    /// After `..`: a name, `*`, `[...]`, `.name` (kubectl's `...name`) or nothing.
    fn parse_descent(
        &self,
        mut pos: usize,
        e: usize,
        parts: &mut Vec<Part>,
    ) -> Result<usize, JsonPathError> {
        if self.byte(pos) == Some(b'.') {
            if self.byte(pos + 1) == Some(b'.') {
                return Err(self.err(pos, "invalid multiple recursive descent"));
            }
            pos += 1;
        }
        if pos >= e {
            parts.push(Part::Step(Step::DescendAll));
            return Ok(pos);
        }
        match self.byte(pos) {
            Some(b'*') => {
                parts.push(Part::Rfc("..[*]".into()));
                Ok(pos + 1)
            }
            Some(b'[') => {
                let (bracket, next) = self.parse_bracket(pos, e)?;
                match bracket {
                    Bracket::Selector(sel) => parts.push(Part::Rfc(format!("..[{sel}]"))),
                    Bracket::Parts(more) => {
                        parts.push(Part::Step(Step::DescendAll));
                        parts.extend(more);
                    }
                }
                Ok(next)
            }
            _ => {
                let end = self.name_end(pos, e);
                if end == pos {
                    return Err(self.unexpected(pos));
                }
                let name = self.unescape_name(pos, end);
                parts.push(Part::Rfc(format!("..[{}]", rfc_name(&name))));
                Ok(end)
            }
        }
    }

    /// `[...]` at `open`: returns what it selects and the position after its `]`.
    fn parse_bracket(&self, open: usize, e: usize) -> Result<(Bracket, usize), JsonPathError> {
        if self.byte(open + 1) == Some(b'?') {
            return self.parse_filter_bracket(open, e);
        }
        let close = self
            .scan_to(open + 1, e, b']')
            .ok_or_else(|| self.err(open, "unterminated array"))?;
        Ok((self.parse_bracket_content(open + 1, close)?, close + 1))
    }

    /// The position of `target` at nesting depth 0 outside quotes, from `s`.
    fn scan_to(&self, s: usize, e: usize, target: u8) -> Option<usize> {
        let mut quote = None;
        let mut depth = 0usize;
        let mut prev = '[';
        let mut chars = self.src[s..e].char_indices();
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (_, '\\') => {
                    chars.next();
                }
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if opens_quote(prev) => quote = Some(c),
                (None, _) if depth == 0 && c as u32 == u32::from(target) => return Some(s + i),
                (None, '(' | '[') => depth += 1,
                (None, ')' | ']') => depth = depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
        None
    }

    fn parse_bracket_content(&self, s: usize, e: usize) -> Result<Bracket, JsonPathError> {
        let (s, e) = self.trim(s, e);
        if s == e {
            return Err(self.err(s, "empty array index []"));
        }
        let alternatives = self.split_union(s, e);
        if alternatives.len() > 1 {
            return self.parse_union(&alternatives);
        }
        let text = &self.src[s..e];
        if text == "*" {
            return Ok(Bracket::Selector("*".into()));
        }
        let first = self.char_at(s);
        if first == '\'' || first == '"' {
            if e - s < 2 || self.char_at(e - 1) != first {
                return Err(self.err(s, format!("invalid array index {text}")));
            }
            // kubectl reads ['a.b'] as the path .a.b, with `\` escaping the next character.
            let names = split_dotted(&self.src[s + 1..e - 1]);
            if names.len() == 1 {
                return Ok(Bracket::Selector(rfc_name(&names[0])));
            }
            let segments: String = names.iter().map(|n| format!("[{}]", rfc_name(n))).collect();
            return Ok(Bracket::Parts(vec![Part::Rfc(segments)]));
        }
        self.parse_slice(s, e).map(Bracket::Selector)
    }

    /// Splits `a, b` at top-level commas outside quotes.
    fn split_union(&self, s: usize, e: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = s;
        while let Some(comma) = self.scan_to(start, e, b',') {
            out.push((start, comma));
            start = comma + 1;
        }
        out.push((start, e));
        out
    }

    fn parse_union(&self, alternatives: &[(usize, usize)]) -> Result<Bracket, JsonPathError> {
        let mut selectors = Vec::new();
        let mut all_simple = true;
        let mut parsed = Vec::new();
        for &(s, e) in alternatives {
            let bracket = self.parse_bracket_content(s, e)?;
            if let Bracket::Selector(sel) = &bracket {
                selectors.push(sel.clone());
            } else {
                all_simple = false;
            }
            parsed.push((s, bracket));
        }
        if all_simple {
            return Ok(Bracket::Selector(selectors.join(",")));
        }
        let mut exprs = Vec::new();
        for (s, bracket) in parsed {
            let parts = match bracket {
                Bracket::Selector(sel) => vec![Part::Rfc(format!("[{sel}]"))],
                Bracket::Parts(parts) => parts,
            };
            exprs.push(self.compile(parts, s)?);
        }
        Ok(Bracket::Parts(vec![Part::Step(Step::Union(exprs))]))
    }

    /// `3`, `-1`, `1:3`, `::2`, as kubectl's slice operator (a step must be positive).
    fn parse_slice(&self, s: usize, e: usize) -> Result<String, JsonPathError> {
        let text = &self.src[s..e];
        let fields: Vec<&str> = text.split(':').collect();
        let is_int = |f: &str| {
            let digits = f.strip_prefix('-').unwrap_or(f);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        };
        let valid = fields.len() <= 3 && fields.iter().all(|f| f.is_empty() || is_int(f));
        if !valid || (fields.len() == 1 && fields[0].is_empty()) {
            return Err(self.err(s, format!("invalid array index {text}")));
        }
        if fields
            .iter()
            .any(|f| f.parse::<i64>().is_err() && !f.is_empty())
        {
            return Err(self.err(s, format!("array index {text} is too large")));
        }
        let step = fields.get(2).and_then(|f| f.parse::<i64>().ok());
        if step.is_some_and(|n| n <= 0) {
            return Err(self.err(s, "step must be > 0"));
        }
        Ok(text.to_string())
    }

    /// `[?(...)]` (kubectl) or `[?...]` (RFC style) at `open`.
    fn parse_filter_bracket(
        &self,
        open: usize,
        e: usize,
    ) -> Result<(Bracket, usize), JsonPathError> {
        let (body_start, body_end, next) = if self.byte(open + 2) == Some(b'(') {
            let close_paren = self
                .scan_to(open + 3, e, b')')
                .ok_or_else(|| self.err(open, "unterminated filter"))?;
            if self.byte(close_paren + 1) != Some(b']') || close_paren + 1 >= e {
                return Err(self.err(close_paren + 1, "unclosed array expect ]"));
            }
            (open + 3, close_paren, close_paren + 2)
        } else {
            let close = self
                .scan_to(open + 2, e, b']')
                .ok_or_else(|| self.err(open, "unterminated filter"))?;
            (open + 2, close, close + 1)
        };
        let filter = self.parse_filter(body_start, body_end)?;
        Ok((
            Bracket::Parts(vec![Part::Step(Step::Filter(Box::new(filter)))]),
            next,
        ))
    }

    fn parse_filter(&self, s: usize, e: usize) -> Result<Filter, JsonPathError> {
        let (s, e) = self.trim(s, e);
        if s == e {
            return Err(self.err(s, "empty filter"));
        }
        let Some(op_start) = self.find_operator(s, e) else {
            return Ok(Filter {
                left: self.parse_operand(s, e)?,
                comparison: None,
            });
        };
        let mut op_end = op_start;
        while op_end < e && matches!(self.byte(op_end), Some(b'!' | b'<' | b'>' | b'=')) {
            op_end += 1;
        }
        let op = match &self.src[op_start..op_end] {
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            other => {
                return Err(self.err(op_start, format!("unrecognized filter operator {other}")));
            }
        };
        if op_start == s {
            return Err(self.err(s, "filter needs a value before the operator"));
        }
        if op_end == e {
            return Err(self.err(op_end, "filter needs a value after the operator"));
        }
        Ok(Filter {
            left: self.parse_operand(s, op_start)?,
            comparison: Some((op, self.parse_operand(op_end, e)?)),
        })
    }

    /// The first comparison character outside quotes.
    fn find_operator(&self, s: usize, e: usize) -> Option<usize> {
        let mut quote = None;
        let mut prev = '(';
        let mut chars = self.src[s..e].char_indices();
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (_, '\\') => {
                    chars.next();
                }
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if opens_quote(prev) => quote = Some(c),
                (None, '!' | '<' | '>' | '=') => return Some(s + i),
                _ => {}
            }
            prev = c;
        }
        None
    }

    fn parse_operand(&self, s: usize, e: usize) -> Result<Operand, JsonPathError> {
        let (s, e) = self.trim(s, e);
        if s == e {
            return Err(self.err(s, "empty filter operand"));
        }
        let text = &self.src[s..e];
        match self.char_at(s) {
            '@' | '$' | '.' | '[' => Ok(Operand::Path(self.parse_expr(s, e)?)),
            '"' | '\'' => {
                let (value, next) = self.parse_quoted(s, e)?;
                if next != e {
                    return Err(self.err(next, "unexpected text after quoted string"));
                }
                Ok(Operand::Literal(Value::String(value)))
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' => {
                Ok(Operand::Literal(self.parse_number(s, e)?))
            }
            _ => match text {
                "true" => Ok(Operand::Literal(Value::Bool(true))),
                "false" => Ok(Operand::Literal(Value::Bool(false))),
                "null" => Ok(Operand::Literal(Value::Null)),
                _ => Err(self.err(s, format!("invalid filter operand {text}"))),
            },
        }
    }
}

/// Whether a quote after `prev` starts a quoted string (rather than being part of a name,
/// as in `.it's`).
fn opens_quote(prev: char) -> bool {
    matches!(
        prev,
        ' ' | '\t' | '{' | '[' | '(' | ',' | '=' | '!' | '<' | '>' | '"' | '\''
    )
}

fn push(stack: &mut [(Option<Expr>, Vec<Node>)], node: Node) {
    if let Some((_, nodes)) = stack.last_mut() {
        nodes.push(node);
    }
}

fn close_range(stack: &mut Vec<(Option<Expr>, Vec<Node>)>) {
    if let Some((Some(expr), body)) = stack.pop() {
        push(stack, Node::Range(expr, body));
    }
}

/// Splits a dictionary key at unescaped dots (`a.b` is `a`, `b`; `a\.b` is one name).
fn split_dotted(key: &str) -> Vec<String> {
    let mut names = vec![String::new()];
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(n)) = (chars.next(), names.last_mut()) {
                    n.push(next);
                }
            }
            '.' => names.push(String::new()),
            _ => {
                if let Some(n) = names.last_mut() {
                    n.push(c);
                }
            }
        }
    }
    names
}

/// A name as an RFC 9535 single-quoted string literal.
fn rfc_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('\'');
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
