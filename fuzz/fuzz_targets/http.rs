//! `airlock_policy::http::analyse_http` over a request head read from the
//! input (`METHOD TARGET VERSION`, then `Name: value` lines; a leading `!`
//! makes the connection HTTPS): never panics, deterministic, and header
//! names are case-insensitive — changing their case changes no fact, or
//! `Content-Length` / `Transfer-Encoding` / `Host` could be smuggled past
//! the rules by spelling.
#![no_main]

use airlock_policy::http::analyse_http;
use libfuzzer_sys::fuzz_target;

struct Head<'a> {
    method: &'a str,
    target: &'a str,
    headers: Vec<(String, String)>,
    scheme: &'static str,
}

fn head(text: &str) -> Head<'_> {
    let (scheme, text) = match text.strip_prefix('!') {
        Some(rest) => ("https", rest),
        None => ("http", text),
    };
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request = lines.next().unwrap_or_default();
    let mut parts = request.splitn(3, ' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            // Optional whitespace around a value is not part of it.
            Some((n, v)) => (n.to_string(), v.trim_matches([' ', '\t']).to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect();
    Head {
        method,
        target,
        headers,
        scheme,
    }
}

fn flip_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let h = head(text);
    let facts = analyse_http(h.method, h.target, &h.headers, h.scheme);
    assert_eq!(
        facts,
        analyse_http(h.method, h.target, &h.headers, h.scheme),
        "analyse_http is deterministic"
    );
    assert_eq!(facts.kind, "http");
    assert_eq!(facts.has_parse_error, !facts.parse_error.is_empty());

    let flipped: Vec<(String, String)> = h
        .headers
        .iter()
        .map(|(n, v)| (flip_case(n), v.clone()))
        .collect();
    let other = analyse_http(h.method, h.target, &flipped, h.scheme);
    assert_eq!(
        (&facts.http, facts.has_parse_error),
        (&other.http, other.has_parse_error),
        "header name case changed the facts"
    );
});
