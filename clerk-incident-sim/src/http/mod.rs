//! The sim's HTTP surface: routes, the fault gate and the handlers.

mod control;
mod error;
mod gate;
mod json;
mod jwks;
mod sessions;
mod status_page;
mod user_admin;
mod users;
mod webhooks;
pub(crate) mod wire;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post};

use self::error::ApiError;
use self::gate::{Gate, Policy};
use crate::endpoint;
use crate::state::Shared;

/// All routes of a sim.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let gated = |key: &'static str, policy: Policy, route: MethodRouter<Arc<Shared>>| {
        let gate = Gate {
            shared: Arc::clone(&shared),
            endpoint: key,
            policy,
        };
        (
            endpoint::split(key).1,
            route.route_layer(from_fn_with_state(gate, gate::gate)),
        )
    };
    let routes = [
        gated(endpoint::LIST_USERS, Policy::BackendApi, get(users::list)),
        gated(endpoint::COUNT_USERS, Policy::BackendApi, get(users::count)),
        gated(endpoint::GET_USER, Policy::BackendApi, get(users::get_one)),
        gated(
            endpoint::LIST_SESSIONS,
            Policy::BackendApi,
            get(sessions::list),
        ),
        gated(
            endpoint::GET_SESSION,
            Policy::BackendApi,
            get(sessions::get_one),
        ),
        gated(
            endpoint::REVOKE_SESSION,
            Policy::BackendApi,
            post(sessions::revoke),
        ),
        gated(endpoint::JWKS, Policy::BackendApi, get(jwks::jwks)),
        gated(endpoint::INSTANCE, Policy::BackendApi, get(jwks::instance)),
        gated(
            endpoint::WELL_KNOWN_JWKS,
            Policy::FrontendApi,
            get(jwks::jwks),
        ),
        gated(
            endpoint::STATUS,
            Policy::CountOnly,
            get(status_page::status_json),
        ),
        gated(
            endpoint::SUMMARY,
            Policy::CountOnly,
            get(status_page::summary_json),
        ),
        gated(
            endpoint::STATUS_WIDGET,
            Policy::CountOnly,
            get(status_page::widget_json),
        ),
    ];
    let mut router = Router::new();
    for (path, route) in routes {
        router = router.route(path, route);
    }
    router
        .route("/_sim/info", get(control::info))
        .route(
            "/_sim/faults",
            get(control::get_faults).put(control::put_faults),
        )
        .route(
            "/_sim/status-page",
            get(control::get_status_page).put(control::put_status_page),
        )
        .route("/_sim/seed", post(control::seed))
        .route("/_sim/tokens", post(control::tokens))
        .route(
            "/_sim/counters",
            get(control::get_counters).delete(control::reset_counters),
        )
        .route("/_sim/keys", post(control::add_key))
        .route("/_sim/keys/revoke", post(control::revoke_key))
        .route(
            "/_sim/signing-key/rotate",
            post(control::rotate_signing_key),
        )
        .route("/_sim/webhooks", get(webhooks::get).put(webhooks::put))
        .route("/_sim/users", post(user_admin::create))
        .route(
            "/_sim/users/{user_id}",
            patch(user_admin::update).delete(user_admin::delete),
        )
        .fallback(not_found)
        .with_state(shared)
}

/// Any other path: Clerk's 404.
async fn not_found() -> Response {
    ApiError::not_found("Resource").into_response()
}
