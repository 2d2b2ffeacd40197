//! Container logs served by pods/log, kept beside the objects (not in annotations, so that
//! `kubectl describe` shows nothing unusual). Scenarios seed them per pod, or per pod-name
//! prefix (`gw-` matches `gw-7d9f-abcde`) so pods created later by controllers have logs too.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LogKey {
    namespace: String,
    pod: String,
    container: String,
    previous: bool,
}

/// The log texts of the cluster's containers.
#[derive(Debug, Clone, Default)]
pub struct PodLogs {
    texts: Arc<RwLock<HashMap<LogKey, String>>>,
}

impl PodLogs {
    /// Sets the log of `container` in pod `pod` (or in every pod whose name starts with `pod`
    /// followed by `-`); `previous` is the log of the previous (crashed) instance.
    pub fn set(&self, namespace: &str, pod: &str, container: &str, previous: bool, text: &str) {
        let key = LogKey {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            previous,
        };
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, text.to_string());
    }

    /// The log of `container` in `pod`: an exact entry, else the longest matching prefix entry.
    pub fn get(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Option<String> {
        let texts = self.texts.read().unwrap_or_else(|p| p.into_inner());
        texts
            .iter()
            .filter(|(key, _)| {
                key.namespace == namespace && key.container == container && key.previous == previous
            })
            .filter(|(key, _)| {
                key.pod == pod
                    || pod
                        .strip_prefix(key.pod.as_str())
                        .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|(key, _)| key.pod.len())
            .map(|(_, text)| text.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_entries_win_over_prefixes() {
        let logs = PodLogs::default();
        logs.set("ns", "gw", "proxy", false, "prefix\n");
        logs.set("ns", "gw-abc", "proxy", false, "exact\n");
        logs.set("ns", "gw", "proxy", true, "crashed\n");
        assert_eq!(
            logs.get("ns", "gw-abc", "proxy", false).as_deref(),
            Some("exact\n")
        );
        assert_eq!(
            logs.get("ns", "gw-xyz", "proxy", false).as_deref(),
            Some("prefix\n")
        );
        assert_eq!(
            logs.get("ns", "gw-xyz", "proxy", true).as_deref(),
            Some("crashed\n")
        );
        assert_eq!(logs.get("ns", "gwx", "proxy", false), None);
        assert_eq!(logs.get("other", "gw-abc", "proxy", false), None);
    }
}
