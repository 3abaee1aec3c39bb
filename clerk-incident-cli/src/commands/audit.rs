//! `clerk-incident audit`: what a leaked secret key created or changed between the leak and
//! the rotation, and `audit snapshot`, the baseline to compare against.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::audit::{
    self, AuditOutcome, AuditProgress, AuditReport, AuditWindow, Baseline,
};
use clerk_incident_core::auth::ENV_SECRET_KEY;
use clerk_incident_core::incident::IncidentLog;
use clerk_incident_core::private_file;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::commands::incident;
use crate::exit_code::Exit;
use crate::global_args::{ApiUrlArg, GlobalArgs};
use crate::terminal;
use crate::time_arg::{now_ms, parse_instant, parse_past_instant, rfc3339};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct AuditCommand {
    #[command(subcommand)]
    pub(crate) action: Option<AuditAction>,
    #[command(flatten)]
    pub(crate) audit: AuditArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditAction {
    /// Record the baseline later audits compare against: every user's id with digests of
    /// its metadata and sign-in details, admin memberships, organisations, machines, API
    /// keys, redirect URLs, domains, allow/block lists, JWT templates, OAuth applications,
    /// SAML connections and the instance settings. Ids and digests only, no metadata or
    /// secrets; the file is readable by its owner only. Take one regularly, before any
    /// incident.
    Snapshot(SnapshotArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub(crate) api: ApiUrlArg,
    /// The start of the window: when the key may first have leaked. RFC 3339
    /// (2026-05-12T08:30:00Z, offsets allowed) or a duration ago (6h, 2d).
    #[arg(long, value_name = "TIME", value_parser = parse_past_instant, required = true)]
    pub(crate) since: Option<i64>,
    /// The end of the window: when the key was rotated [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub(crate) until: Option<i64>,
    /// A baseline from `clerk-incident audit snapshot`, taken before the leak: finds what
    /// timestamps cannot (domains added, entries removed, users deleted, backdated users,
    /// which fields of a user changed).
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Append the audit's findings to this incident log (the review's "What the leaked key
    /// changed").
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) incident: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    pub(crate) api: ApiUrlArg,
    /// Where to write the baseline (JSON, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

pub(crate) async fn run(global: &GlobalArgs, command: &AuditCommand) -> Exit {
    match &command.action {
        Some(AuditAction::Snapshot(args)) => snapshot(global, args).await,
        None => audit_window(global, &command.audit).await,
    }
}

/// The client of the key in the environment.
fn api(api_url: &str) -> Result<ClerkApi, (Exit, String)> {
    let key = SecretKey::from_env(ENV_SECRET_KEY).ok_or_else(|| {
        (
            Exit::Usage,
            format!(
                "{ENV_SECRET_KEY} is not set: export the instance's secret key (after a rotation, the new one)"
            ),
        )
    })?;
    ClerkApi::builder(key)
        .base_url(api_url)
        .build()
        .map_err(|err| (Exit::Usage, terminal::error_chain(&err)))
}

fn read_baseline(path: &Path) -> Result<Baseline, (Exit, String)> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        (
            Exit::Usage,
            format!("cannot read the baseline {}: {err}", path.display()),
        )
    })?;
    Baseline::from_json(&text).map_err(|err| (Exit::Usage, format!("{}: {err}", path.display())))
}

/// What `--json` prints: the outcome, then the report.
#[derive(Serialize)]
struct JsonAudit<'a> {
    status: AuditOutcome,
    instance_id: &'a str,
    #[serde(flatten)]
    report: &'a AuditReport,
}

async fn audit_window(global: &GlobalArgs, args: &AuditArgs) -> Exit {
    let prepared = (|| {
        let api = api(&args.api.api_url)?;
        let since = args.since.unwrap_or_default();
        let until = args.until.unwrap_or_else(now_ms);
        if until <= since {
            return Err((
                Exit::Usage,
                format!(
                    "--until {} is not after --since {}: the window would hold nothing",
                    rfc3339(until),
                    rfc3339(since)
                ),
            ));
        }
        let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
        let log = args
            .incident
            .as_ref()
            .map(|path| {
                IncidentLog::open(path).map_err(|err| (Exit::Failure, incident::explain(&err)))
            })
            .transpose()?;
        Ok((
            api,
            AuditWindow {
                since_ms: since,
                until_ms: until,
            },
            baseline,
            log,
        ))
    })();
    let (api, window, baseline, log) = match prepared {
        Ok(prepared) => prepared,
        Err((exit, problem)) => {
            terminal::problem(&problem);
            return exit;
        }
    };
    let instance = match api.instance().await {
        Ok(instance) => instance,
        Err(err) => {
            let mut problem = format!(
                "cannot reach the Backend API: {}",
                terminal::error_chain(&err)
            );
            if err.status() == Some(401) {
                problem.push_str(" (is CLERK_SECRET_KEY the instance's current secret key?)");
            }
            terminal::problem(&format!("{problem}; nothing was audited"));
            return Exit::Failure;
        }
    };
    if let Some(baseline) = &baseline
        && baseline.instance_id != instance.id
    {
        terminal::problem(&format!(
            "the baseline is of instance {}, the key of {}: take the baseline of this instance",
            baseline.instance_id, instance.id
        ));
        return Exit::Usage;
    }
    if let Some(baseline) = &baseline
        && baseline.taken_at_ms > window.since_ms
    {
        terminal::notice(&format!(
            "note: the baseline was taken at {}, after --since: it may already hold the attacker's changes, so it is used to find more, never to rule anything out; use an older one if you have it",
            rfc3339(baseline.taken_at_ms)
        ));
    }

    let bar = crate::progress_bar::on_stderr(global.json, None);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} lists {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let shown = bar.clone();
    let mut progress = move |event: AuditProgress| show(&shown, event);
    let report = audit::audit(&api, window, baseline.as_ref(), &mut progress).await;
    bar.finish_and_clear();

    let recorded = match &log {
        Some(log) => match log.append(report.incident_entry()) {
            Ok(_) => true,
            Err(err) => {
                terminal::problem(&incident::explain(&err));
                false
            }
        },
        None => true,
    };
    if global.json {
        terminal::json(&JsonAudit {
            status: report.outcome(),
            instance_id: &instance.id,
            report: &report,
        });
    } else {
        print_text(&report, &instance.id);
    }
    if !recorded {
        return Exit::Failure;
    }
    match report.outcome() {
        AuditOutcome::Clean => Exit::Ok,
        AuditOutcome::Findings => Exit::AuditFindings,
        AuditOutcome::Incomplete => Exit::AuditIncomplete,
    }
}

