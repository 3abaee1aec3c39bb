//! The command line, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit_code;
use crate::global_args::GlobalArgs;
use crate::rate_limit_arg::parse_rate_limit;

/// Triage, repairs and drills for teams running on Clerk.
///
/// The secret key is read from CLERK_SECRET_KEY only, never from a flag, so that it stays out
/// of shell history and process lists.
#[derive(Debug, Parser)]
#[command(name = "clerk-incident", version, after_help = exit_code::HELP)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Runbook step 1: probe Clerk's status page, the Backend API (with CLERK_SECRET_KEY),
    /// the JWKS and the app's /api/clerk-health at once, and say what is wrong: category,
    /// severity, evidence and the commands to run next. Exit 0 when healthy, 10-14 otherwise.
    #[command(after_help = exit_code::HELP)]
    Triage(TriageArgs),
    /// One line from Clerk's status page; exit 0 when operational, 3/4/5 otherwise.
    Status(StatusArgs),
    /// Serve the simulated Clerk in the foreground and print the exports that point the other
    /// commands and the example services at it; `sim token` mints a session token from a
    /// running sim.
    Sim(SimCommand),
    /// Rehearse the runbook against an embedded simulated Clerk, phase by phase.
    Drill(DrillArgs),
    /// Keep the incident's timeline in a log file: start it, add notes, resolve it, show it.
    ///
    /// The log holds one JSON entry per line. Commands given the same --incident FILE append
    /// what they did, and `report` renders the post-incident review from it. Entries end up
    /// in a review document: never put secrets (keys, tokens) in notes.
    Incident(IncidentCommand),
    /// Render the post-incident review of an incident log as Markdown: date, duration,
    /// severity, category, timeline, root cause, impact and action items, with a `_TODO:_`
    /// prompt wherever the log is silent.
    Report(ReportArgs),
    /// Runbook step 2, for a fleet: switch every instance of the service to grace, open or
    /// enforce at once, through the fleet store (CLERK_INCIDENT_REDIS_URL), wait until each
    /// live instance acknowledges it, and say who did. Every bypass has an absolute end at
    /// most 24 h ahead. Exit 0 when every live instance acknowledged, 1 otherwise.
    Bypass(crate::commands::fleet::BypassArgs),
    /// The fleet's instances (`fleet status`) and the recorded mode changes (`fleet history`).
    Fleet(crate::commands::fleet::FleetCommand),
    /// Runbook step 4: revoke sessions in bulk (`sessions revoke --help`).
    Sessions(crate::commands::sessions::SessionsCommand),
    /// Runbook step 3: prove a secret-key rotation. `verify-new` checks CLERK_NEW_SECRET_KEY
    /// against CLERK_SECRET_KEY, `verify-old-revoked` checks Clerk now rejects the old key,
    /// `checklist` prints the procedure. Keys are read from the environment only.
    Keys(crate::commands::keys::KeysCommand),
    /// Runbook step 3, key compromise: list what a leaked secret key created or changed
    /// between --since and --until (users, admin memberships, impersonation sessions, API
    /// keys, machines, redirect URLs, domains, JWT templates, ...), each with why it matters
    /// and the command that undoes it, and what no list can show. `audit snapshot` records
    /// the baseline to compare against. Exit 0 when nothing was found, 20 with findings, 21
    /// when a list could not be read.
    #[command(after_help = exit_code::HELP)]
    Audit(crate::commands::audit::AuditCommand),
    /// Runbook step 5: re-deliver the user events the app missed (`webhooks replay --help`):
    /// signed user.created / user.updated / user.deleted to the app's own endpoint, from the
    /// Backend API alone, without Svix access.
    Webhooks(crate::commands::webhooks::WebhooksCommand),
}

#[derive(Debug, Args)]
pub(crate) struct TriageArgs {
    #[command(flatten)]
    pub(crate) api: crate::global_args::ApiUrlArg,
    #[command(flatten)]
    pub(crate) status: crate::global_args::StatusUrlArg,
    /// The app's base URL: its /api/clerk-health (served by the clerk-incident middleware) is
    /// probed too.
    #[arg(long, value_name = "URL")]
    pub(crate) app_url: Option<String>,
    /// What users or the operator report (repeatable).
    #[arg(long = "symptom", value_enum, value_name = "SYMPTOM")]
    pub(crate) symptoms: Vec<SymptomArg>,
    /// Time limit of each probe; they run at once, so this bounds the whole triage.
    #[arg(long, default_value = "5s", value_parser = parse_timeout)]
    pub(crate) timeout: Duration,
    /// The `kid` the app's session tokens carry (the instance id until a signing key
    /// rotation); the JWKS must hold it.
    #[arg(long, value_name = "KID")]
    pub(crate) expected_kid: Option<String>,
    /// The Frontend API JWKS URL (`https://<frontend api>/.well-known/jwks.json`); without it,
    /// the Backend API's /v1/jwks is probed when CLERK_SECRET_KEY is set.
    #[arg(long, env = "CLERK_JWKS_URL", value_name = "URL")]
    pub(crate) jwks_url: Option<String>,
    /// Append the result to this incident log (see `clerk-incident incident start`).
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) incident: Option<std::path::PathBuf>,
    /// Leave a probe out on purpose (repeatable, or comma-separated). A probe that cannot run
    /// (no CLERK_SECRET_KEY, no --app-url) is "not checked" and caps the verdict at unknown
    /// (exit 14); one left out with --skip is shown as skipped and does not.
    #[arg(long, value_enum, value_name = "PROBE", value_delimiter = ',')]
    pub(crate) skip: Vec<ProbeArg>,
}

