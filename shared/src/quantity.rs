//! Kubernetes resource quantities (`500m`, `1.5Gi`, `12e-3`) with exact arithmetic.
//!
//! This mirrors `k8s.io/apimachinery/pkg/api/resource.Quantity`:
//! - parsing accepts the same grammar (binary suffixes `Ki`..`Ei`, decimal suffixes
//!   `n u m "" k M G T P E`, exponents `e3`/`E-3`, signs, `1.`, `.5`) and keeps the value
//!   down to nano, rounding a finer non-zero value away from zero (`0.9n` is `1n`);
//! - a `BinarySI` value above 2^63-1 is silently capped there, and a `BinarySI` value
//!   strictly between -1 and 1 becomes `DecimalSI`, as Kubernetes does;
//! - [`Display`](std::fmt::Display) prints the canonical form of `Quantity.String()`:
//!   `1.5Gi` is `1536Mi`, `0.5` is `500m`, `1000m` is `1`, `1.1Ki` is `1126400m`.
//!
//! Two deliberate differences: a number needs at least one digit (Go reads `Mi` and `.` as
//! zero), and values beyond ±1.7e29 are refused as too large (Go has no upper bound for
//! decimal quantities). Go also keeps some inputs verbatim (`+1`, `1E3`) when re-serialising
//! an unmodified quantity; this type always prints the canonical form (`1`, `1e3`).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;
/// Kubernetes caps a parsed `BinarySI` quantity at 2^63-1.
const MAX_BINARY_NANOS: i128 = i64::MAX as i128 * NANOS_PER_UNIT;
const BINARY_SUFFIXES: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// How a quantity is written: Kubernetes remembers the suffix family it was parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `12e6`, `1e-3`.
    DecimalExponent,
    /// `12Mi` (12 * 2^20).
    BinarySI,
    /// `12M` (12 * 10^6), `500m`, `3`.
    DecimalSI,
}

/// An exact Kubernetes quantity: a whole number of nano units plus its [`Format`].
///
/// Equality, ordering and hashing look at the value only: `1Gi == 1024Mi`, `1000m == 1`.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

/// A quantity string that Kubernetes would not accept (or that is too large here).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity \"{input}\": {reason}")]
pub struct QuantityError {
    input: String,
    reason: String,
}

impl QuantityError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        QuantityError {
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<QuantityError> for crate::error::Error {
    fn from(e: QuantityError) -> Self {
        crate::error::Error::Usage(e.to_string())
    }
}

/// The step a computed quantity is rounded up to (away from zero).
///
/// Kubernetes itself reads CPU in millicores (`MilliValue`) and memory in bytes (`Value`),
/// both rounding up, so edits round to those steps and never hand out less than asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// 1n: the finest step a quantity keeps.
    Nano,
    /// 1m: CPU.
    Milli,
    /// 1: bytes for memory and storage, whole devices for extended resources.
    Unit,
}

impl Resolution {
    /// Millicores for `cpu`, whole units (bytes, devices) for every other resource.
    pub fn for_resource(resource: &str) -> Self {
        if resource == "cpu" {
            Resolution::Milli
        } else {
            Resolution::Unit
        }
    }

    fn nanos(self) -> i128 {
        match self {
            Resolution::Nano => 1,
            Resolution::Milli => NANOS_PER_MILLI,
            Resolution::Unit => NANOS_PER_UNIT,
        }
    }
}

/// An exact positive multiplier such as `1.5` or `150%`, kept as a reduced fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Factor {
    numer: i128,
    denom: i128,
}

impl Factor {
    /// `numer / denom`; `None` unless both are positive.
    pub fn new(numer: u64, denom: u64) -> Option<Self> {
        (numer > 0 && denom > 0).then(|| Factor::reduced(i128::from(numer), i128::from(denom)))
    }

    /// The fraction in lowest terms, so that equal factors compare equal.
    fn reduced(numer: i128, denom: i128) -> Self {
        let (mut a, mut b) = (numer, denom);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        Factor {
            numer: numer / a,
            denom: denom / a,
        }
    }

    /// The exact factor as `(numerator, denominator)`.
    pub fn ratio(&self) -> (i128, i128) {
        (self.numer, self.denom)
    }

    /// The factor as a float, for display.
    pub fn as_f64(&self) -> f64 {
        self.numer as f64 / self.denom as f64
    }
}

impl FromStr for Factor {
    type Err = String;

    /// Parses `1.5`, `0.75`, `2` or a percentage `150%`; the factor must be positive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (number, percent) = match s.strip_suffix('%') {
            Some(n) => (n, true),
            None => (s, false),
        };
        let bad =
            || format!("invalid factor \"{s}\": expected a positive number such as 1.5 or 150%");
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let significant = digits.trim_start_matches('0');
        if significant.len() > 18 || frac.len() > 18 {
            return Err(format!("invalid factor \"{s}\": too many digits"));
        }
        let numer: i128 = if significant.is_empty() {
            0
        } else {
            significant.parse().map_err(|_| bad())?
        };
        let mut denom = 10i128.pow(frac.len() as u32);
        if percent {
            denom *= 100;
        }
        if numer == 0 {
            return Err(format!("invalid factor \"{s}\": must be greater than zero"));
        }
        Ok(Factor::reduced(numer, denom))
    }
}

