//! `clerk-incident sessions revoke`: runbook step 4, sign users out.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};
use clerk_incident_core::api::{ClerkApi, RateLimit, SecretKey, SharedBudget, UserQuery};
use std::sync::Arc;

use clerk_incident_core::auth::{ENV_REDIS_URL, ENV_SECRET_KEY, SessionDenier as _};
use clerk_incident_core::fleet::FleetDenier;
use clerk_incident_core::incident::{ActionCounts, IncidentLog};
use clerk_incident_core::revocation::{
    CheckpointPace, PlanPreview, Progress, RevocationError, RevocationPlan, RevocationReport,
    RevocationTarget, SessionRevoker, Totals,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::commands::fleet::{self, FleetStoreArgs};
use crate::commands::incident;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::rate_limit_arg::parse_rate_limit;
use crate::terminal;
use crate::time_arg::{parse_instant, rfc3339};

/// Failures listed in the text output; `--json` lists them all.
const FAILURES_SHOWN: usize = 20;

#[derive(Debug, Args)]
pub(crate) struct SessionsCommand {
    #[command(subcommand)]
    pub(crate) action: SessionsAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SessionsAction {
    /// Revoke the live sessions of all users, some users or an organisation's members, paced
    /// under Clerk's rate limit, resumable from a checkpoint. Exit 0 when nothing failed.
    ///
    /// Users inactive for longer than the maximum session lifetime are skipped without a call.
    /// Asks for confirmation, showing how many users will be scanned, unless --yes is given
    /// (with no terminal on stdin it refuses without --yes). Reads the secret key from
    /// CLERK_SECRET_KEY only.
    ///
    /// With the fleet store (CLERK_INCIDENT_REDIS_URL or --redis), every revoked session goes
    /// on the fleet's denylist: the services refuse its tokens even in Grace. Without it,
    /// services in Grace accept a revoked session's expired token until it is older than the
    /// grace window; revoke through a service's admin route instead.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("target")
        .args(["all", "users", "org", "resume"])
        .required(true)
        .multiple(true)
))]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    pub(crate) api: crate::global_args::ApiUrlArg,
    /// Every user of the instance.
    #[arg(long, conflicts_with_all = ["users", "org"])]
    pub(crate) all: bool,
    /// This user (repeatable).
    #[arg(long = "user", value_name = "USER_ID", conflicts_with = "org")]
    pub(crate) users: Vec<String>,
    /// The members of this organisation.
    #[arg(long, value_name = "ORG_ID")]
    pub(crate) org: Option<String>,
    /// Leave this user signed in, such as the on-call admin (repeatable).
    #[arg(long = "exclude-user", value_name = "USER_ID")]
    pub(crate) exclude_users: Vec<String>,
    /// Only sessions created before TIME: RFC 3339 (2026-05-12T08:30:00Z, offsets allowed)
    /// or a duration ago (2h, 1d 6h).
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub(crate) created_before: Option<i64>,
    /// The instance's maximum session lifetime (Dashboard → Sessions); users inactive for
    /// longer, plus a day, are skipped [default: 7d].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub(crate) max_session_lifetime: Option<Duration>,
    /// List and count, revoke nothing (needs no confirmation).
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Record progress in FILE, so that an interrupted run can be resumed with --resume.
    #[arg(long, value_name = "FILE")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Resume the run recorded in --checkpoint FILE; without target flags, its plan is used.
    #[arg(long, requires = "checkpoint")]
    pub(crate) resume: bool,
    /// Users processed at once [default: 8; with --resume, the checkpoint's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: Option<u16>,
    /// Pace requests to REQUESTS/WINDOW (e.g. 1000/10s) instead of the documented limit of
    /// the key's instance (production 1000/10s, development 100/10s); with --resume, the
    /// checkpoint's pace is kept unless this is given.
    #[arg(long, value_name = "REQUESTS/WINDOW", value_parser = parse_rate_limit)]
    pub(crate) rate_limit: Option<(u32, Duration)>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// Append the start and the result of the run to this incident log.
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) incident: Option<PathBuf>,
    /// The fleet whose denylist gets the revoked sessions, so that no instance accepts their
    /// expired tokens in Grace or Open.
    #[command(flatten)]
    pub(crate) fleet: FleetStoreArgs,
}

