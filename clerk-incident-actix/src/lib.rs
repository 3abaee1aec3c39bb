//! Clerk session-token middleware for [actix-web], with audited emergency bypass modes.
//!
//! **Status:** this crate is a placeholder in this release. The middleware (a `Transform`
//! with the `Enforce`, `Grace` and `Open` modes), the extractors, the role and permission
//! guards, the admin revocation endpoint and the health endpoint are being built on
//! [`clerk_incident_core`]'s token verifier, with exactly the behaviour of
//! `clerk-incident-axum`. Until then, the core crate is re-exported so that a service can
//! already depend on this crate and use the Backend API client.
//!
//! [actix-web]: https://docs.rs/actix-web

pub use clerk_incident_core as core;
