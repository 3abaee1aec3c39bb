//! Drill phase for runbook step 1, triage: the same `clerk-incident triage` probes, run at
//! each scenario the runbook names (all clear, a Clerk outage, a revoked secret key, a leaked
//! one, the app's middleware down), each checked against the category the runbook expects.
//!
//! The drill's reference service is served in-process on 127.0.0.1 so that the app-health probe
//! has a real `/api/clerk-health` to read; "the app is down" points the probe at a port
//! nothing listens on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, RetryPolicy, SecretKey};
use clerk_incident_core::auth::{
    AuthPolicy, BackendApiJwks, BypassSwitch, HealthToken, JwksCache, JwksCacheConfig, KeySource,
    Verifier, VerifierConfig,
};
use clerk_incident_core::http::HttpClient;
use clerk_incident_core::incident::EntryKind;
use clerk_incident_core::triage::{self, Category, Severity, Symptom, TriageConfig};
use clerk_incident_sim::{ComponentStatus, Faults, Outage, StatusPage, StatusPageFormat};
use tokio::task::JoinHandle;

use super::{Drill, Observation, Recorder};

/// Each probe's time limit in the drill.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A secret key the drill adds to the sim and revokes, standing for a key rolled in the
/// Dashboard while the app still uses it.
const REVOKED_KEY: &str = "sk_test_drillrevoked0000000000000000000000";

/// The drill's reference service, served on 127.0.0.1 until dropped.
struct ServedApp {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How the served app's keys stand when triage looks at it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AppKeys {
    /// Fetched, as a service that has served traffic has them.
    Fetched,
    /// Never fetched: a service that started and has not served a token yet.
    NotFetched,
    /// The fetch was answered 401: the service runs on a revoked secret key.
    Revoked,
}

async fn serve_app(drill: &Drill, keys: AppKeys) -> Result<ServedApp, String> {
    let api = match keys {
        AppKeys::Revoked => ClerkApi::builder(SecretKey::new(REVOKED_KEY))
            .base_url(drill.sim().base_url())
            .retry(RetryPolicy::none())
            .build()
            .map_err(|err| format!("no API client for the revoked key: {err}"))?,
        _ => drill.api().clone(),
    };
    let cache = JwksCache::new(BackendApiJwks(api), JwksCacheConfig::default());
    let fetched = match keys {
        AppKeys::NotFetched => Err(None),
        _ => cache.refresh().await.map_err(Some),
    };
    match (keys, fetched) {
        (AppKeys::Fetched, Err(err)) => {
            let err = err.map_or_else(String::new, |err| err.reason());
            return Err(format!("the app could not fetch its keys: {err}"));
        }
        (AppKeys::Revoked, Ok(())) => {
            return Err("the revoked key still fetched the keys".to_owned());
        }
        _ => {}
    }
    let config = VerifierConfig::default().issuers([drill.sim().issuer()]);
    let policy = AuthPolicy::new(
        Verifier::new(KeySource::Jwks(cache), config),
        BypassSwitch::new(),
    )
    .with_health_token(health_token());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|err| format!("cannot bind 127.0.0.1:0: {err}"))?;
    let addr = listener
        .local_addr()
        .map_err(|err| format!("no local address: {err}"))?;
    let app = super::service::app(policy, None);
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::warn!(error = %err, "the drill's reference service stopped");
        }
    });
    Ok(ServedApp { addr, task })
}

/// A URL on 127.0.0.1 where nothing listens (the port was free a moment ago).
fn nothing_listens() -> Result<String, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|err| format!("cannot bind 127.0.0.1:0: {err}"))?;
    let addr = listener
        .local_addr()
        .map_err(|err| format!("no local address: {err}"))?;
    Ok(format!("http://{addr}/api/clerk-health"))
}

/// The token the drill's app shows its health details to (as an on-call engineer's triage
/// would send its `CLERK_INCIDENT_HEALTH_TOKEN`).
#[allow(clippy::expect_used)]
fn health_token() -> HealthToken {
    HealthToken::new("drill-health-token-for-the-reference-service")
        .expect("a constant long enough and without spaces")
}

/// Triage against the drill's sim, with `key` for the Backend API.
fn config(drill: &Drill, key: &str, app_health_url: &str) -> TriageConfig {
    let sim = drill.sim();
    TriageConfig::new(sim.base_url())
        .app_health_token(health_token())
        .secret_key(sim.base_url(), SecretKey::new(key))
        .jwks_url(sim.jwks_url())
        .expected_kid(sim.signing_kid())
        .app_health_url(app_health_url)
        .timeout(PROBE_TIMEOUT)
}

