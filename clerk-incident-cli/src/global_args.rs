//! [`GlobalArgs`]: the options every command takes, apart from the command line's shape
//! (`cli.rs`) so that the command modules, whose own subcommands `cli.rs` names, need not
//! import it back.

use clap::Args;
use clerk_incident_core::api::DEFAULT_BASE_URL;
use clerk_incident_core::triage::status_page::DEFAULT_STATUS_URL;

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// `--api-url`, on the commands that call the Backend API.
#[derive(Debug, Args)]
pub(crate) struct ApiUrlArg {
    /// Clerk Backend API base URL.
    #[arg(long, env = "CLERK_API_URL", default_value = DEFAULT_BASE_URL)]
    pub(crate) api_url: String,
}

/// `--status-url`, on the commands that read Clerk's status page.
#[derive(Debug, Args)]
pub(crate) struct StatusUrlArg {
    /// Clerk status page base URL.
    #[arg(long, env = "CLERK_STATUS_URL", default_value = DEFAULT_STATUS_URL)]
    pub(crate) status_url: String,
}