fn show(bar: &ProgressBar, event: AuditProgress) {
    match event {
        AuditProgress::Check { name, index, of } => {
            bar.set_length(of as u64);
            bar.set_position(index as u64);
            bar.set_message(name.to_owned());
        }
        AuditProgress::Users { done, of } => {
            bar.set_message(format!("sessions: {done}/{of} active users"));
        }
        _ => {}
    }
}

fn print_text(report: &AuditReport, instance_id: &str) {
    let baseline = report.baseline_taken_at_ms.map_or_else(
        || " (no baseline)".to_owned(),
        |at| format!(" (baseline of {})", rfc3339(at)),
    );
    terminal::out(format!(
        "Key-compromise audit of {instance_id}, {}{baseline}",
        report.window
    ));
    if report.findings.is_empty() && report.is_complete() {
        terminal::out("Nothing the Backend API lists was created or changed in the window.");
    } else if report.findings.is_empty() {
        terminal::out(
            "Nothing found in the lists that could be read; the others were NOT checked (below).",
        );
    } else {
        terminal::out(format!(
            "{} finding(s), oldest first:",
            report.findings.len()
        ));
        for finding in &report.findings {
            let at = finding
                .at_ms
                .map_or_else(|| "(time unknown)      ".to_owned(), rfc3339);
            terminal::out(format!("  {at}  {}  {}", finding.kind, finding.id));
            terminal::out(format!("      {}", finding.what));
            terminal::out(format!("      why: {}", finding.why));
            terminal::out(format!("      undo: {}", finding.undo));
        }
    }
    let lists = report.checked.len();
    terminal::out(format!(
        "Read {lists} list(s) in {} request(s).",
        report.calls
    ));
    if !report.not_checked.is_empty() {
        terminal::out("NOT CHECKED, so the audit is incomplete (run it again):");
        for check in &report.not_checked {
            terminal::out(format!("  {}: {}", check.check, check.error));
        }
    }
    terminal::out("What no list shows:");
    for spot in &report.blind_spots {
        terminal::out(format!("  - {spot}"));
    }
    if !report.findings.is_empty() {
        terminal::out(
            "Next: undo what the attacker made (the undo lines above), then revoke every session: clerk-incident sessions revoke --all",
        );
    }
}

/// `FILE.partial` beside `FILE`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

async fn snapshot(global: &GlobalArgs, args: &SnapshotArgs) -> Exit {
    let api = match api(&args.api.api_url) {
        Ok(api) => api,
        Err((exit, problem)) => {
            terminal::problem(&problem);
            return exit;
        }
    };
    if args.out.exists() && !args.force {
        terminal::problem(&format!(
            "{} exists: pick another file, or replace it with --force",
            args.out.display()
        ));
        return Exit::Usage;
    }
    // Written beside the target and renamed over it once complete, so that a failed
    // snapshot (a 429, a 5xx) never costs the last good baseline.
    let partial = partial_path(&args.out);
    let file = private_file::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&partial)
        .and_then(|file| {
            private_file::restrict(&file)?;
            Ok(file)
        });
    let mut file = match file {
        Ok(file) => file,
        Err(err) => {
            terminal::problem(&format!("cannot write {}: {err}", partial.display()));
            return Exit::Failure;
        }
    };
    let bar = crate::progress_bar::on_stderr(global.json, None);
    bar.set_message("reading every list for the baseline…");
    bar.enable_steady_tick(Duration::from_millis(200));
    let taken_at = now_ms();
    let result = audit::snapshot(&api, taken_at).await;
    bar.finish_and_clear();
    let baseline = match result {
        Ok(baseline) => baseline,
        Err(err) => {
            drop(file);
            let _ = std::fs::remove_file(&partial);
            terminal::problem(&format!(
                "cannot take the baseline: {}; nothing was written",
                terminal::error_chain(&err)
            ));
            return Exit::Failure;
        }
    };
    let written = file
        .write_all(baseline.to_json().as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&partial, &args.out));
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        terminal::problem(&format!("cannot write {}: {err}", args.out.display()));
        return Exit::Failure;
    }
    if global.json {
        terminal::json(&serde_json::json!({
            "status": "ok",
            "out": args.out,
            "instance_id": baseline.instance_id,
            "taken_at": rfc3339(baseline.taken_at_ms),
            "users": baseline.users.len(),
            "objects": baseline.len(),
        }));
    } else {
        terminal::out(format!(
            "Baseline of {} taken at {}: {} user(s), {} object(s) in all, written to {} (readable by you only).",
            baseline.instance_id,
            rfc3339(baseline.taken_at_ms),
            baseline.users.len(),
            baseline.len(),
            args.out.display()
        ));
        terminal::out(format!(
            "Audit against it with: clerk-incident audit --since <leak> --baseline {}",
            args.out.display()
        ));
    }
    Exit::Ok
}
