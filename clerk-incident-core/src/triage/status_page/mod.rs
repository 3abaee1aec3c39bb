//! Clerk's status page: fetch it in whichever format it is served, and read it defensively.
//!
//! Two hosted formats are read, tried in this order (all three requests at once, so the
//! probe costs one round trip):
//!
//! | Format | URL | Parsed in |
//! | --- | --- | --- |
//! | incident.io's public widget API | `{base}/proxy/{host}` (`https://status.clerk.com/proxy/status.clerk.com`) | `incident_io.rs` |
//! | Atlassian Statuspage's summary | `{base}/api/v2/summary.json` | `statuspage.rs` |
//! | Atlassian Statuspage's status alone | `{base}/api/v2/status.json` | `statuspage.rs` |
//!
//! The first that answers in a shape it knows wins, and the report says which
//! ([`PageFormat`]). Parsing never fails: a field that is missing or of an unknown shape reads
//! as [`Indicator::Unknown`] / [`ComponentStatus::Unknown`], and a body in no known shape as
//! [`PageFormat::Unknown`], because during an incident a status page that changed its JSON is
//! evidence, not a reason to stop triage, and never a healthy page.
//!
//! ```
//! use clerk_incident_core::triage::status_page::{Area, Indicator, PageFormat, StatusPageReport};
//!
//! let report = StatusPageReport::parse(br#"{"status":{"indicator":"major","description":"Major outage"}}"#);
//! assert_eq!((report.format, report.indicator), (PageFormat::StatuspageStatus, Indicator::Major));
//!
//! let report = StatusPageReport::parse(br#"{"ongoing_incidents":[{"name":"Webhooks delayed",
//!     "status":"identified","current_worst_impact":"partial_outage",
//!     "affected_components":[{"id":"c1","name":"Webhooks"}]}],"in_progress_maintenances":[]}"#);
//! assert_eq!(report.format, PageFormat::IncidentIoWidget);
//! assert_eq!(report.indicator, Indicator::Minor);
//! assert_eq!(report.worst_area(), Some(Area::Webhooks));
//!
//! let report = StatusPageReport::parse(b"<html>");
//! assert_eq!((report.format, report.indicator), (PageFormat::Unknown, Indicator::Unknown));
//! assert!(!report.is_operational());
//! ```

mod area;
mod incident_io;
mod statuspage;

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

pub use self::area::Area;
use super::text::clip;
use crate::http::{HttpClient, TransportError};

/// Clerk's public status page.
pub const DEFAULT_STATUS_URL: &str = "https://status.clerk.com";

/// The page-wide indicator: Statuspage's `status.indicator`, or for incident.io the worst
/// impact of the ongoing incidents (`full_outage` ranks as [`Major`](Indicator::Major), any
/// other as [`Minor`](Indicator::Minor), none as [`None`](Indicator::None)).
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

/// A component's status: Statuspage's `components[].status`, or for incident.io the worst
/// impact of the incidents that affect it (`full_outage` reads as
/// [`MajorOutage`](ComponentStatus::MajorOutage)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComponentStatus {
    /// Working normally.
    Operational,
    /// In planned maintenance.
    UnderMaintenance,
    /// Slow.
    DegradedPerformance,
    /// Missing or not a value this version knows.
    Unknown,
    /// Partly down.
    PartialOutage,
    /// Down.
    MajorOutage,
}

impl ComponentStatus {
    fn parse(value: Option<&str>) -> Self {
        match value {
            Some("operational") => ComponentStatus::Operational,
            Some("degraded_performance") => ComponentStatus::DegradedPerformance,
            Some("partial_outage") => ComponentStatus::PartialOutage,
            Some("major_outage" | "full_outage") => ComponentStatus::MajorOutage,
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

/// Which format the status page answered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PageFormat {
    /// incident.io's public widget API (`/proxy/<host>`): what status.clerk.com serves.
    IncidentIoWidget,
    /// Atlassian Statuspage's `/api/v2/summary.json`.
    StatuspageSummary,
    /// Atlassian Statuspage's `/api/v2/status.json` (the indicator alone).
    StatuspageStatus,
    /// No shape this version knows.
    Unknown,
}

impl fmt::Display for PageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PageFormat::IncidentIoWidget => "incident.io widget",
            PageFormat::StatuspageSummary => "Statuspage summary",
            PageFormat::StatuspageStatus => "Statuspage status",
            PageFormat::Unknown => "unknown format",
        })
    }
}

