//! A kubeconfig pointing kubectl and kube clients at the test cluster.

use std::path::Path;

/// Name of the cluster, context and user in the written kubeconfig.
pub const CONTEXT: &str = "test-cluster";

/// The kubeconfig YAML for a server at `url` (plain HTTP, no credentials), namespace `default`.
pub fn render(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {CONTEXT}
  cluster:
    server: {url}
contexts:
- name: {CONTEXT}
  context:
    cluster: {CONTEXT}
    user: {CONTEXT}
    namespace: default
current-context: {CONTEXT}
users:
- name: {CONTEXT}
  user: {{}}
preferences: {{}}
"
    )
}

/// Writes [`render`]'s kubeconfig to `path`.
pub fn write(url: &str, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, render(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_names_server_and_default_namespace() {
        let yaml = render("http://127.0.0.1:1234");
        assert!(yaml.contains("    server: http://127.0.0.1:1234\n"));
        assert!(yaml.contains("current-context: test-cluster\n"));
        assert!(yaml.contains("    namespace: default\n"));
    }
}
