//! Triage: what is wrong, from the outside in.
//!
//! This release has Clerk's status page ([`status_page`]) and the runbook's categories and
//! severities ([`Category`], [`Severity`]); the Backend API, JWKS and app-health probes and the
//! classifier build on them.

mod category;
pub mod status_page;

pub use self::category::{Category, Severity, UnknownName};
