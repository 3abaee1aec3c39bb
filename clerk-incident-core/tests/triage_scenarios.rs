//! Triage end to end over real HTTP on 127.0.0.1: each category reached from the sim's fault
//! modes, and the app's health served from a real [`AuthPolicy`]'s state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clerk_incident_core::api::SecretKey;
use clerk_incident_core::auth::{
    AuthPolicy, BackendApiJwks, BypassSwitch, Credentials, HealthToken, JwksCache, JwksCacheConfig,
    KeySource, RouteClass, Verifier, VerifierConfig,
};
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use clerk_incident_core::triage::{
    self, Category, EvidenceSource, ProbeName, ProbeOutcome, ProbeStatus, Severity, Symptom,
    TriageConfig, TriageReport,
};
use clerk_incident_sim::{
    ComponentStatus as SimComponentStatus, Faults, Outage, RateLimitFault, Sim, StatusPage,
    StatusPageFormat, TokenRequest,
};
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIMEOUT: Duration = Duration::from_secs(3);

fn http() -> Arc<dyn HttpClient> {
    Arc::new(ReqwestClient::new().unwrap())
}

/// Every probe pointed at the sim (the Frontend API JWKS, the instance's kid), no app yet.
fn config(sim: &Sim) -> TriageConfig {
    TriageConfig::new(sim.base_url())
        .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
        .jwks_url(sim.jwks_url())
        .expected_kid(sim.signing_kid())
        .timeout(TIMEOUT)
}

/// An auth policy over the sim's pinned key, as the example services build it.
fn policy(sim: &Sim) -> AuthPolicy {
    let verifier = Verifier::new(
        KeySource::pem(sim.public_key_pem()).unwrap(),
        VerifierConfig::default().issuers([sim.issuer()]),
    );
    AuthPolicy::new(verifier, BypassSwitch::new())
}

/// A policy over the Backend API JWKS fetched with `key`, nothing fetched yet, and its cache.
fn policy_over_backend_api(sim: &Sim, key: &str) -> (AuthPolicy, JwksCache) {
    let api = clerk_incident_core::api::ClerkApi::builder(SecretKey::new(key))
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let cache = JwksCache::new(BackendApiJwks(api), JwksCacheConfig::default());
    let verifier = Verifier::new(
        KeySource::Jwks(cache.clone()),
        VerifierConfig::default().issuers([sim.issuer()]),
    );
    (AuthPolicy::new(verifier, BypassSwitch::new()), cache)
}

/// Serves `policy`'s health, as the adapters' `/api/clerk-health` does, at the returned URL.
async fn serve_health(policy: &AuthPolicy) -> (MockServer, String) {
    let health = serde_json::to_value(policy.health()).unwrap();
    let status = if health["status"] == "unavailable" {
        503
    } else {
        200
    };
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/clerk-health"))
        .respond_with(ResponseTemplate::new(status).set_body_json(health))
        .mount(&server)
        .await;
    let url = format!("{}/api/clerk-health", server.uri());
    (server, url)
}

/// `count` tokens of `user` that expired five minutes ago, refused by `policy`: what the app
/// sees when the frontend stopped refreshing sessions.
async fn reject_expired_tokens(sim: &Sim, policy: &AuthPolicy, user: &str, count: usize) {
    for _ in 0..count {
        let expired = sim
            .mint_token(
                &TokenRequest::for_user(user)
                    .issued_at(SystemTime::now() - Duration::from_secs(300)),
            )
            .unwrap();
        let header = format!("Bearer {expired}");
        let credentials = Credentials::authorization(header.as_bytes());
        let _ = policy.decide(&credentials, RouteClass::Protected).await;
    }
}

/// A URL on 127.0.0.1 where nothing listens.
fn closed_url(path: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}{path}")
}

fn probe(report: &TriageReport, name: ProbeName) -> &triage::ProbeResult {
    report.probes.iter().find(|p| p.name == name).unwrap()
}

fn assert_verdict(report: &TriageReport, category: Category, severity: Severity, rule: &str) {
    assert_eq!(
        (
            report.classification.category,
            report.classification.severity,
            report.classification.rule
        ),
        (category, severity, rule),
        "\n{report}"
    );
}

