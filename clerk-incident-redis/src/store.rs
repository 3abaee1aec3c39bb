//! [`RedisFleetStore`]: the [`FleetStore`] on Redis.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clerk_incident_core::auth::AuthMode;
use clerk_incident_core::fleet::{
    DesiredMode, FleetConnector, FleetError, FleetStore, Heartbeat, ModeRequest, ModeUpdates,
    fleet_name,
};
use futures::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, Script};
use tokio::sync::OnceCell;

use crate::keyspace::Keyspace;

/// How long one Redis call may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// How many writes the history stream keeps (about; Redis trims it in whole nodes).
const HISTORY_LEN: u32 = 1000;

/// A [`FleetStore`] on Redis.
///
/// Opening it parses the URL and connects nothing: the first call connects, through a
/// connection manager that reconnects by itself, and every call is bounded (2 s). Cheap to
/// clone; clones share the connection.
///
/// | URL | Meaning |
/// | --- | --- |
/// | `redis://127.0.0.1:6379/0` | plain TCP, database 0 |
/// | `redis://fleet:PASSWORD@redis.internal:6379` | an ACL user and its password |
/// | `rediss://fleet:PASSWORD@redis.internal:6380` | TLS (rustls, the system's roots) |
///
/// Whoever can write the fleet's keys can switch every instance to `Open`: give the services
/// an ACL user that can read them and the operators one that can write them (see
/// docs/fleet.md).
#[derive(Clone)]
pub struct RedisFleetStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    keys: Keyspace,
    name: String,
    connection: OnceCell<ConnectionManager>,
    set_mode: Script,
    budget: Script,
    revocation_jobs: Script,
}

impl RedisFleetStore {
    /// The store of fleet `name` at `url`.
    ///
    /// # Errors
    ///
    /// [`FleetError::Config`] for a URL that is not `redis://` or `rediss://`, or does not
    /// parse; the message never repeats the password.
    pub fn open(url: &str, name: &str) -> Result<Self, FleetError> {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("redis" | "rediss")) {
            return Err(FleetError::Config(
                "the fleet store URL must start with redis:// or rediss:// (TLS)".into(),
            ));
        }
        let name = fleet_name(Some(name), None)?;
        let client = Client::open(url).map_err(|error| {
            FleetError::Config(format!(
                "the fleet store URL does not parse ({})",
                error.category()
            ))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                keys: Keyspace::new(&name),
                name,
                connection: OnceCell::new(),
                set_mode: Script::new(include_str!("set_mode.lua")),
                budget: Script::new(include_str!("budget.lua")),
                revocation_jobs: Script::new(include_str!("revocation_jobs.lua")),
            }),
        })
    }

    /// The fleet's name.
    pub fn fleet(&self) -> &str {
        &self.inner.name
    }

    /// The script that moves the API budget.
    pub(crate) fn budget_script(&self) -> &Script {
        &self.inner.budget
    }

    /// The script that keeps the revocation slot.
    pub(crate) fn revocation_jobs_script(&self) -> &Script {
        &self.inner.revocation_jobs
    }

    /// The client, for connections of their own (pub/sub).
    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The fleet's key names.
    pub(crate) fn keys(&self) -> &Keyspace {
        &self.inner.keys
    }

    /// The shared connection, connecting at the first call.
    pub(crate) async fn connection(&self) -> Result<ConnectionManager, FleetError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1);
        let connection = bounded(
            self.inner
                .connection
                .get_or_try_init(|| self.inner.client.get_connection_manager_with_config(config)),
        )
        .await?;
        Ok(connection.clone())
    }
}

impl fmt::Debug for RedisFleetStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisFleetStore")
            .field("store", &self.describe())
            .field("fleet", &self.inner.name)
            .finish_non_exhaustive()
    }
}

/// Bounds a Redis call by [`CALL_TIMEOUT`] and words its error without the URL.
pub(crate) async fn bounded<T>(
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, FleetError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(unavailable(&error)),
        Err(_) => Err(FleetError::Unavailable("no answer within 2s".into())),
    }
}

