//! What the flags ask to change, parsed and validated before anything is fetched.

pub mod tolerations;

use runbook::resize_edit::{ReplicaEdit, ResourceEdit};
use runbook::{Error, Result};

use crate::cli::Cli;

pub use tolerations::{TolerationSpec, edit_tolerations};

/// Which side of a container's resources a flag changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `--memory`, `--cpu`: request and limit together.
    Both,
    /// `--memory-request`, `--cpu-request`.
    Request,
    /// `--memory-limit`, `--cpu-limit`.
    Limit,
}

/// One resource flag: which resource, which side, what edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceFlag {
    /// `cpu` or `memory`.
    pub resource: &'static str,
    /// Request, limit or both.
    pub side: Side,
    /// The edit (`2Gi`, `+500Mi`, `x1.5`).
    pub edit: ResourceEdit,
}

/// Everything the flags ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    /// `-c`: the container whose resources change.
    pub container: Option<String>,
    /// The resource flags, in a fixed order (memory, then cpu).
    pub resources: Vec<ResourceFlag>,
    /// `--replicas`.
    pub replicas: Option<ReplicaEdit>,
    /// `--restart`.
    pub restart: bool,
    /// `--add-toleration`.
    pub add_tolerations: Vec<TolerationSpec>,
    /// `--remove-toleration`.
    pub remove_tolerations: Vec<TolerationSpec>,
}

impl ChangeRequest {
    /// Reads the change flags; a run that asks for nothing, or `-c` without a resource flag,
    /// is a usage error.
    pub fn from_cli(cli: &Cli) -> Result<ChangeRequest> {
        let flags = [
            ("memory", Side::Both, cli.memory),
            ("memory", Side::Request, cli.memory_request),
            ("memory", Side::Limit, cli.memory_limit),
            ("cpu", Side::Both, cli.cpu),
            ("cpu", Side::Request, cli.cpu_request),
            ("cpu", Side::Limit, cli.cpu_limit),
        ];
        let resources: Vec<ResourceFlag> = flags
            .into_iter()
            .filter_map(|(resource, side, edit)| {
                Some(ResourceFlag {
                    resource,
                    side,
                    edit: edit?,
                })
            })
            .collect();
        let request = ChangeRequest {
            container: cli.container.clone(),
            resources,
            replicas: cli.replicas,
            restart: cli.restart,
            add_tolerations: cli.add_toleration.clone(),
            remove_tolerations: cli.remove_toleration.clone(),
        };
        if !request.changes_template() && request.replicas.is_none() {
            return Err(Error::usage(
                "nothing to change: give --memory, --cpu (or their -request/-limit forms), --replicas, --restart or --add-toleration/--remove-toleration",
            ));
        }
        if request.container.is_some() && request.resources.is_empty() {
            return Err(Error::usage(
                "-c/--container selects whose resources change: give --memory or --cpu with it",
            ));
        }
        Ok(request)
    }

    /// True when the request touches the pod template (resources, restart, tolerations).
    pub fn changes_template(&self) -> bool {
        !self.resources.is_empty()
            || self.restart
            || !self.add_tolerations.is_empty()
            || !self.remove_tolerations.is_empty()
    }

    /// The same request without its template part (once the template change is applied and
    /// only the replica change remains).
    pub fn replicas_only(&self) -> ChangeRequest {
        ChangeRequest {
            container: None,
            resources: Vec::new(),
            replicas: self.replicas,
            restart: false,
            add_tolerations: Vec::new(),
            remove_tolerations: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn request(args: &[&str]) -> Result<ChangeRequest> {
        let mut argv = vec!["gw-resize", "deploy/gw"];
        argv.extend_from_slice(args);
        ChangeRequest::from_cli(&Cli::try_parse_from(argv).unwrap())
    }

    #[test]
    fn reads_resource_flags_in_order() {
        let r = request(&["--cpu-limit", "2", "--memory", "+500Mi"]).unwrap();
        let got: Vec<_> = r.resources.iter().map(|f| (f.resource, f.side)).collect();
        assert_eq!(got, [("memory", Side::Both), ("cpu", Side::Limit)]);
        assert_eq!(r.resources[0].edit.to_string(), "+500Mi");
        assert!(r.changes_template());
    }

    #[test]
    fn nothing_to_change_and_lonely_container_flag_are_usage_errors() {
        assert_eq!(request(&[]).unwrap_err().exit_code(), 64);
        assert_eq!(
            request(&["-c", "proxy", "--restart"])
                .unwrap_err()
                .exit_code(),
            64
        );
        let r = request(&["--replicas", "+2"]).unwrap();
        assert!(!r.changes_template());
        let both = request(&["--replicas", "3", "--restart"]).unwrap();
        assert_eq!(both.replicas_only().replicas, both.replicas);
        assert!(!both.replicas_only().changes_template());
    }
}
