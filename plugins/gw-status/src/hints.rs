//! The commands findings suggest, preferably the suite's own (`kubectl gw-resize ...`), built
//! in one place so every hint spells them the same way.

use crate::view::ComponentView;

/// `kubectl gw-resize deploy/NAME -n NS [-c CONTAINER]` followed by `args`.
pub fn resize(c: &ComponentView<'_>, container: Option<&str>, args: &str) -> String {
    let container = match container {
        Some(name) if c.container_count() > 1 => format!(" -c {name}"),
        _ => String::new(),
    };
    format!(
        "kubectl gw-resize deploy/{} -n {}{container} {args}",
        c.name(),
        c.namespace
    )
}

/// Restart the component's pods.
pub fn restart(c: &ComponentView<'_>) -> String {
    resize(c, None, "--restart")
}

/// Report on one component again, reading its logs.
pub fn status_with_logs(c: &ComponentView<'_>) -> String {
    format!(
        "kubectl gw-status deploy/{} -n {} --logs",
        c.name(),
        c.namespace
    )
}

/// Read the previous run's log of a crashed container.
pub fn previous_logs(namespace: &str, pod: &str, container: &str) -> String {
    format!("kubectl logs -n {namespace} {pod} -c {container} --previous --tail=50")
}
