//! `clerk-incident sim token`: mint a session token from a running sim, through its control
//! API, so that anyone can curl the example services.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clerk_incident_core::api::DEFAULT_BASE_URL;
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use serde_json::{Value, json};

use crate::cli::TokenArgs;
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

const TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn run(global: &GlobalArgs, args: &TokenArgs) -> Exit {
    match mint(args).await {
        Ok(answer) => {
            if global.json {
                terminal::json_line(&answer);
            } else {
                terminal::out(
                    answer
                        .get("token")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                );
            }
            Exit::Ok
        }
        Err(problem) => {
            terminal::problem(&problem);
            Exit::Failure
        }
    }
}

async fn mint(args: &TokenArgs) -> Result<Value, String> {
    let base = args.api.api_url.trim_end_matches('/');
    if base == DEFAULT_BASE_URL {
        return Err(
            "sim token talks to a running sim: set --api-url or CLERK_API_URL to the URL \
             `clerk-incident sim` printed"
                .to_owned(),
        );
    }
    let http: Arc<dyn HttpClient> =
        Arc::new(ReqwestClient::new().map_err(|err| terminal::error_chain(&err))?);
    let user = match (&args.user, &args.session) {
        (Some(user), _) => Some(user.clone()),
        (None, Some(_)) => None,
        (None, None) => {
            let info = call(
                &*http,
                http::Method::GET,
                &format!("{base}/_sim/info"),
                None,
            )
            .await?;
            let admin = info
                .get("admin_user_id")
                .and_then(Value::as_str)
                .ok_or("the sim has no admin user")?;
            Some(admin.to_owned())
        }
    };
    let body = json!({
        "user_id": user,
        "session_id": args.session,
        "lifetime_secs": args.lifetime.as_secs(),
        "version": if args.v2 { 2 } else { 1 },
    });
    let mut answer = call(
        &*http,
        http::Method::POST,
        &format!("{base}/_sim/tokens"),
        Some(body),
    )
    .await?;
    if let (Some(map), Some(user)) = (answer.as_object_mut(), user) {
        map.insert("user_id".to_owned(), json!(user));
    }
    Ok(answer)
}

async fn call(
    http: &dyn HttpClient,
    method: http::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|_| format!("invalid sim URL {url:?}"))?;
    let response = tokio::time::timeout(TIMEOUT, http.send(request))
        .await
        .map_err(|_| format!("the sim at {url} did not answer in time"))?
        .map_err(|err| {
            format!(
                "cannot reach the sim at {url}: {}",
                terminal::error_chain(&err)
            )
        })?;
    let json: Value = serde_json::from_slice(response.body())
        .map_err(|_| format!("{url} did not answer JSON: is it a clerk-incident sim?"))?;
    if response.status().is_success() {
        Ok(json)
    } else {
        let message = json
            .get("error")
            .and_then(Value::as_str)
            .or(json.get("message").and_then(Value::as_str))
            .unwrap_or("no detail");
        Err(format!(
            "the sim refused: HTTP {} ({message})",
            response.status().as_u16()
        ))
    }
}
