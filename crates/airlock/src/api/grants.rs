//! `/api/v1/grants`: what approvals let identities run, and revoking it.
//!
//! Any authenticated identity may list grants (like sessions and reviews).
//! Revoking takes a grant away from someone, so it is open to those with a
//! say over it: whoever may decide on the review it came from (the same
//! rule as approving), whoever approved it, and its holder (giving up a
//! grant only ever narrows access).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use airlock_core::review::{DecideError, NotAllowed, may_decide};
use airlock_store::{GrantRecord, Identity, IdentityKind};

use super::ApiState;
use super::auth::Caller;
use super::error::ApiError;
use super::model::{ErrorBody, Grant};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Also grants that are used up, expired or revoked.
    all: Option<bool>,
}

/// Grants, newest first; without `all`, only those still usable.
#[utoipa::path(
    get,
    path = "/api/v1/grants",
    operation_id = "listGrants",
    tag = "grants",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Grants, newest first", body = [Grant]),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn list(
    _caller: Caller,
    State(state): State<ApiState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Vec<Grant>>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let grants = state
        .store
        .list_grants(params.all.unwrap_or(false), Utc::now())
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(Json(grants.into_iter().map(Grant::from).collect()))
}

/// Revokes a live grant: it lets nothing run any more.
#[utoipa::path(
    post,
    path = "/api/v1/grants/{id}/revoke",
    operation_id = "revokeGrant",
    tag = "grants",
    params(("id" = String, Path, description = "Grant id or a unique prefix of one")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The grant, revoked", body = Grant),
        (status = 400, description = "`ambiguous_id`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`not_a_reviewer`: neither its holder, an approver, nor a reviewer of its review", body = ErrorBody),
        (status = 404, description = "`grant_not_found`", body = ErrorBody),
        (status = 409, description = "`grant_not_live`: already revoked, used up or expired", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    )
)]
pub async fn revoke(
    Caller(caller): Caller,
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Grant>, ApiError> {
    let now = Utc::now();
    let grant = find(&state, &id).await?;
    let status = Grant::from(grant.clone()).status(now);
    if status != "live" {
        return Err(not_live(&grant.id, status));
    }
    may_revoke(&state, &caller, &grant).await?;
    // Revoked by its full id: the prefix was resolved above, and a grant
    // created since must not make it ambiguous now.
    if !state
        .store
        .revoke_grant(&grant.id, now)
        .await
        .map_err(|e| ApiError::store(&e))?
    {
        // Used up, expired or revoked by someone else in between.
        return Err(not_live(&grant.id, "no longer live"));
    }
    tracing::info!(grant = %grant.id, by = %caller, "grant revoked");
    let mut revoked = Grant::from(grant);
    revoked.revoked_at = Some(now);
    Ok(Json(revoked))
}

fn not_live(id: &str, status: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "grant_not_live",
        format!("grant {id} is {status}"),
    )
}

/// The grant with this id or unique prefix. The store has no lookup of
/// one grant, so this reads the list; grants are few (one per approval).
async fn find(state: &ApiState, id: &str) -> Result<GrantRecord, ApiError> {
    let all = state
        .store
        .list_grants(true, Utc::now())
        .await
        .map_err(|e| ApiError::store(&e))?;
    if let Some(exact) = all.iter().find(|g| g.id == id) {
        return Ok(exact.clone());
    }
    let mut matching = all.into_iter().filter(|g| g.id.starts_with(id));
    match (matching.next(), matching.next()) {
        (Some(g), None) if !id.is_empty() => Ok(g),
        (Some(_), _) => Err(ApiError::bad_request(
            "ambiguous_id",
            format!("{id} matches more than one grant; give more of the id"),
        )),
        (None, _) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "grant_not_found",
            format!("no grant {id}"),
        )),
    }
}

async fn may_revoke(state: &ApiState, caller: &str, grant: &GrantRecord) -> Result<(), ApiError> {
    if caller == grant.identity || grant.approved_by.iter().any(|a| a == caller) {
        return Ok(());
    }
    let store = &state.store;
    let who = store
        .identity(caller)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let holder = store
        .identity(&grant.identity)
        .await
        .map_err(|e| ApiError::store(&e))?
        .unwrap_or_else(|| stranger(&grant.identity));
    let reviewers = match state.reviews.get(&grant.review_id).await {
        Ok(review) => review.reviewers,
        // A review pruned away leaves only the holder and the approvers.
        Err(DecideError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    match who.map(|who| may_decide(&who, &holder, &reviewers)) {
        // Another identity of the holder's own person gives it up.
        Some(Ok(()) | Err(NotAllowed::OwnRequest)) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_a_reviewer",
            format!(
                "{caller} may not revoke grant {}: only its holder, its approvers and the reviewers of review {} may",
                grant.id, grant.review_id
            ),
        )),
    }
}

/// An identity the store no longer knows: its own person, in no group.
fn stranger(name: &str) -> Identity {
    Identity {
        name: name.to_string(),
        kind: IdentityKind::User,
        groups: Vec::new(),
        person: None,
        scram_salt: Vec::new(),
        created_at: Utc::now(),
    }
}
