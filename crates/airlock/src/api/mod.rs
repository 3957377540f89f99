//! The HTTP API (docs/api.md): health, sessions, reviews and grants, and
//! its OpenAPI document at `/api/v1/openapi.json`. Every other `/api/v1`
//! route needs `Authorization: Bearer <token>`; errors are JSON
//! `{code, message}` with a stable code.

mod auth;
mod error;
mod grants;
pub mod model;
mod openapi;
mod reviews;
mod sessions;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

use airlock_core::review::Reviews;
use airlock_store::Store;
use airlock_store::writer::Writer;

use error::ApiError;

#[derive(Clone)]
pub struct ApiState {
    store: Arc<dyn Store>,
    writer: Writer,
    reviews: Arc<Reviews>,
}

pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    writer: Writer,
    reviews: Arc<Reviews>,
    mut stop: watch::Receiver<bool>,
) {
    let app = router(ApiState {
        store,
        writer,
        reviews,
    });
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

/// Every route; each must also be listed in `openapi::ApiDoc`, which a
/// test checks.
fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(sessions::health))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/sessions", get(sessions::list))
        .route("/api/v1/reviews", get(reviews::list))
        .route("/api/v1/reviews/{id}", get(reviews::show))
        .route("/api/v1/reviews/{id}/approve", post(reviews::approve))
        .route("/api/v1/reviews/{id}/deny", post(reviews::deny))
        .route("/api/v1/grants", get(grants::list))
        .route("/api/v1/grants/{id}/revoke", post(grants::revoke))
        .fallback(not_found)
        .with_state(state)
}

/// Unknown paths answer in the API's error shape too.
async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint (see /api/v1/openapi.json)",
    )
}
