//! `clerk-incident bypass` and `clerk-incident fleet`: switch every instance of a service at
//! once, and see that each one did.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use clerk_incident_core::auth::{AuthMode, DEFAULT_GRACE_MAX_AGE, pinned_issuers};
use clerk_incident_core::fleet::{
    Acknowledgements, DesiredMode, ENV_FLEET, ENV_REDIS_URL, FleetError, FleetStore, Heartbeat,
    ModeRequest, fleet_name, host_name, wait_for_acknowledgements,
};
use clerk_incident_core::incident::{EntryKind, IncidentLog};
use clerk_incident_redis::RedisFleetStore;
use serde_json::{Value, json};

use crate::commands::incident;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;
use crate::time_arg::parse_until;

/// Where the fleet is: the options of `bypass` and `fleet`. `Debug` hides the URL, which
/// carries the password.
#[derive(Args)]
pub(crate) struct FleetStoreArgs {
    /// The fleet store, redis://… or rediss://… (TLS), with the ACL user and password in the
    /// URL. Prefer the variable: a password on the command line shows in the process list.
    #[arg(
        long = "redis",
        env = "CLERK_INCIDENT_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) redis: Option<String>,
    /// The fleet's name, as the services have it (CLERK_INCIDENT_FLEET); by default derived,
    /// as the services derive it, from CLERK_ISSUER or CLERK_PUBLISHABLE_KEY.
    #[arg(long, env = "CLERK_INCIDENT_FLEET", value_name = "NAME")]
    pub(crate) fleet: Option<String>,
}

impl std::fmt::Debug for FleetStoreArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetStoreArgs")
            .field("redis", &self.redis.as_ref().map(|_| "(hidden)"))
            .field("fleet", &self.fleet)
            .finish()
    }
}

/// `bypass` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    /// Accept expired tokens whose signature verifies (Clerk is down, tokens cannot refresh).
    Grace,
    /// The emergency bypass: protected routes pass without a valid token.
    Open,
    /// Back to normal: a valid token is required.
    Enforce,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("end").args(["until", "ttl"])))]
