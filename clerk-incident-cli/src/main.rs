//! `clerk-incident`: the on-call engineer's tool for Clerk incidents.
//!
//! Run `clerk-incident --help` for the commands and exit codes; `clerk-incident drill`
//! rehearses the runbook against a built-in simulated Clerk and needs no account.
//!
//! Beyond clap and tokio: `tracing-subscriber` renders the libraries' logs on stderr (`-v`),
//! `humantime` parses durations such as `45m`, and `clerk-incident-sim` is linked in so that
//! `sim` and `drill` work offline.

mod cli;
mod commands;
mod drill;
mod exit_code;
mod global_args;
mod interrupt;
mod log_output;
mod progress_bar;
mod rate_limit_arg;
mod terminal;
mod time_arg;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, SimAction};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return refused(&err),
    };
    // The drill injects failures on purpose; the retries they cause are not news there.
    let quiet = matches!(cli.command, Command::Drill(_));
    log_output::init(cli.global.verbose, quiet);
    let exit = if handles_signals(&cli.command) {
        run(&cli).await
    } else {
        tokio::select! {
            exit = run(&cli) => exit,
            signal = interrupt::signal() => interrupted(&cli, signal),
        }
    };
    if cli.global.json {
        terminal::json_error_if_silent(exit as u8);
    }
    exit.into()
}

/// Answers arguments clap refuses (or `--help`): its message on stderr (help on stdout), and
/// under `--json` a JSON error on stdout as well, so that a script always gets a document.
fn refused(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = err.print();
    let code = err.exit_code();
    let informational = matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    // The arguments did not parse, so --json is looked for among them as given.
    if !informational && std::env::args_os().any(|arg| arg == "--json") {
        let rendered = err.render().to_string();
        let message = rendered
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        terminal::json(&serde_json::json!({
            "status": "error",
            "exit_code": code,
            // clap quotes what was typed: a secret pasted as an argument stays out of it.
            "error": clerk_incident_core::incident::redact(message),
        }));
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

async fn run(cli: &Cli) -> exit_code::Exit {
    match &cli.command {
        Command::Triage(args) => commands::triage::run(&cli.global, args).await,
        Command::Status(args) => commands::status::run(&cli.global, args).await,
        Command::Sim(sim) => match &sim.action {
            Some(SimAction::Token(args)) => commands::sim_token::run(&cli.global, args).await,
            None => commands::sim::run(&cli.global, &sim.serve).await,
        },
        Command::Drill(args) => drill::run(&cli.global, args).await,
        Command::Incident(incident) => commands::incident::run(&cli.global, &incident.action),
        Command::Report(args) => commands::report::run(&cli.global, args),
        Command::Bypass(args) => commands::fleet::bypass(&cli.global, args).await,
        Command::Fleet(fleet) => commands::fleet::run(&cli.global, fleet).await,
        Command::Sessions(sessions) => commands::sessions::run(&cli.global, sessions).await,
        Command::Keys(keys) => commands::keys::run(&cli.global, keys).await,
        Command::Webhooks(webhooks) => commands::webhooks::run(&cli.global, webhooks).await,
        Command::Audit(audit) => commands::audit::run(&cli.global, audit).await,
    }
}

/// True for the commands that stop cleanly on SIGINT or SIGTERM by themselves: they record
/// how far they got (a checkpoint, the incident log) and say how to go on.
fn handles_signals(command: &Command) -> bool {
    matches!(
        command,
        Command::Sessions(_) | Command::Webhooks(_) | Command::Drill(_)
    ) || matches!(command, Command::Sim(sim) if sim.action.is_none())
}

/// Stops any other command at a signal: what it was waiting for is abandoned, and the answer
/// says so (under `--json` too).
fn interrupted(cli: &Cli, signal: &'static str) -> exit_code::Exit {
    let hint = match &cli.command {
        Command::Bypass(_) => {
            "; the switch may already be written: check with clerk-incident fleet status"
        }
        _ => "; nothing was recorded",
    };
    terminal::problem(&format!(
        "interrupted by {signal} before the command finished{hint}"
    ));
    if cli.global.json {
        terminal::json(&serde_json::json!({
            "status": "interrupted",
            "signal": signal,
        }));
    }
    exit_code::Exit::Failure
}