#[tokio::test]
async fn all_clear_is_healthy() {
    let sim = Sim::builder().start().await.unwrap();
    let policy = policy(&sim);
    let (_app, health_url) = serve_health(&policy).await;

    let report = triage::run(http(), &config(&sim).app_health_url(health_url)).await;
    assert_verdict(&report, Category::Healthy, Severity::None, "healthy");
    assert!(report.classification.next_commands.is_empty());
    assert_eq!(report.probes.len(), 4);
    for probe in &report.probes {
        assert_eq!(probe.status(), ProbeStatus::Ok, "{probe}");
    }
    assert!(matches!(
        probe(&report, ProbeName::Jwks).outcome,
        ProbeOutcome::Jwks {
            expected_kid_found: Some(true),
            ..
        }
    ));
    // The probe is one request, without retries.
    assert_eq!(sim.counters().get("GET /v1/users"), 1);
    eprintln!("healthy triage against the sim: {:?}", report.elapsed);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["category"], "healthy");
    assert_eq!(json["severity"], "none");
    assert_eq!(json["probes"][1]["name"], "backend_api");
    assert_eq!(json["probes"][1]["outcome"]["status"], 200);
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains(sim.secret_key()), "no secret in the report");
    assert!(!report.to_string().contains(sim.secret_key()));
    assert!(
        !format!("{:?}", config(&sim)).contains(sim.secret_key()),
        "nor in the config's Debug"
    );
}

#[tokio::test]
async fn the_backend_api_jwks_is_probed_without_a_jwks_url() {
    let sim = Sim::builder().start().await.unwrap();
    let config = TriageConfig::new(sim.base_url())
        .secret_key(sim.base_url(), SecretKey::new(sim.secret_key()))
        .expected_kid(sim.signing_kid())
        .skip(ProbeName::AppHealth)
        .timeout(TIMEOUT);
    let report = triage::run(http(), &config).await;
    assert_verdict(&report, Category::Healthy, Severity::None, "healthy");
    let jwks = probe(&report, ProbeName::Jwks);
    assert!(jwks.target.as_deref().unwrap().ends_with("/v1/jwks"));
    assert_eq!(jwks.status(), ProbeStatus::Ok);
    let app = probe(&report, ProbeName::AppHealth);
    assert_eq!(app.status(), ProbeStatus::Skipped);
    assert_eq!(app.summary(), "skipped (left out with --skip app)");
    assert!(
        report
            .to_string()
            .contains("skipped (left out with --skip app)")
    );
}

#[tokio::test]
async fn major_outage_with_503_is_a_critical_clerk_outage() {
    let sim = Sim::builder()
        .status_page(StatusPage::major_outage())
        .start()
        .await
        .unwrap();
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let report = triage::run(http(), &config(&sim)).await;
    assert_verdict(
        &report,
        Category::ClerkOutage,
        Severity::Critical,
        "status_page_outage",
    );
    assert!(matches!(
        probe(&report, ProbeName::BackendApi).outcome,
        ProbeOutcome::BackendApi { status: 503, .. }
    ));
    assert!(matches!(
        probe(&report, ProbeName::Jwks).outcome,
        ProbeOutcome::ErrorStatus { status: 503, .. }
    ));
    let sources: Vec<EvidenceSource> = report
        .classification
        .evidence
        .iter()
        .map(|e| e.source)
        .collect();
    assert!(sources.contains(&EvidenceSource::Probe(ProbeName::StatusPage)));
    assert!(sources.contains(&EvidenceSource::Probe(ProbeName::BackendApi)));
    assert!(
        report
            .classification
            .next_commands
            .iter()
            .any(|c| c.contains("CLERK_EMERGENCY_BYPASS=grace")),
        "{:?}",
        report.classification.next_commands
    );
    assert_eq!(sim.counters().get("GET /v1/users"), 1, "no retries");
}

