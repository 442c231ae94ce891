//! The `tokens` section of an engine configuration: who issues and who accepts
//! access tokens, for how long, with which keys, and whether each use confirms
//! the key's record (immediate revocation) or trusts the token until it expires.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::jwk::{Jwk, Keyring};
use super::jwt::TokenAlgorithm;
use crate::error::{Error, ErrorKind, Result};
use crate::format::CredentialKind;

/// Longest token lifetime a deployment may configure (one day, seed 002's).
pub const MAX_TOKEN_LIFETIME_SECONDS: u32 = 86_400;

/// Token settings and keys. `Debug` shows key ids only.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// `iss` of issued tokens; verification requires it.
    pub issuer: String,
    /// `aud` of issued tokens; verification requires it among the audiences.
    pub audience: String,
    /// Lifetime of issued tokens in seconds (default 3600, at most 86400).
    #[serde(default = "default_lifetime")]
    pub lifetime_seconds: u32,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (default 30, at most 300).
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u32,
    /// `true` (default): every use asks the host for the key's record by key id,
    /// so revoking the key stops its tokens at once. `false`: no lookup at all;
    /// a token works until it expires even if its key is revoked.
    #[serde(default = "default_true")]
    pub confirm_record: bool,
    /// Algorithms accepted at verification (default `["EdDSA"]`); `none` never is.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<TokenAlgorithm>,
    /// Credential kinds that may exchange their secret for a token
    /// (default secret, restricted and client_secret keys).
    #[serde(default = "default_grant_kinds")]
    pub grant_kinds: Vec<CredentialKind>,
    /// `kid` of the key that signs new tokens (default: the first key that can sign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_kid: Option<String>,
    /// Signing and verification keys as JWKs; older keys stay to verify tokens they signed.
    #[serde(default)]
    pub keys: Vec<Jwk>,
    /// Tokens issued at or before this instant (their `iat`, whole seconds) are
    /// refused, `token_revoked`: signs every holder out at once, with no lookup
    /// (a token verified offline otherwise works until it expires).
    #[serde(default, with = "crate::timestamp::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub revoked_before: Option<chrono::DateTime<chrono::Utc>>,
    /// `jti`s of single tokens refused before they expire (`token_revoked`), at
    /// most 10,000: list a leaked token until its `exp` has passed, then drop it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_jtis: Vec<String>,
    /// Per key id, an instant: that key's tokens issued at or before it are
    /// refused (`token_revoked`), with no lookup. Signs the holders of one key's
    /// tokens out (a customer's leaked SDK session) without revoking the key or
    /// anyone else's tokens; at most 10,000 keys.
    #[serde(default, with = "crate::timestamp::map", skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, String>"))]
    pub revoked_before_by_key: BTreeMap<String, chrono::DateTime<chrono::Utc>>,
}

/// Most revoked `jti`s a deployment may list (each stays only until its token
/// expires), and most keys `revoked_before_by_key` may name.
pub const MAX_REVOKED_JTIS: usize = 10_000;

fn default_lifetime() -> u32 {
    3600
}
fn default_leeway() -> u32 {
    30
}
fn default_true() -> bool {
    true
}
fn default_algorithms() -> Vec<TokenAlgorithm> {
    vec![TokenAlgorithm::EdDsa]
}
fn default_grant_kinds() -> Vec<CredentialKind> {
    vec![CredentialKind::Secret, CredentialKind::Restricted, CredentialKind::ClientSecret]
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("TokenConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime_seconds", &self.lifetime_seconds)
            .field("leeway_seconds", &self.leeway_seconds)
            .field("confirm_record", &self.confirm_record)
            .field("algorithms", &self.algorithms)
            .field("signing_kid", &self.signing_kid)
            .field("revoked_before", &self.revoked_before)
            .field("revoked_jtis", &self.revoked_jtis.len())
            .field("revoked_before_by_key", &self.revoked_before_by_key.len())
            .field("key_ids", &kids)
            .finish()
    }
}

impl crate::load::Load for TokenConfig {
    const KIND: ErrorKind = ErrorKind::InvalidPolicy;

    fn check(&self) -> Result<()> {
        Tokens::new(self.clone()).map(|_| ())
    }
}

impl TokenConfig {
    /// Loads and checks a token configuration from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}

/// A checked token configuration with its compiled keys, shared by the engine.
#[derive(Clone, Debug)]
pub struct Tokens {
    config: TokenConfig,
    keyring: Keyring,
    /// `revoked_jtis`, for a lookup per verification.
    revoked: std::collections::HashSet<String>,
}

fn invalid(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidPolicy, format!("tokens: {msg}"))
}

fn text_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && s.bytes().all(|c| (0x21..0x7f).contains(&c))
}

impl Tokens {
    /// Checks settings and compiles keys: `invalid_policy` for settings,
    /// `invalid_token_key` for keys.
    pub fn new(config: TokenConfig) -> Result<Self> {
        if !text_ok(&config.issuer) || !text_ok(&config.audience) {
            return Err(invalid("issuer and audience are 1-256 visible ASCII characters"));
        }
        if !(1..=MAX_TOKEN_LIFETIME_SECONDS).contains(&config.lifetime_seconds) || config.leeway_seconds > 300 {
            return Err(invalid("lifetime_seconds is 1-86400 and leeway_seconds at most 300"));
        }
        if config.algorithms.is_empty() || config.grant_kinds.is_empty() {
            return Err(invalid("name at least one algorithm and one grant kind"));
        }
        let keyring = Keyring::new(&config.keys)?;
        if let Some(key) = keyring.keys().iter().find(|k| !config.algorithms.contains(&k.algorithm())) {
            return Err(Error::new(
                ErrorKind::InvalidTokenKey,
                format!(
                    "token key {:?} uses {}, which tokens.algorithms does not accept",
                    key.kid(),
                    key.algorithm().as_str()
                ),
            ));
        }
        if let Some(kid) = &config.signing_kid {
            keyring.signer(Some(kid))?;
        }
        if config.revoked_jtis.len() > MAX_REVOKED_JTIS || !config.revoked_jtis.iter().all(|j| text_ok(j)) {
            return Err(invalid("revoked_jtis lists at most 10000 jtis of 1-256 visible ASCII characters"));
        }
        let by_key = &config.revoked_before_by_key;
        if by_key.len() > MAX_REVOKED_JTIS || !by_key.keys().all(|k| text_ok(k)) {
            return Err(invalid("revoked_before_by_key names at most 10000 key ids of 1-256 visible ASCII characters"));
        }
        let revoked = config.revoked_jtis.iter().cloned().collect();
        Ok(Self { config, keyring, revoked })
    }

    /// The settings.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// The compiled keys.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Whether a token of key `key_id` with this `jti` and `iat` (seconds) was revoked.
    pub fn is_revoked(&self, jti: &str, key_id: &str, iat: i64) -> bool {
        let config = &self.config;
        let before = |cutoff: &chrono::DateTime<chrono::Utc>| iat <= cutoff.timestamp();
        config.revoked_before.as_ref().is_some_and(before)
            || config.revoked_before_by_key.get(key_id).is_some_and(before)
            || self.revoked.contains(jti)
    }
}
