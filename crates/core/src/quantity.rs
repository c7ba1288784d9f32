//! Kubernetes resource quantities (`apimachinery/pkg/api/resource`), exact as Go.
//!
//! A [`Quantity`] is a fixed-point number that remembers the suffix style it was written in.
//! Like Go it has two representations: a fast `i64 × 10^scale` one and an exact big decimal
//! one that parsing falls back to when the fast one cannot hold the value. Observable results
//! (canonical strings, `Value`, `MilliValue`, comparisons) match Go byte for byte, including
//! Go's quirks: the parse-time string cache (`"010"` prints as `"010"`), rounding up to
//! nano-units, the `9Ei` cap, and the integer wrap-around of `Value` on overflow.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/api/resource/{quantity.go,amount.go,
//! scale_int.go,suffix.go,math.go}` and `gopkg.in/inf.v0/dec.go` (the big decimal).
//!
//! Known, deliberate difference: Go materialises every big-decimal rescale, so a sum such as
//! `1e2000000000 + 1` makes it allocate gigabytes. Here a rescale that would need more than
//! [`MAX_PAD_DIGITS`] zero digits is not performed: rounding keeps the (exact) value at its
//! current scale, and such a sum keeps the operand of larger magnitude.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// How a quantity prints itself (`resource.Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `e3`, `e6`, …
    DecimalExponent,
    /// `Ki`, `Mi`, …
    BinarySI,
    /// `m`, `k`, `M`, …
    DecimalSI,
}

impl Format {
    /// Go's string for the format (`"DecimalSI"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DecimalExponent => "DecimalExponent",
            Format::BinarySI => "BinarySI",
            Format::DecimalSI => "DecimalSI",
        }
    }
}

/// A parse failure, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    Format,
    /// `unable to parse quantity's suffix`
    #[error("unable to parse quantity's suffix")]
    Suffix,
    /// `numeric value too large`
    #[error("numeric value too large")]
    TooLarge,
    /// `unable to parse numeric part of quantity` (`ErrNumeric`).
    #[error("unable to parse numeric part of quantity")]
    Numeric,
}

/// Scale constants (`resource.Scale`): a quantity scaled by `10^scale`.
pub mod scale {
    /// `resource.Nano`
    pub const NANO: i32 = -9;
    /// `resource.Micro`
    pub const MICRO: i32 = -6;
    /// `resource.Milli`
    pub const MILLI: i32 = -3;
    /// `resource.Kilo`
    pub const KILO: i32 = 3;
    /// `resource.Mega`
    pub const MEGA: i32 = 6;
    /// `resource.Giga`
    pub const GIGA: i32 = 9;
    /// `resource.Tera`
    pub const TERA: i32 = 12;
    /// `resource.Peta`
    pub const PETA: i32 = 15;
    /// `resource.Exa`
    pub const EXA: i32 = 18;
}

/// The largest value whose milli-units fit an `i64` (`resource.MaxMilliValue`).
pub const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;

/// The most zero digits a big-decimal rescale may append (see the module docs).
pub const MAX_PAD_DIGITS: i64 = 1 << 16;

/// `maxInt64Factors` (math.go): the most decimal digits always representable in an `i64`.
const MAX_INT64_FACTORS: i64 = 18;

// ---------------------------------------------------------------------------------------------
// Decimal magnitudes: most-significant digit first, no leading zeros, empty means zero.
// ---------------------------------------------------------------------------------------------

mod mag {
    use std::cmp::Ordering;

    pub(super) fn from_u128(mut n: u128) -> Vec<u8> {
        let mut out = Vec::new();
        while n > 0 {
            out.push((n % 10) as u8);
            n /= 10;
        }
        out.reverse();
        out
    }

    pub(super) fn from_digits(s: &[u8]) -> Vec<u8> {
        let first = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
        s[first..].iter().map(|c| c - b'0').collect()
    }

    fn strip(mut v: Vec<u8>) -> Vec<u8> {
        let first = v.iter().position(|&d| d != 0).unwrap_or(v.len());
        v.drain(..first);
        v
    }

