//! kubectl's `-o jsonpath=` templates over JSON values.
//!
//! The template syntax is client-go's (`k8s.io/client-go/util/jsonpath`): literal text,
//! `{.path}`, `{.items[*].metadata.name}` (several results joined by spaces), `{.a[0]}`,
//! `{.a[-1:]}`, slices `[1:4:2]`, unions `[0,2]` and `['metadata.name', 'status']`,
//! recursive descent `{..name}`, filters `{.items[?(@.severity=="critical")].subject}`,
//! `{range .items[*]}...{end}`, quoted literals `{"\t"}`, `$`, `@` and `{@}`. Strings print
//! raw, other scalars as Go prints them, arrays and objects as compact JSON.
//!
//! Navigation is translated to RFC 9535 and run by jsonpath-rust; filters, unions of
//! nested keys, a bare `..`, `range` and text are handled here. As with
//! `kubectl get -o jsonpath` (`--allow-missing-template-keys` is on by default), a missing
//! key or an index out of range prints nothing rather than failing. Inside a `range`,
//! `$` is the current item, as in kubectl.
//!
//! A template without braces that starts with `$` is read as a plain RFC 9535 query
//! (`$.items[?@.spec.replicas > 1].metadata.name`), printed the same way.

mod eval;
mod parse;
mod print;

#[cfg(test)]
mod tests;

use std::str::FromStr;

use serde_json::Value;

use parse::Node;

/// A template that cannot be parsed (with its column) or evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JsonPathError {
    /// A malformed template; `column` counts characters from 1.
    #[error("{message} at column {column}")]
    Syntax { column: usize, message: String },
    /// A template that failed on this data (for example a filter comparing a list).
    #[error("{0}")]
    Eval(String),
}

impl From<JsonPathError> for crate::error::Error {
    fn from(e: JsonPathError) -> Self {
        crate::error::Error::Usage(format!("jsonpath: {e}"))
    }
}

/// A parsed template, to check a flag before fetching and to render many values.
#[derive(Debug)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parses kubectl template syntax, or a plain RFC 9535 query starting with `$`.
    pub fn parse(template: &str) -> Result<Self, JsonPathError> {
        let nodes = if template.starts_with('$') && !template.contains('{') {
            parse::parse_rfc(template)?
        } else {
            parse::parse_template(template)?
        };
        Ok(Template { nodes })
    }

    /// Renders the template over `value` (the `$` of the template).
    pub fn render(&self, value: &Value) -> Result<String, JsonPathError> {
        let mut out = String::new();
        eval::render_nodes(&self.nodes, value, &mut out)?;
        Ok(out)
    }
}

impl FromStr for Template {
    type Err = JsonPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Template::parse(s)
    }
}

/// Parses `template` and renders it over `value` in one go.
pub fn render(template: &str, value: &Value) -> Result<String, JsonPathError> {
    Template::parse(template)?.render(value)
}
