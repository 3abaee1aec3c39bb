//! Hung endpoints: triage still returns, every probe bounded by its own timeout, and the
//! probes run concurrently (the total is about one timeout, not four).
//!
//! Real sockets rule out paused time, so the bounds are generous: at least the timeout
//! (a probe cannot give up early), at most five times it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::time::Duration;

use clerk_incident_core::api::SecretKey;
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use clerk_incident_core::triage::{
    self, Category, ProbeName, ProbeOutcome, ProbeStatus, Severity, TriageConfig, TriageReport,
};
use clerk_incident_sim::{Faults, Outage, Sim};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

const TIMEOUT: Duration = Duration::from_millis(400);

fn http() -> Arc<dyn HttpClient> {
    Arc::new(ReqwestClient::new().unwrap())
}

/// A server on 127.0.0.1 that accepts every connection and never answers.
struct Silent {
    url: String,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
    task: JoinHandle<()>,
}

impl Silent {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                keep.lock().await.push(stream);
            }
        });
        Self {
            url,
            accepted,
            task,
        }
    }

    async fn connections(&self) -> usize {
        self.accepted.lock().await.len()
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hung_sim() -> Sim {
    let sim = Sim::builder().start().await.unwrap();
    sim.set_faults(Faults {
        outage: Some(Outage::Hang),
        ..Faults::default()
    });
    sim
}

fn assert_bounded(report: &TriageReport) {
    assert!(
        report.elapsed >= TIMEOUT && report.elapsed < TIMEOUT * 5,
        "the triage took {:?} with a {TIMEOUT:?} probe timeout",
        report.elapsed
    );
    for probe in &report.probes {
        assert!(
            probe.elapsed < TIMEOUT * 5,
            "{probe} took {:?}",
            probe.elapsed
        );
    }
}

#[tokio::test]
async fn every_probe_hanging_still_returns_unknown_within_the_timeout() {
    let sim = hung_sim().await;
    let status = Silent::start().await;
    let app = Silent::start().await;
    let config = TriageConfig::new(&status.url)
        .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
        .jwks_url(sim.jwks_url())
        .app_health_url(format!("{}/api/clerk-health", app.url))
        .timeout(TIMEOUT);

    let report = triage::run(http(), &config).await;
    eprintln!(
        "all-hung triage ({TIMEOUT:?} probe timeout): {:?}",
        report.elapsed
    );

    assert_eq!(
        (
            report.classification.category,
            report.classification.severity,
            report.classification.rule
        ),
        (Category::Unknown, Severity::Medium, "no_answer"),
        "\n{report}"
    );
    assert_eq!(report.probes.len(), 4);
    for probe in &report.probes {
        assert_eq!(probe.status(), ProbeStatus::TimedOut, "{probe}");
        assert_eq!(
            probe.outcome,
            ProbeOutcome::TimedOut {
                timeout_ms: u64::try_from(TIMEOUT.as_millis()).unwrap()
            }
        );
        // The status page gives each of its URLs nine tenths of the time.
        let waited = match probe.name {
            ProbeName::StatusPage => TIMEOUT.mul_f64(0.9),
            _ => TIMEOUT,
        };
        assert!(
            probe.elapsed >= waited,
            "{probe} gave up after {:?}",
            probe.elapsed
        );
    }
    assert_bounded(&report);
    // They really were sent, and really hung.
    assert!(status.connections().await >= 1);
    assert!(app.connections().await >= 1);
    assert_eq!(
        report.classification.evidence.len(),
        4,
        "every probe is evidence"
    );
}

#[tokio::test]
async fn a_hung_api_and_a_silent_status_page_are_unknown() {
    let sim = hung_sim().await;
    let status = Silent::start().await;
    let config = TriageConfig::new(&status.url)
        .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
        .timeout(TIMEOUT);

    let report = triage::run(http(), &config).await;
    // Without an app that answers, there is nothing but silence: unknown.
    assert_eq!(report.classification.rule, "no_answer", "\n{report}");
    assert_bounded(&report);
}

#[tokio::test]
async fn a_hung_api_while_the_app_answers_is_a_clerk_outage() {
    let sim = hung_sim().await;
    let status = Silent::start().await;
    let app = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/api/clerk-health"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string(
            r#"{"status":"degraded","mode":{"mode":"enforce"},"keys":{"key_count":1,"last_error":"the JWKS fetch timed out"},"counters":{}}"#,
        ))
        .mount(&app)
        .await;
    let config = TriageConfig::new(&status.url)
        .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
        .app_health_url(format!("{}/api/clerk-health", app.uri()))
        .timeout(TIMEOUT);

    let report = triage::run(http(), &config).await;
    assert_eq!(
        (
            report.classification.category,
            report.classification.severity,
            report.classification.rule
        ),
        (
            Category::ClerkOutage,
            Severity::Critical,
            "clerk_unreachable"
        ),
        "\n{report}"
    );
    let api = report
        .probes
        .iter()
        .find(|p| p.name == ProbeName::BackendApi)
        .unwrap();
    assert_eq!(api.status(), ProbeStatus::TimedOut);
    assert_bounded(&report);
}

#[tokio::test]
async fn a_hung_api_while_the_status_page_is_operational_is_unknown() {
    let sim = hung_sim().await;
    // The sim's status page is never faulted: it answers "operational".
    let config = TriageConfig::new(sim.base_url())
        .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
        .jwks_url(sim.jwks_url())
        .timeout(TIMEOUT);

    let report = triage::run(http(), &config).await;
    assert_eq!(
        (report.classification.category, report.classification.rule),
        (Category::Unknown, "clerk_unreachable_status_operational"),
        "\n{report}"
    );
    let page = report
        .probes
        .iter()
        .find(|p| p.name == ProbeName::StatusPage)
        .unwrap();
    assert_eq!(
        page.status(),
        ProbeStatus::Ok,
        "the answering probe did not time out"
    );
    assert_bounded(&report);
}
