//! The key record an application stores per key: the JSON schema shared by every runtime.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::format::CredentialKind;
use crate::hash::StoredHash;
use crate::origin::OriginPattern;
use crate::ratelimit::{Quota, UsageLimit};
use crate::scope::validate_scope;
use crate::timestamp;

/// Lifecycle status of a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyStatus {
    /// The key works.
    #[default]
    Active,
    /// Temporarily switched off (seed 003 "deactivated"); can be re-enabled.
    Disabled,
    /// Permanently revoked.
    Revoked,
}

/// Who owns the key (seeds: organization 000, workspace 003, profile 002).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// Organization id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Workspace id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// User profile id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// Rotation state: the key was replaced and stays valid until `grace_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Id of the key that replaces this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// When the rotation happened (the `Deprecation` date).
    #[serde(default, with = "timestamp::option", skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// End of the grace period (the `Sunset` date).
    #[serde(with = "timestamp")]
    pub grace_until: DateTime<Utc>,
}

/// One stored API key. Holds only the hash, never the key; `Debug` shows the
/// hash's algorithm tag only.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// Record id: a UUID v4 or a prefixed id like `key_2f8a3b1c`.
    pub id: String,
    /// Human name, 3–50 characters.
    pub name: String,
    /// Tagged storage hash (`sha256:…`).
    pub hash: String,
    /// Non-secret fingerprint of the hash.
    pub fingerprint: String,
    /// Masked preview of the key.
    pub preview: String,
    /// Id of the key's format.
    pub format: String,
    /// Environment of the key.
    pub environment: String,
    /// Credential kind of the key.
    pub kind: CredentialKind,
    /// Owner of the key.
    #[serde(default)]
    pub owner: Owner,
    /// Public client id bound to the key (seeds 002 and 004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Role or tier inherited from the creating user (seed 003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Lifecycle status.
    #[serde(default)]
    pub status: KeyStatus,
    /// Creation time.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(with = "timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Expiry; `None` never expires.
    #[serde(default, with = "timestamp::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key was revoked.
    #[serde(default, with = "timestamp::option", skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Rotation state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
    /// IP allowlist (CIDR ranges or single addresses); empty allows every address.
    #[serde(default, with = "cidr_list", skip_serializing_if = "Vec::is_empty")]
    pub allowed_ips: Vec<IpNet>,
    /// Websites a browser may use the key from (`https://app.example.com`,
    /// `https://*.example.com`); empty allows every request, with or without an origin.
    #[serde(default, with = "crate::origin::list", skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<OriginPattern>,
    /// Rate-limit plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// This key's own quotas by rate-limit class (`default`, or a class the
    /// policy's routes name), used instead of its plan's for those classes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rate_limits: BTreeMap<String, Quota>,
    /// Units the key may spend per day, per month or in all (credits); each
    /// request spends its route's cost, counted in the host's rate-limit store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<UsageLimit>,
    /// Features enabled for the key's account (seed 004).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Application data, kept as is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// When the key last passed a verification, as the host last wrote it
    /// (coarsely: see `Outcome::touch_last_used`); `None` if never recorded.
    #[serde(default, with = "timestamp::option", skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Requests the key was let through for, as the host counted them (a host
    /// that counts answers `Action::CountRequest`); 0, and left out, if none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub request_count: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = self.hash.split_once(':').map_or("?", |(t, _)| t);
        f.debug_struct("KeyRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("hash", &format_args!("{tag}:<redacted>"))
            .field("fingerprint", &self.fingerprint)
            .field("preview", &self.preview)
            .field("format", &self.format)
            .field("environment", &self.environment)
            .field("kind", &self.kind)
            .field("owner", &self.owner)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("role", &self.role)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("rotation", &self.rotation)
            .field("allowed_ips", &self.allowed_ips)
            .field("allowed_origins", &self.allowed_origins)
            .field("plan", &self.plan)
            .field("rate_limits", &self.rate_limits)
            .field("usage_limit", &self.usage_limit)
            .field("features", &self.features)
            .field("metadata", &self.metadata)
            .field("last_used_at", &self.last_used_at)
            .field("request_count", &self.request_count)
            .finish()
    }
}

/// Length limits of key names. The default accepts any reasonable name;
/// a deployment may narrow it (seed 003 tmmate: 3–50).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NameRules {
    /// Fewest characters (default 1).
    pub min_length: usize,
    /// Most characters (default 200).
    pub max_length: usize,
}

impl Default for NameRules {
    fn default() -> Self {
        Self { min_length: 1, max_length: 200 }
    }
}

