//! What one probe found: [`ProbeResult`], its [`ProbeOutcome`] and a [`ProbeStatus`] verdict.

use std::fmt;
use std::time::Duration;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::app_health::{AppHealthSnapshot, AppStatus};
use super::status_page::{ComponentStatus, Indicator, StatusPageReport};
use super::text::clip;

/// The longest summary line a probe prints.
const MAX_SUMMARY: usize = 400;

/// Which probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProbeName {
    /// Clerk's status page (incident.io's widget, or Statuspage's summary or status).
    StatusPage,
    /// The Backend API (`GET /v1/users?limit=1` with the secret key).
    BackendApi,
    /// The JWKS: the Frontend API's `/.well-known/jwks.json`, or the Backend API's `/v1/jwks`.
    Jwks,
    /// The app's own `/api/clerk-health`.
    AppHealth,
}

impl ProbeName {
    /// Every probe, in the order they are reported.
    pub const ALL: [ProbeName; 4] = [
        ProbeName::StatusPage,
        ProbeName::BackendApi,
        ProbeName::Jwks,
        ProbeName::AppHealth,
    ];

    /// The snake_case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeName::StatusPage => "status_page",
            ProbeName::BackendApi => "backend_api",
            ProbeName::Jwks => "jwks",
            ProbeName::AppHealth => "app_health",
        }
    }

    /// A human title, such as `Backend API`.
    pub fn title(self) -> &'static str {
        match self {
            ProbeName::StatusPage => "status page",
            ProbeName::BackendApi => "Backend API",
            ProbeName::Jwks => "JWKS",
            ProbeName::AppHealth => "app health",
        }
    }
}

impl fmt::Display for ProbeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a probe got back. Serialised with a `result` tag, such as
/// `{"result":"timed_out","timeout_ms":5000}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProbeOutcome {
    /// Left out on purpose ([`TriageConfig::skip`](super::TriageConfig::skip), the CLI's
    /// `--skip`).
    Skipped {
        /// Why, such as `left out with --skip app`.
        reason: String,
    },
    /// Not checked: an input the probe needs is missing (no secret key, no app URL). A
    /// verdict of healthy needs every probe, so this caps the verdict at unknown.
    NotChecked {
        /// What is missing, such as `no secret key (CLERK_SECRET_KEY is not set)`.
        reason: String,
        /// How to supply it, or leave the probe out on purpose.
        remedy: String,
    },
    /// No complete answer within the probe's timeout.
    TimedOut {
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// No answer: the connection was refused or broke, DNS or TLS failed.
    Unreachable {
        /// What the HTTP client reported (never a header, so never a key).
        error: String,
    },
    /// Not checked: the probe could not be sent, because of an invalid URL or client setting.
    Invalid {
        /// What is wrong.
        error: String,
    },
    /// The status page answered 2xx; its content, read defensively.
    StatusPage {
        /// What the page says.
        report: StatusPageReport,
    },
    /// The Backend API answered, with any status.
    BackendApi {
        /// The HTTP status.
        status: u16,
        /// Clerk's error code, such as `clerk_key_invalid` (a rejected secret key).
        code: Option<String>,
        /// The `Retry-After` of a 429, in seconds.
        retry_after_secs: Option<u64>,
    },
    /// The JWKS answered 2xx with a key set.
    Jwks {
        /// The key ids it holds.
        kids: Vec<String>,
        /// The key id the app expects, when one was given.
        expected_kid: Option<String>,
        /// Whether the set holds [`expected_kid`](ProbeOutcome::Jwks::expected_kid); `None`
        /// when none was given.
        expected_kid_found: Option<bool>,
    },
    /// An error status where the probe needs a 2xx (status page, JWKS).
    ErrorStatus {
        /// The HTTP status.
        status: u16,
        /// Clerk's error code, when the body carried one.
        code: Option<String>,
    },
    /// A 2xx whose body is not what the probe reads (a JWKS that is not a key set).
    Unreadable {
        /// The HTTP status.
        status: u16,
        /// What was wrong (never a copy of the body).
        detail: String,
    },
    /// The app's health endpoint answered, with any status.
    AppHealth {
        /// The HTTP status (the adapters answer 503 when no key is usable).
        status: u16,
        /// The health body, when the answer carried one.
        health: Option<AppHealthSnapshot>,
    },
}

/// A probe's verdict in one word, for the report's probe lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProbeStatus {
    /// Working.
    Ok,
    /// Working, but not as it should (minor degradation, 429, a bypass mode on).
    Degraded,
    /// Not working.
    Failed,
    /// An answer this version cannot read.
    Unknown,
    /// No answer in time.
    TimedOut,
    /// Could not run: an input is missing or invalid.
    NotChecked,
    /// Left out on purpose.
    Skipped,
}

