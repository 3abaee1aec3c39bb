//! Tests of the bypass switch: transitions, expiry in paused time, limits.
use tokio::sync::broadcast::error::TryRecvError;

use super::*;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);

fn lasts(state: &ModeState) -> Duration {
    state
        .expires_at
        .unwrap()
        .duration_since(state.since)
        .unwrap()
}

fn causes(switch: &BypassSwitch) -> Vec<ChangeCause> {
    switch.history().iter().map(|c| c.cause).collect()
}

/// The next change; fails instead of hanging when none comes (time is paused, so the wait
/// costs nothing).
async fn next(events: &mut broadcast::Receiver<ModeChange>) -> ModeChange {
    tokio::time::timeout(7 * 24 * HOUR, events.recv())
        .await
        .expect("a change within a week")
        .unwrap()
}

fn grace() -> AuthMode {
    AuthMode::Grace {
        max_token_age: DEFAULT_GRACE_MAX_AGE,
    }
}

#[test]
fn starts_enforcing() {
    for switch in [BypassSwitch::new(), BypassSwitch::default()] {
        assert_eq!(switch.mode(), AuthMode::Enforce);
        let state = switch.current();
        assert_eq!(state.mode, AuthMode::Enforce);
        assert_eq!(state.expires_at, None);
        assert!(switch.history().is_empty());
    }
    assert_eq!(AuthMode::default(), AuthMode::Enforce);
}