/// `--skip` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProbeArg {
    /// Clerk's status page.
    StatusPage,
    /// The Backend API (`GET /v1/users?limit=1` with CLERK_SECRET_KEY).
    Api,
    /// The JWKS.
    Jwks,
    /// The app's /api/clerk-health.
    App,
}

/// `--symptom` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SymptomArg {
    /// Someone reached what they should not have: a key may be in the wrong hands.
    UnauthorizedAccess,
    /// Signed-in users are logged out at random.
    RandomLogouts,
    /// Users who exist in Clerk are missing from the app's database.
    UsersMissing,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) status: crate::global_args::StatusUrlArg,
    /// How long to wait for the status page (above zero).
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub(crate) timeout: Duration,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SimCommand {
    #[command(subcommand)]
    pub(crate) action: Option<SimAction>,
    #[command(flatten)]
    pub(crate) serve: SimArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SimAction {
    /// Mint a session token for a seeded user of the sim at --api-url (CLERK_API_URL) and
    /// print it, so that the example services can be curled.
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    pub(crate) api: crate::global_args::ApiUrlArg,
    /// The user (default: the seeded organisation admin).
    #[arg(long, conflicts_with = "session")]
    pub(crate) user: Option<String>,
    /// A specific session instead of the user's newest active one.
    #[arg(long)]
    pub(crate) session: Option<String>,
    /// Token lifetime (Clerk's are 60 s; longer is handier for curl).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub(crate) lifetime: Duration,
    /// Version 2 claims (organisation in `o`, features, plan).
    #[arg(long)]
    pub(crate) v2: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) bind: SocketAddr,
    /// Seeded users.
    #[arg(long, default_value_t = 50)]
    pub(crate) users: usize,
    /// Seeded sessions.
    #[arg(long, default_value_t = 80)]
    pub(crate) sessions: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Start in an outage.
    #[arg(long, value_enum)]
    pub(crate) outage: Option<OutageArg>,
    /// Latency added to every API answer.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub(crate) latency: Option<Duration>,
    /// Fraction of API requests answered 500 (0.0 to 1.0).
    #[arg(long, value_parser = parse_fraction)]
    pub(crate) error_rate: Option<f64>,
    /// Rate limit as REQUESTS/WINDOW, e.g. 100/10s; over it the sim answers 429.
    #[arg(long, value_parser = parse_rate_limit)]
    pub(crate) rate_limit: Option<(u32, Duration)>,
    /// The format the status page is served in: incident.io's widget at /proxy/HOST, as
    /// status.clerk.com serves it, or Atlassian Statuspage's /api/v2/summary.json. Switch it
    /// while the sim runs with PUT /_sim/status-page.
    #[arg(long, value_enum, default_value = "incident-io", value_name = "FORMAT")]
    pub(crate) status_page_format: StatusPageFormatArg,
    /// Deliver the sim's user events (user.created, user.updated, user.deleted) to this
    /// endpoint, signed like Svix with CLERK_WEBHOOK_SIGNING_SECRET.
    #[arg(long, value_name = "URL")]
    pub(crate) webhook_url: Option<String>,
}

/// `--status-page-format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusPageFormatArg {
    /// incident.io's public widget API, as status.clerk.com.
    IncidentIo,
    /// Atlassian Statuspage's JSON API.
    Statuspage,
}

/// `--outage` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutageArg {
    /// Answer 503 with Clerk's error body.
    Unavailable,
    /// Accept connections and never answer.
    Hang,
}

