//! What the simulated Clerk status page reports, and in which hosted format.

use serde::{Deserialize, Serialize};

/// The content of the simulated status page.
///
/// Served in one [`StatusPageFormat`] at a time, as a real page is: incident.io's widget API
/// at `/proxy/{host}` (what status.clerk.com runs on, the default), or Atlassian
/// Statuspage's `/api/v2/status.json` and `/api/v2/summary.json`. The other format's URLs
/// answer 404. [`StatusPage::operational`] is the default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPage {
    /// Which hosted format the page is served in (default incident.io).
    #[serde(default)]
    pub format: StatusPageFormat,
    /// Overall indicator (`status.indicator`; for incident.io, implied by the incidents).
    pub indicator: Indicator,
    /// Overall description (`status.description`), e.g. "All Systems Operational".
    pub description: String,
    /// Components in display order.
    pub components: Vec<Component>,
    /// Incidents; only unresolved ones appear in the summary.
    pub incidents: Vec<Incident>,
}

impl StatusPage {
    /// Names of the components the presets list: Clerk's own.
    pub const COMPONENT_NAMES: [&'static str; 8] = [
        "User and authentication",
        "Session management",
        "Machine authentication",
        "Webhooks",
        "Platform API",
        "Dashboard",
        "Email delivery",
        "SMS delivery",
    ];

    /// The component sign-in goes through.
    pub const SIGN_IN: &'static str = "User and authentication";

    /// Everything operational, no incidents.
    pub fn operational() -> Self {
        Self {
            format: StatusPageFormat::default(),
            indicator: Indicator::None,
            description: "All Systems Operational".to_owned(),
            components: Self::components_with(|_| ComponentStatus::Operational),
            incidents: Vec::new(),
        }
    }

    /// Sign-in slowed down and one open incident of minor impact.
    pub fn degraded() -> Self {
        Self::incident_on(
            &[Self::SIGN_IN],
            ComponentStatus::DegradedPerformance,
            "Elevated sign-in latency",
        )
    }

    /// Every component down and one open incident of major impact.
    pub fn major_outage() -> Self {
        Self {
            format: StatusPageFormat::default(),
            indicator: Indicator::Major,
            description: "Major System Outage".to_owned(),
            components: Self::components_with(|_| ComponentStatus::MajorOutage),
            incidents: vec![Incident {
                name: "Clerk services unavailable".to_owned(),
                status: IncidentStatus::Investigating,
                impact: Impact::Major,
                components: Vec::new(),
                last_update_message: Some(
                    "We are investigating errors across Clerk's services.".to_owned(),
                ),
            }],
        }
    }

    /// One open incident named `title` on `components` (Clerk's names, such as
    /// `"Webhooks"`), which are at `status`; the rest operational.
    pub fn incident_on(components: &[&str], status: ComponentStatus, title: &str) -> Self {
        let (indicator, impact, description) = match status {
            ComponentStatus::Operational => {
                (Indicator::None, Impact::None, "All Systems Operational")
            }
            ComponentStatus::DegradedPerformance | ComponentStatus::PartialOutage => (
                Indicator::Minor,
                Impact::Minor,
                "Partially Degraded Service",
            ),
            ComponentStatus::MajorOutage => {
                (Indicator::Major, Impact::Major, "Partial System Outage")
            }
        };
        Self {
            format: StatusPageFormat::default(),
            indicator,
            description: description.to_owned(),
            components: Self::components_with(|name| {
                if components.contains(&name) {
                    status
                } else {
                    ComponentStatus::Operational
                }
            }),
            incidents: vec![Incident {
                name: title.to_owned(),
                status: IncidentStatus::Investigating,
                impact,
                components: components.iter().map(|name| (*name).to_owned()).collect(),
                last_update_message: Some(format!("We are investigating: {title}.")),
            }],
        }
    }

    /// The same page, served in `format`.
    #[must_use]
    pub fn in_format(mut self, format: StatusPageFormat) -> Self {
        self.format = format;
        self
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

/// The hosted format a status page is served in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusPageFormat {
    /// incident.io's public widget API, `GET /proxy/{host}`: what status.clerk.com serves.
    #[default]
    IncidentIo,
    /// Atlassian Statuspage's `GET /api/v2/status.json` and `GET /api/v2/summary.json`.
    Statuspage,
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
    /// The components it affects, by name; empty: every component that is not operational.
    #[serde(default)]
    pub components: Vec<String>,
    /// The text of its last update.
    #[serde(default)]
    pub last_update_message: Option<String>,
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
        assert_eq!(json["components"][0]["status"], "degraded_performance");
        assert_eq!(json["indicator"], "minor");
        assert_eq!(json["format"], "incident_io");
        let webhooks = StatusPage::incident_on(
            &["Webhooks"],
            ComponentStatus::PartialOutage,
            "Webhook deliveries delayed",
        );
        assert_eq!(webhooks.incidents[0].components, ["Webhooks"]);
        // A page without a format reads as incident.io, as status.clerk.com.
        let page: StatusPage = serde_json::from_str(
            r#"{"indicator":"none","description":"ok","components":[],"incidents":[]}"#,
        )
        .unwrap();
        assert_eq!(page.format, super::StatusPageFormat::IncidentIo);
    }
}
