//! The four probes. Each returns a [`ProbeResult`] whatever happens: it never panics on what
//! the network sends and never outlives its timeout.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

use super::app_health::AppHealthSnapshot;
use super::config::{ApiTarget, TriageConfig};
use super::probe::{ProbeName, ProbeOutcome, ProbeResult, millis};
use super::status_page::{self, StatusPageError, StatusPageReport};
use super::text::clip;
use crate::api::{ApiError, ClerkApi, RetryPolicy, UserQuery};
use crate::auth::HealthToken;
use crate::error_chain::error_chain;
use crate::http::{HttpClient, HttpResponse, TransportError};

/// The most key ids a JWKS outcome keeps, and their longest length.
const MAX_KIDS: usize = 32;
const MAX_KID_LEN: usize = 100;

/// Runs `probe` under `timeout` and times it.
async fn timed(
    name: ProbeName,
    target: Option<String>,
    timeout: Duration,
    probe: impl Future<Output = ProbeOutcome>,
) -> ProbeResult {
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, probe)
        .await
        .unwrap_or_else(|_| timed_out(timeout));
    ProbeResult::new(name, target, outcome, started.elapsed())
}

fn timed_out(timeout: Duration) -> ProbeOutcome {
    ProbeOutcome::TimedOut {
        timeout_ms: millis(timeout),
    }
}

/// A probe that did not run, with `outcome` as the reason.
fn not_run(name: ProbeName, outcome: ProbeOutcome) -> ProbeResult {
    ProbeResult::new(name, None, outcome, Duration::ZERO)
}

/// The probe left out on purpose, when it is.
fn skipped(name: ProbeName, config: &TriageConfig) -> Option<ProbeResult> {
    config.skipped.contains(&name).then(|| {
        let flag = match name {
            ProbeName::StatusPage => "status-page",
            ProbeName::BackendApi => "api",
            ProbeName::Jwks => "jwks",
            ProbeName::AppHealth => "app",
        };
        not_run(
            name,
            ProbeOutcome::Skipped {
                reason: format!("left out with --skip {flag}"),
            },
        )
    })
}

fn not_checked(name: ProbeName, reason: &str, remedy: &str) -> ProbeResult {
    not_run(
        name,
        ProbeOutcome::NotChecked {
            reason: reason.to_owned(),
            remedy: remedy.to_owned(),
        },
    )
}

/// Why `url` is not an absolute `http` or `https` URL, with the likely fix; `None` when it is.
pub(super) fn url_problem(what: &str, url: &str) -> Option<String> {
    let shown = clip(url, 200);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some(format!(
            "the {what} {shown:?} has no scheme: did you mean http://{shown} (or https://)?"
        ));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Some(format!(
            "the {what} {shown:?} is not http or https: give an http(s):// URL"
        ));
    }
    match url.parse::<http::Uri>() {
        Ok(uri) if uri.host().is_some_and(|host| !host.is_empty()) && !rest.starts_with('/') => {
            None
        }
        _ => Some(format!("the {what} {shown:?} is not a valid URL")),
    }
}

/// The not-checked result of `name` when its `url` is not usable.
fn invalid_url(name: ProbeName, what: &str, url: &str) -> Option<ProbeResult> {
    url_problem(what, url).map(|error| not_run(name, ProbeOutcome::Invalid { error }))
}

/// An error and its sources on one line, clipped for the report.
fn chain(err: &dyn StdError) -> String {
    clip(&error_chain(err), 200)
}

fn transport_outcome(err: &TransportError, timeout: Duration) -> ProbeOutcome {
    match err {
        TransportError::Timeout => timed_out(timeout),
        TransportError::InvalidRequest(_) => ProbeOutcome::Invalid { error: chain(err) },
        _ => ProbeOutcome::Unreachable { error: chain(err) },
    }
}

/// `GET url` with `Accept: application/json`.
async fn get(
    http: &dyn HttpClient,
    url: &str,
    timeout: Duration,
) -> Result<HttpResponse, ProbeOutcome> {
    get_with(http, url, timeout, None).await
}