pub(crate) async fn run(global: &GlobalArgs, command: &SessionsCommand) -> Exit {
    match &command.action {
        SessionsAction::Revoke(args) => revoke(global, args).await,
    }
}

async fn revoke(global: &GlobalArgs, args: &RevokeArgs) -> Exit {
    match prepare(args) {
        Ok(prepared) => execute(global, args, prepared).await,
        Err((exit, problem)) => {
            terminal::problem(&problem);
            exit
        }
    }
}

/// Users processed at once when neither the flag nor a checkpoint says.
const DEFAULT_CONCURRENCY: usize = 8;

/// What a run needs, checked before any request.
struct Prepared {
    api: ClerkApi,
    revoker: SessionRevoker,
    /// Which denylist gets the revoked sessions, if any.
    denied_in: Option<String>,
    log: Option<IncidentLog>,
    command_line: String,
    /// The rate limit and concurrency the run goes at.
    pace: CheckpointPace,
}

/// What a run needs, or why it cannot start: a usage problem (arguments, environment: exit
/// 2, as in every command) or a failure (an unreadable incident log: exit 1).
fn prepare(args: &RevokeArgs) -> Result<Prepared, (Exit, String)> {
    let usage = |problem: String| (Exit::Usage, problem);
    let stored = stored_pace(args).map_err(usage)?;
    let concurrency = args
        .concurrency
        .map(usize::from)
        .or(stored.map(|pace| pace.concurrency))
        .unwrap_or(DEFAULT_CONCURRENCY);
    let plan = plan(args, concurrency).map_err(usage)?;
    let log = args
        .incident
        .as_ref()
        .map(|path| IncidentLog::open(path).map_err(|err| (Exit::Failure, incident::explain(&err))))
        .transpose()?;
    let key = SecretKey::from_env(ENV_SECRET_KEY).ok_or_else(|| {
        usage(format!(
            "{ENV_SECRET_KEY} is not set: export the instance's secret key first"
        ))
    })?;
    let mut builder = ClerkApi::builder(key).base_url(&args.api.api_url);
    let rate_limit = match args.rate_limit {
        Some((requests, window)) => Some(RateLimit::new(requests, window).ok_or_else(|| {
            usage("the rate limit needs at least one request per non-zero window".to_owned())
        })?),
        None => stored.and_then(|pace| pace.rate_limit),
    };
    if let Some(limit) = rate_limit {
        builder = builder.rate_limit(limit);
    }
    // With the fleet: one API budget with the services' and other runs', and the denylist.
    let store = match args.fleet.redis {
        Some(_) => Some(fleet::find(&args.fleet).map_err(usage)?.0),
        None => None,
    };
    if let Some(store) = &store {
        builder = builder.shared_budget(Arc::clone(store) as Arc<dyn SharedBudget>);
    }
    let api = builder
        .build()
        .map_err(|err| usage(terminal::error_chain(&err)))?;
    let command_line = command_line(&plan, args);
    let pace = CheckpointPace::new(plan.concurrency_limit(), api.rate_limit());
    if let Some(stored) = stored {
        say_restored_pace(args, stored);
    }
    let mut revoker = SessionRevoker::new(api.clone(), plan);
    let mut denied_in = None;
    if let Some(store) = store {
        let denier = FleetDenier::new(store);
        denied_in = Some(denier.describe());
        revoker = revoker.deny_with(Arc::new(denier));
    }
    Ok(Prepared {
        command_line,
        revoker,
        denied_in,
        api,
        log,
        pace,
    })
}

/// The pace recorded in the checkpoint of a `--resume`, if any.
fn stored_pace(args: &RevokeArgs) -> Result<Option<CheckpointPace>, String> {
    match (&args.checkpoint, args.resume) {
        (Some(path), true) if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) => {
            SessionRevoker::checkpoint_pace(path).map_err(|err| terminal::error_chain(&err))
        }
        _ => Ok(None),
    }
}

/// Tells which of the checkpoint's pace a resume keeps: the flags not given again.
fn say_restored_pace(args: &RevokeArgs, stored: CheckpointPace) {
    let mut kept = Vec::new();
    if args.rate_limit.is_none()
        && let Some(limit) = stored.rate_limit
    {
        kept.push(format!("--rate-limit {}", rate_limit_words(limit)));
    }
    if args.concurrency.is_none() {
        kept.push(format!("--concurrency {}", stored.concurrency));
    }
    if !kept.is_empty() {
        terminal::notice(&format!(
            "resuming at the checkpoint's pace: {} (give the flag to change it)",
            kept.join(" ")
        ));
    }
}

