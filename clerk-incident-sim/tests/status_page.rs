//! The simulated status page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use clerk_incident_sim::{StatusPage, endpoint};
use common::{builder, get_json};
use reqwest::StatusCode;
use serde_json::Value;

fn assert_page(page: &Value, base_url: &str) {
    for member in ["id", "name", "url", "time_zone", "updated_at"] {
        assert!(page.get(member).is_some(), "page lacks {member}");
    }
    assert_eq!(page["url"], base_url);
    assert!(humantime::parse_rfc3339(page["updated_at"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn operational_by_default() {
    let sim = builder().start().await.unwrap();
    let status = get_json(&sim, "/api/v2/status.json", StatusCode::OK).await;
    assert_page(&status["page"], sim.base_url());
    assert_eq!(status["status"]["indicator"], "none");
    assert_eq!(status["status"]["description"], "All Systems Operational");

    let summary = get_json(&sim, "/api/v2/summary.json", StatusCode::OK).await;
    assert_page(&summary["page"], sim.base_url());
    let components = summary["components"].as_array().unwrap();
    assert!(!components.is_empty());
    for component in components {
        for member in [
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "description",
            "showcase",
            "group_id",
            "page_id",
            "group",
            "only_show_if_degraded",
        ] {
            assert!(component.get(member).is_some(), "component lacks {member}");
        }
        assert_eq!(component["status"], "operational");
    }
    assert_eq!(summary["incidents"], serde_json::json!([]));
    assert_eq!(summary["scheduled_maintenances"], serde_json::json!([]));
    assert_eq!(summary["status"]["indicator"], "none");
    let counters = sim.counters();
    assert_eq!(counters.get(endpoint::STATUS), 1);
    assert_eq!(counters.get(endpoint::SUMMARY), 1);
}

#[tokio::test]
async fn major_outage_shows_down_components_and_open_incidents_only() {
    let sim = builder().start().await.unwrap();
    let mut page = StatusPage::major_outage();
    page.incidents.push(clerk_incident_sim::Incident {
        name: "Old incident".to_owned(),
        status: clerk_incident_sim::IncidentStatus::Resolved,
        impact: clerk_incident_sim::Impact::Minor,
    });
    sim.set_status_page(page);

    let status = get_json(&sim, "/api/v2/status.json", StatusCode::OK).await;
    assert_eq!(status["status"]["indicator"], "major");
    let summary = get_json(&sim, "/api/v2/summary.json", StatusCode::OK).await;
    assert!(
        summary["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "major_outage")
    );
    let incidents = summary["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    for member in [
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "shortlink",
        "incident_updates",
    ] {
        assert!(incident.get(member).is_some(), "incident lacks {member}");
    }
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["impact"], "major");
}
