//! TLS for the PostgreSQL store, with libpq's `sslmode` meanings (rustls, no
//! OpenSSL): `disable` plain text; `allow` / `prefer` (the default) TLS when the
//! server offers it, unverified; `require` TLS, unverified (verified as
//! `verify-ca` when `sslrootcert` is given, as libpq does); `verify-ca` the
//! chain against the root certificates; `verify-full` the chain and the host
//! name. `sslrootcert` is a PEM file, or `system` for the OS trust store; the
//! default is libpq's `~/.postgresql/root.crt`.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Encrypted, certificate unchecked (libpq's `prefer` / `require`).
    Nothing,
    /// The chain up to a trusted root, not the host name (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// The TLS settings of a PostgreSQL URL.
#[derive(Debug, PartialEq, Eq)]
pub struct Tls {
    /// The URL without `sslmode` / `sslrootcert` (the driver does not read them).
    pub url: String,
    /// What the driver asks of the server.
    pub mode: SslMode,
    check: Check,
    root: Option<String>,
}

impl Tls {
    /// Reads `sslmode` and `sslrootcert` from `url`; other `ssl*` client settings are refused.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let (mut mode, mut root, mut kept) = (None, None, Vec::new());
        for param in query.split('&').filter(|p| !p.is_empty()) {
            match param.split_once('=').unwrap_or((param, "")) {
                ("sslmode", value) => mode = Some(value.to_string()),
                ("sslrootcert", value) => root = Some(value.to_string()),
                (name @ ("sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir"), _) => {
                    return Err(format!("{name} is not supported (client certificates and CRLs are not)"))
                }
                _ => kept.push(param),
            }
        }
        let (mode, check) = match mode.as_deref().unwrap_or("prefer") {
            "disable" => (SslMode::Disable, Check::Nothing),
            "allow" | "prefer" => (SslMode::Prefer, Check::Nothing),
            "require" if root.is_some() => (SslMode::Require, Check::Chain),
            "require" => (SslMode::Require, Check::Nothing),
            "verify-ca" => (SslMode::Require, Check::Chain),
            "verify-full" => (SslMode::Require, Check::Full),
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ))
            }
        };
        let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        Ok(Self { url, mode, check, root })
    }

    /// The connector (`None` for `sslmode=disable`).
    pub fn connector(&self) -> Result<Option<MakeRustlsConnect>, String> {
        if self.mode == SslMode::Disable {
            return Ok(None);
        }
        #[allow(deprecated)] // ring's provider: no post-quantum key exchange, but no C toolchain beyond cc to build
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.check {
            Check::Nothing => Arc::new(Relaxed { provider, chain: None }),
            check => {
                let roots = Arc::new(self.roots()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| format!("the root certificates cannot be used: {e}"))?;
                match check {
                    Check::Full => webpki,
                    _ => Arc::new(Relaxed { provider, chain: Some(webpki) }),
                }
            }
        };
        let config = builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
        Ok(Some(MakeRustlsConnect::new(config)))
    }

    /// The trusted roots: `sslrootcert`'s PEM file, the OS store (`system`) or libpq's default file.
    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        if self.root.as_deref() == Some("system") {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            return if added > 0 { Ok(roots) } else { Err("the system trust store holds no certificates".into()) };
        }
        let path = match &self.root {
            Some(path) => PathBuf::from(path),
            None => default_root_file().ok_or("no sslrootcert and no home directory for ~/.postgresql/root.crt")?,
        };
        let shown = path.display();
        if !path.is_file() {
            return Err(format!(
                "root certificate file {shown} does not exist: give sslrootcert=<PEM file> (or sslrootcert=system), \
                 or use sslmode=require"
            ));
        }
        let certs = CertificateDer::pem_file_iter(&path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("cannot read root certificates from {shown}: {e}"))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("{shown} holds no usable certificate"));
        }
        Ok(roots)
    }
}

/// libpq's default root certificate file.
fn default_root_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".postgresql").join("root.crt"))
}

/// libpq's weaker checks: no check of the certificate at all (`chain: None`, as
/// `require` without roots), or of its chain but not its name (`verify-ca`). The
/// handshake's signatures are always checked, so the session is encrypted to
/// whoever holds the certificate's key.
#[derive(Debug)]
struct Relaxed {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Check, SslMode, Tls};

    fn read(url: &str) -> (String, SslMode, Check) {
        let tls = Tls::from_url(url).unwrap();
        (tls.url, tls.mode, tls.check)
    }

    #[test]
    fn modes_mean_what_libpq_says() {
        let base = "postgresql://ops@db/keys";
        assert_eq!(read(base), (base.to_string(), SslMode::Prefer, Check::Nothing));
        let plain = read(&format!("{base}?application_name=x&sslmode=disable"));
        assert_eq!(plain, (format!("{base}?application_name=x"), SslMode::Disable, Check::Nothing));
        assert_eq!(read(&format!("{base}?sslmode=require")).2, Check::Nothing);
        assert_eq!(read(&format!("{base}?sslmode=require&sslrootcert=/ca.pem")).2, Check::Chain);
        assert_eq!(read(&format!("{base}?sslmode=verify-ca")), (base.to_string(), SslMode::Require, Check::Chain));
        assert_eq!(read(&format!("{base}?sslrootcert=system&sslmode=verify-full")).2, Check::Full);
    }

    #[test]
    fn unknown_modes_and_client_certificates_are_refused() {
        let refused = Tls::from_url("postgresql://db/keys?sslmode=verify").unwrap_err();
        assert!(refused.contains("sslmode=verify is not one of"), "{refused}");
        assert!(Tls::from_url("postgresql://db/keys?sslcert=/c.pem").unwrap_err().contains("sslcert"));
    }

    #[test]
    fn a_missing_root_file_is_explained() {
        let tls = Tls::from_url("postgresql://db/keys?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").unwrap();
        let e = tls.connector().err().unwrap();
        assert!(e.contains("/nonexistent/ca.pem does not exist"), "{e}");
    }
}
