//! The outcome of verifying one request: allow (with a principal and warnings)
//! or deny (with a stable code), rendered as HTTP status, headers and body.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::error::ErrorKind;
use crate::format::CredentialKind;
use crate::headers::Headers;
use crate::ratelimit::RateLimitOutcome;
use crate::record::{KeyRecord, Owner};

/// Who is calling, once a key is accepted: the accepted record's grants, read
/// through the record itself. The record is shared with the verification that
/// accepted it (an `Arc`), so a host that keeps its records in `Arc`s
/// ([`crate::Verification::shared_record`]) pays no copy per request.
#[derive(Clone, PartialEq)]
pub struct Principal {
    /// The accepted record (narrowed to the token, for an access token).
    record: Arc<KeyRecord>,
    /// The policy's default plan, kept only when the record names none.
    default_plan: Option<String>,
}

impl Principal {
    pub(crate) fn new(record: Arc<KeyRecord>, default_plan: Option<&String>) -> Self {
        let default_plan = if record.plan.is_none() { default_plan.cloned() } else { None };
        Self { record, default_plan }
    }

    /// Record id of the key.
    pub fn key_id(&self) -> &str {
        &self.record.id
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.record.name
    }

    /// Owner of the key.
    pub fn owner(&self) -> &Owner {
        &self.record.owner
    }

    /// Key environment.
    pub fn environment(&self) -> &str {
        &self.record.environment
    }

    /// Credential kind.
    pub fn kind(&self) -> CredentialKind {
        self.record.kind
    }

    /// Format id.
    pub fn format(&self) -> &str {
        &self.record.format
    }

    /// Granted scopes.
    pub fn scopes(&self) -> &[String] {
        &self.record.scopes
    }

    /// Role.
    pub fn role(&self) -> Option<&str> {
        self.record.role.as_deref()
    }

    /// Effective rate-limit plan: the record's, else the policy's default.
    pub fn plan(&self) -> Option<&str> {
        self.record.plan.as_deref().or(self.default_plan.as_deref())
    }

    /// Client id bound to the key.
    pub fn client_id(&self) -> Option<&str> {
        self.record.client_id.as_deref()
    }

    /// Enabled features.
    pub fn features(&self) -> &[String] {
        &self.record.features
    }

    /// Application metadata from the record.
    pub fn metadata(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.record.metadata
    }
}

/// The principal as every runtime shows it: its twelve fields, in this order.
impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Principal", 12)?;
        s.serialize_field("key_id", self.key_id())?;
        s.serialize_field("name", self.name())?;
        s.serialize_field("owner", self.owner())?;
        s.serialize_field("environment", self.environment())?;
        s.serialize_field("kind", &self.kind())?;
        s.serialize_field("format", self.format())?;
        s.serialize_field("scopes", self.scopes())?;
        s.serialize_field("role", &self.role())?;
        s.serialize_field("plan", &self.plan())?;
        s.serialize_field("client_id", &self.client_id())?;
        s.serialize_field("features", self.features())?;
        s.serialize_field("metadata", self.metadata())?;
        s.end()
    }
}

/// The principal's fields (never the record's hash).
impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("key_id", &self.key_id())
            .field("name", &self.name())
            .field("owner", self.owner())
            .field("environment", &self.environment())
            .field("kind", &self.kind())
            .field("format", &self.format())
            .field("scopes", &self.scopes())
            .field("role", &self.role())
            .field("plan", &self.plan())
            .field("client_id", &self.client_id())
            .field("features", &self.features())
            .field("metadata", self.metadata())
            .finish()
    }
}

/// Something the host should know about an allowed request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warning {
    /// The key was rotated; it works until `until` (seed 000).
    RotationGrace {
        /// End of the grace period.
        #[serde(serialize_with = "crate::timestamp::serialize")]
        until: DateTime<Utc>,
        /// Id of the replacement key.
        replaced_by: Option<String>,
    },
    /// The key expires soon.
    ExpiresSoon {
        /// Expiry instant.
        #[serde(serialize_with = "crate::timestamp::serialize")]
        expires_at: DateTime<Utc>,
    },
    /// The record's hash uses an older algorithm: store a new hash.
    ShouldRehash,
    /// The rate-limit store failed and the deployment fails open: the request was
    /// allowed without being counted.
    RateLimitUnavailable,
}

