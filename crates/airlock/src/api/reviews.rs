//! `/api/v1/reviews`: list and read reviews, approve and deny them. Any
//! authenticated identity may read; who may decide is the core's rule
//! (`airlock_core::review::may_decide`): a listed reviewer, never the
//! requester's own person.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use airlock_core::review::Decision;

use super::ApiState;
use super::auth::Caller;
use super::error::ApiError;
use super::model::{ApproveRequest, DecideResponse, DenyRequest, ErrorBody, Review};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `pending`, `approved`, `denied`, `expired`, `cancelled`, or `all`
    /// (the default).
    state: Option<String>,
    /// Most reviews returned, newest first (default 50, at most 1000).
    limit: Option<u32>,
}

/// Reviews, newest first; overdue pending reviews are marked expired first.
#[utoipa::path(
    get,
    path = "/api/v1/reviews",
    operation_id = "listReviews",
    tag = "reviews",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reviews, newest first", body = [Review]),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn list(
    _caller: Caller,
    State(state): State<ApiState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Vec<Review>>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let filter = match params.state.as_deref() {
        None | Some("all") => None,
        Some(s) => Some(airlock_store::ReviewState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!(
                    "state must be pending, approved, denied, expired, cancelled or all, not {s:?}"
                ),
            )
        })?),
    };
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let reviews = state
        .reviews
        .list(filter, limit)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(Json(reviews.into_iter().map(Review::from).collect()))
}

/// One review, by id or unique prefix.
#[utoipa::path(
    get,
    path = "/api/v1/reviews/{id}",
    operation_id = "getReview",
    tag = "reviews",
    params(("id" = String, Path, description = "Review id or a unique prefix of one")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The review", body = Review),
        (status = 400, description = "`ambiguous_id`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`review_not_found`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn show(
    _caller: Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Review>, ApiError> {
    Ok(Json(state.reviews.get(&id).await?.into()))
}

/// Approves a review as the caller. Once it has the approvals it needs, a
/// command still held runs at once; otherwise the requester gets a
/// one-time grant for it. `for` also grants a time box.
#[utoipa::path(
    post,
    path = "/api/v1/reviews/{id}/approve",
    operation_id = "approveReview",
    tag = "reviews",
    params(("id" = String, Path, description = "Review id or a unique prefix of one")),
    request_body(content = ApproveRequest, description = "Optional; an empty body approves without a reason"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The approval was recorded", body = DecideResponse),
        (status = 400, description = "`ambiguous_id`, `invalid_body`, `invalid_duration`, `window_too_long`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`own_request`, `not_a_reviewer`", body = ErrorBody),
        (status = 404, description = "`review_not_found`", body = ErrorBody),
        (status = 409, description = "`not_pending`, `already_decided`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn approve(
    Caller(reviewer): Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<DecideResponse>, ApiError> {
    let request: ApproveRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveRequest::default()
    } else {
        parse_body(&body)?
    };
    let window = request.window.as_deref().map(parse_window).transpose()?;
    let decision = Decision::Approve {
        reason: request.reason,
        window,
    };
    decide(&state, &id, &reviewer, decision).await
}

/// Denies a review as the caller, with a reason the requester sees. A
/// command still held fails at once.
#[utoipa::path(
    post,
    path = "/api/v1/reviews/{id}/deny",
    operation_id = "denyReview",
    tag = "reviews",
    params(("id" = String, Path, description = "Review id or a unique prefix of one")),
    request_body(content = DenyRequest, description = "The reason is required"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The denial was recorded", body = DecideResponse),
        (status = 400, description = "`ambiguous_id`, `invalid_body`, `reason_required`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`own_request`, `not_a_reviewer`", body = ErrorBody),
        (status = 404, description = "`review_not_found`", body = ErrorBody),
        (status = 409, description = "`not_pending`, `already_decided`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn deny(
    Caller(reviewer): Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<DecideResponse>, ApiError> {
    let request: DenyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        DenyRequest::default()
    } else {
        parse_body(&body)?
    };
    // A missing reason reads as empty: the core's `reason_required`.
    let decision = Decision::Deny {
        reason: request.reason,
    };
    decide(&state, &id, &reviewer, decision).await
}

async fn decide(
    state: &ApiState,
    id: &str,
    reviewer: &str,
    decision: Decision,
) -> Result<Json<DecideResponse>, ApiError> {
    let decided = state.reviews.decide(id, reviewer, decision).await?;
    Ok(Json(DecideResponse {
        review: decided.review.into(),
        released: decided.released,
        grant: decided.grant.map(Into::into),
    }))
}

/// The body as JSON, whatever its `Content-Type` says: clients such as
/// `curl -d` send form types by default, and a JSON error beats a 415.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("the body is not valid: {e}")))
}

/// `30m`, `2h`: a window of zero would grant nothing, so it is refused
/// rather than turned into an odd one-time approval.
fn parse_window(text: &str) -> Result<Duration, ApiError> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_duration",
            "for must be longer than zero",
        )),
        Err(e) => Err(ApiError::bad_request(
            "invalid_duration",
            format!("for: {text:?} is not a duration like 30m or 2h: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_humantime_durations_above_zero() {
        assert_eq!(parse_window("30m").ok(), Some(Duration::from_secs(1800)));
        for bad in ["0s", "soon", "", "-5m"] {
            let e = parse_window(bad).expect_err("refused");
            assert_eq!(e.code, "invalid_duration", "{bad}");
        }
    }
}
