//! HTTP request heads → [`HttpFacts`].
//!
//! The request-target is read in the three forms a gateway meets: origin
//! form (`/path?q`, host from the `Host` header), absolute form
//! (`https://h:8443/p?q`, as sent to a forward proxy) and authority form
//! (`host:443`, for `CONNECT`). The path is kept exactly as sent: rules
//! match what the server will be asked for, and any normalisation here
//! would be one the server may not share.
//!
//! Fail closed on ambiguity: a head that two HTTP implementations could read
//! differently (two `Host` headers, a `Host` that disagrees with an absolute
//! target, conflicting `Content-Length`s, `Content-Length` beside
//! `Transfer-Encoding`) is how requests are smuggled past a gateway, so it is
//! a parse error, not a guess.

use crate::facts::{Facts, HttpFacts};

/// Analyses one request head. `target` is the request-target as sent:
/// origin form `/path?q` (with a `Host` header), absolute form
/// `https://h:8443/p?q`, or authority form `host:443` for `CONNECT`.
/// `scheme_hint` (`http` or `https`) is the scheme of the connection the
/// request came on, used when the target does not name one.
///
/// Never panics. `body_size` is the declared `Content-Length`, -1 when
/// absent or unreadable. For `CONNECT` the path is empty. An invalid head
/// (no host, bad port, bad method or header name, an ambiguity listed in
/// the module docs) sets `has_parse_error`; the facts that could be read
/// are still filled in.
pub fn analyse_http(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    scheme_hint: &str,
) -> Facts {
    let mut http = HttpFacts {
        method: method.to_ascii_uppercase(),
        body_size: -1,
        ..HttpFacts::default()
    };
    let mut errors = Vec::new();
    if !is_token(method) {
        errors.push(format!("invalid method {method:?}"));
    }
    if let Err(e) = read_headers(&mut http, headers) {
        errors.push(e);
    }
    match body_size(headers) {
        Ok(size) => http.body_size = size,
        Err(e) => errors.push(e),
    }
    if let Err(e) = read_target(&mut http, target, headers, scheme_hint) {
        errors.push(e);
    }
    let parse_error = errors.into_iter().next().unwrap_or_default();
    Facts {
        kind: "http".into(),
        http,
        has_parse_error: !parse_error.is_empty(),
        parse_error,
        ..Facts::default()
    }
}

fn read_headers(http: &mut HttpFacts, headers: &[(String, String)]) -> Result<(), String> {
    let mut result = Ok(());
    for (name, value) in headers {
        if result.is_ok() && !is_token(name) {
            result = Err(format!("invalid header name {name:?}"));
        }
        // A line break or NUL in a value would split it into two headers
        // (or two requests) once written back to the wire.
        if result.is_ok() && value.contains(['\r', '\n', '\0']) {
            result = Err(format!(
                "header {name:?} has a line break or NUL in its value"
            ));
        }
        http.header_names.push(name.to_ascii_lowercase());
    }
    http.header_names.sort();
    http.header_names.dedup();
    result
}

/// The declared body size. Several `Content-Length` values (repeated
/// headers, or `5, 5` in one) are fine only when they agree (RFC 9110
/// §8.6); `Transfer-Encoding` beside `Content-Length` is refused (RFC 9112
/// §6.1 lets a server reject it, and a gateway must: that pair is the
/// classic request-smuggling vector).
fn body_size(headers: &[(String, String)]) -> Result<i64, String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, value)| value.split(','))
        .map(|v| v.trim_matches([' ', '\t']))
        .collect();
    let chunked = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("transfer-encoding"));
    if chunked && !values.is_empty() {
        return Err("both Transfer-Encoding and Content-Length".into());
    }
    match values.as_slice() {
        [] => Ok(-1),
        [one] => Ok(parse_length(one).unwrap_or(-1)),
        [first, rest @ ..] => {
            let first = parse_length(first);
            match first {
                Some(n) if rest.iter().all(|v| parse_length(v) == first) => Ok(n),
                _ => Err("conflicting Content-Length values".into()),
            }
        }
    }
}