impl ProbeStatus {
    /// The word shown on the probe line; failures in capitals.
    pub fn label(self) -> &'static str {
        match self {
            ProbeStatus::Ok => "ok",
            ProbeStatus::Degraded => "degraded",
            ProbeStatus::Failed => "FAILED",
            ProbeStatus::Unknown => "unknown",
            ProbeStatus::TimedOut => "TIMED OUT",
            ProbeStatus::NotChecked => "NOT CHECKED",
            ProbeStatus::Skipped => "skipped",
        }
    }
}

impl fmt::Display for ProbeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One probe's result.
///
/// Serialised as `{"name":"backend_api","status":"failed","target":"…","elapsed_ms":12,
/// "summary":"…","outcome":{"result":"backend_api","status":401,…}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProbeResult {
    /// Which probe.
    pub name: ProbeName,
    /// What was probed: a URL (never with a secret), or `None` when skipped.
    pub target: Option<String>,
    /// What came back.
    pub outcome: ProbeOutcome,
    /// How long the probe took.
    pub elapsed: Duration,
}

impl ProbeResult {
    /// A result, for callers that run their own probes and classify with
    /// [`classify`](super::classify).
    pub fn new(
        name: ProbeName,
        target: Option<String>,
        outcome: ProbeOutcome,
        elapsed: Duration,
    ) -> Self {
        Self {
            name,
            target,
            outcome,
            elapsed,
        }
    }

    /// The verdict in one word.
    pub fn status(&self) -> ProbeStatus {
        match &self.outcome {
            ProbeOutcome::Skipped { .. } => ProbeStatus::Skipped,
            ProbeOutcome::NotChecked { .. } | ProbeOutcome::Invalid { .. } => {
                ProbeStatus::NotChecked
            }
            ProbeOutcome::TimedOut { .. } => ProbeStatus::TimedOut,
            ProbeOutcome::Unreachable { .. } | ProbeOutcome::ErrorStatus { .. } => {
                ProbeStatus::Failed
            }
            ProbeOutcome::Unreadable { .. } => ProbeStatus::Unknown,
            ProbeOutcome::StatusPage { report } => {
                if report.is_operational() {
                    ProbeStatus::Ok
                } else if page_outage(report) {
                    ProbeStatus::Failed
                } else if report.indicator == Indicator::Unknown && report.components.is_empty() {
                    ProbeStatus::Unknown
                } else {
                    ProbeStatus::Degraded
                }
            }
            ProbeOutcome::BackendApi { status, .. } => match status {
                200..=299 => ProbeStatus::Ok,
                429 => ProbeStatus::Degraded,
                _ => ProbeStatus::Failed,
            },
            ProbeOutcome::Jwks {
                kids,
                expected_kid_found,
                ..
            } => {
                if kids.is_empty() || *expected_kid_found == Some(false) {
                    ProbeStatus::Failed
                } else {
                    ProbeStatus::Ok
                }
            }
            ProbeOutcome::AppHealth { status, health } => match (status, health) {
                (500..=599, _) => ProbeStatus::Failed,
                (200..=299, Some(h)) if h.failure().is_some() => ProbeStatus::Failed,
                (200..=299, Some(h)) => match h.status {
                    _ if h.bypass_on() => ProbeStatus::Degraded,
                    // A generic health handler's `{"status":"ok"}` says nothing about keys.
                    AppStatus::Ok if h.ready == Some(true) => ProbeStatus::Ok,
                    _ => ProbeStatus::Unknown,
                },
                // Not a health body, or a 4xx: a wrong URL more likely than a failing app.
                _ => ProbeStatus::Unknown,
            },
        }
    }

    /// What the probe found, on one line.
    pub fn summary(&self) -> String {
        let line = match &self.outcome {
            ProbeOutcome::Skipped { reason } => format!("skipped ({reason})"),
            ProbeOutcome::NotChecked { reason, remedy } => format!("{reason}: {remedy}"),
            ProbeOutcome::TimedOut { timeout_ms } => {
                format!("no answer within {}", human_millis(*timeout_ms))
            }
            ProbeOutcome::Unreachable { error } => format!("unreachable: {error}"),
            ProbeOutcome::Invalid { error } => error.clone(),
            ProbeOutcome::StatusPage { report } => report.to_string(),
            ProbeOutcome::BackendApi {
                status,
                code,
                retry_after_secs,
            } => {
                let mut line = format!("GET /v1/users?limit=1 → {status}");
                if let Some(code) = code {
                    line.push_str(&format!(" ({code})"));
                }
                match status {
                    200..=299 => line.push_str(": the secret key works"),
                    401 => line.push_str(": the secret key is rejected"),
                    429 => {
                        line.push_str(": rate limited");
                        if let Some(wait) = retry_after_secs {
                            line.push_str(&format!(", retry after {wait} s"));
                        }
                    }
                    500..=599 => line.push_str(": Clerk fails"),
                    _ => {}
                }
                line
            }
            ProbeOutcome::Jwks {
                kids,
                expected_kid,
                expected_kid_found,
            } => {
                let mut line = format!("{} key(s)", kids.len());
                if !kids.is_empty() {
                    line.push_str(&format!(": {}", kids.join(", ")));
                }
                if let (Some(kid), Some(found)) = (expected_kid, expected_kid_found) {
                    let verdict = if *found { "present" } else { "MISSING" };
                    line.push_str(&format!("; expected kid {kid} {verdict}"));
                }
                line
            }
            ProbeOutcome::ErrorStatus { status, code } => match code {
                Some(code) => format!("HTTP {status} ({code})"),
                None => format!("HTTP {status}"),
            },
            ProbeOutcome::Unreadable { status, detail } => format!("HTTP {status}, {detail}"),
            ProbeOutcome::AppHealth { status, health } => match health {
                Some(health) => format!("HTTP {status}, {health}"),
                None => format!(
                    "HTTP {status}, not a clerk-health body (is --app-url the service's base URL?)"
                ),
            },
        };
        clip(&line, MAX_SUMMARY)
    }
}