    pub(super) fn cmp(a: &[u8], b: &[u8]) -> Ordering {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    pub(super) fn add(a: &[u8], b: &[u8]) -> Vec<u8> {
        let n = a.len().max(b.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u8;
        for i in 0..n {
            let da = if i < a.len() { a[a.len() - 1 - i] } else { 0 };
            let db = if i < b.len() { b[b.len() - 1 - i] } else { 0 };
            let s = da + db + carry;
            out.push(s % 10);
            carry = s / 10;
        }
        if carry > 0 {
            out.push(carry);
        }
        out.reverse();
        strip(out)
    }

    /// `a - b` for `a >= b`.
    pub(super) fn sub(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(a.len());
        let mut borrow = 0i8;
        for i in 0..a.len() {
            let da = a[a.len() - 1 - i] as i8;
            let db = if i < b.len() {
                b[b.len() - 1 - i] as i8
            } else {
                0
            };
            let mut d = da - db - borrow;
            if d < 0 {
                d += 10;
                borrow = 1;
            } else {
                borrow = 0;
            }
            out.push(d as u8);
        }
        out.reverse();
        strip(out)
    }

    pub(super) fn mul_small(a: &[u8], m: u64) -> Vec<u8> {
        if a.is_empty() || m == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(a.len() + 20);
        let mut carry: u128 = 0;
        for &d in a.iter().rev() {
            let v = d as u128 * m as u128 + carry;
            out.push((v % 10) as u8);
            carry = v / 10;
        }
        while carry > 0 {
            out.push((carry % 10) as u8);
            carry /= 10;
        }
        out.reverse();
        out
    }

    /// Quotient and remainder of `a / d`, `d > 0`.
    pub(super) fn divrem_small(a: &[u8], d: u64) -> (Vec<u8>, u64) {
        let mut out = Vec::with_capacity(a.len());
        let mut rem: u128 = 0;
        for &digit in a {
            let cur = rem * 10 + digit as u128;
            out.push((cur / d as u128) as u8);
            rem = cur % d as u128;
        }
        (strip(out), rem as u64)
    }

    /// `a / 10^k` truncated, and whether the dropped part was non-zero.
    pub(super) fn split_pow10(a: &[u8], k: u64) -> (Vec<u8>, bool) {
        if k >= a.len() as u64 {
            return (Vec::new(), !a.is_empty());
        }
        let keep = a.len() - k as usize;
        let rem = a[keep..].iter().any(|&d| d != 0);
        (a[..keep].to_vec(), rem)
    }

    pub(super) fn trailing_zeros(a: &[u8]) -> usize {
        a.iter().rev().take_while(|&&d| d == 0).count()
    }

    /// The low 64 bits of the integer (what Go's `big.Int` keeps when it overflows `int64`).
    pub(super) fn low_u64(a: &[u8]) -> u64 {
        a.iter()
            .fold(0u64, |acc, &d| acc.wrapping_mul(10).wrapping_add(d as u64))
    }

    pub(super) fn to_u128(a: &[u8]) -> Option<u128> {
        let mut acc: u128 = 0;
        for &d in a {
            acc = acc.checked_mul(10)?.checked_add(d as u128)?;
        }
        Some(acc)
    }

    pub(super) fn to_string(a: &[u8]) -> String {
        if a.is_empty() {
            return "0".to_string();
        }
        a.iter().map(|&d| char::from(b'0' + d)).collect()
    }
}

/// An exact decimal `±digits × 10^(-scale)`, as `inf.Dec` (note the upside-down scale).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DecAmount {
    negative: bool,
    digits: Vec<u8>,
    scale: i32,
}

impl DecAmount {
    fn zero(scale: i32) -> Self {
        Self {
            negative: false,
            digits: Vec::new(),
            scale,
        }
    }

    fn from_i64(value: i64, scale: i32) -> Self {
        Self {
            negative: value < 0,
            digits: mag::from_u128(value.unsigned_abs() as u128),
            scale,
        }
    }

    /// `int64Amount.AsDec`: `value × 10^scale` with a resource scale.
    fn from_int(a: IntAmount) -> Self {
        Self::from_i64(a.value, a.scale.wrapping_neg())
    }

