//! The fleet's revocation jobs on Redis: one script keeps the lease, the current job and every
//! fenced write, so that a holder whose lease was taken over writes nothing more.

use std::time::Duration;

use async_trait::async_trait;
use clerk_incident_core::fleet::FleetError;
use clerk_incident_core::revocation::{
    CurrentJob, JOB_RECORD_TTL, JobLease, JobStoreError, LeaseGrant, RevocationJobStore,
};
use redis::AsyncCommands;

use crate::store::{RedisFleetStore, bounded};

/// Checkpoint lines read per call.
const CHECKPOINT_PAGE: isize = 10_000;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// What one call of the script names besides its operation.
struct Call<'a> {
    job: &'a str,
    holder: &'a str,
    fence: u64,
    ttl: Duration,
    values: &'a [String],
}

impl<'a> Call<'a> {
    fn job(job: &'a str) -> Self {
        Self {
            job,
            holder: "",
            fence: 0,
            ttl: Duration::from_secs(1),
            values: &[],
        }
    }

    fn lease(lease: &'a JobLease) -> Self {
        Self {
            job: &lease.job,
            holder: &lease.holder,
            fence: lease.fence,
            ..Self::job(&lease.job)
        }
    }
}

impl RedisFleetStore {
    async fn jobs_call<T: redis::FromRedisValue>(
        &self,
        operation: &str,
        call: Call<'_>,
    ) -> Result<T, JobStoreError> {
        let keys = self.keys();
        let mut connection = self.connection().await.map_err(unavailable)?;
        let mut invocation = self.revocation_jobs_script().prepare_invoke();
        invocation
            .key(keys.revocation_lease())
            .key(keys.revocation_current())
            .key(keys.revocation_fence())
            .key(keys.revocation_job(call.job))
            .key(keys.revocation_checkpoint(call.job))
            .key(keys.revocation_cancel(call.job))
            .arg(operation)
            .arg(call.job)
            .arg(call.holder)
            .arg(call.fence)
            .arg(millis(call.ttl))
            .arg(millis(JOB_RECORD_TTL));
        for value in call.values {
            invocation.arg(value);
        }
        bounded(invocation.invoke_async::<T>(&mut connection))
            .await
            .map_err(unavailable)
    }

    async fn fenced(&self, operation: &str, call: Call<'_>) -> Result<bool, JobStoreError> {
        self.jobs_call::<i64>(operation, call)
            .await
            .map(|done| done == 1)
    }
}

/// The fleet store's error as the job store's, without repeating its words.
fn unavailable(error: FleetError) -> JobStoreError {
    match error {
        FleetError::Invalid(reason) => JobStoreError::Invalid(reason),
        FleetError::Unavailable(reason) => JobStoreError::Unavailable(reason),
        other => JobStoreError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl RevocationJobStore for RedisFleetStore {
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseGrant, JobStoreError> {
        let call = Call {
            holder,
            ttl,
            ..Call::job(job)
        };
        let (answer, value): (String, String) = self.jobs_call("acquire", call).await?;
        match answer.as_str() {
            "granted" => value
                .parse::<u64>()
                .map(|fence| LeaseGrant::Granted(JobLease::new(job, holder, fence)))
                .map_err(|_| JobStoreError::Invalid(format!("fencing token {value:?}"))),
            "held" => Ok(LeaseGrant::Held { job: value }),
            other => Err(JobStoreError::Invalid(format!("lease answer {other:?}"))),
        }
    }

    async fn renew_lease(&self, lease: &JobLease, ttl: Duration) -> Result<bool, JobStoreError> {
        self.fenced(
            "renew",
            Call {
                ttl,
                ..Call::lease(lease)
            },
        )
        .await
    }

    async fn release_lease(&self, lease: &JobLease) -> Result<bool, JobStoreError> {
        self.fenced("release", Call::lease(lease)).await
    }

    async fn current_job(&self) -> Result<Option<CurrentJob>, JobStoreError> {
        let (job, holder): (Option<String>, Option<String>) =
            self.jobs_call("current", Call::job("")).await?;
        Ok(job.map(|job| CurrentJob::new(job, holder)))
    }

    async fn write_job(&self, lease: &JobLease, record: &str) -> Result<bool, JobStoreError> {
        let values = [record.to_owned()];
        self.fenced(
            "write",
            Call {
                values: &values,
                ..Call::lease(lease)
            },
        )
        .await
    }

    async fn job(&self, job: &str) -> Result<Option<String>, JobStoreError> {
        let mut connection = self.connection().await.map_err(unavailable)?;
        bounded(connection.get::<_, Option<String>>(self.keys().revocation_job(job)))
            .await
            .map_err(unavailable)
    }

    async fn append_checkpoint(
        &self,
        lease: &JobLease,
        lines: &[String],
    ) -> Result<bool, JobStoreError> {
        self.fenced(
            "append",
            Call {
                values: lines,
                ..Call::lease(lease)
            },
        )
        .await
    }

    async fn checkpoint(&self, job: &str) -> Result<Vec<String>, JobStoreError> {
        let key = self.keys().revocation_checkpoint(job);
        let mut connection = self.connection().await.map_err(unavailable)?;
        let mut lines = Vec::new();
        loop {
            let start = isize::try_from(lines.len()).unwrap_or(isize::MAX);
            let page: Vec<String> =
                bounded(connection.lrange(&key, start, start.saturating_add(CHECKPOINT_PAGE - 1)))
                    .await
                    .map_err(unavailable)?;
            let full = page.len() == usize::try_from(CHECKPOINT_PAGE).unwrap_or(usize::MAX);
            lines.extend(page);
            if !full {
                return Ok(lines);
            }
        }
    }

    async fn request_cancel(&self, job: &str, request: &str) -> Result<String, JobStoreError> {
        let values = [request.to_owned()];
        self.jobs_call(
            "cancel",
            Call {
                values: &values,
                ..Call::job(job)
            },
        )
        .await
    }

    async fn cancel_request(&self, job: &str) -> Result<Option<String>, JobStoreError> {
        let mut connection = self.connection().await.map_err(unavailable)?;
        bounded(connection.get::<_, Option<String>>(self.keys().revocation_cancel(job)))
            .await
            .map_err(unavailable)
    }
}
