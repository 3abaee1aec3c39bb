//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod fleet;
pub(crate) mod incident;
pub(crate) mod keys;
pub(crate) mod keys_snapshot;
pub(crate) mod report;
pub(crate) mod sessions;
pub(crate) mod sim;
pub(crate) mod sim_token;
pub(crate) mod status;
pub(crate) mod triage;
pub(crate) mod webhooks;
