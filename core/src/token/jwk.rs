//! Signing keys as JWK (RFC 7517): Ed25519 `OKP` keys (RFC 8037) and HS256 `oct`
//! secrets, passed in by the host (no I/O), compiled once into a [`Keyring`].
//! The public half exports as a JWKS; rotation is by `kid`.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::jwt::{b64url, TokenAlgorithm};
use crate::error::{Error, ErrorKind, Result};

/// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

/// One key as a JWK. `d` (Ed25519 private key) and `k` (HMAC secret) are secret:
/// `Debug` redacts them and [`Keyring::public_jwks`] never exports them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Jwk {
    /// Key type: `OKP` (Ed25519) or `oct` (HS256).
    pub kty: String,
    /// Curve of an `OKP` key: `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public key of an `OKP` key (base64url, 32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Private key of an `OKP` key (base64url, 32 bytes); absent on verify-only keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// Secret of an `oct` key (base64url, ≥ 32 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    /// Key id: names the key in token headers, so keys rotate by `kid`.
    pub kid: String,
    /// Algorithm (`EdDSA` or `HS256`); must fit `kty` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig`); other uses are refused.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("x", &self.x)
            .field("d", &self.d.as_ref().map(|_| "<redacted>"))
            .field("k", &self.k.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl crate::load::Load for Jwk {
    const KIND: ErrorKind = ErrorKind::InvalidTokenKey;

    fn check(&self) -> Result<()> {
        TokenKey::from_jwk(self).map(|_| ())
    }
}

impl Jwk {
    /// Loads and checks a JWK from JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::load::Load::load_json(json)
    }

    /// A private Ed25519 JWK from 32 caller-supplied random bytes (the seed).
    pub fn ed25519(seed: &[u8], kid: &str) -> Result<Self> {
        let seed: [u8; 32] = seed
            .get(..32)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| Error::new(ErrorKind::InsufficientRandomness, "an Ed25519 key needs 32 random bytes"))?;
        let signing = SigningKey::from_bytes(&seed);
        let jwk = Self {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some(b64url(signing.verifying_key().as_bytes())),
            d: Some(b64url(&seed)),
            k: None,
            kid: kid.into(),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
        };
        TokenKey::from_jwk(&jwk)?;
        Ok(jwk)
    }

    /// An HS256 JWK from a caller-supplied secret (≥ 32 bytes).
    pub fn hs256(secret: &[u8], kid: &str) -> Result<Self> {
        let jwk = Self {
            kty: "oct".into(),
            crv: None,
            x: None,
            d: None,
            k: Some(b64url(secret)),
            kid: kid.into(),
            alg: Some("HS256".into()),
            use_: Some("sig".into()),
        };
        TokenKey::from_jwk(&jwk)?;
        Ok(jwk)
    }

    /// The public half (`d` removed), or `None` for a symmetric secret.
    pub fn public(&self) -> Option<Self> {
        (self.kty == "OKP").then(|| Self { d: None, k: None, ..self.clone() })
    }
}

#[derive(Clone)]
enum Material {
    Ed25519 { verifying: VerifyingKey, signing: Option<Box<SigningKey>> },
    Hmac(Zeroizing<Vec<u8>>),
}

/// A compiled key: one JWK, checked, ready to sign and verify.
#[derive(Clone)]
pub struct TokenKey {
    kid: String,
    material: Material,
    jwk: Jwk,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm())
            .field("can_sign", &self.can_sign())
            .finish()
    }
}

fn bad_key(kid: &str, why: &str) -> Error {
    Error::new(ErrorKind::InvalidTokenKey, format!("token key {kid:?}: {why}"))
}

fn key_bytes(kid: &str, value: Option<&String>, name: &str) -> Result<Zeroizing<Vec<u8>>> {
    let text = value.ok_or_else(|| bad_key(kid, &format!("{name} is missing")))?;
    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text)
        .map(Zeroizing::new)
        .map_err(|_| bad_key(kid, &format!("{name} is not unpadded base64url")))
}

fn thirty_two(kid: &str, bytes: &[u8], name: &str) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| bad_key(kid, &format!("{name} must be 32 bytes")))
}