/// A rate limit as `--rate-limit` takes it: `1000/10s`.
fn rate_limit_words(limit: RateLimit) -> String {
    format!(
        "{}/{}",
        limit.requests(),
        humantime::format_duration(limit.window())
    )
}

/// The plan the flags describe, or the checkpoint's when resuming without target flags.
fn plan(args: &RevokeArgs, concurrency: usize) -> Result<RevocationPlan, String> {
    let target = if args.all {
        Some(RevocationTarget::AllUsers)
    } else if let Some(org) = &args.org {
        Some(RevocationTarget::Organization(org.clone()))
    } else if !args.users.is_empty() {
        Some(RevocationTarget::Users(args.users.clone()))
    } else {
        None
    };
    let existing = args
        .checkpoint
        .as_deref()
        .filter(|path| std::fs::metadata(path).is_ok_and(|m| m.len() > 0));
    match (args.resume, existing) {
        (true, None) => {
            return Err(format!(
                "nothing to resume: {} does not exist or is empty",
                display(args.checkpoint.as_deref())
            ));
        }
        (false, Some(path)) => {
            return Err(format!(
                "{} already records a run: add --resume to continue it, or choose another file",
                path.display()
            ));
        }
        _ => {}
    }
    let Some(target) = target else {
        let path = args
            .checkpoint
            .as_deref()
            .ok_or("--resume needs --checkpoint")?;
        if !args.exclude_users.is_empty()
            || args.created_before.is_some()
            || args.max_session_lifetime.is_some()
            || args.dry_run
        {
            return Err(
                "--resume without --all, --user or --org uses the checkpoint's plan as it is; \
                 give the target too, or drop the other filters"
                    .to_owned(),
            );
        }
        return SessionRevoker::checkpoint_plan(path)
            .map(|plan| plan.concurrency(concurrency))
            .map_err(|err| terminal::error_chain(&err));
    };
    let mut plan = RevocationPlan::new(target)
        .exclude_users(args.exclude_users.iter().cloned())
        .dry_run(args.dry_run)
        .concurrency(concurrency);
    if let Some(cutoff) = args.created_before {
        plan = plan.sessions_created_before(cutoff);
    }
    if let Some(lifetime) = args.max_session_lifetime {
        plan = plan.max_session_lifetime(lifetime);
    }
    Ok(plan)
}

