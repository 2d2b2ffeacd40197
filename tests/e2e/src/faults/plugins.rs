//! The plugins of the matrix: how each is run, on which scenario, and which of its objects a
//! fault must not damage.

use serde_json::{Value, json};
use testcluster::store::Store;

use super::Fault;
use crate::Env;

/// The write path of a plugin that changes the cluster.
#[derive(Debug)]
pub struct Writes {
    /// HTTP method of the main write.
    pub method: &'static str,
    /// A substring of the main write's path.
    pub path: &'static str,
    /// Whether [`Plugin::state`] shows the main write landed (the change under way).
    pub started: fn(&Value) -> bool,
    /// Whether a rerun after Ctrl-C took the change to its end.
    pub resumed: fn(&super::run::Run) -> bool,
    /// The part of [`Plugin::state`] the main write sets, which a rerun must keep as it is.
    pub kept: fn(&Value) -> Value,
    /// A run whose plan depends on the current values (a relative change), for the
    /// concurrent-change case.
    pub relative: &'static [&'static str],
    /// What a concurrent writer changes between the plugin's read and its write.
    pub concurrent: fn(&Store),
    /// Whether the state shows the relative change re-planned on top of the concurrent one.
    pub replanned: fn(&Value) -> bool,
}

/// A plugin as the matrix runs it.
#[derive(Debug)]
pub struct Plugin {
    /// Command name (`gw-status`).
    pub name: &'static str,
    /// Binary (`kubectl-gw_status`).
    pub binary: &'static str,
    /// Scenario it runs against.
    pub scenario: &'static str,
    /// A run that only reads, printing `-o json`.
    pub read: &'static [&'static str],
    /// A run that changes the cluster (`-o json`), for plugins that change anything.
    pub act: Option<&'static [&'static str]>,
    /// The objects the plugin may change, as one value (compared before and after a fault).
    pub state: fn(&Env) -> Value,
    /// Whether [`Plugin::state`] shows the act run's change.
    pub applied: fn(&Value) -> bool,
    /// The write path, for plugins that change anything.
    pub writes: Option<Writes>,
    /// Faults only this plugin meets.
    pub own_faults: &'static [Fault],
}

impl Plugin {
    /// Whether `fault` applies to this plugin (write faults only to plugins that write).
    pub fn applies(&self, fault: Fault) -> bool {
        let writes = matches!(
            fault,
            Fault::WriteErrors
                | Fault::WriteResets
                | Fault::ConcurrentChange
                | Fault::SpuriousConflict
                | Fault::WatchDrops
                | Fault::WatchExpired
                | Fault::InterruptBeforeSend
                | Fault::InterruptAfterSend
        );
        let own = matches!(fault, Fault::EvictionsRefused);
        if own {
            self.own_faults.contains(&fault)
        } else {
            !writes || self.writes.is_some()
        }
    }

    /// The act run if there is one, else the read run.
    pub fn main_run(&self) -> &'static [&'static str] {
        self.act.unwrap_or(self.read)
    }
}

/// The gateway namespace of runbook 000's scenarios.
pub const GATEWAY_NS: &str = "gateway";

/// `kubectl gw-status` on runbook 000's OOM-killed gateway.
pub static GW_STATUS: Plugin = Plugin {
    name: "gw-status",
    binary: "kubectl-gw_status",
    scenario: "gateway-oom",
    read: &["gateway-proxy", "-n", GATEWAY_NS, "-o", "json"],
    act: None,
    state: |_| Value::Null,
    applied: |_| false,
    writes: None,
    own_faults: &[],
};

/// `kubectl gw-resize` raising the OOM-killed gateway's memory to 756Mi.
pub static GW_RESIZE: Plugin = Plugin {
    name: "gw-resize",
    binary: "kubectl-gw_resize",
    scenario: "gateway-oom",
    read: &[
        "gateway-proxy",
        "-n",
        GATEWAY_NS,
        "--memory",
        "756Mi",
        "--dry-run=client",
        "-o",
        "json",
    ],
    act: Some(&[
        "gateway-proxy",
        "-n",
        GATEWAY_NS,
        "--memory",
        "756Mi",
        "--yes",
        "--timeout",
        "60s",
        "-o",
        "json",
    ]),
    state: gateway_proxy_spec,
    applied: |spec| proxy_memory(spec) == json!({"requests": "756Mi", "limits": "756Mi"}),
    writes: Some(Writes {
        method: "PATCH",
        path: "/deployments/gateway-proxy",
        started: |spec| proxy_memory(spec) == json!({"requests": "756Mi", "limits": "756Mi"}),
        resumed: |run| run.json().is_some_and(|j| j["outcome"] == "completed"),
        kept: Value::clone,
        relative: &[
            "gateway-proxy",
            "-n",
            GATEWAY_NS,
            "--memory",
            "+500Mi",
            "--yes",
            "--no-wait",
            "-o",
            "json",
        ],
        concurrent: |store| set_proxy_memory_request(store, "300Mi"),
        // 300Mi + 500Mi, and the untouched limit 512Mi + 500Mi.
        replanned: |spec| proxy_memory(spec) == json!({"requests": "800Mi", "limits": "1012Mi"}),
    }),
    own_faults: &[],
};

/// The node `kubectl node-maintain` drains in the node-trouble scenario.
pub const DRAINED_NODE: &str = "node-1";

