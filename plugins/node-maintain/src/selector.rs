//! Matching that the API server and scheduler do, needed in memory: label selectors (PDBs
//! to pods), taints against tolerations, and node selectors.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// True when `selector` selects objects with `labels`. An empty selector selects everything;
/// a malformed expression selects nothing (as the API server would reject it).
pub fn selects(selector: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    runbook::selector::label_selector_matches(selector, labels.unwrap_or(&empty))
}

/// True when `toleration` tolerates `taint` (the scheduler's `ToleratesTaint`).
fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_ok = toleration
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    let key = toleration.key.as_deref().unwrap_or_default();
    let key_ok = key.is_empty() || key == taint.key;
    let op = toleration.operator.as_deref().unwrap_or("Equal");
    let value_ok = match op {
        "Exists" => true,
        _ => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
    };
    // An empty key with Exists tolerates everything; an empty key with Equal nothing.
    if key.is_empty() && op != "Exists" {
        return false;
    }
    effect_ok && key_ok && value_ok
}

/// The node's NoSchedule/NoExecute taints that `pod` does not tolerate.
pub fn untolerated_taints<'a>(pod: &Pod, node: &'a Node) -> Vec<&'a Taint> {
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
        .collect()
}

/// True when the node carries every label of the pod's `nodeSelector`.
pub fn node_selector_matches(pod: &Pod, node: &Node) -> bool {
    let wanted = pod.spec.as_ref().and_then(|s| s.node_selector.as_ref());
    let labels = node.metadata.labels.as_ref();
    wanted
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// `key=value:Effect` as kubectl prints a taint.
pub fn taint_text(t: &Taint) -> String {
    match t.value.as_deref() {
        Some(v) if !v.is_empty() => format!("{}={}:{}", t.key, v, t.effect),
        _ => format!("{}:{}", t.key, t.effect),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_match_like_the_api_server() {
        let sel: LabelSelector = serde_json::from_value(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert!(selects(
            &sel,
            Some(&labels(&[("app", "web"), ("tier", "edge")]))
        ));
        assert!(!selects(
            &sel,
            Some(&labels(&[("app", "web"), ("tier", "db")]))
        ));
        assert!(!selects(
            &sel,
            Some(&labels(&[
                ("app", "web"),
                ("tier", "edge"),
                ("canary", "1")
            ]))
        ));
        assert!(!selects(&sel, None));
        assert!(selects(&LabelSelector::default(), None));
    }

    #[test]
    fn taints_and_tolerations() {
        let node: Node =
            serde_json::from_value(json!({"metadata": {"name": "n", "labels": {"disk": "ssd"}},
            "spec": {"taints": [
                {"key": "dedicated", "value": "gw", "effect": "NoSchedule"},
                {"key": "soft", "effect": "PreferNoSchedule"}
            ]}}))
            .unwrap();
        let plain: Pod = serde_json::from_value(json!({"metadata": {"name": "p"},
            "spec": {"containers": [], "nodeSelector": {"disk": "ssd"}}}))
        .unwrap();
        assert_eq!(untolerated_taints(&plain, &node).len(), 1);
        assert!(node_selector_matches(&plain, &node));
        let tolerant: Pod = serde_json::from_value(json!({"metadata": {"name": "p"},
            "spec": {"containers": [], "nodeSelector": {"disk": "hdd"},
                     "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gw"}]}}))
        .unwrap();
        assert!(untolerated_taints(&tolerant, &node).is_empty());
        assert!(!node_selector_matches(&tolerant, &node));
        let all: Pod = serde_json::from_value(json!({"metadata": {"name": "p"},
            "spec": {"containers": [], "tolerations": [{"operator": "Exists"}]}}))
        .unwrap();
        assert!(untolerated_taints(&all, &node).is_empty());
        let t = &node.spec.as_ref().unwrap().taints.as_ref().unwrap()[0];
        assert_eq!(taint_text(t), "dedicated=gw:NoSchedule");
    }
}