/// [`get`], with `Authorization: Bearer <bearer>` when given.
async fn get_with(
    http: &dyn HttpClient,
    url: &str,
    timeout: Duration,
    bearer: Option<&HealthToken>,
) -> Result<HttpResponse, ProbeOutcome> {
    let mut request = http::Request::get(url).header(http::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        request = request.header(http::header::AUTHORIZATION, token.bearer_header());
    }
    let request = request
        .body(Bytes::new())
        .map_err(|_| ProbeOutcome::Invalid {
            error: format!("{:?} is not a valid URL", clip(url, 200)),
        })?;
    http.send(request)
        .await
        .map_err(|err| transport_outcome(&err, timeout))
}

pub(super) async fn status_page(http: &dyn HttpClient, config: &TriageConfig) -> ProbeResult {
    let name = ProbeName::StatusPage;
    if let Some(skipped) = skipped(name, config) {
        return skipped;
    }
    let base = config.status_url.trim_end_matches('/');
    if let Some(invalid) = invalid_url(name, "status page URL", base) {
        return invalid;
    }
    let timeout = config.timeout;
    let started = Instant::now();
    let fetched = tokio::time::timeout(timeout, status_page::fetch_from(http, base, timeout)).await;
    let (target, outcome) = match fetched {
        Err(_) => (base.to_owned(), timed_out(timeout)),
        Ok(Ok((report, url))) => (
            url,
            ProbeOutcome::StatusPage {
                report: bounded(report),
            },
        ),
        Ok(Err(err)) => (
            base.to_owned(),
            match err {
                StatusPageError::Transport(err) => transport_outcome(&err, timeout),
                StatusPageError::Status(status) => ProbeOutcome::ErrorStatus { status, code: None },
                err => ProbeOutcome::Invalid { error: chain(&err) },
            },
        ),
    };
    ProbeResult::new(name, Some(target), outcome, started.elapsed())
}

/// The page's text clipped and its lists capped, so that a hostile or broken page cannot
/// flood the report or the terminal.
fn bounded(mut report: StatusPageReport) -> StatusPageReport {
    const MAX_ITEMS: usize = 50;
    const MAX_TEXT: usize = 120;
    report.description = report.description.map(|d| clip(&d, MAX_TEXT));
    report.components.truncate(MAX_ITEMS);
    for component in &mut report.components {
        component.name = clip(&component.name, MAX_TEXT);
    }
    for list in [&mut report.incidents, &mut report.maintenances] {
        list.truncate(MAX_ITEMS);
        for incident in list.iter_mut() {
            incident.name = clip(&incident.name, MAX_TEXT);
            incident.status = clip(&incident.status, MAX_TEXT);
            incident.impact = clip(&incident.impact, MAX_TEXT);
            incident.components.truncate(MAX_ITEMS);
            for component in &mut incident.components {
                *component = clip(component, MAX_TEXT);
            }
            incident.last_update_message = incident
                .last_update_message
                .as_deref()
                .map(|m| clip(m, MAX_TEXT));
        }
    }
    report
}

/// The client the Backend API and JWKS probes use, or why there is none.
pub(super) fn api_client(
    http: &Arc<dyn HttpClient>,
    config: &TriageConfig,
) -> Option<Result<ClerkApi, ApiError>> {
    Some(match config.api.as_ref()? {
        ApiTarget::Client(api) => Ok(api.clone()),
        ApiTarget::Key { base_url, key } => match url_problem("Backend API URL", base_url) {
            Some(problem) => Err(ApiError::Config(problem)),
            None => ClerkApi::builder(key.clone())
                .base_url(base_url.clone())
                .retry(RetryPolicy::none())
                .without_rate_limit()
                .timeout(config.timeout)
                .http_client(Arc::clone(http))
                .build(),
        },
    })
}

