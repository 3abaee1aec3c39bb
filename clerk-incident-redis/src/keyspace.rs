//! Where a fleet's records live in Redis: every key and the channel under `{<fleet>}:`, so that
//! fleets never see each other's keys and, on a Redis Cluster, all of one fleet's keys share a
//! slot (the Lua script that writes the mode touches three of them).

/// The key names of one fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Keyspace {
    prefix: String,
}

impl Keyspace {
    /// The keys of fleet `name` (already checked by `fleet_name`: no braces).
    pub(crate) fn new(name: &str) -> Self {
        Self {
            prefix: format!("{{{name}}}"),
        }
    }

    /// The desired mode, a JSON string.
    pub(crate) fn mode(&self) -> String {
        format!("{}:mode", self.prefix)
    }

    /// The version counter.
    pub(crate) fn version(&self) -> String {
        format!("{}:version", self.prefix)
    }

    /// The store's epoch, drawn when the version counter starts.
    pub(crate) fn epoch(&self) -> String {
        format!("{}:epoch", self.prefix)
    }

    /// The stream of every write.
    pub(crate) fn history(&self) -> String {
        format!("{}:history", self.prefix)
    }

    /// The pub/sub channel each write is published on.
    pub(crate) fn changes(&self) -> String {
        format!("{}:changes", self.prefix)
    }

    /// The set of instance ids (an id whose heartbeat expired is removed when listed).
    pub(crate) fn instances(&self) -> String {
        format!("{}:instances", self.prefix)
    }

    /// The fleet's key snapshot, the JSON of a key snapshot file.
    pub(crate) fn key_snapshot(&self) -> String {
        format!("{}:keys", self.prefix)
    }

    /// The stream of denial batches (revoked sessions), trimmed to the denial TTL.
    pub(crate) fn denials(&self) -> String {
        format!("{}:denials", self.prefix)
    }

    /// The Backend API budget's next free send slot (µs by the server's clock).
    pub(crate) fn budget(&self) -> String {
        format!("{}:budget", self.prefix)
    }

    /// The end of a 429's pause of the budget (µs by the server's clock).
    pub(crate) fn budget_pause(&self) -> String {
        format!("{}:budget-pause", self.prefix)
    }

    /// The revocation lease: a hash (job, holder, fence) that expires unless renewed.
    pub(crate) fn revocation_lease(&self) -> String {
        format!("{}:revocation-lease", self.prefix)
    }

    /// The job holding the revocation slot until it ends.
    pub(crate) fn revocation_current(&self) -> String {
        format!("{}:revocation-current", self.prefix)
    }

    /// The fencing counter of the revocation lease.
    pub(crate) fn revocation_fence(&self) -> String {
        format!("{}:revocation-fence", self.prefix)
    }

    /// A revocation job's record (its status JSON).
    pub(crate) fn revocation_job(&self, job: &str) -> String {
        format!("{}:revocation-job:{job}", self.prefix)
    }

    /// A revocation job's checkpoint lines, a list.
    pub(crate) fn revocation_checkpoint(&self, job: &str) -> String {
        format!("{}:revocation-job:{job}:checkpoint", self.prefix)
    }

    /// A revocation job's cancel request.
    pub(crate) fn revocation_cancel(&self, job: &str) -> String {
        format!("{}:revocation-job:{job}:cancel", self.prefix)
    }

    /// One instance's heartbeat, a JSON string with a TTL.
    pub(crate) fn instance(&self, id: &str) -> String {
        format!("{}:instance:{id}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::Keyspace;

    #[test]
    fn every_key_shares_the_fleet_hash_tag() {
        let keys = Keyspace::new("clerk-incident:clerk.example.com");
        for key in [
            keys.mode(),
            keys.version(),
            keys.epoch(),
            keys.history(),
            keys.changes(),
            keys.instances(),
            keys.instance("web-1"),
            keys.key_snapshot(),
            keys.denials(),
            keys.budget(),
            keys.budget_pause(),
            keys.revocation_lease(),
            keys.revocation_current(),
            keys.revocation_fence(),
            keys.revocation_job("job_1"),
            keys.revocation_checkpoint("job_1"),
            keys.revocation_cancel("job_1"),
        ] {
            assert!(
                key.starts_with("{clerk-incident:clerk.example.com}:"),
                "{key}"
            );
        }
        assert_ne!(
            Keyspace::new("staging").mode(),
            Keyspace::new("production").mode()
        );
    }
}
