//! `GET /api/v2/status.json` and `GET /api/v2/summary.json` in Statuspage.io's shapes.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::json;
use crate::clock::system_time_from_ms;
use crate::state::Shared;
use crate::status_page::{
    ComponentStatus, Impact, Incident, IncidentStatus, Indicator, StatusPage,
};

/// Statuspage id of the simulated page.
const PAGE_ID: &str = "clerksimstatus";
/// When the components were "created" (2021-01-01T00:00:00Z).
const COMPONENTS_CREATED_AT_MS: i64 = 1_609_459_200_000;

fn rfc3339(unix_ms: i64) -> String {
    humantime::format_rfc3339_millis(system_time_from_ms(unix_ms)).to_string()
}

#[derive(Serialize)]
struct PageJson<'a> {
    id: &'static str,
    name: &'static str,
    url: &'a str,
    time_zone: &'static str,
    updated_at: String,
}

#[derive(Serialize)]
struct StatusJson<'a> {
    indicator: Indicator,
    description: &'a str,
}

#[derive(Serialize)]
struct StatusDocument<'a> {
    page: PageJson<'a>,
    status: StatusJson<'a>,
}

#[derive(Serialize)]
struct ComponentJson<'a> {
    id: String,
    name: &'a str,
    status: ComponentStatus,
    created_at: String,
    updated_at: String,
    position: usize,
    description: Option<&'a str>,
    showcase: bool,
    start_date: Option<&'a str>,
    group_id: Option<&'a str>,
    page_id: &'static str,
    group: bool,
    only_show_if_degraded: bool,
}

#[derive(Serialize)]
struct IncidentJson<'a> {
    id: String,
    name: &'a str,
    status: IncidentStatus,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: Impact,
    shortlink: String,
    started_at: String,
    page_id: &'static str,
    incident_updates: [(); 0],
}

#[derive(Serialize)]
struct SummaryDocument<'a> {
    page: PageJson<'a>,
    components: Vec<ComponentJson<'a>>,
    incidents: Vec<IncidentJson<'a>>,
    scheduled_maintenances: [(); 0],
    status: StatusJson<'a>,
}

fn page<'a>(shared: &'a Shared, updated_at: i64) -> PageJson<'a> {
    PageJson {
        id: PAGE_ID,
        name: "Clerk",
        url: &shared.base_url,
        time_zone: "Etc/UTC",
        updated_at: rfc3339(updated_at),
    }
}

fn status(page: &StatusPage) -> StatusJson<'_> {
    StatusJson {
        indicator: page.indicator,
        description: &page.description,
    }
}

/// The overall status.
pub(crate) async fn status_json(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    json::ok(&StatusDocument {
        page: page(&shared, inner.status_page_updated_at),
        status: status(&inner.status_page),
    })
}

/// The components, the unresolved incidents and the overall status.
pub(crate) async fn summary_json(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    let updated_at = inner.status_page_updated_at;
    let components = inner
        .status_page
        .components
        .iter()
        .enumerate()
        .map(|(index, component)| ComponentJson {
            id: format!("simcomponent{index:04}"),
            name: &component.name,
            status: component.status,
            created_at: rfc3339(COMPONENTS_CREATED_AT_MS),
            updated_at: rfc3339(updated_at),
            position: index + 1,
            description: None,
            showcase: true,
            start_date: None,
            group_id: None,
            page_id: PAGE_ID,
            group: false,
            only_show_if_degraded: false,
        })
        .collect();
    let incidents = inner
        .status_page
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, incident)| incident.status != IncidentStatus::Resolved)
        .map(|(index, incident)| incident_json(&shared, index, incident, updated_at))
        .collect();
    json::ok(&SummaryDocument {
        page: page(&shared, updated_at),
        components,
        incidents,
        scheduled_maintenances: [],
        status: status(&inner.status_page),
    })
}

fn incident_json<'a>(
    shared: &Shared,
    index: usize,
    incident: &'a Incident,
    updated_at: i64,
) -> IncidentJson<'a> {
    let id = format!("simincident{index:04}");
    IncidentJson {
        shortlink: format!("{}/incidents/{id}", shared.base_url),
        id,
        name: &incident.name,
        status: incident.status,
        created_at: rfc3339(updated_at),
        updated_at: rfc3339(updated_at),
        monitoring_at: (incident.status == IncidentStatus::Monitoring).then(|| rfc3339(updated_at)),
        resolved_at: None,
        impact: incident.impact,
        started_at: rfc3339(updated_at),
        page_id: PAGE_ID,
        incident_updates: [],
    }
}
