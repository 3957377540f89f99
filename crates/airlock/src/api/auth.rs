//! Bearer authentication: the token's identity is the caller. The token
//! is looked up by its SHA-256 (the store never holds a token) and never
//! appears in an answer or a log line.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;

use airlock_core::tokens;

use super::ApiState;
use super::error::ApiError;

/// The identity a request's token belongs to. Taking it as a handler's
/// first argument makes the handler authenticated.
pub struct Caller(pub String);

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Caller, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let record = state
            .store
            .token_by_hash(&tokens::sha256(secret))
            .await
            .map_err(|e| ApiError::store(&e))?
            .ok_or_else(|| ApiError::unauthorized("invalid token"))?;
        // The rejection names the token's id (never its secret) and why:
        // revoked or expired.
        tokens::judge(&record, Utc::now()).map_err(|r| ApiError::unauthorized(r.to_string()))?;
        Ok(Caller(record.identity))
    }
}

/// The credentials of `Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn only_a_non_empty_bearer_credential_counts() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
