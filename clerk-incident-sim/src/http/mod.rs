//! The sim's HTTP surface: routes, the fault gate and the handlers.

mod body;
mod control;
mod error;
mod gate;
mod instance_objects;
mod json;
mod jwks;
mod list_page;
mod machines;
mod organizations;
mod sessions;
mod status_page;
mod tickets;
mod user_admin;
mod user_changes;
mod users;
mod webhooks;
pub(crate) mod wire;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};

use self::error::ApiError;
use self::gate::{Gate, Policy};
use self::instance_objects::Collection;
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
            endpoint::UPDATE_INSTANCE,
            Policy::BackendApi,
            patch(jwks::update_instance),
        ),
        gated(
            endpoint::UPDATE_ORGANIZATION,
            Policy::BackendApi,
            patch(organizations::update),
        ),
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
        gated(
            endpoint::CREATE_USER,
            Policy::BackendApi,
            post(user_changes::create),
        ),
        gated(
            endpoint::UPDATE_USER,
            Policy::BackendApi,
            patch(user_changes::update),
        ),
        gated(
            endpoint::UPDATE_USER_METADATA,
            Policy::BackendApi,
            patch(user_changes::update_metadata),
        ),
        gated(
            endpoint::DELETE_USER,
            Policy::BackendApi,
            delete(user_changes::delete),
        ),
        gated(
            endpoint::LIST_ORGANIZATIONS,
            Policy::BackendApi,
            get(organizations::list),
        ),
        gated(
            endpoint::CREATE_ORGANIZATION,
            Policy::BackendApi,
            post(organizations::create),
        ),
        gated(
            endpoint::DELETE_ORGANIZATION,
            Policy::BackendApi,
            delete(organizations::delete),
        ),
        gated(
            endpoint::LIST_MEMBERSHIPS,
            Policy::BackendApi,
            get(organizations::list_all_memberships),
        ),
        gated(
            endpoint::LIST_ORGANIZATION_MEMBERSHIPS,
            Policy::BackendApi,
            get(organizations::list_memberships),
        ),
        gated(
            endpoint::CREATE_MEMBERSHIP,
            Policy::BackendApi,
            post(organizations::create_membership),
        ),
        gated(
            endpoint::UPDATE_MEMBERSHIP,
            Policy::BackendApi,
            patch(organizations::update_membership),
        ),
        gated(
            endpoint::DELETE_MEMBERSHIP,
            Policy::BackendApi,
            delete(organizations::delete_membership),
        ),
        gated(
            endpoint::REVOKE_INVITATION,
            Policy::BackendApi,
            post(instance_objects::revoke_invitation),
        ),
        gated(
            endpoint::UPDATE_JWT_TEMPLATE,
            Policy::BackendApi,
            patch(instance_objects::update_jwt_template),
        ),
        gated(
            endpoint::LIST_MACHINES,
            Policy::BackendApi,
            get(machines::list_machines),
        ),
        gated(
            endpoint::CREATE_MACHINE,
            Policy::BackendApi,
            post(machines::create_machine),
        ),
        gated(
            endpoint::DELETE_MACHINE,
            Policy::BackendApi,
            delete(machines::delete_machine),
        ),
        gated(
            endpoint::LIST_API_KEYS,
            Policy::BackendApi,
            get(machines::list_api_keys),
        ),
        gated(
            endpoint::CREATE_API_KEY,
            Policy::BackendApi,
            post(machines::create_api_key),
        ),
        gated(
            endpoint::REVOKE_API_KEY,
            Policy::BackendApi,
            post(machines::revoke_api_key),
        ),
        gated(
            endpoint::LIST_M2M_TOKENS,
            Policy::BackendApi,
            get(machines::list_m2m_tokens),
        ),
        gated(
            endpoint::CREATE_M2M_TOKEN,
            Policy::MachineKey,
            post(machines::create_m2m_token),
        ),
        gated(
            endpoint::REVOKE_M2M_TOKEN,
            Policy::BackendApi,
            post(machines::revoke_m2m_token),
        ),
        gated(
            endpoint::CREATE_ACTOR_TOKEN,
            Policy::BackendApi,
            post(tickets::create_actor_token),
        ),
        gated(
            endpoint::REVOKE_ACTOR_TOKEN,
            Policy::BackendApi,
            post(tickets::revoke_actor_token),
        ),
        gated(
            endpoint::CREATE_SIGN_IN_TOKEN,
            Policy::BackendApi,
            post(tickets::create_sign_in_token),
        ),
        gated(
            endpoint::REVOKE_SIGN_IN_TOKEN,
            Policy::BackendApi,
            post(tickets::revoke_sign_in_token),
        ),
        gated(
            endpoint::ACCEPT_TICKET,
            Policy::FrontendApi,
            get(tickets::accept),
        ),
    ];
    let collections: [(&str, &str, &str, &'static Collection); 8] = [
        (
            endpoint::LIST_INVITATIONS,
            endpoint::CREATE_INVITATION,
            "",
            &instance_objects::INVITATIONS,
        ),
        (
            endpoint::LIST_REDIRECT_URLS,
            endpoint::CREATE_REDIRECT_URL,
            endpoint::DELETE_REDIRECT_URL,
            &instance_objects::REDIRECT_URLS,
        ),
        (
            endpoint::LIST_DOMAINS,
            endpoint::CREATE_DOMAIN,
            endpoint::DELETE_DOMAIN,
            &instance_objects::DOMAINS,
        ),
        (
            endpoint::LIST_ALLOWLIST,
            endpoint::CREATE_ALLOWLIST,
            endpoint::DELETE_ALLOWLIST,
            &instance_objects::ALLOWLIST,
        ),
        (
            endpoint::LIST_BLOCKLIST,
            endpoint::CREATE_BLOCKLIST,
            endpoint::DELETE_BLOCKLIST,
            &instance_objects::BLOCKLIST,
        ),
        (
            endpoint::LIST_JWT_TEMPLATES,
            endpoint::CREATE_JWT_TEMPLATE,
            endpoint::DELETE_JWT_TEMPLATE,
            &instance_objects::JWT_TEMPLATES,
        ),
        (
            endpoint::LIST_OAUTH_APPLICATIONS,
            endpoint::CREATE_OAUTH_APPLICATION,
            endpoint::DELETE_OAUTH_APPLICATION,
            &instance_objects::OAUTH_APPLICATIONS,
        ),
        (
            endpoint::LIST_SAML_CONNECTIONS,
            endpoint::CREATE_SAML_CONNECTION,
            endpoint::DELETE_SAML_CONNECTION,
            &instance_objects::SAML_CONNECTIONS,
        ),
    ];
    let mut routes = Vec::from(routes);
    for (list, create, remove, collection) in collections {
        routes.push(gated(
            list,
            Policy::BackendApi,
            get(move |state: State<Arc<Shared>>, query: RawQuery| {
                instance_objects::list(collection, state, query)
            }),
        ));
        routes.push(gated(
            create,
            Policy::BackendApi,
            post(
                move |state: State<Arc<Shared>>, body: Result<Bytes, BytesRejection>| {
                    instance_objects::create(collection, state, body)
                },
            ),
        ));
        if !remove.is_empty() {
            routes.push(gated(
                remove,
                Policy::BackendApi,
                delete(
                    move |state: State<Arc<Shared>>, id: Result<Path<String>, PathRejection>| {
                        instance_objects::delete(collection, state, id)
                    },
                ),
            ));
        }
    }
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
        .route("/_sim/scenarios/compromise", post(control::compromise))
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
