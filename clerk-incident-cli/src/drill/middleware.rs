//! Drill phases for the auth middleware (runbook step 2): the drill's reference axum service, served
//! in-process against the sim, through a Clerk outage, expired tokens, the Grace and Open
//! modes, and the bypass expiring back to Enforce.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use clerk_incident_core::auth::{
    AuthMode, AuthPolicy, BackendApiJwks, BypassSwitch, ChangeCause, DEFAULT_GRACE_MAX_AGE,
    JwksCache, JwksCacheConfig, KeySource, Verifier, VerifierConfig,
};
use clerk_incident_sim::{DEFAULT_AZP, Faults, Outage, TokenRequest};
use serde_json::Value;
use tower::ServiceExt;

use clerk_incident_core::auth::ModeChange;
use clerk_incident_core::incident::{ActionCounts, EntryKind};
use tokio::sync::broadcast;

use super::{Drill, Observation, Recorder};

/// How long the drill's Open bypass lasts before it must expire by itself.
const OPEN_TTL: Duration = Duration::from_secs(2);

/// What one request through the service came back with.
pub(super) struct Answer {
    pub(super) status: u16,
    bypass: Option<String>,
    pub(super) body: Value,
}

impl Answer {
    pub(super) fn describe(&self, path: &str) -> String {
        let mut line = format!("GET {path} → {}", self.status);
        if let Some(bypass) = &self.bypass {
            line.push_str(&format!(", X-Auth-Bypass: {bypass}"));
        }
        if let Some(user) = self.body.get("user_id").and_then(Value::as_str) {
            line.push_str(&format!(", as {user}"));
        }
        if self.body.get("degraded").and_then(Value::as_bool) == Some(true) {
            line.push_str(" (degraded)");
        }
        line
    }
}

pub(super) async fn get(app: &Router, path: &str, token: Option<&str>) -> Answer {
    let mut request = http::Request::get(path);
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let Ok(request) = request.body(Body::empty()) else {
        return Answer {
            status: 0,
            bypass: None,
            body: Value::Null,
        };
    };
    let Ok(response) = app.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let bypass = response
        .headers()
        .get("x-auth-bypass")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    Answer {
        status,
        bypass,
        body,
    }
}

/// Checks one request: the status and bypass header it must come back with.
pub(super) async fn expect(
    app: &Router,
    path: &str,
    token: Option<&str>,
    status: u16,
    bypass: Option<&str>,
) -> Observation {
    let answer = get(app, path, token).await;
    let line = answer.describe(path);
    if answer.status == status && answer.bypass.as_deref() == bypass {
        Observation::expected(line)
    } else {
        let wanted = bypass.map_or(String::new(), |b| format!(" with X-Auth-Bypass: {b}"));
        Observation::unexpected(format!("{line}; the runbook expects {status}{wanted}"))
    }
}

