//! `clerk-incident keys`: runbook step 3, prove a secret-key rotation.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use clerk_incident_core::api::{ClerkApi, KeyKind, SecretKey};
use clerk_incident_core::auth::ENV_SECRET_KEY;
use clerk_incident_core::incident::IncidentLog;
use clerk_incident_core::rotation::{self, OldKeyStatus, rotation_retry_policy};
use serde_json::json;

use crate::commands::incident;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

/// The environment variable holding the new secret key during a rotation.
pub(crate) const ENV_NEW_SECRET_KEY: &str = "CLERK_NEW_SECRET_KEY";

/// The time limit of one request of a check.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub(crate) struct KeysCommand {
    #[command(subcommand)]
    pub(crate) action: KeysAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysAction {
    /// Check that the key in CLERK_NEW_SECRET_KEY works and belongs to the same instance, in
    /// the same environment, as CLERK_SECRET_KEY (a development key pasted for a production
    /// instance is caught). Exit 0 when it does, 1 when not, 2 when a variable is missing.
    VerifyNew(KeysArgs),
    /// Check that Clerk now rejects the old key in CLERK_SECRET_KEY (401). Exit 0 when
    /// rejected, 1 when still valid or when Clerk's answer does not decide, 2 when the
    /// variable is missing.
    VerifyOldRevoked(KeysArgs),
    /// Print the rotation procedure in order, each step with the command that checks it.
    Checklist(KeysArgs),
    /// Save the instance's public signing keys before an outage: `--out FILE` for the
    /// services' CLERK_JWKS_SNAPSHOT, `--pem` for CLERK_JWT_KEY. Read from the Backend API
    /// with CLERK_SECRET_KEY, or from --jwks-url. Exit 0 when saved, 1 when Clerk's keys
    /// could not be read, 2 without a key or URL.
    Snapshot(crate::commands::keys_snapshot::SnapshotArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    #[command(flatten)]
    pub(crate) api: crate::global_args::ApiUrlArg,
    /// Append the step and its result to this incident log.
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) incident: Option<PathBuf>,
}

pub(crate) async fn run(global: &GlobalArgs, command: &KeysCommand) -> Exit {
    match &command.action {
        KeysAction::VerifyNew(args) => verify_new(global, args).await,
        KeysAction::VerifyOldRevoked(args) => verify_old_revoked(global, args).await,
        KeysAction::Checklist(args) => checklist(global, args),
        KeysAction::Snapshot(args) => crate::commands::keys_snapshot::run(global, args).await,
    }
}

/// The key in `name`, or the usage problem to report.
fn key(name: &str, what: &str) -> Result<SecretKey, String> {
    let key = SecretKey::from_env(name).ok_or_else(|| {
        format!("{name} is not set: export {what} first (keys are read from the environment only)")
    })?;
    // Checked here, so that a publishable key or a stray value is never sent anywhere.
    if key.kind() == KeyKind::Unknown {
        return Err(format!(
            "{name} is not a Clerk secret key (sk_live_… or sk_test_…): export {what}"
        ));
    }
    Ok(key)
}

/// The usage problem when the new key is the current one: nothing was rotated.
fn same_keys() -> Option<String> {
    let value = |name| std::env::var(name).ok().map(|key| key.trim().to_owned());
    let (old, new) = (value(ENV_SECRET_KEY)?, value(ENV_NEW_SECRET_KEY)?);
    (!old.is_empty() && old == new).then(|| {
        format!(
            "{ENV_NEW_SECRET_KEY} holds the same key as {ENV_SECRET_KEY}: no rotation happened; \
             create a new secret key in the Dashboard (API keys) and export it as {ENV_NEW_SECRET_KEY}"
        )
    })
}

fn client(api_url: &str, key: SecretKey) -> Result<ClerkApi, String> {
    ClerkApi::builder(key)
        .base_url(api_url)
        .retry(rotation_retry_policy())
        .timeout(TIMEOUT)
        .build()
        .map_err(|err| terminal::error_chain(&err))
}

fn open_log(args: &KeysArgs) -> Result<Option<IncidentLog>, String> {
    args.incident
        .as_ref()
        .map(|path| IncidentLog::open(path).map_err(|err| incident::explain(&err)))
        .transpose()
}

