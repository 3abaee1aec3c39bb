//! One module per subcommand.

pub(crate) mod sim;
pub(crate) mod status;
