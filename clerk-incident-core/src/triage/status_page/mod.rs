//! Clerk's status page (a Statuspage.io page): fetch it and read it defensively.
//!
//! Parsing never fails: a field that is missing or of an unknown shape reads as
//! [`Indicator::Unknown`] / [`ComponentStatus::Unknown`], because during an incident a status
//! page that changed its JSON is evidence, not a reason to stop triage.
//!
//! ```
//! use clerk_incident_core::triage::status_page::{Indicator, StatusPageReport};
//!
//! let report = StatusPageReport::parse(br#"{"status":{"indicator":"major","description":"Major outage"}}"#);
//! assert_eq!(report.indicator, Indicator::Major);
//! assert!(!report.is_operational());
//! assert_eq!(StatusPageReport::parse(b"<html>").indicator, Indicator::Unknown);
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::http::{HttpClient, TransportError};

/// Clerk's public status page.
pub const DEFAULT_STATUS_URL: &str = "https://status.clerk.com";

/// The page-wide indicator (`status.indicator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Indicator {
    /// All systems operational.
    None,
    /// Minor degradation.
    Minor,
    /// Major outage.
    Major,
    /// Critical outage.
    Critical,
    /// Missing or not a value this version knows.
    Unknown,
}

impl Indicator {
    fn parse(value: Option<&str>) -> Self {
        match value {
            Some("none") => Indicator::None,
            Some("minor") => Indicator::Minor,
            Some("major") => Indicator::Major,
            Some("critical") => Indicator::Critical,
            _ => Indicator::Unknown,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Indicator::None => "none",
            Indicator::Minor => "minor",
            Indicator::Major => "major",
            Indicator::Critical => "critical",
            Indicator::Unknown => "unknown",
        })
    }
}

/// A component's status (`components[].status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComponentStatus {
    /// Working normally.
    Operational,
    /// Slow.
    DegradedPerformance,
    /// Partly down.
    PartialOutage,
    /// Down.
    MajorOutage,
    /// In planned maintenance.
    UnderMaintenance,
    /// Missing or not a value this version knows.
    Unknown,
}

impl ComponentStatus {
    fn parse(value: Option<&str>) -> Self {
        match value {
            Some("operational") => ComponentStatus::Operational,
            Some("degraded_performance") => ComponentStatus::DegradedPerformance,
            Some("partial_outage") => ComponentStatus::PartialOutage,
            Some("major_outage") => ComponentStatus::MajorOutage,
            Some("under_maintenance") => ComponentStatus::UnderMaintenance,
            _ => ComponentStatus::Unknown,
        }
    }
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::DegradedPerformance => "degraded performance",
            ComponentStatus::PartialOutage => "partial outage",
            ComponentStatus::MajorOutage => "major outage",
            ComponentStatus::UnderMaintenance => "under maintenance",
            ComponentStatus::Unknown => "unknown",
        })
    }
}

/// One component of the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Component {
    /// Its name, such as `Backend API`.
    pub name: String,
    /// Its status.
    pub status: ComponentStatus,
}

/// One unresolved incident on the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Incident {
    /// Its title.
    pub name: String,
    /// `investigating`, `identified`, `monitoring`…
    pub status: String,
    /// `none`, `minor`, `major`, `critical`.
    pub impact: String,
}

/// What the status page says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatusPageReport {
    /// The page-wide indicator.
    pub indicator: Indicator,
    /// The page's own one-line description, such as `All Systems Operational`.
    pub description: Option<String>,
    /// Components (empty when the page sent only its status).
    pub components: Vec<Component>,
    /// Unresolved incidents.
    pub incidents: Vec<Incident>,
}

