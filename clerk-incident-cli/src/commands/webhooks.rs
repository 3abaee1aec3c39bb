//! `clerk-incident webhooks replay`: runbook step 5, re-deliver the user events an
//! application missed, without Svix access.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, Subcommand};
use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::auth::ENV_SECRET_KEY;
use clerk_incident_core::incident::{ActionCounts, IncidentLog};
use clerk_incident_core::webhooks::{
    ENV_WEBHOOK_SIGNING_SECRET, KnownIds, REPLAY_TYPES, ReplayError, ReplayOptions, ReplayProgress,
    ReplayReport, WebhookReplayer, WebhookSecret,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::commands::incident;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;
use crate::time_arg::{parse_past_instant, rfc3339};

/// Events or failures listed in the text output; `--json` lists them all.
const LISTED: usize = 20;

#[derive(Debug, Args)]
pub(crate) struct WebhooksCommand {
    #[command(subcommand)]
    pub(crate) action: WebhooksAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksAction {
    /// Re-deliver the user events an application missed: list the users Clerk shows as
    /// created or updated since --since, compare them with --known-ids, find known users
    /// Clerk no longer has, and POST signed user.created / user.updated / user.deleted events
    /// in Clerk's envelope to --target, with retries. Exit 0 when every event was delivered.
    ///
    /// Reads the secret key from CLERK_SECRET_KEY and the endpoint's signing secret from
    /// CLERK_WEBHOOK_SIGNING_SECRET. Message ids are the same for the same change in every
    /// run, so an endpoint that dedupes by svix-id applies a second replay as nothing.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    pub(crate) api: crate::global_args::ApiUrlArg,
    /// The start of the window: users created or updated since then. RFC 3339
    /// (2026-05-12T08:30:00Z, offsets allowed) or a duration ago (2h, 1d 6h); take it from
    /// before the incident began.
    #[arg(long, value_name = "TIME", value_parser = parse_past_instant)]
    pub(crate) since: i64,
    /// The application's own webhook endpoint, such as
    /// `https://app.example.com/api/webhooks/clerk`.
    #[arg(long, value_name = "URL")]
    pub(crate) target: String,
    /// The ids the application holds, one per line, optionally with their updated_at in Unix
    /// ms (`user_…,1716883200000`), as exported from its users table. Enables user.deleted for
    /// ids Clerk no longer has and skips users the application already holds at Clerk's
    /// version. Without it, no deletion can be found.
    #[arg(long, value_name = "FILE")]
    pub(crate) known_ids: Option<PathBuf>,
    /// Only these event types (comma-separated or repeated) [default: all three].
    #[arg(long, value_name = "TYPE", value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(REPLAY_TYPES))]
    pub(crate) types: Vec<String>,
    /// Decide and list the events, send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Deliveries in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrency: u16,
    /// Append the start and the result of the replay to this incident log.
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) incident: Option<PathBuf>,
}

pub(crate) async fn run(global: &GlobalArgs, command: &WebhooksCommand) -> Exit {
    match &command.action {
        WebhooksAction::Replay(args) => replay(global, args).await,
    }
}

/// What a replay needs, checked before any request.
struct Prepared {
    replayer: WebhookReplayer,
    options: ReplayOptions,
    log: Option<IncidentLog>,
}

async fn replay(global: &GlobalArgs, args: &ReplayArgs) -> Exit {
    let Prepared {
        replayer,
        options,
        log,
    } = match prepare(args) {
        Ok(prepared) => prepared,
        Err((exit, problem)) => {
            terminal::problem(&problem);
            return exit;
        }
    };
    let command_line = command_line(args);
    let record = |outcome: String| incident::record_action(log.as_ref(), &command_line, outcome);
    if !record(format!(
        "started{}",
        if args.dry_run { " (dry run)" } else { "" }
    )) {
        return Exit::Failure;
    }

    let bar = progress_bar(global.json);
    let events_bar = bar.clone();
    // Delivered and failed so far, for the line an interruption leaves.
    let so_far = Arc::new(Mutex::new((0_u64, 0_u64)));
    let last = Arc::clone(&so_far);
    let run = replayer.run(&options, move |event| {
        if let ReplayProgress::Sent {
            delivered, failed, ..
        } = &event
        {
            *last.lock().unwrap_or_else(PoisonError::into_inner) = (*delivered, *failed);
        }
        show(&events_bar, &event);
    });
    let result = tokio::select! {
        result = run => Ok(result),
        signal = crate::interrupt::signal() => Err(signal),
    };
    bar.finish_and_clear();

    let report = match result {
        Err(signal) => {
            let (delivered, failed) = *so_far.lock().unwrap_or_else(PoisonError::into_inner);
            let problem = format!(
                "interrupted by {signal} after {delivered} event(s) delivered, {failed} failed; \
                 run the same command again: delivered events carry the same message ids and \
                 are deduplicated"
            );
            terminal::problem(&problem);
            incident::record_counted(
                log.as_ref(),
                &command_line,
                problem,
                ActionCounts::replay(delivered, failed)
                    .resumable(replay_run(args))
                    .partial(),
            );
            if global.json {
                terminal::json(&serde_json::json!({
                    "status": "interrupted",
                    "signal": signal,
                    "delivered": delivered,
                    "failed": failed,
                }));
            }
            return Exit::Failure;
        }
        Ok(Err(err)) => {
            let problem = explain(&err);
            terminal::problem(&problem);
            record(format!("failed before sending: {problem}"));
            return Exit::Failure;
        }
        Ok(Ok(report)) => report,
    };
    let recorded = if report.dry_run {
        record(report.summary())
    } else {
        incident::record_counted(
            log.as_ref(),
            &command_line,
            report.summary(),
            ActionCounts::replay(report.delivered.total(), report.failed.len() as u64)
                .resumable(replay_run(args)),
        )
    };
    if global.json {
        terminal::json(&report);
    } else {
        print_text(&report, args);
    }
    if report.is_complete() && recorded {
        Exit::Ok
    } else {
        Exit::Failure
    }
}

fn prepare(args: &ReplayArgs) -> Result<Prepared, (Exit, String)> {
    let usage = |problem: String| (Exit::Usage, problem);
    let key = SecretKey::from_env(ENV_SECRET_KEY).ok_or_else(|| {
        usage(format!(
            "{ENV_SECRET_KEY} is not set: export the instance's secret key first"
        ))
    })?;
    let secret = match WebhookSecret::from_env(ENV_WEBHOOK_SIGNING_SECRET) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return Err(usage(format!(
                "{ENV_WEBHOOK_SIGNING_SECRET} is not set: export the signing secret of the \
                 endpoint (Dashboard → Webhooks → the endpoint → Signing Secret)"
            )));
        }
        Err(err) => return Err(usage(format!("{ENV_WEBHOOK_SIGNING_SECRET}: {err}"))),
    };
    let mut options = ReplayOptions::since(args.since)
        .types(&args.types)
        .map_err(|err| usage(err.to_string()))?
        .dry_run(args.dry_run)
        .concurrency(usize::from(args.concurrency));
    if let Some(path) = &args.known_ids {
        let known =
            KnownIds::read(path).map_err(|err| (Exit::Failure, terminal::error_chain(&err)))?;
        options = options.known_ids(known);
    }
    let log = args
        .incident
        .as_ref()
        .map(|path| IncidentLog::open(path).map_err(|err| (Exit::Failure, incident::explain(&err))))
        .transpose()?;
    let api = ClerkApi::builder(key)
        .base_url(&args.api.api_url)
        .build()
        .map_err(|err| (Exit::Failure, terminal::error_chain(&err)))?;
    let replayer = WebhookReplayer::new(api, &args.target, secret).map_err(|err| match err {
        ReplayError::Config(problem) => usage(problem),
        other => (Exit::Failure, terminal::error_chain(&other)),
    })?;
    Ok(Prepared {
        replayer,
        options,
        log,
    })
}

