//! `clerk-incident drill`: rehearse the runbook against an embedded simulated Clerk.
//!
//! The drill starts a sim, then walks phases (normal operation, a Clerk outage, recovery…),
//! each a few steps that act like the on-call engineer would and check what they observe
//! against what the runbook expects. Every step is printed as it completes; the drill exits 1
//! when any observation differs from the expectation, so it doubles as an end-to-end test.
//! Each runbook capability adds its steps here.

mod connectivity;
mod fleet;
mod fleet_shared;
mod key_rotation;
mod middleware;
mod restart;
mod revocation;
mod service;
mod triage;
mod webhook_backlog;

use std::time::{Duration, Instant};

use clerk_incident_core::api::{ClerkApi, RetryPolicy, SecretKey};
use clerk_incident_core::http::ReqwestClient;
use clerk_incident_sim::Sim;
use serde::Serialize;
use serde_json::json;

use std::path::PathBuf;

use clerk_incident_core::incident::{EntryKind, IncidentLog, report};
use clerk_incident_core::private_file;
use clerk_incident_core::triage::{Category, Severity};

use crate::cli::DrillArgs;
use crate::commands;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

/// One step's record.
#[derive(Debug, Serialize)]
struct StepRecord {
    phase: &'static str,
    step: &'static str,
    passed: bool,
    observed: String,
    elapsed_ms: u128,
}

/// What a step observed, whether it is what the runbook expects, and what it adds to the
/// drill's incident log.
pub(crate) struct Observation {
    passed: bool,
    observed: String,
    entry: Option<EntryKind>,
}

impl Observation {
    /// The observation matches the expectation.
    pub(crate) fn expected(observed: impl Into<String>) -> Self {
        Self {
            passed: true,
            observed: observed.into(),
            entry: None,
        }
    }

    /// The same observation, with `note` after what was observed.
    pub(crate) fn note(mut self, note: impl AsRef<str>) -> Self {
        self.observed = format!("{}; {}", self.observed, note.as_ref());
        self
    }

    /// The observation does not match the expectation.
    pub(crate) fn unexpected(observed: impl Into<String>) -> Self {
        Self {
            passed: false,
            observed: observed.into(),
            entry: None,
        }
    }
}

impl Observation {
    /// Also records `entry` in the drill's incident log.
    pub(crate) fn with_entry(mut self, entry: EntryKind) -> Self {
        self.entry = Some(entry);
        self
    }
}

/// What the drill's steps act on: the sim and the clients pointed at it.
pub(crate) struct Drill {
    sim: Sim,
    api: ClerkApi,
    http: ReqwestClient,
    /// The instance's current secret key: the sim's, until the key-rotation phase moves to
    /// a new one.
    secret_key: std::sync::Mutex<String>,
}

/// Prints and keeps the record of every step.
pub(crate) struct Recorder {
    json: bool,
    phase: &'static str,
    records: Vec<StepRecord>,
    log: IncidentLog,
    log_problems: Vec<String>,
}

impl Recorder {
    /// Starts a new phase and announces it.
    pub(crate) fn phase(&mut self, name: &'static str, description: &str) {
        self.phase = name;
        if !self.json {
            terminal::out(format!("\n{name} — {description}"));
        }
        self.log(EntryKind::Note {
            text: format!("{name}: {description}"),
        });
    }

    /// Appends to the drill's incident log; a failure is reported at the end, not fatal.
    pub(crate) fn log(&mut self, entry: EntryKind) {
        if let Err(err) = self.log.append(entry) {
            self.log_problems.push(terminal::error_chain(&err));
        }
    }

    /// Runs one step and records what it observed.
    pub(crate) async fn step(
        &mut self,
        name: &'static str,
        action: impl Future<Output = Observation>,
    ) {
        let started = Instant::now();
        let mut observation = action.await;
        let elapsed = started.elapsed();
        if let Some(entry) = observation.entry.take() {
            self.log(entry);
        }
        if !self.json {
            terminal::out(step_line(
                observation.passed,
                name,
                &observation.observed,
                elapsed.as_millis(),
            ));
        }
        self.records.push(StepRecord {
            phase: self.phase,
            step: name,
            passed: observation.passed,
            observed: observation.observed,
            elapsed_ms: elapsed.as_millis(),
        });
    }
}

/// The width of the step-name column.
const STEP_COLUMN: usize = 30;

