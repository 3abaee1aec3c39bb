//! Webhook signature verification: the DESIGN.md vectors, tampering, tolerance, header forms,
//! secrets, redaction.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_incident_core::webhooks::{
    WebhookError, WebhookHeader, WebhookHeaders, WebhookSecret, WebhookVerifier, sign,
};
use http::{HeaderMap, HeaderName, HeaderValue};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Vector {
    secret: &'static str,
    id: &'static str,
    timestamp: i64,
    body: &'static [u8],
    signature: &'static str,
}

const VECTOR_1: Vector = Vector {
    secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
    timestamp: 1_649_367_553,
    body: br#"{"email":"test@example.com","username":"test_user"}"#,
    signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
};

const VECTOR_2: Vector = Vector {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1_614_265_330,
    body: br#"{"test": 2432232314}"#,
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

/// A different, valid-looking `v1` signature that matches nothing.
const WRONG_SIGNATURE: &str = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn at(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

fn header_map(prefix: &str, id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("id", id),
        ("timestamp", timestamp),
        ("signature", signature),
    ] {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(format!("{prefix}-{name}")),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

fn svix(vector: &Vector) -> HeaderMap {
    header_map(
        "svix",
        vector.id,
        &vector.timestamp.to_string(),
        vector.signature,
    )
}

fn verifier(vector: &Vector) -> Result<WebhookVerifier, WebhookError> {
    Ok(WebhookVerifier::new(WebhookSecret::new(vector.secret)?))
}

#[test]
fn design_vectors_verify_at_their_timestamps() -> TestResult {
    for vector in [&VECTOR_1, &VECTOR_2] {
        let delivery =
            verifier(vector)?.verify_at(&svix(vector), vector.body, at(vector.timestamp))?;
        assert_eq!(delivery.id, vector.id);
        assert_eq!(delivery.timestamp, vector.timestamp);
    }
    Ok(())
}

#[test]
fn sign_reproduces_the_design_vectors() -> TestResult {
    for vector in [&VECTOR_1, &VECTOR_2] {
        let secret = WebhookSecret::new(vector.secret)?;
        assert_eq!(
            sign(&secret, vector.id, vector.timestamp, vector.body),
            vector.signature
        );
    }
    Ok(())
}

#[test]
fn verify_uses_the_system_clock() -> TestResult {
    let secret = WebhookSecret::new(VECTOR_1.secret)?;
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    let signature = sign(&secret, "msg_now", now, b"{}");
    let headers = header_map("svix", "msg_now", &now.to_string(), &signature);
    WebhookVerifier::new(secret).verify(&headers, b"{}")?;
    // The vector's own timestamp is years old.
    assert_eq!(
        verifier(&VECTOR_1)?.verify(&svix(&VECTOR_1), VECTOR_1.body),
        Err(WebhookError::TooOld)
    );
    Ok(())
}

#[test]
fn tampered_body_id_or_timestamp_fails() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    let now = at(v.timestamp);
    let ts = v.timestamp.to_string();

    let mut body = v.body.to_vec();
    if let Some(last) = body.last_mut() {
        *last = b' ';
    }
    assert_eq!(
        verifier.verify_at(&svix(v), &body, now),
        Err(WebhookError::NoMatchingSignature)
    );
    // Re-serialised JSON (same value, different bytes) does not verify either.
    let reserialised =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(v.body)?)?;
    assert_eq!(
        verifier.verify_at(&svix(v), &reserialised, now),
        Err(WebhookError::NoMatchingSignature)
    );
    let other_id = header_map("svix", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpK", &ts, v.signature);
    assert_eq!(
        verifier.verify_at(&other_id, v.body, now),
        Err(WebhookError::NoMatchingSignature)
    );
    let other_ts = header_map("svix", v.id, &(v.timestamp + 1).to_string(), v.signature);
    assert_eq!(
        verifier.verify_at(&other_ts, v.body, now),
        Err(WebhookError::NoMatchingSignature)
    );
    Ok(())
}

#[test]
fn tolerance_is_five_minutes_both_ways() -> TestResult {
    let v = &VECTOR_2;
    let verifier = verifier(v)?;
    let headers = svix(v);
    for offset in [-300, -299, 0, 299, 300] {
        verifier.verify_at(&headers, v.body, at(v.timestamp + offset))?;
    }
    // Now is 301 s after the timestamp: the delivery is too old.
    assert_eq!(
        verifier.verify_at(&headers, v.body, at(v.timestamp + 301)),
        Err(WebhookError::TooOld)
    );
    // Now is 301 s before the timestamp: the delivery is from the future.
    assert_eq!(
        verifier.verify_at(&headers, v.body, at(v.timestamp - 301)),
        Err(WebhookError::TooNew)
    );
    Ok(())
}

#[test]
fn tolerance_can_be_changed() -> TestResult {
    let v = &VECTOR_2;
    let verifier = verifier(v)?.tolerance(Duration::from_secs(10));
    verifier.verify_at(&svix(v), v.body, at(v.timestamp + 10))?;
    assert_eq!(
        verifier.verify_at(&svix(v), v.body, at(v.timestamp + 11)),
        Err(WebhookError::TooOld)
    );
    Ok(())
}

#[test]
fn valid_signature_third_in_a_list_passes() -> TestResult {
    let v = &VECTOR_1;
    let list = format!(
        "{WRONG_SIGNATURE} v1,{} {} v1,bm90IGEgc2lnbmF0dXJl",
        "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", v.signature
    );
    let headers = header_map("svix", v.id, &v.timestamp.to_string(), &list);
    verifier(v)?.verify_at(&headers, v.body, at(v.timestamp))?;
    Ok(())
}

#[test]
fn empty_truncated_and_malformed_signatures_fail() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    let ts = v.timestamp.to_string();
    let full = v.signature;
    let truncated_b64 = full.get(..full.len() - 4).unwrap_or_default();
    let truncated_one = full.get(..full.len() - 1).unwrap_or_default();
    // The same bytes minus the last one, re-encoded: valid base64 of 31 bytes.
    let short = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kg==";
    for signature in [
        "v1,",
        "v1",
        ",",
        "v1,,",
        "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        truncated_b64,
        truncated_one,
        short,
        "v1,!!!!",
        WRONG_SIGNATURE,
    ] {
        let headers = header_map("svix", v.id, &ts, signature);
        assert_eq!(
            verifier.verify_at(&headers, v.body, at(v.timestamp)),
            Err(WebhookError::NoMatchingSignature),
            "{signature}"
        );
    }
    Ok(())
}

#[test]
fn unknown_versions_are_ignored() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    let ts = v.timestamp.to_string();
    let b64 = v.signature.trim_start_matches("v1,");
    // The right bytes under another version do not count...
    for signature in [
        format!("v2,{b64}"),
        format!("v1a,{b64}"),
        format!("V1,{b64}"),
    ] {
        let headers = header_map("svix", v.id, &ts, &signature);
        assert_eq!(
            verifier.verify_at(&headers, v.body, at(v.timestamp)),
            Err(WebhookError::NoMatchingSignature)
        );
    }
    // ...and other versions next to a valid v1 do not get in the way.
    let mixed = format!("v2,{b64} v1a,xyz {} v0,", v.signature);
    let headers = header_map("svix", v.id, &ts, &mixed);
    verifier.verify_at(&headers, v.body, at(v.timestamp))?;
    Ok(())
}

