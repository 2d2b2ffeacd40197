//! Ages as kubectl prints them (`5s`, `2m5s`, `3h`, `4d2h`, `2y30d`).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The time from `since` to `now` in kubectl's short form, exactly as apimachinery's
/// `duration.HumanDuration`: two or three significant figures, `<invalid>` when `since` lies
/// more than a second in the future (clock skew up to that counts as `0s`).
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let millis = now.as_millisecond() - since.as_millisecond();
    human_duration(millis)
}

/// [`age`] of an optional API timestamp; `<unknown>` when the field is missing, as kubectl.
pub fn age_of(t: Option<&Time>, now: Timestamp) -> String {
    match t {
        Some(t) => age(t.0, now),
        None => "<unknown>".to_string(),
    }
}

/// A millisecond duration in kubectl's form (the rules of `duration.HumanDuration`).
fn human_duration(millis: i64) -> String {
    // Go's int(d.Seconds()) truncates toward zero.
    let seconds = millis / 1000;
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        let d = days % 365;
        return if d == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{d}d")
        };
    }
    format!("{years}y")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;

    #[test]
    fn follows_kubectl_rules_at_every_boundary() {
        let cases = [
            (-2 * S, "<invalid>"),
            (-1500, "0s"),
            (-999, "0s"),
            (0, "0s"),
            (59 * S, "59s"),
            (119 * S + 999, "119s"),
            (2 * M, "2m"),
            (2 * M + 5 * S, "2m5s"),
            (9 * M + 59 * S, "9m59s"),
            (10 * M + 30 * S, "10m"),
            (179 * M, "179m"),
            (3 * H, "3h"),
            (3 * H + 5 * M, "3h5m"),
            (7 * H + 59 * M, "7h59m"),
            (8 * H + 30 * M, "8h"),
            (47 * H, "47h"),
            (2 * D, "2d"),
            (2 * D + 5 * H, "2d5h"),
            (7 * D + 23 * H, "7d23h"),
            (8 * D + 5 * H, "8d"),
            (729 * D, "729d"),
            (730 * D, "2y"),
            (731 * D, "2y1d"),
            (8 * 365 * D - D, "7y364d"),
            (8 * 365 * D, "8y"),
            (20 * 365 * D + 100 * D, "20y"),
        ];
        for (millis, want) in cases {
            assert_eq!(human_duration(millis), want, "{millis} ms");
        }
    }

    #[test]
    fn age_of_missing_timestamp_is_unknown() {
        let now: Timestamp = "2026-11-05T10:00:00Z".parse().unwrap();
        let created = Time("2026-11-05T09:57:30Z".parse().unwrap());
        assert_eq!(age_of(Some(&created), now), "2m30s");
        assert_eq!(age_of(None, now), "<unknown>");
        assert_eq!(age(now, created.0), "<invalid>");
    }
}