/// One step of the drill's table: the mark, the name in its column, what was observed. A name
/// too long for the column gets a line of its own, so that every observation starts in the
/// same column.
fn step_line(passed: bool, name: &str, observed: &str, elapsed_ms: u128) -> String {
    let mark = if passed { "ok  " } else { "FAIL" };
    let head = if name.chars().count() > STEP_COLUMN {
        format!("  {mark} {name}\n       {:STEP_COLUMN$}", "")
    } else {
        format!("  {mark} {name:<STEP_COLUMN$}")
    };
    format!("{head} {observed} ({elapsed_ms} ms)")
}

impl Drill {
    pub(crate) fn sim(&self) -> &Sim {
        &self.sim
    }

    pub(crate) fn api(&self) -> &ClerkApi {
        &self.api
    }

    pub(crate) fn http(&self) -> &ReqwestClient {
        &self.http
    }

    /// The secret key the app currently runs on.
    pub(crate) fn secret_key(&self) -> String {
        self.secret_key
            .lock()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |key| key.clone())
    }

    /// Moves the app to another secret key (after a rotation).
    pub(crate) fn set_secret_key(&self, key: &str) {
        let mut current = self
            .secret_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        key.clone_into(&mut current);
    }
}

/// The incident log and report paths: as given, or in a new folder of the temp directory.
fn drill_files(args: &DrillArgs) -> Result<(PathBuf, PathBuf), String> {
    let folder = || -> Result<PathBuf, String> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let dir = std::env::temp_dir().join(format!(
            "clerk-incident-drill-{}-{stamp}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
        Ok(dir)
    };
    let incident = match &args.incident {
        Some(path) => path.clone(),
        None => folder()?.join("incident.jsonl"),
    };
    let report = match &args.report {
        Some(path) => path.clone(),
        None => incident.with_file_name("post-incident-report.md"),
    };
    Ok((incident, report))
}

/// The last phase: resolve the incident and write the review from the log.
async fn post_incident_report(rec: &mut Recorder, path: &std::path::Path) {
    rec.phase(
        "Phase 15",
        "resolution and the post-incident review, written from the log",
    );
    rec.log(EntryKind::Resolved {
        summary: "Drill complete: Clerk recovered, auth back in Enforce.".to_owned(),
        root_cause: Some("Simulated Clerk outage (drill).".to_owned()),
    });
    let written = rec
        .log
        .read()
        .map_err(|err| terminal::error_chain(&err))
        .and_then(|timeline| {
            let markdown = report::render(&timeline);
            private_file::options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(path)
                .and_then(|mut file| {
                    private_file::restrict(&file)?;
                    std::io::Write::write_all(&mut file, markdown.as_bytes())
                })
                .map(|()| (markdown, timeline.entries.len()))
                .map_err(|err| format!("cannot write {}: {err}", path.display()))
        });
    rec.step("post-incident report", async {
        match written {
            Ok((markdown, entries))
                if markdown.contains("Drill: simulated Clerk outage")
                    && markdown.contains("grace") =>
            {
                Observation::expected(format!("{entries} log entries → {}", path.display()))
            }
            Ok(_) => Observation::unexpected("the report lacks the title or the Grace period"),
            Err(problem) => Observation::unexpected(problem),
        }
    })
    .await;
}

/// The drill's API client: few, quick retries, so that an outage shows in seconds.
fn drill_api(sim: &Sim) -> Result<ClerkApi, String> {
    ClerkApi::builder(SecretKey::new(sim.secret_key()))
        .base_url(sim.base_url())
        .retry(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            max_elapsed: Duration::from_secs(10),
        })
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|err| terminal::error_chain(&err))
}

