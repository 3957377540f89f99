//! The HTTP API. For now: health, and the session list for tooling.
//! Every `/api/v1` route needs `Authorization: Bearer <token>`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use airlock_core::tokens;
use airlock_store::Store;
use airlock_store::writer::Writer;

#[derive(Clone)]
struct ApiState {
    store: Arc<dyn Store>,
    writer: Writer,
}

pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    writer: Writer,
    mut stop: watch::Receiver<bool>,
) {
    let app = Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/sessions", get(sessions))
        .with_state(ApiState { store, writer });
    let shutdown = async move {
        let _ = stop.changed().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "API server failed");
    }
}

/// A JSON error with a stable machine-readable code.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

async fn health(State(state): State<ApiState>) -> Response {
    let healthy = state.writer.is_healthy();
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body =
        serde_json::json!({ "status": if healthy { "ok" } else { "degraded" }, "store": healthy });
    (status, Json(body)).into_response()
}

async fn authenticate(state: &ApiState, headers: &HeaderMap) -> Result<String, ApiError> {
    let unauthorized = |message: &str| ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: message.to_string(),
    };
    let secret = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("missing bearer token"))?;
    let record = state
        .store
        .token_by_hash(&tokens::sha256(secret.trim()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "store unavailable during API authentication");
            ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "store_unavailable",
                message: "the gateway's store is unavailable".into(),
            }
        })?
        .ok_or_else(|| unauthorized("invalid token"))?;
    tokens::judge(&record, Utc::now()).map_err(|r| unauthorized(&r.to_string()))?;
    Ok(record.identity)
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<u32>,
}

async fn sessions(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    authenticate(&state, &headers).await?;
    let list = state
        .store
        .list_sessions(params.limit.unwrap_or(50).min(1000))
        .await
        .map_err(|e| ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "store_unavailable",
            message: e.to_string(),
        })?;
    Ok(Json(list).into_response())
}
