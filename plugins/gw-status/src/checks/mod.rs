//! The checks: pure functions from a joined snapshot to findings, one file per area.

pub mod dependencies;
pub mod events;
pub mod gateway_api;
pub mod logs;
pub mod placement;
pub mod pods;
pub mod posture;
pub mod probe;
pub mod replicas;
pub mod resources;

#[cfg(test)]
pub(crate) mod fixtures;

use runbook::Finding;

use crate::fetch::Fetched;
use crate::view::GatewayView;

/// Every check of every area over one gateway.
pub fn run_all(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(replicas::check(gw, f));
    out.extend(pods::check(gw, f));
    out.extend(resources::check(gw, f));
    out.extend(events::check(gw, f));
    out.extend(dependencies::check(gw, f));
    out.extend(placement::check(gw, f));
    out.extend(posture::check(gw, f));
    out.extend(gateway_api::check(gw, f));
    out.extend(logs::check(gw, f));
    out.extend(probe::check(gw, f));
    out
}
