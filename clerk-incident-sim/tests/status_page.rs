//! The simulated status page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use clerk_incident_sim::{ComponentStatus, StatusPage, StatusPageFormat, endpoint};
use common::{builder, get, get_json};
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
async fn operational_by_default_in_statuspage_format() {
    let sim = builder()
        .status_page(StatusPage::operational().in_format(StatusPageFormat::Statuspage))
        .start()
        .await
        .unwrap();
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
    let mut page = StatusPage::major_outage().in_format(StatusPageFormat::Statuspage);
    page.incidents.push(resolved());
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

fn resolved() -> clerk_incident_sim::Incident {
    let mut old = StatusPage::degraded().incidents.remove(0);
    old.name = "Old incident".to_owned();
    old.status = clerk_incident_sim::IncidentStatus::Resolved;
    old
}

/// status.clerk.com runs on incident.io: the sim serves its public widget by default, at
/// `/proxy/<page host>`, in the widget's shape, and Statuspage's URLs are not found.
#[tokio::test]
async fn the_incident_io_widget_is_the_default() {
    let sim = builder().start().await.unwrap();
    let widget = get_json(&sim, "/proxy/status.clerk.com", StatusCode::OK).await;
    assert_eq!(widget["page_title"], "Clerk");
    assert_eq!(widget["ongoing_incidents"], serde_json::json!([]));
    assert_eq!(widget["in_progress_maintenances"], serde_json::json!([]));
    assert_eq!(widget["scheduled_maintenances"], serde_json::json!([]));
    for path in ["/api/v2/status.json", "/api/v2/summary.json"] {
        assert_eq!(
            get(&sim, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Any host: the probe asks for the page's own.
    get_json(&sim, "/proxy/127.0.0.1", StatusCode::OK).await;
    assert_eq!(sim.counters().get(endpoint::STATUS_WIDGET), 2);
}

#[tokio::test]
async fn widget_incidents_name_their_components_and_worst_impact() {
    let sim = builder().start().await.unwrap();
    let mut page = StatusPage::incident_on(
        &["Webhooks", "Dashboard"],
        ComponentStatus::PartialOutage,
        "Webhook deliveries delayed",
    );
    page.incidents.push(resolved());
    sim.set_status_page(page);
    let widget = get_json(&sim, "/proxy/status.clerk.com", StatusCode::OK).await;
    let incidents = widget["ongoing_incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "resolved incidents are not ongoing");
    let incident = &incidents[0];
    for member in [
        "id",
        "name",
        "status",
        "url",
        "last_update_at",
        "last_update_message",
        "current_worst_impact",
        "affected_components",
    ] {
        assert!(incident.get(member).is_some(), "incident lacks {member}");
    }
    assert_eq!(incident["id"].as_str().unwrap().len(), 26, "a ULID");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["current_worst_impact"], "partial_outage");
    assert!(humantime::parse_rfc3339(incident["last_update_at"].as_str().unwrap()).is_ok());
    let names: Vec<&str> = incident["affected_components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Webhooks", "Dashboard"]);

    sim.set_status_page(StatusPage::major_outage());
    let widget = get_json(&sim, "/proxy/status.clerk.com", StatusCode::OK).await;
    let incident = &widget["ongoing_incidents"][0];
    assert_eq!(incident["current_worst_impact"], "full_outage");
    assert_eq!(
        incident["affected_components"].as_array().unwrap().len(),
        StatusPage::COMPONENT_NAMES.len(),
        "an incident naming no component affects every one that is down"
    );
}