    /// `inf.Dec.SetString`: an optional leading sign, digits with at most one `.`, at least
    /// one digit, nothing else.
    fn parse_go(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let (negative, rest) = match b.first() {
            Some(b'-') => (true, &b[1..]),
            Some(b'+') => (false, &b[1..]),
            _ => (false, b),
        };
        let mut digits = Vec::with_capacity(rest.len());
        let mut dot: Option<usize> = None;
        for &c in rest {
            match c {
                b'.' if dot.is_none() => dot = Some(digits.len()),
                b'0'..=b'9' => digits.push(c),
                _ => return None,
            }
        }
        if digits.is_empty() {
            return None;
        }
        let scale = dot.map_or(0, |d| (digits.len() - d) as i32);
        let digits = mag::from_digits(&digits);
        Some(Self {
            negative: negative && !digits.is_empty(),
            digits,
            scale,
        })
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    fn sign(&self) -> i32 {
        if self.digits.is_empty() {
            0
        } else if self.negative {
            -1
        } else {
            1
        }
    }

    fn neg(&mut self) {
        self.negative = !self.negative && !self.digits.is_empty();
    }

    fn cmp_abs(&self, other: &Self) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Position of the leading digit: higher means larger magnitude.
        let lead_a = self.digits.len() as i64 - self.scale as i64;
        let lead_b = other.digits.len() as i64 - other.scale as i64;
        lead_a.cmp(&lead_b).then_with(|| {
            let n = self.digits.len().max(other.digits.len());
            (0..n)
                .map(|i| {
                    let da = self.digits.get(i).copied().unwrap_or(0);
                    let db = other.digits.get(i).copied().unwrap_or(0);
                    da.cmp(&db)
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    }

    /// `inf.Dec.Cmp`, computed without rescaling.
    fn cmp_value(&self, other: &Self) -> Ordering {
        let (sa, sb) = (self.sign(), other.sign());
        if sa != sb {
            return sa.cmp(&sb);
        }
        let abs = self.cmp_abs(other);
        if sa < 0 { abs.reverse() } else { abs }
    }

    /// The same value at a larger scale (more fraction digits), if the padding is bounded.
    fn rescaled_up(&self, new_scale: i32) -> Option<Self> {
        let shift = new_scale as i64 - self.scale as i64;
        if !(0..=MAX_PAD_DIGITS).contains(&shift) {
            return None;
        }
        let mut digits = self.digits.clone();
        if !digits.is_empty() {
            digits.resize(digits.len() + shift as usize, 0);
        }
        Some(Self {
            negative: self.negative,
            digits,
            scale: new_scale,
        })
    }

    /// `inf.Dec.Add` (the scale of the sum is the larger scale).
    fn add(&self, other: &Self) -> Self {
        let target = self.scale.max(other.scale);
        let (Some(a), Some(b)) = (self.rescaled_up(target), other.rescaled_up(target)) else {
            // Deliberate bound (module docs): keep the operand of larger magnitude.
            return if self.cmp_abs(other).is_ge() {
                self.clone()
            } else {
                other.clone()
            };
        };
        let (negative, digits) = if a.negative == b.negative {
            (a.negative, mag::add(&a.digits, &b.digits))
        } else {
            match mag::cmp(&a.digits, &b.digits) {
                Ordering::Equal => (false, Vec::new()),
                Ordering::Greater => (a.negative, mag::sub(&a.digits, &b.digits)),
                Ordering::Less => (b.negative, mag::sub(&b.digits, &a.digits)),
            }
        };
        Self {
            negative: negative && !digits.is_empty(),
            digits,
            scale: target,
        }
    }

    fn sub(&self, other: &Self) -> Self {
        let mut negated = other.clone();
        negated.neg();
        self.add(&negated)
    }

    /// `inf.Dec.Mul` by an integer (scale unchanged).
    fn mul_i64(&self, y: i64) -> Self {
        let digits = mag::mul_small(&self.digits, y.unsigned_abs());
        let negative = (self.negative != (y < 0)) && !digits.is_empty();
        Self {
            negative,
            digits,
            scale: self.scale,
        }
    }

    fn mul_u64(&self, y: u64) -> Self {
        let digits = mag::mul_small(&self.digits, y);
        Self {
            negative: self.negative && !digits.is_empty(),
            digits,
            scale: self.scale,
        }
    }

    /// `inf.Dec.Round(x, s, inf.RoundUp)`: to `s` fraction digits, away from zero.
    fn round_up(&self, s: i32) -> Self {
        let shift = s.wrapping_sub(self.scale);
        match shift.cmp(&0) {
            Ordering::Equal => self.clone(),
            Ordering::Greater => self.rescaled_up(s).unwrap_or_else(|| self.clone()),
            Ordering::Less => {
                let k = -(shift as i64) as u64;
                let (mut q, rem) = mag::split_pow10(&self.digits, k);
                if rem {
                    q = mag::add(&q, &[1]);
                }
                Self {
                    negative: self.negative && !q.is_empty(),
                    digits: q,
                    scale: s,
                }
            }
        }
    }

    /// `infDecAmount.AsScale`: rounded up to a resource scale, and whether that was exact.
    fn as_scale(&self, resource_scale: i32) -> (Self, bool) {
        let rounded = self.round_up(resource_scale.wrapping_neg());
        let exact = rounded.cmp_value(self) == Ordering::Equal;
        (rounded, exact)
    }

    fn signed_string(&self, digits: &[u8]) -> String {
        let body = mag::to_string(digits);
        if self.negative {
            format!("-{body}")
        } else {
            body
        }
    }

    /// `infDecAmount.AsCanonicalBytes`: mantissa and a base-10 exponent that is a multiple of 3.
    fn canonical(&self) -> (String, i32) {
        let mut exponent = self.scale.wrapping_neg();
        let tz = mag::trailing_zeros(&self.digits);
        let mut digits = self.digits[..self.digits.len() - tz].to_vec();
        exponent = exponent.wrapping_add(tz as i32);
        while exponent % 3 != 0 {
            if !digits.is_empty() {
                digits.push(0);
            }
            exponent = exponent.wrapping_sub(1);
        }
        (self.signed_string(&digits), exponent)
    }

    /// `infDecAmount.AsCanonicalBase1024Bytes`: mantissa and a base-1024 exponent. `None`
    /// when the integer part would need more than [`MAX_PAD_DIGITS`] digits.
    fn canonical_base1024(&self) -> Option<(String, i32)> {
        let rounded = self.round_up(0);
        if rounded.scale != 0 {
            return None;
        }
        let mut digits = rounded.digits.clone();
        let mut times = 0i32;
        while !digits.is_empty() {
            let (q, r) = mag::divrem_small(&digits, 1024);
            if r != 0 {
                break;
            }
            times += 1;
            digits = q;
        }
        Some((rounded.signed_string(&digits), times))
    }

    /// `big.Int.Int64` of the unscaled value: the low 64 bits, wrapping like Go.
    fn unscaled_low_i64(&self) -> i64 {
        let low = mag::low_u64(&self.digits) as i64;
        if self.negative {
            low.wrapping_neg()
        } else {
            low
        }
    }

    fn unscaled_is_i64(&self) -> bool {
        match mag::to_u128(&self.digits) {
            Some(v) if self.negative => v <= 1u128 << 63,
            Some(v) => v < 1u128 << 63,
            None => false,
        }
    }

    /// `scaledValue` (scale_int.go): `ceil(x × 10^newScale)` as an `i64`, with Go's overflow
    /// behaviour (wrapping; its fast path rounds negatives toward zero).
    fn scaled_value(&self, new_scale: i32) -> i64 {
        let dif = self.scale as i64 - new_scale as i64;
        let low = self.unscaled_low_i64();
        if dif == 0 {
            return low;
        }
        if dif < 0 {
            return low.wrapping_mul(go_f64_to_i64(go_pow10(-dif)));
        }
        let below_max =
            self.negative || mag::cmp(&self.digits, &mag::from_u128(i64::MAX as u128)).is_lt();
        if below_max && dif < 19 {
            let divide = 10i64.pow(dif as u32);
            let result = low / divide;
            if low % divide != 0 {
                return result.wrapping_add(1);
            }
            return result;
        }
        // big.Int.DivMod is Euclidean: the quotient is the floor for a positive divisor.
        let (q, rem) = mag::split_pow10(&self.digits, dif as u64);
        let quotient = if self.negative {
            let q = if rem { mag::add(&q, &[1]) } else { q };
            Self {
                negative: !q.is_empty(),
                digits: q,
                scale: 0,
            }
        } else {
            Self {
                negative: false,
                digits: q,
                scale: 0,
            }
        };
        let v = quotient.unscaled_low_i64();
        if rem { v.wrapping_add(1) } else { v }
    }

    fn approximate_f64(&self) -> f64 {
        let magnitude: f64 = mag::to_string(&self.digits)
            .parse()
            .unwrap_or(f64::INFINITY);
        let base = if self.negative { -magnitude } else { magnitude };
        let exponent = self.scale.wrapping_neg() as i64;
        if exponent == 0 {
            base
        } else {
            base * go_pow10(exponent)
        }
    }
}

/// Go's `math.Pow10`, with its exact table arithmetic.
fn go_pow10(n: i64) -> f64 {
    const TAB: [f64; 32] = [
        1e00, 1e01, 1e02, 1e03, 1e04, 1e05, 1e06, 1e07, 1e08, 1e09, 1e10, 1e11, 1e12, 1e13, 1e14,
        1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29,
        1e30, 1e31,
    ];
    const POS32: [f64; 10] = [
        1e00, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288,
    ];
    const NEG32: [f64; 11] = [
        1e-00, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320,
    ];
    if (0..=308).contains(&n) {
        return POS32[(n / 32) as usize] * TAB[(n % 32) as usize];
    }
    if (-323..=0).contains(&n) {
        let m = -n;
        return NEG32[(m / 32) as usize] / TAB[(m % 32) as usize];
    }
    if n > 0 { f64::INFINITY } else { 0.0 }
}

/// Go's `int64(f)` on amd64: out-of-range values become `math.MinInt64`.
fn go_f64_to_i64(f: f64) -> i64 {
    let two_63 = (1u64 << 63) as f64;
    if f.is_finite() && f > -two_63 && f < two_63 {
        f as i64
    } else {
        i64::MIN
    }
}

// ---------------------------------------------------------------------------------------------
// The int64 fast path (amount.go, math.go).
// ---------------------------------------------------------------------------------------------

/// `int64Amount`: `value × 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IntAmount {
    value: i64,
    scale: i32,
}

/// `int64Multiply`.
fn int64_multiply(a: i64, b: i64) -> Option<i64> {
    a.checked_mul(b)
}

/// `positiveScaleInt64`: `base × 10^scale`, `None` on overflow.
fn positive_scale_int64(base: i64, scale: i32) -> Option<i64> {
    if base == 0 {
        return Some(0);
    }
    let mut value = base;
    for _ in 0..scale {
        value = value.checked_mul(10)?;
    }
    Some(value)
}

/// `negativeScaleInt64`: `base / 10^scale` rounded away from zero, and whether it was exact.
fn negative_scale_int64(base: i64, scale: i32) -> (i64, bool) {
    if scale == 0 {
        return (base, true);
    }
    let mut value = base;
    let mut fraction = false;
    for _ in 0..scale {
        if !fraction && value % 10 != 0 {
            fraction = true;
        }
        value /= 10;
        if value == 0 {
            if fraction {
                return (if base > 0 { 1 } else { -1 }, false);
            }
            return (0, true);
        }
    }
    if fraction {
        value = if base > 0 { value + 1 } else { value - 1 };
    }
    (value, !fraction)
}

/// `removeInt64Factors`.
fn remove_int64_factors(value: i64, base: i64) -> (i64, i32) {
    let negative = value < 0;
    let mut result = value.wrapping_neg();
    if !negative {
        result = value;
    }
    let mut times = 0;
    while result >= base && result % base == 0 {
        times += 1;
        result /= base;
    }
    (
        if negative {
            result.wrapping_neg()
        } else {
            result
        },
        times,
    )
}

impl IntAmount {
    fn as_int64(self) -> Option<i64> {
        match self.scale.cmp(&0) {
            Ordering::Equal => Some(self.value),
            Ordering::Less => None,
            Ordering::Greater => positive_scale_int64(self.value, self.scale),
        }
    }

    /// `AsScaledInt64`: the value at `scale`, rounded up; `None` on overflow.
    fn as_scaled_int64(self, scale: i32) -> Option<i64> {
        if self.scale < scale {
            return Some(negative_scale_int64(self.value, scale.wrapping_sub(self.scale)).0);
        }
        positive_scale_int64(self.value, self.scale.wrapping_sub(scale))
    }

    fn cmp_value(self, other: Self) -> Ordering {
        if self.scale == other.scale {
            return self.value.cmp(&other.value);
        }
        let diff = self.scale as i64 - other.scale as i64;
        if diff.abs() <= 18 {
            let p = 10i128.pow(diff.unsigned_abs() as u32);
            let (a, b) = if diff > 0 {
                (self.value as i128 * p, other.value as i128)
            } else {
                (self.value as i128, other.value as i128 * p)
            };
            return a.cmp(&b);
        }
        DecAmount::from_int(self).cmp_value(&DecAmount::from_int(other))
    }

    /// `int64Amount.Add`; `false` (and `self` untouched) on overflow.
    fn add(&mut self, b: Self) -> bool {
        if b.value == 0 {
            return true;
        }
        if self.value == 0 {
            *self = b;
            return true;
        }
        match self.scale.cmp(&b.scale) {
            Ordering::Equal => match self.value.checked_add(b.value) {
                Some(c) => self.value = c,
                None => return false,
            },
            Ordering::Greater => {
                let Some(c) = positive_scale_int64(self.value, self.scale.wrapping_sub(b.scale))
                    .and_then(|c| c.checked_add(b.value))
                else {
                    return false;
                };
                *self = IntAmount {
                    value: c,
                    scale: b.scale,
                };
            }
            Ordering::Less => {
                let Some(c) = positive_scale_int64(b.value, b.scale.wrapping_sub(self.scale))
                    .and_then(|c| self.value.checked_add(c))
                else {
                    return false;
                };
                self.value = c;
            }
        }
        true
    }

    fn sub(&mut self, b: Self) -> bool {
        self.add(IntAmount {
            value: b.value.wrapping_neg(),
            scale: b.scale,
        })
    }

    /// `int64Amount.Mul`.
    fn mul(&mut self, b: i64) -> bool {
        if self.value == 0 {
            return true;
        }
        if b == 0 {
            *self = IntAmount { value: 0, scale: 0 };
            return true;
        }
        let Some(c) = int64_multiply(self.value, b) else {
            return false;
        };
        let fits = match self.scale.cmp(&0) {
            Ordering::Equal => true,
            Ordering::Greater => positive_scale_int64(c, self.scale).is_some(),
            // Go requires the product to divide exactly by 10^-scale here.
            Ordering::Less => negative_scale_int64(c, self.scale.wrapping_neg()).1,
        };
        if !fits {
            return false;
        }
        self.value = c;
        true
    }

    /// `int64Amount.AsScale`.
    fn as_scale(self, scale: i32) -> (Self, bool) {
        if self.scale >= scale {
            return (self, true);
        }
        let (value, exact) = negative_scale_int64(self.value, scale.wrapping_sub(self.scale));
        (IntAmount { value, scale }, exact)
    }

    /// `int64Amount.AsCanonicalBytes`.
    fn canonical(self) -> (String, i32) {
        let (mut amount, times) = remove_int64_factors(self.value, 10);
        let mut exponent = self.scale.wrapping_add(times);
        match exponent % 3 {
            1 | -2 => match amount.checked_mul(10) {
                Some(v) => {
                    amount = v;
                    exponent = exponent.wrapping_sub(1);
                }
                None => return DecAmount::from_int(self).canonical(),
            },
            2 | -1 => match amount.checked_mul(100) {
                Some(v) => {
                    amount = v;
                    exponent = exponent.wrapping_sub(2);
                }
                None => return DecAmount::from_int(self).canonical(),
            },
            _ => {}
        }
        (amount.to_string(), exponent)
    }

    /// `int64Amount.AsCanonicalBase1024Bytes`.
    fn canonical_base1024(self) -> Option<(String, i32)> {
        match self.as_scaled_int64(0) {
            Some(value) => {
                let (amount, exponent) = remove_int64_factors(value, 1024);
                Some((amount.to_string(), exponent))
            }
            None => DecAmount::from_int(self).canonical_base1024(),
        }
    }
}

#[derive(Debug, Clone)]
enum Amount {
    Int(IntAmount),
    Dec(DecAmount),
}

impl Amount {
    fn to_dec(&self) -> DecAmount {
        match self {
            Amount::Int(i) => DecAmount::from_int(*i),
            Amount::Dec(d) => d.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Suffixes (suffix.go).
// ---------------------------------------------------------------------------------------------

/// `quantitySuffixer.interpret`: base, exponent and format of a suffix.
fn interpret_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    let decimal = |e| Some((10, e, Format::DecimalSI));
    let binary = |e| Some((2, e, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            if rest.is_empty() {
                return None;
            }
            // strconv.ParseInt(…, 10, 64) then a truncating int32 conversion.
            let parsed: i64 = rest.parse().ok()?;
            Some((10, parsed as i32, Format::DecimalExponent))
        }
    }
}

/// `quantitySuffixer.constructBytes`; `""` where Go finds no suffix.
fn construct_suffix(base: u32, exponent: i32, format: Format) -> String {
    match format {
        Format::DecimalSI => match exponent {
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
        .to_string(),
        Format::BinarySI => match exponent {
            10 => "Ki",
            20 => "Mi",
            30 => "Gi",
            40 => "Ti",
            50 => "Pi",
            60 => "Ei",
            _ => "",
        }
        .to_string(),
        Format::DecimalExponent => {
            if base != 10 || exponent == 0 {
                String::new()
            } else {
                format!("e{exponent}")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing (quantity.go parseQuantityString / ParseQuantity).
// ---------------------------------------------------------------------------------------------

struct Scanned<'a> {
    positive: bool,
    value: &'a str,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

const SUFFIX_LETTERS: &[u8] = b"eEinumkKMGTP";

fn scan(s: &str) -> Result<Scanned<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    let mut out = Scanned {
        positive,
        value: "0",
        num: "0",
        denom: "",
        suffix: "",
    };
    // Leading zeros.
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(out);
    }
    // Numerator.
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        out.num = &s[num_start..];
        out.value = s;
        return Ok(out);
    }
    out.num = if pos == num_start {
        "0"
    } else {
        &s[num_start..pos]
    };
    // Denominator.
    if b[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos >= end {
            out.denom = &s[denom_start..];
            out.value = s;
            return Ok(out);
        }
        out.denom = &s[denom_start..pos];
    }
    out.value = &s[..pos];
    // Suffix: letters, an optional sign, digits.
    let suffix_start = pos;
    while pos < end && SUFFIX_LETTERS.contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        out.suffix = &s[suffix_start..];
        return Ok(out);
    }
    Err(QuantityError::Format)
}

/// A fixed-point number with a format, as `resource.Quantity`.
#[derive(Debug, Clone)]
pub struct Quantity {
    amount: Amount,
    format: Format,
    /// The string Go caches at parse time when the input is already canonical-looking.
    cached: Option<String>,
}

impl Default for Quantity {
    /// Zero, in `DecimalSI`.
    fn default() -> Self {
        Self::new_scaled(0, 0, Format::DecimalSI)
    }
}

impl Quantity {
    /// Parses a quantity string (`resource.ParseQuantity`).
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::Format);
        }
        if s == "0" {
            return Ok(Self {
                amount: Amount::Int(IntAmount { value: 0, scale: 0 }),
                format: Format::DecimalSI,
                cached: Some(s.to_string()),
            });
        }
        let sc = scan(s)?;
        let (base, exponent, mut format) =
            interpret_suffix(sc.suffix).ok_or(QuantityError::Suffix)?;

        let digits_len = sc.num.len() as i64 + sc.denom.len() as i64;
        let mut scale: i32 = 0;
        let mut mantissa: i64 = 1;
        let precision: i64 = match format {
            Format::DecimalExponent | Format::DecimalSI => {
                scale = exponent;
                MAX_INT64_FACTORS - digits_len
            }
            Format::BinarySI => {
                if exponent >= 0 && sc.denom.is_empty() {
                    mantissa <<= exponent;
                    // Go: 15 - len(num) - int32(float32(exponent)*3/10) - 1
                    15 - sc.num.len() as i64 - (exponent as f32 * 3.0 / 10.0) as i64 - 1
                } else {
                    -1
                }
            }
        };

        if precision >= 0 {
            scale = scale.wrapping_sub(sc.denom.len() as i32);
            if scale >= scale::NANO {
                let shifted = [sc.num, sc.denom].concat();
                let value: i64 = shifted.parse().map_err(|_| QuantityError::Numeric)?;
                if let Some(mut result) = int64_multiply(value, mantissa) {
                    if !sc.positive {
                        result = -result;
                    }
                    let canonical_input = match format {
                        Format::BinarySI => exponent % 10 == 0 && value & 0x07 != 0,
                        _ => {
                            scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0')
                        }
                    };
                    return Ok(Self {
                        amount: Amount::Int(IntAmount {
                            value: result,
                            scale,
                        }),
                        format,
                        cached: canonical_input.then(|| s.to_string()),
                    });
                }
            }
        }

        let mut amount = DecAmount::parse_go(sc.value).ok_or(QuantityError::Numeric)?;
        if base == 10 {
            amount.scale = amount.scale.wrapping_add(exponent.wrapping_neg());
        } else {
            amount = amount.mul_u64(1u64 << exponent);
        }
        let negative = amount.negative;
        amount.negative = false;
        // Round non-zero values up to a nano-unit: asking for some resource gets some.
        if !amount.is_zero() {
            amount = amount.round_up(-scale::NANO);
        }
        let max_allowed = DecAmount::from_i64(i64::MAX, 0);
        if format == Format::BinarySI && amount.cmp_value(&max_allowed).is_gt() {
            amount = max_allowed;
        }
        if format == Format::BinarySI
            && amount.cmp_value(&DecAmount::from_i64(1, 0)).is_lt()
            && amount.cmp_value(&DecAmount::zero(0)).is_gt()
        {
            format = Format::DecimalSI;
        }
        if negative {
            amount.neg();
        }
        Ok(Self {
            amount: Amount::Dec(amount),
            format,
            cached: None,
        })
    }

    /// A quantity of `value × 10^scale` in `format` (`resource.NewScaledQuantity` /
    /// `NewQuantity`).
    pub fn new_scaled(value: i64, scale: i32, format: Format) -> Self {
        Self {
            amount: Amount::Int(IntAmount { value, scale }),
            format,
            cached: None,
        }
    }

    /// `NewQuantity`: `value` units in `format`.
    pub fn new(value: i64, format: Format) -> Self {
        Self::new_scaled(value, 0, format)
    }

    /// `NewMilliQuantity`.
    pub fn from_milli(milli: i64, format: Format) -> Self {
        Self::new_scaled(milli, scale::MILLI, format)
    }

    /// The value rounded up to an integer (`Quantity.Value`). Like Go, wraps on overflow.
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// The value in thousandths, rounded up (`Quantity.MilliValue`). Like Go, may overflow:
    /// check `value() <= MAX_MILLI_VALUE` first if that matters.
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(scale::MILLI)
    }

    /// `ceil(self / 10^scale)` (`Quantity.ScaledValue`).
    pub fn scaled_value(&self, scale: i32) -> i64 {
        match &self.amount {
            Amount::Int(i) => i.as_scaled_int64(scale).unwrap_or(0),
            Amount::Dec(d) => d.scaled_value(scale.wrapping_neg()),
        }
    }

    /// The value as an `i64` when a fast exact conversion exists (`Quantity.AsInt64`).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.amount {
            Amount::Int(i) => i.as_int64(),
            Amount::Dec(_) => None,
        }
    }

