//! `airlock_policy::shell::analyse_shell`: never panics (nesting and work
//! are budgeted), deterministic, and its summary lists are consistent.
#![no_main]

use airlock_policy::shell::analyse_shell;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let facts = analyse_shell(line);
    assert_eq!(facts, analyse_shell(line), "analyse_shell is deterministic");
    assert_eq!(facts.kind, "shell");
    assert_eq!(facts.has_parse_error, !facts.parse_error.is_empty());
    let programs = &facts.shell.programs;
    assert!(
        programs.windows(2).all(|w| w[0] < w[1]),
        "programs sorted and unique: {programs:?}"
    );
});
