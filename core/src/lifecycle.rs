//! Record lifecycle: the only ways a stored record changes (rotate, revoke,
//! disable, enable, update). Every host calls these; none holds a rule of its own.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, ErrorKind, Result};
use crate::ids::IdStyle;
use crate::ip::parse_allowlist_entry;
use crate::mint::MintOptions;
use crate::ratelimit::{Quota, UsageLimit};
use crate::record::{KeyRecord, KeyStatus, NameRules, Rotation};
use crate::scope::validate_scope;
use crate::timestamp;

/// Grace period of a rotation when the policy names none (seed 000: 24 hours).
pub const DEFAULT_ROTATION_GRACE_HOURS: u32 = 24;

/// [`DEFAULT_ROTATION_GRACE_HOURS`] as a duration.
pub fn default_rotation_grace() -> Duration {
    Duration::hours(i64::from(DEFAULT_ROTATION_GRACE_HOURS))
}

/// Longest rotation grace period: a year (the policy's `rotation_grace_hours` ceiling).
pub const MAX_ROTATION_GRACE_HOURS: u32 = 24 * 366;

/// Parses a grace period such as `24h`, `30m`, `90s`, `7d`, `2w` or `0` (at most
/// a year), so every host reads durations the same way.
pub fn parse_grace(text: &str) -> Result<Duration> {
    let invalid =
        || Error::new(ErrorKind::InvalidTransition, format!("{text:?} is not a grace period like 24h, 30m, 7d or 0"));
    if text == "0" {
        return Ok(Duration::zero());
    }
    let unit = text.chars().last().ok_or_else(invalid)?;
    let number = text.get(..text.len().saturating_sub(1)).ok_or_else(invalid)?;
    if number.is_empty() || !number.bytes().all(|c| c.is_ascii_digit()) || number.len() > 6 {
        return Err(invalid());
    }
    let n: i64 = number.parse().map_err(|_| invalid())?;
    let unit_seconds: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return Err(invalid()),
    };
    let seconds = n.saturating_mul(unit_seconds);
    if seconds > i64::from(MAX_ROTATION_GRACE_HOURS).saturating_mul(3600) {
        return Err(Error::new(ErrorKind::InvalidTransition, format!("{text:?} is longer than a year")));
    }
    Ok(Duration::seconds(seconds))
}

fn refuse(message: String) -> Error {
    Error::new(ErrorKind::InvalidTransition, message)
}

/// Changes to a record; `None` leaves a field alone. For optional fields,
/// `Some(None)` (JSON `null`) clears the field.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordUpdate {
    /// New name.
    pub name: Option<String>,
    /// New scopes (replaces the list).
    pub scopes: Option<Vec<String>>,
    /// New role, or `null` to clear.
    #[serde(deserialize_with = "double_option")]
    pub role: Option<Option<String>>,
    /// New IP allowlist (seed 001's PATCH); empty allows every address.
    pub allowed_ips: Option<Vec<String>>,
    /// New origin allowlist; empty allows every website.
    pub allowed_origins: Option<Vec<String>>,
    /// New expiry, or `null` for none.
    #[serde(deserialize_with = "double_option_timestamp")]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// New plan, or `null` for the policy's default.
    #[serde(deserialize_with = "double_option")]
    pub plan: Option<Option<String>>,
    /// New features (replaces the list).
    pub features: Option<Vec<String>>,
    /// The key's own quotas by rate-limit class (replaces the map; `{}`: the plan's again).
    pub rate_limits: Option<BTreeMap<String, Quota>>,
    /// New usage limit, or `null` for none. A change keeps the key's counter:
    /// a new limit applies to what the period already spent.
    #[serde(deserialize_with = "double_option")]
    pub usage_limit: Option<Option<UsageLimit>>,
    /// New metadata (replaces the map).
    pub metadata: Option<BTreeMap<String, serde_json::Value>>,
    /// New client id binding, or `null` to unbind.
    #[serde(deserialize_with = "double_option")]
    pub client_id: Option<Option<String>>,
}

fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn double_option_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<DateTime<Utc>>>, D::Error> {
    timestamp::option::deserialize(d).map(Some)
}

impl crate::load::Load for RecordUpdate {
    const KIND: ErrorKind = ErrorKind::InvalidRecord;
}

impl RecordUpdate {
    /// Loads an update from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}

impl KeyRecord {
    /// Marks the key as replaced by `successor_id`, valid until `now + grace`.
    /// Refuses revoked, disabled and already-rotated keys.
    pub fn rotate(&mut self, successor_id: &str, now: DateTime<Utc>, grace: Duration) -> Result<()> {
        crate::ids::validate_id(successor_id)?;
        let now = timestamp::in_range(now)?;
        match (self.status, &self.rotation) {
            (KeyStatus::Revoked, _) => return Err(refuse(format!("key {} is revoked; mint a new one", self.id))),
            (KeyStatus::Disabled, _) => return Err(refuse(format!("key {} is disabled; enable it first", self.id))),
            (_, Some(r)) => {
                let by = r.replaced_by.as_deref().unwrap_or("another key");
                return Err(refuse(format!("key {} was already rotated (replaced by {by})", self.id)));
            }
            _ => {}
        }
        if grace < Duration::zero() {
            return Err(refuse("a rotation grace period cannot be negative".into()));
        }
        let grace_until = timestamp::add(now, grace)?;
        self.rotation =
            Some(Rotation { replaced_by: Some(successor_id.to_string()), rotated_at: Some(now), grace_until });
        self.touch(now);
        Ok(())
    }