    /// Whether the quantity is zero.
    pub fn is_zero(&self) -> bool {
        match &self.amount {
            Amount::Int(i) => i.value == 0,
            Amount::Dec(d) => d.is_zero(),
        }
    }

    /// -1, 0 or 1 (`Quantity.Sign`).
    pub fn sign(&self) -> i32 {
        match &self.amount {
            Amount::Int(i) => i.value.signum() as i32,
            Amount::Dec(d) => d.sign(),
        }
    }

    /// `self += other` (`Quantity.Add`). A zero `self` takes `other`'s format.
    pub fn add(&mut self, other: &Quantity) {
        self.cached = None;
        if let (Amount::Int(a), Amount::Int(b)) = (&mut self.amount, &other.amount) {
            if a.value == 0 {
                self.format = other.format;
            }
            if a.add(*b) {
                return;
            }
        } else if self.is_zero() {
            self.format = other.format;
        }
        self.amount = Amount::Dec(self.amount.to_dec().add(&other.amount.to_dec()));
    }

    /// `self -= other` (`Quantity.Sub`). A zero `self` takes `other`'s format.
    pub fn sub(&mut self, other: &Quantity) {
        self.cached = None;
        if self.is_zero() {
            self.format = other.format;
        }
        if let (Amount::Int(a), Amount::Int(b)) = (&mut self.amount, &other.amount)
            && a.sub(*b)
        {
            return;
        }
        self.amount = Amount::Dec(self.amount.to_dec().sub(&other.amount.to_dec()));
    }

