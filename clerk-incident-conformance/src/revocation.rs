//! The table of the mass session revocation endpoints (`POST /admin/clerk/sessions/revoke`,
//! `GET /admin/clerk/sessions/revoke/{job}`), which both adapters' tests run with
//! [`run_revocation`].
//!
//! Each adapter's test mounts its revocation routes alone (guard: operators only) twice, with
//! the jobs of [`revocation_jobs`]: once with the [`Fixture`]'s standard policy (operators
//! configured) and once with [`Fixture::policy_without_operators`], and hands
//! [`run_revocation`] a function that sends a [`RevocationRequest`] to the app it names
//! ([`RevocationApp`]) and reports what came back. The run goes through [`revocation_cases`] (refusals and bad requests), then a job's
//! life: started (202), a second one refused while it runs (409), its status read while it
//! runs and once it has finished, with exact counts, then a dry run.

use std::future::Future;
use std::time::Duration;

use clerk_incident_core::api::{ClerkApi, SecretKey};
use clerk_incident_core::revocation::{REVOKE_PATH, RevocationJobs};
use clerk_incident_sim::Faults;
use serde_json::{Value, json};

use crate::case::Observed;
use crate::fixture::{Fixture, ModeSetup};

const INVALID: Option<&str> = Some(r#"Bearer error="invalid_token""#);
const SCOPE: Option<&str> = Some(r#"Bearer error="insufficient_scope""#);

/// The HTTP method of a [`RevocationRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

/// Which revocation app a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationApp {
    /// The standard policy: the pinned organisation's `org:admin`s and one allow-listed member
    /// are operators.
    Operators,
    /// [`Fixture::policy_without_operators`]: nobody is.
    NoOperators,
}

/// One request to the revocation endpoints, for the adapter's test to send.
#[derive(Clone, Debug)]
pub struct RevocationRequest {
    /// The app to send it to.
    pub app: RevocationApp,
    /// The method.
    pub method: RequestMethod,
    /// The path.
    pub path: String,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<Vec<u8>>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'static str>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
}

/// Which token a case sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// None.
    Missing,
    /// The `org:admin` user's valid token.
    Admin,
    /// An `org:member`'s valid token.
    Member,
    /// The admin's token, expired 9 minutes ago (accepted as degraded in `Grace` on
    /// protected routes).
    AdminExpiredRecently,
    /// A valid token of the `org:admin` of an organisation anyone could have made.
    OtherOrgAdmin,
    /// The admin's valid token, impersonated (an `act` claim).
    ImpersonatedAdmin,
    /// A valid token of an `org:member` whose user id is allow-listed.
    ListedMember,
}

/// A stateless case: one request and the status, challenge and `error` field that must come
/// back.
#[derive(Clone, Debug)]
pub struct RevocationCase {
    /// What the case shows.
    pub name: &'static str,
    /// The mode it runs in.
    pub mode: ModeSetup,
    /// The app it runs against.
    pub app: RevocationApp,
    /// The method.
    pub method: RequestMethod,
    /// The path.
    pub path: String,
    /// The token.
    pub token: Token,
    /// The `Content-Type`.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: &'static str,
    /// The status.
    pub status: u16,
    /// The `WWW-Authenticate` value, exactly (`None`: absent).
    pub www_authenticate: Option<&'static str>,
    /// The JSON body's `error` field, when it must be checked.
    pub error: Option<&'static str>,
    /// The JSON body's `reason` field, when it must be checked.
    pub reason: Option<&'static str>,
}

