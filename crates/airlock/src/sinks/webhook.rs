//! The webhook sink: batches of records POSTed as one JSON document,
//! `{"source":"airlock","records":[…]}`, until a 2xx answer.
//!
//! `https://` receivers are checked against the system's trusted roots,
//! or against `ca_file` alone (`sinks/tls.rs`). Credentials never sit in
//! the URL (it is logged, and it names
//! the sink's cursor in the store): the `Authorization` value comes from
//! the environment variable named by `authorization_env`.

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use serde::Serialize;

use airlock_store::AuditRecordLine;

use super::follow::Deliver;
use super::http::Connection;

/// Where a webhook sink sends, parsed and checked once at start.
pub struct Target {
    /// `webhook:http://host:port/path`: no credentials, no query (which
    /// may hold a key), because it is logged and stored.
    pub name: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Some` for `https://`: how the receiver's certificate is checked.
    pub(crate) tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// The `Host` header: the URL's authority as written.
    authority: String,
    path_and_query: String,
}

impl Target {
    /// `ca_file`: the only roots an `https://` receiver's certificate is
    /// checked against; without it, the system's.
    pub fn parse(url: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<Target> {
        let mut target = Target::unchecked(url, ca_file)?;
        if target.name.starts_with("webhook:https:") {
            target.tls = Some(super::tls::client_config(ca_file)?);
        }
        Ok(target)
    }

    /// The sink's name (its cursor's key), from the URL alone: no
    /// certificate is read.
    pub fn name_of(url: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<String> {
        Ok(Target::unchecked(url, ca_file)?.name)
    }

    /// Everything but the TLS configuration.
    fn unchecked(url: &str, ca_file: Option<&std::path::Path>) -> anyhow::Result<Target> {
        // The URL is not echoed in errors: it may carry a secret.
        let uri: Uri = url
            .parse()
            .map_err(|e| anyhow::anyhow!("url is not a valid URL: {e}"))?;
        let secure = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => anyhow::bail!("url must start with http:// or https://"),
        };
        if ca_file.is_some() && !secure {
            anyhow::bail!("ca_file is for https:// URLs only");
        }
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("url has no host"))?;
        if authority.as_str().contains('@') {
            anyhow::bail!(
                "url must not hold credentials; put the Authorization header's value \
                 in an environment variable and name it in authorization_env"
            );
        }
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_string();
        if host.is_empty() {
            anyhow::bail!("url has no host");
        }
        let port = authority
            .port_u16()
            .unwrap_or(if secure { 443 } else { 80 });
        let path = uri.path();
        let path = if path.is_empty() { "/" } else { path };
        Ok(Target {
            name: format!(
                "webhook:{}://{}{path}",
                if secure { "https" } else { "http" },
                authority.as_str()
            ),
            host,
            port,
            tls: None,
            authority: authority.as_str().to_string(),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
        })
    }
}

pub struct WebhookSink {
    target: Target,
    authorization: Option<HeaderValue>,
    connection: Connection,
}

impl WebhookSink {
    /// Reads the `Authorization` value now: a variable that is missing at
    /// start is a configuration error, not a stream of 401s.
    pub fn new(target: Target, authorization_env: Option<&str>) -> anyhow::Result<WebhookSink> {
        let authorization = match authorization_env {
            None => None,
            Some(var) => {
                let value = std::env::var(var).map_err(|_| {
                    anyhow::anyhow!("authorization_env: environment variable {var} is not set")
                })?;
                let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
                    anyhow::anyhow!(
                        "authorization_env: {var} holds characters a header cannot carry"
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let connection =
            Connection::new(target.host.clone(), target.port).with_tls(target.tls.clone());
        Ok(WebhookSink {
            target,
            authorization,
            connection,
        })
    }
}

/// A JSON POST to `target` (review notifications send theirs this way too).
pub(crate) fn request(
    target: &Target,
    authorization: Option<&HeaderValue>,
    body: Bytes,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(target.path_and_query.as_str())
        .header(HOST, target.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, concat!("airlock/", env!("CARGO_PKG_VERSION")));
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value.clone());
    }
    request
        .body(Full::new(body))
        .context("building the request")
}

/// The document each request carries.
#[derive(Serialize)]
struct Envelope<'a> {
    source: &'static str,
    records: &'a [AuditRecordLine],
}

impl Deliver for WebhookSink {
    async fn deliver(&mut self, records: &[AuditRecordLine]) -> anyhow::Result<()> {
        let body = Bytes::from(
            serde_json::to_vec(&Envelope {
                source: "airlock",
                records,
            })
            .context("encoding the batch")?,
        );
        let (target, authorization) = (&self.target, &self.authorization);
        let answer = self
            .connection
            .send(|| request(target, authorization.as_ref(), body.clone()))
            .await?;
        if answer.status.is_success() {
            return Ok(());
        }
        // The receiver's own words help whoever reads the log; a short,
        // escaped piece of them is enough.
        let said: String = String::from_utf8_lossy(&answer.body)
            .chars()
            .take(200)
            .collect();
        anyhow::bail!("the receiver answered {}: {said:?}", answer.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_drops_the_query_and_keeps_the_rest() {
        let t =
            Target::parse("http://siem.example:8080/in/airlock?key=secret", None).expect("parse");
        assert_eq!(t.name, "webhook:http://siem.example:8080/in/airlock");
        assert_eq!(t.path_and_query, "/in/airlock?key=secret");
        assert_eq!((t.host.as_str(), t.port), ("siem.example", 8080));
        assert_eq!(t.authority, "siem.example:8080");
    }

    #[test]
    fn defaults_are_port_80_and_the_root_path() {
        let t = Target::parse("http://collector", None).expect("parse");
        assert_eq!(t.name, "webhook:http://collector/");
        assert_eq!((t.port, t.path_and_query.as_str()), (80, "/"));
        let t = Target::parse("http://[::1]:9000/x", None).expect("parse");
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
    }

    #[test]
    fn https_is_port_443_by_default_and_named_as_such() {
        let t = Target::parse("https://siem.example/in", None).expect("parse");
        assert_eq!(t.name, "webhook:https://siem.example/in");
        assert_eq!(t.port, 443);
        assert!(t.tls.is_some());
    }

    #[test]
    fn credentials_and_other_schemes_are_refused_without_echoing_the_url() {
        for url in [
            "http://user:hunter2@siem.example/in",
            "https://user:hunter2@siem.example/in",
            "ftp://siem.example/in",
            "siem.example/in",
        ] {
            let e = Target::parse(url, None).err().expect("refused");
            let text = format!("{e:#}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("siem.example"), "{text}");
        }
        let e = Target::parse(
            "http://siem.example/in",
            Some(std::path::Path::new("/x.pem")),
        )
        .err()
        .expect("refused");
        assert!(format!("{e}").contains("https:// URLs only"));
    }
}