impl Warning {
    /// Stable snake_case code of the warning.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RotationGrace { .. } => "rotation_grace",
            Self::ExpiresSoon { .. } => "expires_soon",
            Self::ShouldRehash => "should_rehash",
            Self::RateLimitUnavailable => "rate_limit_unavailable",
        }
    }
}

/// Rate-limit result of a decision: what to store under `key`. A usage
/// counter's result (`Decision::usage`) has the same shape: plan `usage`, class
/// its period (`day`, `month`, `total`), `state.tat_us` the period's end plus
/// the units spent, and
/// `reset_seconds` 0 for an allowance that never restarts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimitDecision {
    /// Storage key of the bucket: `<key id>:<class>`.
    pub key: String,
    /// Plan whose quota applied.
    pub plan: String,
    /// Class of the route.
    pub class: String,
    /// The GCRA result, including the state to store.
    #[serde(flatten)]
    pub outcome: RateLimitOutcome,
}

/// The full decision for one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Internal code: `ok`, or the precise reason (for logs; may be finer than the response).
    pub code: &'static str,
    /// Code shown to the caller (several internal codes share `invalid_key`).
    pub public_code: &'static str,
    /// HTTP status (200 when allowed).
    pub status: u16,
    /// Response headers, in a fixed order (a denial's are shared with every
    /// denial of its kind: rendered once per engine).
    pub headers: Headers,
    /// `application/problem+json` body for denials, exact bytes (shared like the headers).
    #[serde(serialize_with = "shared_text")]
    pub body: Option<Arc<str>>,
    /// The caller, when allowed.
    pub principal: Option<Principal>,
    /// Warnings, when allowed.
    pub warnings: Vec<Warning>,
    /// The scope that was missing, for `insufficient_scope`.
    pub missing_scope: Option<String>,
    /// Rate-limit result, when a quota applied.
    pub rate_limit: Option<RateLimitDecision>,
    /// Usage-limit result, when the key has a usage limit and the request got to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Box<RateLimitDecision>>,
    /// Internal detail for logs (never contains a secret).
    pub detail: String,
    /// The access token an allowed request presented, and whether its key's
    /// record was confirmed by a lookup or the token alone was trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<crate::token::TokenUse>,
    #[serde(skip)]
    pub(crate) kind: Option<ErrorKind>,
    /// A denial's identified key (see [`Decision::key_id`]).
    #[serde(rename = "key_id", skip_serializing_if = "Option::is_none")]
    pub(crate) denied_key_id: Option<String>,
}

impl Decision {
    /// The error kind of a denial.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The record id of the key the request presented, once it was identified:
    /// allowed requests (the principal's), and denials after the key's hash
    /// matched or its token's signed claims named it (revoked, expired, out of
    /// scope, rate-limited …), so a host can log and count a key's refused
    /// requests too. Never part of the response: unknown and revoked keys still
    /// look alike to the caller. `None` for unknown, mismatched and malformed
    /// keys. A token's key is named once its signature verified (an expired or
    /// revoked token too).
    pub fn key_id(&self) -> Option<&str> {
        self.principal.as_ref().map(Principal::key_id).or(self.denied_key_id.as_deref())
    }

    /// The decision as JSON (the shape golden vectors pin).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The headers with each repeated name (case-insensitive) combined into one
    /// comma-separated value, where its name first appears: for hosts whose
    /// response headers hold one value per name (Django). The same on the wire
    /// for the list-valued fields a decision repeats (a key with a usage limit
    /// sends two `RateLimit-Policy` and two `RateLimit` fields; RFC 9110 §5.3).
    pub fn combined_headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            match out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                Some((_, joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                None => out.push((name.clone(), value.clone())),
            }
        }
        out
    }
}

/// A shared body as the text it is.
fn shared_text<S: serde::Serializer>(body: &Option<Arc<str>>, serializer: S) -> Result<S::Ok, S::Error> {
    body.as_deref().serialize(serializer)
}