    /// `self *= y` (`Quantity.Mul`); `false` when the exact result does not fit an `i64`.
    pub fn mul(&mut self, y: i64) -> bool {
        self.cached = None;
        if let Amount::Int(a) = &mut self.amount
            && a.mul(y)
        {
            return true;
        }
        let product = self.amount.to_dec().mul_i64(y);
        let fits = product.unscaled_is_i64();
        self.amount = Amount::Dec(product);
        fits
    }

    /// Negates the quantity (`Quantity.Neg`).
    pub fn neg(&mut self) {
        self.cached = None;
        match &mut self.amount {
            Amount::Int(i) => i.value = i.value.wrapping_neg(),
            Amount::Dec(d) => d.neg(),
        }
    }

    /// Rounds up (away from zero) to `scale`; `false` if precision was lost
    /// (`Quantity.RoundUp`).
    pub fn round_up(&mut self, scale: i32) -> bool {
        match &mut self.amount {
            Amount::Dec(d) => {
                self.cached = None;
                let (rounded, exact) = d.as_scale(scale);
                *d = rounded;
                exact
            }
            Amount::Int(i) => {
                if i.scale >= scale {
                    return true;
                }
                self.cached = None;
                let (rounded, exact) = i.as_scale(scale);
                *i = rounded;
                exact
            }
        }
    }