/// `kubectl node-maintain`: `check` every node, and drain node-1 of every pod but the two
/// `checkout` replicas its PodDisruptionBudget holds (and the DaemonSet pod).
pub static NODE_MAINTAIN: Plugin = Plugin {
    name: "node-maintain",
    binary: "kubectl-node_maintain",
    scenario: "node-trouble",
    read: &["check", "-o", "json"],
    act: Some(&[
        "drain",
        DRAINED_NODE,
        "--force",
        "--delete-emptydir-data",
        "--pod-selector",
        "app!=checkout",
        "--yes",
        "--timeout",
        "60s",
        "-o",
        "json",
    ]),
    state: drained_node_state,
    applied: |state| {
        state["unschedulable"] == true
            && state["pods"].as_array().is_some_and(|pods| {
                pods.iter().all(|p| {
                    let p = p.as_str().unwrap_or_default();
                    p.starts_with("monitoring/node-exporter") || p.starts_with("shop/checkout-")
                })
            })
    },
    writes: Some(Writes {
        method: "PATCH",
        path: "/api/v1/nodes/node-1",
        started: |state| state["unschedulable"] == true,
        resumed: |run| run.code == 0 && run.stderr.contains("drained"),
        kept: |state| json!({"unschedulable": state["unschedulable"], "record": state["record"]}),
        relative: &[
            "drain",
            DRAINED_NODE,
            "--force",
            "--delete-emptydir-data",
            "--pod-selector",
            "app!=checkout",
            "--yes",
            "--timeout",
            "60s",
            "-o",
            "json",
        ],
        concurrent: |store| cordon_by_someone_else(store, DRAINED_NODE),
        // The maintenance record must know the node was already cordoned by someone else
        // (so that --uncordon-on-failure never uncordons it).
        replanned: |state| {
            state["unschedulable"] == true && state["record"]["wasUnschedulable"] == true
        },
    }),
    own_faults: &[Fault::EvictionsRefused],
};

/// `kubectl svc-check` on the Services of runbooks 003 and 004 in namespace shop.
pub static SVC_CHECK: Plugin = Plugin {
    name: "svc-check",
    binary: "kubectl-svc_check",
    scenario: "service-faults",
    read: &["-n", "shop", "-o", "json"],
    act: None,
    state: |_| Value::Null,
    applied: |_| false,
    writes: None,
    own_faults: &[],
};

/// Every plugin of the matrix.
pub static PLUGINS: [&Plugin; 4] = [&GW_STATUS, &GW_RESIZE, &NODE_MAINTAIN, &SVC_CHECK];

/// The plugin named `name`.
pub fn plugin(name: &str) -> &'static Plugin {
    PLUGINS
        .iter()
        .copied()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no plugin {name} in the matrix"))
}

/// gateway-proxy's replicas and pod template.
pub fn gateway_proxy_spec(env: &Env) -> Value {
    let d = env
        .cluster
        .store()
        .get("deployments", Some(GATEWAY_NS), "gateway-proxy")
        .unwrap_or(Value::Null);
    json!({"replicas": d["spec"]["replicas"], "template": d["spec"]["template"]})
}

/// The memory request and limit of gateway-proxy's `proxy` container in a
/// [`gateway_proxy_spec`].
pub fn proxy_memory(spec: &Value) -> Value {
    let resources = spec["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "proxy"))
        .map(|c| c["resources"].clone())
        .unwrap_or(Value::Null);
    json!({
        "requests": resources["requests"]["memory"],
        "limits": resources["limits"]["memory"],
    })
}

/// Someone else's edit of gateway-proxy's memory request.
fn set_proxy_memory_request(store: &Store, value: &str) {
    let value = value.to_string();
    store
        .modify(
            "deployments",
            Some(GATEWAY_NS),
            "gateway-proxy",
            false,
            move |current| {
                let mut next = current.clone();
                if let Some(containers) =
                    next["spec"]["template"]["spec"]["containers"].as_array_mut()
                {
                    for c in containers.iter_mut().filter(|c| c["name"] == "proxy") {
                        c["resources"]["requests"]["memory"] = json!(value);
                    }
                }
                Ok(next)
            },
        )
        .expect("the concurrent edit of gateway-proxy");
}

/// The maintenance annotation node-maintain records on a node.
pub const MAINTENANCE_RECORD: &str = "node-maintain.kubectl-runbook.io/maintenance";

/// node-1's cordon, maintenance record and the pods still on it (not terminating), sorted.
pub fn drained_node_state(env: &Env) -> Value {
    let store = env.cluster.store();
    let node = store
        .get("nodes", None, DRAINED_NODE)
        .unwrap_or(Value::Null);
    let record: Value = node["metadata"]["annotations"][MAINTENANCE_RECORD]
        .as_str()
        .and_then(|raw| serde_json::from_str(raw).ok())
        .unwrap_or(Value::Null);
    let mut pods: Vec<String> = store
        .list("pods", None)
        .into_iter()
        .filter(|p| p["spec"]["nodeName"] == DRAINED_NODE)
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or_default(),
                p["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect();
    pods.sort();
    json!({
        "unschedulable": node["spec"]["unschedulable"] == true,
        "record": record,
        "pods": pods,
    })
}

/// Another admin cordons `node` (no maintenance record) just before node-maintain does.
fn cordon_by_someone_else(store: &Store, node: &str) {
    store
        .modify("nodes", None, node, false, |current| {
            let mut next = current.clone();
            next["spec"]["unschedulable"] = json!(true);
            Ok(next)
        })
        .expect("the concurrent cordon");
}