/// The sim serves its page as incident.io's widget or as Statuspage's summary: triage reads
/// either the same way and says which answered.
#[tokio::test]
async fn both_status_page_formats_of_the_sim_give_the_same_verdicts() {
    for (format, shown) in [
        (StatusPageFormat::IncidentIo, "incident.io widget"),
        (StatusPageFormat::Statuspage, "Statuspage summary"),
    ] {
        let sim = Sim::builder()
            .status_page(StatusPage::major_outage().in_format(format))
            .start()
            .await
            .unwrap();
        sim.set_faults(Faults {
            outage: Some(Outage::Unavailable),
            ..Faults::default()
        });
        let report = triage::run(http(), &config(&sim).skip(ProbeName::AppHealth)).await;
        assert_verdict(
            &report,
            Category::ClerkOutage,
            Severity::Critical,
            "status_page_outage",
        );
        assert!(
            probe(&report, ProbeName::StatusPage)
                .summary()
                .starts_with(shown),
            "{report}"
        );

        sim.set_faults(Faults::default());
        sim.set_status_page(
            StatusPage::incident_on(
                &["Webhooks"],
                SimComponentStatus::PartialOutage,
                "Webhook deliveries delayed",
            )
            .in_format(format),
        );
        let report = triage::run(http(), &config(&sim).skip(ProbeName::AppHealth)).await;
        assert_verdict(
            &report,
            Category::WebhookBacklog,
            Severity::Medium,
            "status_page_webhooks",
        );
        let page = probe(&report, ProbeName::StatusPage).summary();
        assert!(page.contains("Webhooks: partial outage"), "{page}");
        assert!(page.contains("Webhook deliveries delayed"), "{page}");

        sim.set_status_page(StatusPage::operational().in_format(format));
        let report = triage::run(http(), &config(&sim).skip(ProbeName::AppHealth)).await;
        assert_verdict(&report, Category::Healthy, Severity::None, "healthy");
    }
}

#[tokio::test]
async fn a_degraded_status_page_is_a_high_clerk_outage() {
    let sim = Sim::builder()
        .status_page(StatusPage::degraded())
        .start()
        .await
        .unwrap();
    let report = triage::run(http(), &config(&sim)).await;
    assert_verdict(
        &report,
        Category::ClerkOutage,
        Severity::High,
        "status_page_degraded",
    );
}

#[tokio::test]
async fn api_503_alone_is_a_clerk_outage() {
    let sim = Sim::builder().start().await.unwrap();
    sim.set_faults(Faults {
        outage: Some(Outage::Unavailable),
        ..Faults::default()
    });
    let report = triage::run(http(), &config(&sim)).await;
    assert_verdict(
        &report,
        Category::ClerkOutage,
        Severity::Critical,
        "clerk_server_errors",
    );
}

#[tokio::test]
async fn a_revoked_key_is_a_configuration_error_or_a_compromise() {
    let sim = Sim::builder().start().await.unwrap();
    sim.revoke_secret_key(sim.secret_key());
    let report = triage::run(http(), &config(&sim)).await;
    assert_verdict(
        &report,
        Category::ConfigurationError,
        Severity::High,
        "secret_key_rejected",
    );
    assert!(matches!(
        &probe(&report, ProbeName::BackendApi).outcome,
        ProbeOutcome::BackendApi { status: 401, code: Some(code), .. } if code == "clerk_key_invalid"
    ));

    let report = triage::run(http(), &config(&sim).symptom(Symptom::UnauthorizedAccess)).await;
    assert_verdict(
        &report,
        Category::KeyCompromise,
        Severity::Critical,
        "key_compromise",
    );
    assert!(
        report
            .classification
            .evidence
            .iter()
            .any(|e| e.source == EvidenceSource::Operator)
    );
}

#[tokio::test]
async fn unauthorized_access_with_a_working_key_is_a_compromise() {
    let sim = Sim::builder().start().await.unwrap();
    let report = triage::run(http(), &config(&sim).symptom(Symptom::UnauthorizedAccess)).await;
    assert_verdict(
        &report,
        Category::KeyCompromise,
        Severity::Critical,
        "key_compromise",
    );
}

#[tokio::test]
async fn a_missing_kid_is_a_configuration_error() {
    let sim = Sim::builder().start().await.unwrap();
    let report = triage::run(http(), &config(&sim).expected_kid("ins_someone_else")).await;
    assert_verdict(
        &report,
        Category::ConfigurationError,
        Severity::High,
        "jwks_missing_kid",
    );
}

#[tokio::test]
async fn app_health_5xx_while_clerk_is_fine_is_a_middleware_failure() {
    let sim = Sim::builder().start().await.unwrap();
    let app = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/clerk-health"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .mount(&app)
        .await;
    let url = format!("{}/api/clerk-health", app.uri());
    let report = triage::run(http(), &config(&sim).app_health_url(url)).await;
    assert_verdict(
        &report,
        Category::MiddlewareFailure,
        Severity::High,
        "app_health_failing",
    );
    assert_eq!(
        probe(&report, ProbeName::AppHealth).status(),
        ProbeStatus::Failed
    );
}

