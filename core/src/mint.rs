//! Minting: a plaintext key (shown once) plus the record to store, from
//! caller-supplied random bytes and time.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::expiry::expiry_from_preset;
use crate::format::{KeyFormat, Layout};
use crate::hash::{fingerprint, Hasher};
use crate::ids::{client_id, IdStyle};
use crate::ip::parse_allowlist_entry;
use crate::parse::parse_with;
use crate::random::ByteStream;
use crate::ratelimit::{Quota, UsageLimit};
use crate::record::{KeyRecord, KeyStatus, NameRules, Owner};
use crate::scope::validate_scope;
use crate::secret::Secret;

/// What the new key's record should say. Loadable from JSON (unknown fields rejected).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MintOptions {
    /// Human name, 3–50 characters.
    pub name: String,
    /// How the record id looks.
    pub id_style: IdStyle,
    /// A record id chosen by the caller (seed 002 initialises a key's id before
    /// creating it); validated, and `id_style` is then unused.
    pub id: Option<String>,
    /// Owner.
    pub owner: Owner,
    /// Scopes to grant.
    pub scopes: Vec<String>,
    /// Role or tier.
    pub role: Option<String>,
    /// Expiry preset (`90d`, `6m` …); exclusive with `expires_at`.
    pub expires_in: Option<String>,
    /// Explicit expiry.
    #[serde(with = "crate::timestamp::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// IP allowlist entries.
    pub allowed_ips: Vec<String>,
    /// Websites a browser may use the key from (see [`crate::OriginPattern`]).
    pub allowed_origins: Vec<String>,
    /// Rate-limit plan.
    pub plan: Option<String>,
    /// The key's own quotas by rate-limit class, instead of its plan's.
    pub rate_limits: BTreeMap<String, Quota>,
    /// Units the key may spend per day, per month or in all.
    pub usage_limit: Option<UsageLimit>,
    /// Enabled features.
    pub features: Vec<String>,
    /// Existing public client id to bind (seed 004: one per account).
    pub client_id: Option<String>,
    /// Generate a fresh client id (seed 002: a client id + secret pair).
    pub generate_client_id: bool,
    /// Application data.
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl crate::load::Load for MintOptions {
    const KIND: ErrorKind = ErrorKind::InvalidRecord;
}

impl MintOptions {
    /// Options with just a name.
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// Loads options from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}

/// A freshly minted key. The plaintext exists only here: show it once, store the record.
#[derive(Clone)]
pub struct MintedKey {
    /// The plaintext key.
    pub key: Secret,
    /// The record to store (hash only).
    pub record: KeyRecord,
}

impl fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedKey").field("key", &self.key).field("record", &self.record).finish()
    }
}

/// Generates the key text of `format` from a random stream.
/// The key is written once into a buffer of its final size, so no partial copy
/// of the secret is left behind (intermediates are zeroed on drop).
pub fn generate_key(format: &KeyFormat, stream: &mut ByteStream) -> Result<Secret> {
    let short_of = || Error::new(ErrorKind::InsufficientRandomness, "ran out of random bytes");
    let secret = zeroize::Zeroizing::new(format.alphabet.draw(format.length, stream).ok_or_else(short_of)?);
    let mut key = String::with_capacity(format.key_length());
    key.push_str(&format.prefix);
    match format.layout {
        Layout::Plain => {
            key.push_str(&secret);
            if let Some(c) = format.checksum {
                key.push_str(&c.compute(&secret));
            }
        }
        Layout::Seam => {
            let short = format.alphabet.draw(format.short_length.unwrap_or(0), stream).ok_or_else(short_of)?;
            key.push_str(&short);
            key.push('_');
            key.push_str(&secret);
        }
    }
    Ok(Secret::new(key))
}

/// Mints a key of `format`: draws the key and ids from `random` (≥ 16 bytes),
/// hashes it with `hasher`, and fills the record from `options` at `now`.
/// Names follow the default [`NameRules`]; [`crate::Engine::mint`] applies the policy's.
pub fn mint(
    format: &KeyFormat,
    hasher: &Hasher,
    options: &MintOptions,
    random: &[u8],
    now: DateTime<Utc>,
) -> Result<MintedKey> {
    mint_with_rules(format, hasher, options, random, now, &NameRules::default())
}

/// [`mint`] with a deployment's name rules.
pub fn mint_with_rules(
    format: &KeyFormat,
    hasher: &Hasher,
    options: &MintOptions,
    random: &[u8],
    now: DateTime<Utc>,
    names: &NameRules,
) -> Result<MintedKey> {
    format.validate()?;
    let now = crate::timestamp::in_range(now)?;
    names.check(&options.name)?;
    for s in &options.scopes {
        validate_scope(s)?;
    }
    let allowed_ips = options.allowed_ips.iter().map(|s| parse_allowlist_entry(s)).collect::<Result<Vec<_>>>()?;
    let allowed_origins = crate::origin::parse_all(&options.allowed_origins)?;
    crate::record::validate_rate_limits(&options.rate_limits)?;
    options.usage_limit.as_ref().map_or(Ok(()), UsageLimit::validate)?;
    let expires_at = match (&options.expires_in, options.expires_at) {
        (Some(_), Some(_)) => {
            return Err(Error::new(ErrorKind::InvalidExpiry, "give expires_in or expires_at, not both"));
        }
        (Some(preset), None) => Some(expiry_from_preset(preset, now)?),
        (None, at) => at,
    };
    if expires_at.is_some_and(|at| at <= now) {
        return Err(Error::new(ErrorKind::InvalidExpiry, "expires_at is not in the future"));
    }
    let mut stream = ByteStream::new("keyproof/mint/v1", random)?;
    let key_text = generate_key(format, &mut stream)?;
    // The id bytes are drawn either way, so a caller-supplied id changes nothing else.
    let generated = options.id_style.make(&stream.take_bytes(16))?;
    let id = match &options.id {
        Some(id) => {
            crate::ids::validate_id(id)?;
            id.clone()
        }
        None => generated,
    };
    let client_id = match (&options.client_id, options.generate_client_id) {
        (Some(_), true) => {
            return Err(Error::new(ErrorKind::InvalidRecord, "give client_id or generate_client_id, not both"));
        }
        (Some(given), false) => {
            crate::ids::validate_id(given)?;
            Some(given.clone())
        }
        (None, true) => Some(client_id(&mut stream)?),
        (None, false) => None,
    };
    let parsed = parse_with(format, key_text.expose())?;
    let hash = hasher.hash(format, &parsed)?;
    let record = KeyRecord {
        id,
        name: options.name.clone(),
        fingerprint: fingerprint(&hash),
        hash,
        preview: parsed.preview(),
        format: format.id.clone(),
        environment: format.environment.clone(),
        kind: format.kind,
        owner: options.owner.clone(),
        client_id,
        scopes: options.scopes.clone(),
        role: options.role.clone(),
        status: KeyStatus::Active,
        created_at: now,
        updated_at: now,
        expires_at,
        revoked_at: None,
        rotation: None,
        allowed_ips,
        allowed_origins,
        plan: options.plan.clone(),
        rate_limits: options.rate_limits.clone(),
        usage_limit: options.usage_limit.clone(),
        features: options.features.clone(),
        metadata: options.metadata.clone(),
        last_used_at: None,
        request_count: 0,
    };
    Ok(MintedKey { key: key_text, record })
}
