//! Exact amounts in messages: canonical Kubernetes quantities (`1256Mi`, `1900m`), never
//! rounded, so that "needs X, Y left" always reads right.

use runbook::quantity::Quantity;

/// Bytes as a canonical quantity (`1316999168` prints `1256Mi`).
pub fn bytes(v: i128) -> String {
    Quantity::from_bytes(i64::try_from(v).unwrap_or(i64::MAX)).to_string()
}

/// Millicores as a canonical quantity (`1900` prints `1900m`, `2000` prints `2`).
pub fn cpu(millis: i128) -> String {
    Quantity::from_millis(i64::try_from(millis).unwrap_or(i64::MAX)).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn prints_exact_canonical_quantities() {
        assert_eq!(super::bytes(1256 << 20), "1256Mi");
        assert_eq!(super::bytes(1 << 30), "1Gi");
        assert_eq!(super::cpu(1900), "1900m");
        assert_eq!(super::cpu(2000), "2");
    }
}