impl StatusPageReport {
    /// Reads `/api/v2/summary.json` or `/api/v2/status.json`; never fails.
    pub fn parse(body: &[u8]) -> Self {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text =
            |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let status = json.get("status").unwrap_or(&Value::Null);
        let list = |key: &str| {
            json.get(key)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let components = list("components")
            .iter()
            .filter(|c| !c.get("group").and_then(Value::as_bool).unwrap_or(false))
            .map(|c| Component {
                name: text(c, "name").unwrap_or_else(|| "(unnamed)".to_owned()),
                status: ComponentStatus::parse(c.get("status").and_then(Value::as_str)),
            })
            .collect();
        let incidents = list("incidents")
            .iter()
            .filter(|i| text(i, "status").as_deref() != Some("resolved"))
            .map(|i| Incident {
                name: text(i, "name").unwrap_or_else(|| "(untitled)".to_owned()),
                status: text(i, "status").unwrap_or_else(|| "unknown".to_owned()),
                impact: text(i, "impact").unwrap_or_else(|| "unknown".to_owned()),
            })
            .collect();
        Self {
            indicator: Indicator::parse(status.get("indicator").and_then(Value::as_str)),
            description: text(status, "description"),
            components,
            incidents,
        }
    }

    /// True when the indicator is `none`, every component is operational and no incident is
    /// open.
    pub fn is_operational(&self) -> bool {
        self.indicator == Indicator::None
            && self.incidents.is_empty()
            && self
                .components
                .iter()
                .all(|c| c.status == ComponentStatus::Operational)
    }

    /// Components that are not operational.
    pub fn degraded_components(&self) -> impl Iterator<Item = &Component> {
        self.components
            .iter()
            .filter(|c| c.status != ComponentStatus::Operational)
    }
}

impl fmt::Display for StatusPageReport {
    /// One line: the indicator, the page's description, what is degraded, open incidents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "indicator {}", self.indicator)?;
        if let Some(description) = &self.description {
            write!(f, " ({description})")?;
        }
        const SHOWN: usize = 3;
        let degraded: Vec<String> = self
            .degraded_components()
            .map(|c| format!("{}: {}", c.name, c.status))
            .collect();
        if !degraded.is_empty() {
            let shown: Vec<&str> = degraded.iter().take(SHOWN).map(String::as_str).collect();
            write!(f, "; {}", shown.join(", "))?;
            if degraded.len() > SHOWN {
                write!(f, " (+{} more)", degraded.len() - SHOWN)?;
            }
        }
        if !self.incidents.is_empty() {
            let names: Vec<&str> = self.incidents.iter().map(|i| i.name.as_str()).collect();
            write!(f, "; open incidents: {}", names.join(" | "))?;
        }
        Ok(())
    }
}

/// Why the status page could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusPageError {
    /// No answer (refused, timed out…).
    #[error("the status page did not answer")]
    Transport(#[source] TransportError),
    /// An answer with a non-2xx status.
    #[error("the status page answered HTTP {0}")]
    Status(u16),
    /// The status page URL is not a valid URL.
    #[error("invalid status page URL {0:?}")]
    InvalidUrl(String),
}

/// Fetches `{base_url}/api/v2/summary.json` within `timeout`.
///
/// # Errors
///
/// [`StatusPageError`] when no 2xx answer arrived in time; a 2xx answer always parses.
pub async fn fetch(
    http: &dyn HttpClient,
    base_url: &str,
    timeout: Duration,
) -> Result<StatusPageReport, StatusPageError> {
    let url = format!("{}/api/v2/summary.json", base_url.trim_end_matches('/'));
    let request = http::Request::get(&url)
        .header(http::header::ACCEPT, "application/json")
        .body(Bytes::new())
        .map_err(|_| StatusPageError::InvalidUrl(url.clone()))?;
    let response = tokio::time::timeout(timeout, http.send(request))
        .await
        .map_err(|_| StatusPageError::Transport(TransportError::Timeout))?
        .map_err(StatusPageError::Transport)?;
    if !response.status().is_success() {
        return Err(StatusPageError::Status(response.status().as_u16()));
    }
    Ok(StatusPageReport::parse(response.body()))
}