fn parse_length(value: &str) -> Option<i64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn read_target(
    http: &mut HttpFacts,
    target: &str,
    headers: &[(String, String)],
    scheme_hint: &str,
) -> Result<(), String> {
    if let Some(bad) = target.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("request-target contains {bad:?}"));
    }
    // A fragment is never sent (RFC 9112 §3.2); servers differ on what
    // they make of one.
    if target.contains('#') {
        return Err("request-target contains a fragment (`#`)".into());
    }
    let host_header = host_header(headers)?;
    http.scheme = scheme_hint.to_ascii_lowercase();

    if http.method == "CONNECT" {
        if target.contains(['/', '?']) {
            return Err(format!("CONNECT needs host:port, not {target:?}"));
        }
        let authority = Authority::parse(target)?;
        if authority.port.is_none() {
            return Err(format!("CONNECT target {target:?} has no port"));
        }
        return set_host(http, &authority, host_header);
    }

    let (authority, rest) = if target == "*" {
        if http.method != "OPTIONS" {
            return Err("`*` is a request-target only for OPTIONS".into());
        }
        (None, "*")
    } else if target.starts_with('/') {
        (None, target)
    } else if let Some((scheme, rest)) = target.split_once("://") {
        if !is_scheme(scheme) {
            return Err(format!("invalid scheme {scheme:?}"));
        }
        http.scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        (Some(Authority::parse(authority)?), rest)
    } else {
        return Err(format!("invalid request-target {target:?}"));
    };

    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    http.path = if path.is_empty() { "/" } else { path }.to_string();
    http.query_keys = form_urlencoded::parse(query.as_bytes())
        .map(|(key, _)| key.into_owned())
        .filter(|key| !key.is_empty())
        .collect();
    http.query_keys.sort();
    http.query_keys.dedup();

    match authority {
        Some(authority) => set_host(http, &authority, host_header),
        None => {
            let value = host_header.ok_or("no host: origin-form target and no Host header")?;
            let authority = Authority::parse(value)?;
            set_host(http, &authority, None)
        }
    }
}

/// The single `Host` header, if any: RFC 9112 §3.2 requires a 400 for more
/// than one.
fn host_header(headers: &[(String, String)]) -> Result<Option<&str>, String> {
    let mut hosts = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim_matches([' ', '\t']));
    let first = hosts.next();
    if hosts.next().is_some() {
        return Err("more than one Host header".into());
    }
    Ok(first)
}

/// Sets host and port from the target's authority. A `Host` header beside
/// an absolute or authority-form target must name the same host and port:
/// RFC 9112 §3.2.2 has a proxy ignore it, but a server behind a gateway that
/// reads one while the gateway checks the other is the confusion rules
/// exist to prevent.
fn set_host(
    http: &mut HttpFacts,
    authority: &Authority,
    host_header: Option<&str>,
) -> Result<(), String> {
    http.host = authority.host.clone();
    let port = authority.port_or_default(&http.scheme)?;
    http.port = i64::from(port);
    if let Some(value) = host_header {
        let header = Authority::parse(value)?;
        let header_port = header.port_or_default(&http.scheme)?;
        if header.host != authority.host || header_port != port {
            return Err(format!(
                "Host header {value:?} disagrees with the request-target"
            ));
        }
    }
    Ok(())
}

/// `host[:port]` or `[v6]:port`, without user information (RFC 9110 §4.2.4:
/// its presence is treated as an error; it is how phishing URLs hide the
/// real host).
#[derive(Debug)]
struct Authority {
    /// Lower-case, brackets and one trailing dot removed.
    host: String,
    port: Option<u16>,
}