#[test]
fn each_header_missing_in_turn() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    for (name, header) in [
        ("svix-id", WebhookHeader::Id),
        ("svix-timestamp", WebhookHeader::Timestamp),
        ("svix-signature", WebhookHeader::Signature),
    ] {
        let mut headers = svix(v);
        headers.remove(name);
        assert_eq!(
            verifier.verify_at(&headers, v.body, at(v.timestamp)),
            Err(WebhookError::MissingHeader(header))
        );
        // Present but empty counts as missing.
        headers.insert(
            HeaderName::from_static(header.svix_name()),
            HeaderValue::from_static(""),
        );
        assert_eq!(
            verifier.verify_at(&headers, v.body, at(v.timestamp)),
            Err(WebhookError::MissingHeader(header))
        );
    }
    assert_eq!(
        verifier.verify_at(&HeaderMap::new(), v.body, at(v.timestamp)),
        Err(WebhookError::MissingHeader(WebhookHeader::Id))
    );
    Ok(())
}

#[test]
fn bad_timestamps_are_rejected() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    for timestamp in [
        "abc",
        "-1649367553",
        "+1649367553",
        "1649367553.0",
        "1e9",
        "99999999999999999999999",
        " 1 2",
    ] {
        let headers = header_map("svix", v.id, timestamp, v.signature);
        assert_eq!(
            verifier.verify_at(&headers, v.body, at(v.timestamp)),
            Err(WebhookError::BadTimestamp),
            "{timestamp}"
        );
    }
    Ok(())
}

