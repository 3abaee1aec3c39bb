//! Triage: what is wrong, from the outside in.
//!
//! This release has the first probe, Clerk's status page ([`status_page`]); the Backend API,
//! JWKS and app-health probes and the classifier build on it.

pub mod status_page;
