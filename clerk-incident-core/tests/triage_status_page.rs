//! The status page probe against every shape a page may send, in both hosted formats:
//! incident.io's widget (what status.clerk.com serves) and Atlassian Statuspage's summary and
//! status, each with fields this version does not know, fields missing, and garbage. Unknown
//! shapes read as "unknown", never as an error, a panic or a healthy page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use clerk_incident_core::http::ReqwestClient;
use clerk_incident_core::triage::status_page::{Area, ComponentStatus, Indicator, PageFormat};
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

/// The widget as status.clerk.com's incident.io page serves it (shape of incident.io's public
/// widget API), during a full outage of sign-in, with a maintenance and extra fields.
const WIDGET_OUTAGE: &str = r#"{
  "page_title": "Clerk",
  "page_url": "https://status.clerk.com",
  "ongoing_incidents": [
    {"id": "01M1C1MY1NGFDMHZSREESJWK59", "name": "Sign-in requests failing",
     "status": "identified", "url": "https://status.clerk.com/incidents/01M1C1MY1NGFDMHZSREESJWK59",
     "last_update_at": "2026-12-01T10:04:00.000Z",
     "last_update_message": "We have identified the cause and are rolling out a fix.",
     "current_worst_impact": "full_outage",
     "affected_components": [
       {"id": "01H0000000000000000000AAAA", "name": "User and authentication", "group_name": "Core"},
       {"id": "01H0000000000000000000BBBB", "name": "Session management"}],
     "some_future_field": {"x": 1}}
  ],
  "in_progress_maintenances": [
    {"id": "01M1C1MY1NGFDMHZSREESJWK60", "name": "Database upgrade", "status": "maintenance_in_progress",
     "url": "https://status.clerk.com/maintenances/x", "last_update_at": "2026-12-01T09:00:00.000Z",
     "last_update_message": null, "affected_components": [{"id": "c9", "name": "Dashboard"}],
     "started_at": "2026-12-01T09:00:00.000Z", "scheduled_end_at": null}
  ],
  "scheduled_maintenances": []
}"#;