    /// Compares with an integer (`Quantity.CmpInt64`).
    pub fn cmp_i64(&self, y: i64) -> Ordering {
        match &self.amount {
            Amount::Int(i) => i.cmp_value(IntAmount { value: y, scale: 0 }),
            Amount::Dec(d) => d.cmp_value(&DecAmount::from_i64(y, 0)),
        }
    }

    /// The format the quantity prints in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Changes the print format (Go's exported `Format` field).
    pub fn set_format(&mut self, format: Format) {
        self.format = format;
        self.cached = None;
    }

    /// Moves the value to the exact big-decimal representation (`Quantity.ToDec`). Only Go's
    /// representation-dependent quirks (e.g. `Value` of large negatives) can observe this.
    pub fn to_dec(&mut self) {
        if let Amount::Int(i) = self.amount {
            self.amount = Amount::Dec(DecAmount::from_int(i));
        }
    }

    /// A float approximation (`Quantity.AsApproximateFloat64`); ±Inf out of range.
    pub fn as_approximate_f64(&self) -> f64 {
        match &self.amount {
            Amount::Int(i) => {
                let base = i.value as f64;
                if i.scale == 0 {
                    base
                } else {
                    base * go_pow10(i.scale as i64)
                }
            }
            Amount::Dec(d) => d.approximate_f64(),
        }
    }

