//! `/healthz` and `/api/v1/sessions`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiState;
use super::auth::Caller;
use super::error::ApiError;
use super::model::{ErrorBody, Health, Session};

/// Whether the gateway can record commands (for load balancers and
/// probes; no token needed).
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "system",
    responses(
        (status = 200, description = "The store accepts writes", body = Health),
        (status = 503, description = "The store is failing: commands are refused", body = Health),
    )
)]
pub async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let healthy = state.writer.is_healthy();
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if healthy { "ok" } else { "degraded" }.to_string(),
        store: healthy,
    };
    (status, Json(body))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Most sessions returned, newest first (default 50, at most 1000).
    limit: Option<u32>,
}

/// Recent sessions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    operation_id = "listSessions",
    tag = "sessions",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sessions, newest first", body = [Session]),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn list(
    _caller: Caller,
    State(state): State<ApiState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Vec<Session>>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let list = state
        .store
        .list_sessions(params.limit.unwrap_or(50).min(1000))
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(Json(list.into_iter().map(Session::from).collect()))
}
