//! Storage hashes tagged with their algorithm (`sha256:…`, `hmac-sha256:…`,
//! `seam-sha256:…`), constant-time verification, rehash hints and fingerprints.
//!
//! Keys carry ≥ 128 bits of entropy, so a fast hash is right: slow password
//! hashing would only add latency (djangorestframework-api-key reached the same
//! conclusion). A server-side pepper (HMAC) makes a stolen table useless alone.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::format::{KeyFormat, Layout};
use crate::parse::ParsedKey;
use crate::secret::ct_eq;

/// Shortest pepper accepted for HMAC hashing.
pub const MIN_PEPPER_BYTES: usize = 16;

/// A storage hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 of the whole key (Unkey's choice).
    #[serde(rename = "sha256")]
    Sha256,
    /// HMAC-SHA256 of the whole key with a server-side pepper.
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    /// SHA-256 of Seam's long token only, hex: what `prefixed-api-key` stores.
    #[serde(rename = "seam-sha256")]
    SeamSha256,
}

impl HashAlgorithm {
    /// The tag written before the hex digest.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::HmacSha256 => "hmac-sha256",
            Self::SeamSha256 => "seam-sha256",
        }
    }

    /// Parses a tag, with the error a caller should report.
    pub fn parse(tag: &str) -> Result<Self> {
        Self::from_tag(tag).ok_or_else(|| {
            Error::new(ErrorKind::InvalidHash, "hash algorithms are sha256, hmac-sha256 and seam-sha256")
        })
    }

    /// Parses a tag.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "sha256" => Some(Self::Sha256),
            "hmac-sha256" => Some(Self::HmacSha256),
            "seam-sha256" => Some(Self::SeamSha256),
            _ => None,
        }
    }
}

/// A parsed `algorithm:hex` storage hash.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StoredHash {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// The 32-byte digest.
    pub digest: [u8; 32],
}

impl StoredHash {
    /// Parses `algorithm:64-hex-chars`.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || Error::new(ErrorKind::InvalidHash, "stored hashes look like 'sha256:<64 hex characters>'");
        let (tag, hex_digest) = text.split_once(':').ok_or_else(invalid)?;
        let algorithm = HashAlgorithm::from_tag(tag)
            .ok_or_else(|| Error::new(ErrorKind::InvalidHash, "unknown hash algorithm tag"))?;
        let mut digest = [0u8; 32];
        if hex_digest.len() != 64 || hex_digest.bytes().any(|c| c.is_ascii_uppercase()) {
            return Err(invalid());
        }
        hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| invalid())?;
        Ok(Self { algorithm, digest })
    }
}

impl StoredHash {
    /// The `algorithm:hex` text, built without formatting machinery (it is on the hot path).
    pub fn to_tagged(&self) -> String {
        let tag = self.algorithm.tag();
        let mut hex = [0u8; 64];
        for (pair, b) in hex.chunks_exact_mut(2).zip(self.digest) {
            if let [hi, lo] = pair {
                *hi = nibble(b >> 4);
                *lo = nibble(b & 0x0f);
            }
        }
        let mut out = String::with_capacity(tag.len().saturating_add(65));
        out.push_str(tag);
        out.push(':');
        out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
        out
    }
}

/// The lowercase hex digit of a nibble (0–15), read from a table: no branch per digit.
fn nibble(n: u8) -> u8 {
    b"0123456789abcdef".get(usize::from(n)).copied().unwrap_or(b'0')
}

impl fmt::Display for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_tagged())
    }
}

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredHash({}:<redacted>)", self.algorithm.tag())
    }
}

/// Result of checking a key against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCheck {
    /// The key matches.
    pub matched: bool,
    /// The record uses another algorithm than the one configured: store a new hash.
    pub should_rehash: bool,
}

/// Hashes keys for storage and lookup.
#[derive(Clone)]
pub struct Hasher {
    default: HashAlgorithm,
    hmac: Option<Hmac<Sha256>>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("default", &self.default)
            .field("pepper", &self.hmac.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self { default: HashAlgorithm::Sha256, hmac: None }
    }
}