pub(super) async fn backend_api(
    api: Option<&Result<ClerkApi, ApiError>>,
    config: &TriageConfig,
) -> ProbeResult {
    let name = ProbeName::BackendApi;
    let timeout = config.timeout;
    if let Some(skipped) = skipped(name, config) {
        return skipped;
    }
    let api = match api {
        None => {
            return not_checked(
                name,
                "no secret key (CLERK_SECRET_KEY is not set)",
                "export CLERK_SECRET_KEY=sk_… (the instance's secret key), or leave the probe out with --skip api",
            );
        }
        Some(Err(err)) => {
            return ProbeResult::new(
                name,
                None,
                ProbeOutcome::Invalid { error: chain(err) },
                Duration::ZERO,
            );
        }
        Some(Ok(api)) => api,
    };
    let target = format!("{}/v1/users?limit=1", api.base_url());
    timed(name, Some(target), timeout, async {
        let mut pages = std::pin::pin!(api.list_user_pages(UserQuery::new().page_size(1)));
        match pages.next().await {
            // An empty first page ends the stream at once: the key works all the same.
            None | Some(Ok(_)) => ProbeOutcome::BackendApi {
                status: 200,
                code: None,
                retry_after_secs: None,
            },
            Some(Err(err)) => api_error_outcome(&err, timeout, false),
        }
    })
    .await
}

/// What an [`ApiError`] says about the endpoint. `for_jwks`: a key set was expected, so an
/// error status is an [`ProbeOutcome::ErrorStatus`] rather than a Backend API answer.
fn api_error_outcome(err: &ApiError, timeout: Duration, for_jwks: bool) -> ProbeOutcome {
    let answered = |status: u16, code: Option<String>, retry_after_secs: Option<u64>| {
        if for_jwks {
            ProbeOutcome::ErrorStatus { status, code }
        } else {
            ProbeOutcome::BackendApi {
                status,
                code,
                retry_after_secs,
            }
        }
    };
    match err {
        ApiError::Transport {
            source: TransportError::BodyTooLarge { limit },
            ..
        } => ProbeOutcome::Unreadable {
            status: 200,
            detail: format!("the answer exceeds the {limit}-byte cap"),
        },
        ApiError::Transport { source, .. } => transport_outcome(source, timeout),
        ApiError::Api { status, .. } => answered(*status, err.code().map(|c| clip(c, 100)), None),
        ApiError::RateLimited { retry_after, .. } => {
            answered(429, None, retry_after.map(|wait| wait.as_secs()))
        }
        ApiError::Decode { status, .. } if for_jwks => ProbeOutcome::Unreadable {
            status: *status,
            detail: "not a JSON Web Key Set".to_owned(),
        },
        // A 2xx that is not Clerk's answer (a catch-all page, a login page behind a
        // redirect that dropped the key): nothing proves the key works.
        ApiError::Decode { status, .. } => ProbeOutcome::Unreadable {
            status: *status,
            detail: "not the Backend API's answer: is CLERK_API_URL Clerk's Backend API (https://api.clerk.com)?"
                .to_owned(),
        },
        ApiError::Config(_) | ApiError::DeadlinePassed { .. } => {
            ProbeOutcome::Invalid { error: chain(err) }
        }
    }
}

pub(super) async fn jwks(
    http: &dyn HttpClient,
    api: Option<&Result<ClerkApi, ApiError>>,
    config: &TriageConfig,
) -> ProbeResult {
    let name = ProbeName::Jwks;
    let timeout = config.timeout;
    let expected = config.expected_kid.as_deref();
    if let Some(skipped) = skipped(name, config) {
        return skipped;
    }
    if let Some(url) = &config.jwks_url {
        if let Some(invalid) = invalid_url(name, "JWKS URL", url) {
            return invalid;
        }
        return timed(name, Some(url.clone()), timeout, async {
            match get(http, url, timeout).await {
                Err(outcome) => outcome,
                Ok(response) if !response.status().is_success() => ProbeOutcome::ErrorStatus {
                    status: response.status().as_u16(),
                    code: None,
                },
                Ok(response) => read_jwks(&response, expected),
            }
        })
        .await;
    }
    match api {
        None => not_checked(
            name,
            "no JWKS URL and no secret key",
            "pass --jwks-url https://<frontend api>/.well-known/jwks.json or export CLERK_SECRET_KEY, or leave the probe out with --skip jwks",
        ),
        Some(Err(err)) => ProbeResult::new(
            name,
            None,
            ProbeOutcome::Invalid { error: chain(err) },
            Duration::ZERO,
        ),
        Some(Ok(api)) => {
            let target = format!("{}/v1/jwks", api.base_url());
            timed(name, Some(target), timeout, async {
                match api.jwks().await {
                    Ok(jwks) => jwks_outcome(jwks.keys.iter().map(|k| k.kid.as_str()), expected),
                    Err(err) => api_error_outcome(&err, timeout, true),
                }
            })
            .await
        }
    }
}

