//! [`TriageReport`]: what [`run`](super::run) hands back.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::probe::{ProbeResult, ProbeStatus, millis};
use super::rules::Classification;
use super::symptom::Symptom;

/// The outcome of a triage: the classification, the evidence that decided it, every probe's
/// result and the commands to run next.
///
/// Its [`Display`](fmt::Display) is the compact text report the CLI prints; it serialises to
/// the CLI's `--json` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TriageReport {
    /// The verdict: category, severity, the rule that decided, its evidence and the commands
    /// to run next (flattened into the JSON document).
    #[serde(flatten)]
    pub classification: Classification,
    /// The symptoms the operator reported.
    pub symptoms: Vec<Symptom>,
    /// Every probe, in a fixed order: status page, Backend API, JWKS, app health.
    pub probes: Vec<ProbeResult>,
    /// How long the whole triage took.
    #[serde(rename = "elapsed_ms", serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(millis(*duration))
}

impl TriageReport {
    /// A report from probe results and their classification.
    pub fn new(
        classification: Classification,
        symptoms: Vec<Symptom>,
        probes: Vec<ProbeResult>,
        elapsed: Duration,
    ) -> Self {
        Self {
            classification,
            symptoms,
            probes,
            elapsed,
        }
    }

    /// The first line of the report: `Clerk outage — severity critical (rule status_page_outage)`.
    pub fn headline(&self) -> String {
        format!(
            "{} — severity {} (rule {})",
            self.classification.category.title(),
            self.classification.severity,
            self.classification.rule
        )
    }
}

impl fmt::Display for TriageReport {
    /// The text report:
    ///
    /// ```text
    /// Clerk outage — severity critical (rule status_page_outage)
    /// Clerk's status page reports a major outage of sign-in and the Backend API is not known to work.
    ///
    /// Probes (3 ms):
    ///   status page  FAILED      incident.io widget: indicator major; User and authentication: major outage; … (1 ms)
    ///   Backend API  FAILED      GET /v1/users?limit=1 → 503 (service_unavailable): Clerk fails (1 ms)
    ///   JWKS         FAILED      HTTP 503 (0 ms)
    ///   app health   NOT CHECKED no app URL: pass --app-url http://<host>:<port> …
    ///
    /// Evidence:
    ///   - status page: incident.io widget: indicator major; User and authentication: major outage; …
    ///   …
    ///
    /// Next:
    ///   $ clerk-incident status   # until Clerk is operational; then restart without the bypass
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        writeln!(f, "{}", self.classification.summary)?;
        if !self.symptoms.is_empty() {
            let reported: Vec<&str> = self.symptoms.iter().map(|s| s.as_str()).collect();
            writeln!(f, "Reported: {}", reported.join(", "))?;
        }
        writeln!(f, "\nProbes ({} ms):", millis(self.elapsed))?;
        for probe in &self.probes {
            let name = probe.name.title();
            match probe.status() {
                ProbeStatus::Skipped => writeln!(f, "  {name:<12} {}", probe.summary())?,
                // Nothing was sent: no time to show.
                ProbeStatus::NotChecked => writeln!(
                    f,
                    "  {name:<12} {:<11} {}",
                    ProbeStatus::NotChecked.label(),
                    probe.summary()
                )?,
                status => writeln!(
                    f,
                    "  {name:<12} {:<11} {} ({} ms)",
                    status.label(),
                    probe.summary(),
                    millis(probe.elapsed)
                )?,
            }
        }
        if !self.classification.evidence.is_empty() {
            writeln!(f, "\nEvidence:")?;
            for evidence in &self.classification.evidence {
                writeln!(f, "  - {evidence}")?;
            }
        }
        if !self.classification.next_commands.is_empty() {
            writeln!(f, "\nNext:")?;
            for line in &self.classification.next_commands {
                if line.starts_with('#') {
                    writeln!(f, "  {line}")?;
                } else {
                    writeln!(f, "  $ {line}")?;
                }
            }
        }
        Ok(())
    }
}