impl NameRules {
    /// Checks the limits themselves: 1 ≤ min ≤ max ≤ 1000.
    pub fn validate(&self) -> Result<()> {
        if self.min_length == 0 || self.min_length > self.max_length || self.max_length > 1000 {
            return Err(Error::new(ErrorKind::InvalidPolicy, "names: need 1 <= min_length <= max_length <= 1000"));
        }
        Ok(())
    }

    /// Checks a key name: within the limits (in characters), no control
    /// characters, no surrounding spaces.
    pub fn check(&self, name: &str) -> Result<()> {
        let n = name.chars().count();
        if !(self.min_length..=self.max_length).contains(&n)
            || name.chars().any(char::is_control)
            || name.trim() != name
        {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!(
                    "key names are {}-{} characters without control characters or surrounding spaces",
                    self.min_length, self.max_length
                ),
            ));
        }
        Ok(())
    }
}

/// Most classes a key may carry its own quota for.
const MAX_OWN_QUOTAS: usize = 32;

/// Checks a key's own quotas: valid quotas under class names of 1–64
/// characters of `[A-Za-z0-9_.-]`, at most 32 of them.
pub fn validate_rate_limits(quotas: &BTreeMap<String, Quota>) -> Result<()> {
    let bad_class = |c: &String| {
        c.is_empty() || c.len() > 64 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    };
    if quotas.len() > MAX_OWN_QUOTAS || quotas.keys().any(bad_class) {
        return Err(Error::new(
            ErrorKind::InvalidQuota,
            "rate_limits: at most 32 classes, named with 1-64 characters of [A-Za-z0-9_.-]",
        ));
    }
    quotas.values().try_for_each(Quota::validate)
}

/// Checks a key name with the default [`NameRules`] (1–200 characters).
pub fn validate_name(name: &str) -> Result<()> {
    NameRules::default().check(name)
}

impl crate::load::Load for KeyRecord {
    const KIND: ErrorKind = ErrorKind::InvalidRecord;

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

impl KeyRecord {
    /// Loads and validates a record from JSON. Unknown fields are rejected.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// Serializes the record as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks the invariants serde cannot: name, hash, scopes, id and timestamps.
    pub fn validate(&self) -> Result<()> {
        crate::ids::validate_id(&self.id)?;
        if let Some(client_id) = &self.client_id {
            crate::ids::validate_id(client_id)?;
        }
        // Stored records may carry any name a deployment's rules allowed.
        NameRules { min_length: 1, max_length: 1000 }.check(&self.name)?;
        StoredHash::parse(&self.hash)?;
        for s in &self.scopes {
            validate_scope(s)?;
        }
        validate_rate_limits(&self.rate_limits)?;
        self.usage_limit.as_ref().map_or(Ok(()), UsageLimit::validate)?;
        self.timestamps().try_for_each(|t| crate::timestamp::in_range(t).map(drop))?;
        if self.updated_at < self.created_at {
            return Err(Error::new(ErrorKind::InvalidRecord, "updated_at is before created_at"));
        }
        if self.status == KeyStatus::Revoked && self.revoked_at.is_none() {
            return Err(Error::new(ErrorKind::InvalidRecord, "a revoked record needs revoked_at"));
        }
        Ok(())
    }

    /// Every instant the record holds (each must lie in 0001–9999 to be
    /// stored and read back).
    fn timestamps(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let rotation = self.rotation.iter().flat_map(|r| r.rotated_at.into_iter().chain([r.grace_until]));
        [self.created_at, self.updated_at]
            .into_iter()
            .chain(self.expires_at)
            .chain(self.revoked_at)
            .chain(self.last_used_at)
            .chain(rotation)
    }

    /// The status a record has at `now`, as the decision would see it: its stored
    /// status, or `expired`, `rotating` (inside its grace period) or `rotated`.
    pub fn effective_status(&self, now: DateTime<Utc>) -> &'static str {
        match self.status {
            KeyStatus::Revoked => "revoked",
            KeyStatus::Disabled => "disabled",
            KeyStatus::Active if self.expires_at.is_some_and(|at| at <= now) => "expired",
            KeyStatus::Active => match &self.rotation {
                Some(r) if r.grace_until <= now => "rotated",
                Some(_) => "rotating",
                None => "active",
            },
        }
    }
}

mod cidr_list {
    use ipnet::IpNet;
    use serde::{de, Deserialize, Deserializer, Serializer};

    use crate::ip::parse_allowlist_entry;

    pub(crate) fn serialize<S: Serializer>(v: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|n| n.to_string()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| parse_allowlist_entry(s).map_err(|e| de::Error::custom(format!("invalid_cidr: {}", e.message()))))
            .collect()
    }
}