/// Serves `routes` (path, answer, each asked once per triage); every other path is a 404.
/// Triage with the status page alone: the other probes are left out on purpose.
async fn triage_routes(routes: Vec<(&str, ResponseTemplate)>) -> TriageReport {
    let server = MockServer::start().await;
    for (route, response) in routes {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let config = TriageConfig::new(server.uri())
        .skip(ProbeName::BackendApi)
        .skip(ProbeName::Jwks)
        .skip(ProbeName::AppHealth)
        .timeout(Duration::from_secs(3));
    let report = triage::run(Arc::new(ReqwestClient::new().unwrap()), &config).await;
    server.verify().await;
    report
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .set_body_string(body)
}

fn verdict(report: &TriageReport) -> (Category, Severity, &'static str) {
    (
        report.classification.category,
        report.classification.severity,
        report.classification.rule,
    )
}

const WIDGET: &str = "/proxy/127.0.0.1";

#[tokio::test]
async fn the_incident_io_widget_is_read_first_with_components_and_last_update() {
    let report = triage_routes(vec![
        (WIDGET, json(WIDGET_OUTAGE)),
        // Were it read, this would say all is well.
        (
            "/api/v2/summary.json",
            json(r#"{"status":{"indicator":"none"},"components":[]}"#),
        ),
    ])
    .await;
    let probe = page(&report);
    assert!(
        probe.target.as_deref().unwrap().ends_with(WIDGET),
        "{probe}"
    );
    let ProbeOutcome::StatusPage { report: status } = &probe.outcome else {
        panic!("{report}");
    };
    assert_eq!(status.format, PageFormat::IncidentIoWidget);
    assert_eq!(
        status.indicator,
        Indicator::Major,
        "full_outage ranks as major"
    );
    assert_eq!(
        status.incidents[0].id.as_deref(),
        Some("01M1C1MY1NGFDMHZSREESJWK59")
    );
    assert_eq!(status.maintenances.len(), 1);
    assert_eq!(
        status.affected_areas(),
        [Area::SignIn, Area::Sessions, Area::Operations]
    );
    assert_eq!(probe.status(), ProbeStatus::Failed);
    assert_eq!(
        verdict(&report),
        (
            Category::ClerkOutage,
            Severity::Critical,
            "status_page_outage"
        )
    );
    // The evidence names the format, the components and the last update.
    let evidence = &report.classification.evidence[0].detail;
    for needle in [
        "incident.io widget",
        "User and authentication: major outage",
        "Sign-in requests failing",
        "We have identified the cause",
        "Database upgrade",
    ] {
        assert!(
            evidence.contains(needle),
            "{needle:?} missing from {evidence}"
        );
    }
}

#[tokio::test]
async fn components_point_at_their_category() {
    let widget = |impact: &str, component: &str| {
        format!(
            r#"{{"ongoing_incidents":[{{"id":"01M1","name":"Trouble","status":"investigating","current_worst_impact":"{impact}","affected_components":[{{"id":"c","name":"{component}"}}]}}],"in_progress_maintenances":[],"scheduled_maintenances":[]}}"#
        )
    };
    for (impact, component, expected) in [
        (
            "partial_outage",
            "Webhooks",
            (
                Category::WebhookBacklog,
                Severity::Medium,
                "status_page_webhooks",
            ),
        ),
        (
            "degraded_performance",
            "Session management",
            (
                Category::SessionIssues,
                Severity::High,
                "status_page_sessions",
            ),
        ),
        (
            "full_outage",
            "User and authentication",
            (
                Category::ClerkOutage,
                Severity::Critical,
                "status_page_outage",
            ),
        ),
        (
            "full_outage",
            "Machine authentication",
            (
                Category::ClerkOutage,
                Severity::Critical,
                "status_page_outage",
            ),
        ),
        (
            "partial_outage",
            "SMS delivery",
            (
                Category::ClerkOutage,
                Severity::Medium,
                "status_page_delivery",
            ),
        ),
        (
            "degraded_performance",
            "Dashboard",
            (
                Category::ClerkOutage,
                Severity::Low,
                "status_page_operations",
            ),
        ),
        (
            "partial_outage",
            "Platform API",
            (
                Category::ClerkOutage,
                Severity::Low,
                "status_page_operations",
            ),
        ),
        // A component this version does not know: assume sign-in.
        (
            "degraded_performance",
            "Quantum login",
            (
                Category::ClerkOutage,
                Severity::High,
                "status_page_degraded",
            ),
        ),
    ] {
        let report = triage_routes(vec![(WIDGET, json(&widget(impact, component)))]).await;
        assert_eq!(verdict(&report), expected, "{component} {impact}\n{report}");
        assert!(
            report.classification.evidence[0].detail.contains(component),
            "{report}"
        );
    }
}

#[tokio::test]
async fn odd_widgets_are_never_healthy_nor_errors() {
    for body in [
        // An unknown impact, no components, no id.
        r#"{"ongoing_incidents":[{"name":"Something","current_worst_impact":"apocalyptic"}],"in_progress_maintenances":[]}"#,
        // An incident with nothing but a name, lists of the wrong type beside it.
        r#"{"ongoing_incidents":[{"name":"Odd"}],"in_progress_maintenances":{},"scheduled_maintenances":7}"#,
        // Entries that are not objects, next to a real one.
        r#"{"ongoing_incidents":[7,null,"x",{"name":"Real","current_worst_impact":"partial_outage"}]}"#,
        // A maintenance in progress, no incident.
        r#"{"ongoing_incidents":[],"in_progress_maintenances":[{"name":"Upgrade","affected_components":[{"name":"User and authentication"}]}]}"#,
    ] {
        let report = triage_routes(vec![(WIDGET, json(body))]).await;
        let probe = page(&report);
        assert_ne!(
            report.classification.category,
            Category::Healthy,
            "{body}\n{report}"
        );
        assert!(
            matches!(probe.outcome, ProbeOutcome::StatusPage { .. }),
            "{body}\n{report}"
        );
        assert_ne!(probe.status(), ProbeStatus::Ok, "{body}\n{report}");
    }
    // Nothing ongoing, scheduled work ahead, unknown fields: operational.
    let report = triage_routes(vec![(
        WIDGET,
        json(r#"{"page_title":"Clerk","ongoing_incidents":[],"in_progress_maintenances":[],"scheduled_maintenances":[{"name":"Later","starts_at":"2027-01-01T00:00:00Z"}],"new":true}"#),
    )])
    .await;
    assert_eq!(
        verdict(&report),
        (Category::Healthy, Severity::None, "healthy"),
        "{report}"
    );
}

#[tokio::test]
async fn the_formats_are_tried_in_order_and_the_report_says_which_answered() {
    // The widget in an unknown shape: the summary is read instead.
    let report = triage_routes(vec![
        (WIDGET, json(r#"{"hello":"world"}"#)),
        ("/api/v2/summary.json", json(FULL_SUMMARY)),
    ])
    .await;
    let probe = page(&report);
    assert!(
        probe
            .target
            .as_deref()
            .unwrap()
            .ends_with("/api/v2/summary.json")
    );
    assert!(
        probe
            .summary()
            .starts_with("Statuspage summary: indicator critical"),
        "{probe}"
    );

    // Only status.json.
    let report = triage_routes(vec![(
        "/api/v2/status.json",
        json(r#"{"status":{"indicator":"minor","description":"Partially Degraded Service"}}"#),
    )])
    .await;
    let probe = page(&report);
    assert!(
        probe
            .target
            .as_deref()
            .unwrap()
            .ends_with("/api/v2/status.json")
    );
    assert!(
        probe
            .summary()
            .starts_with("Statuspage status: indicator minor"),
        "{probe}"
    );
    assert_eq!(verdict(&report).0, Category::ClerkOutage);

    // None in a known shape: the answer is unknown, never healthy.
    let report = triage_routes(vec![
        (WIDGET, json("<html>maintenance</html>")),
        ("/api/v2/summary.json", json("[]")),
    ])
    .await;
    let probe = page(&report);
    assert_eq!(probe.status(), ProbeStatus::Unknown, "{probe}");
    assert!(probe.summary().starts_with("unknown format"), "{probe}");
    assert_eq!(report.classification.category, Category::Unknown);

    // Nothing at all: every URL 404s.
    let report = triage_routes(vec![]).await;
    assert_eq!(
        page(&report).outcome,
        ProbeOutcome::ErrorStatus {
            status: 404,
            code: None
        }
    );
}

/// The status page alone, `summary.json` answering `response` (the widget and `status.json`
/// are not found).
async fn triage_page(response: ResponseTemplate) -> TriageReport {
    triage_routes(vec![("/api/v2/summary.json", response)]).await
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
    assert_eq!(status.indicator, Indicator::Critical, "{report}");
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
