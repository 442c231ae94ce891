//! Plain views of core values, in the storage schema (snake_case, RFC 3339),
//! as every binding hands them to its runtime. Secrets cross only where a view
//! says so (a minted key, an issued token: exactly once, to their owner).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::Step;
use crate::error::{ErrorKind, Result};
use crate::format::CredentialKind;
use crate::ids::IdStyle;
use crate::mint::{MintOptions, MintedKey};
use crate::parse::ParsedKey;
use crate::ratelimit::{Quota, UsageLimit};
use crate::record::{KeyRecord, Owner};
use crate::token::{AccessClaims, AccessToken, Header, IssuedToken};

/// What the host must do next: `{kind, value?}`, `kind` one of
/// `lookup_record`, `load_rate_state`, `done`.
#[derive(Debug, Serialize)]
pub struct StepView<'a> {
    /// `lookup_record`, `load_rate_state` or `done`.
    pub kind: &'static str,
    /// The storage hash (`lookup_record`) or rate-limit key (`load_rate_state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a str>,
}

impl<'a> From<Step<'a>> for StepView<'a> {
    fn from(step: Step<'a>) -> Self {
        match step {
            Step::LookupRecord(hash) => Self { kind: "lookup_record", value: Some(hash) },
            Step::LoadRateState(key) => Self { kind: "load_rate_state", value: Some(key) },
            Step::Done => Self { kind: "done", value: None },
        }
    }
}

/// What a parsed key shows (no secret: the preview only).
#[derive(Debug, Serialize)]
pub struct ParsedView<'a> {
    format_id: &'a str,
    environment: &'a str,
    kind: CredentialKind,
    public_part: &'a str,
    preview: String,
    has_checksum: bool,
}

impl<'a> From<&'a ParsedKey> for ParsedView<'a> {
    fn from(parsed: &'a ParsedKey) -> Self {
        Self {
            format_id: parsed.format_id(),
            environment: parsed.environment(),
            kind: parsed.kind(),
            public_part: parsed.public_part(),
            preview: parsed.preview(),
            has_checksum: parsed.has_checksum(),
        }
    }
}

/// A minted key as `{key, record}`: the plaintext crosses exactly once, here.
#[derive(Serialize)]
pub struct MintedView<'a> {
    key: &'a str,
    record: &'a KeyRecord,
}

impl<'a> From<&'a MintedKey> for MintedView<'a> {
    fn from(minted: &'a MintedKey) -> Self {
        Self { key: minted.key.expose(), record: &minted.record }
    }
}

/// A lifecycle result: `{changed, record}`.
#[derive(Debug, Serialize)]
pub struct ChangedView<'a> {
    /// Whether the record changed.
    pub changed: bool,
    /// The record after the change.
    pub record: &'a KeyRecord,
}

/// Mint options for a successor, in the shape `mint` reads (the options a
/// host passes back, with the successor's own changes merged over them).
#[derive(Debug, Serialize)]
pub struct SuccessorView<'a> {
    name: &'a str,
    id_style: &'a IdStyle,
    owner: &'a Owner,
    scopes: &'a [String],
    role: Option<&'a str>,
    expires_at: Option<String>,
    allowed_ips: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    allowed_origins: &'a [String],
    plan: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    rate_limits: &'a BTreeMap<String, Quota>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage_limit: Option<&'a UsageLimit>,
    features: &'a [String],
    client_id: Option<&'a str>,
    metadata: &'a BTreeMap<String, serde_json::Value>,
}

impl<'a> From<&'a MintOptions> for SuccessorView<'a> {
    fn from(o: &'a MintOptions) -> Self {
        Self {
            name: &o.name,
            id_style: &o.id_style,
            owner: &o.owner,
            scopes: &o.scopes,
            role: o.role.as_deref(),
            expires_at: o.expires_at.as_ref().map(crate::timestamp::format_timestamp),
            allowed_ips: &o.allowed_ips,
            allowed_origins: &o.allowed_origins,
            plan: o.plan.as_deref(),
            rate_limits: &o.rate_limits,
            usage_limit: o.usage_limit.as_ref(),
            features: &o.features,
            client_id: o.client_id.as_deref(),
            metadata: &o.metadata,
        }
    }
}

/// One error code of the catalogue.
#[derive(Debug, Serialize)]
pub struct ErrorCodeView {
    /// Stable snake_case code.
    pub code: &'static str,
    /// Its family (`key_format`, `credential`, `authentication`, …).
    pub family: &'static str,
    /// What the code means.
    pub description: &'static str,
}

/// Every error code with its family, in catalogue order.
pub fn error_codes() -> Vec<ErrorCodeView> {
    ErrorKind::ALL
        .iter()
        .map(|k| ErrorCodeView { code: k.code(), family: k.family().as_str(), description: k.description() })
        .collect()
}

/// An issued token as `{access_token, expires_in, claims, kid}`: the token
/// crosses exactly once, here.
#[derive(Serialize)]
pub struct IssuedTokenView<'a> {
    access_token: &'a str,
    expires_in: i64,
    claims: &'a AccessClaims,
    kid: &'a str,
}

impl<'a> From<&'a IssuedToken> for IssuedTokenView<'a> {
    fn from(t: &'a IssuedToken) -> Self {
        Self { access_token: t.access_token.expose(), expires_in: t.expires_in, claims: &t.claims, kid: &t.kid }
    }
}

/// A token verified offline: `{kid, key_id, scopes, claims}`.
#[derive(Debug, Serialize)]
pub struct VerifiedTokenView<'a> {
    kid: &'a str,
    key_id: &'a str,
    scopes: &'a [String],
    claims: &'a AccessClaims,
}

impl<'a> From<&'a AccessToken> for VerifiedTokenView<'a> {
    fn from(t: &'a AccessToken) -> Self {
        Self { kid: &t.kid, key_id: &t.claims.key_id, scopes: &t.scopes, claims: &t.claims }
    }
}

/// A token's `{header, claims}`, **not verified** (for debugging).
#[derive(Debug, Serialize)]
pub struct InspectedTokenView {
    header: Header,
    claims: serde_json::Value,
}

impl InspectedTokenView {
    /// Decodes `token` without verifying it (see [`crate::token::inspect`]).
    pub fn of(token: &str) -> Result<Self> {
        let (header, claims) = crate::token::inspect(token)?;
        Ok(Self { header, claims })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_name_their_kind() {
        let view = StepView::from(Step::LookupRecord("h"));
        assert_eq!(serde_json::to_value(&view).unwrap(), serde_json::json!({"kind": "lookup_record", "value": "h"}));
        assert_eq!(serde_json::to_value(StepView::from(Step::Done)).unwrap(), serde_json::json!({"kind": "done"}));
    }

    #[test]
    fn error_codes_follow_the_catalogue() {
        let codes = error_codes();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert!(codes.iter().any(|c| c.code == "wrong_length" && c.family == "key_format"));
    }

    #[test]
    fn successor_views_carry_the_expiry_as_text() {
        let mut options = MintOptions::from_json(r#"{"name": "Next", "scopes": ["a:b"]}"#).unwrap();
        options.expires_at = chrono::DateTime::from_timestamp(1_773_829_800, 0);
        let value = serde_json::to_value(SuccessorView::from(&options)).unwrap();
        assert_eq!(value["expires_at"], "2026-03-18T10:30:00Z");
        assert_eq!(value["scopes"], serde_json::json!(["a:b"]));
        assert!(value.get("expires_in").is_none());
    }
}
