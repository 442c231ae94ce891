//! The token endpoint as an I/O-free step, like verification: `begin_token`
//! reads the request, the step asks for the record under each lookup hash of
//! the client secret, `finish` checks the record, issues the token and renders
//! the answer.
//!
//! ```
//! use keyproof::{mint, Engine, MintOptions, Step};
//!
//! let engine = Engine::from_json(r#"{"formats": ["matatika_client_secret"],
//!     "policy": {"credentials": {"methods": ["basic"]}},
//!     "tokens": {"issuer": "https://identity.example/", "audience": "https://api.example/",
//!                "keys": [{"kty": "oct", "kid": "hs-1", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}],
//!                "algorithms": ["HS256"]}}"#)?;
//! let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap_or_default();
//! let options = MintOptions::from_json(r#"{"name": "CLI", "client_id": "UajESGdi9hMM9v3IsPv7NLYZfJ1uo53i"}"#)?;
//! let minted = mint(engine.formats().get("matatika_client_secret")?, engine.hasher(), &options, &[7; 64], now)?;
//! let body = format!("grant_type=client_credentials&client_id=UajESGdi9hMM9v3IsPv7NLYZfJ1uo53i&client_secret={}",
//!     minted.key.expose());
//! let headers = [("Content-Type", "application/x-www-form-urlencoded")];
//! let mut exchange = engine.begin_token("POST", &headers, &body, None, now, &[9; 16]);
//! while let Step::LookupRecord(hash) = exchange.next_step() {
//!     let found = (hash == minted.record.hash).then(|| minted.record.clone());
//!     exchange.record(found);
//! }
//! let response = exchange.finish();
//! assert_eq!((response.status, response.header("Cache-Control")), (200, Some("no-store")));
//! # Ok::<(), keyproof::Error>(())
//! ```

use chrono::{DateTime, Utc};

use super::grant::{parse_token_request, TokenRequest};
use super::issue::TokenOptions;
use super::response::{failure, success, TokenResponse};
use crate::engine::{Engine, Passed, Presented, Step};
use crate::error::{Error, ErrorKind, Result};
use crate::ip::ip_allowed;
use crate::origin::origin_allowed;
use crate::parse::parse_secret;
use crate::record::KeyRecord;

#[derive(Debug)]
enum Stage {
    Lookup { next: usize },
    Found(Box<KeyRecord>),
    Failed(Error),
}

/// One token request being answered. Owns what it needs, like a verification.
#[derive(Debug)]
pub struct TokenExchange {
    engine: Engine,
    now: DateTime<Utc>,
    random: Vec<u8>,
    pending: Option<(Presented, Option<Vec<String>>)>,
    stage: Stage,
}

impl Engine {
    /// Starts answering a token request at `now`; `random` (≥ 16 bytes) makes
    /// the token's `jti`. Drive the returned step, then `finish`.
    pub fn begin_token<N: AsRef<str>, V: AsRef<str>>(
        &self,
        method: &str,
        headers: &[(N, V)],
        body: &str,
        client_ip: Option<&str>,
        now: DateTime<Utc>,
        random: &[u8],
    ) -> TokenExchange {
        let (pending, stage) = match self.read_token_request(method, headers, body, client_ip) {
            Ok(pending) => (Some(pending), Stage::Lookup { next: 0 }),
            Err(e) => (None, Stage::Failed(e)),
        };
        TokenExchange { engine: self.clone(), now, random: random.to_vec(), pending, stage }
    }

    fn read_token_request<N: AsRef<str>, V: AsRef<str>>(
        &self,
        method: &str,
        headers: &[(N, V)],
        body: &str,
        client_ip: Option<&str>,
    ) -> Result<(Presented, Option<Vec<String>>)> {
        if self.tokens().is_none() {
            return Err(Error::new(ErrorKind::InvalidTokenKey, "the engine has no tokens section"));
        }
        let TokenRequest { method, client_id, secret, scopes } = parse_token_request(method, headers, body)?;
        let client_ip = self.compiled().client_ip(client_ip, headers)?;
        let origin = crate::origin::sent_origin(headers);
        let parsed = parse_secret(self.formats(), secret)?;
        let lookup_hashes = self.hasher().lookup_hashes(parsed.format(), &parsed);
        let method = method.unwrap_or(crate::credential::CredentialMethod::Basic);
        Ok((Presented::key(method, Some(client_id), parsed, lookup_hashes, client_ip, origin), scopes))
    }
}

impl TokenExchange {
    /// What the host must do next: [`Step::LookupRecord`] or [`Step::Done`].
    pub fn next_step(&self) -> Step<'_> {
        match (&self.stage, &self.pending) {
            (Stage::Lookup { next }, Some((p, _))) => {
                p.lookup_hashes.get(*next).map_or(Step::Done, |h| Step::LookupRecord(h))
            }
            _ => Step::Done,
        }
    }

    /// Answers [`Step::LookupRecord`] with the record stored under the hash, or `None`.
    pub fn record(&mut self, record: Option<KeyRecord>) {
        let Stage::Lookup { next } = self.stage else { return };
        let count = self.pending.as_ref().map_or(0, |(p, _)| p.lookup_hashes.len());
        self.stage = match record {
            Some(record) => Stage::Found(Box::new(record)),
            None if next.saturating_add(1) < count => Stage::Lookup { next: next.saturating_add(1) },
            None => Stage::Failed(Error::fixed(ErrorKind::UnknownKey, "no stored record matches the client secret")),
        };
    }

    /// Checks the record, issues the token and renders the answer.
    pub fn finish(self) -> TokenResponse {
        let realm = self.engine.policy().realm.clone();
        let result = match (self.stage, &self.pending) {
            (Stage::Found(record), Some((presented, scopes))) => {
                issue(&self.engine, presented, scopes, &record, &self.random, self.now)
            }
            (Stage::Failed(e), _) => Err(e),
            _ => Err(Error::fixed(ErrorKind::UnknownKey, "no stored record matches the client secret")),
        };
        match result {
            Ok(response) => response,
            Err(e) => failure(e.kind(), e.message().to_string(), &realm),
        }
    }
}

fn issue(
    engine: &Engine,
    presented: &Presented,
    scopes: &Option<Vec<String>>,
    record: &KeyRecord,
    random: &[u8],
    now: DateTime<Utc>,
) -> Result<TokenResponse> {
    let as_error = |d: crate::engine::Deny| Error::new(d.kind, d.detail);
    engine.authenticate(presented, record, now, &mut Passed::default()).map_err(as_error)?;
    if !ip_allowed(&record.allowed_ips, presented.client_ip) {
        return Err(Error::fixed(ErrorKind::IpNotAllowed, "the client IP is not in the key's allowlist"));
    }
    if !origin_allowed(&record.allowed_origins, presented.origin.as_deref()) {
        return Err(Error::fixed(ErrorKind::OriginNotAllowed, "the request's origin is not in the key's allowlist"));
    }
    let grant_kinds = engine.tokens().map(|t| t.config().grant_kinds.as_slice()).unwrap_or_default();
    if !grant_kinds.contains(&record.kind) {
        return Err(Error::fixed(
            ErrorKind::CredentialKindNotAllowed,
            format!("{} keys may not obtain tokens", record.kind.as_str()),
        ));
    }
    let options = TokenOptions { scopes: scopes.clone(), ..TokenOptions::default() };
    let issued = engine.issue_token(record, &options, random, now)?;
    Ok(success(&issued))
}
