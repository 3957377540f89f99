//! The CLI's side of the HTTP API, for the commands that act on a running
//! gateway (`reviews`, `grants`): decisions must reach the process that
//! holds the command, so they cannot go to the store directly.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::model::ErrorBody;
use crate::cli::ServerArgs;
use crate::sinks::http::Connection;

const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
const TOKEN_ENV: &str = "AIRLOCK_TOKEN";
/// Lists of reviews carry their commands; far more than the 64 KiB a
/// webhook's answer may have.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// What the API refused, as it said it: printed `message (code)`.
#[derive(Debug)]
pub struct ApiFailure {
    pub code: String,
    pub message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiFailure {}

pub struct ApiClient {
    server: Server,
    authorization: HeaderValue,
    connection: Connection,
}

impl ApiClient {
    /// Finds the server (`--server`/`AIRLOCK_SERVER`, else the given
    /// configuration's `listen.api`, else the default address) and the
    /// token (`AIRLOCK_TOKEN`; never a flag, which `ps` would show).
    pub fn new(args: &ServerArgs, config: Option<&Path>) -> anyhow::Result<ApiClient> {
        let url = match (&args.server, config) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => {
                let config = crate::context::load_config(path)?;
                let mut api = config.listen.api;
                // A listener on every interface is reached on this host's
                // loopback.
                if api.ip().is_unspecified() {
                    api.set_ip(match api {
                        std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                        std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                    });
                }
                format!("http://{api}")
            }
            (None, None) => DEFAULT_SERVER.to_string(),
        };
        let server = Server::parse(&url)?;
        let token = std::env::var(TOKEN_ENV).unwrap_or_default();
        let token = token.trim();
        if token.is_empty() {
            anyhow::bail!(
                "{TOKEN_ENV} is not set: these commands act as the identity of an API token \
                 (export {TOKEN_ENV}=$(airlock token issue NAME))"
            );
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow::anyhow!("{TOKEN_ENV} holds characters a header cannot carry"))?;
        authorization.set_sensitive(true);
        let connection =
            Connection::new(server.host.clone(), server.port).with_max_answer(MAX_ANSWER);
        Ok(ApiClient {
            server,
            authorization,
            connection,
        })
    }

    pub async fn get<T: DeserializeOwned>(&mut self, path: &str) -> anyhow::Result<T> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        let body = Bytes::from(serde_json::to_vec(body).context("encoding the request")?);
        self.call(Method::POST, path, Some(body)).await
    }

    async fn call<T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<T> {
        let uri = format!("{}{path}", self.server.prefix);
        let (server, authorization) = (&self.server, &self.authorization);
        let make = || {
            let mut request = Request::builder()
                .method(method.clone())
                .uri(uri.as_str())
                .header(HOST, server.authority.as_str())
                .header(AUTHORIZATION, authorization.clone())
                .header(ACCEPT, "application/json")
                .header(
                    USER_AGENT,
                    concat!("airlock-cli/", env!("CARGO_PKG_VERSION")),
                );
            if body.is_some() {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            request
                .body(Full::new(body.clone().unwrap_or_default()))
                .context("building the request")
        };
        let answer =
            self.connection.send(make).await.with_context(|| {
                format!("cannot reach the gateway's API at {}", self.server.url)
            })?;
        if answer.status.is_success() {
            return serde_json::from_slice(&answer.body).with_context(|| {
                format!(
                    "the API at {} answered {method} {path} with something this CLI does not understand",
                    self.server.url
                )
            });
        }
        let failure = match serde_json::from_slice::<ErrorBody>(&answer.body) {
            Ok(e) => ApiFailure {
                code: e.code,
                message: e.message,
            },
            // Not the gateway's API (a proxy, another service on the port).
            Err(_) => ApiFailure {
                code: format!("http_{}", answer.status.as_u16()),
                message: format!(
                    "{} answered {method} {path} with {}",
                    self.server.url, answer.status
                ),
            },
        };
        Err(failure.into())
    }
}

/// Where the API is: `http://host[:port][/prefix]`.
#[derive(Debug)]
struct Server {
    /// As given, without a trailing `/`, for messages.
    url: String,
    host: String,
    port: u16,
    authority: String,
    /// A path the API sits under behind a proxy; empty or `/…`.
    prefix: String,
}

impl Server {
    fn parse(url: &str) -> anyhow::Result<Server> {
        let bad = |why: &str| anyhow::anyhow!("--server {url:?}: {why}");
        let uri: Uri = url.trim().parse().map_err(|_| bad("not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(bad(
                    "https is not supported yet; the API listener speaks plain http",
                ));
            }
            _ => return Err(bad("must start with http://")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad(
                "must not hold credentials; the token comes from AIRLOCK_TOKEN",
            ));
        }
        if uri.query().is_some() {
            return Err(bad("must not have a query"));
        }
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Server {
            url: url.trim().trim_end_matches('/').to_string(),
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(80),
            authority: authority.as_str().to_string(),
            prefix: uri.path().trim_end_matches('/').to_string(),
        })
    }
}

/// An id as one path segment: anything but unreserved characters is
/// percent-encoded, so `a/b` or `x?y` cannot reach another endpoint.
pub fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_plain_http_with_an_optional_prefix() {
        let s = Server::parse("http://gw.internal:9000/airlock/").expect("parse");
        assert_eq!((s.host.as_str(), s.port), ("gw.internal", 9000));
        assert_eq!(s.prefix, "/airlock");
        assert_eq!(s.url, "http://gw.internal:9000/airlock");
        let s = Server::parse("http://[::1]").expect("parse");
        assert_eq!(
            (s.host.as_str(), s.port, s.prefix.as_str()),
            ("::1", 80, "")
        );
        for bad in ["https://gw", "gw:8080", "http://u:p@gw", "http://gw/?x=1"] {
            assert!(Server::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_stay_one_segment() {
        assert_eq!(segment("rv-abc12"), "rv-abc12");
        assert_eq!(segment("../x?y z"), "..%2Fx%3Fy%20z");
    }
}
