//! What the focused tests share: a sim, a policy pinned to its key, tokens, and sending a
//! request through a service without a socket.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BypassSwitch, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_sim::{OrgRole, Sim, TokenRequest};
use tower::{Service, ServiceExt};

/// A sim, a policy verifying its tokens, and two valid tokens.
pub struct Setup {
    pub sim: Sim,
    pub policy: AuthPolicy,
    pub admin_id: String,
    pub admin_token: String,
    pub member_token: String,
}

impl Setup {
    pub async fn start() -> Self {
        Self::with_config(VerifierConfig::default()).await
    }

    pub async fn with_config(config: VerifierConfig) -> Self {
        let sim = Sim::builder()
            .users(20)
            .sessions(40)
            .start()
            .await
            .expect("the sim starts");
        let keys = KeySource::pem(sim.public_key_pem()).expect("the sim's key is a PEM");
        let policy = AuthPolicy::new(Verifier::new(keys, config), BypassSwitch::new());
        let admin_id = sim.admin_user_id().expect("the sim seeds an admin");
        let member_id = member_with_active_session(&sim).expect("the sim seeds a member");
        let mint = |user: &str| {
            sim.mint_token(&TokenRequest::for_user(user).lifetime(Duration::from_secs(600)))
                .expect("minting works")
        };
        Self {
            admin_token: mint(&admin_id),
            member_token: mint(&member_id),
            admin_id,
            sim,
            policy,
        }
    }

    pub fn switch(&self) -> &BypassSwitch {
        self.policy.switch()
    }

    #[allow(clippy::unwrap_used)]
    pub fn open(&self) {
        self.switch()
            .activate(AuthMode::Open, Some(Duration::from_secs(600)), "test")
            .unwrap();
    }

    #[allow(clippy::unwrap_used)]
    pub fn grace(&self) {
        self.switch()
            .activate(
                AuthMode::Grace {
                    max_token_age: Duration::from_secs(30 * 60),
                },
                Some(Duration::from_secs(600)),
                "test",
            )
            .unwrap();
    }
}

fn member_with_active_session(sim: &Sim) -> Option<String> {
    let active: Vec<String> = sim
        .sessions()
        .into_iter()
        .filter(|s| s.status.as_str() == "active")
        .map(|s| s.user_id)
        .collect();
    sim.users()
        .into_iter()
        .filter(|u| {
            u.membership
                .as_ref()
                .is_some_and(|m| m.role == OrgRole::Member)
        })
        .map(|u| u.id)
        .find(|id| active.contains(id))
}

/// `GET path`, with `Authorization: Bearer <token>` when given.
pub fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path);
    if let Some(token) = token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).expect("a valid request")
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers.get_all(name).iter().count()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends `request` through `service` (a router or a bare middleware stack), no socket.
pub async fn send<S>(service: S, request: Request<Body>) -> Reply
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    let response = service.oneshot(request).await.expect("infallible");
    into_reply(response).await
}

pub async fn into_reply(response: Response<Body>) -> Reply {
    let (parts, body) = response.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: to_bytes(body, 1 << 20).await.expect("a readable body"),
    }
}
