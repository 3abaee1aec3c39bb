//! incident.io's public widget API (`/proxy/<status page host>`), what status.clerk.com
//! serves:
//!
//! ```json
//! {"page_title": "Clerk", "page_url": "https://status.clerk.com",
//!  "ongoing_incidents": [{"id": "01M1C1MY1NGFDMHZSREESJWK59", "name": "…",
//!     "status": "investigating", "url": "…", "last_update_at": "…",
//!     "last_update_message": "…", "current_worst_impact": "full_outage",
//!     "affected_components": [{"id": "…", "name": "Session management", "group_name": "…"}]}],
//!  "in_progress_maintenances": [], "scheduled_maintenances": []}
//! ```
//!
//! The widget lists no component that nothing affects; the report's components are those the
//! ongoing incidents and maintenances name, each at the worst impact that names it.

use serde_json::Value;

use super::{
    Component, ComponentStatus, Incident, Indicator, PageFormat, StatusPageReport, list, text,
};

/// The report, when `json` is in the widget's shape: an object whose `ongoing_incidents` is
/// a list, and no Statuspage `status` (whose summary has a `scheduled_maintenances` list
/// too). A widget without the list is in no shape this version knows.
pub(super) fn parse(json: &Value) -> Option<StatusPageReport> {
    if !json.get("ongoing_incidents").is_some_and(Value::is_array)
        || json.get("status").is_some_and(Value::is_object)
    {
        return None;
    }
    // An entry that is not an object is still an ongoing incident, of unknown impact.
    let incidents: Vec<Incident> = list(json, "ongoing_incidents")
        .iter()
        .filter(|i| text(i, "status").as_deref() != Some("resolved"))
        .map(|i| event(i, "current_worst_impact"))
        .collect();
    let maintenances: Vec<Incident> = list(json, "in_progress_maintenances")
        .iter()
        .filter(|m| m.is_object())
        .map(|m| event(m, "impact"))
        .collect();

    let mut components: Vec<Component> = Vec::new();
    let mut affect = |name: &str, status: ComponentStatus| match components
        .iter_mut()
        .find(|c| c.name == name)
    {
        Some(known) => known.status = known.status.max(status),
        None => components.push(Component {
            name: name.to_owned(),
            status,
        }),
    };
    for incident in &incidents {
        let status = impact_status(&incident.impact);
        for name in &incident.components {
            affect(name, status);
        }
    }
    for maintenance in &maintenances {
        for name in &maintenance.components {
            affect(name, ComponentStatus::UnderMaintenance);
        }
    }

    let indicator = if incidents.is_empty() {
        Indicator::None
    } else if incidents
        .iter()
        .any(|i| impact_status(&i.impact) == ComponentStatus::MajorOutage)
    {
        // A full outage, or an impact this version does not know: never understated.
        Indicator::Major
    } else {
        Indicator::Minor
    };
    Some(StatusPageReport {
        format: PageFormat::IncidentIoWidget,
        indicator,
        description: None,
        components,
        incidents,
        maintenances,
    })
}

/// An incident or a maintenance; `impact_key` names its impact field.
fn event(value: &Value, impact_key: &str) -> Incident {
    Incident {
        id: text(value, "id"),
        name: text(value, "name").unwrap_or_else(|| "(untitled)".to_owned()),
        status: text(value, "status").unwrap_or_else(|| "unknown".to_owned()),
        impact: text(value, impact_key).map_or_else(|| "unknown".to_owned(), |i| normalised(&i)),
        components: list(value, "affected_components")
            .iter()
            .filter_map(|c| text(c, "name"))
            .collect(),
        url: text(value, "url"),
        last_update_at: text(value, "last_update_at"),
        last_update_message: text(value, "last_update_message"),
    }
}

/// `Full outage` as `full_outage`: the page's wording in its API's spelling.
fn normalised(impact: &str) -> String {
    impact.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// What an incident's impact does to the components it names. An impact this version does
/// not know (Statuspage's `major_outage` included) counts as a full outage: a status page that
/// changed its words must never understate an outage.
fn impact_status(impact: &str) -> ComponentStatus {
    match impact {
        "partial_outage" => ComponentStatus::PartialOutage,
        "degraded_performance" => ComponentStatus::DegradedPerformance,
        _ => ComponentStatus::MajorOutage,
    }
}