async fn execute(global: &GlobalArgs, args: &RevokeArgs, prepared: Prepared) -> Exit {
    let Prepared {
        api,
        revoker,
        denied_in,
        log,
        command_line,
        pace,
    } = prepared;
    let plan = revoker.plan().clone();
    if denied_in.is_none() && !plan.is_dry_run() {
        terminal::problem(&format!(
            "no fleet store ({ENV_REDIS_URL}): services in Grace will accept these sessions' expired tokens until they are older than the grace window; give the fleet store, or revoke through a service's admin route"
        ));
    }
    // The checks and the confirmation can wait on a slow Clerk or an operator: a signal
    // there stops the command too, before anything is revoked.
    let checked = tokio::select! {
        checked = before_revoking(args, &api, &revoker) => checked,
        signal = crate::interrupt::signal() => {
            terminal::problem(&format!(
                "interrupted by {signal} before revoking anything; nothing revoked"
            ));
            if global.json {
                terminal::json(&json!({ "status": "interrupted", "signal": signal }));
            }
            return Exit::Failure;
        }
    };
    if let Err(problem) = checked {
        terminal::problem(&problem);
        return Exit::Failure;
    }

    let record = |outcome: String| incident::record_action(log.as_ref(), &command_line, outcome);
    // What a run revoked, for the review: a resumable run's parts count once, by the last.
    let counted = |users: u64, sessions: u64, partial: bool| {
        let mut counts = ActionCounts::revocation(users, sessions);
        if let Some(path) = &args.checkpoint {
            // The run's id, not the path: the same whichever path a resume reaches it by.
            let run = SessionRevoker::checkpoint_run_id(path)
                .unwrap_or_else(|_| path.display().to_string());
            counts = counts.resumable(run);
        }
        if partial { counts.partial() } else { counts }
    };
    let record_counted = |outcome: String, counts: ActionCounts| {
        incident::record_counted(log.as_ref(), &command_line, outcome, counts)
    };
    if !record(format!(
        "started{}",
        if plan.is_dry_run() { " (dry run)" } else { "" }
    )) {
        return Exit::Failure;
    }

    let bar = progress_bar(global.json);
    let events_bar = bar.clone();
    // The totals so far, for the line an interruption leaves.
    let so_far = Arc::new(std::sync::Mutex::new(Totals::default()));
    let last = Arc::clone(&so_far);
    let run = revoker.run(args.checkpoint.as_deref(), move |event| {
        if let Progress::UserDone { totals, .. } | Progress::Finished { totals } = &event {
            *last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = *totals;
        }
        show(&events_bar, &event);
    });
    let result = tokio::select! {
        result = run => Ok(result),
        signal = crate::interrupt::signal() => Err(signal),
    };
    bar.finish_and_clear();

    let result = match result {
        Ok(result) => result,
        Err(signal) => {
            // The run is dropped here: no new call starts; the checkpoint holds every
            // completed line, so a resume counts each session once.
            let totals = *so_far
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let hint = match &args.checkpoint {
                Some(path) => format!(
                    "; resume with: clerk-incident sessions revoke --resume --checkpoint {}",
                    path.display()
                ),
                None => "; run the same command again: sessions already revoked count as already inactive".to_owned(),
            };
            let counts = format!(
                "after {} user(s): {} revoked, {} already inactive, {} failed",
                totals.users_processed, totals.revoked, totals.already_inactive, totals.failed
            );
            terminal::problem(&format!("interrupted by {signal} {counts}{hint}"));
            record_counted(
                format!("interrupted by {signal} {counts}{hint}"),
                counted(totals.users_signed_out, totals.revoked, true),
            );
            if global.json {
                terminal::json(&json!({
                    "status": "interrupted",
                    "signal": signal,
                    "progress": totals,
                    "checkpoint": args.checkpoint.as_ref().map(|path| path.display().to_string()),
                    "resume": args.checkpoint.as_ref().map(|path| format!(
                        "clerk-incident sessions revoke --resume --checkpoint {}",
                        path.display()
                    )),
                }));
            }
            return Exit::Failure;
        }
    };
    let (report, error) = match result {
        Ok(report) => (report, None),
        Err(RevocationError::Interrupted { report, cause }) => {
            let problem = format!(
                "revocation stopped early: {}",
                terminal::error_chain(cause.as_ref())
            );
            (*report, Some(problem))
        }
        Err(err) => {
            let mut problem = terminal::error_chain(&err);
            if matches!(err, RevocationError::PlanMismatch { .. }) {
                problem.push_str(
                    " (--resume with --checkpoint alone, without target flags, reuses its plan)",
                );
            }
            terminal::problem(&problem);
            record(format!("failed before revoking: {problem}"));
            return Exit::Failure;
        }
    };

    let recorded = if report.dry_run {
        record(summary(&report, error.as_deref()))
    } else {
        record_counted(
            summary(&report, error.as_deref()),
            counted(report.users_signed_out, report.revoked, error.is_some()),
        )
    };
    if global.json {
        print_json(
            &report,
            error.as_deref(),
            args.checkpoint.as_deref(),
            denied_in.as_deref(),
            pace,
        );
    } else {
        print_text(&report, args.checkpoint.as_deref(), denied_in.as_deref());
    }
    if let Some(problem) = &error {
        let hint = args.checkpoint.as_ref().map_or_else(
            || "; rerun it (already revoked sessions count as already inactive)".to_owned(),
            |path| format!("; resume with --resume --checkpoint {}", path.display()),
        );
        terminal::problem(&format!("{problem}{hint}"));
    }
    if report.sessions_not_denied > 0 {
        terminal::problem(&format!(
            "{} session(s) (revoked by this run or in the last day) could not be added to the fleet's denylist (the store was unreachable): services in Grace may accept their expired tokens. Once the store answers, run the revocation again without a checkpoint (or with a new one): it denies the sessions revoked in the last day again",
            report.sessions_not_denied
        ));
    }
    if report.is_complete() && error.is_none() && recorded && report.sessions_not_denied == 0 {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

/// What is checked before the run: the excluded users and the target exist, and, unless
/// `--yes` or a dry run, the operator confirms the plan's numbers.
async fn before_revoking(
    args: &RevokeArgs,
    api: &ClerkApi,
    revoker: &SessionRevoker,
) -> Result<(), String> {
    let plan = revoker.plan();
    check_excluded_users(api, plan).await?;
    check_target(api, plan).await?;
    if !args.yes && !plan.is_dry_run() {
        let preview = revoker
            .preview()
            .await
            .map_err(|err| format!("cannot size the plan: {}", terminal::error_chain(&err)))?;
        confirm(plan, &preview).await?;
    }
    Ok(())
}

/// Refuses a run whose excluded users do not exist: a mistyped `--exclude-user` would sign
/// the on-call admin out.
async fn check_excluded_users(api: &ClerkApi, plan: &RevocationPlan) -> Result<(), String> {
    for user_id in plan.excluded_users() {
        match api.get_user(user_id).await {
            Ok(_) => {}
            Err(err) if err.is_not_found() => {
                return Err(format!(
                    "--exclude-user {user_id}: Clerk has no such user; nothing revoked"
                ));
            }
            Err(err) => {
                return Err(format!(
                    "cannot check --exclude-user {user_id}: {}",
                    terminal::error_chain(&err)
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a target Clerk does not know: a mistyped `--user` or `--org` would otherwise
/// report "revoked 0 sessions" and exit 0, as if the users had been signed out.
async fn check_target(api: &ClerkApi, plan: &RevocationPlan) -> Result<(), String> {
    let cannot = |what: &str, err: &clerk_incident_core::api::ApiError| {
        format!("cannot check {what}: {}", terminal::error_chain(err))
    };
    match plan.target() {
        RevocationTarget::Users(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            let mut missing = Vec::new();
            for user_id in &ids {
                match api.get_user(user_id).await {
                    Ok(_) => {}
                    Err(err) if err.is_not_found() => missing.push(user_id.clone()),
                    Err(err) => return Err(cannot(&format!("--user {user_id}"), &err)),
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "--user {}: Clerk has no such user; nothing revoked",
                    missing.join(", --user ")
                ))
            }
        }
        RevocationTarget::Organization(id) => {
            let query = UserQuery::new().organization_ids([id.clone()]);
            match api.count_users(&query).await {
                Ok(0) => Err(format!(
                    "--org {id}: Clerk lists no member of this organisation (is the id right?); nothing revoked"
                )),
                Ok(_) => Ok(()),
                Err(err) => Err(cannot(&format!("--org {id}"), &err)),
            }
        }
        // Every user: nothing to mistype.
        _ => Ok(()),
    }
}

/// Shows the plan's numbers on stderr and waits for "yes" on stdin.
async fn confirm(plan: &RevocationPlan, preview: &PlanPreview) -> Result<(), String> {
    terminal::problem(&describe(plan, preview));
    if !std::io::stdin().is_terminal() {
        return Err(
            "refusing to revoke sessions without confirmation: stdin is not a terminal; \
             pass --yes to go ahead"
                .to_owned(),
        );
    }
    terminal::problem("type \"yes\" to revoke these sessions:");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map(|read| (read, line))
    })
    .await
    .map_err(|_| "cannot read the confirmation".to_owned())?
    .map_err(|err| format!("cannot read the confirmation: {err}"))?;
    match answer {
        (0, _) => Err("no confirmation (stdin closed); nothing revoked".to_owned()),
        (_, line) if matches!(line.trim().to_ascii_lowercase().as_str(), "yes" | "y") => Ok(()),
        _ => Err("not confirmed; nothing revoked".to_owned()),
    }
}

/// The plan in words, with its numbers.
fn describe(plan: &RevocationPlan, preview: &PlanPreview) -> String {
    let mut text = String::from("plan: revoke the live sessions of ");
    text.push_str(&target_words(plan.target()));
    if !plan.excluded_users().is_empty() {
        let _ = write!(
            text,
            ", except {} excluded user(s)",
            plan.excluded_users().len()
        );
    }
    if let Some(cutoff) = plan.created_before() {
        let _ = write!(text, ", created before {}", rfc3339(cutoff));
    }
    let _ = write!(
        text,
        "\n  {} user(s) may hold a live session and will be scanned; {} inactive since before {} \
         are skipped without a call",
        preview.candidate_users,
        preview.users_skipped_by_pruning,
        rfc3339(preview.active_since)
    );
    text
}

fn target_words(target: &RevocationTarget) -> String {
    match target {
        RevocationTarget::AllUsers => "all users".to_owned(),
        RevocationTarget::Users(ids) => format!("{} given user(s)", ids.len()),
        RevocationTarget::Organization(org) => format!("the members of {org}"),
        _ => "the target".to_owned(),
    }
}

/// A rate of users per second, with at most one decimal.
fn rate(per_sec: f64) -> String {
    if per_sec.is_finite() {
        format!("{per_sec:.1} users/s")
    } else {
        "- users/s".to_owned()
    }
}

fn progress_bar(json: bool) -> ProgressBar {
    let bar = crate::progress_bar::on_stderr(json, Some(0));
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} users ({rate}, ETA {eta}) {msg}",
    ) {
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = out.write_str(&rate(state.per_sec()));
            },
        ));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn show(bar: &ProgressBar, event: &Progress) {
    match event {
        Progress::Planned {
            preview,
            users_from_checkpoint,
        } => {
            bar.set_length(preview.candidate_users.max(*users_from_checkpoint));
            bar.set_position(*users_from_checkpoint);
            bar.reset_eta();
        }
        Progress::UserDone { totals, .. } | Progress::Finished { totals } => {
            // The candidates were counted at the start; a user active since may add one.
            if bar.length().is_some_and(|len| totals.users_processed > len) {
                bar.set_length(totals.users_processed);
            }
            bar.set_position(totals.users_processed);
            bar.set_message(format!(
                "{} revoked, {} already inactive, {} failed",
                totals.revoked, totals.already_inactive, totals.failed
            ));
        }
        _ => {}
    }
}

/// One line for the incident log.
fn summary(report: &RevocationReport, error: Option<&str>) -> String {
    let verb = if report.dry_run {
        "dry run: would revoke"
    } else {
        "revoked"
    };
    let count = if report.dry_run {
        report.sessions_found
    } else {
        report.revoked
    };
    let mut line = format!(
        "{verb} {count} session(s) of {} user(s) scanned ({} skipped as inactive, {} excluded); \
         {} already inactive, {} failed",
        report.users_scanned,
        report.users_skipped_by_pruning,
        report.users_excluded,
        report.already_inactive,
        report.failed.len()
    );
    if let Some(error) = error {
        let _ = write!(line, "; {error}");
    }
    line
}

fn print_text(report: &RevocationReport, checkpoint: Option<&Path>, denied_in: Option<&str>) {
    terminal::out(format!(
        "{} in {:.1} s.",
        terminal::capitalised(&summary(report, None)),
        report.elapsed.as_secs_f64()
    ));
    if let Some(denylist) = denied_in
        && !report.dry_run
    {
        if report.sessions_not_denied == 0 {
            terminal::out(format!(
                "Revoked sessions denied in {denylist}: refused by every instance, even in Grace."
            ));
        } else {
            terminal::out(format!(
                "{} session(s) NOT denied in {denylist}: the store could not be reached.",
                report.sessions_not_denied
            ));
        }
    }
    if report.sessions_kept > 0 {
        terminal::out(format!(
            "{} live session(s) created after the cutoff were kept.",
            report.sessions_kept
        ));
    }
    terminal::out(format!(
        "{} API request(s), {} retried, {} rate-limited (429).",
        report.api.requests, report.api.retries, report.api.rate_limited
    ));
    if report.users_from_checkpoint > 0 {
        terminal::out(format!(
            "{} user(s) were already done in the checkpoint.",
            report.users_from_checkpoint
        ));
    }
    if !report.failed.is_empty() {
        terminal::out(format!("Failures ({}):", report.failed.len()));
        for failure in report.failed.iter().take(FAILURES_SHOWN) {
            let what = failure.session_id.as_ref().map_or_else(
                || format!("user {} (listing sessions)", failure.user_id),
                |session| format!("session {session} of user {}", failure.user_id),
            );
            terminal::out(format!("  {what}: {}", failure.reason));
        }
        if report.failed.len() > FAILURES_SHOWN {
            terminal::out(format!(
                "  … and {} more (--json lists them all)",
                report.failed.len() - FAILURES_SHOWN
            ));
        }
        match checkpoint {
            Some(path) => terminal::out(format!(
                "Retry them with: clerk-incident sessions revoke --resume --checkpoint {} --yes",
                path.display()
            )),
            None => terminal::out("Retry them by running the same command again."),
        }
    }
}

fn print_json(
    report: &RevocationReport,
    error: Option<&str>,
    checkpoint: Option<&Path>,
    denied_in: Option<&str>,
    pace: CheckpointPace,
) {
    let mut document = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Some(object) = document.as_object_mut() {
        let status = match (error, report.is_complete()) {
            (Some(_), _) => "interrupted",
            (None, true) => "complete",
            (None, false) => "failures",
        };
        object.insert("status".into(), json!(status));
        object.insert("error".into(), json!(error));
        object.insert(
            "checkpoint".into(),
            json!(checkpoint.map(|path| path.display().to_string())),
        );
        object.insert("denied_in".into(), json!(denied_in));
        object.insert(
            "pace".into(),
            json!({
                "rate_limit": pace.rate_limit.map(rate_limit_words),
                "concurrency": pace.concurrency,
            }),
        );
    }
    terminal::json(&document);
}

/// The command as the incident log records it: the plan, never a secret.
fn command_line(plan: &RevocationPlan, args: &RevokeArgs) -> String {
    let mut line = String::from("clerk-incident sessions revoke");
    match plan.target() {
        RevocationTarget::AllUsers => line.push_str(" --all"),
        RevocationTarget::Users(ids) => {
            for id in ids {
                let _ = write!(line, " --user {id}");
            }
        }
        RevocationTarget::Organization(org) => {
            let _ = write!(line, " --org {org}");
        }
        _ => {}
    }
    for id in plan.excluded_users() {
        let _ = write!(line, " --exclude-user {id}");
    }
    if let Some(cutoff) = plan.created_before() {
        let _ = write!(line, " --created-before {}", rfc3339(cutoff));
    }
    if let Some(lifetime) = args.max_session_lifetime {
        let _ = write!(
            line,
            " --max-session-lifetime {}",
            humantime::format_duration(lifetime)
        );
    }
    if plan.is_dry_run() {
        line.push_str(" --dry-run");
    }
    if let Some(path) = &args.checkpoint {
        let _ = write!(line, " --checkpoint {}", path.display());
    }
    if args.resume {
        line.push_str(" --resume");
    }
    if let Some(concurrency) = args.concurrency {
        let _ = write!(line, " --concurrency {concurrency}");
    }
    if let Some((requests, window)) = args.rate_limit {
        let _ = write!(
            line,
            " --rate-limit {requests}/{}",
            humantime::format_duration(window)
        );
    }
    line
}

fn display(path: Option<&Path>) -> String {
    path.map_or_else(|| "the checkpoint".to_owned(), |p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_has_at_most_one_decimal() {
        assert_eq!(rate(12.345_678), "12.3 users/s");
        assert_eq!(rate(0.0), "0.0 users/s");
        assert_eq!(rate(f64::NAN), "- users/s");
    }

    #[test]
    fn the_incident_log_line_holds_the_plan() {
        let plan = RevocationPlan::new(RevocationTarget::AllUsers)
            .exclude_users(["user_admin"])
            .sessions_created_before(1_750_000_000_000)
            .dry_run(true);
        let args = RevokeArgs {
            api: crate::global_args::ApiUrlArg {
                api_url: "https://api.clerk.com".to_owned(),
            },
            all: true,
            users: vec![],
            org: None,
            exclude_users: vec!["user_admin".into()],
            created_before: Some(1_750_000_000_000),
            max_session_lifetime: None,
            dry_run: true,
            checkpoint: Some(PathBuf::from("run.ckpt")),
            resume: false,
            concurrency: None,
            rate_limit: None,
            yes: true,
            incident: None,
            fleet: FleetStoreArgs {
                redis: Some("redis://:password@127.0.0.1:6379".into()),
                fleet: Some("shop".into()),
            },
        };
        assert_eq!(
            command_line(&plan, &args),
            "clerk-incident sessions revoke --all --exclude-user user_admin \
             --created-before 2025-06-15T15:06:40Z --dry-run --checkpoint run.ckpt"
        );
        assert!(!command_line(&plan, &args).contains("password"));
    }
}
