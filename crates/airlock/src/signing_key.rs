//! The checkpoint signing key file: an Ed25519 private key, PKCS#8 in PEM
//! (`-----BEGIN PRIVATE KEY-----`), as `airlock audit keygen` or `openssl
//! genpkey -algorithm ed25519` write it. Errors name the file and what is
//! wrong with it, never its content.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow, bail};

use airlock_store::{CheckpointKey, PublicKey};

const PEM_TAG: &str = "PRIVATE KEY";

pub fn load(path: &Path) -> anyhow::Result<CheckpointKey> {
    let text = std::fs::read(path)
        .with_context(|| format!("reading the audit signing key {}", path.display()))?;
    // The parser's own errors may quote the offending line: keep them out.
    let pem = pem::parse(&text).map_err(|_| {
        anyhow!(
            "the audit signing key {} is not PEM (expected -----BEGIN {PEM_TAG}-----)",
            path.display()
        )
    })?;
    if pem.tag() != PEM_TAG {
        bail!(
            "the audit signing key {} holds a {:?} block, not a PKCS#8 {PEM_TAG:?}",
            path.display(),
            pem.tag()
        );
    }
    let key = CheckpointKey::from_pkcs8(pem.contents())
        .with_context(|| format!("the audit signing key {}", path.display()))?;
    warn_if_readable_by_others(path);
    Ok(key)
}

/// Writes a new key to `path`, readable by its owner only, and returns its
/// public half. An existing file is never overwritten: it may be the key
/// earlier checkpoints were signed with.
pub fn create(path: &Path) -> anyhow::Result<PublicKey> {
    let (key, pkcs8) = CheckpointKey::generate()?;
    let text = pem::encode_config(
        &pem::Pem::new(PEM_TAG, pkcs8),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    let mut file = airlock_core::secret::create_private(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key.public_key())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the audit signing key can be read by other users; chmod 600 it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_loads_back_and_is_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.key");
        let public = create(&path).expect("create");
        assert_eq!(load(&path).expect("load").public_key(), public);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(
            create(&path).is_err(),
            "an existing key is never overwritten"
        );
    }

    #[test]
    fn errors_name_the_file_but_not_its_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.key");
        std::fs::write(&path, "SECRET-MATERIAL").expect("write");
        let err = format!("{:#}", load(&path).expect_err("not pem"));
        assert!(err.contains("audit.key"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");

        let junk = pem::encode(&pem::Pem::new(PEM_TAG, b"SECRET-MATERIAL".to_vec()));
        std::fs::write(&path, junk).expect("write");
        let err = format!("{:#}", load(&path).expect_err("not a key"));
        assert!(
            err.contains("audit.key") && err.contains("Ed25519"),
            "{err}"
        );
        assert!(!err.contains("SECRET"), "{err}");

        let err = format!(
            "{:#}",
            load(&dir.path().join("missing.key")).expect_err("no file")
        );
        assert!(err.contains("missing.key"), "{err}");
    }
}
