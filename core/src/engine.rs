//! The engine: formats + hasher + compiled policy, built once from JSON and
//! shared by every request. `prepare` reads the request, `decide` judges it.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::credential::{extract, Credential, CredentialMethod};
use crate::error::serde_error;
use crate::error::{Error, ErrorKind, Result};
use crate::format::{FormatSet, KeyFormat};
use crate::hash::{HashAlgorithm, Hasher};
use crate::ip::parse_client_ip;
use crate::parse::{parse_key, parse_secret, ParsedKey};
use crate::policy::{CompiledPolicy, Policy, RouteRule};
use crate::presets;
use crate::record::KeyRecord;
use crate::routes::{normalize_method, normalize_path};

/// A format given by preset id or in full.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FormatRef {
    /// A preset id such as `tmmate_prod`.
    Preset(String),
    /// A full format definition.
    Custom(KeyFormat),
}

/// How records are hashed. `Debug` hides the pepper.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Accepted key formats.
    pub formats: Vec<FormatRef>,
    /// Hashing.
    #[serde(default)]
    pub hashing: HashingConfig,
    /// The policy.
    #[serde(default)]
    pub policy: Policy,
}

impl EngineConfig {
    /// Parses a config document.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| serde_error(ErrorKind::InvalidPolicy, &e))
    }
}

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
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("header_names", &names)
            .field("client_ip", &self.client_ip)
            .finish()
    }
}

impl Request {
    /// Loads a request from JSON (`{method, path, headers: [[name, value]…], client_ip}`).
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| serde_error(ErrorKind::InvalidJson, &e))
    }
}

/// A request read and checked up to the point where the host must look the key up.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub(crate) outcome: std::result::Result<Presented, Error>,
    pub(crate) route: Option<usize>,
}

/// A credential that parsed as a key. `Debug` omits the lookup hashes.
#[derive(Clone)]
pub(crate) struct Presented {
    pub(crate) method: CredentialMethod,
    pub(crate) client_id: Option<String>,
    pub(crate) parsed: ParsedKey,
    pub(crate) lookup_hashes: Vec<String>,
    pub(crate) client_ip: Option<IpAddr>,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .field("parsed", &self.parsed)
            .field("lookup_hashes", &self.lookup_hashes.len())
            .field("client_ip", &self.client_ip)
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
        self.outcome.as_ref().ok().map(|p| &p.parsed)
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

/// The verification engine.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) formats: FormatSet,
    pub(crate) hasher: Hasher,
    pub(crate) policy: CompiledPolicy,
}

impl Engine {
    /// Builds an engine from parts.
    pub fn new(formats: FormatSet, hasher: Hasher, policy: Policy) -> Result<Self> {
        Ok(Self { formats, hasher, policy: policy.compile()? })
    }

    /// Builds an engine from a config; `pepper` overrides `hashing.pepper_hex`.
    pub fn from_config(config: EngineConfig, pepper: Option<&[u8]>) -> Result<Self> {
        let formats = config
            .formats
            .into_iter()
            .map(|f| match f {
                FormatRef::Preset(id) => presets::get(&id),
                FormatRef::Custom(format) => Ok(format),
            })
            .collect::<Result<Vec<_>>>()?;
        let from_hex = match &config.hashing.pepper_hex {
            Some(h) => Some(hex::decode(h).map_err(|_| Error::new(ErrorKind::MissingPepper, "pepper_hex is not hex"))?),
            None => None,
        };
        let pepper = pepper.or(from_hex.as_deref());
        let hasher = Hasher::new(config.hashing.algorithm, pepper)?;
        Self::new(FormatSet::new(formats)?, hasher, config.policy)
    }

    /// Builds an engine from a JSON config document.
    pub fn from_json(json: &str) -> Result<Self> {
        Self::from_config(EngineConfig::from_json(json)?, None)
    }

    /// The formats.
    pub fn formats(&self) -> &FormatSet {
        &self.formats
    }

    /// The hasher.
    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.policy.policy()
    }

    /// Parses a key with the engine's formats.
    pub fn parse(&self, key: &str) -> Result<ParsedKey> {
        parse_key(&self.formats, key)
    }

    /// The format a parsed key belongs to.
    pub fn format_of(&self, key: &ParsedKey) -> Result<&KeyFormat> {
        self.formats.get(&key.format_id)
    }

    /// The storage hash for a key (what a new record stores).
    pub fn hash_key(&self, key: &str) -> Result<String> {
        let parsed = self.parse(key)?;
        self.hasher.hash(self.format_of(&parsed)?, &parsed)
    }

    /// Reads a request: shape checks, credential extraction, key parsing and the
    /// lookup hashes. Steps 1–4 of the documented check order.
    pub fn prepare<N: AsRef<str>, V: AsRef<str>>(
        &self,
        method: &str,
        path: &str,
        headers: &[(N, V)],
        client_ip: Option<&str>,
    ) -> Prepared {
        let mut route = None;
        let outcome = (|| {
            let method = normalize_method(method)?;
            let path = normalize_path(path)?;
            let client_ip = client_ip.map(parse_client_ip).transpose()?;
            route = self.policy.routes().find_index(&method, path);
            let policy = self.policy.policy();
            let credential = extract(&policy.credentials, headers)?;
            if policy.require_client_id && credential.client_id.is_none() {
                return Err(Error::new(ErrorKind::MissingClientId, "the request carries no client id"));
            }
            let Credential { method, secret, client_id } = credential;
            let parsed = parse_secret(&self.formats, secret)?;
            let format = self.format_of(&parsed)?;
            let lookup_hashes = self.hasher.lookup_hashes(format, &parsed);
            Ok(Presented { method, client_id, parsed, lookup_hashes, client_ip })
        })();
        Prepared { outcome, route }
    }

    /// [`Engine::prepare`] for a [`Request`].
    pub fn prepare_request(&self, request: &Request) -> Prepared {
        self.prepare(&request.method, &request.path, &request.headers, request.client_ip.as_deref())
    }

    /// The record with its hash upgraded to the preferred algorithm, when the
    /// presented key matches `record` and the record uses an older algorithm.
    /// Store it to finish a migration (e.g. sha256 → hmac-sha256).
    pub fn rehashed(&self, prepared: &Prepared, record: &KeyRecord) -> Option<KeyRecord> {
        let presented = prepared.outcome.as_ref().ok()?;
        let format = self.format_of(&presented.parsed).ok()?;
        let check =
            self.hasher.verify_precomputed(format, &presented.parsed, &presented.lookup_hashes, &record.hash).ok()?;
        if !check.matched || !check.should_rehash {
            return None;
        }
        let hash = presented.lookup_hashes.first()?.clone();
        let mut upgraded = record.clone();
        upgraded.fingerprint = crate::hash::fingerprint(&hash);
        upgraded.hash = hash;
        Some(upgraded)
    }

    /// The route rule a prepared request matched.
    pub fn route_of(&self, prepared: &Prepared) -> Option<&RouteRule> {
        prepared.route.and_then(|i| self.policy.routes().rule(i))
    }

    /// The bucket key under which the host keeps rate-limit state for this
    /// request and record, or `None` when no quota applies.
    pub fn rate_limit_key(&self, prepared: &Prepared, record: &KeyRecord) -> Option<String> {
        crate::verify::quota_for(self, prepared, record).map(|(_, class, _, _)| format!("{}:{class}", record.id))
    }
}