/// Runs a triage and checks its category (and severity, when given).
async fn expect(
    http: &Arc<dyn HttpClient>,
    config: TriageConfig,
    category: Category,
    severity: Option<Severity>,
) -> Observation {
    let report = triage::run(Arc::clone(http), &config).await;
    let line = format!(
        "{}, severity {} (rule {})",
        report.classification.category, report.classification.severity, report.classification.rule
    );
    let severity_ok = severity.is_none_or(|severity| severity == report.classification.severity);
    let entry = EntryKind::from(&report);
    if report.classification.category == category && severity_ok {
        Observation::expected(line).with_entry(entry)
    } else {
        let wanted = severity.map_or(String::new(), |s| format!(", severity {s}"));
        let failing: Vec<String> = report
            .probes
            .iter()
            .filter(|p| p.status() != triage::ProbeStatus::Ok)
            .map(ToString::to_string)
            .collect();
        Observation::unexpected(format!(
            "{line}; the runbook expects {category}{wanted}; {}",
            failing.join("; ")
        ))
        .with_entry(entry)
    }
}

pub(super) async fn run(drill: &Drill, rec: &mut Recorder) {
    let sim = drill.sim();
    let http: Arc<dyn HttpClient> = Arc::new(drill.http().clone());
    rec.phase(
        "Phase 9",
        "triage: status page, Backend API, JWKS and the app's health, at each scenario",
    );
    let (app, down) = match (serve_app(drill, AppKeys::Fetched).await, nothing_listens()) {
        (Ok(app), Ok(down)) => (app, down),
        (Err(err), _) | (_, Err(err)) => {
            rec.step("setup", async { Observation::unexpected(err) })
                .await;
            return;
        }
    };
    let health = format!("http://{}/api/clerk-health", app.addr);
    let key = sim.secret_key().to_owned();

    rec.step(
        "triage, all clear",
        expect(
            &http,
            config(drill, &key, &health),
            Category::Healthy,
            Some(Severity::None),
        ),
    )
    .await;

    sim.set_status_page(StatusPage::major_outage());
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    rec.step(
        "triage, Clerk down",
        expect(
            &http,
            config(drill, &key, &health),
            Category::ClerkOutage,
            Some(Severity::Critical),
        ),
    )
    .await;
    // The same outage on a page served in Statuspage's format.
    sim.set_status_page(StatusPage::major_outage().in_format(StatusPageFormat::Statuspage));
    rec.step(
        "triage, Statuspage page",
        expect(
            &http,
            config(drill, &key, &health),
            Category::ClerkOutage,
            Some(Severity::Critical),
        ),
    )
    .await;
    sim.set_faults(Faults::default());

    // An incident on Clerk's Webhooks component alone points at a webhook backlog.
    sim.set_status_page(StatusPage::incident_on(
        &["Webhooks"],
        ComponentStatus::PartialOutage,
        "Webhook deliveries delayed",
    ));
    rec.step(
        "triage, webhooks down",
        expect(
            &http,
            config(drill, &key, &health),
            Category::WebhookBacklog,
            Some(Severity::Medium),
        ),
    )
    .await;
    sim.set_status_page(StatusPage::operational());

    sim.add_secret_key(REVOKED_KEY);
    sim.revoke_secret_key(REVOKED_KEY);
    rec.step(
        "triage, key revoked",
        expect(
            &http,
            config(drill, REVOKED_KEY, &health),
            Category::ConfigurationError,
            Some(Severity::High),
        ),
    )
    .await;
    rec.step(
        "triage, key leaked",
        expect(
            &http,
            config(drill, REVOKED_KEY, &health).symptom(Symptom::UnauthorizedAccess),
            Category::KeyCompromise,
            Some(Severity::Critical),
        ),
    )
    .await;

    for (step, keys, category) in [
        (
            "triage, app key revoked",
            AppKeys::Revoked,
            Category::ConfigurationError,
        ),
        (
            "triage, app not ready",
            AppKeys::NotFetched,
            Category::MiddlewareFailure,
        ),
    ] {
        let observe = async {
            match serve_app(drill, keys).await {
                Ok(app) => {
                    let url = format!("http://{}/api/clerk-health", app.addr);
                    expect(
                        &http,
                        config(drill, &key, &url),
                        category,
                        Some(Severity::High),
                    )
                    .await
                }
                Err(err) => Observation::unexpected(err),
            }
        };
        rec.step(step, observe).await;
    }

    rec.step(
        "triage, app down",
        expect(
            &http,
            config(drill, &key, &down),
            Category::MiddlewareFailure,
            Some(Severity::High),
        ),
    )
    .await;
    drop(app);
}