/// Reads `{"keys":[{"kid":…},…]}`; anything else is unreadable.
fn read_jwks(response: &HttpResponse, expected: Option<&str>) -> ProbeOutcome {
    let status = response.status().as_u16();
    let json: Value = match serde_json::from_slice(response.body()) {
        Ok(json) => json,
        Err(_) => {
            return ProbeOutcome::Unreadable {
                status,
                detail: "not JSON".to_owned(),
            };
        }
    };
    match json.get("keys").and_then(Value::as_array) {
        Some(keys) => jwks_outcome(
            keys.iter()
                .filter_map(|key| key.get("kid").and_then(Value::as_str)),
            expected,
        ),
        None => ProbeOutcome::Unreadable {
            status,
            detail: "not a JSON Web Key Set (no \"keys\" array)".to_owned(),
        },
    }
}

fn jwks_outcome<'a>(kids: impl Iterator<Item = &'a str>, expected: Option<&str>) -> ProbeOutcome {
    let mut found = false;
    let mut kept = Vec::new();
    for kid in kids {
        found |= Some(kid) == expected;
        if kept.len() < MAX_KIDS {
            kept.push(clip(kid, MAX_KID_LEN));
        }
    }
    ProbeOutcome::Jwks {
        kids: kept,
        expected_kid: expected.map(|kid| clip(kid, MAX_KID_LEN)),
        expected_kid_found: expected.map(|_| found),
    }
}

pub(super) async fn app_health(http: &dyn HttpClient, config: &TriageConfig) -> ProbeResult {
    let name = ProbeName::AppHealth;
    if let Some(skipped) = skipped(name, config) {
        return skipped;
    }
    let Some(url) = &config.app_health_url else {
        return not_checked(
            name,
            "no app URL",
            "pass --app-url http://<host>:<port> (the service's base URL), or leave the probe out with --skip app",
        );
    };
    if let Some(invalid) = invalid_url(name, "app URL", url) {
        return invalid;
    }
    let timeout = config.timeout;
    timed(name, Some(url.clone()), timeout, async {
        match get_with(http, url, timeout, config.app_health_token.as_ref()).await {
            Err(outcome) => outcome,
            Ok(response) => ProbeOutcome::AppHealth {
                status: response.status().as_u16(),
                health: AppHealthSnapshot::parse(response.body()),
            },
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_bodies_are_read_defensively() {
        let read = |body: &'static str| {
            let response = http::Response::new(Bytes::from_static(body.as_bytes()));
            read_jwks(&response, Some("k2"))
        };
        assert_eq!(
            read(r#"{"keys":[{"kid":"k1"},{"kid":"k2"},{"kty":"RSA"},{"kid":7}]}"#),
            ProbeOutcome::Jwks {
                kids: vec!["k1".into(), "k2".into()],
                expected_kid: Some("k2".into()),
                expected_kid_found: Some(true),
            }
        );
        assert!(matches!(
            read(r#"{"keys":{}}"#),
            ProbeOutcome::Unreadable { .. }
        ));
        assert!(matches!(read("<html>"), ProbeOutcome::Unreadable { .. }));
        assert!(matches!(
            read(r#"{"keys":[]}"#),
            ProbeOutcome::Jwks {
                expected_kid_found: Some(false),
                ..
            }
        ));
    }
}
