//! [`Facts`]: the probe results, normalised into what the rule predicates read.

use crate::triage::app_health::AppStatus;
use crate::triage::probe::{ProbeName, ProbeOutcome, ProbeResult, ProbeStatus, page_outage};
use crate::triage::status_page::{Area, Indicator, StatusPageReport};
use crate::triage::symptom::Symptom;

/// What one probe established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Probe<T> {
    /// Not run: an input is missing or invalid.
    NotChecked,
    /// Left out on purpose.
    Skipped,
    /// No answer within the timeout.
    TimedOut,
    /// Connection refused or broken.
    Unreachable,
    /// An answer, read.
    Answered(T),
}

impl<T> Probe<T> {
    pub(super) fn ran(&self) -> bool {
        !matches!(self, Probe::NotChecked | Probe::Skipped)
    }

    pub(super) fn no_answer(&self) -> bool {
        matches!(self, Probe::TimedOut | Probe::Unreachable)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Page {
    Operational,
    Degraded,
    Outage,
    /// An answer in no shape this version reads, or an error status.
    Unreadable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Api {
    Ok,
    Unauthorized,
    RateLimited,
    ServerError,
    /// Another 4xx, or an unreadable answer.
    OtherError,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Jwks {
    Ok,
    /// No key, or not the `kid` the app expects.
    MissingKid,
    ServerError,
    /// 4xx (a rejected secret key on `/v1/jwks`), or not a key set.
    OtherError,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum App {
    Ok,
    /// A bypass mode, or failing key refreshes; keys still verify.
    Degraded,
    /// 5xx, or no usable key.
    Failing,
    /// An answer that is not a health body (404, a login page…).
    Unreadable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bypass {
    Grace,
    Open,
}

/// The probes, normalised for the rule predicates.
#[derive(Clone, Debug)]
pub(super) struct Facts {
    pub(super) page: Probe<Page>,
    /// The widest area the status page reports trouble in, when it reports any.
    pub(super) page_area: Option<Area>,
    pub(super) api: Probe<Api>,
    pub(super) jwks: Probe<Jwks>,
    pub(super) app: Probe<App>,
    pub(super) bypass: Option<Bypass>,
    pub(super) key_refresh_failing: bool,
    /// The app's own key fetch was answered 401: the app runs on a rejected secret key.
    pub(super) app_key_rejected: bool,
    /// The app's keys still verify (it said so, or did not say otherwise).
    pub(super) app_verifies: bool,
    pub(super) rejection_spike: bool,
    pub(super) symptoms: Vec<Symptom>,
}

impl Facts {
    pub(super) fn from_probes(probes: &[ProbeResult], symptoms: &[Symptom]) -> Self {
        let outcome = |name| probes.iter().find(|p| p.name == name).map(|p| &p.outcome);
        let health = match outcome(ProbeName::AppHealth) {
            Some(ProbeOutcome::AppHealth {
                health: Some(health),
                ..
            }) => Some(health),
            _ => None,
        };
        let mut symptoms = symptoms.to_vec();
        symptoms.sort_unstable();
        symptoms.dedup();
        Self {
            page_area: match outcome(ProbeName::StatusPage) {
                Some(ProbeOutcome::StatusPage { report }) => report.worst_area(),
                _ => None,
            },
            page: read(outcome(ProbeName::StatusPage), |o| match o {
                ProbeOutcome::StatusPage { report } => Some(page(report)),
                ProbeOutcome::ErrorStatus { .. } | ProbeOutcome::Unreadable { .. } => {
                    Some(Page::Unreadable)
                }
                _ => None,
            }),
            api: read(outcome(ProbeName::BackendApi), |o| match o {
                ProbeOutcome::BackendApi { status, .. } => Some(match status {
                    200..=299 => Api::Ok,
                    401 => Api::Unauthorized,
                    429 => Api::RateLimited,
                    500..=599 => Api::ServerError,
                    _ => Api::OtherError,
                }),
                ProbeOutcome::ErrorStatus { status, .. } if *status >= 500 => {
                    Some(Api::ServerError)
                }
                ProbeOutcome::ErrorStatus { .. } | ProbeOutcome::Unreadable { .. } => {
                    Some(Api::OtherError)
                }
                _ => None,
            }),
            jwks: read(outcome(ProbeName::Jwks), |o| match o {
                ProbeOutcome::Jwks {
                    kids,
                    expected_kid_found,
                    ..
                } => Some(if kids.is_empty() || *expected_kid_found == Some(false) {
                    Jwks::MissingKid
                } else {
                    Jwks::Ok
                }),
                ProbeOutcome::ErrorStatus { status, .. } if *status >= 500 => {
                    Some(Jwks::ServerError)
                }
                ProbeOutcome::ErrorStatus { .. } | ProbeOutcome::Unreadable { .. } => {
                    Some(Jwks::OtherError)
                }
                _ => None,
            }),
            app: match probes.iter().find(|p| p.name == ProbeName::AppHealth) {
                None => Probe::NotChecked,
                Some(probe) => read(Some(&probe.outcome), |_| match probe.status() {
                    ProbeStatus::Ok => Some(App::Ok),
                    ProbeStatus::Degraded => Some(App::Degraded),
                    ProbeStatus::Failed => Some(App::Failing),
                    _ => Some(App::Unreadable),
                }),
            },
            bypass: health.and_then(|h| match h.mode.as_deref() {
                Some("grace") => Some(Bypass::Grace),
                Some("open") => Some(Bypass::Open),
                _ => None,
            }),
            key_refresh_failing: health.is_some_and(|h| h.last_key_error.is_some()),
            app_key_rejected: health.is_some_and(|h| h.last_key_error_status == Some(401)),
            app_verifies: health.is_some_and(|h| {
                h.ready != Some(false)
                    && h.key_count != Some(0)
                    && !h.too_stale
                    && h.status != AppStatus::Unavailable
            }),
            rejection_spike: health.is_some_and(|h| h.rejection_spike()),
            symptoms,
        }
    }

    /// The status page reports trouble (degraded or an outage) in `area`, and in nothing wider.
    pub(super) fn page_trouble_in(&self, area: Area) -> bool {
        matches!(self.page, Probe::Answered(Page::Degraded | Page::Outage))
            && self.page_area.unwrap_or(Area::SignIn) == area
    }

    pub(super) fn reports(&self, symptom: Symptom) -> bool {
        self.symptoms.contains(&symptom)
    }

    /// At least one probe of Clerk itself got a good answer.
    pub(super) fn clerk_answers(&self) -> bool {
        self.page == Probe::Answered(Page::Operational)
            || self.api == Probe::Answered(Api::Ok)
            || self.jwks == Probe::Answered(Jwks::Ok)
    }

    /// The app's health is failing or unreachable.
    pub(super) fn app_down(&self) -> bool {
        self.app.no_answer() || self.app == Probe::Answered(App::Failing)
    }

    /// Some probe could not run for want of an input (not left out on purpose).
    pub(super) fn anything_not_checked(&self) -> bool {
        [
            self.page == Probe::NotChecked,
            self.api == Probe::NotChecked,
            self.jwks == Probe::NotChecked,
            self.app == Probe::NotChecked,
        ]
        .contains(&true)
    }

    /// Each of the four probes, as "ran" and "got no answer".
    pub(super) fn runs(&self) -> [(bool, bool); 4] {
        [
            (self.page.ran(), self.page.no_answer()),
            (self.api.ran(), self.api.no_answer()),
            (self.jwks.ran(), self.jwks.no_answer()),
            (self.app.ran(), self.app.no_answer()),
        ]
    }
}

/// A probe's outcome through `answer`; transport outcomes are shared by every probe.
fn read<T>(
    outcome: Option<&ProbeOutcome>,
    answer: impl Fn(&ProbeOutcome) -> Option<T>,
) -> Probe<T> {
    match outcome {
        Some(ProbeOutcome::Skipped { .. }) => Probe::Skipped,
        None | Some(ProbeOutcome::NotChecked { .. } | ProbeOutcome::Invalid { .. }) => {
            Probe::NotChecked
        }
        Some(ProbeOutcome::TimedOut { .. }) => Probe::TimedOut,
        Some(ProbeOutcome::Unreachable { .. }) => Probe::Unreachable,
        Some(other) => answer(other).map_or(Probe::NotChecked, Probe::Answered),
    }
}

fn page(report: &StatusPageReport) -> Page {
    if report.is_operational() {
        Page::Operational
    } else if page_outage(report) {
        Page::Outage
    } else if report.indicator == Indicator::Unknown && report.components.is_empty() {
        Page::Unreadable
    } else {
        Page::Degraded
    }
}
