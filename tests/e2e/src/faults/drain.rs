//! Faults only a drain meets: evictions refused with 429 by a PodDisruptionBudget for longer
//! than `--timeout`.

use super::common::basic;
use super::plugins::DRAINED_NODE;
use super::run::{Run, command};
use super::{Plugin, Verdict};
use crate::Env;

/// node-1's `checkout` pods are held by PDB shop/checkout (minAvailable = replicas): every
/// eviction answers 429. With `--timeout 6s` the drain stops, names the budget and the pods it
/// blocks, exits 2, and leaves the node cordoned.
pub async fn evictions_refused(p: &Plugin) -> Verdict {
    let env = Env::start(p.scenario).await;
    let args = [
        "drain",
        DRAINED_NODE,
        "--force",
        "--delete-emptydir-data",
        "--yes",
        "--timeout",
        "6s",
    ];
    let run = Run::of(&mut command(&env, p.binary, &args, None)).await;
    let state = (p.state)(&env);
    let held: Vec<&str> = state["pods"]
        .as_array()
        .map(|pods| {
            pods.iter()
                .filter_map(|p| p.as_str())
                .filter(|p| p.starts_with("shop/checkout-"))
                .collect()
        })
        .unwrap_or_default();
    let mut v = Verdict::new(format!(
        "{}; {} pods held, cordoned: {}",
        run.summary(),
        held.len(),
        state["unschedulable"]
    ));
    basic(&mut v, &run);
    v.expect(run.code == 2, || {
        format!("exit {} instead of 2:\n{}", run.code, run.explain())
    });
    v.expect(run.stderr.contains("PDB shop/checkout"), || {
        format!("the blocking PDB is not named:\n{}", run.explain())
    });
    v.expect(
        held.len() == 2 && held.iter().all(|pod| run.stderr.contains(pod)),
        || {
            format!(
                "the blocked pods {held:?} are not named:\n{}",
                run.explain()
            )
        },
    );
    v.lost_if(state["unschedulable"] != true, || {
        "the node was uncordoned after the failed drain".into()
    });
    v
}
