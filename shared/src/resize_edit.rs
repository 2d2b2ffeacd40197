//! Absolute and relative edits of requests, limits and replicas, as `kubectl gw-resize`
//! takes them: `2Gi`, `+500Mi`, `-250m`, `x1.5` (or `*1.5`), `150%`, `+20%`, `-10%`;
//! replicas `5`, `+2`, `-1`.
//!
//! Results are rounded up to the step Kubernetes reads the resource in (millicores for
//! `cpu`, whole bytes or units otherwise; see [`Resolution`]) and must stay above zero.

use std::fmt;
use std::str::FromStr;

use crate::quantity::{Factor, Quantity, Resolution};

/// A change to one resource quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceEdit {
    /// `2Gi`: replace the value.
    Set(Quantity),
    /// `+500Mi`: add to the current value.
    Add(Quantity),
    /// `-250m`: subtract from the current value.
    Sub(Quantity),
    /// `x1.5`, `*1.5`, `150%`, `+20%`, `-10%`: multiply the current value.
    Scale(Factor),
}

/// A change to a replica count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaEdit {
    /// `5`.
    Set(i32),
    /// `+2`.
    Add(i32),
    /// `-1`.
    Sub(i32),
}

/// Why an edit could not be read or applied. Each prints as one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The edit text is not one of the accepted forms.
    #[error("invalid {what} \"{input}\": {reason}")]
    Invalid {
        what: &'static str,
        input: String,
        reason: String,
    },
    /// A relative edit (`+500Mi`, `x1.5`) where the container sets no value.
    #[error("no current {resource} value to change by \"{edit}\": give an absolute value")]
    NoCurrentValue { resource: String, edit: String },
    /// The result would be zero or negative.
    #[error("{edit} would make {resource} {result}: the result must be above zero")]
    NotPositive {
        resource: String,
        edit: String,
        result: String,
    },
    /// A replica edit that would go below zero.
    #[error("{edit} would make replicas {result}: the result must not be negative")]
    NegativeReplicas { edit: String, result: i64 },
    /// The result does not fit.
    #[error("{edit} makes {resource} too large")]
    Overflow { resource: String, edit: String },
}

impl From<EditError> for crate::error::Error {
    fn from(e: EditError) -> Self {
        crate::error::Error::Usage(e.to_string())
    }
}

/// Kubernetes caps a `BinarySI` quantity at 2^63-1 units; no edit may plan a larger value.
const MAX_NANOS: i128 = i64::MAX as i128 * 1_000_000_000;

const RESOURCE_FORMS: &str = "use 2Gi, +500Mi, -250m, x1.5 or 150%";
const REPLICA_FORMS: &str = "use 5, +2 or -1";

fn invalid(what: &'static str, input: &str, reason: impl Into<String>) -> EditError {
    EditError::Invalid {
        what,
        input: input.to_string(),
        reason: reason.into(),
    }
}

impl FromStr for ResourceEdit {
    type Err = EditError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| invalid("resource edit", input, reason);
        let s = input.trim();
        if s.is_empty() {
            return Err(bad(RESOURCE_FORMS));
        }
        if let Some(factor) = s.strip_prefix(['x', 'X', '*']) {
            return parse_factor(factor, input).map(ResourceEdit::Scale);
        }
        if let Some(percent) = s.strip_suffix('%') {
            let factor = parse_percent(percent, input)?;
            // Printed back as `x<factor>`, which must read as the same factor: a percentage
            // finer than a factor can be written (18 digits) is refused, not rounded.
            if factor.to_string().parse::<Factor>() != Ok(factor) {
                return Err(bad(TOO_PRECISE));
            }
            return Ok(ResourceEdit::Scale(factor));
        }
        let (sign, rest) = match s.as_bytes()[0] {
            b'+' | b'-' => (Some(s.as_bytes()[0]), &s[1..]),
            _ => (None, s),
        };
        if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Err(bad(RESOURCE_FORMS));
        }
        let amount: Quantity = rest.parse().map_err(|_| {
            bad("not a quantity (use a number with an optional suffix such as m, Mi or Gi)")
        })?;
        Ok(match sign {
            Some(b'+') => ResourceEdit::Add(amount),
            Some(_) => ResourceEdit::Sub(amount),
            None => ResourceEdit::Set(amount),
        })
    }
}

