//! The claims of an access token: RFC 9068's (`iss`, `sub`, `aud`, `exp`, `iat`,
//! `jti`, `client_id`, `scope`), seed 002's (`gty`, `azp`) and keyproof's own:
//! the key id, environment, credential kind and the restrictions a verifier
//! enforces without a lookup (role, plan, features, routes, networks, origins).

use serde::{Deserialize, Serialize};

use crate::format::CredentialKind;

/// `aud`: one audience or several (RFC 7519 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience (what keyproof issues).
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is among them.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(a) => a == audience,
            Self::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

/// The claims keyproof issues and verifies. Unknown claims are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: the deployment's `tokens.issuer`.
    pub iss: String,
    /// Subject: `<client id>@clients` (seed 002), or the key id.
    pub sub: String,
    /// Audience: the deployment's `tokens.audience`.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Unique token id.
    pub jti: String,
    /// The OAuth client: the key's client id, or its key id when it has none.
    pub client_id: String,
    /// Granted scopes, space-separated (RFC 9068 §2.2.3); absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Grant type (`client-credentials`, as seed 002's issuer writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// Authorized party: the client id bound to the key, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Record id of the key the token was issued from (rate limits are keyed by it).
    pub key_id: String,
    /// Environment of the key.
    pub environment: String,
    /// Credential kind the token acts as.
    pub kind: CredentialKind,
    /// Role of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Rate-limit plan of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Features of the key's account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Paths of the policy route rules the token may call; absent: every route the key may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<String>>,
    /// Networks the token may be used from; empty: anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<String>,
    /// Websites a browser may use the token from; empty: any (and none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
}

impl AccessClaims {
    /// The granted scopes as a list.
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .as_deref()
            .map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    }
}