#[derive(Debug, Args)]
pub(crate) struct DrillArgs {
    /// Seeded users in the drill's sim (at least 20: fewer leave some phases nothing to act on).
    #[arg(long, default_value_t = 200, value_parser = at_least::<MIN_DRILL_USERS>)]
    pub(crate) users: usize,
    /// Seeded sessions in the drill's sim (at least 5).
    #[arg(long, default_value_t = 300, value_parser = at_least::<MIN_DRILL_SESSIONS>)]
    pub(crate) sessions: usize,
    /// Keep the drill's incident log here (default: a new folder in the temp directory).
    #[arg(long, value_name = "FILE")]
    pub(crate) incident: Option<PathBuf>,
    /// Write the drill's post-incident report here (default: beside the incident log).
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// Run the fleet phase on this Redis (redis://…) instead of in memory, under a fleet name
    /// of the drill's own; CLERK_INCIDENT_REDIS_URL is never read here, so that a drill
    /// cannot switch a real fleet.
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,
}

/// `clerk-incident incident …`.
#[derive(Debug, Args)]
pub(crate) struct IncidentCommand {
    #[command(subcommand)]
    pub(crate) action: IncidentAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum IncidentAction {
    /// Create the incident log with its first entry; refuses a file that is not empty.
    Start(IncidentStartArgs),
    /// Add a note to the incident log.
    Note(IncidentNoteArgs),
    /// Re-declare the incident's category, with the reason (recorded; the review uses the
    /// declared category, and shows a triage that disagrees beside it).
    Category(IncidentCategoryArgs),
    /// Record that the incident is over, with a summary and, when known, the root cause.
    Resolve(IncidentResolveArgs),
    /// Print the timeline, one entry per line (--json: the entries as JSON).
    Show(IncidentLogArgs),
}

/// The incident log a command reads or writes.
#[derive(Debug, Args)]
pub(crate) struct IncidentLogArgs {
    /// The incident log: a JSON-lines file, one per incident.
    #[arg(long = "incident", value_name = "FILE")]
    pub(crate) path: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct IncidentStartArgs {
    #[command(flatten)]
    pub(crate) log: IncidentLogArgs,
    /// A short title, such as "Sign-in failing: Clerk API answers 503".
    #[arg(long, value_parser = non_empty_title)]
    pub(crate) title: String,
    /// The severity first assessed: none, low, medium, high or critical.
    #[arg(long, default_value = "high")]
    pub(crate) severity: clerk_incident_core::triage::Severity,
    /// The category first assessed: clerk_outage, key_compromise, middleware_failure,
    /// session_issues, webhook_backlog, configuration_error, healthy or unknown.
    #[arg(long, default_value = "unknown")]
    pub(crate) category: clerk_incident_core::triage::Category,
}

#[derive(Debug, Args)]
pub(crate) struct IncidentNoteArgs {
    #[command(flatten)]
    pub(crate) log: IncidentLogArgs,
    /// The note; several words are joined with spaces.
    #[arg(required = true, value_name = "TEXT")]
    pub(crate) text: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct IncidentCategoryArgs {
    #[command(flatten)]
    pub(crate) log: IncidentLogArgs,
    /// The category: clerk_outage, key_compromise, middleware_failure, session_issues,
    /// webhook_backlog, configuration_error, healthy or unknown.
    pub(crate) category: clerk_incident_core::triage::Category,
    /// Why it changed, such as "Clerk was up; our middleware timed out".
    #[arg(long, value_parser = non_empty_reason)]
    pub(crate) reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct IncidentResolveArgs {
    #[command(flatten)]
    pub(crate) log: IncidentLogArgs,
    /// How it ended, such as "Clerk recovered; back in enforce mode".
    #[arg(long)]
    pub(crate) summary: String,
    /// The root cause, when known (the review asks for it otherwise).
    #[arg(long)]
    pub(crate) root_cause: Option<String>,
    /// Resolve again an incident already resolved, replacing its summary and root cause in
    /// the review (the earlier resolution stays in the log). Without it, a second resolve is
    /// refused.
    #[arg(long)]
    pub(crate) amend: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) log: IncidentLogArgs,
    /// Write the review to FILE instead of stdout; an existing FILE needs --force.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<std::path::PathBuf>,
    /// Overwrite the --out file if it exists.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(value).map_err(|err| err.to_string())?;
    if timeout.is_zero() {
        return Err("the timeout must be above zero".into());
    }
    Ok(timeout)
}

fn parse_fraction(value: &str) -> Result<f64, String> {
    let fraction: f64 = value
        .parse()
        .map_err(|_| format!("{value:?} is not a number"))?;
    if (0.0..=1.0).contains(&fraction) {
        Ok(fraction)
    } else {
        Err(format!("{value} is not between 0.0 and 1.0"))
    }
}

/// The fewest users the drill passes with: its phases need members with sessions to revoke,
/// inactive users to prune and users to replay.
const MIN_DRILL_USERS: usize = 20;

/// The fewest sessions the drill passes with.
const MIN_DRILL_SESSIONS: usize = 5;

/// A count of at least `MIN`.
fn at_least<const MIN: usize>(value: &str) -> Result<usize, String> {
    let count: usize = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number"))?;
    if count < MIN {
        return Err(format!(
            "the drill needs at least {MIN}: with {count}, some phases have nothing to act on and fail"
        ));
    }
    Ok(count)
}

/// A reason with something in it.
fn non_empty_reason(value: &str) -> Result<String, String> {
    let reason = value.trim();
    if reason.is_empty() {
        return Err("the reason is empty: say why, for the review".to_owned());
    }
    Ok(reason.to_owned())
}

/// An incident title with something in it.
fn non_empty_title(value: &str) -> Result<String, String> {
    let title = value.trim();
    if title.is_empty() {
        return Err("the title is empty: say what is failing, such as \"Sign-in failing: Clerk API answers 503\"".to_owned());
    }
    Ok(title.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fractions_parse() {
        assert!(parse_fraction("1.5").is_err());
        assert_eq!(parse_fraction("0.05"), Ok(0.05));
    }

    /// Every `clerk-incident …` line that triage suggests, in every category, parses with this
    /// binary's own command line: a suggestion that fails at 3 a.m. is worse than none.
    #[test]
    fn every_command_triage_suggests_parses() {
        let mut checked = 0;
        for rule in clerk_incident_core::triage::rules() {
            for line in rule.next_commands {
                let Some(args) = suggested_command(line) else {
                    continue;
                };
                if let Err(err) = Cli::try_parse_from(&args) {
                    panic!("rule {}: `{line}` does not parse:\n{err}", rule.name);
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} suggested commands found");
    }

    /// Every `clerk-incident …` line of the README's and the runbook's shell blocks parses too:
    /// the docs are executable documentation.
    #[test]
    fn every_command_the_docs_show_parses() {
        let docs = [
            ("README.md", include_str!("../../README.md")),
            ("docs/runbook.md", include_str!("../../docs/runbook.md")),
            ("clerk-incident-cli/README.md", include_str!("../README.md")),
        ];
        let mut checked = 0;
        for (name, text) in docs {
            let mut in_shell = false;
            let mut command = String::new();
            for (number, line) in text.lines().enumerate() {
                let trimmed = line.trim();
                if trimmed.starts_with("```") {
                    in_shell = !in_shell && (trimmed == "```sh" || trimmed == "```bash");
                    continue;
                }
                if !in_shell {
                    continue;
                }
                // A `\`-continued command is one line.
                if let Some(start) = trimmed.strip_suffix('\\') {
                    command.push_str(start);
                    command.push(' ');
                    continue;
                }
                command.push_str(trimmed);
                let line = std::mem::take(&mut command);
                let Some(args) = suggested_command(&line) else {
                    continue;
                };
                match Cli::try_parse_from(&args) {
                    Ok(_) => {}
                    Err(err) if err.kind() == clap::error::ErrorKind::DisplayHelp => {}
                    Err(err) => panic!("{name}:{}: `{line}` does not parse:\n{err}", number + 1),
                }
                checked += 1;
            }
        }
        assert!(checked >= 30, "only {checked} documented commands found");
    }

    /// The words of a suggested `clerk-incident …` line, placeholders filled in, the `#`
    /// comment dropped; `None` for any other line.
    fn suggested_command(line: &str) -> Option<Vec<String>> {
        // Only the first command of a pipeline or list (`… ; case $? in`, `… | jq`, `… && …`),
        // without its comment; separators inside quotes are text.
        let (mut single, mut double) = (false, false);
        let mut end = line.len();
        for (at, c) in line.char_indices() {
            match c {
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                ';' | '|' | '&' if !single && !double => {
                    end = at;
                    break;
                }
                '#' if !single && !double && line[..at].ends_with(' ') => {
                    end = at;
                    break;
                }
                _ => {}
            }
        }
        let command = &line[..end];
        // `NAME=value clerk-incident …`: the environment is the shell's, not an argument.
        let command = command
            .split_whitespace()
            .skip_while(|word| word.contains('=') && !word.starts_with('-'))
            .collect::<Vec<_>>()
            .join(" ");
        let command = command
            .replace("<app-url>", "https://app.example.com")
            .replace("user_…", "user_oncall");
        let words = shlex::split(&command)
            .unwrap_or_else(|| panic!("a documented command does not split: {command}"));
        (words.first().map(String::as_str) == Some("clerk-incident")).then_some(words)
    }

    #[test]
    fn the_secret_key_has_no_flag() {
        let help = Cli::command().render_long_help().to_string();
        assert!(!help.contains("--secret-key"));
        assert!(help.contains("Exit codes:"));
    }
}