/// One component of the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Component {
    /// Its name, such as `Session management`.
    pub name: String,
    /// Its status.
    pub status: ComponentStatus,
}

/// One unresolved incident (or maintenance in progress) on the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Incident {
    /// Its id, when the page gives one (incident.io: a ULID such as
    /// `01M1C1MY1NGFDMHZSREESJWK59`).
    pub id: Option<String>,
    /// Its title.
    pub name: String,
    /// `investigating`, `identified`, `monitoring`, `maintenance_in_progress`…
    pub status: String,
    /// As the page says it: Statuspage's `none`, `minor`, `major`, `critical`; incident.io's
    /// `degraded_performance`, `partial_outage`, `full_outage`.
    pub impact: String,
    /// The components it affects (incident.io's `affected_components[].name`).
    pub components: Vec<String>,
    /// Its page, when given.
    pub url: Option<String>,
    /// When it was last updated (RFC 3339, as the page gives it).
    pub last_update_at: Option<String>,
    /// The last update's text.
    pub last_update_message: Option<String>,
}

/// What the status page says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatusPageReport {
    /// Which format answered.
    pub format: PageFormat,
    /// The page-wide indicator.
    pub indicator: Indicator,
    /// The page's own one-line description, such as `All Systems Operational`.
    pub description: Option<String>,
    /// Components (Statuspage: every one; incident.io: those an incident or a maintenance
    /// affects).
    pub components: Vec<Component>,
    /// Unresolved incidents.
    pub incidents: Vec<Incident>,
    /// Maintenances in progress (incident.io's `in_progress_maintenances`).
    pub maintenances: Vec<Incident>,
}

impl StatusPageReport {
    /// Reads any of the three formats, telling them apart by shape; never fails.
    pub fn parse(body: &[u8]) -> Self {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        incident_io::parse(&json)
            .or_else(|| statuspage::parse(&json))
            .unwrap_or_else(Self::unknown)
    }

    /// A page in no shape this version reads.
    fn unknown() -> Self {
        Self {
            format: PageFormat::Unknown,
            indicator: Indicator::Unknown,
            description: None,
            components: Vec::new(),
            incidents: Vec::new(),
            maintenances: Vec::new(),
        }
    }