/// The stateless cases: refusals (not an operator, an admin of another organisation,
/// impersonated, no token, bypassed, degraded, no operator configured) and bad requests, and
/// the allow-listed member getting through the guard.
pub fn revocation_cases() -> Vec<RevocationCase> {
    use ModeSetup::{Enforce, Grace, Open};
    use RequestMethod::{Delete, Get, Post};
    use Token::{
        Admin, AdminExpiredRecently, ImpersonatedAdmin, ListedMember, Member, Missing,
        OtherOrgAdmin,
    };
    let json = Some("application/json");
    let valid = r#"{"all": true, "dry_run": true}"#;
    let unknown_job = format!("{REVOKE_PATH}/job_0000000000000000ffffffffffffffff");
    let case = |name, mode, method, path: &str, token, body, status, www, error| RevocationCase {
        name,
        mode,
        app: RevocationApp::Operators,
        method,
        path: path.to_owned(),
        token,
        content_type: json,
        body,
        status,
        www_authenticate: www,
        error,
        reason: None,
    };
    let refused = |name, token, reason| RevocationCase {
        reason: Some(reason),
        ..case(
            name,
            Enforce,
            Post,
            REVOKE_PATH,
            token,
            valid,
            403,
            SCOPE,
            Some("insufficient_scope"),
        )
    };
    vec![
        refused(
            "org:admin of another organisation → 403 (any user can create one)",
            OtherOrgAdmin,
            "not_an_operator",
        ),
        refused(
            "impersonated operator → 403",
            ImpersonatedAdmin,
            "impersonated_session",
        ),
        RevocationCase {
            app: RevocationApp::NoOperators,
            ..refused(
                "no operator configured, the pinned admin → 403",
                Admin,
                "no_operator_configured",
            )
        },
        RevocationCase {
            app: RevocationApp::NoOperators,
            reason: Some("no_operator_configured"),
            ..case(
                "no operator configured, status → 403",
                Enforce,
                Get,
                &unknown_job,
                Admin,
                "",
                403,
                SCOPE,
                Some("insufficient_scope"),
            )
        },
        case(
            "allow-listed member passes the guard (bad body → 400)",
            Enforce,
            Post,
            REVOKE_PATH,
            ListedMember,
            r#"{"dry_run": true}"#,
            400,
            None,
            Some("invalid_request"),
        ),
        case(
            "allow-listed member, status → 404",
            Enforce,
            Get,
            &unknown_job,
            ListedMember,
            "",
            404,
            None,
            Some("not_found"),
        ),
        case(
            "Grace mode, the operator's valid token → passes (bad body → 400)",
            Grace,
            Post,
            REVOKE_PATH,
            Admin,
            r#"{"dry_run": true}"#,
            400,
            None,
            Some("invalid_request"),
        ),
        case(
            "member → 403",
            Enforce,
            Post,
            REVOKE_PATH,
            Member,
            valid,
            403,
            SCOPE,
            None,
        ),
        case(
            "no token → 401",
            Enforce,
            Post,
            REVOKE_PATH,
            Missing,
            valid,
            401,
            INVALID,
            None,
        ),
        case(
            "Open mode, no token → 401 (a bypassed context is refused)",
            Open,
            Post,
            REVOKE_PATH,
            Missing,
            valid,
            401,
            INVALID,
            None,
        ),
        case(
            "Open mode, recently expired admin token → 401",
            Open,
            Post,
            REVOKE_PATH,
            AdminExpiredRecently,
            valid,
            401,
            INVALID,
            None,
        ),
        case(
            "Grace mode, recently expired admin token → 401 (a degraded context is refused)",
            Grace,
            Post,
            REVOKE_PATH,
            AdminExpiredRecently,
            valid,
            401,
            INVALID,
            None,
        ),
        case(
            "member, status → 403",
            Enforce,
            Get,
            &unknown_job,
            Member,
            "",
            403,
            SCOPE,
            None,
        ),
        case(
            "no token, status → 401",
            Enforce,
            Get,
            &unknown_job,
            Missing,
            "",
            401,
            INVALID,
            None,
        ),
        case(
            "Open mode, no token, status → 401",
            Open,
            Get,
            &unknown_job,
            Missing,
            "",
            401,
            INVALID,
            None,
        ),
        case(
            "admin, unknown field → 400",
            Enforce,
            Post,
            REVOKE_PATH,
            Admin,
            r#"{"all": true, "everyone": true}"#,
            400,
            None,
            Some("invalid_request"),
        ),
        case(
            "admin, no target → 400",
            Enforce,
            Post,
            REVOKE_PATH,
            Admin,
            r#"{"dry_run": true}"#,
            400,
            None,
            Some("invalid_request"),
        ),
        case(
            "admin, two targets → 400",
            Enforce,
            Post,
            REVOKE_PATH,
            Admin,
            r#"{"all": true, "organization_id": "org_1"}"#,
            400,
            None,
            Some("invalid_request"),
        ),
        case(
            "admin, not JSON → 400",
            Enforce,
            Post,
            REVOKE_PATH,
            Admin,
            "all=true",
            400,
            None,
            Some("invalid_request"),
        ),
        case(
            "admin, wrong type → 400",
            Enforce,
            Post,
            REVOKE_PATH,
            Admin,
            r#"{"all": "yes"}"#,
            400,
            None,
            Some("invalid_request"),
        ),
        RevocationCase {
            content_type: Some("text/plain"),
            ..case(
                "admin, text/plain → 415 (no cross-site form post)",
                Enforce,
                Post,
                REVOKE_PATH,
                Admin,
                valid,
                415,
                None,
                Some("unsupported_media_type"),
            )
        },
        RevocationCase {
            content_type: None,
            ..case(
                "admin, no content type → 415",
                Enforce,
                Post,
                REVOKE_PATH,
                Admin,
                valid,
                415,
                None,
                Some("unsupported_media_type"),
            )
        },
        case(
            "member, cancel → 403",
            Enforce,
            Delete,
            &unknown_job,
            Member,
            "",
            403,
            SCOPE,
            None,
        ),
        case(
            "no token, cancel → 401",
            Enforce,
            Delete,
            &unknown_job,
            Missing,
            "",
            401,
            INVALID,
            None,
        ),
        case(
            "Open mode, no token, cancel → 401",
            Open,
            Delete,
            &unknown_job,
            Missing,
            "",
            401,
            INVALID,
            None,
        ),
        case(
            "org:admin of another organisation, cancel → 403",
            Enforce,
            Delete,
            &unknown_job,
            OtherOrgAdmin,
            "",
            403,
            SCOPE,
            None,
        ),
        RevocationCase {
            app: RevocationApp::NoOperators,
            reason: Some("no_operator_configured"),
            ..case(
                "no operator configured, cancel → 403",
                Enforce,
                Delete,
                &unknown_job,
                Admin,
                "",
                403,
                SCOPE,
                Some("insufficient_scope"),
            )
        },
        case(
            "admin, cancel an unknown job → 404",
            Enforce,
            Delete,
            &unknown_job,
            Admin,
            "",
            404,
            None,
            Some("not_found"),
        ),
        case(
            "admin, unknown job → 404",
            Enforce,
            Get,
            &unknown_job,
            Admin,
            "",
            404,
            None,
            Some("not_found"),
        ),
    ]
}

