//! The request as the engine sees it, and what `prepare` makes of it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::credential::CredentialMethod;
use crate::error::{Error, ErrorKind, Result};
use crate::format::CredentialKind;
use crate::parse::ParsedKey;
use crate::token::AccessToken;

/// A request as the engine sees it. `Debug` shows header names, never values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Request path (a query string is ignored).
    pub path: String,
    /// Request headers as (name, value) pairs.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Client IP address, as the host determined it.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// Units of the key's usage limit this request spends, when the host prices
    /// it (see [`crate::Verification::set_usage_cost`]); absent: the route's cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_cost: Option<u32>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("header_names", &names)
            .field("client_ip", &self.client_ip)
            .field("usage_cost", &self.usage_cost)
            .finish()
    }
}

impl crate::load::Load for Request {
    const KIND: ErrorKind = ErrorKind::InvalidJson;
}

impl Request {
    /// Loads a request from JSON (`{method, path, headers: [[name, value]…], client_ip}`).
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }
}

/// A request read and checked up to the point where the host must look the key up.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub(crate) outcome: std::result::Result<Presented, Error>,
    pub(crate) route: Option<usize>,
    /// The scopes the route's templates ask of this path (`None`: its scopes as written).
    pub(crate) filled: Option<Box<crate::scope_template::Filled>>,
}

/// What the credential turned out to be.
#[derive(Clone, Debug)]
pub(crate) enum Shown {
    /// A key of a configured format.
    Key(ParsedKey),
    /// An access token whose signature and claims checked out.
    Token(Box<AccessToken>),
}

/// A credential that parsed as a key or verified as a token. `Debug` omits the
/// lookup hashes (for a token under `confirm_record`: its key id).
#[derive(Clone)]
pub(crate) struct Presented {
    pub(crate) method: CredentialMethod,
    pub(crate) client_id: Option<String>,
    pub(crate) shown: Shown,
    pub(crate) lookup_hashes: Vec<String>,
    pub(crate) client_ip: Option<IpAddr>,
    /// The website the request names (`Origin`, else `Referer`), as sent; read
    /// only when the key (or token) is restricted to some.
    pub(crate) origin: Option<String>,
}

impl Presented {
    /// A presented key.
    pub(crate) fn key(
        method: CredentialMethod,
        client_id: Option<String>,
        parsed: ParsedKey,
        lookup_hashes: Vec<String>,
        client_ip: Option<IpAddr>,
        origin: Option<String>,
    ) -> Self {
        Self { method, client_id, shown: Shown::Key(parsed), lookup_hashes, client_ip, origin }
    }

    /// The parsed key, unless the credential is a token.
    pub(crate) fn parsed(&self) -> Option<&ParsedKey> {
        match &self.shown {
            Shown::Key(parsed) => Some(parsed),
            Shown::Token(_) => None,
        }
    }

    /// The verified token, if the credential is one.
    pub(crate) fn token(&self) -> Option<&AccessToken> {
        match &self.shown {
            Shown::Token(token) => Some(token),
            Shown::Key(_) => None,
        }
    }

    /// The credential kind: the key format's, or the token's `kind` claim.
    pub(crate) fn kind(&self) -> CredentialKind {
        match &self.shown {
            Shown::Key(parsed) => parsed.kind(),
            Shown::Token(token) => token.claims.kind,
        }
    }
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .field("shown", &self.shown)
            .field("lookup_hashes", &self.lookup_hashes.len())
            .field("client_ip", &self.client_ip)
            .field("origin", &self.origin)
            .finish()
    }
}

impl Prepared {
    /// Hashes to look the record up by, preferred algorithm first; empty when the
    /// request is already denied (no credential, malformed key …).
    pub fn lookup_hashes(&self) -> &[String] {
        self.outcome.as_ref().map(|p| p.lookup_hashes.as_slice()).unwrap_or_default()
    }

    /// The early denial, if the request failed before lookup.
    pub fn error(&self) -> Option<&Error> {
        self.outcome.as_ref().err()
    }

    /// The parsed key, when one was presented.
    pub fn parsed_key(&self) -> Option<&ParsedKey> {
        self.outcome.as_ref().ok().and_then(Presented::parsed)
    }

    /// The verified access token, when one was presented (its time window is
    /// checked by the decision). Its lookup "hash" under `confirm_record` is the
    /// token's key id: a record id, which never contains `:` as storage hashes do.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.outcome.as_ref().ok().and_then(Presented::token)
    }

    /// How the credential was sent.
    pub fn credential_method(&self) -> Option<CredentialMethod> {
        self.outcome.as_ref().ok().map(|p| p.method)
    }

    /// The client id sent with the credential.
    pub fn client_id(&self) -> Option<&str> {
        self.outcome.as_ref().ok().and_then(|p| p.client_id.as_deref())
    }
}
