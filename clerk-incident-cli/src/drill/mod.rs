//! `clerk-incident drill`: rehearse the runbook against an embedded simulated Clerk.
//!
//! The drill starts a sim, then walks phases (normal operation, a Clerk outage, recovery…),
//! each a few steps that act like the on-call engineer would and check what they observe
//! against what the runbook expects. Every step is printed as it completes; the drill exits 1
//! when any observation differs from the expectation, so it doubles as an end-to-end test.
//! Each runbook capability adds its steps here.

mod connectivity;
mod middleware;
mod triage;

use std::time::{Duration, Instant};

use clerk_incident_core::api::{ClerkApi, RetryPolicy, SecretKey};
use clerk_incident_core::http::ReqwestClient;
use clerk_incident_sim::Sim;
use serde::Serialize;
use serde_json::json;

use crate::cli::{DrillArgs, GlobalArgs};
use crate::commands;
use crate::exit_code::Exit;
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

/// What a step observed, and whether it is what the runbook expects.
pub(crate) struct Observation {
    passed: bool,
    observed: String,
}

impl Observation {
    /// The observation matches the expectation.
    pub(crate) fn expected(observed: impl Into<String>) -> Self {
        Self {
            passed: true,
            observed: observed.into(),
        }
    }

    /// The observation does not match the expectation.
    pub(crate) fn unexpected(observed: impl Into<String>) -> Self {
        Self {
            passed: false,
            observed: observed.into(),
        }
    }
}

/// What the drill's steps act on: the sim and the clients pointed at it.
pub(crate) struct Drill {
    sim: Sim,
    api: ClerkApi,
    http: ReqwestClient,
}

/// Prints and keeps the record of every step.
pub(crate) struct Recorder {
    json: bool,
    phase: &'static str,
    records: Vec<StepRecord>,
}

impl Recorder {
    /// Starts a new phase and announces it.
    pub(crate) fn phase(&mut self, name: &'static str, description: &str) {
        self.phase = name;
        if !self.json {
            terminal::out(format!("\n{name} — {description}"));
        }
    }

    /// Runs one step and records what it observed.
    pub(crate) async fn step(
        &mut self,
        name: &'static str,
        action: impl Future<Output = Observation>,
    ) {
        let started = Instant::now();
        let observation = action.await;
        let elapsed = started.elapsed();
        if !self.json {
            let mark = if observation.passed { "ok  " } else { "FAIL" };
            terminal::out(format!(
                "  {mark} {name:<24} {} ({} ms)",
                observation.observed,
                elapsed.as_millis()
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

    let drill = Drill { sim, api, http };
    let mut recorder = Recorder {
        json: global.json,
        phase: "",
        records: Vec::new(),
    };
    connectivity::run(&drill, &mut recorder).await;
    middleware::run(&drill, &mut recorder).await;
    triage::run(&drill, &mut recorder).await;

    let passed = recorder.records.iter().filter(|r| r.passed).count();
    let total = recorder.records.len();
    let all_passed = passed == total;
    if global.json {
        terminal::json(&json!({
            "sim": drill.sim.base_url(),
            "passed": all_passed,
            "steps": recorder.records,
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
