//! Clerk session-token middleware for [axum], with audited emergency bypass modes.
//!
//! **Status:** this crate is a placeholder in this release. The middleware (a tower `Layer`
//! with the `Enforce`, `Grace` and `Open` modes), the extractors, the role and permission
//! guards, the admin revocation endpoint and the health endpoint are being built on
//! [`clerk_incident_core`]'s token verifier, with exactly the behaviour of
//! `clerk-incident-actix`. Until then, the core crate is re-exported so that a service can
//! already depend on this crate and use the Backend API client.
//!
//! [axum]: https://docs.rs/axum

pub use clerk_incident_core as core;
