//! What `kubectl gw-status <TAB>` offers beyond flags (see [`runbook::completion`]): the
//! profiles and the Deployments of the namespace in effect for PROFILE|DEPLOYMENT, and the
//! check ids for `--ignore`.

use runbook::completion::{Candidate, Live, Request, Slot, check_ids, kind_names, profile_names};

use crate::catalog;

/// The kinds PROFILE|DEPLOYMENT accepts before a slash (as `profiles::resolve_target`).
const DEPLOYMENT_KINDS: &[&str] = &[
    "deploy",
    "deployment",
    "deployments",
    "deployment.apps",
    "deployments.apps",
];

/// Candidates only gw-status knows; `None` leaves the slot to the shared defaults.
pub async fn complete(request: &Request, live: &Live) -> Option<Vec<Candidate>> {
    match &request.slot {
        Slot::FlagValue(id) if id == "ignore" => Some(check_ids(catalog::CHECKS)),
        Slot::Positional(0) if request.path.is_empty() => {
            let mut found = profile_names(request, false);
            let deployments = live.deployments(None).await;
            let namespace = live.namespace().await.unwrap_or_default();
            found.extend(kind_names(
                &request.prefix,
                DEPLOYMENT_KINDS,
                &deployments,
                &format!("Deployment in {namespace}"),
            ));
            Some(found)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use runbook::completion::complete as answer;

    async fn values(words: &[&str]) -> Vec<String> {
        let mut all = vec!["--kubeconfig".to_string(), "/nonexistent".to_string()];
        all.extend(words.iter().map(|w| w.to_string()));
        answer(crate::cli::Cli::command(), &all, complete)
            .await
            .candidates
            .into_iter()
            .map(|c| c.value)
            .collect()
    }

    #[tokio::test]
    async fn the_target_offers_profiles_without_a_cluster() {
        let found = values(&[""]).await;
        assert_eq!(found[0], "completion");
        for p in ["gateway-proxy", "istio", "nantian"] {
            assert!(found.contains(&p.to_string()), "{found:?}");
        }
        assert_eq!(values(&["is"]).await, ["istio"]);
    }

    #[tokio::test]
    async fn ignore_offers_check_ids() {
        let found = values(&["--ignore", "pod."]).await;
        assert!(found.contains(&"pod.*".to_string()), "{found:?}");
        assert!(found.iter().all(|v| v.starts_with("pod.")));
        assert!(found.len() > 2);
    }
}
