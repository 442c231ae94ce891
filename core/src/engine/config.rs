//! What an engine is built from: formats (preset ids or full definitions),
//! hashing and the policy, as one document.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::format::KeyFormat;
use crate::hash::HashAlgorithm;
use crate::policy::Policy;

/// A format given by preset id or in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum FormatRef {
    /// A preset id such as `tmmate_prod`.
    Preset(String),
    /// A full format definition.
    Custom(KeyFormat),
}

/// How records are hashed. `Debug` hides the pepper.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HashingConfig {
    /// Algorithm for new records.
    #[serde(default = "default_algorithm")]
    pub algorithm: HashAlgorithm,
    /// HMAC pepper as hex (≥ 16 bytes). Prefer passing it programmatically from a secret store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pepper_hex: Option<String>,
}

impl std::fmt::Debug for HashingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingConfig")
            .field("algorithm", &self.algorithm)
            .field("pepper_hex", &self.pepper_hex.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn default_algorithm() -> HashAlgorithm {
    HashAlgorithm::Sha256
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self { algorithm: HashAlgorithm::Sha256, pepper_hex: None }
    }
}

/// Everything an engine is built from, as one JSON document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// The JSON Schema the document follows (ignored; lets editors autocomplete).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Accepted key formats.
    pub formats: Vec<FormatRef>,
    /// Hashing.
    #[serde(default)]
    pub hashing: HashingConfig,
    /// The policy.
    #[serde(default)]
    pub policy: Policy,
    /// Access tokens: issuer, audience, lifetimes, `confirm_record` and keys (JWK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<crate::token::TokenConfig>,
    /// Keep looked-up records for a while (`ttl_seconds` …), so the store sees one
    /// lookup per key and period instead of one per request. Absent: no cache.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::cache::deserialize_config")]
    pub record_cache: Option<crate::cache::CacheConfig>,
}

impl crate::load::Load for EngineConfig {
    const KIND: ErrorKind = ErrorKind::InvalidPolicy;
}

impl EngineConfig {
    /// Parses a config document.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}
