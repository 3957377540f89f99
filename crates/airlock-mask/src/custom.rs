//! Detectors defined by configuration: a regex over the value's bytes,
//! optionally confirmed by a built-in validator.

use regex::bytes::{Regex, RegexBuilder};

use crate::config::CustomDetector;
use crate::detectors::Hit;
use crate::error::MaskError;
use crate::validate::Validator;

/// Bounds compile time and memory of a hostile or careless pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct Custom {
    regex: Regex,
    validator: Option<Validator>,
}

impl Custom {
    pub(crate) fn build(def: &CustomDetector) -> Result<Custom, MaskError> {
        check_name(&def.name)?;
        let validator = match &def.validator {
            None => None,
            Some(v) => {
                Some(
                    Validator::from_name(v).ok_or_else(|| MaskError::UnknownValidator {
                        name: def.name.clone(),
                        validator: v.clone(),
                    })?,
                )
            }
        };
        let regex = RegexBuilder::new(&def.pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| MaskError::BadPattern {
                name: def.name.clone(),
                message: e.to_string(),
            })?;
        Ok(Custom { regex, validator })
    }

    pub(crate) fn scan(&self, det: u16, hay: &[u8], out: &mut Vec<Hit>) {
        for m in self.regex.find_iter(hay) {
            let confirmed = self.validator.is_none_or(|v| v.check(m.as_bytes()));
            if !m.is_empty() && confirmed {
                out.push(Hit {
                    start: m.start(),
                    end: m.end(),
                    det,
                });
            }
        }
    }
}

/// Names end up inside `<masked:NAME>`: keep them short, ASCII and free of
/// anything that could end the token or look like data.
fn check_name(name: &str) -> Result<(), MaskError> {
    let bad = |reason| {
        Err(MaskError::BadName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() || name.len() > 64 {
        return bad("must be 1 to 64 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return bad("only a-z, 0-9 and _ are allowed");
    }
    if !name.as_bytes()[0].is_ascii_lowercase() {
        return bad("must start with a letter");
    }
    Ok(())
}