pub(crate) async fn run(global: &GlobalArgs, args: &DrillArgs) -> Exit {
    let builder = Sim::builder().users(args.users).sessions(args.sessions);
    let sim = match commands::sim::start(builder).await {
        Ok(sim) => sim,
        Err(exit) => return exit,
    };
    let (api, http) = match (drill_api(&sim), ReqwestClient::new()) {
        (Ok(api), Ok(http)) => (api, http),
        (Err(err), _) => {
            terminal::problem(&err);
            return Exit::Failure;
        }
        (_, Err(err)) => {
            terminal::problem(&terminal::error_chain(&err));
            return Exit::Failure;
        }
    };
    if !global.json {
        terminal::out(format!(
            "clerk-incident drill against a simulated Clerk at {} ({} users, {} sessions)",
            sim.base_url(),
            args.users,
            args.sessions
        ));
    }

    let (incident, report) = match drill_files(args) {
        Ok(files) => files,
        Err(problem) => {
            terminal::problem(&problem);
            return Exit::Failure;
        }
    };
    let log = match IncidentLog::create(
        &incident,
        "Drill: simulated Clerk outage",
        Severity::Critical,
        Category::ClerkOutage,
    ) {
        Ok(log) => log,
        Err(err) => {
            terminal::problem(&terminal::error_chain(&err));
            return Exit::Failure;
        }
    };

    let drill = Drill {
        secret_key: std::sync::Mutex::new(sim.secret_key().to_owned()),
        sim,
        api,
        http,
    };
    let mut recorder = Recorder {
        json: global.json,
        phase: "",
        records: Vec::new(),
        log,
        log_problems: Vec::new(),
    };
    let phases = async {
        connectivity::run(&drill, &mut recorder).await;
        middleware::run(&drill, &mut recorder).await;
        triage::run(&drill, &mut recorder).await;
        restart::run(&drill, &mut recorder).await;
        fleet::run(&drill, &mut recorder, args.redis.as_deref()).await;
        key_rotation::run(&drill, &mut recorder).await;
        revocation::run(&drill, &mut recorder).await;
        webhook_backlog::run(&drill, &mut recorder).await;
        post_incident_report(&mut recorder, &report).await;
    };
    let interrupted = tokio::select! {
        () = phases => None,
        signal = crate::interrupt::signal() => Some(signal),
    };
    if let Some(signal) = interrupted {
        return stop_interrupted(global, drill, &mut recorder, &incident, signal).await;
    }
    for problem in &recorder.log_problems {
        terminal::problem(&format!("incident log: {problem}"));
    }
    if !global.json {
        terminal::out(format!(
            "\nIncident log: {}\nPost-incident report: {}",
            incident.display(),
            report.display()
        ));
    }

    let passed = recorder.records.iter().filter(|r| r.passed).count();
    let total = recorder.records.len();
    let all_passed = passed == total;
    if global.json {
        terminal::json(&json!({
            "sim": drill.sim.base_url(),
            "passed": all_passed,
            "steps": recorder.records,
            "incident_log": incident,
            "report": report,
        }));
    } else {
        let verdict = if all_passed {
            "Drill passed"
        } else {
            "Drill FAILED"
        };
        terminal::out(format!(
            "\n{verdict}: {passed} of {total} steps as the runbook expects."
        ));
    }
    drill.sim.shutdown().await;
    if all_passed { Exit::Ok } else { Exit::Failure }
}

/// Ends a drill stopped by `signal`: the step it was in is abandoned, the log says where it
/// stopped, and the steps run so far are printed (under `--json`, with status
/// `interrupted`).
async fn stop_interrupted(
    global: &GlobalArgs,
    drill: Drill,
    recorder: &mut Recorder,
    incident: &std::path::Path,
    signal: &str,
) -> Exit {
    let line = format!(
        "drill interrupted by {signal} in {} after {} step(s); the incident log is {}",
        if recorder.phase.is_empty() {
            "its setup"
        } else {
            recorder.phase
        },
        recorder.records.len(),
        incident.display()
    );
    recorder.log(EntryKind::Note {
        text: terminal::capitalised(&line),
    });
    terminal::problem(&line);
    for problem in &recorder.log_problems {
        terminal::problem(&format!("incident log: {problem}"));
    }
    if global.json {
        terminal::json(&json!({
            "status": "interrupted",
            "signal": signal,
            "sim": drill.sim.base_url(),
            "passed": false,
            "steps": recorder.records,
            "incident_log": incident,
        }));
    }
    drill.sim.shutdown().await;
    Exit::Failure
}

#[cfg(test)]
mod tests {
    use super::step_line;

    #[test]
    fn observations_start_in_one_column_whatever_the_name() {
        let column = |text: &str| {
            let line = text.lines().last().unwrap_or_default();
            line.find("saw").unwrap_or(usize::MAX)
        };
        let short = step_line(true, "grace", "saw it", 3);
        let long = step_line(
            false,
            "one mass revocation, watched from another replica",
            "saw it",
            3,
        );
        assert_eq!(column(&short), column(&long), "{short}\n{long}");
        assert!(long.starts_with("  FAIL one mass revocation"), "{long}");
        assert_eq!(long.lines().count(), 2);
        assert_eq!(short.lines().count(), 1);
    }
}
