//! Selector checks: does the selector match pods; when not, which labels almost match (a typo,
//! another value, a missing key) and which pods carry them; selector-less Services without
//! manual endpoints.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Pod;
use runbook::Finding;

use super::{list_names, owners_of, pod_name, service_subject, template_of};
use crate::catalog;
use crate::fetch::is_selectorless;
use crate::index::{ServiceView, is_finished};

/// How one selector pair compares with one pod's labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelDiff {
    /// The pod has `key` with a value one typo away.
    TypoValue {
        key: String,
        want: String,
        have: String,
    },
    /// The pod has a key one typo away carrying the wanted value.
    TypoKey {
        want: String,
        have: String,
        value: String,
    },
    /// The pod has `key` with another value.
    OtherValue {
        key: String,
        want: String,
        have: String,
    },
    /// The pod has no such key.
    Missing { key: String, want: String },
}

impl LabelDiff {
    fn is_typo(&self) -> bool {
        matches!(
            self,
            LabelDiff::TypoValue { .. } | LabelDiff::TypoKey { .. }
        )
    }

    fn describe(&self) -> String {
        match self {
            LabelDiff::TypoValue { key, want, have } => {
                format!("{key}={have} (selector wants {key}={want})")
            }
            LabelDiff::TypoKey { want, have, value } => {
                format!("{have}={value} (selector wants {want}={value})")
            }
            LabelDiff::OtherValue { key, want, have } => {
                format!("{key}={have} (selector wants {key}={want})")
            }
            LabelDiff::Missing { key, want } => {
                format!("no {key} label (selector wants {key}={want})")
            }
        }
    }
}

/// Pods that almost match a selector, all differing from it in the same way.
#[derive(Clone, Debug)]
pub struct NearMiss<'a> {
    /// How they differ (one entry per selector pair that does not match).
    pub diffs: Vec<LabelDiff>,
    /// The pods.
    pub pods: Vec<&'a Pod>,
}

impl NearMiss<'_> {
    /// The merge patch that makes the Service's selector match these pods.
    pub fn selector_patch(&self) -> String {
        let mut selector = serde_json::Map::new();
        for d in &self.diffs {
            match d {
                LabelDiff::TypoValue { key, have, .. }
                | LabelDiff::OtherValue { key, have, .. } => {
                    selector.insert(key.clone(), have.clone().into());
                }
                LabelDiff::TypoKey { want, have, value } => {
                    selector.insert(want.clone(), serde_json::Value::Null);
                    selector.insert(have.clone(), value.clone().into());
                }
                LabelDiff::Missing { key, .. } => {
                    selector.insert(key.clone(), serde_json::Value::Null);
                }
            }
        }
        serde_json::json!({"spec": {"selector": selector}}).to_string()
    }
}

/// True when `a` and `b` differ by a typo: case only; a swap of two neighbouring letters; one
/// edit in words of five characters or more, two from eight (short words that differ by a
/// letter, `api` and `app`, are distinct words).
pub fn is_typo(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let distance = strsim::osa_distance(a, b);
    let longest = a.chars().count().max(b.chars().count());
    let allowed = match longest {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    distance <= allowed || (distance == 1 && longest >= 3 && is_swap(a, b))
}

/// True when `b` is `a` with two neighbouring characters swapped.
fn is_swap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    matches!(diff.as_slice(), [i, j] if *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i])
}

/// How `labels` differ from `selector`: `None` when they match it, else one diff per
/// selector pair that does not match.
pub fn diff_labels(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> Vec<LabelDiff> {
    let mut diffs = Vec::new();
    for (key, want) in selector {
        match labels.get(key) {
            Some(have) if have == want => {}
            Some(have) if is_typo(want, have) => diffs.push(LabelDiff::TypoValue {
                key: key.clone(),
                want: want.clone(),
                have: have.clone(),
            }),
            Some(have) => diffs.push(LabelDiff::OtherValue {
                key: key.clone(),
                want: want.clone(),
                have: have.clone(),
            }),
            None => {
                let typo_key = labels.iter().find(|(k, v)| {
                    !selector.contains_key(*k)
                        && is_typo(key, k)
                        && (*v == want || is_typo(want, v))
                });
                diffs.push(match typo_key {
                    Some((k, v)) => LabelDiff::TypoKey {
                        want: key.clone(),
                        have: k.clone(),
                        value: v.clone(),
                    },
                    None => LabelDiff::Missing {
                        key: key.clone(),
                        want: want.clone(),
                    },
                });
            }
        }
    }
    diffs
}

/// Whether pods differing by `diffs` count as a near miss: every difference is a typo, or
/// exactly one pair differs otherwise while at least one other pair matches exactly.
fn is_near(diffs: &[LabelDiff], selector_len: usize) -> bool {
    let hard = diffs.iter().filter(|d| !d.is_typo()).count();
    !diffs.is_empty()
        && diffs.len() <= 2
        && (hard == 0 || (hard == 1 && selector_len > diffs.len()))
}

/// The groups of pods of the namespace that almost match `selector`, best first (fewest
/// differences, typos before other values, most pods).
pub fn near_misses<'a>(selector: &BTreeMap<String, String>, pods: &[&'a Pod]) -> Vec<NearMiss<'a>> {
    let empty = BTreeMap::new();
    let mut groups: HashMap<Vec<LabelDiff>, Vec<&'a Pod>> = HashMap::new();
    for pod in pods.iter().filter(|p| !is_finished(p)) {
        let labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
        let diffs = diff_labels(selector, labels);
        if is_near(&diffs, selector.len()) {
            groups.entry(diffs).or_default().push(pod);
        }
    }
    let mut misses: Vec<NearMiss> = groups
        .into_iter()
        .map(|(diffs, pods)| NearMiss { diffs, pods })
        .collect();
    misses.sort_by(|a, b| {
        let hard = |m: &NearMiss| m.diffs.iter().filter(|d| !d.is_typo()).count();
        a.diffs
            .len()
            .cmp(&b.diffs.len())
            .then(hard(a).cmp(&hard(b)))
            .then(b.pods.len().cmp(&a.pods.len()))
            .then(a.diffs.cmp(&b.diffs))
    });
    misses
}

