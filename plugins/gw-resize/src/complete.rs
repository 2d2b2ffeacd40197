//! What `kubectl gw-resize <TAB>` offers beyond flags (see [`runbook::completion`]): for
//! TARGET the gateway components (`istio/istiod`) and the Deployments and StatefulSets of the
//! namespace in effect, bare or after the kind typed (`deploy/`, `sts/`).

use runbook::completion::{Candidate, Live, Request, kind_names, profile_names};

/// Kind spellings TARGET accepts before a slash, as `runbook::workload::WorkloadArg`.
const DEPLOYMENT_KINDS: &[&str] = &[
    "deploy",
    "deployment",
    "deployments",
    "deployment.apps",
    "deployments.apps",
];
const STATEFULSET_KINDS: &[&str] = &[
    "sts",
    "statefulset",
    "statefulsets",
    "statefulset.apps",
    "statefulsets.apps",
];

/// Candidates only gw-resize knows; `None` leaves the slot to the shared defaults.
pub async fn complete(request: &Request, live: &Live) -> Option<Vec<Candidate>> {
    if !request.is_positional(&[], 0) {
        return None;
    }
    let mut found = profile_names(request, true);
    let (deployments, statefulsets) = tokio::join!(live.deployments(None), live.statefulsets(None));
    let namespace = live.namespace().await.unwrap_or_default();
    let p = &request.prefix;
    found.extend(kind_names(
        p,
        DEPLOYMENT_KINDS,
        &deployments,
        &format!("Deployment in {namespace}"),
    ));
    found.extend(kind_names(
        p,
        STATEFULSET_KINDS,
        &statefulsets,
        &format!("StatefulSet in {namespace}"),
    ));
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use runbook::completion::complete as answer;

    #[tokio::test]
    async fn the_target_offers_components_without_a_cluster() {
        let words: Vec<String> = ["--kubeconfig", "/nonexistent", "istio"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        let found: Vec<String> = answer(crate::cli::Cli::command(), &words, complete)
            .await
            .candidates
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(
            found,
            ["istio", "istio/istiod", "istio/istio-ingressgateway"]
        );
    }
}