    /// Mint options for the key that replaces this one: same name, owner, id
    /// style, scopes, role, allowlists, plan, own quotas, features, client id and metadata,
    /// and the same lifetime counted from `now` (when the key expires). A usage
    /// limit goes on spending this key's counter, so a rotation grants no fresh allowance.
    pub fn successor_options(&self, now: DateTime<Utc>) -> Result<MintOptions> {
        let expires_at = match self.expires_at {
            Some(at) => Some(timestamp::add(now, at.signed_duration_since(self.created_at))?),
            None => None,
        };
        Ok(MintOptions {
            name: self.name.clone(),
            id_style: IdStyle::of(&self.id),
            owner: self.owner.clone(),
            scopes: self.scopes.clone(),
            role: self.role.clone(),
            expires_in: None,
            expires_at,
            allowed_ips: self.allowed_ips.iter().map(ToString::to_string).collect(),
            allowed_origins: self.allowed_origins.iter().map(ToString::to_string).collect(),
            plan: self.plan.clone(),
            rate_limits: self.rate_limits.clone(),
            usage_limit: self.usage_limit.as_ref().map(|u| UsageLimit {
                counter: Some(u.counter.clone().unwrap_or_else(|| self.id.clone())),
                ..u.clone()
            }),
            features: self.features.clone(),
            client_id: self.client_id.clone(),
            generate_client_id: false,
            metadata: self.metadata.clone(),
            id: None,
        })
    }

    /// Revokes the key for good. Returns whether anything changed.
    pub fn revoke(&mut self, now: DateTime<Utc>) -> Result<bool> {
        let now = timestamp::in_range(now)?;
        if self.status == KeyStatus::Revoked {
            return Ok(false);
        }
        self.status = KeyStatus::Revoked;
        self.revoked_at = Some(now);
        self.touch(now);
        Ok(true)
    }

    /// Switches the key off until [`KeyRecord::enable`]. Refuses revoked keys.
    pub fn disable(&mut self, now: DateTime<Utc>) -> Result<bool> {
        let now = timestamp::in_range(now)?;
        match self.status {
            KeyStatus::Revoked => Err(refuse(format!("key {} is revoked; it cannot be disabled", self.id))),
            KeyStatus::Disabled => Ok(false),
            KeyStatus::Active => {
                self.status = KeyStatus::Disabled;
                self.touch(now);
                Ok(true)
            }
        }
    }

    /// Switches a disabled key back on. Refuses revoked keys.
    pub fn enable(&mut self, now: DateTime<Utc>) -> Result<bool> {
        let now = timestamp::in_range(now)?;
        match self.status {
            KeyStatus::Revoked => Err(refuse(format!("key {} is revoked; it cannot be enabled", self.id))),
            KeyStatus::Active => Ok(false),
            KeyStatus::Disabled => {
                self.status = KeyStatus::Active;
                self.touch(now);
                Ok(true)
            }
        }
    }

    /// Applies `update`, validating every field first (nothing changes on an
    /// error). Revoked keys cannot be changed. Returns whether anything changed.
    /// Names follow the default [`NameRules`]; [`crate::Engine::update`] applies the policy's.
    pub fn update(&mut self, update: &RecordUpdate, now: DateTime<Utc>) -> Result<bool> {
        self.update_with_rules(update, now, &NameRules::default())
    }

    /// [`KeyRecord::update`] with a deployment's name rules.
    pub fn update_with_rules(&mut self, update: &RecordUpdate, now: DateTime<Utc>, names: &NameRules) -> Result<bool> {
        let now = timestamp::in_range(now)?;
        if self.status == KeyStatus::Revoked {
            return Err(refuse(format!("key {} is revoked; it cannot be changed", self.id)));
        }
        let mut next = self.clone();
        if let Some(name) = &update.name {
            names.check(name)?;
            next.name.clone_from(name);
        }
        if let Some(scopes) = &update.scopes {
            scopes.iter().try_for_each(|s| validate_scope(s))?;
            next.scopes.clone_from(scopes);
        }
        if let Some(role) = &update.role {
            next.role.clone_from(role);
        }
        if let Some(ips) = &update.allowed_ips {
            next.allowed_ips = ips.iter().map(|s| parse_allowlist_entry(s)).collect::<Result<_>>()?;
        }
        if let Some(origins) = &update.allowed_origins {
            next.allowed_origins = crate::origin::parse_all(origins)?;
        }
        if let Some(expires_at) = update.expires_at {
            next.expires_at = expires_at.map(timestamp::in_range).transpose()?;
        }
        if let Some(plan) = &update.plan {
            next.plan.clone_from(plan);
        }
        if let Some(features) = &update.features {
            next.features.clone_from(features);
        }
        if let Some(quotas) = &update.rate_limits {
            next.rate_limits.clone_from(quotas);
        }
        if let Some(usage) = &update.usage_limit {
            // The counter stays the one the key spends from (a rotated key's predecessor's).
            let counter = next.usage_limit.as_ref().and_then(|u| u.counter.clone());
            next.usage_limit = usage.clone().map(|u| UsageLimit { counter: u.counter.or(counter), ..u });
        }
        if let Some(metadata) = &update.metadata {
            next.metadata.clone_from(metadata);
        }
        if let Some(client_id) = &update.client_id {
            next.client_id.clone_from(client_id);
        }
        if next == *self {
            return Ok(false);
        }
        next.touch(now);
        next.validate()?;
        *self = next;
        Ok(true)
    }

    /// Bumps `updated_at`, never moving it before `created_at`.
    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.created_at);
    }
}
