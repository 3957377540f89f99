//! The text a command's record keeps: the statement as sent, with what the
//! masker recognises in it masked.
//!
//! Drivers that use the extended protocol send the same statement text
//! with every Parse (`pgbench -M extended`, libpq's `PQexecParams`): its
//! literals are parameters, so the masked text is the same each time.
//! A session remembers its last text and what masking made of it, and
//! scans a repeated text only once: scanning it again was about 3 % of a
//! session's instructions per extended-protocol transaction
//! (bench/RESULTS.md, eighteenth run).

use std::borrow::Cow;
use std::sync::Arc;

use airlock_core::masking::MaskPolicy;

use crate::mask::StatementMask;

/// Stands in for a statement that names a masked column when its literals
/// cannot be told from the rest.
const WITHHELD_TEXT: &str =
    "<statement withheld: it names a masked column and its literals could not be separated>";

/// What a recording keeps of a command's text: never what a detector
/// recognises, and for a statement that names a column under a masking
/// rule (`mask`), no literal value at all (`set password = 'hunter2'` is
/// recorded as `set password = $1`).
pub fn recorded_text(
    policy: &MaskPolicy,
    text: &Arc<str>,
    mask: Option<&StatementMask>,
) -> Arc<str> {
    if mask.is_some_and(|m| m.mentions_masked) {
        return match airlock_policy::sql::without_literals(
            airlock_policy::sql::Dialect::Postgres,
            text,
        ) {
            Some(text) => policy.scrub(&text).into(),
            None => WITHHELD_TEXT.into(),
        };
    }
    match policy.scrub(text) {
        // Nothing to mask: the record shares the text the relay holds.
        Cow::Borrowed(_) => text.clone(),
        Cow::Owned(scrubbed) => scrubbed.into(),
    }
}

/// A session's last recorded text, for statements without masked
/// columns (the others are rare, and withhold their literals anyway).
#[derive(Default)]
pub struct TextMemo {
    last: Option<Remembered>,
}

struct Remembered {
    /// The policy it was masked under: a reloaded configuration may mask
    /// differently.
    policy: Arc<MaskPolicy>,
    sent: Arc<str>,
    recorded: Arc<str>,
}

impl TextMemo {
    /// As [`recorded_text`], answering a repeat of the last text (under
    /// the same policy) from memory.
    pub fn recorded(
        &mut self,
        policy: &Arc<MaskPolicy>,
        text: &Arc<str>,
        mask: Option<&StatementMask>,
    ) -> Arc<str> {
        if mask.is_some_and(|m| m.mentions_masked) {
            return recorded_text(policy, text, mask);
        }
        if let Some(last) = &self.last
            && Arc::ptr_eq(&last.policy, policy)
            && (Arc::ptr_eq(&last.sent, text) || *last.sent == **text)
        {
            return last.recorded.clone();
        }
        let recorded = recorded_text(policy, text, mask);
        self.last = Some(Remembered {
            policy: policy.clone(),
            sent: text.clone(),
            recorded: recorded.clone(),
        });
        recorded
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use airlock_core::masking::{MaskPolicy, MaskingConfig};

    use super::TextMemo;
    use crate::mask::StatementMask;

    fn policy(enabled: bool) -> Arc<MaskPolicy> {
        let config = MaskingConfig {
            enabled,
            ..MaskingConfig::default()
        };
        Arc::new(MaskPolicy::build(&config, Path::new("/unused")).unwrap())
    }

    const WITH_EMAIL: &str = "select * from t where email = 'ada@example.com'";

    #[test]
    fn a_repeated_text_is_scanned_once_and_recorded_alike() {
        let policy = policy(true);
        let mut memo = TextMemo::default();
        let first = memo.recorded(&policy, &Arc::from(WITH_EMAIL), None);
        assert!(!first.contains("ada@example.com"), "{first}");
        // Another copy of the same text, as the next Parse brings it.
        let again = memo.recorded(&policy, &Arc::from(WITH_EMAIL), None);
        assert!(Arc::ptr_eq(&first, &again), "{again}");
        let other = memo.recorded(
            &policy,
            &Arc::from("select * from u where email = 'bob@example.org'"),
            None,
        );
        assert!(!other.contains("bob@example.org"), "{other}");
        assert_ne!(other, first);
    }

    #[test]
    fn a_reloaded_policy_masks_the_same_text_afresh() {
        let text: Arc<str> = Arc::from(WITH_EMAIL);
        let mut memo = TextMemo::default();
        let off = policy(false);
        assert_eq!(&*memo.recorded(&off, &text, None), WITH_EMAIL);
        let on = policy(true);
        let masked = memo.recorded(&on, &text, None);
        assert!(!masked.contains("ada@example.com"), "{masked}");
    }

    #[test]
    fn a_statement_naming_a_masked_column_keeps_no_literal_though_its_text_was_remembered() {
        let policy = policy(true);
        let text: Arc<str> = Arc::from("update users set nickname = 'zebra' where id = 2");
        let mut memo = TextMemo::default();
        // No detector knows the value: without column rules it stays.
        assert!(memo.recorded(&policy, &text, None).contains("zebra"));
        let mask = StatementMask {
            mentions_masked: true,
            ..StatementMask::unruled()
        };
        let recorded = memo.recorded(&policy, &text, Some(&mask));
        assert!(!recorded.contains("zebra"), "{recorded}");
        assert!(recorded.contains("nickname"), "{recorded}");
    }
}
