//! The process exit codes, one place, so that scripts can rely on them.

use std::process::ExitCode;

/// Every exit code the binary uses. Documented in `--help` and docs/runbook.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success; for `status`, Clerk is operational.
    Ok = 0,
    /// The command failed (a drill expectation was not met, an I/O error…).
    Failure = 1,
    /// Invalid arguments or environment (clap uses 2 for its own errors too), such as a
    /// missing `CLERK_NEW_SECRET_KEY`.
    Usage = 2,
    /// `status`: Clerk reports a minor degradation.
    Degraded = 3,
    /// `status`: Clerk reports a major or critical outage.
    Outage = 4,
    /// `status`: the status page could not be reached or read.
    Unknown = 5,
    /// `triage`: severity low.
    TriageLow = 10,
    /// `triage`: severity medium.
    TriageMedium = 11,
    /// `triage`: severity high.
    TriageHigh = 12,
    /// `triage`: severity critical.
    TriageCritical = 13,
    /// `triage`: the evidence does not decide (category unknown).
    TriageUnknown = 14,
    /// `audit`: the leaked key's window holds findings (and every list was read).
    AuditFindings = 20,
    /// `audit`: a list could not be read, so the audit is incomplete (findings or not).
    AuditIncomplete = 21,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The exit-code table shown at the end of `--help`.
pub(crate) const HELP: &str = "\
Exit codes:
  0  success (status: Clerk operational; triage: healthy)
  1  failure (a drill expectation failed, an I/O or API error, interrupted by Ctrl-C or
     SIGTERM; bypass: an instance did not acknowledge; fleet status: an instance lags)
  2  invalid arguments or environment, in every command (a missing CLERK_SECRET_KEY, a
     malformed key, a zero timeout), before anything is sent
  3  status: Clerk reports a minor degradation
  4  status: Clerk reports a major or critical outage
  5  status: the status page could not be reached or read
  10 triage: severity low
  11 triage: severity medium
  12 triage: severity high
  13 triage: severity critical
  14 triage: the evidence does not decide (category unknown)
  20 audit: something was created or changed in the window
  21 audit: a list could not be read; the audit is incomplete";