impl TokenKey {
    /// Checks and compiles one JWK.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let kid = jwk.kid.as_str();
        let kid_ok = !kid.is_empty() && kid.len() <= 128 && kid.bytes().all(|c| (0x21..0x7f).contains(&c));
        if !kid_ok {
            return Err(Error::new(ErrorKind::InvalidTokenKey, "a kid is 1-128 visible ASCII characters"));
        }
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(bad_key(kid, "use must be sig"));
        }
        let material = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => {
                let x = thirty_two(kid, &key_bytes(kid, jwk.x.as_ref(), "x")?, "x")?;
                let verifying = VerifyingKey::from_bytes(&x).map_err(|_| bad_key(kid, "x is not an Ed25519 point"))?;
                let signing = match &jwk.d {
                    None => None,
                    Some(_) => {
                        let d = Zeroizing::new(thirty_two(kid, &key_bytes(kid, jwk.d.as_ref(), "d")?, "d")?);
                        let signing = SigningKey::from_bytes(&d);
                        if signing.verifying_key() != verifying {
                            return Err(bad_key(kid, "d does not belong to x"));
                        }
                        Some(Box::new(signing))
                    }
                };
                Material::Ed25519 { verifying, signing }
            }
            ("oct", None) => {
                let k = key_bytes(kid, jwk.k.as_ref(), "k")?;
                if k.len() < MIN_HMAC_SECRET_BYTES {
                    return Err(bad_key(kid, "an HS256 secret needs at least 32 bytes"));
                }
                Material::Hmac(k)
            }
            _ => return Err(bad_key(kid, "keys are OKP/Ed25519 (EdDSA) or oct (HS256)")),
        };
        let key = Self { kid: kid.to_string(), material, jwk: jwk.clone() };
        if jwk.alg.as_deref().is_some_and(|a| a != key.algorithm().as_str()) {
            return Err(bad_key(kid, "alg does not fit the key type"));
        }
        Ok(key)
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key signs and verifies with.
    pub fn algorithm(&self) -> TokenAlgorithm {
        match self.material {
            Material::Ed25519 { .. } => TokenAlgorithm::EdDsa,
            Material::Hmac(_) => TokenAlgorithm::Hs256,
        }
    }

    /// Whether this key holds private material.
    pub fn can_sign(&self) -> bool {
        !matches!(self.material, Material::Ed25519 { signing: None, .. })
    }

    /// Signs `input`; `invalid_token_key` for a verify-only key.
    pub fn sign(&self, input: &[u8]) -> Result<Vec<u8>> {
        match &self.material {
            Material::Ed25519 { signing: Some(key), .. } => Ok(key.sign(input).to_bytes().to_vec()),
            Material::Ed25519 { signing: None, .. } => Err(bad_key(&self.kid, "holds no private key (d)")),
            Material::Hmac(secret) => Ok(hmac_of(secret)?.chain_update(input).finalize().into_bytes().to_vec()),
        }
    }

    /// Whether `signature` is this key's signature of `input` (HMAC compared in constant time).
    pub fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Ed25519 { verifying, .. } => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| verifying.verify_strict(input, &sig).is_ok()),
            Material::Hmac(secret) => {
                hmac_of(secret).is_ok_and(|mac| mac.chain_update(input).verify_slice(signature).is_ok())
            }
        }
    }

    /// The key's JWK as given.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }
}

fn hmac_of(secret: &[u8]) -> Result<Hmac<Sha256>> {
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Error::new(ErrorKind::InvalidTokenKey, "bad HMAC secret"))
}

/// Every token key of a deployment, by `kid`. The signing key is named by
/// `signing_kid` (default: the first key that can sign); the others still verify,
/// which is how keys rotate.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    keys: Vec<TokenKey>,
}

impl Keyring {
    /// Compiles JWKs; `invalid_token_key` for a bad key or a repeated `kid`.
    pub fn new(jwks: &[Jwk]) -> Result<Self> {
        let mut keys: Vec<TokenKey> = Vec::with_capacity(jwks.len());
        for jwk in jwks {
            let key = TokenKey::from_jwk(jwk)?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(bad_key(&key.kid, "kid appears twice"));
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// The key named `kid`.
    pub fn get(&self, kid: &str) -> Option<&TokenKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The key to sign with: `kid`, or the first that can sign.
    pub fn signer(&self, kid: Option<&str>) -> Result<&TokenKey> {
        let found = match kid {
            Some(kid) => self.get(kid),
            None => self.keys.iter().find(|k| k.can_sign()),
        };
        found.filter(|k| k.can_sign()).ok_or_else(|| Error::new(ErrorKind::InvalidTokenKey, "no key can sign tokens"))
    }

    /// Every key.
    pub fn keys(&self) -> &[TokenKey] {
        &self.keys
    }

    /// The public JWKS (`{"keys": [...]}`): Ed25519 public keys only, never `d`
    /// and never an HMAC secret. Publish it for verifiers elsewhere.
    pub fn public_jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .filter_map(|k| k.jwk.public())
            .map(|j| {
                serde_json::json!({"kty": j.kty, "crv": j.crv, "x": j.x, "kid": j.kid, "alg": "EdDSA", "use": "sig"})
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_and_hmac_keys_sign_and_verify() {
        let ed = TokenKey::from_jwk(&Jwk::ed25519(&[7; 32], "ed-1").unwrap()).unwrap();
        let sig = ed.sign(b"input").unwrap();
        assert!(ed.verify(b"input", &sig));
        assert!(!ed.verify(b"inpuT", &sig));
        let hs = TokenKey::from_jwk(&Jwk::hs256(&[9; 32], "hs-1").unwrap()).unwrap();
        assert!(hs.verify(b"x", &hs.sign(b"x").unwrap()));
        assert_eq!(Jwk::hs256(&[9; 31], "short").err().map(|e| e.code()), Some("invalid_token_key"));
        let public = Jwk::ed25519(&[7; 32], "ed-1").unwrap().public().unwrap();
        let verify_only = TokenKey::from_jwk(&public).unwrap();
        assert!(verify_only.verify(b"input", &sig) && verify_only.sign(b"x").is_err());
        let ring = Keyring::new(&[Jwk::ed25519(&[7; 32], "ed-1").unwrap(), Jwk::hs256(&[9; 32], "hs-1").unwrap()]);
        let jwks = ring.unwrap().public_jwks().to_string();
        assert!(jwks.contains("ed-1") && !jwks.contains("hs-1") && !jwks.contains("\"d\""));
        assert!(!format!("{:?}", Jwk::hs256(&[9; 32], "hs-1").unwrap()).contains(&b64url(&[9; 32])));
    }
}
