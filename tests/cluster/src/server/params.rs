//! Query parameters of API requests.

use super::table::IncludeObject;
use crate::errors::ApiError;
use crate::selector::{FieldSelector, LabelSelector};

/// The query string of a request, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `labelSelector`.
    pub label_selector: LabelSelector,
    /// `fieldSelector`.
    pub field_selector: FieldSelector,
    /// `limit` (0 = no limit).
    pub limit: usize,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `watch=true|1`.
    pub watch: bool,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `timeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    /// `allowWatchBookmarks`.
    pub allow_watch_bookmarks: bool,
    /// `sendInitialEvents`.
    pub send_initial_events: Option<bool>,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `gracePeriodSeconds`.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy`.
    pub propagation_policy: Option<String>,
    /// `container` (pods/log).
    pub container: Option<String>,
    /// `tailLines` (pods/log).
    pub tail_lines: Option<usize>,
    /// `previous` (pods/log).
    pub previous: bool,
    /// `follow` (pods/log).
    pub follow: bool,
    /// `timestamps` (pods/log).
    pub timestamps: bool,
    /// `includeObject` of Table responses.
    pub include_object: IncludeObject,
}

fn truthy(value: &str) -> bool {
    matches!(value, "true" | "1" | "True" | "TRUE")
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid value for {name}: {value:?}")))
}

impl Query {
    /// Parses a raw query string; malformed selectors answer 400 like the real server.
    pub fn parse(raw: &str) -> Result<Query, ApiError> {
        let mut query = Query::default();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "labelSelector" => {
                    query.label_selector =
                        LabelSelector::parse(&value).map_err(ApiError::bad_request)?;
                }
                "fieldSelector" => {
                    query.field_selector =
                        FieldSelector::parse(&value).map_err(ApiError::bad_request)?;
                }
                "limit" => {
                    query.limit = number::<i64>("limit", &value)?
                        .max(0)
                        .try_into()
                        .unwrap_or(0)
                }
                "continue" if !value.is_empty() => query.continue_token = Some(value.into_owned()),
                "watch" => query.watch = truthy(&value),
                "resourceVersion" if !value.is_empty() => {
                    query.resource_version = Some(value.into_owned())
                }
                "timeoutSeconds" => query.timeout_seconds = Some(number("timeoutSeconds", &value)?),
                "allowWatchBookmarks" => query.allow_watch_bookmarks = truthy(&value),
                "sendInitialEvents" => query.send_initial_events = Some(truthy(&value)),
                "dryRun" => {
                    if value != "All" {
                        return Err(ApiError::bad_request(format!(
                            "Invalid dryRun value: {value:?}: supported values: \"All\""
                        )));
                    }
                    query.dry_run = true;
                }
                "gracePeriodSeconds" => {
                    query.grace_period_seconds = Some(number("gracePeriodSeconds", &value)?)
                }
                "propagationPolicy" => query.propagation_policy = Some(value.into_owned()),
                "container" => query.container = Some(value.into_owned()),
                "tailLines" => query.tail_lines = Some(number("tailLines", &value)?),
                "previous" => query.previous = truthy(&value),
                "follow" => query.follow = truthy(&value),
                "timestamps" => query.timestamps = truthy(&value),
                "includeObject" => {
                    query.include_object = match value.as_ref() {
                        "None" => IncludeObject::None,
                        "Object" => IncludeObject::Object,
                        _ => IncludeObject::Metadata,
                    }
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_and_watch_parameters() {
        let q = Query::parse("labelSelector=app%3Dweb&limit=5&watch=1&resourceVersion=10&timeoutSeconds=3&dryRun=All").unwrap();
        assert_eq!(q.label_selector.requirements.len(), 1);
        assert_eq!(
            (
                q.limit,
                q.watch,
                q.resource_version.as_deref(),
                q.timeout_seconds,
                q.dry_run
            ),
            (5, true, Some("10"), Some(3), true)
        );
    }

    #[test]
    fn malformed_selectors_are_bad_requests() {
        let err = Query::parse("labelSelector=app+in+(a").unwrap_err();
        assert_eq!((err.code, err.reason.as_str()), (400, "BadRequest"));
        assert!(
            err.message.starts_with("unable to parse requirement"),
            "{}",
            err.message
        );
        assert_eq!(
            Query::parse("fieldSelector=nonsense").unwrap_err().code,
            400
        );
        assert_eq!(Query::parse("dryRun=Some").unwrap_err().code, 400);
    }
}
