//! One case per rule (at least), fed to the classifier as synthetic probe results; a meta-test
//! checks that every rule of the table has one.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;
use crate::triage::app_health::AppHealthSnapshot;
use crate::triage::status_page::StatusPageReport;

fn probe(name: ProbeName, outcome: ProbeOutcome) -> ProbeResult {
    ProbeResult::new(
        name,
        Some("http://127.0.0.1:9".into()),
        outcome,
        Duration::ZERO,
    )
}

fn page(json: &str) -> ProbeResult {
    probe(
        ProbeName::StatusPage,
        ProbeOutcome::StatusPage {
            report: StatusPageReport::parse(json.as_bytes()),
        },
    )
}

/// An incident.io widget with one ongoing incident of `impact` on `components`.
fn widget(impact: &str, components: &[&str]) -> ProbeResult {
    let affected: Vec<String> = components
        .iter()
        .map(|name| format!(r#"{{"id":"c-{name}","name":"{name}"}}"#))
        .collect();
    page(&format!(
        r#"{{"ongoing_incidents":[{{"id":"01M1C1MY1NGFDMHZSREESJWK59","name":"Trouble","status":"investigating","current_worst_impact":"{impact}","affected_components":[{}],"last_update_message":"Looking into it"}}],"in_progress_maintenances":[],"scheduled_maintenances":[]}}"#,
        affected.join(",")
    ))
}

fn page_ok() -> ProbeResult {
    page(
        r#"{"status":{"indicator":"none"},"components":[{"name":"Backend API","status":"operational"}]}"#,
    )
}

fn page_minor() -> ProbeResult {
    page(
        r#"{"status":{"indicator":"minor"},"components":[{"name":"Backend API","status":"degraded_performance"}]}"#,
    )
}

fn page_major() -> ProbeResult {
    page(
        r#"{"status":{"indicator":"major"},"incidents":[{"name":"Down","status":"investigating","impact":"major"}]}"#,
    )
}

fn api(status: u16) -> ProbeResult {
    probe(
        ProbeName::BackendApi,
        ProbeOutcome::BackendApi {
            status,
            code: None,
            retry_after_secs: None,
        },
    )
}

fn timed_out(name: ProbeName) -> ProbeResult {
    probe(name, ProbeOutcome::TimedOut { timeout_ms: 100 })
}

fn refused(name: ProbeName) -> ProbeResult {
    probe(
        name,
        ProbeOutcome::Unreachable {
            error: "could not connect".into(),
        },
    )
}

fn not_checked(name: ProbeName) -> ProbeResult {
    probe(
        name,
        ProbeOutcome::NotChecked {
            reason: "not configured".into(),
            remedy: "configure it".into(),
        },
    )
}

fn skipped(name: ProbeName) -> ProbeResult {
    probe(
        name,
        ProbeOutcome::Skipped {
            reason: "left out with --skip".into(),
        },
    )
}

fn jwks(found: bool) -> ProbeResult {
    probe(
        ProbeName::Jwks,
        ProbeOutcome::Jwks {
            kids: vec!["ins_1".into()],
            expected_kid: Some(if found { "ins_1" } else { "ins_2" }.into()),
            expected_kid_found: Some(found),
        },
    )
}

fn jwks_status(status: u16) -> ProbeResult {
    probe(
        ProbeName::Jwks,
        ProbeOutcome::ErrorStatus { status, code: None },
    )
}

fn app(status: u16, body: &str) -> ProbeResult {
    probe(
        ProbeName::AppHealth,
        ProbeOutcome::AppHealth {
            status,
            health: AppHealthSnapshot::parse(body.as_bytes()),
        },
    )
}

const HEALTH_OK: &str = r#"{"status":"ok","ready":true,"mode":{"mode":"enforce"},"keys":{"key_count":1,"staleness_secs":30},"counters":{"verified":100,"rejected":{"missing":40}}}"#;
const HEALTH_SPIKE: &str = r#"{"status":"ok","ready":true,"mode":{"mode":"enforce"},"keys":{"key_count":1},"counters":{"verified":100,"rejected":{"expired":30,"unknown_key":5}}}"#;
const HEALTH_GRACE: &str = r#"{"status":"degraded","mode":{"mode":"grace","max_token_age_secs":1800,"reason":"INC-1"},"keys":{"key_count":1},"counters":{"verified":10}}"#;
const HEALTH_OPEN: &str = r#"{"status":"degraded","mode":{"mode":"open","reason":"INC-1"},"keys":{"key_count":1},"counters":{"bypassed":7}}"#;
const HEALTH_KEY_ERROR: &str = r#"{"status":"degraded","mode":{"mode":"enforce"},"keys":{"key_count":1,"staleness_secs":900,"last_error":"the JWKS fetch timed out"},"counters":{}}"#;
const HEALTH_UNAVAILABLE: &str = r#"{"status":"unavailable","mode":{"mode":"enforce"},"keys":{"key_count":0,"too_stale":true},"counters":{}}"#;
const HEALTH_KEY_REJECTED: &str = r#"{"status":"unavailable","ready":false,"problem":"no verification key: the Backend API answered 401 to the JWKS fetch: the secret key is rejected","mode":{"mode":"enforce"},"keys":{"key_count":0,"fetches":1,"last_error":"the Backend API answered 401 to the JWKS fetch: the secret key is rejected","last_error_status":401},"counters":{}}"#;
const HEALTH_NOT_FETCHED: &str = r#"{"status":"degraded","mode":{"mode":"enforce"},"keys":{"source":"backend_api","key_count":0,"fetches":0},"counters":{}}"#;

struct Case {
    name: &'static str,
    rule: &'static str,
    probes: Vec<ProbeResult>,
    symptoms: Vec<Symptom>,
}

fn case(name: &'static str, rule: &'static str, probes: Vec<ProbeResult>) -> Case {
    Case {
        name,
        rule,
        probes,
        symptoms: Vec::new(),
    }
}

impl Case {
    fn with(mut self, symptom: Symptom) -> Self {
        self.symptoms.push(symptom);
        self
    }
}

fn cases() -> Vec<Case> {
    use ProbeName::{AppHealth, BackendApi, Jwks, StatusPage};
    use Symptom::{RandomLogouts, UnauthorizedAccess, UsersMissing};
    let healthy = || vec![page_ok(), api(200), jwks(true), app(200, HEALTH_OK)];
    vec![
        case(
            "incident.io: full outage of sign-in, the API fails",
            "status_page_outage",
            vec![
                widget("full_outage", &["User and authentication"]),
                api(503),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: a full outage of an unnamed part",
            "status_page_outage",
            vec![
                widget("full_outage", &[]),
                timed_out(BackendApi),
                not_checked(Jwks),
                not_checked(AppHealth),
            ],
        ),
        case(
            "incident.io: session management degraded",
            "status_page_sessions",
            vec![
                widget("degraded_performance", &["Session management", "Dashboard"]),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: email delivery down",
            "status_page_delivery",
            vec![
                widget("full_outage", &["Email delivery"]),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: webhooks late",
            "status_page_webhooks",
            vec![
                widget("partial_outage", &["Webhooks"]),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: webhooks down while the API fails",
            "clerk_server_errors",
            vec![
                widget("full_outage", &["Webhooks"]),
                api(503),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: the Dashboard only",
            "status_page_operations",
            vec![
                widget("partial_outage", &["Dashboard"]),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: an impact this version does not know ranks as a full outage",
            "status_page_outage_api_ok",
            vec![
                widget("cosmic_rays", &["User and authentication"]),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "incident.io: nothing ongoing",
            "healthy",
            vec![
                page(
                    r#"{"page_title":"Clerk","ongoing_incidents":[],"in_progress_maintenances":[],"scheduled_maintenances":[{"name":"Later"}]}"#,
                ),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "every probe timed out",
            "no_answer",
            vec![
                timed_out(StatusPage),
                timed_out(BackendApi),
                timed_out(Jwks),
                timed_out(AppHealth),
            ],
        ),
        case(
            "timed out or refused, the rest skipped",
            "no_answer",
            vec![
                refused(StatusPage),
                timed_out(BackendApi),
                not_checked(Jwks),
                not_checked(AppHealth),
            ],
        )
        .with(RandomLogouts),
        case("compromise with a working key", "key_compromise", healthy()).with(UnauthorizedAccess),
        case(
            "compromise with a revoked key",
            "key_compromise",
            vec![
                page_ok(),
                api(401),
                jwks_status(401),
                not_checked(AppHealth),
            ],
        )
        .with(UnauthorizedAccess),
        case(
            "status page major, API 503",
            "status_page_outage",
            vec![
                page_major(),
                api(503),
                jwks_status(503),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "status page major, no key to check",
            "status_page_outage",
            vec![
                page_major(),
                not_checked(BackendApi),
                not_checked(Jwks),
                not_checked(AppHealth),
            ],
        ),
        case(
            "API 500 while the page says operational",
            "clerk_server_errors",
            vec![page_ok(), api(500), jwks(true), not_checked(AppHealth)],
        ),
        case(
            "JWKS 502",
            "clerk_server_errors",
            vec![
                page_minor(),
                api(200),
                jwks_status(502),
                not_checked(AppHealth),
            ],
        ),
        case(
            "API refused, the page says operational",
            "clerk_unreachable_status_operational",
            vec![
                page_ok(),
                refused(BackendApi),
                not_checked(Jwks),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "API times out, the page times out too",
            "clerk_unreachable",
            vec![
                timed_out(StatusPage),
                timed_out(BackendApi),
                not_checked(Jwks),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "JWKS refused, the page degraded",
            "clerk_unreachable",
            vec![
                page_minor(),
                api(200),
                refused(Jwks),
                not_checked(AppHealth),
            ],
        ),
        case(
            "status page major, the instance answers",
            "status_page_outage_api_ok",
            vec![page_major(), api(200), jwks(true), app(200, HEALTH_OK)],
        ),
        case(
            "status page minor",
            "status_page_degraded",
            vec![page_minor(), api(200), jwks(true), app(200, HEALTH_OK)],
        ),
        case(
            "429",
            "api_rate_limited",
            vec![page_ok(), api(429), jwks(true), not_checked(AppHealth)],
        ),
        case(
            "unauthorized access, no key",
            "unauthorized_access_unverified",
            vec![
                page_ok(),
                not_checked(BackendApi),
                not_checked(Jwks),
                app(200, HEALTH_OK),
            ],
        )
        .with(UnauthorizedAccess),
        case(
            "revoked key",
            "secret_key_rejected",
            vec![page_ok(), api(401), jwks_status(401), app(200, HEALTH_OK)],
        ),
        case(
            "expected kid missing",
            "jwks_missing_kid",
            vec![page_ok(), api(200), jwks(false), app(200, HEALTH_OK)],
        ),
        case(
            "app health 500",
            "app_health_failing",
            vec![
                page_ok(),
                api(200),
                jwks(true),
                app(500, "Internal Server Error"),
            ],
        ),
        case(
            "app health unreachable",
            "app_health_failing",
            vec![
                page_ok(),
                not_checked(BackendApi),
                not_checked(Jwks),
                refused(AppHealth),
            ],
        ),
        case(
            "app health unavailable (503, no usable key)",
            "app_health_failing",
            vec![
                page_ok(),
                api(200),
                jwks(true),
                app(503, HEALTH_UNAVAILABLE),
            ],
        ),
        case(
            "app health times out",
            "app_health_failing",
            vec![page_ok(), api(200), not_checked(Jwks), timed_out(AppHealth)],
        ),
        case(
            "app key refresh failing",
            "app_key_refresh_failing",
            vec![page_ok(), api(200), jwks(true), app(200, HEALTH_KEY_ERROR)],
        ),
        case(
            "random logouts with a spike",
            "session_rejection_spike",
            vec![page_ok(), api(200), jwks(true), app(200, HEALTH_SPIKE)],
        )
        .with(RandomLogouts),
        case(
            "Open bypass left on",
            "open_bypass_while_clerk_healthy",
            vec![page_ok(), api(200), jwks(true), app(200, HEALTH_OPEN)],
        ),
        case("users missing", "webhook_backlog", healthy()).with(UsersMissing),
        case(
            "users missing, no app probe",
            "webhook_backlog",
            vec![
                page_ok(),
                api(200),
                not_checked(Jwks),
                not_checked(AppHealth),
            ],
        )
        .with(UsersMissing),
        case(
            "Grace left on",
            "grace_while_clerk_healthy",
            vec![page_ok(), api(200), jwks(true), app(200, HEALTH_GRACE)],
        ),
        case(
            "random logouts, no spike",
            "random_logouts_reported",
            healthy(),
        )
        .with(RandomLogouts),
        case(
            "rejection spike, nothing reported",
            "rejection_spike",
            vec![page_ok(), api(200), jwks(true), app(200, HEALTH_SPIKE)],
        ),
        case("all clear", "healthy", healthy()),
        case(
            "only the status page, the rest not checked",
            "not_checked",
            vec![
                page_ok(),
                not_checked(BackendApi),
                not_checked(Jwks),
                not_checked(AppHealth),
            ],
        ),
        case(
            "only the status page, the rest skipped on purpose",
            "healthy",
            vec![
                page_ok(),
                skipped(BackendApi),
                skipped(Jwks),
                skipped(AppHealth),
            ],
        ),
        case(
            "the app not checked",
            "not_checked",
            vec![page_ok(), api(200), jwks(true), not_checked(AppHealth)],
        ),
        case(
            "the app skipped on purpose",
            "healthy",
            vec![page_ok(), api(200), jwks(true), skipped(AppHealth)],
        ),
        case(
            "the status page skipped on purpose",
            "healthy",
            vec![
                skipped(StatusPage),
                api(200),
                jwks(true),
                app(200, HEALTH_OK),
            ],
        ),
        case(
            "everything skipped",
            "inconclusive",
            vec![
                skipped(StatusPage),
                skipped(BackendApi),
                skipped(Jwks),
                skipped(AppHealth),
            ],
        ),
        case(
            "keys not fetched yet",
            "app_health_failing",
            vec![
                page_ok(),
                api(200),
                jwks(true),
                app(200, HEALTH_NOT_FETCHED),
            ],
        ),
        case(
            "not ready, the public summary",
            "app_health_failing",
            vec![
                page_ok(),
                api(200),
                jwks(true),
                app(
                    200,
                    r#"{"status":"degraded","mode":"enforce","ready":false,"problem":"no verification key yet"}"#,
                ),
            ],
        ),
        case(
            "the app's key fetch answered 401",
            "app_secret_key_rejected",
            vec![
                page_ok(),
                api(200),
                jwks(true),
                app(503, HEALTH_KEY_REJECTED),
            ],
        ),
        case(
            "status page unreadable, the key works",
            "status_page_unavailable",
            vec![page("<html>"), api(200), jwks(true), app(200, HEALTH_OK)],
        ),
        case(
            "status page unreadable, nothing else",
            "not_checked",
            vec![
                page("{}"),
                not_checked(BackendApi),
                not_checked(Jwks),
                not_checked(AppHealth),
            ],
        ),
        case(
            "a generic health handler that says ok and nothing more",
            "inconclusive",
            vec![
                page_ok(),
                api(200),
                jwks(true),
                app(200, r#"{"status":"ok"}"#),
            ],
        ),
        case(
            "app health 404 (wrong URL)",
            "inconclusive",
            vec![page_ok(), api(200), jwks(true), app(404, "not found")],
        ),
        case(
            "app down and Clerk unconfirmed",
            "app_failing_clerk_unconfirmed",
            vec![
                timed_out(StatusPage),
                not_checked(BackendApi),
                not_checked(Jwks),
                app(502, ""),
            ],
        ),
        case("no probe at all", "not_checked", vec![]),
    ]
}

#[test]
fn every_case_reaches_its_rule() {
    for case in cases() {
        let got = classify(&case.probes, &case.symptoms);
        assert_eq!(got.rule, case.rule, "case {:?}", case.name);
        let rule = RULES.iter().find(|r| r.name == case.rule).unwrap();
        assert_eq!(got.category, rule.category, "case {:?}", case.name);
        assert_eq!(got.severity, rule.severity, "case {:?}", case.name);
    }
}

#[test]
fn every_rule_has_a_case() {
    let covered: BTreeSet<&str> = cases().iter().map(|c| c.rule).collect();
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.name)
        .filter(|name| !covered.contains(name))
        .collect();
    assert!(missing.is_empty(), "rules without a test case: {missing:?}");
}

#[test]
fn rule_names_are_unique_and_the_last_always_applies() {
    let names: BTreeSet<&str> = RULES.iter().map(|r| r.name).collect();
    assert_eq!(names.len(), RULES.len());
    assert_eq!(RULES.last().map(|r| r.name), Some("inconclusive"));
    assert_eq!(rules().count(), RULES.len());
}

#[test]
fn the_suggested_severities_hold() {
    let of = |name: &str| {
        let rule = RULES.iter().find(|r| r.name == name).unwrap();
        (rule.category, rule.severity)
    };
    use Category::*;
    assert_eq!(of("status_page_outage"), (ClerkOutage, Severity::Critical));
    assert_eq!(of("clerk_unreachable"), (ClerkOutage, Severity::Critical));
    assert_eq!(of("status_page_degraded"), (ClerkOutage, Severity::High));
    assert_eq!(of("key_compromise"), (KeyCompromise, Severity::Critical));
    assert_eq!(
        of("secret_key_rejected"),
        (ConfigurationError, Severity::High)
    );
    assert_eq!(of("jwks_missing_kid"), (ConfigurationError, Severity::High));
    assert_eq!(
        of("app_health_failing"),
        (MiddlewareFailure, Severity::High)
    );
    assert_eq!(
        of("session_rejection_spike"),
        (SessionIssues, Severity::Medium)
    );
    assert_eq!(of("webhook_backlog"), (WebhookBacklog, Severity::Medium));
    assert_eq!(of("healthy"), (Healthy, Severity::None));
    assert_eq!(of("no_answer"), (Unknown, Severity::Medium));
    // Every category is reachable.
    let reachable: BTreeSet<&str> = RULES.iter().map(|r| r.category.as_str()).collect();
    assert_eq!(reachable.len(), Category::ALL.len());
}

#[test]
fn evidence_is_what_decided() {
    let probes = vec![page_ok(), api(401), jwks_status(401), app(200, HEALTH_OK)];
    let got = classify(&probes, &[Symptom::UnauthorizedAccess]);
    assert_eq!(got.category, Category::KeyCompromise);
    let sources: Vec<EvidenceSource> = got.evidence.iter().map(|e| e.source).collect();
    assert_eq!(
        sources,
        [
            EvidenceSource::Probe(ProbeName::BackendApi),
            EvidenceSource::Probe(ProbeName::AppHealth),
            EvidenceSource::Operator
        ]
    );
    assert!(got.evidence[0].detail.contains("401"), "{:?}", got.evidence);
    assert_eq!(
        got.evidence[2].detail,
        "operator reports unauthorized access"
    );
    assert!(!got.next_commands.is_empty());

    // Probes left out on purpose are not evidence; probes that could not run are.
    let got = classify(&[page_major(), skipped(ProbeName::BackendApi)], &[]);
    assert_eq!(got.evidence.len(), 1, "{:?}", got.evidence);
    let got = classify(
        &[
            page_ok(),
            api(200),
            jwks(true),
            not_checked(ProbeName::AppHealth),
        ],
        &[],
    );
    assert_eq!(got.rule, "not_checked");
    assert!(
        got.evidence
            .iter()
            .any(|e| e.source == EvidenceSource::Probe(ProbeName::AppHealth)
                && e.detail.contains("not configured")),
        "{:?}",
        got.evidence
    );
}

#[test]
fn duplicate_symptoms_count_once() {
    let got = classify(
        &[page_ok(), api(200)],
        &[Symptom::UsersMissing, Symptom::UsersMissing],
    );
    assert_eq!(got.rule, "webhook_backlog");
    assert_eq!(
        got.evidence
            .iter()
            .filter(|e| e.source == EvidenceSource::Operator)
            .count(),
        1
    );
}

/// Every bypass a rule suggests starts a service as written (with the `$(date …)` evaluated):
/// a suggestion the service would refuse is worse than none in the middle of an outage.
#[test]
fn every_suggested_bypass_is_accepted_by_the_service() {
    let mut checked = 0;
    for rule in super::rules() {
        for line in rule.next_commands {
            if !line.contains("CLERK_EMERGENCY_BYPASS=") {
                continue;
            }
            let vars = assignments(line);
            let switch = crate::auth::BypassSwitch::from_vars(|name| {
                vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
            });
            let switch = switch.unwrap_or_else(|err| panic!("{}: {line}: {err}", rule.name));
            assert!(switch.mode().is_bypass(), "{}: {line}", rule.name);
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} suggestions checked");
}

/// The `NAME=value` assignments of a shell line, a `$(…)` value evaluated.
fn assignments(line: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("CLERK_EMERGENCY_BYPASS") {
        rest = &rest[start..];
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let (value, next) = match after.strip_prefix("$(") {
            Some(command) => {
                let end = command.find(')').unwrap_or(command.len());
                (evaluate(&command[..end]), &command[end..])
            }
            None => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (after[..end].to_owned(), &after[end..])
            }
        };
        vars.push((name.to_owned(), value));
        rest = next;
    }
    vars
}

/// `date -u -d '+N min' +%FT%TZ` as the shell would print it now.
fn evaluate(value: &str) -> String {
    let Some(minutes) = value
        .strip_prefix("date -u -d '+")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return value.to_owned();
    };
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(minutes * 60);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A 401 from the Backend API is a rejected key whatever Clerk's code says.
#[test]
fn a_401_is_a_rejected_key_whatever_its_code() {
    for code in [
        Some("clerk_key_invalid"),
        Some("authentication_invalid"),
        Some("some_future_code"),
        None,
    ] {
        let api = probe(
            ProbeName::BackendApi,
            ProbeOutcome::BackendApi {
                status: 401,
                code: code.map(str::to_owned),
                retry_after_secs: None,
            },
        );
        let got = classify(
            &[page_ok(), api, jwks_status(401), app(200, HEALTH_OK)],
            &[],
        );
        assert_eq!(got.rule, "secret_key_rejected", "{code:?}");
    }
}