/// Moves the mode changes seen so far into the incident log.
fn record_mode_changes(rec: &mut Recorder, audit: &mut broadcast::Receiver<ModeChange>) {
    while let Ok(change) = audit.try_recv() {
        rec.log(EntryKind::ModeChange {
            from: change.from.name().to_owned(),
            to: change.to.name().to_owned(),
            reason: change.reason,
        });
    }
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    let sim = drill.sim();
    let keys = KeySource::Jwks(JwksCache::new(
        BackendApiJwks(drill.api().clone()),
        JwksCacheConfig::default(),
    ));
    let config = VerifierConfig::default()
        .issuers([sim.issuer()])
        .authorized_parties([DEFAULT_AZP]);
    let switch = BypassSwitch::new();
    // Every mode change goes to the drill's incident log, as an operator's tool would record it.
    let mut audit = switch.subscribe();
    let policy = AuthPolicy::new(Verifier::new(keys, config), switch.clone());
    let app = super::service::app(policy.clone(), None);

    let Some(admin) = sim.admin_user_id() else {
        rec.step("setup", async {
            Observation::unexpected("the sim seeded no admin")
        })
        .await;
        return;
    };
    let mint = |request: TokenRequest| sim.mint_token(&request).unwrap_or_default();
    let fresh = mint(TokenRequest::for_user(admin.clone()).lifetime(Duration::from_secs(300)));
    // A second token, never seen before the outage: proves the keys (not the token cache)
    // keep verifying while Clerk is down.
    let fresh_in_outage =
        mint(TokenRequest::for_user(admin.clone()).lifetime(Duration::from_secs(300)));
    let expired = mint(
        TokenRequest::for_user(admin.clone())
            .issued_at(std::time::SystemTime::now() - Duration::from_secs(5 * 60)),
    );
    let me = super::service::ME;
    let admin_ping = super::service::ADMIN_PING;

    rec.phase(
        "Phase 4",
        "an axum service in front of Clerk, normal operation",
    );
    rec.step(
        "valid session token",
        expect(&app, me, Some(&fresh), 200, None),
    )
    .await;
    rec.step("no token", expect(&app, me, None, 401, None))
        .await;

    rec.phase(
        "Phase 5",
        "Clerk outage: the JWKS cannot be fetched, cached keys keep verifying",
    );
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    rec.step(
        "new token, Clerk down",
        expect(&app, me, Some(&fresh_in_outage), 200, None),
    )
    .await;

    rec.phase(
        "Phase 6",
        "tokens expire and clients cannot refresh: Grace keeps users in with their identity",
    );
    rec.step(
        "expired token, Enforce",
        expect(&app, me, Some(&expired), 401, None),
    )
    .await;
    rec.step(
        "a 48 h Grace, refused",
        switch_mode(
            &switch,
            AuthMode::Grace {
                max_token_age: Duration::from_secs(48 * 60 * 60),
            },
            None,
            false,
        ),
    )
    .await;
    rec.step(
        "switch to Grace",
        switch_mode(
            &switch,
            AuthMode::Grace {
                max_token_age: DEFAULT_GRACE_MAX_AGE,
            },
            Some(Duration::from_secs(45 * 60)),
            true,
        ),
    )
    .await;
    record_mode_changes(rec, &mut audit);
    rec.step(
        "expired token, Grace",
        expect(&app, me, Some(&expired), 200, Some("grace")),
    )
    .await;
    rec.step(
        "admin route, Grace",
        expect(&app, admin_ping, Some(&expired), 401, Some("grace")),
    )
    .await;

    rec.phase(
        "Phase 7",
        "the emergency bypass: Open lets requests through, audited",
    );
    let mut changes = switch.subscribe();
    rec.step(
        "switch to Open",
        switch_mode(&switch, AuthMode::Open, Some(OPEN_TTL), true),
    )
    .await;
    record_mode_changes(rec, &mut audit);
    rec.step("no token, Open", expect(&app, me, None, 200, Some("true")))
        .await;
    rec.step(
        "admin route, Open",
        expect(&app, admin_ping, None, 401, Some("true")),
    )
    .await;

    rec.phase(
        "Phase 8",
        "the bypass expires and the service enforces again by itself",
    );
    rec.step("bypass expiry", async {
        let expired = tokio::time::timeout(OPEN_TTL * 5, async {
            while let Ok(change) = changes.recv().await {
                if change.cause == ChangeCause::Expired {
                    return Some(change);
                }
            }
            None
        })
        .await;
        match expired {
            Ok(Some(change)) => Observation::expected(format!(
                "{} → {} after {} s",
                change.from.name(),
                change.to.name(),
                OPEN_TTL.as_secs()
            )),
            _ => Observation::unexpected("the Open mode did not expire"),
        }
    })
    .await;
    record_mode_changes(rec, &mut audit);
    rec.step("no token, Enforce again", expect(&app, me, None, 401, None))
        .await;
    sim.set_faults(Faults::default());
    // What the service let through while degraded, for the review's impact.
    let counters = policy.health().counters;
    rec.log(EntryKind::Action {
        command: "the service's auth counters (GET /health)".to_owned(),
        outcome: format!(
            "{} request(s) bypassed in open mode, {} served on an expired token in grace",
            counters.bypassed, counters.grace_allowed
        ),
        counts: ActionCounts::degraded_traffic(counters.bypassed, counters.grace_allowed),
    });
}

/// Switches `mode` on, as an operator would; `accepted` says whether the switch must take it
/// (a grace window above the 24 h ceiling must be refused, leaving the mode as it was).
async fn switch_mode(
    switch: &BypassSwitch,
    mode: AuthMode,
    ttl: Option<Duration>,
    accepted: bool,
) -> Observation {
    let before = switch.mode();
    let reason = match mode {
        AuthMode::Open => "drill: emergency bypass",
        _ => "drill: Clerk outage, sessions cannot refresh",
    };
    match (switch.activate(mode, ttl, reason), accepted) {
        (Ok(state), true) => Observation::expected(format!("now {}", state.mode)),
        (Err(error), false) if switch.mode() == before => {
            Observation::expected(format!("refused: {error}"))
        }
        (Ok(state), false) => Observation::unexpected(format!("accepted: now {}", state.mode)),
        (Err(error), _) => Observation::unexpected(format!("refused: {error}")),
    }
}
