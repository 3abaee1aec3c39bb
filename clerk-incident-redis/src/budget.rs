//! The fleet's Backend API budget on Redis: two small keys, `{<fleet>}:budget` (the next
//! free send slot) and `{<fleet>}:budget-pause` (the end of a 429's pause), moved by one
//! script by the server's clock, so that every process's requests together stay under
//! Clerk's limit.

use std::time::Duration;

use async_trait::async_trait;
use clerk_incident_core::api::{BudgetError, SharedBudget};
use clerk_incident_core::fleet::FleetStore;

use crate::store::{RedisFleetStore, bounded};

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl RedisFleetStore {
    async fn budget_call(&self, operation: &str, amount: Duration) -> Result<u64, BudgetError> {
        let call = async {
            let mut connection = self.connection().await?;
            let mut invocation = self.budget_script().prepare_invoke();
            invocation
                .key(self.keys().budget())
                .key(self.keys().budget_pause())
                .arg(operation)
                .arg(micros(amount));
            bounded(invocation.invoke_async::<u64>(&mut connection)).await
        };
        call.await.map_err(|error| BudgetError(error.to_string()))
    }
}

#[async_trait]
impl SharedBudget for RedisFleetStore {
    async fn reserve(&self, interval: Duration) -> Result<Duration, BudgetError> {
        self.budget_call("reserve", interval)
            .await
            .map(Duration::from_micros)
    }

    async fn pause(&self, wait: Duration) -> Result<(), BudgetError> {
        // A Retry-After is read from the network: an hour bounds what the script accepts.
        self.budget_call("pause", wait.min(Duration::from_secs(3600)))
            .await
            .map(|_| ())
    }

    fn budget_location(&self) -> String {
        format!("{} key {}", self.describe(), self.keys().budget())
    }
}