/// `app=web,tier=fe`.
pub fn format_selector(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The selector checks of one Service.
pub fn check(view: &ServiceView) -> Vec<Finding> {
    let spec = view.service.spec.as_ref();
    if spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
        return Vec::new();
    }
    if is_selectorless(view.service) {
        return check_selectorless(view);
    }
    if !view.pods.is_empty() {
        return Vec::new();
    }
    let selector = spec
        .and_then(|s| s.selector.as_ref())
        .cloned()
        .unwrap_or_default();
    let shown = format_selector(&selector);
    let finished = if view.finished_pods.is_empty() {
        String::new()
    } else {
        format!(
            " (only {} finished pod(s) match: {})",
            view.finished_pods.len(),
            list_names(
                &view
                    .finished_pods
                    .iter()
                    .map(|p| pod_name(p))
                    .collect::<Vec<_>>(),
                3
            )
        )
    };
    let subject = service_subject(view);
    let Some(best) = near_misses(&selector, view.namespace_pods)
        .into_iter()
        .next()
    else {
        return vec![Finding::critical(
            catalog::NO_PODS,
            subject,
            format!(
                "selector {shown} matches no running pod in namespace {}{finished}: requests hang until they time out",
                view.namespace
            ),
            format!(
                "start the workload whose pod template carries {shown}, or fix the selector: kubectl get pods -n {} --show-labels",
                view.namespace
            ),
        )];
    };
    let id = if best.diffs.iter().any(LabelDiff::is_typo) {
        catalog::SELECTOR_TYPO
    } else {
        catalog::SELECTOR_MISMATCH
    };
    let names: Vec<&str> = best.pods.iter().map(|p| pod_name(p)).collect();
    let carried: Vec<String> = best.diffs.iter().map(LabelDiff::describe).collect();
    let owners = owners_of(best.pods.iter().copied());
    vec![Finding::critical(
        id,
        subject,
        format!(
            "selector {shown} matches no pod{finished}; {} pod(s) carry {}: {}",
            names.len(),
            carried.join(" and "),
            list_names(&names, 3)
        ),
        format!(
            "if the pods are right, fix the Service: kubectl patch service/{} -n {} --type=merge -p '{}'; if the Service is right, fix the labels in {}",
            view.name,
            view.namespace,
            best.selector_patch(),
            template_of(&owners)
        ),
    )]
}