#[tokio::test(start_paused = true)]
async fn a_bypass_expires_by_itself() {
    let switch = BypassSwitch::new();
    let mut events = switch.subscribe();
    let start = Instant::now();

    let state = switch
        .activate(AuthMode::Open, Some(45 * MINUTE), "INC-42")
        .unwrap();
    assert_eq!(state.mode, AuthMode::Open);
    assert_eq!(state.reason, "INC-42");
    assert_eq!(lasts(&state), 45 * MINUTE);
    assert_eq!(switch.mode(), AuthMode::Open);

    let activated = next(&mut events).await;
    assert_eq!(activated.cause, ChangeCause::Activated);
    assert_eq!(
        (activated.from, activated.to),
        (AuthMode::Enforce, AuthMode::Open)
    );
    assert_eq!(activated.expires_at, state.expires_at);

    tokio::time::advance(45 * MINUTE - Duration::from_secs(1)).await;
    assert_eq!(events.try_recv().unwrap_err(), TryRecvError::Empty);

    // Nothing reads the switch from here: the timer task alone expires the bypass.
    let expired = next(&mut events).await;
    assert_eq!(start.elapsed(), 45 * MINUTE);
    assert_eq!(expired.cause, ChangeCause::Expired);
    assert_eq!(
        (expired.from, expired.to),
        (AuthMode::Open, AuthMode::Enforce)
    );
    assert_eq!(Some(expired.at), state.expires_at);
    assert_eq!(expired.expires_at, None);
    assert!(expired.reason.contains("INC-42"), "{}", expired.reason);

    assert_eq!(switch.mode(), AuthMode::Enforce);
    assert_eq!(switch.current().reason, expired.reason);
    assert_eq!(
        causes(&switch),
        [ChangeCause::Activated, ChangeCause::Expired]
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_ttl_the_default_cap_applies() {
    let switch = BypassSwitch::new();
    let state = switch.activate(AuthMode::Open, None, "no ttl").unwrap();
    assert_eq!(lasts(&state), DEFAULT_BYPASS_TTL);

    tokio::time::advance(HOUR - Duration::from_millis(1)).await;
    assert_eq!(switch.mode(), AuthMode::Open);
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(switch.mode(), AuthMode::Enforce);
}

#[tokio::test(start_paused = true)]
async fn a_ttl_above_the_maximum_is_clamped() {
    let switch = BypassSwitch::new();
    let state = switch
        .activate(AuthMode::Open, Some(48 * HOUR), "too long")
        .unwrap();
    assert_eq!(lasts(&state), MAX_BYPASS_TTL);

    let mut events = switch.subscribe();
    let start = Instant::now();
    assert_eq!(next(&mut events).await.cause, ChangeCause::Expired);
    assert_eq!(start.elapsed(), 24 * HOUR);
}

#[test]
fn custom_limits() {
    let switch = BypassSwitch::with_limits(10 * MINUTE, 2 * HOUR);
    assert_eq!(
        lasts(&switch.activate(AuthMode::Open, None, "").unwrap()),
        10 * MINUTE
    );
    assert_eq!(
        lasts(&switch.activate(AuthMode::Open, Some(3 * HOUR), "").unwrap()),
        2 * HOUR
    );

    // A default above the maximum is lowered to it.
    let switch = BypassSwitch::with_limits(5 * HOUR, 2 * HOUR);
    assert_eq!(
        lasts(&switch.activate(AuthMode::Open, None, "").unwrap()),
        2 * HOUR
    );
}

#[tokio::test(start_paused = true)]
async fn deactivation_returns_to_enforce_and_cancels_the_timer() {
    let switch = BypassSwitch::new();
    let mut events = switch.subscribe();
    switch
        .activate(AuthMode::Open, Some(45 * MINUTE), "INC-42")
        .unwrap();
    tokio::time::advance(10 * MINUTE).await;

    let state = switch.deactivate("Clerk recovered");
    assert_eq!(state.mode, AuthMode::Enforce);
    assert_eq!(state.expires_at, None);
    assert_eq!(state.reason, "Clerk recovered");
    assert_eq!(switch.mode(), AuthMode::Enforce);

    assert_eq!(next(&mut events).await.cause, ChangeCause::Activated);
    let deactivated = next(&mut events).await;
    assert_eq!(deactivated.cause, ChangeCause::Deactivated);
    assert_eq!(
        (deactivated.from, deactivated.to),
        (AuthMode::Open, AuthMode::Enforce)
    );
    assert_eq!(deactivated.reason, "Clerk recovered");

    // Past the old deadline, nothing more happens.
    tokio::time::sleep(HOUR).await;
    assert_eq!(events.try_recv().unwrap_err(), TryRecvError::Empty);
    assert_eq!(
        causes(&switch),
        [ChangeCause::Activated, ChangeCause::Deactivated]
    );

    // Switching off what is off records nothing.
    assert_eq!(switch.deactivate("again").reason, "Clerk recovered");
    assert_eq!(switch.history().len(), 2);
}

#[test]
fn activating_enforce_is_deactivating() {
    let switch = BypassSwitch::new();
    switch.activate(AuthMode::Open, None, "on").unwrap();
    let state = switch
        .activate(AuthMode::Enforce, Some(HOUR), "off")
        .unwrap();
    assert_eq!(state.mode, AuthMode::Enforce);
    assert_eq!(state.expires_at, None);
    assert_eq!(
        causes(&switch),
        [ChangeCause::Activated, ChangeCause::Deactivated]
    );
}

#[tokio::test(start_paused = true)]
async fn a_new_activation_gets_a_fresh_expiry() {
    let switch = BypassSwitch::new();
    let mut events = switch.subscribe();
    let start = Instant::now();
    switch
        .activate(AuthMode::Open, Some(45 * MINUTE), "first")
        .unwrap();
    tokio::time::advance(30 * MINUTE).await;
    let state = switch
        .activate(grace(), Some(45 * MINUTE), "second")
        .unwrap();
    assert_eq!(state.mode, grace());

    // The first timer's deadline passes without effect.
    tokio::time::advance(20 * MINUTE).await;
    tokio::task::yield_now().await;
    assert_eq!(switch.mode(), grace());

    let changes: Vec<ModeChange> = vec![
        next(&mut events).await,
        next(&mut events).await,
        next(&mut events).await,
    ];
    assert_eq!(start.elapsed(), 75 * MINUTE);
    let summary: Vec<_> = changes.iter().map(|c| (c.cause, c.from, c.to)).collect();
    assert_eq!(
        summary,
        [
            (ChangeCause::Activated, AuthMode::Enforce, AuthMode::Open),
            (ChangeCause::Activated, AuthMode::Open, grace()),
            (ChangeCause::Expired, grace(), AuthMode::Enforce),
        ]
    );
    assert_eq!(switch.mode(), AuthMode::Enforce);
}

#[tokio::test(start_paused = true)]
async fn an_expiry_is_recorded_once_when_a_read_and_the_timer_race() {
    let switch = BypassSwitch::new();
    let mut events = switch.subscribe();
    switch
        .activate(AuthMode::Open, Some(MINUTE), "race")
        .unwrap();
    tokio::time::advance(MINUTE).await;
    // Whichever of this read and the timer task gets there first (the read, with tokio's
    // current scheduler), the expiry is recorded once.
    assert_eq!(switch.mode(), AuthMode::Enforce);
    tokio::time::sleep(MINUTE).await;

    assert_eq!(next(&mut events).await.cause, ChangeCause::Activated);
    assert_eq!(next(&mut events).await.cause, ChangeCause::Expired);
    assert_eq!(events.try_recv().unwrap_err(), TryRecvError::Empty);
    assert_eq!(
        causes(&switch),
        [ChangeCause::Activated, ChangeCause::Expired]
    );
}

#[test]
fn without_a_runtime_a_read_notices_the_expiry() {
    let switch = BypassSwitch::new();
    let activated = Instant::now();
    switch
        .activate(AuthMode::Open, Some(45 * MINUTE), "no runtime")
        .unwrap();
    assert!(switch.shared.read().timer.is_none());
    assert_eq!(switch.mode(), AuthMode::Open);

    let deadline = switch.shared.read().deadline.unwrap();
    assert!(deadline >= activated + 45 * MINUTE);
    assert!(!switch.expire_if_due(deadline - Duration::from_millis(1)));
    assert_eq!(switch.mode(), AuthMode::Open);
    assert!(switch.expire_if_due(deadline));
    assert!(!switch.expire_if_due(deadline + HOUR));
    assert_eq!(switch.mode(), AuthMode::Enforce);
    assert_eq!(
        causes(&switch),
        [ChangeCause::Activated, ChangeCause::Expired]
    );
}

#[test]
fn a_zero_ttl_expires_at_the_first_read() {
    let switch = BypassSwitch::new();
    switch
        .activate(AuthMode::Open, Some(Duration::ZERO), "zero")
        .unwrap();
    assert_eq!(switch.mode(), AuthMode::Enforce);
    assert_eq!(
        causes(&switch),
        [ChangeCause::Activated, ChangeCause::Expired]
    );
}

#[test]
fn the_timer_is_armed_by_the_first_read_inside_a_runtime() {
    // Set before any runtime exists, as `from_env` at the top of `main` would be.
    let switch = BypassSwitch::new();
    switch
        .activate(AuthMode::Open, Some(45 * MINUTE), "before the runtime")
        .unwrap();
    assert!(switch.shared.read().timer.is_none());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut events = switch.subscribe();
        assert_eq!(switch.mode(), AuthMode::Open);
        assert!(switch.shared.read().timer.is_some());
        // No more reads: the timer alone expires the bypass.
        assert_eq!(next(&mut events).await.cause, ChangeCause::Expired);
    });
    assert_eq!(switch.mode(), AuthMode::Enforce);
}

