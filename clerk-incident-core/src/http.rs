//! The HTTP seam: every byte this crate sends to Clerk goes through [`HttpClient`].
//!
//! The trait speaks [`http`] types with [`Bytes`] bodies, is object safe and is held as
//! `Arc<dyn HttpClient>`, so a service can plug in its own client (with its proxy, TLS roots or
//! tracing) and tests can plug in a closure. [`ReqwestClient`] (feature `reqwest`, on by
//! default) is the ready-made implementation; reqwest types never appear in a public signature.
//!
//! Callers in this crate put a timeout around every call and check the body against a size cap
//! themselves, so an implementation that forgets either cannot hang an incident response or
//! exhaust memory.
//!
//! # Example
//!
//! A closure is an [`HttpClient`], which keeps unit tests free of sockets:
//!
//! ```
//! use bytes::Bytes;
//! use clerk_incident_core::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
//!
//! # async fn demo() -> Result<(), TransportError> {
//! let client = |request: HttpRequest| async move {
//!     assert_eq!(request.uri().path(), "/v1/instance");
//!     Ok::<_, TransportError>(HttpResponse::new(Bytes::from_static(b"{}")))
//! };
//! let request = http::Request::get("http://127.0.0.1/v1/instance").body(Bytes::new()).unwrap();
//! let response = client.send(request).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! ```

use std::error::Error as StdError;
use std::future::Future;

use async_trait::async_trait;
use bytes::Bytes;

/// A request as this crate sends it: `http` types with a [`Bytes`] body.
pub type HttpRequest = http::Request<Bytes>;

/// A response with its whole body read into [`Bytes`].
pub type HttpResponse = http::Response<Bytes>;

/// The default response-body cap: 16 MiB, far above a Clerk page of 500 users (about 2 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A boxed error from an HTTP implementation, kept as the source of a [`TransportError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Sends one HTTP request and reads the whole response.
///
/// Implementations must not retry (the callers in this crate pace and retry), should honour a
/// response-size cap while reading, and must never log header values: the `Authorization`
/// header carries a secret key.
///
/// Any `Fn(HttpRequest) -> impl Future<Output = Result<HttpResponse, TransportError>>` closure
/// implements this trait.
#[async_trait]
pub trait HttpClient: Send + Sync + 'static {
    /// Sends `request` and returns the response, whatever its status.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

#[async_trait]
impl<F, Fut> HttpClient for F
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HttpResponse, TransportError>> + Send + 'static,
{
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self(request).await
    }
}

/// Why an HTTP exchange produced no response.
///
/// The message never contains request headers, so it never contains a secret key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No complete response arrived within the timeout.
    #[error("timed out waiting for the response")]
    Timeout,
    /// The connection could not be established (refused, DNS, TLS handshake).
    #[error("could not connect")]
    Connect(#[source] BoxError),
    /// The response body was larger than the configured cap.
    #[error("response body exceeds the {limit}-byte cap")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The request could not be built (an invalid URL or header).
    #[error("invalid request")]
    InvalidRequest(#[source] BoxError),
    /// Any other failure of the exchange (connection reset, protocol error).
    #[error("the HTTP exchange failed")]
    Other(#[source] BoxError),
}

#[cfg(feature = "reqwest")]
pub use self::reqwest_client::ReqwestClient;

#[cfg(feature = "reqwest")]
mod reqwest_client {
    use std::time::Duration;

    use async_trait::async_trait;
    use bytes::{Bytes, BytesMut};

    use super::{DEFAULT_MAX_BODY_BYTES, HttpClient, HttpRequest, HttpResponse, TransportError};

    /// [`HttpClient`] over reqwest with rustls (aws-lc-rs), HTTP/1.1 and HTTP/2.
    ///
    /// Bodies are read chunk by chunk and the read stops as soon as the cap is passed.
    #[derive(Clone, Debug)]
    pub struct ReqwestClient {
        client: reqwest::Client,
        max_body_bytes: usize,
    }

    impl ReqwestClient {
        /// A client with a 10 s connect timeout and a 16 MiB body cap.
        ///
        /// # Errors
        ///
        /// Fails when the TLS backend cannot be initialised.
        pub fn new() -> Result<Self, TransportError> {
            Self::with_settings(Duration::from_secs(10), DEFAULT_MAX_BODY_BYTES)
        }

        /// A client with the given connect timeout and response-body cap.
        ///
        /// # Errors
        ///
        /// Fails when the TLS backend cannot be initialised.
        pub fn with_settings(
            connect_timeout: Duration,
            max_body_bytes: usize,
        ) -> Result<Self, TransportError> {
            let client = reqwest::Client::builder()
                .connect_timeout(connect_timeout)
                .user_agent(concat!("clerk-incident/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|err| TransportError::Other(Box::new(err)))?;
            Ok(Self::from_client(client, max_body_bytes))
        }

        /// Wraps a configured `reqwest::Client` (proxies, roots) with a body cap.
        pub fn from_client(client: reqwest::Client, max_body_bytes: usize) -> Self {
            Self {
                client,
                max_body_bytes,
            }
        }
    }

    fn classify(err: reqwest::Error) -> TransportError {
        if err.is_timeout() {
            TransportError::Timeout
        } else if err.is_connect() {
            TransportError::Connect(Box::new(err.without_url()))
        } else if err.is_builder() {
            TransportError::InvalidRequest(Box::new(err.without_url()))
        } else {
            TransportError::Other(Box::new(err.without_url()))
        }
    }

    #[async_trait]
    impl HttpClient for ReqwestClient {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
            let request = reqwest::Request::try_from(request)
                .map_err(|err| TransportError::InvalidRequest(Box::new(err.without_url())))?;
            let mut response = self.client.execute(request).await.map_err(classify)?;

            let limit = self.max_body_bytes;
            if response
                .content_length()
                .is_some_and(|len| len > limit as u64)
            {
                return Err(TransportError::BodyTooLarge { limit });
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > limit {
                    return Err(TransportError::BodyTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }

            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(headers) = builder.headers_mut() {
                *headers = std::mem::take(response.headers_mut());
            }
            builder
                .body(Bytes::from(body))
                .map_err(|err| TransportError::Other(Box::new(err)))
        }
    }
}