#[test]
fn webhook_header_family_verifies() -> TestResult {
    for vector in [&VECTOR_1, &VECTOR_2] {
        let headers = header_map(
            "webhook",
            vector.id,
            &vector.timestamp.to_string(),
            vector.signature,
        );
        verifier(vector)?.verify_at(&headers, vector.body, at(vector.timestamp))?;
    }
    Ok(())
}

#[test]
fn header_lookup_works_without_http_header_map() -> TestResult {
    let v = &VECTOR_2;
    let ts = v.timestamp.to_string();
    let pairs: [(&str, &[u8]); 3] = [
        ("webhook-id", v.id.as_bytes()),
        ("webhook-timestamp", ts.as_bytes()),
        ("webhook-signature", v.signature.as_bytes()),
    ];
    let headers = WebhookHeaders::from_lookup(|name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    })?;
    assert_eq!(headers.id, v.id);
    verifier(v)?.verify_headers_at(&headers, v.body, at(v.timestamp))?;
    // Non-UTF-8 values count as missing.
    let missing = WebhookHeaders::from_lookup(|_| Some(&[0xff, 0xfe][..]));
    assert_eq!(missing, Err(WebhookError::MissingHeader(WebhookHeader::Id)));
    Ok(())
}

#[test]
fn secrets_with_zero_one_or_two_padding_characters() -> TestResult {
    // Keys of 24, 23 and 22 bytes (0x01, 0x02, …): 0, 1 and 2 `=`. Expected tags computed
    // independently (Python's hmac) over `msg_pad.1700000000.{"a":1}`.
    let cases = [
        (
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY",
            "v1,Huq12DBRIpREPaJvj7HDP5Dq/62yzg8l1k+8q99QiCQ=",
        ),
        (
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhc=",
            "v1,VXltQIBaLImw9sy6V1qgiTHQ7wmy2eN3Hcyil0HqCG0=",
        ),
        (
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFg==",
            "v1,3JnoVLlExyOh8h7CWLJQkRJAaQm6cfhONPKzjqv47ds=",
        ),
    ];
    let body = br#"{"a":1}"#;
    let timestamp = 1_700_000_000;
    let headers_for =
        |signature: &str| header_map("svix", "msg_pad", &timestamp.to_string(), signature);
    for (encoded, expected) in cases {
        let unpadded = encoded.trim_end_matches('=');
        for form in [
            format!("whsec_{encoded}"),
            format!("whsec_{unpadded}"),
            encoded.to_owned(),
            format!("  whsec_{unpadded}\n"),
        ] {
            let secret = WebhookSecret::new(&form)?;
            assert_eq!(
                sign(&secret, "msg_pad", timestamp, body),
                expected,
                "{form}"
            );
            WebhookVerifier::new(secret).verify_at(&headers_for(expected), body, at(timestamp))?;
        }
    }
    Ok(())
}

