//! Fault injection for reliability tests: latency on every request, the next N matching
//! requests failing with a status (or a reset connection), and watches that drop after K events;
//! and the log of the requests answered, for tests of what a client asks (pages, selectors).
//!
//! Controlled from Rust through [`Faults`] and over HTTP at `/testcluster/faults`:
//! `POST` a JSON [`FaultRequest`] to add faults, `DELETE` to clear them, `GET` to read them;
//! `GET /testcluster/requests` shows the log, `DELETE` empties it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a matching request gets instead of its normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultAction {
    /// An error `Status` with this HTTP code (500, 503, 429, 409, ...).
    Status(u16),
    /// The connection is closed without an answer.
    Reset,
}

/// "The next `count` requests whose path contains `path` (and whose method is `method`) fail".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureRule {
    /// Substring of the request path (`/api/v1/namespaces/default/pods`); empty matches all.
    pub path: String,
    /// HTTP method (`GET`, `PATCH`, ...), any when `None`.
    #[serde(default)]
    pub method: Option<String>,
    /// How many more requests fail.
    pub count: usize,
    /// What they get.
    pub action: FaultAction,
}

/// The body of `POST /testcluster/faults`; every field is optional and adds to the current faults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRequest {
    /// Extra latency added to every request, in milliseconds.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// A failure rule to add.
    #[serde(default)]
    pub fail: Option<FailureRule>,
    /// Watches end after sending this many events (0 turns it off).
    #[serde(default)]
    pub watch_drop_after: Option<usize>,
}

/// The current faults, as `GET /testcluster/faults` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultState {
    /// Extra latency per request, in milliseconds.
    pub latency_ms: u64,
    /// Failure rules with requests left to fail.
    pub failures: Vec<FailureRule>,
    /// Watches end after this many events.
    pub watch_drop_after: Option<usize>,
}

/// How many requests the log keeps (the oldest go first).
pub const REQUEST_LOG_LIMIT: usize = 10_000;

/// One API request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// HTTP method (`GET`, `PATCH`, ...).
    pub method: String,
    /// Path (`/api/v1/namespaces/gw/events`).
    pub path: String,
    /// Query string as sent (percent-encoded), "" when none.
    pub query: String,
}

impl RecordedRequest {
    /// The decoded value of the query parameter `name` (`limit`, `continue`, `fieldSelector`).
    pub fn param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

/// Shared fault settings of one test cluster, and its request log.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
    requests: Arc<Mutex<VecDeque<RecordedRequest>>>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `latency` to every request from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    }

    /// The latency every request gets.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.lock().latency_ms)
    }

    /// Makes the next `count` requests whose path contains `path` (and with `method`, if given)
    /// answer with `action`.
    pub fn fail_next(&self, count: usize, method: Option<&str>, path: &str, action: FaultAction) {
        self.add_rule(FailureRule {
            path: path.to_string(),
            method: method.map(str::to_ascii_uppercase),
            count,
            action,
        });
    }

    /// Adds a failure rule.
    pub fn add_rule(&self, rule: FailureRule) {
        if rule.count > 0 {
            self.lock().failures.push(rule);
        }
    }

    /// Ends every watch after it has sent `events` events (`None`: never).
    pub fn drop_watches_after(&self, events: Option<usize>) {
        self.lock().watch_drop_after = events.filter(|n| *n > 0);
    }

    /// After how many events watches end.
    pub fn watch_drop_after(&self) -> Option<usize> {
        self.lock().watch_drop_after
    }

    /// Applies a `POST /testcluster/faults` body.
    pub fn apply(&self, request: FaultRequest) {
        if let Some(ms) = request.latency_ms {
            self.set_latency(Duration::from_millis(ms));
        }
        if let Some(rule) = request.fail {
            self.add_rule(rule);
        }
        if let Some(after) = request.watch_drop_after {
            self.drop_watches_after(Some(after));
        }
    }

    /// The current settings.
    pub fn snapshot(&self) -> FaultState {
        self.lock().clone()
    }

    /// Removes every fault.
    pub fn clear(&self) {
        *self.lock() = FaultState::default();
    }

    /// Adds a request to the log (API requests only: the server does not log `/testcluster/`).
    pub fn record(&self, method: &str, path: &str, query: &str) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        if requests.len() == REQUEST_LOG_LIMIT {
            requests.pop_front();
        }
        requests.push_back(RecordedRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
        });
    }

    /// The logged requests, oldest first (at most the last [`REQUEST_LOG_LIMIT`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        requests.iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The action for a request, consuming one use of the first matching rule.
    pub fn take_failure(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut state = self.lock();
        let index = state.failures.iter().position(|rule| {
            path.contains(&rule.path)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let rule = &mut state.failures[index];
        rule.count -= 1;
        let action = rule.action;
        if rule.count == 0 {
            state.failures.remove(index);
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_the_given_number_of_times_on_matching_requests() {
        let faults = Faults::default();
        faults.fail_next(
            2,
            Some("patch"),
            "/deployments/web",
            FaultAction::Status(503),
        );
        assert_eq!(
            faults.take_failure("GET", "/apis/apps/v1/namespaces/d/deployments/web"),
            None
        );
        assert_eq!(
            faults.take_failure("PATCH", "/apis/apps/v1/namespaces/d/pods"),
            None
        );
        let path = "/apis/apps/v1/namespaces/d/deployments/web";
        assert_eq!(
            faults.take_failure("PATCH", path),
            Some(FaultAction::Status(503))
        );
        assert_eq!(
            faults.take_failure("PATCH", path),
            Some(FaultAction::Status(503))
        );
        assert_eq!(faults.take_failure("PATCH", path), None);
    }

    #[test]
    fn http_body_adds_and_clear_removes() {
        let faults = Faults::default();
        let body: FaultRequest = serde_json::from_str(
            r#"{"latencyMs": 20, "watchDropAfter": 3, "fail": {"path": "", "count": 1, "action": "reset"}}"#,
        )
        .unwrap();
        faults.apply(body);
        assert_eq!(faults.latency(), Duration::from_millis(20));
        assert_eq!(faults.watch_drop_after(), Some(3));
        assert_eq!(faults.take_failure("GET", "/api"), Some(FaultAction::Reset));
        let status: FaultRequest = serde_json::from_str(
            r#"{"fail": {"path": "/x", "method": "GET", "count": 1, "action": {"status": 429}}}"#,
        )
        .unwrap();
        faults.apply(status);
        assert_eq!(faults.snapshot().failures.len(), 1);
        faults.clear();
        assert_eq!(faults.snapshot(), FaultState::default());
    }

    #[test]
    fn the_request_log_decodes_parameters_and_keeps_the_latest() {
        let faults = Faults::default();
        faults.record(
            "GET",
            "/api/v1/namespaces/gw/events",
            "fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dgw-1&limit=500",
        );
        let logged = &faults.requests()[0];
        assert_eq!(
            logged.param("fieldSelector").as_deref(),
            Some("involvedObject.kind=Pod,involvedObject.name=gw-1")
        );
        assert_eq!(logged.param("limit").as_deref(), Some("500"));
        assert_eq!(logged.param("continue"), None);
        for n in 0..REQUEST_LOG_LIMIT {
            faults.record("GET", &format!("/api/v1/pods/{n}"), "");
        }
        let requests = faults.requests();
        assert_eq!(requests.len(), REQUEST_LOG_LIMIT);
        assert_eq!(requests[0].path, "/api/v1/pods/0", "the oldest went first");
        faults.clear_requests();
        assert!(faults.requests().is_empty());
    }
}