#[test]
fn grace_carries_its_token_age() {
    let switch = BypassSwitch::new();
    let mode = AuthMode::Grace {
        max_token_age: 10 * MINUTE,
    };
    switch.activate(mode, None, "Clerk down").unwrap();
    assert_eq!(switch.mode(), mode);
    assert!(matches!(
        switch.current().mode,
        AuthMode::Grace { max_token_age } if max_token_age == 10 * MINUTE
    ));
}

#[test]
fn names_and_header_values() {
    assert_eq!(AuthMode::Enforce.name(), "enforce");
    assert_eq!(grace().name(), "grace");
    assert_eq!(AuthMode::Open.name(), "open");
    assert_eq!(AuthMode::Enforce.bypass_header_value(), None);
    assert_eq!(grace().bypass_header_value(), Some("grace"));
    assert_eq!(AuthMode::Open.bypass_header_value(), Some("true"));
    assert!(!AuthMode::Enforce.is_bypass());
    assert!(grace().is_bypass() && AuthMode::Open.is_bypass());
    assert_eq!(grace().to_string(), "grace (max token age 30m)");
    assert_eq!(AuthMode::Open.to_string(), "open");
}

#[test]
fn history_keeps_the_last_hundred_changes() {
    let switch = BypassSwitch::new();
    for i in 0..150 {
        switch
            .activate(AuthMode::Open, None, format!("activation {i}"))
            .unwrap();
    }
    let history = switch.history();
    assert_eq!(history.len(), HISTORY_LEN);
    assert_eq!(history.first().unwrap().reason, "activation 50");
    assert_eq!(history.last().unwrap().reason, "activation 149");
}

#[test]
fn serialises_flat_with_rfc3339_times() {
    let at = UNIX_EPOCH + Duration::from_secs(1_795_723_200); // 2026-11-26T20:00:00Z
    let state = ModeState {
        mode: grace(),
        since: at - 45 * MINUTE,
        expires_at: Some(at),
        reason: "INC-42".into(),
    };
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        serde_json::json!({
            "mode": "grace",
            "max_token_age_secs": 1800,
            "since": "2026-11-26T19:15:00Z",
            "expires_at": "2026-11-26T20:00:00Z",
            "reason": "INC-42",
        })
    );
    let change = ModeChange {
        from: AuthMode::Open,
        to: AuthMode::Enforce,
        cause: ChangeCause::Expired,
        at,
        expires_at: None,
        reason: "open mode expired (INC-42)".into(),
    };
    assert_eq!(
        serde_json::to_value(&change).unwrap(),
        serde_json::json!({
            "from": {"mode": "open"},
            "to": {"mode": "enforce"},
            "cause": "expired",
            "at": "2026-11-26T20:00:00Z",
            "expires_at": null,
            "reason": "open mode expired (INC-42)",
        })
    );
}

#[test]
fn times_outside_the_printable_range_do_not_panic() {
    let before_epoch = UNIX_EPOCH - Duration::from_secs(1);
    assert_eq!(Rfc3339(before_epoch).to_string(), "1970-01-01T00:00:00Z");
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    assert_eq!(Rfc3339(far).to_string(), "9999-12-31T23:59:59Z");
}

#[test]
fn debug_shows_the_state() {
    let switch = BypassSwitch::new();
    switch.activate(AuthMode::Open, None, "INC-42").unwrap();
    let debug = format!("{switch:?}");
    assert!(
        debug.contains("Open") && debug.contains("INC-42"),
        "{debug}"
    );
}