impl fmt::Display for Factor {
    /// The exact decimal (`1.5`, `0.125`), or `n/d` when it does not terminate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.denom;
        let (mut twos, mut fives) = (0u32, 0u32);
        while rest % 2 == 0 {
            rest /= 2;
            twos += 1;
        }
        while rest % 5 == 0 {
            rest /= 5;
            fives += 1;
        }
        let places = twos.max(fives);
        let scaled = 10i128
            .checked_pow(places)
            .and_then(|p| self.numer.checked_mul(p))
            .map(|n| n / self.denom);
        match scaled {
            Some(scaled) if rest == 1 => {
                let unit = 10i128.pow(places);
                let (whole, frac) = (scaled / unit, scaled % unit);
                if frac == 0 {
                    return write!(f, "{whole}");
                }
                let frac = format!("{frac:0width$}", width = places as usize);
                write!(f, "{whole}.{}", frac.trim_end_matches('0'))
            }
            _ => write!(f, "{}/{}", self.numer, self.denom),
        }
    }
}

impl Quantity {
    /// Zero, printed `0`.
    pub const ZERO: Quantity = Quantity {
        nanos: 0,
        format: Format::DecimalSI,
    };

    /// A CPU-style quantity of `millis` thousandths (`250` prints `250m`, `1000` prints `1`).
    pub fn from_millis(millis: i64) -> Self {
        Quantity {
            nanos: i128::from(millis) * NANOS_PER_MILLI,
            format: Format::DecimalSI,
        }
    }

    /// A memory-style quantity of `bytes` (`536870912` prints `512Mi`).
    pub fn from_bytes(bytes: i64) -> Self {
        Quantity {
            nanos: i128::from(bytes) * NANOS_PER_UNIT,
            format: Format::BinarySI,
        }
    }

    /// A quantity of whole units in the given format (`from_units(3, DecimalSI)` is `3`).
    pub fn from_units(units: i64, format: Format) -> Self {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
            format,
        }
    }

    /// The exact value in nano units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The format the quantity is printed in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True for any zero (`0`, `0Mi`, `-0`).
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// True when the value is above zero.
    pub fn is_positive(&self) -> bool {
        self.nanos > 0
    }

    /// The value in thousandths, rounded up away from zero (Kubernetes' `MilliValue`): CPU millicores.
    pub fn to_millis(&self) -> i128 {
        div_away_from_zero(self.nanos, NANOS_PER_MILLI)
    }

    /// The value in whole units, rounded up away from zero (Kubernetes' `Value`): bytes for memory.
    pub fn to_bytes(&self) -> i128 {
        div_away_from_zero(self.nanos, NANOS_PER_UNIT)
    }

    /// The value as a float (approximate beyond 2^53 nano units).
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / NANOS_PER_UNIT as f64
    }

    /// `self + other`; the format is `self`'s unless `self` is zero (as Kubernetes' `Add`).
    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        Some(Quantity {
            nanos: self.nanos.checked_add(other.nanos)?,
            format: if self.is_zero() {
                other.format
            } else {
                self.format
            },
        })
    }

    /// `self - other`; the format is `self`'s unless `self` is zero (as Kubernetes' `Sub`).
    pub fn checked_sub(&self, other: &Quantity) -> Option<Quantity> {
        Some(Quantity {
            nanos: self.nanos.checked_sub(other.nanos)?,
            format: if self.is_zero() {
                other.format
            } else {
                self.format
            },
        })
    }

    /// `self * factor`, rounded up (away from zero) to `resolution`; keeps the format.
    /// `None` on overflow.
    pub fn checked_scale(&self, factor: &Factor, resolution: Resolution) -> Option<Quantity> {
        let product = self.nanos.checked_mul(factor.numer)?;
        let nanos = div_away_from_zero(product, factor.denom);
        Some(
            Quantity {
                nanos,
                format: self.format,
            }
            .round_up(resolution),
        )
    }

    /// The value rounded up (away from zero) to a multiple of `resolution`; keeps the format.
    pub fn round_up(&self, resolution: Resolution) -> Quantity {
        let step = resolution.nanos();
        Quantity {
            nanos: div_away_from_zero(self.nanos, step) * step,
            format: self.format,
        }
    }
}

