//! Declarative key formats: prefix, environment, kind, body alphabet and length,
//! optional checksum, and layout. Loadable from JSON; validated before use.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::alphabet::Alphabet;
use crate::checksum::Checksum;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashAlgorithm;

/// Minimum entropy of the random part of every key.
pub const MIN_ENTROPY_BITS: f64 = 128.0;
/// Longest key any format may describe (keeps parsing and headers bounded).
pub const MAX_KEY_LENGTH: usize = 512;

/// What a credential is allowed to be used for; routes restrict by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialKind {
    /// A server-side secret key (Stripe `sk_`, seed schemes' API keys).
    Secret,
    /// A publishable key, safe in client code (Stripe `pk_`).
    Publishable,
    /// A restricted key with a narrowed scope set (Stripe `rk_`).
    Restricted,
    /// A browser/mobile SDK token (seed 004 `X-SDK-TOKEN`).
    SdkToken,
    /// A client secret paired with a public client id (seeds 002, 004).
    ClientSecret,
}

impl CredentialKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Publishable => "publishable",
            Self::Restricted => "restricted",
            Self::SdkToken => "sdk_token",
            Self::ClientSecret => "client_secret",
        }
    }
}

/// How the characters after the prefix are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Layout {
    /// `prefix` + `length` random characters (+ checksum).
    #[default]
    Plain,
    /// Seam prefixed-api-key: `prefix` + short token + `_` + long token; only the
    /// long token is secret and hashed (hex SHA-256), the short token is a public id.
    Seam,
}

/// A key format, as written in JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyFormat {
    /// Unique id, e.g. `matcraft_live`.
    pub id: String,
    /// Literal prefix including separators, e.g. `mc_live_sk_`. May be empty for
    /// legacy unprefixed secrets (such formats are not used by leak scanning).
    pub prefix: String,
    /// Environment the key belongs to (`live`, `test`, `ci`, `prod` …).
    pub environment: String,
    /// What the key may be used for.
    pub kind: CredentialKind,
    /// Alphabet of the random characters.
    pub alphabet: Alphabet,
    /// Number of random (secret) characters: the body, or Seam's long token.
    pub length: usize,
    /// Optional checksum appended after the random characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// Body layout.
    #[serde(default, skip_serializing_if = "is_plain")]
    pub layout: Layout,
    /// Length of Seam's public short token (layout `seam` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_length: Option<usize>,
    /// Hash algorithm records of this format use; defaults to the engine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashAlgorithm>,
    /// Free text for humans.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

fn is_plain(layout: &Layout) -> bool {
    *layout == Layout::Plain
}

impl crate::load::Load for KeyFormat {
    const KIND: ErrorKind = ErrorKind::InvalidFormat;

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

impl KeyFormat {
    /// Loads one format from JSON and validates it.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// Serializes the format to JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Number of characters after the prefix.
    pub fn body_length(&self) -> usize {
        let checksum = self.checksum.map_or(0, Checksum::len);
        match self.layout {
            Layout::Plain => self.length.saturating_add(checksum),
            Layout::Seam => {
                self.short_length.unwrap_or(0).saturating_add(1).saturating_add(self.length).saturating_add(checksum)
            }
        }
    }

    /// Total key length.
    pub fn key_length(&self) -> usize {
        self.prefix.len().saturating_add(self.body_length())
    }

    /// Bits of entropy in the secret part.
    pub fn entropy_bits(&self) -> f64 {
        self.alphabet.entropy_bits(self.length)
    }