/// The error in words an operator can act on, and that carry no secret.
fn unavailable(error: &redis::RedisError) -> FleetError {
    let hint = match error.kind() {
        redis::ErrorKind::AuthenticationFailed => {
            "authentication failed: check the user and password in the URL"
        }
        redis::ErrorKind::Io => "cannot connect",
        _ if error.code() == Some("NOPERM") => {
            "this ACL user may not use the fleet's keys or commands"
        }
        _ if error.code() == Some("NOAUTH") => "authentication required: add the password",
        _ => "the call failed",
    };
    FleetError::Unavailable(format!(
        "{hint} ({}{})",
        error.category(),
        error
            .code()
            .map(|code| format!(" {code}"))
            .unwrap_or_default()
    ))
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, FleetError> {
    serde_json::from_str(json).map_err(|error| FleetError::Invalid(error.to_string()))
}

#[async_trait]
impl FleetStore for RedisFleetStore {
    async fn desired(&self) -> Result<Option<DesiredMode>, FleetError> {
        let mut connection = self.connection().await?;
        let json: Option<String> = bounded(connection.get(self.inner.keys.mode())).await?;
        json.as_deref().map(parse).transpose()
    }

    async fn set_desired(&self, request: ModeRequest) -> Result<DesiredMode, FleetError> {
        // The record without the fields the script fills in (from the server's clock).
        let mut record = serde_json::to_value(request.into_desired(0, AuthMode::Enforce))
            .map_err(|error| FleetError::Invalid(error.to_string()))?;
        if let Some(fields) = record.as_object_mut() {
            for filled in ["epoch", "version", "set_at_ms", "previous"] {
                fields.remove(filled);
            }
        }
        let keys = &self.inner.keys;
        let mut connection = self.connection().await?;
        let mut invocation = self.inner.set_mode.prepare_invoke();
        invocation
            .key(keys.mode())
            .key(keys.version())
            .key(keys.history())
            .key(keys.epoch())
            .arg(record.to_string())
            .arg(keys.changes())
            .arg(HISTORY_LEN)
            .arg(format!("{:016x}", fastrand::u64(..)));
        let written: String = bounded(invocation.invoke_async(&mut connection))
            .await
            .map_err(|error| match error {
                FleetError::Unavailable(message) if message.contains("REFUSED") => {
                    FleetError::Refused(format!(
                        "the fleet store refused the write: {}; check this machine's clock",
                        message.rsplit("REFUSED").next().unwrap_or_default().trim()
                    ))
                }
                other => other,
            })?;
        parse(&written)
    }

    async fn subscribe(&self) -> Result<ModeUpdates, FleetError> {
        let mut pubsub = bounded(self.inner.client.get_async_pubsub()).await?;
        bounded(pubsub.subscribe(self.inner.keys.changes())).await?;
        // A push only says that the mode changed: the record is read from the mode key, which
        // only the operators may write, never taken from the message, which anyone allowed on
        // the channel could publish.
        let store = self.clone();
        Ok(pubsub
            .into_on_message()
            .filter_map(move |_| {
                let store = store.clone();
                async move {
                    match store.desired().await {
                        Ok(desired) => desired,
                        Err(error) => {
                            tracing::debug!(%error, "a push could not be followed by a read; the next poll reads");
                            None
                        }
                    }
                }
            })
            .boxed())
    }

    async fn history(&self, limit: usize) -> Result<Vec<DesiredMode>, FleetError> {
        let mut connection = self.connection().await?;
        let entries: Vec<(String, HashMap<String, String>)> = bounded(
            redis::cmd("XREVRANGE")
                .arg(self.inner.keys.history())
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(limit)
                .query_async(&mut connection),
        )
        .await?;
        let mut history = entries
            .iter()
            .filter_map(|(_, fields)| fields.get("change"))
            .map(|json| parse(json))
            .collect::<Result<Vec<DesiredMode>, _>>()?;
        history.reverse();
        Ok(history)
    }

    async fn heartbeat(&self, beat: &Heartbeat, ttl: Duration) -> Result<(), FleetError> {
        let json =
            serde_json::to_string(beat).map_err(|error| FleetError::Invalid(error.to_string()))?;
        let keys = &self.inner.keys;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection().await?;
        bounded(
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(keys.instance(&beat.id))
                .arg(json)
                .arg("PX")
                .arg(ttl_ms)
                .ignore()
                .cmd("SADD")
                .arg(keys.instances())
                .arg(&beat.id)
                .ignore()
                .query_async::<()>(&mut connection),
        )
        .await
    }

    async fn instances(&self) -> Result<Vec<Heartbeat>, FleetError> {
        let keys = &self.inner.keys;
        let mut connection = self.connection().await?;
        let mut ids: Vec<String> = bounded(connection.smembers(keys.instances())).await?;
        ids.sort_unstable();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = ids.iter().map(|id| keys.instance(id)).collect();
        let beats: Vec<Option<String>> =
            bounded(redis::cmd("MGET").arg(&names).query_async(&mut connection)).await?;
        let mut live = Vec::new();
        let mut gone = Vec::new();
        for (id, beat) in ids.iter().zip(beats) {
            match beat {
                Some(json) => match parse::<Heartbeat>(&json) {
                    Ok(beat) => live.push(beat),
                    Err(error) => tracing::warn!(%error, id, "ignored an invalid heartbeat"),
                },
                None => gone.push(id),
            }
        }
        if !gone.is_empty() {
            // The heartbeat expired: forget the instance.
            bounded(connection.srem::<_, _, ()>(keys.instances(), gone)).await?;
        }
        Ok(live)
    }

    fn describe(&self) -> String {
        let info = self.inner.client.get_connection_info();
        let scheme = match info.addr() {
            redis::ConnectionAddr::TcpTls { .. } => "rediss",
            _ => "redis",
        };
        format!(
            "{scheme}://{}/{} (fleet {})",
            info.addr(),
            info.redis_settings().db(),
            self.inner.name
        )
    }
}

/// Opens a [`RedisFleetStore`] for [`AuthPolicy::from_env_with_fleet`]: the connector of
/// `CLERK_INCIDENT_REDIS_URL`.
///
/// [`AuthPolicy::from_env_with_fleet`]: clerk_incident_core::auth::AuthPolicy::from_env_with_fleet
#[derive(Clone, Copy, Debug, Default)]
pub struct RedisConnector;

impl FleetConnector for RedisConnector {
    fn open(&self, url: &str, name: &str) -> Result<Arc<dyn FleetStore>, FleetError> {
        Ok(Arc::new(RedisFleetStore::open(url, name)?))
    }
}
