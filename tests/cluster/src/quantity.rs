//! Resource quantities (`500m`, `1.5Gi`, `2e3`) as `k8s.io/apimachinery/pkg/api/resource` parses,
//! compares and canonicalises them (the API server writes back `1024Mi` as `1Gi`, `0.5` as `500m`).

use std::cmp::Ordering;
use std::fmt;

/// How a quantity is written, which decides its canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Powers of 1024: `Ki`, `Mi`, `Gi`, ...
    BinarySi,
    /// Powers of 1000: `n`, `u`, `m`, `k`, `M`, `G`, ...
    DecimalSi,
    /// Scientific: `1e3`.
    DecimalExponent,
}

/// A parsed quantity, exact to nano units (finer fractions round up, as in apimachinery).
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

const NANO: i128 = 1_000_000_000;

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)]
pub struct ParseQuantityError;

fn suffix_scale(suffix: &str) -> Option<(Format, i128, i32)> {
    // (format, binary multiplier, decimal exponent)
    let binary = |power: u32| Some((Format::BinarySi, 1i128 << (10 * power), 0));
    let decimal = |exp: i32| Some((Format::DecimalSi, 1, exp));
    match suffix {
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "" => decimal(0),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        exp if exp.starts_with(['e', 'E']) && exp.len() > 1 => {
            let value: i32 = exp[1..].parse().ok()?;
            Some((Format::DecimalExponent, 1, value))
        }
        _ => None,
    }
}

impl Quantity {
    /// Parses a quantity string.
    pub fn parse(text: &str) -> Result<Quantity, ParseQuantityError> {
        let text = text.trim();
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let number_end = unsigned
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(unsigned.len());
        let (number, suffix) = unsigned.split_at(number_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(ParseQuantityError);
        }
        let (format, multiplier, exponent) = suffix_scale(suffix).ok_or(ParseQuantityError)?;
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        // value = digits * 10^(exponent - fraction.len()) * multiplier, in nanos (+9)
        let scale = exponent - i32::try_from(fraction.len()).map_err(|_| ParseQuantityError)? + 9;
        let mut nanos: i128 = 0;
        let mut lost_precision = false;
        for (i, c) in digits.chars().enumerate() {
            let position =
                scale + i32::try_from(digits.len() - i - 1).map_err(|_| ParseQuantityError)?;
            let digit = i128::from(c.to_digit(10).ok_or(ParseQuantityError)?);
            if position < 0 {
                lost_precision |= digit != 0;
                continue;
            }
            let place = 10i128
                .checked_pow(position.unsigned_abs())
                .ok_or(ParseQuantityError)?;
            nanos = digit
                .checked_mul(place)
                .and_then(|v| v.checked_mul(multiplier))
                .and_then(|v| nanos.checked_add(v))
                .ok_or(ParseQuantityError)?;
        }
        if lost_precision {
            nanos += 1;
        }
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
            format,
        })
    }

    /// The value in nano units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in milli units, rounded up (as `MilliValue`).
    pub fn millis(&self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    /// The value in whole units, rounded up (as `Value`).
    pub fn value(&self) -> i128 {
        div_ceil(self.nanos, NANO)
    }

    /// The format the quantity was written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// A quantity of `nanos` nano units written in `format`.
    pub fn from_nanos(nanos: i128, format: Format) -> Quantity {
        Quantity { nanos, format }
    }

    fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == Format::BinarySi && (self.nanos.abs() < 1024 * NANO || self.nanos % NANO != 0)
        {
            format = Format::DecimalSi;
        }
        match format {
            Format::BinarySi => {
                let mut value = self.nanos / NANO;
                let mut power = 0;
                while value % 1024 == 0 && power < 6 {
                    value /= 1024;
                    power += 1;
                }
                format!("{value}{}", ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power])
            }
            Format::DecimalSi | Format::DecimalExponent => {
                let mut mantissa = self.nanos;
                let mut exponent = -9;
                let max_exponent = if format == Format::DecimalSi {
                    18
                } else {
                    i32::MAX
                };
                while mantissa % 1000 == 0 && exponent < max_exponent {
                    mantissa /= 1000;
                    exponent += 3;
                }
                let suffix = if format == Format::DecimalExponent {
                    if exponent == 0 {
                        String::new()
                    } else {
                        format!("e{exponent}")
                    }
                } else {
                    match exponent {
                        -9 => "n",
                        -6 => "u",
                        -3 => "m",
                        3 => "k",
                        6 => "M",
                        9 => "G",
                        12 => "T",
                        15 => "P",
                        18 => "E",
                        _ => "",
                    }
                    .to_string()
                };
                format!("{mantissa}{suffix}")
            }
        }
    }
}

fn div_ceil(value: i128, by: i128) -> i128 {
    let quotient = value / by;
    if value % by > 0 {
        quotient + 1
    } else {
        quotient
    }
}

impl fmt::Display for Quantity {
    /// The canonical form, as the API server serialises it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// The canonical form of `text`, or `None` if it is not a quantity.
pub fn canonicalize(text: &str) -> Option<String> {
    Quantity::parse(text).ok().map(|q| q.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|_| panic!("{text} should parse"))
    }

    #[test]
    fn canonical_forms_match_apimachinery() {
        for (input, canonical) in [
            ("1024Mi", "1Gi"),
            ("2048Mi", "2Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("512Ki", "512Ki"),
            ("0.5Ki", "512"),
            ("0.5", "500m"),
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("1000", "1k"),
            ("1.5k", "1500"),
            ("100M", "100M"),
            ("2000000k", "2G"),
            ("0", "0"),
            ("0Mi", "0"),
            ("1e3", "1e3"),
            ("250m", "250m"),
            ("+3", "3"),
            ("-2Gi", "-2Gi"),
        ] {
            assert_eq!(q(input).to_string(), canonical, "canonical form of {input}");
        }
    }

    #[test]
    fn compares_across_suffixes() {
        assert!(q("2Gi") > q("1Gi"));
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("1000m"), q("1"));
        assert!(q("1500m") < q("2"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("0.1n").nanos(), 1, "sub-nano fractions round up");
        assert_eq!(q("1500m").value(), 2);
        assert_eq!(q("1.5").millis(), 1500);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "1.2.3", "5Xi", "1ki", ".", "--1", "1e"] {
            assert!(Quantity::parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
