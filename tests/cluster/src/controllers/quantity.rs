//! Quantities as controllers use them: plain numbers in base units for arithmetic (exact
//! parsing is [`crate::quantity`]'s), and the formats metrics-server writes.

use serde_json::Value;

use crate::quantity::Quantity;

/// The value of a quantity in base units (cores for cpu, bytes for memory), or `None` when the
/// text is not a valid quantity.
pub fn parse(text: &str) -> Option<f64> {
    Quantity::parse(text).ok().map(|q| q.nanos() as f64 / 1e9)
}

/// The value of a JSON quantity (a string, or a bare number as clients sometimes send).
pub fn parse_value(value: &Value) -> Option<f64> {
    match value {
        Value::String(text) => parse(text),
        Value::Number(number) => number.as_f64(),
        _ => None,
    }
}

/// Formats cpu cores the way metrics-server does: nanocores (`12345678n`).
pub fn format_cpu(cores: f64) -> String {
    format!("{}n", (cores * 1e9).round() as i64)
}

/// Formats bytes in Ki, as metrics-server reports memory (`123456Ki`).
pub fn format_memory(bytes: f64) -> String {
    format!("{}Ki", (bytes / 1024.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_into_base_units() {
        assert_eq!(parse("250m"), Some(0.25));
        assert_eq!(parse("512Mi"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(parse("1.5Gi"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse("12x"), None);
        assert_eq!(parse_value(&serde_json::json!(3)), Some(3.0));
    }

    #[test]
    fn formats_like_metrics_server() {
        assert_eq!(format_cpu(0.25), "250000000n");
        assert_eq!(format_memory(1024.0 * 1024.0), "1024Ki");
    }
}