pub(crate) struct BypassArgs {
    /// The mode for every instance.
    #[arg(value_enum)]
    pub(crate) mode: ModeArg,
    /// When the bypass ends, RFC 3339 (2026-11-26T20:00:00Z); every instance returns to
    /// enforce at that instant by itself. At most 24 h ahead.
    #[arg(long, value_name = "TIME", value_parser = parse_until)]
    pub(crate) until: Option<SystemTime>,
    /// How long the bypass lasts from now (45m, 2h), at most 24h; turned into an absolute end
    /// once, here.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub(crate) ttl: Option<Duration>,
    /// Why, such as "INC-42: Clerk API answers 503": it goes into the fleet's history, every
    /// instance's log and the incident log.
    #[arg(long, value_name = "TEXT")]
    pub(crate) reason: String,
    /// Grace: how long past their expiry tokens are accepted (at most 24h).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "30m")]
    pub(crate) grace_max_age: Duration,
    /// How long to wait for the live instances to acknowledge the change.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10s")]
    pub(crate) wait: Duration,
    /// Record the change in this incident log.
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) incident: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) store: FleetStoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct FleetCommand {
    #[command(subcommand)]
    pub(crate) action: FleetAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FleetAction {
    /// Every live instance: its mode, the fleet version it applied, its keys and its last
    /// heartbeat; laggards are flagged. Exit 0 when every instance is in step, 1 otherwise.
    Status(FleetStatusArgs),
    /// The recorded changes of the fleet's mode: when, who, why, and the mode before.
    History(FleetHistoryArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FleetStatusArgs {
    #[command(flatten)]
    pub(crate) store: FleetStoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct FleetHistoryArgs {
    /// How many changes to show, newest last.
    #[arg(long, default_value_t = 20)]
    pub(crate) limit: usize,
    #[command(flatten)]
    pub(crate) store: FleetStoreArgs,
}

/// `clerk-incident bypass`.
pub(crate) async fn bypass(global: &GlobalArgs, args: &BypassArgs) -> Exit {
    let request = match request(args) {
        Ok(request) => request,
        Err(problem) => {
            terminal::problem(&problem);
            return Exit::Usage;
        }
    };
    let log = match args.incident.as_ref().map(IncidentLog::open).transpose() {
        Ok(log) => log,
        Err(err) => {
            terminal::problem(&incident::explain(&err));
            return Exit::Usage;
        }
    };
    let (store, fleet) = match open(&args.store) {
        Ok(opened) => opened,
        Err(exit) => return exit,
    };
    // The instances live before the write: one that stops answering during the wait is shown.
    let before = match store.instances().await {
        Ok(before) => before,
        Err(error) => {
            terminal::problem(&format!("{error}; nothing was switched"));
            return Exit::Failure;
        }
    };
    let written = match store.set_desired(request).await {
        Ok(written) => written,
        Err(error @ (FleetError::Refused(_) | FleetError::Config(_))) => {
            terminal::problem(&format!("{error}; nothing was switched"));
            return Exit::Failure;
        }
        Err(error) => {
            // The write may have landed before the answer was lost.
            terminal::problem(&format!(
                "{error}; the fleet's mode may or may not have changed: check with clerk-incident fleet status"
            ));
            if let Some(log) = log.as_ref() {
                let _ = log.append(EntryKind::Note {
                    text: format!(
                        "clerk-incident bypass {} failed, the write may or may not have landed: {error}",
                        args.mode.name()
                    ),
                });
            }
            return Exit::Failure;
        }
    };
    // Into the incident log at once: the change is made, whatever the wait shows.
    let mut recorded = record(log.as_ref(), &written);
    let acks = wait_for_acknowledgements(store.as_ref(), &written, &before, args.wait).await;
    let acks = match acks {
        Ok(acks) => acks,
        Err(error) => {
            terminal::problem(&format!(
                "v{} was written, but the acknowledgements cannot be read: {error}",
                written.version
            ));
            return Exit::Failure;
        }
    };
    recorded &= incident::record_action(
        log.as_ref(),
        "clerk-incident bypass",
        format!(
            "fleet v{}: {} of {} instances acknowledged{}",
            written.version,
            acks.acknowledged.len(),
            acks.acknowledged.len() + acks.missing.len() + acks.vanished.len(),
            if acks.complete() {
                ""
            } else {
                " (some did not)"
            }
        ),
    );
    if global.json {
        terminal::json(&json!({
            "fleet": fleet,
            "written": written,
            "acknowledged": acks.acknowledged,
            "missing": acks.missing,
            "vanished": acks.vanished,
            "waited_ms": u64::try_from(acks.waited.as_millis()).unwrap_or(u64::MAX),
            "complete": acks.complete(),
            "recorded_in": args.incident.as_ref().filter(|_| recorded),
        }));
    } else {
        print_acks(&fleet, &written, &acks, args.wait);
    }
    if acks.complete() && recorded {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

/// `clerk-incident fleet …`.
pub(crate) async fn run(global: &GlobalArgs, command: &FleetCommand) -> Exit {
    match &command.action {
        FleetAction::Status(args) => status(global, args).await,
        FleetAction::History(args) => history(global, args).await,
    }
}

impl ModeArg {
    fn name(self) -> &'static str {
        match self {
            ModeArg::Grace => "grace",
            ModeArg::Open => "open",
            ModeArg::Enforce => "enforce",
        }
    }
}

fn request(args: &BypassArgs) -> Result<ModeRequest, String> {
    let mode = match args.mode {
        ModeArg::Enforce => AuthMode::Enforce,
        ModeArg::Open => AuthMode::Open,
        ModeArg::Grace => AuthMode::Grace {
            max_token_age: args.grace_max_age,
        },
    };
    if args.mode != ModeArg::Grace && args.grace_max_age != DEFAULT_GRACE_MAX_AGE {
        return Err("--grace-max-age is for grace only".into());
    }
    if mode == AuthMode::Enforce && (args.until.is_some() || args.ttl.is_some()) {
        return Err("enforce has no end: drop --until and --ttl".into());
    }
    let until = args
        .until
        .or_else(|| args.ttl.map(|ttl| SystemTime::now() + ttl));
    ModeRequest::new(mode, until, &args.reason, operator()).map_err(|error| error.to_string())
}

/// `user@host` of whoever runs the command.
fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("{user}@{}", host_name())
}

/// The store and the fleet's name; or, after saying in one line what is missing, the usage
/// exit.
fn open(args: &FleetStoreArgs) -> Result<(Arc<dyn FleetStore>, String), Exit> {
    find(args).map_err(|problem| {
        terminal::problem(&problem);
        Exit::Usage
    })
}

pub(crate) fn find(args: &FleetStoreArgs) -> Result<(Arc<dyn FleetStore>, String), String> {
    let Some(url) = args.redis.as_deref().filter(|url| !url.trim().is_empty()) else {
        return Err(format!(
            "no fleet store: set {ENV_REDIS_URL} (redis://… or rediss://…), as the services have it, or pass --redis"
        ));
    };
    let issuers = pinned_issuers(|name| std::env::var(name).ok())
        .map_err(|error| terminal::error_chain(&error))?;
    let name = fleet_name(args.fleet.as_deref(), issuers.first().map(String::as_str))
        .map_err(|error| error.to_string())?;
    let store = RedisFleetStore::open(url.trim(), &name).map_err(|error| error.to_string())?;
    Ok((Arc::new(store), name))
}

fn record(log: Option<&IncidentLog>, written: &DesiredMode) -> bool {
    let Some(log) = log else {
        return true;
    };
    let until = written
        .until_ms
        .map(|until| format!(" until {}", incident::timestamp(until)))
        .unwrap_or_default();
    let entry = EntryKind::ModeChange {
        from: written.previous.name().to_owned(),
        to: written.mode.name().to_owned(),
        reason: format!(
            "clerk-incident bypass by {} (fleet v{}{until}): {}",
            written.set_by, written.version, written.reason
        ),
    };
    match log.append(entry) {
        Ok(_) => true,
        Err(err) => {
            terminal::problem(&incident::explain(&err));
            false
        }
    }
}

fn print_acks(fleet: &str, written: &DesiredMode, acks: &Acknowledgements, wait: Duration) {
    terminal::out(format!("fleet {fleet}: {written}"));
    for beat in &acks.acknowledged {
        terminal::out(format!("  ok       {}", instance_line(beat)));
    }
    for beat in &acks.missing {
        terminal::out(format!("  MISSING  {}", instance_line(beat)));
    }
    for beat in &acks.vanished {
        terminal::out(format!(
            "  GONE     {} (its heartbeat stopped during the wait)",
            instance_line(beat)
        ));
    }
    let live = acks.acknowledged.len() + acks.missing.len() + acks.vanished.len();
    if live == 0 {
        terminal::problem(&format!(
            "no live instance in fleet {fleet}: check that the services have the same {ENV_REDIS_URL} and {ENV_FLEET}"
        ));
    } else if acks.complete() {
        terminal::out(format!(
            "{live} of {live} instances acknowledged v{} in {} ms",
            written.version,
            acks.waited.as_millis()
        ));
    } else {
        terminal::problem(&format!(
            "{} of {live} instances did not acknowledge v{} within {}: they apply it at their next read, or are cut off from the store (then they enforce at their current mode's end)",
            acks.missing.len() + acks.vanished.len(),
            written.version,
            humantime::format_duration(wait)
        ));
    }
}

fn instance_line(beat: &Heartbeat) -> String {
    let until = beat
        .mode_until_ms
        .map(|until| format!(" until {}", incident::timestamp(until)))
        .unwrap_or_default();
    let keys = match beat.key_age_secs {
        Some(age) => format!("{} keys, {age}s old", beat.key_count),
        None => format!("{} keys", beat.key_count),
    };
    format!(
        "{} ({}): {}{until}, v{}, {keys}, seen {}s ago",
        beat.id,
        beat.host,
        beat.mode.name(),
        beat.applied_version,
        age_secs(beat.at_ms)
    )
}

fn age_secs(at: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(at)
        .unwrap_or_default()
        .as_secs()
}

async fn status(global: &GlobalArgs, args: &FleetStatusArgs) -> Exit {
    let (store, fleet) = match open(&args.store) {
        Ok(opened) => opened,
        Err(exit) => return exit,
    };
    let read = async { Ok::<_, FleetError>((store.desired().await?, store.instances().await?)) };
    let (desired, instances) = match read.await {
        Ok(read) => read,
        Err(error) => {
            terminal::problem(&error.to_string());
            return Exit::Failure;
        }
    };
    let now = SystemTime::now();
    let version = desired.as_ref().map_or(0, |desired| desired.version);
    let mode = desired
        .as_ref()
        .map_or(AuthMode::Enforce, |desired| desired.mode_at(now));
    let epoch = desired
        .as_ref()
        .map(|desired| desired.epoch.as_str())
        .unwrap_or_default();
    let lags = |beat: &Heartbeat| {
        beat.applied_version < version || beat.applied_epoch != epoch || beat.mode != mode
    };
    let laggards: Vec<&str> = instances
        .iter()
        .filter(|beat| lags(beat))
        .map(|beat| beat.id.as_str())
        .collect();
    if global.json {
        terminal::json(&json!({
            "fleet": fleet,
            "desired": desired,
            "mode_now": mode,
            "instances": instances,
            "laggards": laggards,
        }));
    } else {
        match &desired {
            Some(desired) => {
                terminal::out(format!("fleet {fleet}: {desired}; in force now: {mode}"));
            }
            None => terminal::out(format!("fleet {fleet}: no mode written (enforce)")),
        }
        if instances.is_empty() {
            terminal::out("  no live instance");
        }
        for beat in &instances {
            let flag = if lags(beat) { "LAGGING" } else { "ok" };
            terminal::out(format!("  {flag:<8} {}", instance_line(beat)));
        }
    }
    if laggards.is_empty() && !instances.is_empty() {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

async fn history(global: &GlobalArgs, args: &FleetHistoryArgs) -> Exit {
    let (store, fleet) = match open(&args.store) {
        Ok(opened) => opened,
        Err(exit) => return exit,
    };
    let history = match store.history(args.limit).await {
        Ok(history) => history,
        Err(error) => {
            terminal::problem(&error.to_string());
            return Exit::Failure;
        }
    };
    if global.json {
        terminal::json(&Value::from(
            history
                .iter()
                .map(|change| serde_json::to_value(change).unwrap_or(Value::Null))
                .collect::<Vec<_>>(),
        ));
        return Exit::Ok;
    }
    if history.is_empty() {
        terminal::out(format!("fleet {fleet}: no change recorded"));
    }
    for change in &history {
        terminal::out(format!(
            "{}  {} (was {})",
            incident::timestamp(change.set_at_ms),
            change,
            change.previous.name()
        ));
    }
    Exit::Ok
}
