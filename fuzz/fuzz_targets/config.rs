//! `airlock_core::Config::parse` over any text: never panics and decides
//! the same way twice; for a text that parses, `Guard::new` (rule
//! compilation, masking policy) never panics either.
//!
//! `Guard::new` touches the file system only for a masking `hash` style:
//! it reads `masking.hash_key_file`, or reads (and creates once)
//! `<data_dir>/mask.key`. The target points `data_dir` at a temporary
//! directory of its own and drops `hash_key_file`, so a fuzzed path (a
//! FIFO, `/dev/zero`, a real file) is never opened and nothing is
//! written outside that directory.
#![no_main]

use std::path::Path;
use std::sync::{Arc, LazyLock};

use airlock_core::{Config, Guard};
use libfuzzer_sys::fuzz_target;

static DATA_DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A path with a parent, so relative paths in the file are resolved.
    let path = Path::new("/etc/airlock/airlock.yaml");
    let parsed = Config::parse(path, text);
    let again = Config::parse(path, text);
    match (&parsed, &again) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("Config::parse decided differently on the same text"),
    }
    let Ok(mut config) = parsed else { return };
    config.data_dir = DATA_DIR.path().to_path_buf();
    config.masking.hash_key_file = None;
    let _ = Guard::new(Arc::new(config));
});