/// A fatal error in words, with the usual fix.
fn explain(err: &ReplayError) -> String {
    let mut problem = terminal::error_chain(err);
    if let ReplayError::Api(api) = err
        && api.status() == Some(401)
    {
        problem.push_str(" (is CLERK_SECRET_KEY the instance's current secret key?)");
    }
    problem.push_str("; nothing was sent");
    problem
}

/// What the incident log keys replays by: the endpoint. Replays to it re-send overlapping
/// windows (a relative `--since` moves with the clock), so the review counts them as the
/// largest one rather than their sum.
fn replay_run(args: &ReplayArgs) -> String {
    format!("webhooks replay to {}", target_for_log(&args.target))
}

/// The command as the incident log records it: no secret, and the target without its query
/// or user info (either could hold a token).
fn command_line(args: &ReplayArgs) -> String {
    let mut line = format!(
        "clerk-incident webhooks replay --since {} --target {}",
        rfc3339(args.since),
        target_for_log(&args.target)
    );
    if let Some(path) = &args.known_ids {
        let _ = write!(line, " --known-ids {}", path.display());
    }
    if !args.types.is_empty() {
        let _ = write!(line, " --types {}", args.types.join(","));
    }
    if args.dry_run {
        line.push_str(" --dry-run");
    }
    line
}

