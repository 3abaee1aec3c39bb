//! The status page probe against every shape a Statuspage page may send: the full summary,
//! the status alone, fields this version does not know, and garbage. Unknown shapes read as
//! "unknown", never as an error or a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use clerk_incident_core::http::ReqwestClient;
use clerk_incident_core::triage::status_page::{ComponentStatus, Indicator};
use clerk_incident_core::triage::{
    self, Category, ProbeName, ProbeOutcome, ProbeStatus, Severity, TriageConfig, TriageReport,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A summary as Statuspage serves it (abridged from a real page), with a component group.
const FULL_SUMMARY: &str = r#"{
  "page": {"id": "y1x6v0k3", "name": "Clerk", "url": "https://status.clerk.com",
           "time_zone": "Etc/UTC", "updated_at": "2026-11-26T18:04:05.123Z"},
  "components": [
    {"id": "c1", "name": "Frontend API", "status": "operational", "position": 1,
     "description": null, "showcase": false, "group_id": null, "group": false,
     "only_show_if_degraded": false, "created_at": "2021-01-01T00:00:00Z"},
    {"id": "c2", "name": "Backend API", "status": "major_outage", "position": 2,
     "group_id": "g1", "group": false},
    {"id": "g1", "name": "APIs", "status": "major_outage", "group": true,
     "components": ["c2"]}
  ],
  "incidents": [
    {"id": "i1", "name": "Backend API unavailable", "status": "identified",
     "impact": "critical", "shortlink": "https://stspg.io/x", "incident_updates": []},
    {"id": "i0", "name": "Old one", "status": "resolved", "impact": "minor"}
  ],
  "scheduled_maintenances": [],
  "status": {"indicator": "critical", "description": "Major System Outage"}
}"#;

async fn triage_page(response: ResponseTemplate) -> TriageReport {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    // The status page alone: the other probes are left out on purpose.
    let config = TriageConfig::new(server.uri())
        .skip(ProbeName::BackendApi)
        .skip(ProbeName::Jwks)
        .skip(ProbeName::AppHealth)
        .timeout(Duration::from_secs(3));
    let report = triage::run(Arc::new(ReqwestClient::new().unwrap()), &config).await;
    server.verify().await;
    report
}

async fn triage_body(body: &str) -> TriageReport {
    triage_page(
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(body),
    )
    .await
}

fn page(report: &TriageReport) -> &triage::ProbeResult {
    report
        .probes
        .iter()
        .find(|p| p.name == ProbeName::StatusPage)
        .unwrap()
}

#[tokio::test]
async fn the_full_summary_is_read() {
    let report = triage_body(FULL_SUMMARY).await;
    let ProbeOutcome::StatusPage { report: status } = &page(&report).outcome else {
        panic!("{report}");
    };
    assert_eq!(status.indicator, Indicator::Critical);
    assert_eq!(status.components.len(), 2, "groups are left out");
    assert_eq!(status.components[1].status, ComponentStatus::MajorOutage);
    assert_eq!(status.incidents.len(), 1, "resolved incidents are left out");
    assert_eq!(page(&report).status(), ProbeStatus::Failed);
    assert!(page(&report).summary().contains("Backend API unavailable"));
    assert_eq!(
        (
            report.classification.category,
            report.classification.severity,
            report.classification.rule
        ),
        (
            Category::ClerkOutage,
            Severity::Critical,
            "status_page_outage"
        )
    );
}

#[tokio::test]
async fn the_status_alone_is_read() {
    let report =
        triage_body(r#"{"status":{"indicator":"none","description":"All Systems Operational"}}"#)
            .await;
    assert_eq!(page(&report).status(), ProbeStatus::Ok);
    assert_eq!(report.classification.category, Category::Healthy);

    let report = triage_body(r#"{"status":{"indicator":"minor"}}"#).await;
    assert_eq!(page(&report).status(), ProbeStatus::Degraded);
    assert_eq!(
        (
            report.classification.category,
            report.classification.severity
        ),
        (Category::ClerkOutage, Severity::High)
    );
}

#[tokio::test]
async fn unknown_fields_and_values_read_as_unknown() {
    // New top-level fields are ignored; known ones still count.
    let report = triage_body(
        r#"{"status":{"indicator":"none","extra":[1,2]},"components":[],"banner":{"x":1},"incidents":[]}"#,
    )
    .await;
    assert_eq!(page(&report).status(), ProbeStatus::Ok);

    // An indicator or component status this version does not know: not operational, not
    // an outage either.
    let report = triage_body(
        r#"{"status":{"indicator":"catastrophic"},"components":[{"name":"Backend API","status":"on_fire"}]}"#,
    )
    .await;
    let ProbeOutcome::StatusPage { report: status } = &page(&report).outcome else {
        panic!("{report}");
    };
    assert_eq!(status.indicator, Indicator::Unknown);
    assert_eq!(status.components[0].status, ComponentStatus::Unknown);
    assert_eq!(page(&report).status(), ProbeStatus::Degraded);

    // Fields of the wrong type.
    let report =
        triage_body(r#"{"status":"fine","components":{"a":1},"incidents":[7,null,{"name":3}]}"#)
            .await;
    assert_eq!(page(&report).status(), ProbeStatus::Unknown, "{report}");
    assert_eq!(report.classification.category, Category::Unknown);
}

#[tokio::test]
async fn garbage_reads_as_unknown() {
    for body in [
        "",
        "<html><body>Service Unavailable</body></html>",
        "null",
        "[]",
        "{}",
        "{\"status\":",
        "\u{0}\u{1}\u{2}",
    ] {
        let report = triage_body(body).await;
        assert_eq!(page(&report).status(), ProbeStatus::Unknown, "{body:?}");
        assert_eq!(
            (report.classification.category, report.classification.rule),
            (Category::Unknown, "inconclusive"),
            "{body:?}"
        );
    }
    let report = triage_page(ResponseTemplate::new(200).set_body_bytes(vec![0xff; 4096])).await;
    assert_eq!(page(&report).status(), ProbeStatus::Unknown);
}

#[tokio::test]
async fn an_error_status_is_evidence_not_a_failure_of_triage() {
    let report = triage_page(ResponseTemplate::new(502)).await;
    assert_eq!(
        page(&report).outcome,
        ProbeOutcome::ErrorStatus {
            status: 502,
            code: None
        }
    );
    assert_eq!(report.classification.category, Category::Unknown);
    assert_eq!(report.classification.evidence.len(), 1);
}
