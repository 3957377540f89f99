//! TLS for `https://` webhooks (audit sinks and review notifications):
//! the receiver's certificate is checked against the system's trusted
//! roots, or only against `ca_file` when one is given (a private CA).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::{ClientConfig, RootCertStore};

/// The client configuration for one webhook.
pub(crate) fn client_config(ca_file: Option<&Path>) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("ca_file: reading {}", path.display()))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert =
                    cert.with_context(|| format!("ca_file: {} is not PEM", path.display()))?;
                roots
                    .add(cert)
                    .with_context(|| format!("ca_file: a certificate in {}", path.display()))?;
            }
            if roots.is_empty() {
                anyhow::bail!("ca_file: {} holds no certificate", path.display());
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::debug!(error = %error, "a system root certificate could not be read");
            }
            // Certificates the system trusts but rustls cannot parse are
            // skipped rather than failing every webhook.
            let (_added, _skipped) = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                anyhow::bail!(
                    "https: no trusted root certificates found on this system \
                     (install the ca-certificates package, or give ca_file)"
                );
            }
        }
    }
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