    /// True when the indicator is `none`, every component is operational and no incident or
    /// maintenance is open.
    pub fn is_operational(&self) -> bool {
        self.indicator == Indicator::None
            && self.incidents.is_empty()
            && self.maintenances.is_empty()
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

    /// The areas the page reports trouble in, widest first, without duplicates: those of
    /// the components that are not operational and of the incidents' affected components. A
    /// page that is not operational but names no component reports [`Area::SignIn`]: where
    /// it is not said, assume the worst.
    pub fn affected_areas(&self) -> Vec<Area> {
        if self.is_operational() {
            return Vec::new();
        }
        let mut areas: Vec<Area> = self
            .degraded_components()
            .map(|c| c.name.as_str())
            .chain(
                self.incidents
                    .iter()
                    .flat_map(|i| i.components.iter().map(String::as_str)),
            )
            .map(Area::of)
            .collect();
        // An incident that names no component is placed by the components Statuspage lists,
        // unless the page says major or critical: then, where it is not said, assume sign-in.
        let unplaced = self.incidents.iter().any(|i| i.components.is_empty());
        let placed_by_components = self.format == PageFormat::StatuspageSummary
            && matches!(self.indicator, Indicator::None | Indicator::Minor);
        if areas.is_empty() || (unplaced && !placed_by_components) {
            areas.push(Area::SignIn);
        }
        areas.sort_unstable();
        areas.dedup();
        areas
    }

    /// The widest area the page reports trouble in, if any.
    pub fn worst_area(&self) -> Option<Area> {
        self.affected_areas().first().copied()
    }
}

impl fmt::Display for StatusPageReport {
    /// One line: the format, the indicator, the page's description, what is degraded, open
    /// incidents with their components and last update.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: indicator {}", self.format, self.indicator)?;
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
        for (label, list) in [
            ("open incident", &self.incidents),
            ("maintenance", &self.maintenances),
        ] {
            for incident in list.iter().take(SHOWN) {
                write!(f, "; {label} \"{}\" ({}", incident.name, incident.status)?;
                if !incident.impact.is_empty() && incident.impact != "unknown" {
                    write!(f, ", {}", incident.impact.replace('_', " "))?;
                }
                f.write_str(")")?;
                if let Some(message) = &incident.last_update_message {
                    match &incident.last_update_at {
                        Some(at) => write!(f, ", last update {at}: {message}")?,
                        None => write!(f, ", last update: {message}")?,
                    }
                }
            }
            if list.len() > SHOWN {
                write!(f, " (+{} more)", list.len() - SHOWN)?;
            }
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

/// The URLs a status page is read from, in order of preference: the incident.io widget,
/// Statuspage's summary, Statuspage's status.
///
/// ```
/// use clerk_incident_core::triage::status_page::candidate_urls;
///
/// assert_eq!(
///     candidate_urls("https://status.clerk.com/"),
///     [
///         "https://status.clerk.com/proxy/status.clerk.com",
///         "https://status.clerk.com/api/v2/summary.json",
///         "https://status.clerk.com/api/v2/status.json",
///     ]
/// );
/// ```
pub fn candidate_urls(base_url: &str) -> [String; 3] {
    let base = base_url.trim_end_matches('/');
    // The widget is keyed by the page's host name, without a port.
    let host = base
        .parse::<http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned))
        .unwrap_or_default();
    [
        format!("{base}/proxy/{host}"),
        format!("{base}/api/v2/summary.json"),
        format!("{base}/api/v2/status.json"),
    ]
}

/// Reads the status page at `base_url` (such as `https://status.clerk.com`) within
/// `timeout`, trying the formats of [`candidate_urls`] at once; returns the report and the
/// URL that gave it.
///
/// # Errors
///
/// [`StatusPageError`] when no URL gave a 2xx answer in time; a 2xx answer always parses (in
/// the worst case as [`PageFormat::Unknown`]).
pub async fn fetch_from(
    http: &dyn HttpClient,
    base_url: &str,
    timeout: Duration,
) -> Result<(StatusPageReport, String), StatusPageError> {
    let urls = candidate_urls(base_url);
    // Each request gets nine tenths of the time, so that a fallback URL that hangs gives up
    // before the caller's timeout and the answer of another still counts.
    let timeout = timeout.mul_f64(0.9);
    let get = |url: &str| {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new());
        let url = url.to_owned();
        async move {
            let request = request.map_err(|_| StatusPageError::InvalidUrl(url.clone()))?;
            let response = tokio::time::timeout(timeout, http.send(request))
                .await
                .map_err(|_| StatusPageError::Transport(TransportError::Timeout))?
                .map_err(StatusPageError::Transport)?;
            if !response.status().is_success() {
                return Err(StatusPageError::Status(response.status().as_u16()));
            }
            Ok(StatusPageReport::parse(response.body()))
        }
    };
    let [widget, summary, status] = &urls;
    let answers = futures::join!(get(widget), get(summary), get(status));
    choose(<[_; 3]>::from(answers), urls)
}

/// The first answer in a known format, else the first 2xx, else the first error status that
/// is not a 404 (a 404 only says the page is not served in that format), else the first
/// error status, else the first failure.
fn choose(
    answers: [Result<StatusPageReport, StatusPageError>; 3],
    urls: [String; 3],
) -> Result<(StatusPageReport, String), StatusPageError> {
    let mut answers: Vec<(Result<StatusPageReport, StatusPageError>, String)> =
        answers.into_iter().zip(urls).collect();
    let known = |a: &Result<StatusPageReport, StatusPageError>| matches!(a, Ok(report) if report.format != PageFormat::Unknown);
    let pick = answers
        .iter()
        .position(|(a, _)| known(a))
        .or_else(|| answers.iter().position(|(a, _)| a.is_ok()))
        .or_else(|| {
            answers
                .iter()
                .position(|(a, _)| matches!(a, Err(StatusPageError::Status(s)) if *s != 404))
        })
        .or_else(|| {
            answers
                .iter()
                .position(|(a, _)| matches!(a, Err(StatusPageError::Status(_))))
        })
        .unwrap_or(0);
    let (answer, url) = answers.swap_remove(pick);
    answer.map(|report| (report, url))
}

/// [`fetch_from`], without the URL.
///
/// # Errors
///
/// As [`fetch_from`].
pub async fn fetch(
    http: &dyn HttpClient,
    base_url: &str,
    timeout: Duration,
) -> Result<StatusPageReport, StatusPageError> {
    fetch_from(http, base_url, timeout)
        .await
        .map(|(report, _)| report)
}

/// The text of `value[key]`, clipped for a report.
fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(|text| clip(text, 200))
}

/// The array `value[key]`, or nothing.
fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}