impl Hasher {
    /// A hasher with `default` for new records. `pepper` (≥ 16 bytes) enables HMAC.
    pub fn new(default: HashAlgorithm, pepper: Option<&[u8]>) -> Result<Self> {
        let hmac = match pepper {
            Some(p) if p.len() < MIN_PEPPER_BYTES => {
                return Err(Error::new(
                    ErrorKind::MissingPepper,
                    format!("the pepper must be at least {MIN_PEPPER_BYTES} bytes"),
                ))
            }
            Some(p) => Some(
                Hmac::<Sha256>::new_from_slice(p)
                    .map_err(|_| Error::new(ErrorKind::MissingPepper, "unusable pepper"))?,
            ),
            None => None,
        };
        match default {
            HashAlgorithm::HmacSha256 if hmac.is_none() => {
                Err(Error::new(ErrorKind::MissingPepper, "hmac-sha256 needs a pepper"))
            }
            HashAlgorithm::SeamSha256 => Err(Error::new(
                ErrorKind::InvalidHash,
                "seam-sha256 is chosen per format (layout seam), not as the default",
            )),
            _ => Ok(Self { default, hmac }),
        }
    }

    /// Whether a pepper is configured (HMAC available).
    pub fn has_pepper(&self) -> bool {
        self.hmac.is_some()
    }

    /// The engine-wide default algorithm.
    pub fn default_algorithm(&self) -> HashAlgorithm {
        self.default
    }

    /// The algorithm new records of `format` use.
    pub fn algorithm_for(&self, format: &KeyFormat) -> HashAlgorithm {
        format.hash.unwrap_or(self.default)
    }

    fn digest(&self, algorithm: HashAlgorithm, key: &ParsedKey) -> Result<[u8; 32]> {
        match algorithm {
            HashAlgorithm::Sha256 => Ok(Sha256::digest(key.key().expose().as_bytes()).into()),
            HashAlgorithm::HmacSha256 => {
                let mut mac = self
                    .hmac
                    .clone()
                    .ok_or_else(|| Error::new(ErrorKind::MissingPepper, "hmac-sha256 records need the pepper"))?;
                mac.update(key.key().expose().as_bytes());
                Ok(mac.finalize().into_bytes().into())
            }
            HashAlgorithm::SeamSha256 => {
                if key.secret_part().len() == key.key().len() {
                    return Err(Error::new(ErrorKind::InvalidHash, "seam-sha256 applies to seam-layout keys only"));
                }
                Ok(Sha256::digest(key.secret_part().as_bytes()).into())
            }
        }
    }

    /// The tagged hash with an explicit algorithm.
    pub fn hash_with(&self, algorithm: HashAlgorithm, key: &ParsedKey) -> Result<String> {
        Ok(StoredHash { algorithm, digest: self.digest(algorithm, key)? }.to_tagged())
    }

    /// The tagged hash a new record of this key's format stores.
    pub fn hash(&self, format: &KeyFormat, key: &ParsedKey) -> Result<String> {
        self.hash_with(self.algorithm_for(format), key)
    }

    /// Every hash a store may hold this key under, the preferred one first, so
    /// records made before an algorithm change are still found.
    pub fn lookup_hashes(&self, format: &KeyFormat, key: &ParsedKey) -> Vec<String> {
        let preferred = self.algorithm_for(format);
        let usable = |alt: &HashAlgorithm| match alt {
            HashAlgorithm::HmacSha256 => self.hmac.is_some(),
            HashAlgorithm::SeamSha256 => format.layout == Layout::Seam,
            HashAlgorithm::Sha256 => true,
        };
        // A plain loop, not an iterator chain: its speed then does not hang on
        // how the caller happens to be inlined (one hash is the common case).
        let mut hashes = Vec::with_capacity(1);
        hashes.extend(self.hash_with(preferred, key).ok());
        for alt in [HashAlgorithm::HmacSha256, HashAlgorithm::Sha256, HashAlgorithm::SeamSha256] {
            if alt != preferred && usable(&alt) {
                hashes.extend(self.hash_with(alt, key).ok());
            }
        }
        hashes
    }

