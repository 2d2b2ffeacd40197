//! A pod's effective CPU and memory requests and limits as the scheduler counts them:
//! the larger of the init-container peak and the sum of the containers (sidecars count in
//! both), plus the pod overhead (Kubernetes' `resourcehelper.PodRequests`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::Serialize;

use crate::quantity::Quantity;

/// CPU and memory amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CpuMemory {
    /// CPU in millicores.
    pub cpu_millis: i128,
    /// Memory in bytes.
    pub memory_bytes: i128,
}

impl CpuMemory {
    fn add(self, o: CpuMemory) -> CpuMemory {
        CpuMemory {
            cpu_millis: self.cpu_millis + o.cpu_millis,
            memory_bytes: self.memory_bytes + o.memory_bytes,
        }
    }

    fn max(self, o: CpuMemory) -> CpuMemory {
        CpuMemory {
            cpu_millis: self.cpu_millis.max(o.cpu_millis),
            memory_bytes: self.memory_bytes.max(o.memory_bytes),
        }
    }

    fn from_map(map: Option<&BTreeMap<String, K8sQuantity>>) -> CpuMemory {
        let get = |name: &str| {
            map.and_then(|m| m.get(name))
                .and_then(|q| Quantity::try_from(q).ok())
        };
        CpuMemory {
            cpu_millis: get("cpu").map_or(0, |q| q.to_millis()),
            memory_bytes: get("memory").map_or(0, |q| q.to_bytes()),
        }
    }
}

/// Which side of `resources` to add up.
#[derive(Clone, Copy)]
enum Side {
    Requests,
    Limits,
}

fn container_amounts(c: &Container, side: Side) -> CpuMemory {
    let resources = c.resources.as_ref();
    let limits = resources.and_then(|r| r.limits.as_ref());
    let lim = CpuMemory::from_map(limits);
    match side {
        Side::Limits => lim,
        Side::Requests => {
            // An unset request defaults to the limit (API defaulting does this for stored
            // pods; templates built by hand may lack it).
            let requests = resources.and_then(|r| r.requests.as_ref());
            let req = CpuMemory::from_map(requests);
            let has = |name: &str| requests.is_some_and(|m| m.contains_key(name));
            CpuMemory {
                cpu_millis: if has("cpu") {
                    req.cpu_millis
                } else {
                    lim.cpu_millis
                },
                memory_bytes: if has("memory") {
                    req.memory_bytes
                } else {
                    lim.memory_bytes
                },
            }
        }
    }
}

fn effective(pod: &Pod, side: Side) -> CpuMemory {
    let Some(spec) = pod.spec.as_ref() else {
        return CpuMemory::default();
    };
    let mut sum = spec.containers.iter().fold(CpuMemory::default(), |acc, c| {
        acc.add(container_amounts(c, side))
    });
    let mut sidecars = CpuMemory::default();
    let mut init_peak = CpuMemory::default();
    for c in spec.init_containers.iter().flatten() {
        let own = container_amounts(c, side);
        let during = if c.restart_policy.as_deref() == Some("Always") {
            sidecars = sidecars.add(own);
            sidecars
        } else {
            own.add(sidecars)
        };
        init_peak = init_peak.max(during);
    }
    sum = sum.add(sidecars).max(init_peak);
    let overhead = CpuMemory::from_map(spec.overhead.as_ref());
    sum.add(overhead)
}

/// The pod's effective requests, as the scheduler reserves them on a node.
pub fn pod_requests(pod: &Pod) -> CpuMemory {
    effective(pod, Side::Requests)
}

/// The pod's effective limits, by the same rule (`kubectl describe node` adds these up).
/// A container without a limit counts as 0 here, as kubectl does.
pub fn pod_limits(pod: &Pod) -> CpuMemory {
    effective(pod, Side::Limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(spec: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn c(name: &str, cpu: &str, mem: &str) -> Value {
        json!({"name": name, "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"memory": mem}}})
    }

    #[test]
    fn containers_add_up() {
        let p = pod(json!({"containers": [c("a", "250m", "256Mi"), c("b", "1", "1Gi")]}));
        let r = pod_requests(&p);
        assert_eq!(r.cpu_millis, 1250);
        assert_eq!(r.memory_bytes, (256 + 1024) << 20);
        let l = pod_limits(&p);
        assert_eq!(l.cpu_millis, 0);
        assert_eq!(l.memory_bytes, (256 + 1024) << 20);
    }

    #[test]
    fn init_peak_wins_when_larger() {
        let p = pod(json!({
            "initContainers": [c("migrate", "2", "64Mi")],
            "containers": [c("a", "500m", "512Mi")]
        }));
        let r = pod_requests(&p);
        assert_eq!(r.cpu_millis, 2000);
        assert_eq!(r.memory_bytes, 512 << 20);
    }

    #[test]
    fn sidecars_count_in_both_and_overhead_adds() {
        let mut sidecar = c("mesh", "100m", "128Mi");
        sidecar["restartPolicy"] = json!("Always");
        let p = pod(json!({
            "initContainers": [sidecar, c("setup", "1", "64Mi")],
            "containers": [c("a", "500m", "512Mi")],
            "overhead": {"cpu": "10m", "memory": "1Mi"}
        }));
        let r = pod_requests(&p);
        // init peak while "setup" runs: 1 + 100m = 1100m; steady: 500m + 100m = 600m.
        assert_eq!(r.cpu_millis, 1110);
        assert_eq!(r.memory_bytes, (512 + 128 + 1) << 20);
    }

    #[test]
    fn request_defaults_to_limit_and_missing_is_zero() {
        let p = pod(json!({"containers": [
            {"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}},
            {"name": "b"}
        ]}));
        let r = pod_requests(&p);
        assert_eq!(r.cpu_millis, 2000);
        assert_eq!(r.memory_bytes, 1 << 30);
        let empty: Pod = serde_json::from_value(json!({"metadata": {}})).unwrap();
        assert_eq!(pod_requests(&empty), CpuMemory::default());
    }
}