#[tokio::test]
async fn app_health_unreachable_while_clerk_is_fine_is_a_middleware_failure() {
    let sim = Sim::builder().start().await.unwrap();
    let url = closed_url("/api/clerk-health");
    let report = triage::run(http(), &config(&sim).app_health_url(url)).await;
    assert_verdict(
        &report,
        Category::MiddlewareFailure,
        Severity::High,
        "app_health_failing",
    );
    assert!(matches!(
        probe(&report, ProbeName::AppHealth).outcome,
        ProbeOutcome::Unreachable { .. }
    ));
}

#[tokio::test]
async fn random_logouts_with_rejection_spikes_are_session_issues() {
    let sim = Sim::builder().start().await.unwrap();
    let policy = policy(&sim);
    let admin = sim.admin_user_id().unwrap();
    reject_expired_tokens(&sim, &policy, &admin, 20).await;
    let (_app, health_url) = serve_health(&policy).await;
    let report = triage::run(
        http(),
        &config(&sim)
            .app_health_url(health_url)
            .symptom(Symptom::RandomLogouts),
    )
    .await;
    assert_verdict(
        &report,
        Category::SessionIssues,
        Severity::Medium,
        "session_rejection_spike",
    );
    let app = probe(&report, ProbeName::AppHealth);
    assert!(app.summary().contains("expired 20"), "{app}");
}

#[tokio::test]
async fn users_missing_while_all_works_is_a_webhook_backlog() {
    let sim = Sim::builder().start().await.unwrap();
    let (_app, health_url) = serve_health(&policy(&sim)).await;
    let report = triage::run(
        http(),
        &config(&sim)
            .app_health_url(health_url)
            .symptom(Symptom::UsersMissing),
    )
    .await;
    assert_verdict(
        &report,
        Category::WebhookBacklog,
        Severity::Medium,
        "webhook_backlog",
    );
    assert!(
        report
            .classification
            .next_commands
            .iter()
            .any(|c| c.contains("webhooks replay"))
    );
}

#[tokio::test]
async fn a_bypass_left_on_after_clerk_recovered_is_reported() {
    let sim = Sim::builder().start().await.unwrap();
    let policy = policy(&sim);
    policy
        .switch()
        .activate(
            clerk_incident_core::auth::AuthMode::Open,
            Some(Duration::from_secs(600)),
            "INC-9: Clerk down",
        )
        .unwrap();
    let (_app, health_url) = serve_health(&policy).await;
    let report = triage::run(http(), &config(&sim).app_health_url(health_url)).await;
    assert_verdict(
        &report,
        Category::ConfigurationError,
        Severity::Medium,
        "open_bypass_while_clerk_healthy",
    );
    let app = probe(&report, ProbeName::AppHealth);
    assert_eq!(app.status(), ProbeStatus::Degraded);
    assert!(app.summary().contains("mode open until"), "{app}");
}

#[tokio::test]
async fn a_429_is_reported_as_rate_limited() {
    let sim = Sim::builder().start().await.unwrap();
    sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault {
            requests: 0,
            window_ms: 10_000,
        }),
        ..Faults::default()
    });
    let report = triage::run(http(), &config(&sim)).await;
    assert_verdict(
        &report,
        Category::ClerkOutage,
        Severity::High,
        "api_rate_limited",
    );
    assert!(matches!(
        probe(&report, ProbeName::BackendApi).outcome,
        ProbeOutcome::BackendApi {
            status: 429,
            retry_after_secs: Some(_),
            ..
        }
    ));
}

#[tokio::test]
async fn a_refused_api_while_the_page_is_operational_is_unknown() {
    let sim = Sim::builder().start().await.unwrap();
    let config = TriageConfig::new(sim.base_url())
        .secret_key(closed_url(""), SecretKey::new(sim.secret_key()))
        .timeout(TIMEOUT);
    let report = triage::run(http(), &config).await;
    assert_verdict(
        &report,
        Category::Unknown,
        Severity::Medium,
        "clerk_unreachable_status_operational",
    );
    let api = probe(&report, ProbeName::BackendApi);
    assert!(
        matches!(api.outcome, ProbeOutcome::Unreachable { .. }),
        "{api}"
    );
}

#[tokio::test]
async fn without_a_key_the_api_probe_is_not_checked_and_never_healthy() {
    let sim = Sim::builder().start().await.unwrap();
    let report = triage::run(http(), &TriageConfig::new(sim.base_url())).await;
    assert_verdict(&report, Category::Unknown, Severity::Medium, "not_checked");
    let api = probe(&report, ProbeName::BackendApi);
    assert_eq!(api.status(), ProbeStatus::NotChecked);
    assert!(api.summary().contains("export CLERK_SECRET_KEY="), "{api}");
    assert!(api.summary().contains("--skip api"), "{api}");
    let app = probe(&report, ProbeName::AppHealth);
    assert!(app.summary().contains("--app-url"), "{app}");
    let text = report.to_string();
    assert!(text.contains("NOT CHECKED"), "{text}");
    let json: Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rule"], "not_checked");
    assert_eq!(json["probes"][1]["status"], "not_checked");
    assert_eq!(json["probes"][1]["outcome"]["result"], "not_checked");
}

