//! `clerk-incident keys snapshot`: the instance's public signing keys, saved before an
//! outage, so that a service restarted during one still verifies tokens.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use clerk_incident_core::api::{Jwks, SecretKey};
use clerk_incident_core::auth::{
    BackendApiJwks, ENV_SECRET_KEY, FileSnapshotStore, FrontendApiJwks, JwksSource, KeySnapshot,
    KeySnapshotStore, is_secure_jwks_url, jwk_to_pem, pinned_issuers,
};
use clerk_incident_core::http::{HttpClient, ReqwestClient};
use serde_json::json;

use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

/// The time limit of the fetch.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    pub(crate) api: crate::global_args::ApiUrlArg,
    /// Write the snapshot to this file (mode 0600, replaced atomically): what a service reads
    /// from CLERK_JWKS_SNAPSHOT when it starts while Clerk is down.
    #[arg(long, value_name = "FILE", required_unless_present = "pem")]
    pub(crate) out: Option<PathBuf>,
    /// Print the keys as PEM instead, for CLERK_JWT_KEY: verification with no network at all
    /// (a signing-key rotation then needs a redeploy).
    #[arg(long)]
    pub(crate) pem: bool,
    /// Read the Frontend API JWKS (`https://<frontend api>/.well-known/jwks.json`, no secret)
    /// instead of the Backend API's /v1/jwks with CLERK_SECRET_KEY.
    #[arg(long, env = "CLERK_JWKS_URL", value_name = "URL")]
    pub(crate) jwks_url: Option<String>,
    /// The issuer (Frontend API URL) the service pins; recorded in the snapshot so that a
    /// service of another instance refuses it (and a service that pins one refuses a
    /// snapshot without). Default: the first of CLERK_ISSUER, else the Frontend API that
    /// CLERK_PUBLISHABLE_KEY names, as the services read them.
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: Option<String>,
}

pub(crate) async fn run(global: &GlobalArgs, args: &SnapshotArgs) -> Exit {
    // A usage error before any call: the issuer only matters for the file.
    let issuer = match (args.out.is_some(), issuer(args)) {
        (false, _) => None,
        (true, Ok(issuer)) => issuer,
        (true, Err(problem)) => {
            terminal::problem(&problem);
            return Exit::Usage;
        }
    };
    let jwks = match fetch(args).await {
        Ok(jwks) => jwks,
        Err((exit, problem)) => {
            terminal::problem(&problem);
            return exit;
        }
    };
    if args.pem {
        let pems: Vec<(String, String)> = jwks
            .keys
            .iter()
            .filter_map(|key| match jwk_to_pem(key) {
                Ok(pem) => Some((key.kid.clone(), pem)),
                Err(err) => {
                    terminal::problem(&err.to_string());
                    None
                }
            })
            .collect();
        if pems.is_empty() {
            terminal::problem("no key of the set has a PEM: nothing to pin");
            return Exit::Failure;
        }
        if pems.len() > 1 {
            terminal::problem(
                "several keys (a signing-key rotation?): CLERK_JWT_KEY takes one, the one whose kid your tokens carry",
            );
        }
        for (kid, pem) in &pems {
            terminal::out(format!("# kid {kid}\n{}", pem.trim_end()));
        }
    }
    let Some(out) = &args.out else {
        return Exit::Ok;
    };
    let snapshot = KeySnapshot::new(issuer, jwks);
    let store = FileSnapshotStore::new(out);
    if let Err(err) = store.save(&snapshot).await {
        terminal::problem(&terminal::error_chain(&err));
        return Exit::Failure;
    }
    let kids: Vec<&str> = snapshot.jwks.keys.iter().map(|k| k.kid.as_str()).collect();
    if global.json {
        terminal::json(&json!({"out": out, "kids": kids, "issuer": snapshot.issuer}));
    } else {
        terminal::out(format!(
            "Saved {} key(s) ({}) to {}{}. Set CLERK_JWKS_SNAPSHOT={} in the service: restarted while Clerk is down, it verifies with them (up to 24 h after this snapshot; the service refreshes the file itself while Clerk answers).",
            kids.len(),
            kids.join(", "),
            out.display(),
            snapshot
                .issuer
                .as_deref()
                .map_or(String::new(), |issuer| format!(" for {issuer}")),
            out.display()
        ));
    }
    Exit::Ok
}

/// The issuer to record: `--issuer`, else the first the services would pin.
fn issuer(args: &SnapshotArgs) -> Result<Option<String>, String> {
    match &args.issuer {
        Some(issuer) => Ok(Some(issuer.clone())),
        None => pinned_issuers(|name| std::env::var(name).ok())
            .map(|issuers| issuers.into_iter().next())
            .map_err(|err| err.to_string()),
    }
}

/// The key set, from the Frontend API JWKS URL or the Backend API.
async fn fetch(args: &SnapshotArgs) -> Result<Jwks, (Exit, String)> {
    let failed = |err: &dyn std::error::Error| (Exit::Failure, terminal::error_chain(err));
    let source: Box<dyn JwksSource> = match &args.jwks_url {
        Some(url) if !is_secure_jwks_url(url) => {
            return Err((
                Exit::Usage,
                format!(
                    "--jwks-url {url:?} must be https:// (http:// only to a loopback address): keys fetched in clear text can be swapped on the way"
                ),
            ));
        }
        Some(url) => {
            let http: Arc<dyn HttpClient> = Arc::new(ReqwestClient::new().map_err(|e| failed(&e))?);
            Box::new(FrontendApiJwks::new(http, url))
        }
        None => {
            let key = SecretKey::from_env(ENV_SECRET_KEY).ok_or_else(|| {
                (
                    Exit::Usage,
                    format!("{ENV_SECRET_KEY} is not set: export it, or give --jwks-url (keys are read from the environment only)"),
                )
            })?;
            let api = clerk_incident_core::api::ClerkApi::builder(key)
                .base_url(&args.api.api_url)
                .timeout(TIMEOUT)
                .build()
                .map_err(|e| failed(&e))?;
            Box::new(BackendApiJwks(api))
        }
    };
    let jwks = tokio::time::timeout(TIMEOUT, source.fetch())
        .await
        .map_err(|_| {
            (
                Exit::Failure,
                format!("no key set within {} s", TIMEOUT.as_secs()),
            )
        })?
        .map_err(|err| (Exit::Failure, err.reason()))?;
    if jwks.keys.is_empty() {
        return Err((
            Exit::Failure,
            "the key set is empty: nothing to save".to_owned(),
        ));
    }
    Ok(jwks)
}
