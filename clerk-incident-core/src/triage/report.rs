//! [`TriageReport`]: what [`run`](super::run) hands back.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::category::{Category, Severity};
use super::probe::{ProbeResult, ProbeStatus, millis};
use super::rules::{Classification, Evidence};
use super::symptom::Symptom;

/// The outcome of a triage: the classification, the evidence that decided it, every probe's
/// result and the commands to run next.
///
/// Its [`Display`](fmt::Display) is the compact text report the CLI prints; it serialises to
/// the CLI's `--json` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TriageReport {
    /// The incident category.
    pub category: Category,
    /// How bad it is.
    pub severity: Severity,
    /// The name of the rule that decided.
    pub rule: &'static str,
    /// The rule's reading of the situation, one sentence.
    pub summary: &'static str,
    /// The evidence that decided it.
    pub evidence: Vec<Evidence>,
    /// What to run next, as shell lines (a `#` comment says why).
    pub next_commands: Vec<String>,
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
            category: classification.category,
            severity: classification.severity,
            rule: classification.rule,
            summary: classification.summary,
            evidence: classification.evidence,
            next_commands: classification.next_commands,
            symptoms,
            probes,
            elapsed,
        }
    }

    /// The first line of the report: `Clerk outage — severity critical (rule status_page_outage)`.
    pub fn headline(&self) -> String {
        format!(
            "{} — severity {} (rule {})",
            self.category.title(),
            self.severity,
            self.rule
        )
    }
}

impl fmt::Display for TriageReport {
    /// The text report:
    ///
    /// ```text
    /// Clerk outage — severity critical (rule status_page_outage)
    /// Clerk's status page reports a major outage and the Backend API is not known to work.
    ///
    /// Probes (3 ms):
    ///   status page  FAILED     indicator major (Major System Outage); Backend API: major outage (1 ms)
    ///   Backend API  FAILED     GET /v1/users?limit=1 → 503 (service_unavailable): Clerk fails (1 ms)
    ///   JWKS         FAILED     HTTP 503 (0 ms)
    ///   app health   skipped (no app URL)
    ///
    /// Evidence:
    ///   - status page: indicator major (Major System Outage); Backend API: major outage
    ///   …
    ///
    /// Next:
    ///   $ clerk-incident status   # until Clerk is operational; then restart without the bypass
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        writeln!(f, "{}", self.summary)?;
        if !self.symptoms.is_empty() {
            let reported: Vec<&str> = self.symptoms.iter().map(|s| s.as_str()).collect();
            writeln!(f, "Reported: {}", reported.join(", "))?;
        }
        writeln!(f, "\nProbes ({} ms):", millis(self.elapsed))?;
        for probe in &self.probes {
            let name = probe.name.title();
            match probe.status() {
                ProbeStatus::Skipped => writeln!(f, "  {name:<12} {}", probe.summary())?,
                status => writeln!(
                    f,
                    "  {name:<12} {:<10} {} ({} ms)",
                    status.label(),
                    probe.summary(),
                    millis(probe.elapsed)
                )?,
            }
        }
        if !self.evidence.is_empty() {
            writeln!(f, "\nEvidence:")?;
            for evidence in &self.evidence {
                writeln!(f, "  - {evidence}")?;
            }
        }
        if !self.next_commands.is_empty() {
            writeln!(f, "\nNext:")?;
            for line in &self.next_commands {
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
