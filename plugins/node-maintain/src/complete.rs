//! What `kubectl node-maintain <TAB>` offers beyond flags (see [`runbook::completion`]): node
//! names from the cluster for every command's NODE (leaving out those already typed), and the
//! check ids for `check --ignore`.

use runbook::completion::{Candidate, Live, Request, Slot, check_ids};

use crate::catalog;

/// The subcommands whose positionals are node names.
const NODE_COMMANDS: &[&str] = &["check", "drain", "cordon", "uncordon", "remove"];

/// Candidates only node-maintain knows; `None` leaves the slot to the shared defaults.
pub async fn complete(request: &Request, live: &Live) -> Option<Vec<Candidate>> {
    let [command] = request.path.as_slice() else {
        return None;
    };
    match &request.slot {
        Slot::FlagValue(id) if id == "ignore" => Some(check_ids(catalog::CHECKS)),
        Slot::Positional(index) if NODE_COMMANDS.contains(&command.as_str()) => {
            let single = matches!(command.as_str(), "drain" | "remove");
            if single && *index > 0 {
                return Some(Vec::new());
            }
            let nodes = live.nodes().await;
            Some(
                nodes
                    .into_iter()
                    .filter(|n| !request.positionals.contains(n))
                    .map(|n| Candidate::new(n, "Node"))
                    .collect(),
            )
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
    async fn the_first_word_offers_the_commands() {
        let found = values(&[""]).await;
        for c in [
            "check",
            "drain",
            "cordon",
            "uncordon",
            "remove",
            "completion",
        ] {
            assert!(found.contains(&c.to_string()), "{c}: {found:?}");
        }
        assert_eq!(values(&["dr"]).await, ["drain"]);
    }

    #[tokio::test]
    async fn drain_flags_and_check_ids() {
        assert_eq!(
            values(&["drain", "n1", "--delete-e"]).await,
            ["--delete-emptydir-data"]
        );
        let ids = values(&["check", "--ignore", ""]).await;
        assert!(ids.iter().any(|i| i.starts_with("node.")), "{ids:?}");
        assert!(values(&["drain", "n1", ""]).await.is_empty());
    }
}
