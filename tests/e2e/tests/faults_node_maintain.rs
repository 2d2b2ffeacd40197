//! The fault matrix for `kubectl node-maintain` (issue 10): every case of `e2e::faults`, read
//! and write path (`check`, and a drain of node-1), asserted. `cargo run -p e2e --bin fault-report` prints the same cases as a table.

use e2e::faults::assert_case;

const PLUGIN: &str = "node-maintain";

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
case!(a_failing_cordon_is_sent_once, "write-5xx");
case!(a_cordon_whose_connection_drops_is_sent_once, "write-reset");
case!(
    a_concurrent_change_is_replanned_not_overwritten,
    "409-concurrent"
);
case!(
    a_spurious_conflict_is_sent_again_and_applied_once,
    "409-spurious"
);
case!(dropped_watches_are_resumed_mid_drain, "watch-drop");
case!(expired_watches_are_relisted_mid_drain, "watch-410");
case!(ctrl_c_while_reading_changes_nothing, "sigint-reading");
case!(
    ctrl_c_while_draining_exits_130_and_a_rerun_resumes,
    "sigint-following"
);
case!(
    evictions_refused_past_the_timeout_name_the_pdb,
    "429-evictions"
);
