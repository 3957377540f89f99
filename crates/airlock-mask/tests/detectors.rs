//! Positive and negative examples per detector.

mod common;

use common::{found, masker, masker_with_ips};

fn assert_finds(text: &str, detector: &str, expected: &str) {
    let m = masker_with_ips();
    let got = found(&m, text);
    assert!(
        got.iter().any(|(d, t)| d == detector && t == expected),
        "{detector} should find {expected:?} in {text:?}, got {got:?}"
    );
}

fn assert_clean(text: &str) {
    let got = found(&masker(), text);
    assert!(got.is_empty(), "expected nothing in {text:?}, got {got:?}");
}

#[test]
fn email() {
    assert_finds(
        "contact: john.smith+tag@example.co.uk.",
        "email",
        "john.smith+tag@example.co.uk",
    );
    assert_finds(
        "mailto:a_b-c@mail-server.example.org",
        "email",
        "a_b-c@mail-server.example.org",
    );
    assert_clean("ssh git@github");
    assert_clean("@handle and user@localhost and a@b.c");
    assert_clean("decorator @property; npm i @scope/pkg");
}

#[test]
fn credit_card() {
    for card in [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "2223003122003222",
        "378282246310005",
        "3782 822463 10005",
        "6011111111111117",
        "30569309025904",
        "3530111333300000",
        "6200000000000005",
        "4222222222222",
    ] {
        assert_finds(&format!("card {card}, exp 12/29"), "credit_card", card);
    }
    // Luhn failure, no issuer, inside longer runs or tokens.
    assert_clean("order 4111111111111112 shipped");
    assert_clean("id 1234567812345670");
    assert_clean("x41111111111111111");
    assert_clean("41111111111111110");
    assert_clean("ref4111111111111111");
    assert_clean("amount 4111111111111111.50");
    assert_clean("4111 1111 11 11 1111");
}

#[test]
fn iban() {
    assert_finds(
        "IBAN DE89 3704 0044 0532 0130 00 EUR",
        "iban",
        "DE89 3704 0044 0532 0130 00",
    );
    assert_finds(
        "pay to GB82WEST12345698765432.",
        "iban",
        "GB82WEST12345698765432",
    );
    assert_finds(
        "FR1420041010050500013M02606",
        "iban",
        "FR1420041010050500013M02606",
    );
    assert_clean("DE89 3704 0044 0532 0130 01");
    assert_clean("XX89370400440532013000");
    assert_clean("DE89370400440532013000X");
}

#[test]
fn us_ssn() {
    assert_finds("ssn 123-45-6789.", "us_ssn", "123-45-6789");
    assert_finds("123 45 6789", "us_ssn", "123 45 6789");
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
        "078-05-1120",
        "219-09-9999",
    ] {
        assert_clean(&format!("ssn {bad}"));
    }
    assert_clean("ssn 123456789");
    assert_clean("tel 123-45-67890");
    assert_clean("1-123-45-6789");
}

#[test]
fn phone() {
    assert_finds("call (555) 123-4567 now", "phone", "(555) 123-4567");
    assert_finds("call 555-123-4567", "phone", "555-123-4567");
    assert_finds("call 555.123.4567.", "phone", "555.123.4567");
    assert_finds("tel:+44 20 7946 0958", "phone", "+44 20 7946 0958");
    assert_finds("+14155552671", "phone", "+14155552671");
    assert_finds("+1 (415) 555-2671", "phone", "+1 (415) 555-2671");
    assert_finds("1-800-555-0199", "phone", "1-800-555-0199");
    for clean in [
        "2026-11-28",
        "2026-11-28T10:15:30.123+01:00",
        "12:34:56.789",
        "v10.0.19045",
        "1.2.3.4",
        "192.168.100.200",
        "order 1234567890",
        "total 1234567.89",
        "+1234567.89",
        "+2026-11-28",
        "5551234567",
        "28/11/2026 10:15",
        "id 155-123-4567",
    ] {
        assert_clean(clean);
    }
}

#[test]
fn ip_addresses_only_when_enabled() {
    assert_finds("from 10.0.0.1:5432", "ipv4", "10.0.0.1");
    assert_finds("from 2001:db8::1 port", "ipv6", "2001:db8::1");
    assert_finds(
        "[fe80::1ff:fe23:4567:890a]",
        "ipv6",
        "fe80::1ff:fe23:4567:890a",
    );
    assert_clean("from 10.0.0.1 and 2001:db8::1");
    let m = masker_with_ips();
    for clean in [
        "12:34:56",
        "00:1a:2b:3c:4d:5e",
        "std::fmt::Debug",
        "256.1.1.1",
        "1.2.3.4.5",
    ] {
        assert!(found(&m, clean).is_empty(), "{clean}");
    }
}

