//! Injected randomness: a small seeded generator (SplitMix64) so that every random draw is
//! reproducible from a seed. Used for UIDs, `generateName` suffixes and scheduler tie-breaks.

use std::sync::Mutex;

/// A deterministic pseudo-random generator (SplitMix64; Steele, Lea and Flood 2014).
#[derive(Debug, Clone)]
pub struct DetRng {
    state: u64,
}

impl DetRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (`n > 0`), without modulo bias (Lemire's method).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no answer");
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            let low = product as u64;
            if low >= n.wrapping_neg() % n {
                return (product >> 64) as u64;
            }
        }
    }

    /// A random RFC 4122 version-4 UUID in its canonical text form, as Kubernetes uses for `metadata.uid`.
    pub fn uuid_v4(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hi.to_be_bytes());
        bytes[8..].copy_from_slice(&lo.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        // Written digit by digit: formatting each byte through `format!` cost ten times more,
        // and every created object (events included) draws a uid.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(36);
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                text.push('-');
            }
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        text
    }

    /// `n` characters from the alphabet Kubernetes uses for generated names
    /// (`apimachinery/pkg/util/rand/rand.go`: consonants and digits without look-alikes).
    pub fn name_suffix(&mut self, n: usize) -> String {
        const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| ALPHANUMS[self.below(ALPHANUMS.len() as u64) as usize] as char)
            .collect()
    }
}

/// A [`DetRng`] shared between threads.
#[derive(Debug)]
pub struct SharedRng(Mutex<DetRng>);

impl SharedRng {
    /// A shared generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(DetRng::new(seed)))
    }

    /// Runs `f` with exclusive access to the generator.
    pub fn with<T>(&self, f: impl FnOnce(&mut DetRng) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = DetRng::new(7);
        let mut b = DetRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(DetRng::new(1).next_u64(), DetRng::new(2).next_u64());
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let id = DetRng::new(1).uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn uuid_text_is_the_canonical_form_of_the_drawn_bits() {
        for seed in [1, 7, 42, u64::MAX] {
            let mut bits = DetRng::new(seed);
            let drawn = (u128::from(bits.next_u64()) << 64) | u128::from(bits.next_u64());
            let versioned = (drawn & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
            let hex = format!("{versioned:032x}");
            let canonical = format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            );
            assert_eq!(DetRng::new(seed).uuid_v4(), canonical);
        }
    }

    #[test]
    fn name_suffix_uses_kubernetes_alphabet() {
        let s = DetRng::new(3).name_suffix(5);
        assert_eq!(s.len(), 5);
        assert!(s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = DetRng::new(9);
        for n in 1..50 {
            assert!(r.below(n) < n);
        }
    }
}
