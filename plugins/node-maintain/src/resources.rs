//! CPU and memory arithmetic for capacity and room: sums, differences, fitting, a node's
//! allocatable, and the short forms people read (`250m`, `3.5Gi`). A pod's effective requests
//! come from `runbook::pods`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use runbook::pods::CpuMemory;
use runbook::quantity::Quantity;
use serde::Serialize;

/// CPU in millicores and memory in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// CPU, millicores.
    pub cpu_millis: i128,
    /// Memory, bytes.
    pub memory_bytes: i128,
}

impl Resources {
    /// Both amounts added.
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis + other.cpu_millis,
            memory_bytes: self.memory_bytes + other.memory_bytes,
        }
    }

    /// Both amounts subtracted, never below zero.
    pub fn minus(self, other: Resources) -> Resources {
        Resources {
            cpu_millis: (self.cpu_millis - other.cpu_millis).max(0),
            memory_bytes: (self.memory_bytes - other.memory_bytes).max(0),
        }
    }

    /// True when both amounts fit within `room`.
    pub fn fits_in(self, room: Resources) -> bool {
        self.cpu_millis <= room.cpu_millis && self.memory_bytes <= room.memory_bytes
    }

    /// True when both amounts are zero.
    pub fn is_zero(self) -> bool {
        self.cpu_millis == 0 && self.memory_bytes == 0
    }

    /// `cpu 500m, memory 1Gi`.
    pub fn describe(self) -> String {
        format!(
            "cpu {}, memory {}",
            format_cpu(self.cpu_millis),
            format_memory(self.memory_bytes)
        )
    }
}

fn read(map: Option<&BTreeMap<String, K8sQuantity>>) -> Resources {
    let get = |key: &str| {
        map.and_then(|m| m.get(key))
            .and_then(|q| Quantity::try_from(q).ok())
    };
    Resources {
        cpu_millis: get("cpu").map(|q| q.to_millis()).unwrap_or(0),
        memory_bytes: get("memory").map(|q| q.to_bytes()).unwrap_or(0),
    }
}

impl From<CpuMemory> for Resources {
    fn from(c: CpuMemory) -> Self {
        Resources {
            cpu_millis: c.cpu_millis,
            memory_bytes: c.memory_bytes,
        }
    }
}

/// The pod's CPU and memory requests (what the scheduler reserves).
pub fn pod_requests(pod: &Pod) -> Resources {
    runbook::pods::pod_requests(pod).into()
}

/// The pod's CPU and memory limits (a container without a limit counts zero, as
/// `kubectl describe node`).
pub fn pod_limits(pod: &Pod) -> Resources {
    runbook::pods::pod_limits(pod).into()
}

/// The node's allocatable CPU and memory (capacity when allocatable is not reported).
pub fn allocatable(node: &Node) -> Resources {
    let status = node.status.as_ref();
    let alloc = read(status.and_then(|s| s.allocatable.as_ref()));
    if alloc.is_zero() {
        read(status.and_then(|s| s.capacity.as_ref()))
    } else {
        alloc
    }
}

/// True for pods that still hold resources on their node (not Succeeded or Failed).
pub fn holds_resources(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Millicores as people write them: `250m`, `2`, `1.5`.
pub fn format_cpu(millis: i128) -> String {
    if millis % 1000 == 0 {
        format!("{}", millis / 1000)
    } else if millis < 1000 {
        format!("{millis}m")
    } else {
        let s = format!("{:.2}", millis as f64 / 1000.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Bytes as people read them: `512Mi`, `3.5Gi`, `900Ki`.
pub fn format_memory(bytes: i128) -> String {
    const KI: f64 = 1024.0;
    let b = bytes as f64;
    let (value, unit) = if b >= KI * KI * KI {
        (b / (KI * KI * KI), "Gi")
    } else if b >= KI * KI {
        (b / (KI * KI), "Mi")
    } else if b >= KI {
        (b / KI, "Ki")
    } else {
        return format!("{bytes}");
    };
    let s = format!("{value:.1}");
    format!("{}{unit}", s.trim_end_matches(".0"))
}

/// `part` as a whole percentage of `whole` (0 when `whole` is 0).
pub fn percent(part: i128, whole: i128) -> i128 {
    if whole <= 0 { 0 } else { part * 100 / whole }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn c(name: &str, req: serde_json::Value) -> serde_json::Value {
        json!({"name": name, "resources": req})
    }

    #[test]
    fn sums_containers_and_defaults_requests_to_limits() {
        let p = pod(json!({"containers": [
            c("a", json!({"requests": {"cpu": "250m", "memory": "256Mi"}})),
            c("b", json!({"limits": {"cpu": "1", "memory": "1Gi"}})),
        ]}));
        assert_eq!(
            pod_requests(&p),
            Resources {
                cpu_millis: 1250,
                memory_bytes: 1280 << 20
            }
        );
        assert_eq!(
            pod_limits(&p),
            Resources {
                cpu_millis: 1000,
                memory_bytes: 1 << 30
            }
        );
    }

    #[test]
    fn allocatable_falls_back_to_capacity_and_formats() {
        let n: Node = serde_json::from_value(json!({"metadata": {"name": "n"},
            "status": {"capacity": {"cpu": "4", "memory": "16Gi"}}}))
        .unwrap();
        assert_eq!(allocatable(&n).cpu_millis, 4000);
        assert_eq!(format_cpu(4000), "4");
        assert_eq!(format_cpu(250), "250m");
        assert_eq!(format_cpu(1500), "1.5");
        assert_eq!(format_memory(16 << 30), "16Gi");
        assert_eq!(format_memory(3584 << 20), "3.5Gi");
        assert_eq!(format_memory(512 << 20), "512Mi");
        assert_eq!(percent(3, 4), 75);
        assert_eq!(percent(3, 0), 0);
    }
}
