//! Built-in formats: every seed scheme, plus Stripe-like, GitHub-style and Seam keys.

use crate::alphabet::Alphabet;
use crate::checksum::Checksum;
use crate::error::{Error, ErrorKind, Result};
use crate::format::{CredentialKind, FormatSet, KeyFormat, Layout};
use crate::hash::HashAlgorithm;

struct Spec {
    id: &'static str,
    prefix: &'static str,
    environment: &'static str,
    kind: CredentialKind,
    alphabet: Alphabet,
    length: usize,
    checksum: bool,
    description: &'static str,
}

use CredentialKind::{ClientSecret, Publishable, Restricted, SdkToken, Secret};

const SPECS: &[Spec] = &[
    spec(
        "keyproof_live",
        "kp_live_",
        "live",
        Secret,
        Alphabet::Base62,
        30,
        true,
        "keyproof's recommended format: base62 with a CRC32 checksum",
    ),
    spec(
        "keyproof_test",
        "kp_test_",
        "test",
        Secret,
        Alphabet::Base62,
        30,
        true,
        "keyproof's recommended format, test environment",
    ),
    spec(
        "matchii_live",
        "mk_live_",
        "live",
        Secret,
        Alphabet::Base62,
        32,
        false,
        "seed 000: Matchii organization keys",
    ),
    spec("matchii_test", "mk_test_", "test", Secret, Alphabet::Base62, 32, false, "seed 000: Matchii development keys"),
    spec("matcraft_live", "mc_live_sk_", "live", Secret, Alphabet::Base62, 32, false, "seed 001: MatCraft production"),
    spec("matcraft_test", "mc_test_sk_", "test", Secret, Alphabet::Base62, 32, false, "seed 001: MatCraft sandbox"),
    spec("matcraft_ci", "mc_ci_sk_", "ci", Secret, Alphabet::Base62, 32, false, "seed 001: MatCraft CI/CD"),
    spec(
        "matatika_client_secret",
        "",
        "live",
        ClientSecret,
        Alphabet::Base64url,
        64,
        false,
        "seed 002: Matatika client secret: 64 base64url characters, unprefixed, sent with its client id",
    ),
    spec(
        "tmmate_prod",
        "sk_prod_",
        "prod",
        Secret,
        Alphabet::Hex,
        32,
        false,
        "seed 003: tmmate workspace keys, 32 hex characters",
    ),
    spec(
        "authmatech_api_key",
        "amk_live_",
        "live",
        Secret,
        Alphabet::Base62,
        40,
        true,
        "seed 004: Authmatech X-API-KEY secret",
    ),
    spec(
        "authmatech_sdk_token",
        "amk_sdk_",
        "live",
        SdkToken,
        Alphabet::Base62,
        40,
        true,
        "seed 004: Authmatech X-SDK-TOKEN for browsers",
    ),
    spec(
        "authmatech_client_secret",
        "amk_cs_",
        "live",
        ClientSecret,
        Alphabet::Base62,
        48,
        true,
        "seed 004: Authmatech client secret (gates key rotation)",
    ),
    spec("stripe_secret_live", "sk_live_", "live", Secret, Alphabet::Base62, 32, false, "Stripe-like secret key"),
    spec(
        "stripe_secret_test",
        "sk_test_",
        "test",
        Secret,
        Alphabet::Base62,
        32,
        false,
        "Stripe-like secret key, test mode",
    ),
    spec(
        "stripe_publishable_live",
        "pk_live_",
        "live",
        Publishable,
        Alphabet::Base62,
        32,
        false,
        "Stripe-like publishable key",
    ),
    spec(
        "stripe_publishable_test",
        "pk_test_",
        "test",
        Publishable,
        Alphabet::Base62,
        32,
        false,
        "Stripe-like publishable key, test mode",
    ),
    spec(
        "stripe_restricted_live",
        "rk_live_",
        "live",
        Restricted,
        Alphabet::Base62,
        32,
        false,
        "Stripe-like restricted key",
    ),
    spec(
        "stripe_restricted_test",
        "rk_test_",
        "test",
        Restricted,
        Alphabet::Base62,
        32,
        false,
        "Stripe-like restricted key, test mode",
    ),
    spec(
        "github_pat",
        "ghp_",
        "live",
        Secret,
        Alphabet::Base62,
        30,
        true,
        "GitHub-style token: 30 base62 + CRC32 checksum",
    ),
];

#[allow(clippy::too_many_arguments)]
const fn spec(
    id: &'static str,
    prefix: &'static str,
    environment: &'static str,
    kind: CredentialKind,
    alphabet: Alphabet,
    length: usize,
    checksum: bool,
    description: &'static str,
) -> Spec {
    Spec { id, prefix, environment, kind, alphabet, length, checksum, description }
}

/// Seam's `prefixed-api-key` layout for a given key prefix (`mycompany` →
/// `mycompany_<8>_<24>`), hashed as that package does. Prefixes may contain `_`.
pub fn seam_format(id: &str, key_prefix: &str, environment: &str) -> KeyFormat {
    KeyFormat {
        id: id.to_string(),
        prefix: format!("{key_prefix}_"),
        environment: environment.to_string(),
        kind: CredentialKind::Secret,
        alphabet: Alphabet::Base58,
        length: 24,
        checksum: None,
        layout: Layout::Seam,
        short_length: Some(8),
        hash: Some(HashAlgorithm::SeamSha256),
        description: "Seam prefixed-api-key".to_string(),
    }
}

/// Every preset, in catalogue order.
pub fn all() -> Vec<KeyFormat> {
    catalogue().to_vec()
}

/// The presets, built once per process.
fn catalogue() -> &'static [KeyFormat] {
    static PRESETS: std::sync::OnceLock<Vec<KeyFormat>> = std::sync::OnceLock::new();
    PRESETS.get_or_init(|| {
        let mut out: Vec<KeyFormat> = SPECS
            .iter()
            .map(|s| KeyFormat {
                id: s.id.to_string(),
                prefix: s.prefix.to_string(),
                environment: s.environment.to_string(),
                kind: s.kind,
                alphabet: s.alphabet,
                length: s.length,
                checksum: s.checksum.then_some(Checksum::Crc32Base62),
                layout: Layout::Plain,
                short_length: None,
                hash: None,
                description: s.description.to_string(),
            })
            .collect();
        out.push(seam_format("seam", "seam", "live"));
        out
    })
}

/// Ids of every preset.
pub fn ids() -> Vec<String> {
    catalogue().iter().map(|f| f.id.clone()).collect()
}

/// One preset by id.
pub fn get(id: &str) -> Result<KeyFormat> {
    catalogue().iter().find(|f| f.id == id).cloned().ok_or_else(|| {
        Error::new(ErrorKind::UnknownFormat, format!("no preset named {:?}", crate::redaction::redact_keys(id)))
    })
}

/// A format set of the named presets.
pub fn set(ids: &[&str]) -> Result<FormatSet> {
    FormatSet::new(ids.iter().map(|id| get(id)).collect::<Result<Vec<_>>>()?)
}

/// A format set of every preset.
pub fn all_set() -> Result<FormatSet> {
    FormatSet::new(all())
}

/// A scanner over every preset, compiled once (for redacting error messages).
pub(crate) fn scanner() -> Option<&'static crate::scan::Scanner> {
    static SCANNER: std::sync::OnceLock<Option<crate::scan::Scanner>> = std::sync::OnceLock::new();
    SCANNER.get_or_init(|| all_set().ok().map(|set| crate::scan::Scanner::new(&set))).as_ref()
}
