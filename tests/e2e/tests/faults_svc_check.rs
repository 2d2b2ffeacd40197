//! The fault matrix for `kubectl svc-check` (issue 10): each case of `e2e::faults` that
//! applies to a read-only plugin, asserted. `cargo run -p e2e --bin fault-report` prints the
//! same cases as a table.

use e2e::faults::assert_case;

const PLUGIN: &str = "svc-check";

macro_rules! case {
    ($test:ident, $fault:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            assert_case($fault, PLUGIN).await;
        }
    };
}

case!(
    latency_beyond_request_timeout_is_one_timeout_line,
    "latency"
);
case!(failing_reads_are_retried, "read-5xx");
case!(dropped_read_connections_are_retried, "read-reset");
case!(reads_failing_every_time_end_in_one_line, "read-5xx-always");
case!(unauthorised_is_one_line, "401");
case!(each_forbidden_call_is_named, "403-each-call");
case!(each_call_answered_404_is_survived, "404-each-call");
case!(truncated_answers_are_one_line, "truncated-json");
case!(unknown_fields_change_nothing, "unknown-fields");
case!(objects_without_status_do_not_panic, "missing-status");
case!(bad_flag_values_exit_64, "bad-input");
case!(
    no_secret_is_read_and_the_token_is_never_printed,
    "secrets-token"
);
