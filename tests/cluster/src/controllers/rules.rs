//! What a scenario tells the controllers: timings of the modelled kubelet and scheduler, and the
//! faults of matching containers (OOM kills, crashes, image pull errors, failing readiness).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{labels, objects, quantity};

/// Controller settings of a scenario (the `rules:` section of its YAML).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// A terminating pod on a Ready node is removed after min(its grace period, this).
    pub termination_cap_seconds: i64,
    /// A container with a readinessProbe turns ready this long after it started.
    pub readiness_delay_seconds: i64,
    /// A crashing container runs this long before it dies.
    pub crash_after_seconds: i64,
    /// First crash-loop back-off; doubled per restart up to 300 s, as the kubelet does.
    pub backoff_base_seconds: i64,
    /// A pod that still does not fit is retried (FailedScheduling counted again) this often.
    pub scheduler_retry_seconds: i64,
    /// Faults of matching containers.
    pub faults: Vec<ContainerFault>,
    /// Whether the metrics controller writes PodMetrics / NodeMetrics for running pods.
    pub generate_metrics: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            termination_cap_seconds: 1,
            readiness_delay_seconds: 0,
            crash_after_seconds: 1,
            backoff_base_seconds: 10,
            scheduler_retry_seconds: 60,
            faults: Vec::new(),
            generate_metrics: true,
        }
    }
}

/// What goes wrong with a matching container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum FaultEffect {
    /// Killed for exceeding its memory limit (exit 137, reason OOMKilled), then CrashLoopBackOff.
    OomKilled,
    /// Exits with code 1 (reason Error), then CrashLoopBackOff.
    Crash,
    /// The image cannot be pulled: ErrImagePull, then ImagePullBackOff.
    ImagePull,
    /// Runs, but its readiness probe keeps failing.
    NeverReady,
}

/// A fault and the containers it applies to: every matcher given must match.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerFault {
    /// The effect.
    pub effect: FaultEffect,
    /// Only pods in this namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Only pods carrying all these labels.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// Only pods bound to this node (an overloaded node failing its pods' probes).
    #[serde(default)]
    pub node: Option<String>,
    /// Only the container of this name.
    #[serde(default)]
    pub container: Option<String>,
    /// Only containers running this image.
    #[serde(default)]
    pub image: Option<String>,
    /// Only containers whose memory limit is below this quantity (or that have none): raising
    /// the limit above it cures the fault, as raising a real limit cures an OOM kill.
    #[serde(default)]
    pub memory_limit_below: Option<String>,
    /// The probe failure (Unhealthy events, `{podIP}` replaced) or pull error text; a realistic
    /// default otherwise.
    #[serde(default)]
    pub message: Option<String>,
    /// Memory usage reported by metrics, as a fraction of the limit (e.g. 0.99).
    #[serde(default)]
    pub memory_usage_of_limit: Option<f64>,
}

impl ContainerFault {
    /// Whether this fault applies to `container` of `pod`.
    pub fn matches(&self, pod: &Value, container: &Value) -> bool {
        if self
            .namespace
            .as_deref()
            .is_some_and(|ns| ns != objects::meta(pod, "namespace"))
        {
            return false;
        }
        if self
            .node
            .as_deref()
            .is_some_and(|node| node != objects::node_name(pod))
        {
            return false;
        }
        let selector: serde_json::Map<String, Value> = self
            .selector
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        if !labels::map_matches(&Value::Object(selector), pod.pointer("/metadata/labels")) {
            return false;
        }
        if self
            .container
            .as_deref()
            .is_some_and(|name| container["name"] != name)
        {
            return false;
        }
        if self
            .image
            .as_deref()
            .is_some_and(|image| container["image"] != image)
        {
            return false;
        }
        if let Some(threshold) = &self.memory_limit_below {
            let threshold = quantity::parse(threshold).unwrap_or(0.0);
            if objects::memory_limit(container).is_some_and(|limit| limit >= threshold) {
                return false;
            }
        }
        true
    }
}

impl Rules {
    /// The first fault applying to `container` of `pod`.
    pub fn fault_for(&self, pod: &Value, container: &Value) -> Option<&ContainerFault> {
        self.faults.iter().find(|f| f.matches(pod, container))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn oom_rule() -> ContainerFault {
        ContainerFault {
            effect: FaultEffect::OomKilled,
            namespace: Some("gateway".into()),
            selector: [("app".to_string(), "gateway-proxy".to_string())].into(),
            node: None,
            container: None,
            image: None,
            memory_limit_below: Some("700Mi".into()),
            message: None,
            memory_usage_of_limit: Some(0.99),
        }
    }

    #[test]
    fn raising_the_memory_limit_cures_an_oom_fault() {
        let pod = json!({"metadata": {"namespace": "gateway", "labels": {"app": "gateway-proxy"}}});
        let small = json!({"name": "proxy", "resources": {"limits": {"memory": "512Mi"}}});
        let big = json!({"name": "proxy", "resources": {"limits": {"memory": "1012Mi"}}});
        assert!(oom_rule().matches(&pod, &small));
        assert!(!oom_rule().matches(&pod, &big));
        let elsewhere =
            json!({"metadata": {"namespace": "other", "labels": {"app": "gateway-proxy"}}});
        assert!(!oom_rule().matches(&elsewhere, &small));
    }

    #[test]
    fn rules_deserialize_with_defaults() {
        let rules: Rules = serde_json::from_value(json!({
            "faults": [{"effect": "NeverReady", "selector": {"app": "istiod"}}]
        }))
        .unwrap();
        assert_eq!(rules.termination_cap_seconds, 1);
        assert_eq!(rules.faults[0].effect, FaultEffect::NeverReady);
        assert!(serde_json::from_value::<Rules>(json!({"nonsense": 1})).is_err());
    }
}