impl Authority {
    fn parse(s: &str) -> Result<Self, String> {
        if s.contains('@') {
            return Err(format!("user information in authority {s:?}"));
        }
        let (host, port) = match s.strip_prefix('[') {
            Some(rest) => {
                let (v6, after) = rest
                    .split_once(']')
                    .ok_or_else(|| format!("unclosed `[` in {s:?}"))?;
                let valid = v6.contains(':')
                    && v6
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
                if !valid {
                    return Err(format!("invalid IPv6 address {v6:?}"));
                }
                let port = match after {
                    "" => None,
                    _ => Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| format!("unexpected {after:?} after `]`"))?,
                    ),
                };
                (v6.to_ascii_lowercase(), port)
            }
            None => {
                let (name, port) = match s.split_once(':') {
                    Some((name, port)) => (name, Some(port)),
                    None => (s, None),
                };
                let name = name.strip_suffix('.').unwrap_or(name);
                let valid = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
                if !valid {
                    return Err(format!("invalid host {s:?}"));
                }
                (name.to_ascii_lowercase(), port)
            }
        };
        let port = match port {
            // `host:` is allowed by RFC 3986 and means the default port.
            None | Some("") => None,
            Some(p) => Some(parse_port(p).ok_or_else(|| format!("invalid port {p:?}"))?),
        };
        Ok(Self { host, port })
    }

    fn port_or_default(&self, scheme: &str) -> Result<u16, String> {
        match (self.port, scheme) {
            (Some(port), _) => Ok(port),
            (None, "http" | "ws") => Ok(80),
            (None, "https" | "wss") => Ok(443),
            (None, _) => Err(format!(
                "no port, and no default port for scheme {scheme:?}"
            )),
        }
    }
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&port| port != 0)
}