/// Every combination of a missing or invalid input gives a verdict other than healthy, and
/// the report names each probe that was not checked, with why.
#[tokio::test]
async fn every_combination_of_missing_or_invalid_inputs_is_named_and_never_healthy() {
    let sim = Sim::builder().start().await.unwrap();
    let healthy_app = policy(&sim);
    let (_app, app_url) = serve_health(&healthy_app).await;
    // The baseline: everything given and right is healthy.
    let baseline = config(&sim).app_health_url(&app_url);
    let report = triage::run(http(), &baseline).await;
    assert_verdict(&report, Category::Healthy, Severity::None, "healthy");

    #[derive(Clone, Copy, Debug)]
    enum App {
        Given,
        Missing,
        NoScheme,
    }
    let mut combinations = 0;
    for mask in 0u8..16 {
        for app in [App::Given, App::Missing, App::NoScheme] {
            let bad_status_url = mask & 1 != 0;
            let no_key = mask & 2 != 0;
            let bad_api_url = mask & 4 != 0;
            let bad_jwks_url = mask & 8 != 0;
            if matches!(app, App::Given) && mask == 0 {
                continue;
            }
            let status_url = if bad_status_url {
                "not a url"
            } else {
                sim.base_url()
            };
            let mut config = TriageConfig::new(status_url)
                .expected_kid(sim.signing_kid())
                .timeout(TIMEOUT);
            if !no_key {
                let api_url = if bad_api_url {
                    "notaurl"
                } else {
                    sim.base_url()
                };
                config = config.secret_key(api_url, SecretKey::new(sim.secret_key()));
            }
            config = config.jwks_url(if bad_jwks_url {
                "ftp://x".to_owned()
            } else {
                sim.jwks_url()
            });
            config = match app {
                App::Given => config.app_health_url(&app_url),
                App::Missing => config,
                App::NoScheme => config.app_health_url(app_url.trim_start_matches("http://")),
            };
            let report = triage::run(http(), &config).await;
            let case = format!(
                "status url bad {bad_status_url}, no key {no_key}, api url bad {bad_api_url}, jwks url bad {bad_jwks_url}, app {app:?}"
            );
            assert_ne!(
                report.classification.category,
                Category::Healthy,
                "{case}\n{report}"
            );
            let not_checked = |name| probe(&report, name).status() == ProbeStatus::NotChecked;
            assert_eq!(
                not_checked(ProbeName::StatusPage),
                bad_status_url,
                "{case}\n{report}"
            );
            assert_eq!(
                not_checked(ProbeName::BackendApi),
                no_key || bad_api_url,
                "{case}\n{report}"
            );
            assert_eq!(
                not_checked(ProbeName::Jwks),
                bad_jwks_url,
                "{case}\n{report}"
            );
            assert_eq!(
                not_checked(ProbeName::AppHealth),
                !matches!(app, App::Given),
                "{case}\n{report}"
            );
            for name in ProbeName::ALL.into_iter().filter(|name| not_checked(*name)) {
                let line = probe(&report, name).to_string();
                assert!(line.contains("NOT CHECKED"), "{case}: {line}");
                assert!(
                    report
                        .to_string()
                        .contains(&line[line.find(" — ").unwrap() + 5..]),
                    "{case}: {line}"
                );
            }
            combinations += 1;
        }
    }
    assert_eq!(combinations, 47);

    // The invalid inputs say what is wrong and what was meant.
    let config = TriageConfig::new("not a url")
        .secret_key("notaurl", SecretKey::new(sim.secret_key()))
        .jwks_url("ftp://x")
        .app_health_url("127.0.0.1:3917/api/clerk-health");
    let report = triage::run(http(), &config).await;
    assert_verdict(&report, Category::Unknown, Severity::Medium, "not_checked");
    let summary = |name| probe(&report, name).summary();
    assert!(
        summary(ProbeName::AppHealth)
            .contains("did you mean http://127.0.0.1:3917/api/clerk-health"),
        "{report}"
    );
    assert!(
        summary(ProbeName::BackendApi).contains("\"notaurl\" has no scheme"),
        "{report}"
    );
    assert!(
        summary(ProbeName::Jwks).contains("is not http or https"),
        "{report}"
    );
    assert!(
        summary(ProbeName::StatusPage).contains("\"not a url\""),
        "{report}"
    );
}

