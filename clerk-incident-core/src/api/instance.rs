//! The instance behind a key, and its JSON Web Key Set.

use super::client::{Call, ClerkApi};
use super::error::ApiError;
use super::models::{Instance, Jwks};

impl ClerkApi {
    /// The instance the secret key belongs to (`GET /v1/instance`): how key rotation proves a
    /// new key belongs to the same instance.
    ///
    /// # Errors
    ///
    /// Any [`ApiError`]; a rejected key is a 401 ([`ApiError::is_unauthorized`]).
    pub async fn instance(&self) -> Result<Instance, ApiError> {
        self.json(&Call::get("get instance", "/v1/instance".to_owned()))
            .await
    }

    /// The instance's session-token signing keys (`GET /v1/jwks`).
    ///
    /// # Errors
    ///
    /// Any [`ApiError`].
    pub async fn jwks(&self) -> Result<Jwks, ApiError> {
        self.json(&Call::get("get JWKS", "/v1/jwks".to_owned()))
            .await
    }
}
