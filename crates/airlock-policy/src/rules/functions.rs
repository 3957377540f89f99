//! The CEL environment rules run in: the standard library, the strings
//! extension (`lowerAscii`, `upperAscii`, `trim`, `replace`, …), and
//! `matches` with compiled expressions kept between evaluations.
//!
//! The `cel` crate's own `matches` compiles its pattern on every call —
//! hundreds of microseconds for a case-insensitive alternation, paid for
//! every list element a rule looks at, for every command. Rules use a
//! handful of fixed patterns, so each is compiled once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use cel::common::types::{CelBool, CelString};
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;

/// More distinct patterns than this (only possible when rules build
/// patterns from data) empties the cache rather than growing it.
const MAX_PATTERNS: usize = 1024;

static PATTERNS: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub fn environment() -> Result<Env, DeclarationError> {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)?;
    cel::add_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>, id = "matches")?;
    cel::add_member_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>)?;
    Ok(env)
}

fn matches(this: &CelString<'_>, pattern: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    let re = compiled(pattern.inner())?;
    Ok(CelBool::from(re.is_match(this.inner())))
}

fn compiled(pattern: &str) -> Result<Arc<Regex>, ExecutionError> {
    let mut cache = match PATTERNS.lock() {
        Ok(c) => c,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(re) = cache.get(pattern) {
        return Ok(re.clone());
    }
    let re = Regex::new(pattern).map_err(|e| ExecutionError::FunctionError {
        function: "matches".to_string(),
        message: format!("'{pattern}' is not a valid regular expression: {e}"),
    })?;
    if cache.len() >= MAX_PATTERNS {
        cache.clear();
    }
    let re = Arc::new(re);
    cache.insert(pattern.to_string(), re.clone());
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::{Context, Value};

    fn eval(src: &str) -> Result<Value, ExecutionError> {
        let env = Arc::new(environment().unwrap());
        let program = env.compile(src).unwrap();
        program.execute(&Context::with_env(env))
    }

    #[test]
    fn matches_works_as_a_member_and_a_function_and_reports_bad_patterns() {
        assert_eq!(
            eval("'api_keys'.matches('(?i)api_?key')"),
            Ok(Value::Bool(true))
        );
        assert_eq!(eval("matches('users', '^sec')"), Ok(Value::Bool(false)));
        assert_eq!(
            eval("'Secrets'.lowerAscii() == 'secrets'"),
            Ok(Value::Bool(true))
        );
        assert!(eval("'x'.matches('(')").is_err());
    }
}