/// `1.5` after `x`: a positive decimal.
fn parse_factor(text: &str, input: &str) -> Result<Factor, EditError> {
    if text.contains('%') || !text.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(invalid(
            "resource edit",
            input,
            "a factor is a positive number, as in x1.5",
        ));
    }
    text.parse::<Factor>().map_err(|_| {
        invalid(
            "resource edit",
            input,
            "a factor is a positive number, as in x1.5",
        )
    })
}

/// `150` (of `150%`), or `+20` / `-10` for a relative change.
fn parse_percent(text: &str, input: &str) -> Result<Factor, EditError> {
    let bad = || {
        invalid(
            "resource edit",
            input,
            "a percentage is a number, as in 150%, +20% or -10%",
        )
    };
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => (0, text),
    };
    if !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    let percent = format!("{digits}%").parse::<Factor>().map_err(|_| bad())?;
    if sign == 0 {
        return Ok(percent);
    }
    let change = digits.parse::<Factor>().map_err(|_| bad())?;
    percent_sum(&change, sign).map_err(|reason| invalid("resource edit", input, reason))
}

const TOO_PRECISE: &str = "too precise: a percentage may make a factor of at most 18 digits";

/// `(100 + sign * p) / 100` for a percentage `p`, if positive.
fn percent_sum(p: &Factor, sign: i32) -> Result<Factor, &'static str> {
    let (numer, denom) = p.ratio();
    let hundred = denom.checked_mul(100).ok_or(TOO_PRECISE)?;
    let numer = if sign > 0 {
        hundred.checked_add(numer).ok_or(TOO_PRECISE)?
    } else {
        hundred - numer
    };
    if numer <= 0 {
        return Err("the change leaves nothing: the result must be above zero");
    }
    let numer = u64::try_from(numer).map_err(|_| TOO_PRECISE)?;
    let hundred = u64::try_from(hundred).map_err(|_| TOO_PRECISE)?;
    Factor::new(numer, hundred).ok_or(TOO_PRECISE)
}

impl fmt::Display for ResourceEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceEdit::Set(q) => write!(f, "{q}"),
            ResourceEdit::Add(q) => write!(f, "+{q}"),
            ResourceEdit::Sub(q) => write!(f, "-{q}"),
            ResourceEdit::Scale(factor) => write!(f, "x{factor}"),
        }
    }
}

impl ResourceEdit {
    /// Whether the edit needs a current value (everything but an absolute value).
    pub fn is_relative(&self) -> bool {
        !matches!(self, ResourceEdit::Set(_))
    }

    /// The new value of `resource` (`cpu`, `memory`, ...) given its `current` value.
    pub fn apply(&self, current: Option<&Quantity>, resource: &str) -> Result<Quantity, EditError> {
        let resolution = Resolution::for_resource(resource);
        let overflow = || EditError::Overflow {
            resource: resource.to_string(),
            edit: self.to_string(),
        };
        let result = match (self, current) {
            (ResourceEdit::Set(q), _) => q.round_up(resolution),
            (_, None) => {
                return Err(EditError::NoCurrentValue {
                    resource: resource.to_string(),
                    edit: self.to_string(),
                });
            }
            (ResourceEdit::Add(q), Some(cur)) => cur
                .checked_add(q)
                .ok_or_else(overflow)?
                .round_up(resolution),
            (ResourceEdit::Sub(q), Some(cur)) => cur
                .checked_sub(q)
                .ok_or_else(overflow)?
                .round_up(resolution),
            (ResourceEdit::Scale(factor), Some(cur)) => {
                cur.checked_scale(factor, resolution).ok_or_else(overflow)?
            }
        };
        if result.nanos() > MAX_NANOS {
            return Err(overflow());
        }
        if !result.is_positive() {
            return Err(EditError::NotPositive {
                resource: resource.to_string(),
                edit: self.to_string(),
                result: result.to_string(),
            });
        }
        Ok(result)
    }
}