impl fmt::Display for ProbeResult {
    /// `Backend API: FAILED — GET /v1/users?limit=1 → 401 …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} — {}",
            self.name.title(),
            self.status(),
            self.summary()
        )
    }
}

impl Serialize for ProbeResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ProbeResult", 6)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("status", &self.status())?;
        s.serialize_field("target", &self.target)?;
        s.serialize_field("elapsed_ms", &millis(self.elapsed))?;
        s.serialize_field("summary", &self.summary())?;
        s.serialize_field("outcome", &self.outcome)?;
        s.end()
    }
}

/// True when the page says major or critical, or a component is in a major outage.
pub(crate) fn page_outage(report: &StatusPageReport) -> bool {
    matches!(report.indicator, Indicator::Major | Indicator::Critical)
        || report
            .components
            .iter()
            .any(|c| c.status == ComponentStatus::MajorOutage)
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `250 ms`, `5 s`, `1.5 s`.
fn human_millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", Duration::from_millis(ms).as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: ProbeOutcome) -> ProbeResult {
        ProbeResult::new(ProbeName::BackendApi, None, outcome, Duration::ZERO)
    }

    #[test]
    fn statuses_and_summaries() {
        let api = |status| {
            result(ProbeOutcome::BackendApi {
                status,
                code: None,
                retry_after_secs: Some(3),
            })
        };
        assert_eq!(api(200).status(), ProbeStatus::Ok);
        assert_eq!(api(429).status(), ProbeStatus::Degraded);
        assert!(api(429).summary().contains("retry after 3 s"));
        assert_eq!(api(401).status(), ProbeStatus::Failed);
        let timed_out = result(ProbeOutcome::TimedOut { timeout_ms: 1500 });
        assert_eq!(timed_out.summary(), "no answer within 1.5 s");
        assert_eq!(
            timed_out.to_string(),
            "Backend API: TIMED OUT — no answer within 1.5 s"
        );
        let missing = result(ProbeOutcome::Jwks {
            kids: vec!["a".into()],
            expected_kid: Some("b".into()),
            expected_kid_found: Some(false),
        });
        assert_eq!(missing.status(), ProbeStatus::Failed);
        assert!(missing.summary().ends_with("expected kid b MISSING"));
        let page = |json: &str| {
            result(ProbeOutcome::StatusPage {
                report: StatusPageReport::parse(json.as_bytes()),
            })
            .status()
        };
        assert_eq!(page(r#"{"status":{"indicator":"none"}}"#), ProbeStatus::Ok);
        assert_eq!(
            page(r#"{"status":{"indicator":"minor"}}"#),
            ProbeStatus::Degraded
        );
        assert_eq!(
            page(r#"{"status":{"indicator":"critical"}}"#),
            ProbeStatus::Failed
        );
        assert_eq!(page("garbage"), ProbeStatus::Unknown);
    }

    #[test]
    fn serialises_with_status_and_summary() {
        let json = serde_json::to_value(result(ProbeOutcome::Skipped {
            reason: "left out with --skip api".into(),
        }))
        .unwrap();
        assert_eq!(json["name"], "backend_api");
        assert_eq!(json["status"], "skipped");
        assert_eq!(json["outcome"]["result"], "skipped");
        assert_eq!(json["summary"], "skipped (left out with --skip api)");
        let json = serde_json::to_value(result(ProbeOutcome::NotChecked {
            reason: "no secret key".into(),
            remedy: "export CLERK_SECRET_KEY".into(),
        }))
        .unwrap();
        assert_eq!(json["status"], "not_checked");
        assert_eq!(json["summary"], "no secret key: export CLERK_SECRET_KEY");
    }
}