    /// The canonical string (`CanonicalizeBytes`), ignoring the parse-time cache.
    pub fn canonical_string(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let mut format = self.format;
        let mut binary: Option<(String, i32)> = None;
        if format == Format::BinarySI {
            if self.cmp_i64(-1024).is_gt() && self.cmp_i64(1024).is_lt() {
                format = Format::DecimalSI;
            } else {
                let exact_base1024 = match &self.amount {
                    Amount::Int(i) => {
                        let (rounded, exact) = i.as_scale(0);
                        if exact {
                            rounded.canonical_base1024()
                        } else {
                            None
                        }
                    }
                    Amount::Dec(d) => {
                        let (rounded, exact) = d.as_scale(0);
                        if exact {
                            rounded.canonical_base1024()
                        } else {
                            None
                        }
                    }
                };
                match exact_base1024 {
                    Some(b) => binary = Some(b),
                    // Don't lose precision: show as DecimalSI.
                    None => format = Format::DecimalSI,
                }
            }
        }
        match (format, binary) {
            (Format::BinarySI, Some((number, exponent))) => {
                let suffix = construct_suffix(2, exponent.wrapping_mul(10), Format::BinarySI);
                format!("{number}{suffix}")
            }
            _ => {
                let (number, exponent) = match &self.amount {
                    Amount::Int(i) => i.canonical(),
                    Amount::Dec(d) => d.canonical(),
                };
                let suffix = construct_suffix(10, exponent, format);
                format!("{number}{suffix}")
            }
        }
    }

