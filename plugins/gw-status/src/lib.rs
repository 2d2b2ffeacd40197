//! `kubectl gw-status`: one health report for a gateway.

pub mod checks;
pub mod fetch;
pub mod hints;
pub mod objects;
pub mod profiles;
pub mod selector;
pub mod usage;
pub mod view;
