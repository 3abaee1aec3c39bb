//! The status page in the format it is set to: incident.io's widget (`GET /proxy/{host}`), or
//! Statuspage's `GET /api/v2/status.json` and `GET /api/v2/summary.json`. The other format's
//! URLs answer 404, as a real page's would.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::json;
use crate::clock::system_time_from_ms;
use crate::state::Shared;
use crate::status_page::{
    ComponentStatus, Impact, Incident, IncidentStatus, Indicator, StatusPage, StatusPageFormat,
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

/// What a page answers for a URL of the format it is not served in.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

/// The overall status.
pub(crate) async fn status_json(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    if inner.status_page.format != StatusPageFormat::Statuspage {
        return not_found();
    }
    json::ok(&StatusDocument {
        page: page(&shared, inner.status_page_updated_at),
        status: status(&inner.status_page),
    })
}

/// The components, the unresolved incidents and the overall status.
pub(crate) async fn summary_json(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    if inner.status_page.format != StatusPageFormat::Statuspage {
        return not_found();
    }
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

#[derive(Serialize)]
struct WidgetComponent<'a> {
    id: String,
    name: &'a str,
    group_name: Option<&'static str>,
}

#[derive(Serialize)]
struct WidgetIncident<'a> {
    id: String,
    name: &'a str,
    status: IncidentStatus,
    url: String,
    last_update_at: String,
    last_update_message: &'a str,
    current_worst_impact: &'static str,
    affected_components: Vec<WidgetComponent<'a>>,
}

#[derive(Serialize)]
struct WidgetDocument<'a> {
    page_title: &'static str,
    page_url: &'a str,
    ongoing_incidents: Vec<WidgetIncident<'a>>,
    in_progress_maintenances: [(); 0],
    scheduled_maintenances: [(); 0],
}

/// The page in incident.io's public widget shape, as status.clerk.com serves it at
/// `/proxy/status.clerk.com`: the ongoing incidents, each with its worst impact and the
/// components it affects.
pub(crate) async fn widget_json(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    let page = &inner.status_page;
    if page.format != StatusPageFormat::IncidentIo {
        return not_found();
    }
    let updated_at = inner.status_page_updated_at;
    let ongoing_incidents = page
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, incident)| incident.status != IncidentStatus::Resolved)
        .map(|(index, incident)| {
            // Named components, or every one that is not operational.
            let affected: Vec<(usize, &str, ComponentStatus)> = page
                .components
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    if incident.components.is_empty() {
                        c.status != ComponentStatus::Operational
                    } else {
                        incident.components.contains(&c.name)
                    }
                })
                .map(|(i, c)| (i, c.name.as_str(), c.status))
                .collect();
            let worst = affected
                .iter()
                .map(|(_, _, status)| *status)
                .max_by_key(|s| rank(*s));
            let id = widget_id(index);
            WidgetIncident {
                url: format!("{}/incidents/{id}", shared.base_url),
                id,
                name: &incident.name,
                status: incident.status,
                last_update_at: rfc3339(updated_at),
                last_update_message: incident.last_update_message.as_deref().unwrap_or(""),
                current_worst_impact: worst_impact(worst, incident.impact),
                affected_components: affected
                    .iter()
                    .map(|(i, name, _)| WidgetComponent {
                        id: widget_id(1000 + i),
                        name,
                        group_name: None,
                    })
                    .collect(),
            }
        })
        .collect();
    json::ok(&WidgetDocument {
        page_title: "Clerk",
        page_url: &shared.base_url,
        ongoing_incidents,
        in_progress_maintenances: [],
        scheduled_maintenances: [],
    })
}

/// A ULID-shaped id (26 characters of Crockford base32), as incident.io's.
fn widget_id(index: usize) -> String {
    format!("01JSM{index:021}")
}

fn rank(status: ComponentStatus) -> u8 {
    match status {
        ComponentStatus::Operational => 0,
        ComponentStatus::DegradedPerformance => 1,
        ComponentStatus::PartialOutage => 2,
        ComponentStatus::MajorOutage => 3,
    }
}

/// incident.io's impact: the worst affected component's, else the incident's own.
fn worst_impact(worst: Option<ComponentStatus>, impact: Impact) -> &'static str {
    match (worst, impact) {
        (Some(ComponentStatus::MajorOutage), _) => "full_outage",
        (Some(ComponentStatus::PartialOutage), _) => "partial_outage",
        (Some(ComponentStatus::DegradedPerformance), _) => "degraded_performance",
        (_, Impact::Critical) => "full_outage",
        (_, Impact::Major) => "partial_outage",
        _ => "degraded_performance",
    }
}