    /// The value as an upstream `k8s_openapi` quantity string.
    pub fn to_k8s(&self) -> k8s_openapi::apimachinery::pkg::api::resource::Quantity {
        k8s_openapi::apimachinery::pkg::api::resource::Quantity(self.to_string())
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Quantity {
    /// The canonical form (`Quantity.String`), or the input string Go keeps when it parsed an
    /// already canonical-looking quantity.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cached {
            Some(s) => f.write_str(s),
            None => f.write_str(&self.canonical_string()),
        }
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Quantity {}
impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Quantity {
    /// `Quantity.Cmp`.
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.amount, &other.amount) {
            (Amount::Int(a), Amount::Int(b)) => a.cmp_value(*b),
            (a, b) => a.to_dec().cmp_value(&b.to_dec()),
        }
    }
}

impl TryFrom<&k8s_openapi::apimachinery::pkg::api::resource::Quantity> for Quantity {
    type Error = QuantityError;
    fn try_from(
        q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
    ) -> Result<Self, Self::Error> {
        Self::parse(&q.0)
    }
}

impl serde::Serialize for Quantity {
    /// As the canonical string (`MarshalJSON`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    /// From a string (trimmed, as `UnmarshalJSON` does) or a number; `null` is zero.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;
        impl serde::de::Visitor<'_> for QuantityVisitor {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity string or number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v.trim()).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Quantity, E> {
                Ok(Quantity::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Quantity, E> {
                Ok(Quantity::default())
            }
        }
        deserializer.deserialize_any(QuantityVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream: quantity_test.go TestParseQuantityString.
    #[test]
    fn scanner_splits_like_go() {
        let cases = [
            ("0.025Ti", true, "0.025", "0", "025", "Ti"),
            ("1.025Ti", true, "1.025", "1", "025", "Ti"),
            ("-1.025Ti", false, "-1.025", "1", "025", "Ti"),
            (".", true, ".", "0", "", ""),
            ("-.", false, "-.", "0", "", ""),
            ("1E-3", true, "1", "1", "", "E-3"),
        ];
        for (input, positive, value, num, denom, suffix) in cases {
            let Ok(sc) = scan(input) else {
                panic!("{input}: scan failed")
            };
            assert_eq!(
                (sc.positive, sc.value, sc.num, sc.denom, sc.suffix),
                (positive, value, num, denom, suffix),
                "{input}"
            );
        }
    }

    /// Upstream: amount_test.go TestInt64AsCanonicalString.
    #[test]
    fn int_canonical() {
        for (value, scale, result, exponent) in [
            (100, 0, "100", 0),
            (100, 1, "1", 3),
            (100, -1, "10", 0),
            (10800, -10, "1080", -9),
        ] {
            assert_eq!(
                IntAmount { value, scale }.canonical(),
                (result.to_string(), exponent)
            );
        }
    }

    /// Upstream: amount_test.go TestInt64AmountAsScaledInt64 and TestInt64AmountAsInt64.
    #[test]
    fn int_scaled() {
        let cases = [
            (100, 0, 5, Some(1)),
            (100, 1, 1, Some(100)),
            (100, 5, 2, Some(100000)),
            (876, 30, 4, None),
            (93, -1, 0, Some(10)),
            (100, -1, 0, Some(10)),
            (-1932, 2, 4, Some(-20)),
            (-1900, 2, 4, Some(-19)),
        ];
        for (value, scale, to, want) in cases {
            assert_eq!(
                IntAmount { value, scale }.as_scaled_int64(to),
                want,
                "{value} {scale} {to}"
            );
        }
        for (value, scale, want) in [
            (100, 0, Some(100)),
            (100, 1, Some(1000)),
            (100, -5, None),
            (100, 100, None),
        ] {
            assert_eq!(IntAmount { value, scale }.as_int64(), want);
        }
    }

    /// Upstream: amount_test.go TestInt64AmountAdd.
    #[test]
    fn int_add() {
        let a = |value, scale| IntAmount { value, scale };
        let mp = i64::MAX;
        let cases = [
            (a(100, 1), a(10, 2), Some(a(200, 1))),
            (a(100, 1), a(1, 2), Some(a(110, 1))),
            (a(100, 1), a(1, 100), None),
            (a(-5, 2), a(50, 1), Some(a(0, 1))),
            (a(-5, 2), a(5, 2), Some(a(0, 2))),
            (a(mp, -1), a(1, -1), None),
            (a(mp, -1), a(0, -1), Some(a(mp, -1))),
            (a(mp / 10, 1), a(10, 0), None),
        ];
        for (x, y, want) in cases {
            for (p, q) in [(x, y), (y, x)] {
                let mut c = p;
                let ok = c.add(q);
                assert_eq!(ok, want.is_some(), "{p:?}+{q:?}");
                match want {
                    Some(w) => assert_eq!(c, w, "{p:?}+{q:?}"),
                    None => assert_eq!(c, p),
                }
            }
        }
    }

    /// Upstream: amount_test.go TestInt64AmountMul.
    #[test]
    fn int_mul() {
        let a = |value, scale| IntAmount { value, scale };
        let (mp, mn) = (i64::MAX, i64::MIN);
        let cases = [
            (a(100, 1), 1000, Some(a(100000, 1))),
            (a(100, -1), 1000, Some(a(100000, -1))),
            (a(1, 100), 10, None),
            (a(1, -100), 10, None),
            (a(-5, 2), 500, Some(a(-2500, 2))),
            (a(-5, -2), 500, Some(a(-2500, -2))),
            (a(0, 1), 0, Some(a(0, 1))),
            (a(mp, -1), 10, None),
            (a(mp, -1), 0, Some(a(0, 0))),
            (a(mp, 0), 1, Some(a(mp, 0))),
            (a(mp / 10, 1), 10, None),
            (a(mp, 0), -1, Some(a(-mp, 0))),
            (a(mn, 0), 1, Some(a(mn, 0))),
            (a(mn, 1), 0, Some(a(0, 0))),
            (a(mn, 1), 1, None),
        ];
        for (x, y, want) in cases {
            let mut c = x;
            let ok = c.mul(y);
            assert_eq!(ok, want.is_some(), "{x:?}*{y}");
            assert_eq!(c, want.unwrap_or(x));
        }
    }

    /// Upstream: math_test.go TestNegativeScaleInt64 / TestRemoveInt64Factors (selected).
    #[test]
    fn math_helpers() {
        assert_eq!(negative_scale_int64(1234, 2), (13, false));
        assert_eq!(negative_scale_int64(-1234, 2), (-13, false));
        assert_eq!(negative_scale_int64(1200, 2), (12, true));
        assert_eq!(negative_scale_int64(5, 3), (1, false));
        assert_eq!(negative_scale_int64(0, 3), (0, true));
        assert_eq!(remove_int64_factors(1000, 10), (1, 3));
        assert_eq!(remove_int64_factors(-1000, 10), (-1, 3));
        assert_eq!(remove_int64_factors(i64::MIN, 10), (i64::MIN, 0));
        assert_eq!(remove_int64_factors(2048, 1024), (2, 1));
    }

    /// Upstream: scale_int_test.go TestScaledValueInternal.
    #[test]
    fn dec_scaled_value() {
        let d = |digits: &str, scale: i32| {
            let Some(mut v) = DecAmount::parse_go(digits) else {
                panic!("{digits}")
            };
            v.scale = scale;
            v
        };
        let big100 = format!("1{}", "0".repeat(100));
        let cases = [
            (d("1000", 0), 0, 1000),
            (d("1000", 0), -3, 1),
            (d("1000", 3), 0, 1),
            (d("0", 3), 0, 0),
            (d("999", 3), 0, 1),
            (d("500", 3), 0, 1),
            (d("499", 3), 0, 1),
            (d("1", 3), 0, 1),
            (
                d(&(i64::MAX - 1).to_string(), 1),
                0,
                (i64::MAX - 1) / 10 + 1,
            ),
            (d(&big100, 100), 0, 1),
            (d("0", 0), 3, 0),
            (d("1", 0), 3, 1000),
            (d("1", -3), 0, 1000),
            (d("1000", -3), 2, 100000000),
            (
                d(&(i64::MAX / 1000).to_string(), 0),
                3,
                (i64::MAX / 1000) * 1000,
            ),
        ];
        for (x, new_scale, want) in cases {
            assert_eq!(x.scaled_value(new_scale), want, "{x:?} -> {new_scale}");
        }
    }
}