    /// Checks the definition: id and prefix characters, entropy ≥ 128 bits, bounded length.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidFormat, msg));
        if self.id.is_empty()
            || self.id.len() > 64
            || !self.id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            return bad("format id must be 1-64 characters of [A-Za-z0-9_-]".into());
        }
        if !self.prefix.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.') {
            return bad(format!("format {}: prefix may only contain [A-Za-z0-9_.-]", self.id));
        }
        if self.environment.is_empty() || !self.environment.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return bad(format!("format {}: environment must be [A-Za-z0-9_]+", self.id));
        }
        if self.entropy_bits() < MIN_ENTROPY_BITS {
            return bad(format!(
                "format {}: {} {:?} characters carry {:.0} bits, need at least 128",
                self.id,
                self.length,
                self.alphabet,
                self.entropy_bits()
            ));
        }
        if self.key_length() > MAX_KEY_LENGTH {
            return bad(format!("format {}: keys longer than {MAX_KEY_LENGTH} characters", self.id));
        }
        match (self.layout, self.short_length) {
            (Layout::Seam, Some(n)) if (1..=64).contains(&n) => {}
            (Layout::Seam, _) => return bad(format!("format {}: seam layout needs short_length 1-64", self.id)),
            (Layout::Plain, Some(_)) => return bad(format!("format {}: short_length is for seam layout", self.id)),
            (Layout::Plain, None) => {}
        }
        if self.layout == Layout::Seam && self.checksum.is_some() {
            return bad(format!("format {}: seam layout has no checksum", self.id));
        }
        if self.layout == Layout::Seam && self.prefix.is_empty() {
            return bad(format!("format {}: seam layout needs a prefix", self.id));
        }
        match (self.layout, self.hash) {
            (Layout::Plain, Some(HashAlgorithm::SeamSha256)) => {
                bad(format!("format {}: seam-sha256 needs the seam layout", self.id))
            }
            _ => Ok(()),
        }
    }
}

/// A checked, ready-to-use list of formats, searched by longest prefix first.
#[derive(Clone, Debug, Default)]
pub struct FormatSet {
    formats: Vec<Arc<KeyFormat>>,
    /// The id of the format listed first, which the sort above may have moved.
    first_listed: Option<String>,
}

impl FormatSet {
    /// Validates every format and rejects duplicate ids or prefixes.
    pub fn new(mut formats: Vec<KeyFormat>) -> Result<Self> {
        for f in &formats {
            f.validate()?;
        }
        let first_listed = formats.first().map(|f| f.id.clone());
        formats.sort_by(|a, b| b.prefix.len().cmp(&a.prefix.len()).then_with(|| a.id.cmp(&b.id)));
        for (i, a) in formats.iter().enumerate() {
            for b in formats.iter().skip(i.saturating_add(1)) {
                if a.id == b.id {
                    return Err(Error::new(ErrorKind::InvalidFormat, format!("duplicate format id {}", a.id)));
                }
                if a.prefix == b.prefix {
                    return Err(Error::new(
                        ErrorKind::InvalidFormat,
                        format!("formats {} and {} share the prefix {:?}", a.id, b.id, a.prefix),
                    ));
                }
            }
        }
        Ok(Self { formats: formats.into_iter().map(Arc::new).collect(), first_listed })
    }

    /// The format `id` names or, with none named, the one listed first when the
    /// set was built (an engine config's first format): the format new keys get.
    /// Every runtime's `mint` without a format takes it from here.
    pub fn named_or_first(&self, id: Option<&str>) -> Result<&KeyFormat> {
        match id.or(self.first_listed.as_deref()) {
            Some(id) => self.get(id),
            None => Err(Error::new(ErrorKind::UnknownFormat, "the set has no formats")),
        }
    }

    /// Loads a JSON array of formats.
    pub fn from_json(json: &str) -> Result<Self> {
        let formats: Vec<KeyFormat> =
            serde_json::from_str(json).map_err(|e| crate::error::serde_error(ErrorKind::InvalidFormat, &e))?;
        Self::new(formats)
    }

    /// The formats, longest prefix first.
    pub fn formats(&self) -> &[Arc<KeyFormat>] {
        &self.formats
    }

    /// Finds a format by id.
    pub fn get(&self, id: &str) -> Result<&KeyFormat> {
        self.get_shared(id).map(|f| &**f)
    }

    /// Finds a format by id, shared (cloning it is a reference-count bump).
    pub fn get_shared(&self, id: &str) -> Result<&Arc<KeyFormat>> {
        self.formats
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| Error::new(ErrorKind::UnknownFormat, format!("no format with id {id:?}")))
    }

    /// The format whose prefix the key starts with (longest prefix wins).
    pub fn match_prefix(&self, key: &str) -> Option<&Arc<KeyFormat>> {
        self.formats.iter().find(|f| key.starts_with(f.prefix.as_str()))
    }
}
