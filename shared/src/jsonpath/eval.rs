//! Evaluates parsed templates: navigation through jsonpath-rust, filters, unions,
//! `..` and `range` as client-go's jsonpath does (missing keys give no result, as
//! `kubectl get -o jsonpath` by default).

use std::cmp::Ordering;

use jsonpath_rust::query::js_path_process;
use serde_json::Value;

use super::JsonPathError;
use super::parse::{CmpOp, Expr, Filter, Node, Operand, Step};
use super::print::go_text;

/// Renders `nodes` with `current` as `@` (and `$`) into `out`.
pub(super) fn render_nodes(
    nodes: &[Node],
    current: &Value,
    out: &mut String,
) -> Result<(), JsonPathError> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Expr(expr) => {
                let results = eval(expr, current)?;
                for (i, value) in results.into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(&go_text(value));
                }
            }
            Node::Range(expr, body) => {
                for item in eval(expr, current)? {
                    render_nodes(body, item, out)?;
                }
            }
        }
    }
    Ok(())
}

/// Every value `expr` selects from `input`, in order.
pub(super) fn eval<'a>(expr: &Expr, input: &'a Value) -> Result<Vec<&'a Value>, JsonPathError> {
    let mut current = vec![input];
    for step in &expr.steps {
        current = match step {
            Step::Query(query) => {
                let mut next = Vec::new();
                for value in current {
                    let found = js_path_process(query, value)
                        .map_err(|e| JsonPathError::Eval(e.to_string()))?;
                    next.extend(found.into_iter().map(|r| r.val));
                }
                next
            }
            Step::Filter(filter) => {
                let mut next = Vec::new();
                for value in current {
                    if let Value::Array(items) = value {
                        for item in items {
                            if accepts(filter, item)? {
                                next.push(item);
                            }
                        }
                    }
                }
                next
            }
            Step::Union(alternatives) => {
                let mut next = Vec::new();
                for alternative in alternatives {
                    for value in &current {
                        next.extend(eval(alternative, value)?);
                    }
                }
                next
            }
            Step::DescendAll => {
                let mut next = Vec::new();
                for value in current {
                    containers(value, &mut next);
                }
                next
            }
        };
    }
    Ok(current)
}

/// `value` and every array or object below it that has children (client-go's bare `..`).
fn containers<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    let children: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => return,
    };
    if children.is_empty() {
        return;
    }
    out.push(value);
    for child in children {
        containers(child, out);
    }
}

fn operand_values<'a>(
    operand: &'a Operand,
    item: &'a Value,
) -> Result<Vec<&'a Value>, JsonPathError> {
    match operand {
        Operand::Path(expr) => eval(expr, item),
        Operand::Literal(value) => Ok(vec![value]),
    }
}

fn accepts(filter: &Filter, item: &Value) -> Result<bool, JsonPathError> {
    let lefts = operand_values(&filter.left, item)?;
    let Some((op, right)) = &filter.comparison else {
        return Ok(!lefts.is_empty());
    };
    let Some(left) = single(&lefts)? else {
        return Ok(false);
    };
    let rights = operand_values(right, item)?;
    let Some(right) = single(&rights)? else {
        return Ok(false);
    };
    Ok(compare(left, *op, right))
}

fn single<'a>(values: &[&'a Value]) -> Result<Option<&'a Value>, JsonPathError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(JsonPathError::Eval(
            "can only compare one element at a time".into(),
        )),
    }
}

/// Numbers by value, strings bytewise, anything else only for (in)equality.
fn compare(left: &Value, op: CmpOp, right: &Value) -> bool {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        },
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match (op, ordering) {
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
        (CmpOp::Eq, None) => left == right,
        (CmpOp::Ne, None) => left != right,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        (_, None) => false,
    }
}