#[test]
fn bad_secrets_are_rejected_without_echo() {
    for bad in ["", "whsec_", "whsec_***not base64***", "whsec_A", "   "] {
        let error = WebhookSecret::new(bad).err();
        assert_eq!(error, Some(WebhookError::BadSecret), "{bad:?}");
    }
    let message = WebhookSecret::new("whsec_sup3r$ecret")
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(!message.contains("sup3r"), "{message}");
    assert!(message.contains("whsec_"), "{message}");
    assert_eq!(
        WebhookVerifier::with_secrets(Vec::new()).err(),
        Some(WebhookError::NoSecret)
    );
}

#[test]
fn second_of_two_secrets_matches() -> TestResult {
    let v = &VECTOR_1;
    let old = WebhookSecret::new(VECTOR_2.secret)?;
    let new = WebhookSecret::new(v.secret)?;
    let verifier = WebhookVerifier::with_secrets([old.clone(), new.clone()])?;
    assert_eq!(verifier.secret_count(), 2);
    verifier.verify_at(&svix(v), v.body, at(v.timestamp))?;
    let chained = WebhookVerifier::new(old).and_secret(new);
    chained.verify_at(&svix(v), v.body, at(v.timestamp))?;
    // Only the old secret: rejected.
    let old_only = WebhookVerifier::new(WebhookSecret::new(VECTOR_2.secret)?);
    assert_eq!(
        old_only.verify_at(&svix(v), v.body, at(v.timestamp)),
        Err(WebhookError::NoMatchingSignature)
    );
    Ok(())
}

#[test]
fn debug_never_shows_the_secret() -> TestResult {
    let secret = WebhookSecret::new(VECTOR_1.secret)?;
    let verifier = WebhookVerifier::new(secret.clone()).and_secret(secret.clone());
    for shown in [
        format!("{secret:?}"),
        format!("{verifier:?}"),
        format!("{verifier:#?}"),
    ] {
        assert!(!shown.contains("C2FV"), "{shown}");
        assert!(!shown.contains("whsec"), "{shown}");
        assert!(!shown.contains("oD"), "{shown}");
    }
    Ok(())
}

#[test]
fn errors_never_echo_header_values() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    let marker = "ECHOMARKER";
    let cases = [
        header_map(
            "svix",
            marker,
            &v.timestamp.to_string(),
            &format!("v1,{marker}"),
        ),
        header_map("svix", v.id, marker, v.signature),
        header_map("svix", v.id, "1", v.signature),
    ];
    for headers in cases {
        let error = verifier
            .verify_at(&headers, v.body, at(v.timestamp))
            .err()
            .ok_or("should fail")?;
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(marker), "{shown}");
        assert!(!shown.contains(v.id), "{shown}");
    }
    Ok(())
}

#[test]
fn hostile_inputs_do_not_panic() -> TestResult {
    let v = &VECTOR_1;
    let verifier = verifier(v)?;
    let long = "v1,".repeat(5_000);
    let junk = format!("{} {}", "x,".repeat(1_000), "v1,====");
    for signature in [long.as_str(), junk.as_str(), "\t\t", "v1,\u{00e9}"] {
        let headers = header_map("svix", v.id, &v.timestamp.to_string(), signature);
        assert!(
            verifier
                .verify_at(&headers, v.body, at(v.timestamp))
                .is_err()
        );
    }
    // A clock before the epoch and a timestamp at the edge of i64.
    let headers = header_map("svix", v.id, "999999999999999999", v.signature);
    assert_eq!(
        verifier.verify_at(&headers, v.body, UNIX_EPOCH - Duration::from_secs(10)),
        Err(WebhookError::TooNew)
    );
    Ok(())
}

#[test]
fn empty_svix_header_falls_back_to_webhook_header() -> TestResult {
    let v = &VECTOR_2;
    let mut headers = header_map("webhook", v.id, &v.timestamp.to_string(), v.signature);
    headers.insert("svix-id", HeaderValue::from_static(""));
    verifier(v)?.verify_at(&headers, v.body, at(v.timestamp))?;
    Ok(())
}