    /// Checks `key` against a stored hash in constant time.
    pub fn verify(&self, format: &KeyFormat, key: &ParsedKey, stored: &str) -> Result<HashCheck> {
        let stored = StoredHash::parse(stored)?;
        let digest = self.digest(stored.algorithm, key)?;
        Ok(HashCheck {
            matched: ct_eq(&digest, &stored.digest),
            should_rehash: stored.algorithm != self.algorithm_for(format),
        })
    }
}

impl Hasher {
    /// Like [`Hasher::verify`], but reuses hashes already computed for lookup
    /// (see [`Hasher::lookup_hashes`]) so a request is hashed once, not twice.
    pub fn verify_precomputed(
        &self,
        format: &KeyFormat,
        key: &ParsedKey,
        precomputed: &[String],
        stored: &str,
    ) -> Result<HashCheck> {
        // A byte search: `split_once(':')` calls `memcmp` for each candidate.
        let tag = stored
            .bytes()
            .position(|c| c == b':')
            .and_then(|at| stored.get(..at))
            .ok_or_else(|| Error::new(ErrorKind::InvalidHash, "stored hash has no algorithm tag"))?;
        let algorithm = HashAlgorithm::from_tag(tag)
            .ok_or_else(|| Error::new(ErrorKind::InvalidHash, "unknown hash algorithm tag"))?;
        let tagged = |h: &&String| h.as_bytes().get(tag.len()) == Some(&b':') && h.starts_with(tag);
        let same_algorithm = precomputed.iter().find(tagged);
        match same_algorithm {
            // Equal strings mean a well-formed stored hash; unequal ones are a mismatch either way.
            Some(h) => Ok(HashCheck {
                matched: ct_eq(h.as_bytes(), stored.as_bytes()),
                should_rehash: algorithm != self.algorithm_for(format),
            }),
            None => self.verify(format, key, stored),
        }
    }
}

/// A short, stable, non-secret identifier derived from a stored hash (seed 004).
/// It reveals nothing usable about the key: it is a hash of the hash.
pub fn fingerprint(stored_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"keyproof/fingerprint/v1\0");
    h.update(stored_hash.as_bytes());
    let digest = h.finalize();
    format!("fp_{}", hex::encode(digest.get(..8).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_round_trips_and_rejects_garbage() {
        let text = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(StoredHash::parse(&text).map(|h| h.to_string()).ok(), Some(text));
        for bad in ["", "sha256", "md5:00", "sha256:zz", &format!("sha256:{}", "AB".repeat(32))] {
            assert_eq!(StoredHash::parse(bad).err().map(|e| e.kind()), Some(ErrorKind::InvalidHash), "{bad}");
        }
    }

    #[test]
    fn hmac_needs_a_long_pepper() {
        assert_eq!(
            Hasher::new(HashAlgorithm::HmacSha256, None).err().map(|e| e.kind()),
            Some(ErrorKind::MissingPepper)
        );
        assert_eq!(
            Hasher::new(HashAlgorithm::Sha256, Some(b"short")).err().map(|e| e.kind()),
            Some(ErrorKind::MissingPepper)
        );
        let h = Hasher::new(HashAlgorithm::HmacSha256, Some(&[1; 32]));
        assert!(h.is_ok());
        assert!(!format!("{h:?}").contains("[1"));
    }

    #[test]
    fn fingerprint_is_short_and_stable() {
        let a = fingerprint("sha256:00");
        assert_eq!(a, fingerprint("sha256:00"));
        assert_ne!(a, fingerprint("sha256:01"));
        assert_eq!(a.len(), 3 + 16);
    }
}
