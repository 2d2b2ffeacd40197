//! Label selectors as controllers evaluate them, on top of [`crate::selector`]: the
//! `metav1.LabelSelector` objects of workloads and PDBs, and the map selectors of Services.

use serde_json::{Map, Value};

use crate::selector::LabelSelector;

fn label_map(labels: Option<&Value>) -> Map<String, Value> {
    labels
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Whether `labels` (a JSON map) satisfy a `LabelSelector` (`matchLabels` + `matchExpressions`).
/// An empty selector matches everything; a missing (null) or malformed one matches nothing.
pub fn selector_matches(selector: Option<&Value>, labels: Option<&Value>) -> bool {
    selector
        .filter(|s| s.is_object())
        .and_then(LabelSelector::from_label_selector)
        .is_some_and(|s| s.matches_labels(&label_map(labels)))
}

/// Whether `labels` contain every `key: value` of a map selector (Service, nodeSelector).
/// An empty map matches everything.
pub fn map_matches(selector: &Value, labels: Option<&Value>) -> bool {
    let empty = Map::new();
    let selector = selector.as_object().unwrap_or(&empty);
    LabelSelector::from_map(selector).matches_labels(&label_map(labels))
}

/// Whether a Service-style map selector is present and non-empty.
pub fn has_map_selector(selector: Option<&Value>) -> bool {
    selector
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_with_expressions() {
        let labels = json!({"app": "gateway-proxy", "tier": "edge"});
        let selector = json!({"matchLabels": {"app": "gateway-proxy"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["edge", "core"]},
                                 {"key": "canary", "operator": "DoesNotExist"}]});
        assert!(selector_matches(Some(&selector), Some(&labels)));
        let not_in =
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["edge"]}]});
        assert!(!selector_matches(Some(&not_in), Some(&labels)));
        assert!(
            selector_matches(Some(&json!({})), Some(&labels)),
            "empty selects all"
        );
        assert!(
            !selector_matches(None, Some(&labels)),
            "null selects nothing"
        );
        let exists = json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]});
        assert!(selector_matches(Some(&exists), Some(&labels)));
        assert!(!selector_matches(Some(&exists), None));
    }

    #[test]
    fn map_selectors() {
        let labels = json!({"app": "paymnet", "tier": "api"});
        assert!(!map_matches(&json!({"app": "payment"}), Some(&labels)));
        assert!(map_matches(&json!({"app": "paymnet"}), Some(&labels)));
        assert!(map_matches(&json!({}), Some(&labels)));
        assert!(!has_map_selector(Some(&json!({}))));
        assert!(has_map_selector(Some(&json!({"a": "b"}))));
    }
}