#[tokio::test]
async fn an_app_running_on_a_revoked_secret_key_is_a_configuration_error() {
    let sim = Sim::builder().start().await.unwrap();
    let revoked = "sk_test_revokedforthisapp00000000000000000";
    sim.add_secret_key(revoked);
    sim.revoke_secret_key(revoked);
    let (policy, cache) = policy_over_backend_api(&sim, revoked);
    assert!(cache.refresh().await.is_err());
    let health = policy.health();
    assert!(!health.ready);
    let reason = health.problem.clone().unwrap();
    assert!(
        reason
            .contains("the Backend API answered 401 to the JWKS fetch: the secret key is rejected"),
        "{reason}"
    );
    // With the details (as the health token gets them): the rule names the cause.
    let (_app, url) = serve_health(&policy).await;
    let report = triage::run(http(), &config(&sim).app_health_url(&url)).await;
    assert_verdict(
        &report,
        Category::ConfigurationError,
        Severity::High,
        "app_secret_key_rejected",
    );
    let app = probe(&report, ProbeName::AppHealth);
    assert_eq!(app.status(), ProbeStatus::Failed);
    assert!(
        app.summary().contains("the secret key is rejected"),
        "{app}"
    );

    // The public summary says why too, in the same words.
    let summary = policy.health_for(&Credentials::default()).await;
    assert_eq!(summary.body["ready"], false);
    assert_eq!(summary.body["problem"], reason.as_str());
}

#[tokio::test]
async fn an_app_that_has_not_fetched_a_key_yet_is_not_healthy() {
    let sim = Sim::builder().start().await.unwrap();
    let (policy, _) = policy_over_backend_api(&sim, sim.secret_key());
    let (_app, url) = serve_health(&policy).await;
    let report = triage::run(http(), &config(&sim).app_health_url(&url)).await;
    assert_verdict(
        &report,
        Category::MiddlewareFailure,
        Severity::High,
        "app_health_failing",
    );
    let app = probe(&report, ProbeName::AppHealth);
    assert_eq!(app.status(), ProbeStatus::Failed);
    assert!(app.summary().contains("not ready"), "{app}");
    assert!(
        app.summary()
            .contains("the first JWKS fetch has not completed"),
        "{app}"
    );
}

#[tokio::test]
async fn the_health_token_keeps_all_of_triages_evidence() {
    let sim = Sim::builder().start().await.unwrap();
    let token = "the-fleet-health-token-0123456789";
    let policy = policy(&sim).with_health_token(HealthToken::new(token).unwrap());
    let admin = sim.admin_user_id().unwrap();
    reject_expired_tokens(&sim, &policy, &admin, 20).await;
    // The app answers as the adapters do: the details for the token, the summary otherwise.
    let server = MockServer::start().await;
    let bearer = format!("Bearer {token}");
    let details = policy
        .health_for(&Credentials::authorization(bearer.as_bytes()))
        .await;
    let summary = policy.health_for(&Credentials::default()).await;
    assert!(details.detailed && !summary.detailed);
    Mock::given(method("GET"))
        .and(path("/api/clerk-health"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(details.body))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/clerk-health"))
        .respond_with(ResponseTemplate::new(200).set_body_json(summary.body))
        .with_priority(2)
        .mount(&server)
        .await;
    let url = format!("{}/api/clerk-health", server.uri());

    let config = config(&sim)
        .app_health_url(&url)
        .symptom(Symptom::RandomLogouts);
    let with_token = triage::run(
        http(),
        &config
            .clone()
            .app_health_token(HealthToken::new(token).unwrap()),
    )
    .await;
    assert_verdict(
        &with_token,
        Category::SessionIssues,
        Severity::Medium,
        "session_rejection_spike",
    );
    let app = probe(&with_token, ProbeName::AppHealth);
    assert!(app.summary().contains("expired 20"), "{app}");

    // Without it triage sees only the summary, and says how to get the rest.
    let without = triage::run(http(), &config).await;
    let app = probe(&without, ProbeName::AppHealth);
    assert!(
        app.summary().contains("CLERK_INCIDENT_HEALTH_TOKEN"),
        "{app}"
    );
}