/// Jobs revoking through the fixture's sim (no client-side pacing: the sim has no limit).
///
/// # Panics
///
/// When the client cannot be built: test support fails loudly.
#[allow(clippy::expect_used)]
pub fn revocation_jobs(fixture: &Fixture) -> RevocationJobs {
    let api = ClerkApi::builder(SecretKey::new(fixture.sim.secret_key()))
        .base_url(fixture.sim.base_url())
        .without_rate_limit()
        .build()
        .expect("a client for the sim");
    RevocationJobs::new(api)
}

/// Runs [`revocation_cases`], then a job's life, through `send`, and panics listing every
/// failure. `jobs` must be the jobs behind the routes: the run awaits the job's end through
/// [`RevocationJobs::wait`] instead of polling.
///
/// # Panics
///
/// When any step fails: that is the test failing.
#[allow(clippy::panic)]
pub async fn run_revocation<F, Fut>(fixture: &Fixture, jobs: &RevocationJobs, mut send: F)
where
    F: FnMut(RevocationRequest) -> Fut,
    Fut: Future<Output = Observed>,
{
    let mut failures = Vec::new();
    let cases = revocation_cases();
    for case in &cases {
        fixture.set_mode(case.mode);
        let observed = send(RevocationRequest {
            app: case.app,
            method: case.method,
            path: case.path.clone(),
            authorization: authorization(fixture, case.token),
            content_type: case.content_type,
            body: case.body.as_bytes().to_vec(),
        })
        .await;
        let mut problems = Vec::new();
        if observed.status != case.status {
            problems.push(format!(
                "status {} (expected {})",
                observed.status, case.status
            ));
        }
        let challenge = header(&observed, "www-authenticate");
        if challenge.as_deref() != case.www_authenticate {
            problems.push(format!(
                "WWW-Authenticate {challenge:?} (expected {:?})",
                case.www_authenticate
            ));
        }
        let body = body_json(&observed);
        for (field, expected) in [("error", case.error), ("reason", case.reason)] {
            if let Some(expected) = expected
                && body.get(field).and_then(Value::as_str) != Some(expected)
            {
                problems.push(format!("body {body} (expected {field} {expected:?})"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
    }
    fixture.set_mode(ModeSetup::Enforce);
    job_life(fixture, jobs, &mut send, &mut failures).await;
    fixture
        .switch
        .deactivate("revocation conformance run finished");
    assert!(
        failures.is_empty(),
        "{} revocation conformance step(s) failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// A job's life: 202, 409 while it runs, status while it runs and once finished, then a dry
/// run once it has ended.
async fn job_life<F, Fut>(
    fixture: &Fixture,
    jobs: &RevocationJobs,
    send: &mut F,
    failures: &mut Vec<String>,
) where
    F: FnMut(RevocationRequest) -> Fut,
    Fut: Future<Output = Observed>,
{
    let sim = &fixture.sim;
    let admin_id = fixture.tokens.admin_id.clone();
    let live = |of_admin: bool| {
        sim.sessions()
            .into_iter()
            .filter(|s| s.status.is_signed_in() && (s.user_id == admin_id) == of_admin)
            .count() as u64
    };
    let others_before = live(false);
    let admin_before = live(true);
    let mut fail = |step: &str, problem: String| failures.push(format!("{step}: {problem}"));
    let admin = || authorization(fixture, Token::Admin);
    let post = |body: Value| RevocationRequest {
        app: RevocationApp::Operators,
        method: RequestMethod::Post,
        path: REVOKE_PATH.to_owned(),
        authorization: admin(),
        content_type: Some("application/json"),
        body: body.to_string().into_bytes(),
    };
    let get = |path: &str| RevocationRequest {
        app: RevocationApp::Operators,
        method: RequestMethod::Get,
        path: path.to_owned(),
        authorization: admin(),
        content_type: None,
        body: Vec::new(),
    };

    // Every Backend API answer takes 100 ms until the job has ended: it needs at least three
    // answers in a row (two counts, a page of users), so it is still running during the next
    // three steps, which are in-process requests that touch no socket.
    sim.set_faults(Faults {
        latency_ms: 100,
        ..Faults::default()
    });
    let step = "admin → 202 with a job id";
    let started = send(post(json!({ "all": true, "exclude_user_ids": [admin_id] }))).await;
    let job = body_json(&started)
        .get("job")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if started.status != 202 {
        fail(step, format!("status {} (expected 202)", started.status));
    }
    let Some(job) = job.filter(|job| job.starts_with("job_")) else {
        sim.set_faults(Faults::default());
        fail(step, format!("no job id in {}", body_json(&started)));
        return;
    };
    let location = format!("{REVOKE_PATH}/{job}");
    if header(&started, "location").as_deref() != Some(location.as_str()) {
        fail(
            step,
            format!(
                "Location {:?} (expected {location:?})",
                header(&started, "location")
            ),
        );
    }

    let step = "a second job while one runs → 409";
    let second = send(post(json!({ "all": true, "dry_run": true }))).await;
    if second.status != 409 {
        fail(step, format!("status {} (expected 409)", second.status));
    }
    let running = body_json(&second);
    if running.get("job").and_then(Value::as_str) != Some(job.as_str()) {
        fail(
            step,
            format!("body {running} (expected the running job {job})"),
        );
    }

    let step = "status while running → 200 running";
    let status = send(get(&location)).await;
    let view = body_json(&status);
    if status.status != 200
        || view.get("state").and_then(Value::as_str) != Some("running")
        || view.get("id").and_then(Value::as_str) != Some(job.as_str())
    {
        fail(step, format!("{} {view}", status.status));
    }
    let step = "the job names its operator and how they qualified";
    let operator = view.get("operator").cloned().unwrap_or(Value::Null);
    if operator.get("user_id").and_then(Value::as_str) != Some(admin_id.as_str())
        || operator.get("via").and_then(Value::as_str) != Some("organization")
        || operator.get("role").and_then(Value::as_str) != Some("org:admin")
    {
        fail(step, format!("operator {operator}"));
    }

    let step = "status once finished → 200 with the report";
    let ended = tokio::time::timeout(Duration::from_secs(60), jobs.wait(&job)).await;
    sim.set_faults(Faults::default());
    if ended.ok().and_then(Result::ok).flatten().is_none() {
        fail(step, "the job did not end within 60 s".to_owned());
        return;
    }
    let status = send(get(&location)).await;
    let view = body_json(&status);
    let count = |field: &str| {
        view.pointer(&format!("/report/{field}"))
            .and_then(Value::as_u64)
    };
    if status.status != 200
        || view.get("state").and_then(Value::as_str) != Some("finished")
        || !view.get("error").is_some_and(Value::is_null)
        || count("revoked") != Some(others_before)
        || count("users_excluded") != Some(1)
        || view
            .pointer("/report/failed")
            .and_then(Value::as_array)
            .map(Vec::len)
            != Some(0)
    {
        fail(
            step,
            format!(
                "{} {view} (expected {others_before} revoked)",
                status.status
            ),
        );
    }
    if live(false) != 0 || live(true) != admin_before {
        fail(
            step,
            format!(
                "{} other and {} admin session(s) live (expected 0 and {admin_before})",
                live(false),
                live(true)
            ),
        );
    }

    let step = "a dry run once the job ended → 202, then a report that revoked nothing";
    let dry = send(post(json!({ "all": true, "dry_run": true }))).await;
    let dry_job = body_json(&dry)
        .get("job")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match dry_job {
        Some(dry_job) if dry.status == 202 => {
            let ended = tokio::time::timeout(Duration::from_secs(60), jobs.wait(&dry_job)).await;
            let view = body_json(&send(get(&format!("{REVOKE_PATH}/{dry_job}"))).await);
            if ended.ok().and_then(Result::ok).flatten().is_none()
                || view.get("dry_run").and_then(Value::as_bool) != Some(true)
                || view.pointer("/report/revoked").and_then(Value::as_u64) != Some(0)
                || view
                    .pointer("/report/sessions_found")
                    .and_then(Value::as_u64)
                    != Some(admin_before)
            {
                fail(step, format!("{view}"));
            }
        }
        _ => fail(step, format!("status {} {}", dry.status, body_json(&dry))),
    }
    cancel_a_job(fixture, send, failures).await;
}

/// A job cancelled by an operator while it runs: 200 `cancelled` naming them, 409 for a second
/// cancel, and the next job may start.
async fn cancel_a_job<F, Fut>(fixture: &Fixture, send: &mut F, failures: &mut Vec<String>)
where
    F: FnMut(RevocationRequest) -> Fut,
    Fut: Future<Output = Observed>,
{
    let admin = || authorization(fixture, Token::Admin);
    let request = |method, path: &str, body: &str| RevocationRequest {
        app: RevocationApp::Operators,
        method,
        path: path.to_owned(),
        authorization: admin(),
        content_type: Some("application/json"),
        body: body.as_bytes().to_vec(),
    };
    // Slow answers keep the job running through the next steps (in-process, no socket).
    fixture.sim.set_faults(Faults {
        latency_ms: 200,
        ..Faults::default()
    });
    let started = send(request(
        RequestMethod::Post,
        REVOKE_PATH,
        r#"{"all": true, "dry_run": true}"#,
    ))
    .await;
    let Some(job) = body_json(&started)
        .get("job")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        fixture.sim.set_faults(Faults::default());
        failures.push(format!(
            "cancel: no job started: {} {}",
            started.status,
            body_json(&started)
        ));
        return;
    };
    let path = format!("{REVOKE_PATH}/{job}");
    let cancelled = send(request(RequestMethod::Delete, &path, "")).await;
    let view = body_json(&cancelled);
    if cancelled.status != 200
        || view.get("state").and_then(Value::as_str) != Some("cancelled")
        || view
            .pointer("/cancelled_by/user_id")
            .and_then(Value::as_str)
            != Some(fixture.tokens.admin_id.as_str())
    {
        failures.push(format!(
            "cancel a running job → 200 cancelled: {} {view}",
            cancelled.status
        ));
    }
    let again = send(request(RequestMethod::Delete, &path, "")).await;
    if again.status != 409
        || body_json(&again).get("error").and_then(Value::as_str) != Some("job_ended")
    {
        failures.push(format!(
            "cancel it again → 409 job_ended: {} {}",
            again.status,
            body_json(&again)
        ));
    }
    let status = send(request(RequestMethod::Get, &path, "")).await;
    if body_json(&status).get("state").and_then(Value::as_str) != Some("cancelled") {
        failures.push(format!(
            "status after the cancel → cancelled: {}",
            body_json(&status)
        ));
    }
    fixture.sim.set_faults(Faults::default());
    let next = send(request(
        RequestMethod::Post,
        REVOKE_PATH,
        r#"{"all": true, "dry_run": true}"#,
    ))
    .await;
    if next.status != 202 {
        failures.push(format!(
            "a job after the cancel → 202: {} {}",
            next.status,
            body_json(&next)
        ));
    }
}

fn authorization(fixture: &Fixture, token: Token) -> Option<Vec<u8>> {
    let tokens = &fixture.tokens;
    let token = match token {
        Token::Missing => return None,
        Token::Admin => &tokens.admin_v1,
        Token::Member => &tokens.member_v2,
        Token::AdminExpiredRecently => &tokens.expired_recently,
        Token::OtherOrgAdmin => &tokens.other_org_admin,
        Token::ImpersonatedAdmin => &tokens.impersonated_admin,
        Token::ListedMember => &tokens.listed_member,
    };
    Some(format!("Bearer {token}").into_bytes())
}

fn header(observed: &Observed, name: &str) -> Option<String> {
    observed
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
}

fn body_json(observed: &Observed) -> Value {
    serde_json::from_slice(&observed.body).unwrap_or(Value::Null)
}