/// `n / d` rounded away from zero (`d > 0`).
fn div_away_from_zero(n: i128, d: i128) -> i128 {
    let q = n / d;
    match n % d {
        0 => q,
        r if r > 0 => q + 1,
        _ => q - 1,
    }
}

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

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::ZERO
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// What the suffix says about the number in front of it.
enum Suffix {
    Decimal(i64, Format),
    Binary(u32),
}

fn parse_suffix(suffix: &str) -> Option<Suffix> {
    let decimal = |exp| Some(Suffix::Decimal(exp, Format::DecimalSI));
    match suffix {
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
        "Ki" => Some(Suffix::Binary(10)),
        "Mi" => Some(Suffix::Binary(20)),
        "Gi" => Some(Suffix::Binary(30)),
        "Ti" => Some(Suffix::Binary(40)),
        "Pi" => Some(Suffix::Binary(50)),
        "Ei" => Some(Suffix::Binary(60)),
        _ => {
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Huge exponents are clamped: the value then rounds to 1n or is refused as too large.
            let value = exp.parse::<i64>().ok()?;
            Some(Suffix::Decimal(
                value.clamp(-1_000_000, 1_000_000),
                Format::DecimalExponent,
            ))
        }
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_quantity(s)
    }
}

fn parse_quantity(input: &str) -> Result<Quantity, QuantityError> {
    if input.is_empty() {
        return Err(QuantityError::new(input, "empty"));
    }
    let bytes = input.as_bytes();
    let mut pos = 0;
    let negative = match bytes[0] {
        b'-' => {
            pos = 1;
            true
        }
        b'+' => {
            pos = 1;
            false
        }
        _ => false,
    };
    let int_start = pos;
    while pos < bytes.len() && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    let int_digits = &input[int_start..pos];
    let mut frac_digits = "";
    if pos < bytes.len() && bytes[pos] == b'.' {
        pos += 1;
        let frac_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        frac_digits = &input[frac_start..pos];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(QuantityError::new(
            input,
            "expected a number such as 500m, 2Gi or 1.5",
        ));
    }
    let suffix_text = &input[pos..];
    let Some(suffix) = parse_suffix(suffix_text) else {
        return Err(QuantityError::new(
            input,
            format!(
                "unknown suffix \"{suffix_text}\" (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent like e3)"
            ),
        ));
    };

    let frac_digits = frac_digits.trim_end_matches('0');
    let mut mantissa = BigUint::from_decimal(&format!("{int_digits}{frac_digits}"));
    let frac_len = frac_digits.len() as i64;
    let (magnitude, format) = match suffix {
        Suffix::Decimal(exp, format) => {
            // nanos = mantissa * 10^(exp - frac_len + 9)
            let shift = exp - frac_len + 9;
            (mantissa.scale_pow10_round_up(shift), format)
        }
        Suffix::Binary(exp2) => {
            mantissa.mul_pow2(exp2);
            let magnitude = mantissa.scale_pow10_round_up(9 - frac_len);
            // Kubernetes silently caps binary quantities at 2^63-1.
            let capped = match magnitude {
                Some(m) if m <= MAX_BINARY_NANOS as u128 => m,
                _ => MAX_BINARY_NANOS as u128,
            };
            let format = if capped > 0 && capped < NANOS_PER_UNIT as u128 {
                Format::DecimalSI
            } else {
                Format::BinarySI
            };
            (Some(capped), format)
        }
    };
    let magnitude = magnitude
        .and_then(|m| i128::try_from(m).ok())
        .ok_or_else(|| QuantityError::new(input, "too large"))?;
    Ok(Quantity {
        nanos: if negative { -magnitude } else { magnitude },
        format,
    })
}