/// RFC 9110 §5.6.2 `token`: methods and header names.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 3986 §3.1 `scheme`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn ok(method: &str, target: &str, headers: &[(&str, &str)], scheme: &str) -> HttpFacts {
        let facts = analyse_http(method, target, &h(headers), scheme);
        assert_eq!(facts.kind, "http");
        assert!(
            !facts.has_parse_error,
            "{method} {target} should parse: {}",
            facts.parse_error
        );
        facts.http
    }

    fn err(method: &str, target: &str, headers: &[(&str, &str)], scheme: &str) -> String {
        let facts = analyse_http(method, target, &h(headers), scheme);
        assert!(
            facts.has_parse_error,
            "{method} {target} should not parse: {facts:#?}"
        );
        assert_eq!(facts.kind, "http");
        facts.parse_error
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn absolute_form() {
        let http = ok(
            "get",
            "HTTPS://API.Example.COM:8443/v1/Users/../x?b=2&a=1&a=3",
            &[("User-Agent", "t"), ("Accept", "*/*"), ("accept", "x")],
            "http",
        );
        assert_eq!(http.method, "GET");
        assert_eq!(http.scheme, "https");
        assert_eq!(http.host, "api.example.com");
        assert_eq!(http.port, 8443);
        assert_eq!(http.path, "/v1/Users/../x");
        assert_eq!(http.query_keys, strs(&["a", "b"]));
        assert_eq!(http.header_names, strs(&["accept", "user-agent"]));
        assert_eq!(http.body_size, -1);

        let http = ok("GET", "http://example.com", &[], "https");
        assert_eq!(
            (http.scheme.as_str(), http.port, http.path.as_str()),
            ("http", 80, "/")
        );
        let http = ok(
            "GET",
            "https://example.com?x",
            &[("Host", "example.com:443")],
            "",
        );
        assert_eq!((http.port, http.path.as_str()), (443, "/"));
        assert_eq!(http.query_keys, strs(&["x"]));
    }

    #[test]
    fn origin_form_with_host_header() {
        let http = ok(
            "POST",
            "/upload?name=a%20b&x+y=1&%7Ekey=&&=v",
            &[("Host", " Files.Example.:8080 "), ("Content-Length", "42")],
            "http",
        );
        assert_eq!(http.host, "files.example");
        assert_eq!(http.port, 8080);
        assert_eq!(http.scheme, "http");
        assert_eq!(http.path, "/upload");
        assert_eq!(http.query_keys, strs(&["name", "x y", "~key"]));
        assert_eq!(http.body_size, 42);
        assert_eq!(http.header_names, strs(&["content-length", "host"]));

        let http = ok("GET", "/a%2F..%2Fb", &[("host", "x.example")], "HTTPS");
        assert_eq!((http.scheme.as_str(), http.port), ("https", 443));
        assert_eq!(http.path, "/a%2F..%2Fb");
        assert!(err("GET", "/", &[], "http").contains("no host"));
        assert!(err("GET", "/", &[("Host", "")], "http").contains("invalid host"));
        assert!(err("GET", "/", &[("Host", "x")], "").contains("no default port"));
        let http = ok("OPTIONS", "*", &[("Host", "x")], "http");
        assert_eq!(http.path, "*");
    }

    #[test]
    fn connect_authority_form() {
        let http = ok(
            "CONNECT",
            "db.internal:5432",
            &[("Host", "db.internal:5432")],
            "http",
        );
        assert_eq!(http.method, "CONNECT");
        assert_eq!(http.host, "db.internal");
        assert_eq!(http.port, 5432);
        assert_eq!(http.path, "");
        let http = ok("CONNECT", "[2001:DB8::1]:443", &[], "http");
        assert_eq!((http.host.as_str(), http.port), ("2001:db8::1", 443));
        assert!(err("CONNECT", "db.internal", &[], "http").contains("no port"));
        assert!(err("CONNECT", "http://x:1/", &[], "http").contains("host:port"));
    }

    #[test]
    fn ipv6_hosts() {
        let http = ok("GET", "http://[::1]:8080/x", &[], "http");
        assert_eq!((http.host.as_str(), http.port), ("::1", 8080));
        let http = ok("GET", "/", &[("Host", "[FE80::A]")], "https");
        assert_eq!((http.host.as_str(), http.port), ("fe80::a", 443));
        err("GET", "http://[::1/", &[], "http");
        err("GET", "http://[::1]x/", &[], "http");
        err("GET", "http://[zz]/", &[], "http");
        err("GET", "/", &[("Host", "::1")], "http");
    }

    #[test]
    fn ports() {
        for bad in ["x:0", "x:65536", "x:-1", "x:8o", "x:123456", "x:+80"] {
            assert!(
                err("GET", "/", &[("Host", bad)], "http").contains("port"),
                "{bad}"
            );
        }
        assert_eq!(ok("GET", "/", &[("Host", "x:")], "http").port, 80);
        assert_eq!(ok("GET", "/", &[("Host", "x:65535")], "http").port, 65535);
        let http = ok("GET", "ftp://x:21/f", &[], "http");
        assert_eq!((http.scheme.as_str(), http.port), ("ftp", 21));
        assert!(err("GET", "ftp://x/f", &[], "http").contains("no default port"));
    }

    #[test]
    fn content_length() {
        let size = |values: &[&str]| {
            let headers: Vec<(&str, &str)> =
                values.iter().map(|v| ("Content-Length", *v)).collect();
            analyse_http(
                "POST",
                "/",
                &h(&[&[("Host", "x")], &headers[..]].concat()),
                "http",
            )
        };
        assert_eq!(size(&["10"]).http.body_size, 10);
        assert_eq!(size(&["0"]).http.body_size, 0);
        assert_eq!(size(&["10", "10"]).http.body_size, 10);
        assert_eq!(size(&["10, 10"]).http.body_size, 10);
        for invalid in ["", "abc", "-1", "+5", "99999999999999999999"] {
            let facts = size(&[invalid]);
            assert_eq!(facts.http.body_size, -1, "{invalid}");
            assert!(!facts.has_parse_error, "{invalid}");
        }
        for conflicting in [&["10", "11"][..], &["10, 11"], &["10", "x"], &["x", "x"]] {
            let facts = size(conflicting);
            assert!(facts.parse_error.contains("conflicting"), "{conflicting:?}");
        }
        let facts = analyse_http(
            "POST",
            "/",
            &h(&[
                ("Host", "x"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Length", "5"),
            ]),
            "http",
        );
        assert!(facts.parse_error.contains("Transfer-Encoding"));
        assert_eq!(
            ok(
                "POST",
                "/",
                &[("Host", "x"), ("Transfer-Encoding", "chunked")],
                "http"
            )
            .body_size,
            -1
        );
    }

    #[test]
    fn ambiguous_hosts_are_refused() {
        assert!(err("GET", "/", &[("Host", "a"), ("host", "a")], "http").contains("more than one"));
        assert!(
            err("GET", "http://a.example/", &[("Host", "b.example")], "http").contains("disagrees")
        );
        assert!(
            err(
                "GET",
                "http://a.example/",
                &[("Host", "a.example:81")],
                "http"
            )
            .contains("disagrees")
        );
        ok(
            "GET",
            "http://a.example/",
            &[("Host", "A.example:80")],
            "http",
        );
        assert!(err("GET", "http://u:p@a.example/", &[], "http").contains("user information"));
        assert!(
            err("GET", "/", &[("Host", "evil.example@a")], "http").contains("user information")
        );
        err("GET", "http://a%2eexample/", &[], "http");
        err("GET", "http:///x", &[], "http");
    }

    #[test]
    fn malformed_heads() {
        assert!(err("GET", "x/y", &[("Host", "x")], "http").contains("request-target"));
        assert!(err("GET", "/a b", &[("Host", "x")], "http").contains("request-target"));
        assert!(err("GET", "/a#frag", &[("Host", "x")], "http").contains("fragment"));
        assert!(err("GE T", "/", &[("Host", "x")], "http").contains("method"));
        assert!(err("", "/", &[("Host", "x")], "http").contains("method"));
        assert!(
            err("GET", "/", &[("Host", "x"), ("Bad Name", "v")], "http").contains("header name")
        );
        assert!(
            err(
                "GET",
                "/",
                &[("Host", "x"), ("X", "a\r\nInjected: 1")],
                "http"
            )
            .contains("line break")
        );
        assert!(err("GET", "*", &[("Host", "x")], "http").contains("OPTIONS"));
        err("GET", "1http://x/", &[], "http");
        // What could be read is still reported.
        let facts = analyse_http("get", "/p?k=1", &h(&[("X-A", "1")]), "http");
        assert!(facts.has_parse_error);
        assert_eq!(facts.http.method, "GET");
        assert_eq!(facts.http.path, "/p");
        assert_eq!(facts.http.header_names, strs(&["x-a"]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_and_is_deterministic(
            method in "\\PC{0,10}",
            target in "\\PC{0,80}",
            headers in proptest::collection::vec(("\\PC{0,20}", "\\PC{0,30}"), 0..6),
            scheme in "\\PC{0,8}",
        ) {
            let a = analyse_http(&method, &target, &headers, &scheme);
            prop_assert_eq!(a.kind.as_str(), "http");
            prop_assert_eq!(a.has_parse_error, !a.parse_error.is_empty());
            prop_assert_eq!(a, analyse_http(&method, &target, &headers, &scheme));
        }

        #[test]
        fn url_like_input(
            target in "(https?://)?[a-zA-Z0-9.:\\[\\]@%/?&=+#*-]{0,60}",
            host in "[a-zA-Z0-9.:\\[\\]-]{0,20}",
            length in "[0-9, x]{0,8}",
        ) {
            let headers = vec![
                ("Host".to_string(), host),
                ("Content-Length".to_string(), length),
            ];
            let a = analyse_http("GET", &target, &headers, "https");
            prop_assert_eq!(a.has_parse_error, !a.parse_error.is_empty());
            prop_assert_eq!(a, analyse_http("GET", &target, &headers, "https"));
        }
    }
}