impl FromStr for ReplicaEdit {
    type Err = EditError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let (sign, digits) = match s.as_bytes().first() {
            Some(b'+') => (Some('+'), &s[1..]),
            Some(b'-') => (Some('-'), &s[1..]),
            _ => (None, s),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("replica count", input, REPLICA_FORMS));
        }
        let n: i32 = digits
            .parse()
            .map_err(|_| invalid("replica count", input, "too large"))?;
        Ok(match sign {
            Some('+') => ReplicaEdit::Add(n),
            Some(_) => ReplicaEdit::Sub(n),
            None => ReplicaEdit::Set(n),
        })
    }
}

impl fmt::Display for ReplicaEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplicaEdit::Set(n) => write!(f, "{n}"),
            ReplicaEdit::Add(n) => write!(f, "+{n}"),
            ReplicaEdit::Sub(n) => write!(f, "-{n}"),
        }
    }
}

impl ReplicaEdit {
    /// The new replica count given the `current` one; never below zero.
    pub fn apply(&self, current: i32) -> Result<i32, EditError> {
        let result = match self {
            ReplicaEdit::Set(n) => Some(*n),
            ReplicaEdit::Add(n) => current.checked_add(*n),
            ReplicaEdit::Sub(n) => current.checked_sub(*n),
        };
        match result {
            None => Err(EditError::Overflow {
                resource: "replicas".into(),
                edit: self.to_string(),
            }),
            Some(r) if r < 0 => Err(EditError::NegativeReplicas {
                edit: self.to_string(),
                result: i64::from(r),
            }),
            Some(r) => Ok(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        s.parse().unwrap()
    }

    fn edit(s: &str) -> ResourceEdit {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn applied(e: &str, current: Option<&str>, resource: &str) -> Result<String, EditError> {
        let current = current.map(q);
        edit(e)
            .apply(current.as_ref(), resource)
            .map(|r| r.to_string())
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(edit("2Gi"), ResourceEdit::Set(q("2Gi")));
        assert_eq!(edit("+500Mi"), ResourceEdit::Add(q("500Mi")));
        assert_eq!(edit("-250m"), ResourceEdit::Sub(q("250m")));
        assert_eq!(
            edit("x1.5"),
            ResourceEdit::Scale(Factor::new(3, 2).unwrap())
        );
        assert_eq!(edit("*1.5"), edit("x1.5"));
        assert_eq!(edit("150%"), edit("x1.5"));
        assert_eq!(
            edit("+20%"),
            ResourceEdit::Scale(Factor::new(6, 5).unwrap())
        );
        assert_eq!(
            edit("-10%"),
            ResourceEdit::Scale(Factor::new(9, 10).unwrap())
        );
        assert_eq!(edit(" 1 "), ResourceEdit::Set(q("1")));
        assert_eq!(edit("x1.5").to_string(), "x1.5");
        assert_eq!(edit("+0.5Gi").to_string(), "+512Mi");
    }

    #[test]
    fn refuses_nonsense_with_one_line() {
        for bad in [
            "", "+-5Mi", "-+5Mi", "x", "x-1", "x0", "*", "150%%", "%", "1.5.2Gi", "5MiB", "Mi",
            "+", "-", "x1.5%", "abc", "++1", "-100%", "-150%", "1,5",
        ] {
            let err = bad.parse::<ResourceEdit>();
            assert!(err.is_err(), "{bad:?} should be refused");
            let text = err.unwrap_err().to_string();
            assert!(!text.contains('\n'), "{text}");
        }
        assert_eq!(
            "+-5Mi".parse::<ResourceEdit>().unwrap_err().to_string(),
            "invalid resource edit \"+-5Mi\": use 2Gi, +500Mi, -250m, x1.5 or 150%"
        );
        assert_eq!(
            "x-1".parse::<ResourceEdit>().unwrap_err().to_string(),
            "invalid resource edit \"x-1\": a factor is a positive number, as in x1.5"
        );
    }

    #[test]
    fn applies_absolute_and_relative_edits() {
        assert_eq!(applied("2Gi", None, "memory").unwrap(), "2Gi");
        assert_eq!(applied("+500Mi", Some("1Gi"), "memory").unwrap(), "1524Mi");
        assert_eq!(applied("-250m", Some("1"), "cpu").unwrap(), "750m");
        assert_eq!(applied("x1.5", Some("1Gi"), "memory").unwrap(), "1536Mi");
        assert_eq!(applied("150%", Some("500m"), "cpu").unwrap(), "750m");
        assert_eq!(applied("+20%", Some("100Mi"), "memory").unwrap(), "120Mi");
        assert_eq!(applied("-10%", Some("1"), "cpu").unwrap(), "900m");
        assert_eq!(applied("x1.1", Some("333m"), "cpu").unwrap(), "367m");
        assert_eq!(applied("x0.5", Some("3"), "memory").unwrap(), "2");
        assert_eq!(applied("100u", None, "cpu").unwrap(), "1m");
    }

    #[test]
    fn relative_edits_need_a_current_value() {
        let err = edit("+500Mi").apply(None, "memory").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no current memory value to change by \"+500Mi\": give an absolute value"
        );
        assert!(matches!(err, EditError::NoCurrentValue { .. }));
        assert!(edit("x2").is_relative());
        assert!(!edit("2").is_relative());
    }

    #[test]
    fn results_must_stay_above_zero() {
        let err = applied("-1", Some("500m"), "cpu").unwrap_err();
        assert_eq!(
            err.to_string(),
            "-1 would make cpu -500m: the result must be above zero"
        );
        assert!(applied("-1Gi", Some("1Gi"), "memory").is_err());
        assert!(applied("0", None, "memory").is_err());
        let huge = Quantity::from_units(i64::MAX, crate::quantity::Format::DecimalSI);
        let big_edit = ResourceEdit::Scale(Factor::new(u64::MAX, 1).unwrap());
        assert!(matches!(
            big_edit.apply(Some(&huge), "memory"),
            Err(EditError::Overflow { .. })
        ));
    }

    #[test]
    fn percentages_print_back_or_are_refused() {
        for text in ["150%", "+20%", "-10%", "0.5%", "+0.000000000000001%"] {
            let e = edit(text);
            assert_eq!(e.to_string().parse::<ResourceEdit>(), Ok(e), "{text}");
        }
        for bad in [".00000000000000001%", "+0.000000000000000001%"] {
            let err = bad.parse::<ResourceEdit>().unwrap_err().to_string();
            assert!(err.contains("too precise"), "{bad}: {err}");
        }
    }

    #[test]
    fn results_above_the_binary_cap_are_too_large() {
        let err = applied("+99999999999999999999Ei", Some("8Ei"), "memory").unwrap_err();
        assert!(matches!(err, EditError::Overflow { .. }), "{err}");
        assert!(applied("+1", Some("8Ei"), "memory").is_err());
        assert!(applied("x2", Some("5Ei"), "memory").is_err());
        assert_eq!(
            applied("99999999999999999999999999Ei", None, "memory").unwrap(),
            q("99999999999999999999999999Ei").to_string()
        );
    }

    #[test]
    fn replica_edits() {
        let r = |s: &str| s.parse::<ReplicaEdit>();
        assert_eq!(r("5").unwrap().apply(3).unwrap(), 5);
        assert_eq!(r("+2").unwrap().apply(3).unwrap(), 5);
        assert_eq!(r("-1").unwrap().apply(3).unwrap(), 2);
        assert_eq!(r("-3").unwrap().apply(3).unwrap(), 0);
        assert_eq!(r("0").unwrap().apply(3).unwrap(), 0);
        assert_eq!(
            r("-4").unwrap().apply(3).unwrap_err().to_string(),
            "-4 would make replicas -1: the result must not be negative"
        );
        assert!(r("+1").unwrap().apply(i32::MAX).is_err());
        for bad in [
            "",
            "+",
            "-",
            "+-1",
            "1.5",
            "x2",
            "five",
            "99999999999",
            "2%",
        ] {
            assert!(r(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            r("+-1").unwrap_err().to_string(),
            "invalid replica count \"+-1\": use 5, +2 or -1"
        );
    }
}