#[test]
fn aws() {
    assert_finds(
        "key AKIAIOSFODNN7EXAMPLE used",
        "aws_access_key_id",
        "AKIAIOSFODNN7EXAMPLE",
    );
    assert_finds(
        "ASIAY34FZKBOKMUTVV7A",
        "aws_access_key_id",
        "ASIAY34FZKBOKMUTVV7A",
    );
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    assert_finds(
        &format!("aws_secret_access_key = {secret}"),
        "aws_secret_access_key",
        secret,
    );
    assert_finds(
        &format!("AWS_SECRET_ACCESS_KEY={secret}"),
        "aws_secret_access_key",
        secret,
    );
    assert_finds(
        &format!(r#"{{"SecretAccessKey": "{secret}"}}"#),
        "aws_secret_access_key",
        secret,
    );
    // 40 base64 characters without context are not a secret.
    assert_clean(&format!("blob {secret}"));
    assert_clean("AKIAIOSFODNN7EXAMPL");
    assert_clean("XAKIAIOSFODNN7EXAMPLE");
    assert_clean("AKIAIOSFODNN7EXAMPLEX");
}

#[test]
fn vendor_tokens() {
    let gcp = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY";
    assert_finds(&format!("key={gcp}&x"), "gcp_api_key", gcp);
    let ghp = format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
    assert_finds(&format!("token {ghp}"), "github_token", &ghp);
    let pat = format!("github_pat_{}", "A".repeat(22) + "_" + &"b".repeat(59));
    assert_finds(&pat, "github_token", &pat);
    let slack = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
    assert_finds(slack, "slack_token", slack);
    assert_finds(
        "xapp-1-A0123456789-1234567890123-abcdef",
        "slack_token",
        "xapp-1-A0123456789-1234567890123-abcdef",
    );
    for stripe in [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "rk_test_51H8abcdefghijklmnop",
        "pk_live_abcdefghijklmnopqrstuv",
    ] {
        assert_finds(stripe, "stripe_key", stripe);
    }
    assert_clean("pk_test_abcdefghijklmnopqrstuv");
    assert_clean("sk_live_short");
    let legacy = format!("sk-{}", "Ab1".repeat(16));
    assert_finds(&legacy, "openai_api_key", &legacy);
    let proj = format!("sk-proj-{}T3BlbkFJ{}", "a_b-".repeat(10), "x".repeat(20));
    assert_finds(&format!("OPENAI {proj}"), "openai_api_key", &proj);
    assert_clean("desk-organizer sk-short ghp_short xoxb-1 AIzaShort");
}

#[test]
fn jwt() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_finds(&format!("Authorization: Bearer {jwt}"), "jwt", jwt);
    // Header without `alg`, and not JSON.
    assert_clean("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.abc");
    assert_clean("eyJnotbase64!.x.y");
}

#[test]
fn private_key() {
    for label in [
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    ] {
        let block =
            format!("-----BEGIN {label}-----\nMIIEowIBAAKCAQEA\nabc+/=\n-----END {label}-----");
        assert_finds(&format!("key:\n{block}\n"), "private_key", &block);
    }
    assert_clean("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    assert_clean("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----");
}

#[test]
fn password_in_url() {
    let m = masker();
    assert_eq!(
        m.mask_str("postgres://app:s3cret@db.example.com:5432/app"),
        "postgres://app:<masked:password_in_url>@db.example.com:5432/app"
    );
    assert_finds("redis://:p%40ss@cache:6379", "password_in_url", "p%40ss");
    assert_clean("https://user@example.com/path");
    assert_clean("https://example.com/a:b@c");
    assert_clean("see https://example.com:8443/x");
}

#[test]
fn generic_secret() {
    let m = masker();
    assert_eq!(
        m.mask_str("password=hunter2&user=bob"),
        "password=<masked:generic_secret>&user=bob"
    );
    assert_eq!(
        m.mask_str(r#"{"Password": "p@ss word"}"#),
        r#"{"Password": "<masked:generic_secret>"}"#
    );
    assert_eq!(
        m.mask_str("db_passwd: s3cr3t"),
        "db_passwd: <masked:generic_secret>"
    );
    assert_eq!(
        m.mask_str("API_KEY=abc123 next"),
        "API_KEY=<masked:generic_secret> next"
    );
    assert_eq!(
        m.mask_str("client-secret => 'zzz'"),
        "client-secret => '<masked:generic_secret>'"
    );
    assert_eq!(
        m.mask_str("auth_token:xyz"),
        "auth_token:<masked:generic_secret>"
    );
    for clean in [
        "password: true",
        "token=",
        "max_tokens=100",
        "if token == other",
        "time=12:34:56 level=info msg=done",
        "secret: {nested: 1}",
        "password",
    ] {
        assert_clean(clean);
    }
}

#[test]
fn general_negatives() {
    for clean in [
        "550e8400-e29b-41d4-a716-446655440000",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "d41d8cd98f00b204e9800998ecf8427e",
        "commit 1234567890abcdef1234567890abcdef12345678",
        "2026-11-28T10:15:30Z 1732790130123 INFO request done in 12.5ms",
        "version 1.2.3.4 and v10.0.19045 and 4.18.0-513.el8",
        "total $1,234,567.89 EUR 12.345,67",
        "order #100023451 / ORD-2026-000123",
        "The quick brown fox jumps over the lazy dog.",
        "",
    ] {
        assert_clean(clean);
    }
    let image = format!(
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA{}",
        "Qm9yZWQgYmFzZTY0IGRhdGEgMTIzNDU2Nzg5MA".repeat(40)
    );
    assert_clean(&image);
}