fn check_selectorless(view: &ServiceView) -> Vec<Finding> {
    let from_slices: usize = view.slices.iter().map(|s| s.endpoints.len()).sum();
    let from_endpoints: usize = view
        .endpoints
        .and_then(|e| e.subsets.as_ref())
        .map(|subsets| {
            subsets
                .iter()
                .map(|s| {
                    s.addresses.as_ref().map_or(0, Vec::len)
                        + s.not_ready_addresses.as_ref().map_or(0, Vec::len)
                })
                .sum()
        })
        .unwrap_or(0);
    if from_slices + from_endpoints > 0 {
        return Vec::new();
    }
    vec![Finding::critical(
        catalog::NO_SELECTOR_NO_ENDPOINTS,
        service_subject(view),
        "no selector and no manual Endpoints or EndpointSlice with an address: nothing to route to, requests hang",
        format!(
            "add a selector (kubectl set selector service/{} -n {} app=NAME) or create an EndpointSlice labelled kubernetes.io/service-name={} with the backend addresses",
            view.name, view.namespace, view.name
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;
    use crate::index::tests::{fetched, pod};
    use serde_json::json;

    fn sel(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn typos_are_small_edits_only() {
        assert!(is_typo("checkout", "chekout"));
        assert!(is_typo("web", "wbe"));
        assert!(is_typo("Web", "web"));
        assert!(!is_typo("web", "db"));
        assert!(
            !is_typo("api", "app"),
            "three-letter words differing by one letter are distinct words"
        );
        assert!(is_typo("frontend", "frnotedn"));
        assert!(is_typo("backend", "bakend"));
        assert!(!is_typo("cart", "care"));
    }

    #[test]
    fn diffs_name_typo_value_key_and_missing() {
        let s = sel(&[("app", "checkout"), ("tier", "web")]);
        assert_eq!(
            diff_labels(&s, &sel(&[("app", "chekout"), ("tier", "web")])),
            [LabelDiff::TypoValue {
                key: "app".into(),
                want: "checkout".into(),
                have: "chekout".into()
            }]
        );
        assert_eq!(
            diff_labels(&s, &sel(&[("app", "checkout"), ("teir", "web")])),
            [LabelDiff::TypoKey {
                want: "tier".into(),
                have: "teir".into(),
                value: "web".into()
            }]
        );
        assert_eq!(
            diff_labels(&s, &sel(&[("app", "checkout")])),
            [LabelDiff::Missing {
                key: "tier".into(),
                want: "web".into()
            }]
        );
        assert!(
            diff_labels(
                &s,
                &sel(&[("app", "checkout"), ("tier", "web"), ("x", "y")])
            )
            .is_empty()
        );
    }

    #[test]
    fn single_pair_selectors_only_accept_typos() {
        let s = sel(&[("app", "web")]);
        let f = fetched(
            vec![],
            vec![
                pod("a", "db-1", json!({"app": "db"})),
                pod("a", "wbe-1", json!({"app": "wbe"})),
            ],
            vec![],
            vec![],
        );
        let idx = Index::build(&f);
        let misses = near_misses(&s, idx.pods_in("a"));
        assert_eq!(misses.len(), 1);
        assert_eq!(pod_name(misses[0].pods[0]), "wbe-1");
    }

    fn view_findings(svc: serde_json::Value, pods: Vec<serde_json::Value>) -> Vec<Finding> {
        let f = fetched(vec![svc], pods, vec![], vec![]);
        let idx = Index::build(&f);
        check(&idx.view(&f.services[0]))
    }

    #[test]
    fn typo_in_selector_is_found_with_patch_hint() {
        let svc = json!({"metadata": {"name": "checkout", "namespace": "shop"},
            "spec": {"selector": {"app": "checkuot", "tier": "web"}, "ports": [{"port": 80}]}});
        let pods = vec![
            pod(
                "shop",
                "checkout-1",
                json!({"app": "checkout", "tier": "web"}),
            ),
            pod(
                "shop",
                "checkout-2",
                json!({"app": "checkout", "tier": "web"}),
            ),
            pod("shop", "cart-1", json!({"app": "cart", "tier": "web"})),
        ];
        let f = view_findings(svc, pods);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, catalog::SELECTOR_TYPO);
        assert!(
            f[0].message
                .contains("2 pod(s) carry app=checkout (selector wants app=checkuot)"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].hint
                .contains(r#"{"spec":{"selector":{"app":"checkout"}}}"#),
            "{}",
            f[0].hint
        );
    }

    #[test]
    fn missing_key_is_a_mismatch_and_nothing_close_is_no_pods() {
        let svc = json!({"metadata": {"name": "api", "namespace": "a"}, "spec": {"selector": {"app": "api", "version": "v2"}}});
        let f = view_findings(svc.clone(), vec![pod("a", "api-1", json!({"app": "api"}))]);
        assert_eq!(f[0].check, catalog::SELECTOR_MISMATCH);
        assert!(f[0].hint.contains(r#""version":null"#), "{}", f[0].hint);
        let f = view_findings(svc, vec![pod("a", "db-1", json!({"app": "db"}))]);
        assert_eq!(f[0].check, catalog::NO_PODS);
        assert_eq!(f[0].severity, runbook::Severity::Critical);
    }

    #[test]
    fn matched_pods_and_manual_endpoints_pass() {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}}});
        assert!(view_findings(svc, vec![pod("a", "web-1", json!({"app": "web"}))]).is_empty());
        let bare = json!({"metadata": {"name": "db", "namespace": "a"}, "spec": {"ports": [{"port": 5432}]}});
        let f = view_findings(bare.clone(), vec![]);
        assert_eq!(f[0].check, catalog::NO_SELECTOR_NO_ENDPOINTS);
        let with_slice = fetched(
            vec![bare],
            vec![],
            vec![
                json!({"metadata": {"name": "db-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "db"}},
                "addressType": "IPv4", "endpoints": [{"addresses": ["10.1.2.3"]}]}),
            ],
            vec![],
        );
        let idx = Index::build(&with_slice);
        assert!(check(&idx.view(&with_slice.services[0])).is_empty());
    }
}
