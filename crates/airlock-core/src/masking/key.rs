//! The key of the `hash` style. It must stay the same across restarts
//! (equal values keep mapping to equal tokens) and never leave the
//! gateway, so it lives in a file of its own or in the environment, never
//! in the configuration file.

use std::io::Write;
use std::path::Path;

use super::MaskingConfig;

pub fn load(config: &MaskingConfig, data_dir: &Path) -> Result<[u8; 32], String> {
    if let Some(var) = &config.hash_key_env {
        let value =
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?;
        return parse(&value).map_err(|why| format!("environment variable {var}: {why}"));
    }
    let path = match &config.hash_key_file {
        Some(p) => p.clone(),
        None => data_dir.join("mask.key"),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).map_err(|why| format!("{}: {why}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && config.hash_key_file.is_none() => {
            create(&path)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn parse(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text.trim()).map_err(|_| "the key must be 64 hex characters")?;
    bytes
        .try_into()
        .map_err(|_| "the key must be 64 hex characters (32 bytes)".to_string())
}

fn create(path: &Path) -> Result<[u8; 32], String> {
    let key: [u8; 32] = rand::random();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut file = crate::secret::create_private(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    writeln!(file, "{}", hex::encode(key))
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated the masking hash key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = MaskingConfig::default();
        let first = load(&config, dir.path()).unwrap();
        let again = load(&config, dir.path()).unwrap();
        assert_eq!(first, again);
        assert_ne!(first, [0; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("mask.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key file must be private");
        }
    }

    #[test]
    fn a_bad_key_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not-a-key-SECRETVALUE").unwrap();
        let config = MaskingConfig {
            hash_key_file: Some(path),
            ..MaskingConfig::default()
        };
        let err = load(&config, dir.path()).unwrap_err();
        assert!(err.contains("64 hex"), "{err}");
        assert!(!err.contains("SECRETVALUE"), "{err}");
    }
}
