//! GitHub-style token checksums: CRC32 of the random part, as 6 base62 characters.

use serde::{Deserialize, Serialize};

use crate::alphabet::base62_fixed;

/// A checksum appended to the key body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Checksum {
    /// CRC32 (IEEE) of the random characters, base62-encoded and zero-padded to 6 characters.
    Crc32Base62,
}

impl Checksum {
    /// Number of characters the checksum occupies at the end of the body.
    pub fn len(self) -> usize {
        match self {
            Self::Crc32Base62 => 6,
        }
    }

    /// Always false: every checksum has characters.
    pub fn is_empty(self) -> bool {
        false
    }

    /// The checksum characters for `random_part`.
    pub fn compute(self, random_part: &str) -> String {
        match self {
            Self::Crc32Base62 => base62_fixed(u64::from(crc32fast::hash(random_part.as_bytes())), 6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        // CRC32("123456789") = 0xCBF43926 (the standard check value) = 3421780262.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        // Independently: python3 -c "import zlib; ..." base62 of 3421780262 = "3jZRME".
        assert_eq!(Checksum::Crc32Base62.compute("123456789"), "3jZRME");
        assert_eq!(Checksum::Crc32Base62.compute("123456789").len(), 6);
    }
}