/// The checks need both the keys (usage, exit 2) and a readable log (exit 1) before any call.
fn prepare(
    args: &KeysArgs,
    keys: &[(&str, &str)],
) -> Result<(Vec<ClerkApi>, Option<IncidentLog>), Exit> {
    let mut clients = Vec::with_capacity(keys.len());
    for (name, what) in keys {
        let key = key(name, what).map_err(|problem| {
            terminal::problem(&problem);
            Exit::Usage
        })?;
        clients.push(client(&args.api.api_url, key).map_err(|problem| {
            terminal::problem(&problem);
            Exit::Usage
        })?);
    }
    let log = open_log(args).map_err(|problem| {
        terminal::problem(&problem);
        Exit::Failure
    })?;
    Ok((clients, log))
}

async fn verify_new(global: &GlobalArgs, args: &KeysArgs) -> Exit {
    const COMMAND: &str = "clerk-incident keys verify-new";
    if let Some(problem) = same_keys() {
        terminal::problem(&problem);
        return Exit::Usage;
    }
    let (clients, log) = match prepare(
        args,
        &[
            (ENV_SECRET_KEY, "the current (old) secret key"),
            (ENV_NEW_SECRET_KEY, "the new secret key from the Dashboard"),
        ],
    ) {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    let [old, new] = clients.as_slice() else {
        return Exit::Failure;
    };
    let result = rotation::verify_new(old, new).await;
    let (passed, outcome) = match &result {
        Ok(check) => (
            true,
            format!(
                "passed: the new secret key works on instance {} ({}), the old key's instance",
                check.instance_id, check.environment_type
            ),
        ),
        Err(err) => (false, format!("failed: {}", terminal::error_chain(err))),
    };
    let recorded = incident::record_action(log.as_ref(), COMMAND, outcome.clone());
    if global.json {
        let recorded_in = args.incident.as_ref().filter(|_| recorded);
        let document = match &result {
            Ok(check) => json!({
                "check": "verify_new",
                "passed": passed,
                "result": check,
                "recorded_in": recorded_in,
            }),
            Err(err) => json!({
                "check": "verify_new",
                "passed": passed,
                "error": terminal::error_chain(err),
                "recorded_in": recorded_in,
            }),
        };
        terminal::json(&document);
    } else if passed {
        terminal::out(format!("ok: {}", outcome.trim_start_matches("passed: ")));
        terminal::out(
            "next: deploy the app with the new key in CLERK_SECRET_KEY, check it is healthy \
             (clerk-incident triage --app-url <app-url>), then delete the old key",
        );
    }
    if let Err(err) = &result {
        terminal::problem(&terminal::error_chain(err));
    }
    if passed && recorded {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

async fn verify_old_revoked(global: &GlobalArgs, args: &KeysArgs) -> Exit {
    const COMMAND: &str = "clerk-incident keys verify-old-revoked";
    let (clients, log) = match prepare(args, &[(ENV_SECRET_KEY, "the old secret key")]) {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    let [old] = clients.as_slice() else {
        return Exit::Failure;
    };
    let check = match rotation::verify_old_revoked(old).await {
        Ok(check) => check,
        Err(err) => {
            let problem = terminal::error_chain(&err);
            incident::record_action(log.as_ref(), COMMAND, format!("failed: {problem}"));
            terminal::problem(&problem);
            return Exit::Failure;
        }
    };
    let verdict = match check.status {
        OldKeyStatus::Rejected => "passed",
        OldKeyStatus::StillValid => "failed: still valid",
        _ => "failed: unknown",
    };
    let recorded = incident::record_action(
        log.as_ref(),
        COMMAND,
        format!("{verdict}: {}", check.detail),
    );
    if global.json {
        terminal::json(&json!({
            "check": "verify_old_revoked",
            "passed": check.passed(),
            "result": check,
            "recorded_in": args.incident.as_ref().filter(|_| recorded),
        }));
    } else if check.passed() {
        terminal::out(format!("ok: {}; the old key is dead", check.detail));
    }
    if !check.passed() {
        terminal::problem(&check.detail);
    }
    if check.passed() && recorded {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

fn checklist(global: &GlobalArgs, args: &KeysArgs) -> Exit {
    let log = match open_log(args) {
        Ok(log) => log,
        Err(problem) => {
            terminal::problem(&problem);
            return Exit::Failure;
        }
    };
    let steps = rotation::checklist();
    let recorded = incident::record_action(
        log.as_ref(),
        "clerk-incident keys checklist",
        format!("rotation started: checklist of {} steps", steps.len()),
    );
    if global.json {
        terminal::json(&json!({ "steps": steps }));
    } else {
        terminal::out("Secret key rotation, in order:");
        for step in &steps {
            let optional = if step.optional { " (optional)" } else { "" };
            terminal::out(format!("{}. {}{optional}", step.number, step.action));
            terminal::out(format!("   check: {}", step.check));
        }
    }
    if recorded { Exit::Ok } else { Exit::Failure }
}
