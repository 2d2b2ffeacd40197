//! Label selector matching, as the API server does it (matchLabels AND every matchExpression).

use std::collections::BTreeMap;

/// True when `labels` satisfy `selector` (the shared matcher, as the API server matches).
pub use runbook::selector::label_selector_matches as matches;

/// True when a Service's `spec.selector` picks pods with `labels`. A Service without a
/// selector picks nothing by labels (its endpoints are managed by hand).
pub fn service_selects(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel: LabelSelector = serde_json::from_value(json!({
            "matchLabels": {"app": "istiod"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["control", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert!(matches(
            &sel,
            &labels(&[("app", "istiod"), ("tier", "control")])
        ));
        assert!(!matches(
            &sel,
            &labels(&[("app", "istiod"), ("tier", "db")])
        ));
        assert!(!matches(
            &sel,
            &labels(&[("app", "istiod"), ("tier", "edge"), ("canary", "1")])
        ));
        assert!(matches(&LabelSelector::default(), &labels(&[])));
    }

    #[test]
    fn services_need_a_selector() {
        let pod = labels(&[("app", "gw"), ("pod-template-hash", "abc")]);
        assert!(service_selects(&labels(&[("app", "gw")]), &pod));
        assert!(!service_selects(&labels(&[("app", "web")]), &pod));
        assert!(!service_selects(&BTreeMap::new(), &pod));
    }
}
