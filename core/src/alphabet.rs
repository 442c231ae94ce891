//! Body alphabets (base62, base58, hex …) and uniform character drawing.

use serde::{Deserialize, Serialize};

/// Digits, then upper case, then lower case: the order GitHub's token checksum uses.
pub const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Bitcoin's base58 (no `0`, `O`, `I`, `l`), as used by Seam's prefixed-api-key.
pub const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Lower-case hexadecimal.
pub const HEX: &str = "0123456789abcdef";
/// Base36, lower case.
pub const BASE36: &str = "0123456789abcdefghijklmnopqrstuvwxyz";
/// RFC 4648 §5 base64url, unpadded (seed 002's client secrets).
pub const BASE64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Membership bitmaps (bit `c % 64` of word `c / 64`), built at compile time from the strings above.
// Only ever evaluated in `const` items: an out-of-range index would fail the build, never a run.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn bitmap(chars: &str) -> [u64; 4] {
    let bytes = chars.as_bytes();
    let mut out = [0u64; 4];
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        out[(c >> 6) as usize] |= 1u64 << (c & 63);
        i += 1;
    }
    out
}

const BASE62_SET: [u64; 4] = bitmap(BASE62);
const BASE58_SET: [u64; 4] = bitmap(BASE58);
const HEX_SET: [u64; 4] = bitmap(HEX);
const BASE36_SET: [u64; 4] = bitmap(BASE36);
const BASE64URL_SET: [u64; 4] = bitmap(BASE64URL);

/// The characters a key body is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Alphabet {
    /// `0-9A-Za-z`.
    Base62,
    /// Bitcoin base58.
    Base58,
    /// `0-9a-f`.
    Hex,
    /// `0-9a-z`.
    Base36,
    /// `A-Za-z0-9-_` (RFC 4648 base64url, no padding).
    Base64url,
}

/// Whether byte `c` is in a 256-bit membership set.
fn member(set: &[u64; 4], c: u8) -> bool {
    set.get(usize::from(c >> 6)).is_some_and(|word| word >> (c & 63) & 1 == 1)
}

impl Alphabet {
    /// The characters, in order.
    pub fn chars(self) -> &'static str {
        match self {
            Self::Base62 => BASE62,
            Self::Base58 => BASE58,
            Self::Hex => HEX,
            Self::Base36 => BASE36,
            Self::Base64url => BASE64URL,
        }
    }

    /// Number of characters.
    pub fn size(self) -> u32 {
        self.chars().len() as u32
    }

    /// Whether `c` belongs to the alphabet (a 256-bit membership table lookup).
    pub fn contains(self, c: u8) -> bool {
        member(self.set(), c)
    }

    /// Whether every byte of `text` belongs to the alphabet: one table, every
    /// byte looked at (no early exit, which keeps the loop branch-free).
    pub fn contains_all(self, text: &[u8]) -> bool {
        let set = self.set();
        text.iter().fold(true, |ok, &c| ok & member(set, c))
    }

    fn set(self) -> &'static [u64; 4] {
        match self {
            Self::Base62 => &BASE62_SET,
            Self::Base58 => &BASE58_SET,
            Self::Hex => &HEX_SET,
            Self::Base36 => &BASE36_SET,
            Self::Base64url => &BASE64URL_SET,
        }
    }

    /// Bits of entropy carried by `length` uniformly drawn characters.
    pub fn entropy_bits(self, length: usize) -> f64 {
        (self.size() as f64).log2() * length as f64
    }

    /// Draws `length` characters uniformly from a stream of random bytes, by
    /// rejection sampling so no character is more likely than another.
    pub fn draw(self, length: usize, stream: &mut impl Iterator<Item = u8>) -> Option<String> {
        let chars = self.chars().as_bytes();
        let size = chars.len();
        // Largest multiple of `size` that fits in a byte: bytes at or above it are rejected.
        let limit = 256usize.checked_rem(size).map(|r| 256usize.saturating_sub(r))?;
        let mut out = String::with_capacity(length);
        while out.len() < length {
            let byte = usize::from(stream.next()?);
            if byte < limit {
                out.push(char::from(*chars.get(byte.checked_rem(size)?)?));
            }
        }
        Some(out)
    }
}

/// Encodes `value` in base62 (GitHub alphabet), left-padded with `0` to `width`.
pub fn base62_fixed(mut value: u64, width: usize) -> String {
    let chars = BASE62.as_bytes();
    let mut digits = Vec::with_capacity(width);
    while value > 0 {
        let d = (value % 62) as usize;
        digits.push(chars.get(d).copied().unwrap_or(b'0'));
        value /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(Alphabet::Base62.size(), 62);
        assert_eq!(Alphabet::Base58.size(), 58);
        assert_eq!(Alphabet::Hex.size(), 16);
        assert_eq!(Alphabet::Base36.size(), 36);
        assert_eq!(Alphabet::Base64url.size(), 64);
        // Entropy per character is log2 of the alphabet size: 6 bits for base64url, 4 for hex.
        assert_eq!(Alphabet::Base64url.entropy_bits(64), 384.0);
        assert_eq!(Alphabet::Hex.entropy_bits(32), 128.0);
        assert!((Alphabet::Base62.entropy_bits(1) - 5.954_196_310_386_876).abs() < 1e-12);
        assert!((Alphabet::Base58.entropy_bits(1) - 5.857_980_995_127_572).abs() < 1e-12);
        assert!((Alphabet::Base36.entropy_bits(1) - 5.169_925_001_442_312).abs() < 1e-12);
        for a in [Alphabet::Base62, Alphabet::Base58, Alphabet::Hex, Alphabet::Base36, Alphabet::Base64url] {
            for c in a.chars().bytes() {
                assert!(a.contains(c));
            }
            let count = (0u8..=255).filter(|c| a.contains(*c)).count();
            assert_eq!(count as u32, a.size());
        }
    }

    #[test]
    fn draw_rejects_biased_bytes() {
        // 248 is the rejection limit for base62 (256 - 256 % 62): 250 is skipped.
        let mut bytes = [250u8, 0, 61, 62].into_iter();
        assert_eq!(Alphabet::Base62.draw(3, &mut bytes).as_deref(), Some("0z0"));
        assert_eq!(Alphabet::Base62.draw(2, &mut [1u8].into_iter()), None);
    }

    #[test]
    fn base62_known_values() {
        assert_eq!(base62_fixed(0, 6), "000000");
        assert_eq!(base62_fixed(61, 6), "00000z");
        assert_eq!(base62_fixed(62, 6), "000010");
        assert_eq!(base62_fixed(u64::from(u32::MAX), 6), "4gfFC3");
    }
}
