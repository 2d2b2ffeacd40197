//! Prints values as kubectl's jsonpath printer does: strings raw, other scalars as Go's
//! `fmt.Print`, arrays and objects as Go's `json.Marshal` (sorted keys, `<>&` escaped).

use serde_json::{Number, Value};

/// A value as kubectl prints one jsonpath result.
pub(super) fn go_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n, FloatStyle::Print),
        Value::Array(_) | Value::Object(_) => {
            let mut out = String::new();
            write_json(value, &mut out);
            out
        }
    }
}

#[derive(Clone, Copy)]
enum FloatStyle {
    /// `fmt.Print`: `%g` with the shortest digits (`1e+06`, `2.2`).
    Print,
    /// `encoding/json`: plain digits from 1e-6 up to 1e21, exponent outside (`1e-7`).
    Json,
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n, FloatStyle::Json)),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn number(n: &Number, style: FloatStyle) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let (digits, point) = shortest_digits(f);
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let exp = point - 1;
    match style {
        FloatStyle::Print if !(-4..6).contains(&exp) => format!("{sign}{}", e_form(&digits, exp)),
        FloatStyle::Json if f != 0.0 && !(1e-6..1e21).contains(&f.abs()) => {
            // Go's encoder trims a leading zero from a negative exponent: 1e-07 is 1e-7.
            let e = e_form(&digits, exp).replace("e-0", "e-");
            format!("{sign}{e}")
        }
        _ => format!("{sign}{}", f_form(&digits, point)),
    }
}

/// The shortest round-trip digits of `|f|` and where the decimal point goes:
/// `f = 0.DIGITS * 10^point`.
fn shortest_digits(f: f64) -> (String, i32) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse::<i32>().unwrap_or(0) + 1)
}

/// `d.ddde+XX` with at least two exponent digits, as Go's `%e`.
fn e_form(digits: &str, exp: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let dot = if rest.is_empty() { "" } else { "." };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{first}{dot}{rest}e{sign}{:02}", exp.unsigned_abs())
}

/// Plain decimal digits, as Go's `%f` with the shortest precision.
fn f_form(digits: &str, point: i32) -> String {
    let len = digits.len() as i32;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point >= len {
        format!("{digits}{}", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_print_like_go_fmt() {
        assert_eq!(go_text(&json!("raw \"text\"")), "raw \"text\"");
        assert_eq!(go_text(&json!(null)), "null");
        assert_eq!(go_text(&json!(true)), "true");
        assert_eq!(go_text(&json!(42)), "42");
        assert_eq!(go_text(&json!(-7)), "-7");
        assert_eq!(go_text(&json!(1.0)), "1");
        assert_eq!(go_text(&json!(2.2)), "2.2");
        assert_eq!(go_text(&json!(0.0001)), "0.0001");
        assert_eq!(go_text(&json!(0.00001)), "1e-05");
        assert_eq!(go_text(&json!(123456.0)), "123456");
        assert_eq!(go_text(&json!(1000000.0)), "1e+06");
        assert_eq!(go_text(&json!(1234567.5)), "1.2345675e+06");
        assert_eq!(go_text(&json!(-0.5)), "-0.5");
        assert_eq!(go_text(&json!(0.0)), "0");
    }

    #[test]
    fn containers_print_like_go_json_marshal() {
        let v = json!({"b": [1, 2.5, 4.0], "a": {"x": "<a&b>"}, "c": null, "d": "\u{1}\n"});
        assert_eq!(
            go_text(&v),
            r#"{"a":{"x":"\u003ca\u0026b\u003e"},"b":[1,2.5,4],"c":null,"d":"\u0001\n"}"#
        );
        assert_eq!(
            go_text(&json!([1e21, 1e-7, 1e20])),
            "[1e+21,1e-7,100000000000000000000]"
        );
    }
}
