//! What `kubectl svc-check <TAB>` offers beyond flags (see [`runbook::completion`]): the
//! Services of the namespace in effect for SERVICE (bare or after `svc/`), and the check ids
//! for `--ignore`.

use runbook::completion::{Candidate, Live, Request, Slot, check_ids, kind_names};

use crate::catalog;

/// The kinds SERVICE accepts before a slash (as `Cli::service_name`).
const SERVICE_KINDS: &[&str] = &["svc", "service", "services"];

/// Candidates only svc-check knows; `None` leaves the slot to the shared defaults.
pub async fn complete(request: &Request, live: &Live) -> Option<Vec<Candidate>> {
    match &request.slot {
        Slot::FlagValue(id) if id == "ignore" => Some(check_ids(catalog::CHECKS)),
        // With -A there is no SERVICE to name.
        Slot::Positional(0) if request.has_flag("all_namespaces") => Some(Vec::new()),
        Slot::Positional(0) => {
            let services = live.services(None).await;
            let namespace = live.namespace().await.unwrap_or_default();
            Some(kind_names(
                &request.prefix,
                SERVICE_KINDS,
                &services,
                &format!("Service in {namespace}"),
            ))
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
    async fn ignore_offers_check_ids_and_flags_complete() {
        let ids = values(&["--ignore", "svc."]).await;
        assert!(ids.contains(&"svc.*".to_string()), "{ids:?}");
        assert_eq!(values(&["--probe-t"]).await, ["--probe-timeout"]);
    }

    #[tokio::test]
    async fn without_a_cluster_service_offers_only_the_subcommand() {
        assert_eq!(values(&[""]).await, ["completion"]);
        assert!(values(&["-A", ""]).await.is_empty());
    }
}
