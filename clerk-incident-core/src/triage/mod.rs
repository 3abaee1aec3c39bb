//! Triage, runbook step 1: what is wrong, from the outside in.
//!
//! [`run`] sends four probes at once, each bounded by its own timeout, so a triage takes the
//! slowest probe's time (at most the timeout), never the sum:
//!
//! | Probe | Request | What it establishes |
//! | --- | --- | --- |
//! | [`status_page`] | incident.io's widget `GET {status}/proxy/{host}`, else Statuspage's `/api/v2/summary.json`, else `status.json` | what Clerk says: incidents, their impact, the components they affect, the last update |
//! | Backend API | `GET /v1/users?limit=1` with the secret key, no retries | ok, 401 (key rejected), 429, 5xx, timeout, refused |
//! | JWKS | the Frontend API's `/.well-known/jwks.json`, or `GET /v1/jwks` | reachable, and holds the `kid` the app expects |
//! | [`app_health`] | the app's `/api/clerk-health` | the app's auth mode, readiness, key staleness, rejection counters; not ready, unreachable or 5xx is evidence too |
//!
//! [`classify`] then reads the results and the [`Symptom`]s the operator reports through one
//! ordered rule table (listed by [`rules`]; the first rule that applies decides) into a
//! [`Category`], a [`Severity`], the [`Evidence`] that decided it and the commands to run
//! next. No probe ever panics on what the network sends: an answer in an unknown shape is
//! evidence ("unknown"), not an error. A verdict of [`Category::Healthy`] needs every probe to
//! have run and passed (or been left out with [`TriageConfig::skip`]): a probe that lacks an
//! input is *not checked*, and caps the verdict at [`Category::Unknown`].
//!
//! # Example
//!
//! Triage a simulated Clerk in a major outage:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use clerk_incident_core::api::SecretKey;
//! use clerk_incident_core::http::ReqwestClient;
//! use clerk_incident_core::triage::{self, Category, Severity, TriageConfig};
//! use clerk_incident_sim::{Faults, Outage, Sim, StatusPage};
//!
//! let sim = Sim::builder().status_page(StatusPage::major_outage()).start().await?;
//! sim.set_faults(Faults { outage: Some(Outage::Unavailable), ..Faults::default() });
//!
//! let config = TriageConfig::new(sim.base_url())
//!     .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
//!     .timeout(Duration::from_secs(2));
//! let report = triage::run(Arc::new(ReqwestClient::new()?), &config).await;
//! assert_eq!(report.classification.category, Category::ClerkOutage);
//! assert_eq!(report.classification.severity, Severity::Critical);
//! assert!(report.to_string().contains("clerk_outage")); // the CLI's text report
//! # Ok(())
//! # }
//! ```

pub mod app_health;
mod category;
mod config;
mod probe;
mod probes;
mod report;
mod rules;
pub mod status_page;
mod symptom;
mod text;

use std::sync::Arc;

use tokio::time::Instant;

pub use self::category::{Category, Severity, UnknownName};
pub use self::config::{DEFAULT_PROBE_TIMEOUT, TriageConfig};
pub use self::probe::{ProbeName, ProbeOutcome, ProbeResult, ProbeStatus};
pub use self::report::TriageReport;
pub use self::rules::{Classification, Evidence, EvidenceSource, RuleInfo, classify, rules};
pub use self::symptom::{Symptom, UnknownSymptom};
use crate::http::HttpClient;

/// Runs every configured probe concurrently and classifies the results.
///
/// Never fails and never panics: a probe that cannot run (a missing secret key or URL, an
/// invalid URL) is reported as not checked, one left out with [`TriageConfig::skip`] as
/// skipped, one that gets no answer as unreachable or timed out. Returns within about the probe
/// timeout ([`TriageConfig::timeout`]).
pub async fn run(http: Arc<dyn HttpClient>, config: &TriageConfig) -> TriageReport {
    let started = Instant::now();
    let api = probes::api_client(&http, config);
    let (status_page, backend_api, jwks, app_health) = tokio::join!(
        probes::status_page(http.as_ref(), config),
        probes::backend_api(api.as_ref(), config),
        probes::jwks(http.as_ref(), api.as_ref(), config),
        probes::app_health(http.as_ref(), config),
    );
    let probes = vec![status_page, backend_api, jwks, app_health];
    let classification = classify(&probes, &config.symptoms);
    let report = TriageReport::new(
        classification,
        config.symptoms.clone(),
        probes,
        started.elapsed(),
    );
    tracing::info!(
        category = %report.classification.category,
        severity = %report.classification.severity,
        rule = report.classification.rule,
        elapsed_ms = report.elapsed.as_millis(),
        "triage done"
    );
    report
}
