//! Every probe against hostile answers, through a closure HTTP client (no socket): odd
//! statuses, deep nesting, huge numbers, terminal escapes. Triage must neither panic nor
//! print what it was sent verbatim.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clerk_incident_core::api::SecretKey;
use clerk_incident_core::http::{HttpClient, HttpRequest, HttpResponse, TransportError};
use clerk_incident_core::triage::{self, Symptom, TriageConfig};

fn answering(status: u16, body: Bytes) -> Arc<dyn HttpClient> {
    Arc::new(move |_request: HttpRequest| {
        let body = body.clone();
        async move {
            let mut response = HttpResponse::new(body);
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            Ok::<_, TransportError>(response)
        }
    })
}

fn config() -> TriageConfig {
    TriageConfig::new("http://127.0.0.1:9")
        .secret_key(
            "http://127.0.0.1:9",
            SecretKey::new("sk_test_hostile0123456789"),
        )
        .jwks_url("http://127.0.0.1:9/.well-known/jwks.json")
        .expected_kid("ins_1")
        .app_health_url("http://127.0.0.1:9/api/clerk-health")
        .timeout(Duration::from_secs(2))
        .symptoms(Symptom::ALL)
}

fn bodies() -> Vec<Bytes> {
    let escape = "\u{1b}]0;pwned\u{7}\u{1b}[2J";
    vec![
        Bytes::new(),
        Bytes::from_static(b"\xff\xfe\x00"),
        Bytes::from("[".repeat(100_000)),
        Bytes::from(format!(
            "{}1{}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        )),
        Bytes::from(r#"{"status":{"indicator":1e999},"keys":[{"kid":1e999}]}"#),
        Bytes::from(format!(
            r#"{{"status":{{"indicator":"major","description":"{escape}"}},
                "components":[{{"name":"{escape}","status":"major_outage"}}],
                "keys":[{{"kid":"{escape}"}}],
                "mode":{{"mode":"open","reason":"{escape}"}},
                "counters":{{"verified":18446744073709551615,
                             "rejected":{{"expired":18446744073709551615,"unknown_key":18446744073709551615}}}}}}"#
        )),
        Bytes::from(format!(
            r#"{{"keys":[{}]}}"#,
            vec![r#"{"kid":"k"}"#; 50_000].join(",")
        )),
        Bytes::from(format!(
            r#"{{"status":{{"indicator":"none","description":"{}"}}}}"#,
            "x".repeat(1_000_000)
        )),
    ]
}

#[tokio::test]
async fn hostile_answers_never_panic_and_are_printed_safely() {
    for status in [200, 204, 301, 401, 404, 429, 500, 503, 599] {
        for body in bodies() {
            let report = triage::run(answering(status, body), &config()).await;
            let text = report.to_string();
            assert!(!text.contains('\u{1b}'), "an escape reached the report");
            assert!(!text.contains('\u{7}'));
            for probe in &report.probes {
                assert!(
                    probe.summary().chars().count() <= 301,
                    "{status}: a summary is unbounded"
                );
            }
            let json = serde_json::to_string(&report).unwrap();
            assert!(!json.contains("sk_test_hostile"), "no secret in the report");
            assert!(
                json.len() < 200_000,
                "{status}: {} bytes of report",
                json.len()
            );
        }
    }
}

#[tokio::test]
async fn transport_failures_are_evidence() {
    let failing: Arc<dyn HttpClient> = Arc::new(|_request: HttpRequest| async {
        Err::<HttpResponse, _>(TransportError::Connect("connection refused".into()))
    });
    let report = triage::run(failing, &config()).await;
    assert_eq!(report.classification.rule, "no_answer", "\n{report}");
    let hung: Arc<dyn HttpClient> =
        Arc::new(|_request: HttpRequest| async { Err::<HttpResponse, _>(TransportError::Timeout) });
    let report = triage::run(hung, &config()).await;
    assert_eq!(report.classification.rule, "no_answer", "\n{report}");
}
