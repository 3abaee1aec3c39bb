//! Lists the users active in the last N days (default 7), newest first.
//!
//! ```sh
//! CLERK_SECRET_KEY=sk_test_… CLERK_API_URL=http://127.0.0.1:PORT cargo run -p active-users -- 7
//! ```
//!
//! `last_active_at` has day precision, so the filter starts one day earlier than asked.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_incident_core::api::{ClerkApi, DEFAULT_BASE_URL, SecretKey, UserQuery};
use futures::TryStreamExt;

const DAY_MS: i64 = 86_400_000;

#[allow(clippy::print_stdout, clippy::print_stderr)]
#[tokio::main]
async fn main() -> ExitCode {
    let days: i64 = match std::env::args().nth(1).map(|d| d.parse()) {
        None => 7,
        Some(Ok(days)) if days > 0 => days,
        Some(_) => {
            eprintln!("usage: active-users [DAYS]  (a whole number of days, above zero)");
            return ExitCode::from(2);
        }
    };
    let Some(key) = SecretKey::from_env("CLERK_SECRET_KEY") else {
        eprintln!("set CLERK_SECRET_KEY (and CLERK_API_URL for a sim)");
        return ExitCode::from(2);
    };
    let base_url = std::env::var("CLERK_API_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.into());
    let api = match ClerkApi::builder(key).base_url(base_url).build() {
        Ok(api) => api,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let query = UserQuery::new().last_active_at_after(now_ms - (days + 1) * DAY_MS);
    let result = api
        .list_users(query)
        .try_for_each(|user| async move {
            let email = user.primary_email().unwrap_or("(no email)");
            println!("{}  {email}", user.id);
            Ok(())
        })
        .await;
    let counters = api.counters();
    match result {
        Ok(()) => {
            eprintln!(
                "{} request(s), {} retried, {} rate limited",
                counters.requests, counters.retries, counters.rate_limited
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