/// A small unsigned big integer (little-endian base 2^32 limbs), enough to parse any
/// quantity string exactly before it is known to fit.
struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    fn from_decimal(digits: &str) -> Self {
        let mut n = BigUint { limbs: Vec::new() };
        for d in digits.bytes() {
            n.mul_add(10, u32::from(d - b'0'));
        }
        n
    }

    fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }

    fn mul_add(&mut self, mul: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(mul) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn mul_pow2(&mut self, exp: u32) {
        for _ in 0..exp {
            self.mul_add(2, 0);
        }
    }

    /// Divides in place, returning whether the remainder was non-zero.
    fn div_small(&mut self, div: u32) -> bool {
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(div)) as u32;
            rem = v % u64::from(div);
        }
        rem != 0
    }

    fn to_u128(&self) -> Option<u128> {
        let significant = self
            .limbs
            .iter()
            .rposition(|&l| l != 0)
            .map_or(0, |i| i + 1);
        if significant > 4 {
            return None;
        }
        Some(
            self.limbs[..significant]
                .iter()
                .rev()
                .fold(0u128, |acc, &l| (acc << 32) | u128::from(l)),
        )
    }

    /// `self * 10^shift` as an integer, rounding a fraction up; `None` when it exceeds u128.
    fn scale_pow10_round_up(&mut self, shift: i64) -> Option<u128> {
        if self.is_zero() {
            return Some(0);
        }
        if shift > 40 {
            return None;
        }
        if shift >= 0 {
            for _ in 0..shift {
                self.mul_add(10, 0);
            }
            return self.to_u128();
        }
        let mut inexact = false;
        for _ in 0..shift.unsigned_abs() {
            inexact |= self.div_small(10);
            if self.is_zero() {
                break;
            }
        }
        let whole = self.to_u128()?;
        if inexact {
            whole.checked_add(1)
        } else {
            Some(whole)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical form

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let binary = self.format == Format::BinarySI
            && self.nanos.abs() >= 1024 * NANOS_PER_UNIT
            && self.nanos % NANOS_PER_UNIT == 0;
        if binary {
            let mut units = self.nanos / NANOS_PER_UNIT;
            let mut power = 0;
            while power < BINARY_SUFFIXES.len() && units % 1024 == 0 {
                units /= 1024;
                power += 1;
            }
            let suffix = if power == 0 {
                ""
            } else {
                BINARY_SUFFIXES[power - 1]
            };
            return write!(f, "{units}{suffix}");
        }
        let (mantissa, exponent) = decimal_canonical(self.nanos);
        match (self.format, exponent) {
            (Format::DecimalExponent, 0) => write!(f, "{mantissa}"),
            (Format::DecimalExponent, e) => write!(f, "{mantissa}e{e}"),
            (_, e) => match decimal_si_suffix(e) {
                Some(suffix) => write!(f, "{mantissa}{suffix}"),
                None => write!(f, "{mantissa}e{e}"),
            },
        }
    }
}

/// `nanos * 10^-9` as `mantissa * 10^exponent` with the exponent a multiple of 3 and as
/// large as possible without a fraction (apimachinery's `AsCanonicalBytes`).
fn decimal_canonical(nanos: i128) -> (i128, i32) {
    let mut mantissa = nanos;
    let mut exponent: i32 = -9;
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    while exponent.rem_euclid(3) != 0 {
        mantissa *= 10;
        exponent -= 1;
    }
    (mantissa, exponent)
}

fn decimal_si_suffix(exponent: i32) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Table figures

