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

use clap::Parser;

use crate::cli::{Cli, Command, SimAction};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The drill injects failures on purpose; the retries they cause are not news there.
    let quiet = matches!(cli.command, Command::Drill(_));
    log_output::init(cli.global.verbose, quiet);
    let exit = match &cli.command {
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
    };
    if cli.global.json {
        terminal::json_error_if_silent(exit as u8);
    }
    exit.into()
}
