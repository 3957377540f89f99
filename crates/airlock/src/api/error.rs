//! Errors as the API answers them: a status and an [`ErrorBody`] whose
//! `code` clients may match on (docs/api.md lists them).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use airlock_core::review::DecideError;
use airlock_store::StoreError;

use super::model::ErrorBody;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The store failed. What it said goes to the log only: it may name
    /// files and SQL, which are no business of an API client.
    pub fn store(e: &StoreError) -> ApiError {
        tracing::error!(error = %e, "store unavailable for an API request");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the gateway's store is unavailable",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_string(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<DecideError> for ApiError {
    fn from(e: DecideError) -> ApiError {
        let (status, code) = match &e {
            DecideError::NotFound(_) => (StatusCode::NOT_FOUND, "review_not_found"),
            DecideError::Ambiguous(_) => (StatusCode::BAD_REQUEST, "ambiguous_id"),
            DecideError::NotPending { .. } => (StatusCode::CONFLICT, "not_pending"),
            // An identity the store does not know cannot review anything;
            // telling it apart from a non-reviewer would only help probing.
            DecideError::UnknownReviewer(_) | DecideError::NotAReviewer { .. } => {
                (StatusCode::FORBIDDEN, "not_a_reviewer")
            }
            DecideError::OwnRequest => (StatusCode::FORBIDDEN, "own_request"),
            DecideError::AlreadyDecided(_) => (StatusCode::CONFLICT, "already_decided"),
            DecideError::ReasonMissing => (StatusCode::BAD_REQUEST, "reason_required"),
            DecideError::WindowTooLong { .. } => (StatusCode::BAD_REQUEST, "window_too_long"),
            DecideError::Store(e) => return ApiError::store(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decide_errors_map_to_stable_codes() {
        let cases = [
            (
                DecideError::NotFound("rv-x".into()),
                404,
                "review_not_found",
            ),
            (DecideError::Ambiguous("rv".into()), 400, "ambiguous_id"),
            (
                DecideError::NotPending {
                    id: "rv-x".into(),
                    state: "denied",
                },
                409,
                "not_pending",
            ),
            (
                DecideError::UnknownReviewer("x".into()),
                403,
                "not_a_reviewer",
            ),
            (DecideError::OwnRequest, 403, "own_request"),
            (
                DecideError::AlreadyDecided("x".into()),
                409,
                "already_decided",
            ),
            (DecideError::ReasonMissing, 400, "reason_required"),
            (
                DecideError::WindowTooLong { max: "1day".into() },
                400,
                "window_too_long",
            ),
            (
                DecideError::Store(StoreError::Unavailable("disk /secret/path".into())),
                503,
                "store_unavailable",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status.as_u16(), api.code), (status, code));
            assert!(!api.message.contains("/secret/path"), "{}", api.message);
        }
    }
}
