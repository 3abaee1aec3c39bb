//! What the simulated Clerk status page (a Statuspage.io page) reports.

use serde::{Deserialize, Serialize};

/// The content of the simulated status page, served at `/api/v2/status.json` and
/// `/api/v2/summary.json` in Statuspage.io's shapes.
///
/// [`StatusPage::operational`] is the default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPage {
    /// Overall indicator (`status.indicator`).
    pub indicator: Indicator,
    /// Overall description (`status.description`), e.g. "All Systems Operational".
    pub description: String,
    /// Components in display order.
    pub components: Vec<Component>,
    /// Incidents; only unresolved ones appear in the summary.
    pub incidents: Vec<Incident>,
}

impl StatusPage {
    /// Names of the components the presets list.
    pub const COMPONENT_NAMES: [&'static str; 5] = [
        "Frontend API",
        "Backend API",
        "Dashboard",
        "Webhooks",
        "Account Portal",
    ];

    /// Everything operational, no incidents.
    pub fn operational() -> Self {
        Self {
            indicator: Indicator::None,
            description: "All Systems Operational".to_owned(),
            components: Self::components_with(|_| ComponentStatus::Operational),
            incidents: Vec::new(),
        }
    }

    /// The Backend API slowed down and one open incident of minor impact.
    pub fn degraded() -> Self {
        Self {
            indicator: Indicator::Minor,
            description: "Partially Degraded Service".to_owned(),
            components: Self::components_with(|name| {
                if name == "Backend API" {
                    ComponentStatus::DegradedPerformance
                } else {
                    ComponentStatus::Operational
                }
            }),
            incidents: vec![Incident {
                name: "Elevated Backend API latency".to_owned(),
                status: IncidentStatus::Investigating,
                impact: Impact::Minor,
            }],
        }
    }

    /// Every component down and one open incident of major impact.
    pub fn major_outage() -> Self {
        Self {
            indicator: Indicator::Major,
            description: "Major System Outage".to_owned(),
            components: Self::components_with(|_| ComponentStatus::MajorOutage),
            incidents: vec![Incident {
                name: "Clerk services unavailable".to_owned(),
                status: IncidentStatus::Investigating,
                impact: Impact::Major,
            }],
        }
    }

    fn components_with(status: impl Fn(&str) -> ComponentStatus) -> Vec<Component> {
        Self::COMPONENT_NAMES
            .iter()
            .map(|name| Component {
                name: (*name).to_owned(),
                status: status(name),
            })
            .collect()
    }
}

impl Default for StatusPage {
    fn default() -> Self {
        Self::operational()
    }
}

/// Statuspage's overall indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// All good.
    None,
    /// Minor problems.
    Minor,
    /// Major problems.
    Major,
    /// Critical problems.
    Critical,
}

/// One component of the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Display name, e.g. "Backend API".
    pub name: String,
    /// Current status.
    pub status: ComponentStatus,
}

/// Statuspage's component statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working.
    Operational,
    /// Slow.
    DegradedPerformance,
    /// Partly down.
    PartialOutage,
    /// Down.
    MajorOutage,
}

/// One incident of the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Title.
    pub name: String,
    /// Progress.
    pub status: IncidentStatus,
    /// Impact.
    pub impact: Impact,
}

/// Statuspage's incident statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Looking into it.
    Investigating,
    /// Cause found.
    Identified,
    /// Fix deployed, watching.
    Monitoring,
    /// Over; left out of the summary.
    Resolved,
}

/// Statuspage's incident impact scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// No impact.
    None,
    /// Minor impact.
    Minor,
    /// Major impact.
    Major,
    /// Critical impact.
    Critical,
}

#[cfg(test)]
mod tests {
    use super::{ComponentStatus, Indicator, StatusPage};

    #[test]
    fn presets_are_consistent() {
        let ok = StatusPage::default();
        assert_eq!(ok.indicator, Indicator::None);
        assert!(ok.incidents.is_empty());
        let down = StatusPage::major_outage();
        assert!(
            down.components
                .iter()
                .all(|c| c.status == ComponentStatus::MajorOutage)
        );
        let json = serde_json::to_value(StatusPage::degraded()).unwrap();
        assert_eq!(json["components"][1]["status"], "degraded_performance");
        assert_eq!(json["indicator"], "minor");
    }
}
