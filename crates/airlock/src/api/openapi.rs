//! The OpenAPI 3.1 document, derived from the handlers' annotations and
//! the model types, so it cannot drift from what the API serves.

use std::sync::LazyLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ApiError;
use super::{grants, model, reviews, sessions};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Airlock API",
        description = "Sessions, just-in-time reviews and grants of an Airlock gateway (docs/api.md)."
    ),
    paths(
        sessions::health,
        sessions::list,
        reviews::list,
        reviews::show,
        reviews::approve,
        reviews::deny,
        grants::list,
        grants::revoke,
        document,
    ),
    components(schemas(model::ErrorBody)),
    modifiers(&BearerScheme),
    tags(
        (name = "reviews", description = "Commands held until a reviewer approves them"),
        (name = "grants", description = "What approvals let identities run"),
        (name = "sessions", description = "Recorded sessions"),
        (name = "system", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

/// `bearer`: an Airlock token (`airlock token issue NAME`), the same one
/// the identity logs in to databases with.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An Airlock token (`airlock token issue NAME`); its identity is the caller.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Encoded once: the document only changes with the binary.
static DOCUMENT: LazyLock<Result<String, String>> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .map_err(|e| e.to_string())
});

/// This document (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "system",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn document() -> Response {
    match &*DOCUMENT {
        Ok(json) => ([(CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        Err(e) => ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the OpenAPI document cannot be encoded: {e}"),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_security() {
        let doc: serde_json::Value =
            serde_json::from_str(DOCUMENT.as_ref().expect("encodes")).expect("JSON");
        for path in [
            "/healthz",
            "/api/v1/openapi.json",
            "/api/v1/sessions",
            "/api/v1/reviews",
            "/api/v1/reviews/{id}",
            "/api/v1/reviews/{id}/approve",
            "/api/v1/reviews/{id}/deny",
            "/api/v1/grants",
            "/api/v1/grants/{id}/revoke",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is not documented");
        }
        assert_eq!(
            doc["paths"]["/api/v1/reviews/{id}/approve"]["post"]["security"][0]["bearer"],
            serde_json::json!([])
        );
        assert!(doc["paths"]["/healthz"]["get"]["security"].is_null());
        // Client generators name methods after them: no two may be equal.
        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(|item| item.as_object())
            .flat_map(|ops| ops.values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!((ids.len(), count), (9, 9), "{ids:?}");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for schema in [
            "ErrorBody",
            "Review",
            "Grant",
            "DecideResponse",
            "ApproveRequest",
        ] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        }
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["ApproveRequest"]["properties"]["for"]["type"],
            serde_json::json!(["string", "null"])
        );
        assert_eq!(
            schemas["DenyRequest"]["required"],
            serde_json::json!(["reason"])
        );
    }
}
