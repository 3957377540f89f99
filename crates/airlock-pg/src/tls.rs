//! TLS on both sides: the certificate the gateway shows clients, and the
//! client configuration it uses towards targets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use airlock_core::config::{ServerTls, TargetTls};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no usable {what} in {path}")]
    Empty { what: &'static str, path: PathBuf },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server side: the configured certificate, or a self-signed one kept
/// in `data_dir/tls/` (generated on first start, reused afterwards so that
/// clients pinning it keep working).
pub fn server_config(
    configured: Option<&ServerTls>,
    data_dir: &Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let (cert_file, key_file) = match configured {
        Some(t) => (t.cert_file.clone(), t.key_file.clone()),
        None => ensure_self_signed(&data_dir.join("tls"))?,
    };
    let certs = load_certs(&cert_file)?;
    let key = load_key(&key_file)?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

fn ensure_self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_file = dir.join("gateway.crt");
    let key_file = dir.join("gateway.key");
    if cert_file.exists() && key_file.exists() {
        return Ok((cert_file, key_file));
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let generated = rcgen::generate_simple_self_signed(names)?;
    write_private(&key_file, generated.signing_key.serialize_pem().as_bytes())
        .map_err(write_err(&key_file))?;
    std::fs::write(&cert_file, generated.cert.pem()).map_err(write_err(&cert_file))?;
    tracing::info!(cert = %cert_file.display(), "generated a self-signed certificate for clients");
    Ok((cert_file, key_file))
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(data)
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let data = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut data.as_slice())
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what: "certificate",
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let data = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    rustls_pemfile::private_key(&mut data.as_slice())
        .ok()
        .flatten()
        .ok_or(TlsError::Empty {
            what: "private key",
            path: path.to_path_buf(),
        })
}

/// The client side towards one target; `None` for `tls: disable`.
pub fn target_config(
    mode: TargetTls,
    ca_file: Option<&Path>,
) -> Result<Option<Arc<ClientConfig>>, TlsError> {
    match mode {
        TargetTls::Disable => Ok(None),
        TargetTls::Require => {
            let provider = rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
            let config = ClientConfig::builder()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
                .with_no_client_auth();
            Ok(Some(Arc::new(config)))
        }
        TargetTls::VerifyFull => {
            let mut roots = RootCertStore::empty();
            let path = ca_file.ok_or(TlsError::Empty {
                what: "CA file (ca_file)",
                path: PathBuf::new(),
            })?;
            for cert in load_certs(path)? {
                roots.add(cert)?;
            }
            let config = ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Some(Arc::new(config)))
        }
    }
}

/// `tls: require`, as libpq's `sslmode=require`: the channel is encrypted
/// and the handshake signatures are checked, but whose certificate it is
/// is not. Use `verify-full` where the target's identity matters.
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
