//! One module per subcommand.

pub(crate) mod sim;
pub(crate) mod sim_token;
pub(crate) mod status;