/// CPU for tables: `250m` below one core, exact cores above (`1`, `1.5`, `2.25`).
pub fn fmt_cpu(millis: i128) -> String {
    let sign = if millis < 0 { "-" } else { "" };
    let m = millis.unsigned_abs();
    if m < 1000 {
        return format!("{sign}{m}m");
    }
    let (whole, frac) = (m / 1000, m % 1000);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let frac = format!("{frac:03}");
        format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// Bytes for tables, like `kubectl top`: the largest binary unit that fits (`512Mi`), one
/// decimal below ten of a unit (`1.5Gi`), whole units above (`123Mi`); plain bytes below 1Ki.
/// Inexact values are rounded to the nearest figure shown.
pub fn fmt_bytes(bytes: i128) -> String {
    let sign = if bytes < 0 { "-" } else { "" };
    let b = bytes.unsigned_abs();
    let mut power = 0;
    while power < BINARY_SUFFIXES.len() && b >= 1u128 << (10 * (power + 1)) {
        power += 1;
    }
    if power == 0 {
        return format!("{sign}{b}");
    }
    let unit = 1u128 << (10 * power);
    if b.is_multiple_of(unit) {
        return format!("{sign}{}{}", b / unit, BINARY_SUFFIXES[power - 1]);
    }
    let tenths = (b * 10 + unit / 2) / unit;
    if tenths < 100 {
        let (whole, frac) = (tenths / 10, tenths % 10);
        return if frac == 0 {
            format!("{sign}{whole}{}", BINARY_SUFFIXES[power - 1])
        } else {
            format!("{sign}{whole}.{frac}{}", BINARY_SUFFIXES[power - 1])
        };
    }
    let whole = (b + unit / 2) / unit;
    if whole >= 1024 && power < BINARY_SUFFIXES.len() {
        return format!("{sign}1{}", BINARY_SUFFIXES[power]);
    }
    format!("{sign}{whole}{}", BINARY_SUFFIXES[power - 1])
}

// ---------------------------------------------------------------------------------------------
// Conversions

impl TryFrom<&K8sQuantity> for Quantity {
    type Error = QuantityError;

    /// Parses a quantity read from the API (surrounding whitespace is ignored, as the
    /// API server's JSON decoding does).
    fn try_from(q: &K8sQuantity) -> Result<Self, Self::Error> {
        q.0.trim().parse()
    }
}

impl TryFrom<K8sQuantity> for Quantity {
    type Error = QuantityError;

    fn try_from(q: K8sQuantity) -> Result<Self, Self::Error> {
        Quantity::try_from(&q)
    }
}

impl From<&Quantity> for K8sQuantity {
    fn from(q: &Quantity) -> Self {
        K8sQuantity(q.to_string())
    }
}

impl From<Quantity> for K8sQuantity {
    fn from(q: Quantity) -> Self {
        K8sQuantity(q.to_string())
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Quantity;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as \"500m\" or \"2Gi\"")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                v.trim().parse().map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::from_units(v, Format::DecimalSI))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                v.to_string().parse().map_err(E::custom)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                v.to_string().parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Quantity {
        s.parse()
            .unwrap_or_else(|e| panic!("{s} should parse: {e}"))
    }

    /// `mantissa * 10^exp` in nanos, as apimachinery's tests build expected values.
    fn dec(mantissa: i128, exp: i32) -> i128 {
        let shifted = exp + 9;
        if shifted >= 0 {
            mantissa * 10i128.pow(shifted as u32)
        } else {
            mantissa / 10i128.pow((-shifted) as u32)
        }
    }

    use Format::{BinarySI as B, DecimalExponent as X, DecimalSI as D};

    /// apimachinery quantity_test.go TestQuantityParse: value (mantissa, exponent) and format.
    const PARSE_TABLE: &[(&str, i128, i32, Format)] = &[
        ("0", 0, 0, D),
        ("0n", 0, 0, D),
        ("0u", 0, 0, D),
        ("0m", 0, 0, D),
        ("0Ki", 0, 0, B),
        ("0k", 0, 0, D),
        ("0Mi", 0, 0, B),
        ("0M", 0, 0, D),
        ("0Gi", 0, 0, B),
        ("0G", 0, 0, D),
        ("0Ti", 0, 0, B),
        ("0T", 0, 0, D),
        ("1", 1, 0, D),
        ("1Ki", 1024, 0, B),
        ("8Ki", 8 * 1024, 0, B),
        ("7Mi", 7 << 20, 0, B),
        ("6Gi", 6 << 30, 0, B),
        ("5Ti", 5 << 40, 0, B),
        ("4Pi", 4 << 50, 0, B),
        ("3Ei", 3 << 60, 0, B),
        ("10Ti", 10 << 40, 0, B),
        ("100Ti", 100 << 40, 0, B),
        ("5n", 5, -9, D),
        ("4u", 4, -6, D),
        ("3m", 3, -3, D),
        ("9", 9, 0, D),
        ("8k", 8, 3, D),
        ("50k", 5, 4, D),
        ("7M", 7, 6, D),
        ("6G", 6, 9, D),
        ("5T", 5, 12, D),
        ("40T", 4, 13, D),
        ("300T", 3, 14, D),
        ("2P", 2, 15, D),
        ("1E", 1, 18, D),
        ("1E-3", 1, -3, X),
        ("1e3", 1, 3, X),
        ("1E6", 1, 6, X),
        ("1e9", 1, 9, X),
        ("1E12", 1, 12, X),
        ("1e15", 1, 15, X),
        ("1E18", 1, 18, X),
        ("1e14", 1, 14, X),
        ("1e13", 1, 13, X),
        ("100.035k", 100035, 0, D),
        ("0.001", 1, -3, D),
        ("0.0005k", 5, -1, D),
        ("0.005", 5, -3, D),
        ("0.05", 5, -2, D),
        ("0.5", 5, -1, D),
        ("0.00050k", 5, -1, D),
        ("0.00500", 5, -3, D),
        ("0.05000", 5, -2, D),
        ("0.50000", 5, -1, D),
        ("0.5e0", 5, -1, X),
        ("0.5e-1", 5, -2, X),
        ("0.5e-2", 5, -3, X),
        ("10.035M", 10035, 3, D),
        ("1.2e3", 12, 2, X),
        ("1.3E+6", 13, 5, X),
        ("1.40e9", 14, 8, X),
        ("1.53E12", 153, 10, X),
        ("1.6e15", 16, 14, X),
        ("1.7E18", 17, 17, X),
        ("9.01", 901, -2, D),
        ("8.1k", 81, 2, D),
        ("7.123456M", 7123456, 0, D),
        ("6.987654321G", 6987654321, 0, D),
        ("5.444T", 5444, 9, D),
        ("40.1T", 401, 11, D),
        ("300.2T", 3002, 11, D),
        ("2.5P", 25, 14, D),
        ("1.01E", 101, 16, D),
        ("3.001n", 4, -9, D),
        ("1.1E-9", 2, -9, X),
        ("0.0000000001", 1, -9, D),
        ("0.0000000005", 1, -9, D),
        ("0.00000000050", 1, -9, D),
        ("0.5e-9", 1, -9, X),
        ("0.9n", 1, -9, D),
        ("0.00000012345", 124, -9, D),
        ("0.00000012354", 124, -9, D),
        ("9Ei", i64::MAX as i128, 0, B),
        ("9223372036854775807Ki", i64::MAX as i128, 0, B),
        ("12E", 12, 18, D),
        ("100.035Ki", 10243584, -2, B),
        ("0.5Mi", 524288, 0, B),
        ("0.05Gi", 536870912, -1, B),
        ("0.025Ti", 274877906944, -1, B),
        ("0.000000000001Ki", 2, -9, D),
        (".001", 1, -3, D),
        (".0001k", 100, -3, D),
        ("1.", 1, 0, D),
        ("1.G", 1, 9, D),
    ];

    #[test]
    fn parses_the_apimachinery_table_with_both_signs() {
        for &(input, mantissa, exp, format) in PARSE_TABLE {
            let want = dec(mantissa, exp);
            for (prefix, sign) in [("", 1), ("+", 1), ("-", -1)] {
                let text = format!("{prefix}{input}");
                let got = q(&text);
                assert_eq!(got.nanos(), sign * want, "{text}");
                assert_eq!(got.format(), format, "{text}");
            }
        }
    }

    #[test]
    fn rejects_what_kubernetes_rejects_and_digitless_input() {
        for bad in [
            "", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
            " 1", "1 ", "1.5.2Gi", "5MiB", "+-5Mi", "Mi", "1e", "1E+", "1K", "1Ki3", "--1", ".",
            "-", "1e3.5", "1 Gi", "１", "1é",
        ] {
            assert!(
                bad.parse::<Quantity>().is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn errors_are_one_clear_line() {
        let err = "5MiB".parse::<Quantity>().unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid quantity \"5MiB\": unknown suffix \"MiB\" (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent like e3)"
        );
        assert_eq!(
            "".parse::<Quantity>().unwrap_err().to_string(),
            "invalid quantity \"\": empty"
        );
        assert!("1e29".parse::<Quantity>().is_ok());
        assert_eq!(
            "1e30".parse::<Quantity>().unwrap_err().to_string(),
            "invalid quantity \"1e30\": too large"
        );
        let usage: crate::error::Error = "x".parse::<Quantity>().unwrap_err().into();
        assert_eq!(usage.exit_code(), 64);
    }

    /// apimachinery TestQuantityString: (mantissa, exponent, format) -> canonical, alternate.
    const STRING_TABLE: &[(i128, i32, Format, &str, &str)] = &[
        (1 << 30, 0, B, "1Gi", "1024Mi"),
        (300 << 20, 0, B, "300Mi", "307200Ki"),
        (6 * 1024, 0, B, "6Ki", ""),
        (1001 << 30, 0, B, "1001Gi", "1025024Mi"),
        (1 << 40, 0, B, "1Ti", "1024Gi"),
        (5, 0, B, "5", "5000m"),
        (500, -3, B, "500m", "0.5"),
        (1, 9, D, "1G", "1000M"),
        (1000, 6, D, "1G", "0.001T"),
        (1000000, 3, D, "1G", ""),
        (1000000000, 0, D, "1G", ""),
        (1, -3, D, "1m", "1000u"),
        (80, -3, D, "80m", ""),
        (1080, -3, D, "1080m", "1.08"),
        (108, -2, D, "1080m", "1080000000n"),
        (10800, -4, D, "1080m", ""),
        (300, 6, D, "300M", ""),
        (1, 12, D, "1T", ""),
        (1234567, 6, D, "1234567M", ""),
        (1234567, -3, B, "1234567m", ""),
        (3, 3, D, "3k", ""),
        (1025, 0, B, "1025", ""),
        (0, 0, D, "0", ""),
        (0, 0, B, "0", ""),
        (1, 9, X, "1e9", ".001e12"),
        (1, -3, X, "1e-3", "0.001e0"),
        (1, -9, X, "1e-9", "1000e-12"),
        (80, -3, X, "80e-3", ""),
        (300, 6, X, "300e6", ""),
        (1, 12, X, "1e12", ""),
        (1, 3, X, "1e3", ""),
        (3, 3, X, "3e3", ""),
        (3, 3, D, "3k", ""),
        (0, 0, X, "0", "00"),
        (1, -9, D, "1n", ""),
        (80, -9, D, "80n", ""),
        (1080, -9, D, "1080n", ""),
        (108, -8, D, "1080n", ""),
        (1, -6, D, "1u", ""),
        (80, -6, D, "80u", ""),
        (1080, -6, D, "1080u", ""),
    ];

    #[test]
    fn prints_the_apimachinery_canonical_forms() {
        for &(mantissa, exp, format, canonical, alternate) in STRING_TABLE {
            let value = Quantity {
                nanos: dec(mantissa, exp),
                format,
            };
            assert_eq!(value.to_string(), canonical, "{mantissa}e{exp} {format:?}");
            assert_eq!(q(canonical).to_string(), canonical);
            if !alternate.is_empty() {
                assert_eq!(q(alternate).to_string(), canonical, "{alternate}");
            }
            if mantissa != 0 {
                let negated = Quantity {
                    nanos: -value.nanos,
                    format,
                };
                assert_eq!(negated.to_string(), format!("-{canonical}"));
            }
        }
    }

    #[test]
    fn parse_then_print_as_kubernetes_does() {
        for (input, want) in [
            ("1Ki", "1Ki"),
            ("1Mi", "1Mi"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1000M", "1G"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5", "500m"),
            ("1000m", "1"),
            ("1024Ki", "1Mi"),
            ("2000Mi", "2000Mi"),
            ("1.1Ki", "1126400m"),
            ("1.2345", "1234500u"),
            ("12e-3", "12e-3"),
            ("1.5e3", "1500"),
            ("+1", "1"),
            ("1E3", "1e3"),
            ("-0", "0"),
            ("1000E", "1e21"),
            ("1023Ki", "1023Ki"),
            ("9Ei", "9223372036854775807"),
            ("-1Ki", "-1Ki"),
            ("0.5Ki", "512"),
        ] {
            assert_eq!(q(input).to_string(), want, "{input}");
        }
    }

    #[test]
    fn compares_by_value_whatever_the_format() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1e3"), q("1k"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("999m") < q("1"));
        assert!(q("-1") < q("0"));
        let mut set = std::collections::HashSet::new();
        set.insert(q("1Gi"));
        assert!(set.contains(&q("1024Mi")));
    }

    #[test]
    fn arithmetic_keeps_the_left_format_unless_zero() {
        let sum = q("1Gi").checked_add(&q("512Mi")).unwrap();
        assert_eq!(sum.to_string(), "1536Mi");
        let diff = q("1").checked_sub(&q("250m")).unwrap();
        assert_eq!(diff.to_string(), "750m");
        let from_zero = Quantity::ZERO.checked_add(&q("1Ki")).unwrap();
        assert_eq!(from_zero.format(), Format::BinarySI);
        assert_eq!(q("100m").checked_sub(&q("1")).unwrap().to_string(), "-900m");
        let huge = Quantity {
            nanos: i128::MAX,
            format: D,
        };
        assert!(huge.checked_add(&q("1n")).is_none());
    }

    #[test]
    fn scaling_rounds_up_to_the_resolution() {
        let f = |s: &str| s.parse::<Factor>().unwrap();
        let mem = |s: &str, by: &str| {
            q(s).checked_scale(&f(by), Resolution::Unit)
                .unwrap()
                .to_string()
        };
        let cpu = |s: &str, by: &str| {
            q(s).checked_scale(&f(by), Resolution::Milli)
                .unwrap()
                .to_string()
        };
        assert_eq!(mem("1Gi", "1.5"), "1536Mi");
        assert_eq!(mem("100Mi", "110%"), "110Mi");
        assert_eq!(mem("512Mi", "1.3"), "697932186");
        assert_eq!(mem("3", "0.5"), "2");
        assert_eq!(cpu("250m", "1.5"), "375m");
        assert_eq!(cpu("1", "0.3333"), "334m");
        assert_eq!(cpu("100m", "2"), "200m");
        assert_eq!(
            q("1.0000001")
                .checked_scale(&f("1"), Resolution::Nano)
                .unwrap(),
            q("1.0000001")
        );
    }

    #[test]
    fn factors_parse_decimals_and_percentages() {
        let f = |s: &str| s.parse::<Factor>();
        assert_eq!(f("1.5").unwrap(), Factor::new(15, 10).unwrap());
        assert_eq!(f("150%").unwrap().to_string(), "1.5");
        assert_eq!(f(".5").unwrap().to_string(), "0.5");
        assert_eq!(f("2").unwrap().to_string(), "2");
        assert_eq!(f("12.5%").unwrap().to_string(), "0.125");
        for bad in [
            "", "%", "150%%", "-1", "0", "0.0", "1.5.2", "x", "1e3", "+2",
        ] {
            assert!(f(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Factor::new(1, 3).unwrap().to_string(), "1/3");
    }

    #[test]
    fn conversions_round_up_away_from_zero() {
        assert_eq!(q("250m").to_millis(), 250);
        assert_eq!(q("1.5").to_millis(), 1500);
        assert_eq!(q("100u").to_millis(), 1);
        assert_eq!(q("-100u").to_millis(), -1);
        assert_eq!(q("1Gi").to_bytes(), 1 << 30);
        assert_eq!(q("1.5").to_bytes(), 2);
        assert_eq!(q("500m").as_f64(), 0.5);
        assert_eq!(Quantity::from_bytes(536870912).to_string(), "512Mi");
        // Below 1Ki a binary quantity prints as decimal, as in Kubernetes.
        assert_eq!(Quantity::from_bytes(1000).to_string(), "1k");
        assert_eq!(Quantity::from_millis(250).to_string(), "250m");
        assert_eq!(Quantity::from_millis(2000).to_string(), "2");
        assert_eq!(Quantity::from_units(3, D).to_string(), "3");
    }

    #[test]
    fn converts_to_and_from_k8s_openapi() {
        let api = K8sQuantity("1.5Gi".into());
        let parsed = Quantity::try_from(&api).unwrap();
        assert_eq!(K8sQuantity::from(parsed).0, "1536Mi");
        assert!(Quantity::try_from(K8sQuantity("lots".into())).is_err());
        assert_eq!(
            Quantity::try_from(K8sQuantity(" 2 ".into())).unwrap(),
            q("2")
        );
    }

    #[test]
    fn serde_uses_the_canonical_string() {
        let v: Quantity = serde_json::from_str("\"1024Mi\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1Gi\"");
        let n: Quantity = serde_json::from_str("2").unwrap();
        assert_eq!(n, q("2"));
        let f: Quantity = serde_json::from_str("0.5").unwrap();
        assert_eq!(f.to_string(), "500m");
        assert!(serde_json::from_str::<Quantity>("\"5MiB\"").is_err());
    }

    #[test]
    fn table_figures_read_like_kubectl() {
        assert_eq!(fmt_cpu(250), "250m");
        assert_eq!(fmt_cpu(0), "0m");
        assert_eq!(fmt_cpu(1000), "1");
        assert_eq!(fmt_cpu(1500), "1.5");
        assert_eq!(fmt_cpu(2250), "2.25");
        assert_eq!(fmt_cpu(-300), "-300m");
        assert_eq!(fmt_bytes(512), "512");
        assert_eq!(fmt_bytes(536870912), "512Mi");
        assert_eq!(fmt_bytes(3 << 29), "1.5Gi");
        assert_eq!(fmt_bytes(128 * 1024 * 1024 + 1), "128Mi");
        assert_eq!(fmt_bytes((1 << 30) - 1), "1Gi");
        assert_eq!(fmt_bytes(1536), "1.5Ki");
        assert_eq!(fmt_bytes(-(2 << 20)), "-2Mi");
    }

    fn any_format() -> impl Strategy<Value = Format> {
        prop_oneof![Just(B), Just(D), Just(X)]
    }

    fn any_quantity() -> impl Strategy<Value = Quantity> {
        let nanos = prop_oneof![
            -(10i128.pow(27))..10i128.pow(27),
            (-(1i128 << 40)..(1i128 << 40)).prop_map(|u| u * NANOS_PER_UNIT),
            (0i128..1024, 0u32..5).prop_map(|(m, p)| (m << (10 * p)) * NANOS_PER_UNIT),
            (-1000i128..1000, 0u32..19).prop_map(|(m, e)| m * 10i128.pow(e)),
        ];
        (nanos, any_format()).prop_map(|(nanos, format)| Quantity { nanos, format })
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_value(a in any_quantity()) {
            // Like Kubernetes, a BinarySI 10000 prints "10000" but reads back as DecimalSI
            // "10k": the value survives, and the second printing is stable.
            let text = a.to_string();
            let back = q(&text);
            prop_assert_eq!(back, a);
            let again = back.to_string();
            prop_assert_eq!(q(&again).to_string(), again);
        }

        #[test]
        fn add_then_sub_is_identity(a in any_quantity(), b in any_quantity()) {
            let round = a.checked_add(&b).and_then(|s| s.checked_sub(&b)).unwrap();
            prop_assert_eq!(round, a);
        }

        #[test]
        fn order_agrees_with_rounded_conversions(a in any_quantity(), b in any_quantity()) {
            if a <= b {
                prop_assert!(a.to_millis() <= b.to_millis());
                prop_assert!(a.to_bytes() <= b.to_bytes());
                prop_assert!(a.as_f64() <= b.as_f64());
            }
        }

        #[test]
        fn binary_suffixes_are_exact(n in 0i64..(1 << 20), p in 0usize..4) {
            let suffix = ["Ki", "Mi", "Gi", "Ti"][p];
            let parsed = q(&format!("{n}{suffix}"));
            prop_assert_eq!(parsed.to_bytes(), i128::from(n) << (10 * (p + 1)));
        }

        #[test]
        fn scaling_never_rounds_down(a in any_quantity(), num in 1u64..1000, den in 1u64..1000) {
            let factor = Factor::new(num, den).unwrap();
            let scaled = a.checked_scale(&factor, Resolution::Milli).unwrap();
            let exact = a.nanos() * i128::from(num);
            let got = scaled.nanos() * i128::from(den);
            if exact >= 0 { prop_assert!(got >= exact); } else { prop_assert!(got <= exact); }
            prop_assert_eq!(scaled.nanos() % NANOS_PER_MILLI, 0);
        }

        #[test]
        fn from_bytes_prints_binary_and_parses_back(b in 0i64..(1 << 50)) {
            let value = Quantity::from_bytes(b);
            prop_assert_eq!(q(&value.to_string()).to_bytes(), i128::from(b));
        }
    }
}
