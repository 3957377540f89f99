//! `https://` webhooks: the audit sink and review notifications reach a
//! TLS receiver whose certificate a private CA (`ca_file`) signed, and
//! never one whose certificate nothing trusts.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use common::pg::TempDb;
use common::{Gateway, psql};

/// A CA, and a certificate for `localhost` it signed: (CA PEM, cert PEM,
/// key PEM).
fn private_ca() -> (String, String, String) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "airlock test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("cert");
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// What a receiver got: (path, body).
type Got = Arc<Mutex<Vec<(String, Value)>>>;

/// An HTTPS receiver on 127.0.0.1 answering 200 to every request.
async fn tls_receiver(cert_pem: &str, key_pem: &str) -> (u16, Got) {
    let certs = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("certs");
    let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .expect("key")
        .expect("a key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got: Got = Arc::default();
    let sink = got.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let sink = sink.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                // Requests one after another on a kept-alive connection.
                while let Some((path, body)) = read_request(&mut tls).await {
                    if let Ok(mut g) = sink.lock() {
                        g.push((path, body));
                    }
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if tls.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, got)
}

async fn read_request<S: tokio::io::AsyncRead + Unpin>(socket: &mut S) -> Option<(String, Value)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let path = head.lines().next()?.split_whitespace().nth(1)?.to_string();
    let length: usize = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })?;
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((
        path,
        serde_json::from_slice(&buf[head_end..head_end + length]).ok()?,
    ))
}

fn wait_until(what: &str, gw: &Gateway, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what}\n{}",
            gw.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_webhooks_reach_a_receiver_the_ca_file_trusts_and_no_other() {
    let (ca, cert, key) = private_ca();
    let (trusted_port, trusted) = tls_receiver(&cert, &key).await;
    // The same certificate, but the gateway is not told to trust its CA:
    // the system's roots do not know it.
    let (untrusted_port, untrusted) = tls_receiver(&cert, &key).await;

    let db = TempDb::new("https_hooks");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).expect("write CA");
    let ca_file = ca_file.display().to_string();
    let extra = format!(
        r#"
audit:
  sinks:
    - {{ type: webhook, url: "https://localhost:{trusted_port}/siem", interval: 100ms, ca_file: "{ca_file}" }}
    - {{ type: webhook, url: "https://localhost:{untrusted_port}/siem", interval: 100ms }}
reviews:
  hold: 0s
  webhooks:
    - {{ url: "https://localhost:{trusted_port}/review", format: json, ca_file: "{ca_file}" }}
    - {{ url: "https://localhost:{untrusted_port}/review", format: json }}
rules:
  - {{ name: r, when: "'delete' in facts.sql.kinds", action: review, reviewers: ["group:dba"] }}
"#
    );
    let connection = format!(
        "  - name: app\n    type: postgres\n    target: {{ host: 127.0.0.1, port: 5432, database: {}, user: postgres, tls: disable }}\n    allow: [\"alice\"]\n",
        db.name
    );
    let gw = tokio::task::spawn_blocking(move || Gateway::start(&connection, &extra))
        .await
        .expect("start");
    let gw = Arc::new(gw);
    let token = gw.identity_with_token("alice", &[]);
    let conninfo = gw.conninfo("alice", "app");
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        psql(
            &conninfo,
            &token,
            &["-c", "select 1", "-c", "delete from t where id = 1"],
        )
    })
    .await
    .expect("psql");
    assert!(!ok && err.contains("is pending"), "{err}");

    let got = |g: &Got, path: &str| -> Vec<Value> {
        g.lock()
            .map(|v| {
                v.iter()
                    .filter(|(p, _)| p == path)
                    .map(|(_, b)| b.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let gw2 = gw.clone();
    let trusted2 = trusted.clone();
    tokio::task::spawn_blocking(move || {
        wait_until("the review notification over https", &gw2, || {
            !got(&trusted2, "/review").is_empty()
        });
        wait_until("audit records over https", &gw2, || {
            got(&trusted2, "/siem")
                .iter()
                .any(|b| b.to_string().contains("select 1"))
        });
        wait_until(
            "the untrusted receiver's TLS failure in the log",
            &gw2,
            || {
                let logs = gw2.logs();
                logs.contains("TLS handshake")
                    && logs.contains(&format!("localhost:{untrusted_port}"))
            },
        );
    })
    .await
    .expect("wait");
    let review = &got(&trusted, "/review")[0];
    assert_eq!(review["event"], "review.requested", "{review}");
    assert!(
        review["review"]["command"]
            .as_str()
            .is_some_and(|c| c.contains("delete from t")),
        "{review}"
    );
    assert!(
        untrusted.lock().map(|v| v.is_empty()).unwrap_or(false),
        "a receiver whose certificate nothing trusts must get nothing"
    );
}