/// `scheme://host[:port]/path` of a URL, dropping user info, query and fragment.
fn target_for_log(target: &str) -> String {
    match target.trim().parse::<http::Uri>() {
        Ok(uri) => match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => {
                let host = authority
                    .as_str()
                    .rsplit_once('@')
                    .map_or(authority.as_str(), |(_, host)| host);
                format!("{scheme}://{host}{}", uri.path())
            }
            _ => "(invalid URL)".to_owned(),
        },
        Err(_) => "(invalid URL)".to_owned(),
    }
}

fn progress_bar(json: bool) -> ProgressBar {
    let bar = crate::progress_bar::on_stderr(json, None);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
        bar.set_style(style);
    }
    bar.set_message("listing the users Clerk changed…");
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn show(bar: &ProgressBar, event: &ReplayProgress) {
    match event {
        ReplayProgress::Listed { changed_users } => {
            bar.set_message(format!(
                "{changed_users} user(s) changed; checking known ids…"
            ));
        }
        ReplayProgress::Checked { checked, gone } => {
            bar.set_message(format!("{checked} known id(s) checked, {gone} gone"));
        }
        ReplayProgress::Planned { planned, .. } => {
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} events ({per_sec}, ETA {eta}) {msg}",
            ) {
                bar.set_style(style);
            }
            bar.set_length(planned.total());
            bar.set_message("");
            bar.reset_eta();
        }
        ReplayProgress::Sent {
            delivered, failed, ..
        } => {
            bar.set_position(delivered + failed);
            bar.set_message(format!("{failed} failed"));
        }
        _ => {}
    }
}

fn print_text(report: &ReplayReport, args: &ReplayArgs) {
    terminal::out(format!(
        "Replay of the user changes since {} to {}:",
        rfc3339(report.since_ms),
        target_for_log(&report.target)
    ));
    let known = report.known_ids.map_or_else(
        || "no --known-ids: new users count as created, deletions cannot be found".to_owned(),
        |known| format!("{known} known id(s), {} no longer in Clerk", report.gone),
    );
    terminal::out(format!(
        "  Clerk lists {} user(s) changed; {known}.",
        report.changed_users
    ));
    if report.dry_run {
        for event in report.events.iter().take(LISTED) {
            let at = event
                .updated_at
                .map_or_else(String::new, |at| format!(" (updated {})", rfc3339(at)));
            terminal::out(format!(
                "  would send {} {}{at}",
                event.event_type, event.user_id
            ));
        }
        if report.events.len() > LISTED {
            terminal::out(format!(
                "  … and {} more (--json lists them all)",
                report.events.len() - LISTED
            ));
        }
    }
    terminal::out(format!(
        "  {} in {:.1} s ({} Backend API request(s)).",
        terminal::capitalised(&report.summary()),
        Duration::from_millis(report.elapsed_ms).as_secs_f64(),
        report.api_requests
    ));
    if report.skipped.unchanged > 0 {
        terminal::out(format!(
            "  {} known user(s) already at Clerk's version were skipped.",
            report.skipped.unchanged
        ));
    }
    for failure in report.failed.iter().take(LISTED) {
        terminal::out(format!(
            "  failed: {} {} ({}): {}",
            failure.event_type, failure.user_id, failure.message_id, failure.reason
        ));
    }
    if report.failed.len() > LISTED {
        terminal::out(format!(
            "  … and {} more failures (--json lists them all)",
            report.failed.len() - LISTED
        ));
    }
    if !report.failed.is_empty() {
        terminal::out(
            "  Fix the endpoint and run the same command again: delivered events are deduplicated.",
        );
    }
    if args.known_ids.is_none() && !report.dry_run {
        terminal::out(
            "  Tip: export the application's user ids to a file and pass --known-ids to find deleted users.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_target_drops_credentials_and_queries() {
        assert_eq!(
            target_for_log("https://ops:hunter2@app.example.com:8443/hooks/clerk?token=abc#x"),
            "https://app.example.com:8443/hooks/clerk"
        );
        assert_eq!(target_for_log("not a url"), "(invalid URL)");
    }

    #[test]
    fn the_incident_log_line_holds_the_options() {
        let args = ReplayArgs {
            api: crate::global_args::ApiUrlArg {
                api_url: "https://api.clerk.com".to_owned(),
            },
            since: 1_750_000_000_000,
            target: "http://127.0.0.1:3000/api/webhooks/clerk?k=v".to_owned(),
            known_ids: Some(PathBuf::from("ids.txt")),
            types: vec!["user.created".to_owned(), "user.deleted".to_owned()],
            dry_run: true,
            concurrency: 4,
            incident: None,
        };
        assert_eq!(
            command_line(&args),
            "clerk-incident webhooks replay --since 2025-06-15T15:06:40Z \
             --target http://127.0.0.1:3000/api/webhooks/clerk --known-ids ids.txt \
             --types user.created,user.deleted --dry-run"
        );
    }
}
