//! The libraries' logs on stderr: above the progress bar, without colour off a terminal, and
//! at the default verbosity with retries counted rather than printed one by one.
//!
//! A flaky Clerk makes the client retry many requests; printing each warning (52 lines in 9 s
//! in one run) buries what matters. At the default verbosity the first retry of each cause
//! is said with its detail, then a line at 2, 4, 8… repeats ("16 retries after 5xx so far");
//! `-v` prints each retry as it happens. The report at the end gives the exact count.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Mutex;

use clerk_incident_core::api::RETRY_LOG_TARGET;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::{progress_bar, terminal};

/// Installs the logger: `verbose` is the number of `-v`; `quiet` lowers the default to errors
/// only. `RUST_LOG`, when set, replaces the default filter.
pub(crate) fn init(verbose: u8, quiet: bool) {
    let default = match verbose {
        0 if quiet => "error",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let counted = verbose == 0;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(AboveProgress)
        .with_ansi(clerk_incident_core::log_colour::stderr_colour())
        .with_filter(filter_fn(move |metadata| {
            !(counted && metadata.target() == RETRY_LOG_TARGET)
        }));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(counted.then(RetryCount::default))
        .try_init();
}

/// Writes each log line to stderr above the progress bar.
struct AboveProgress;

impl<'a> MakeWriter<'a> for AboveProgress {
    type Writer = LineBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        LineBuffer(Vec::new())
    }
}

/// One formatted event, written to stderr in one piece when dropped.
struct LineBuffer(Vec<u8>);

impl std::io::Write for LineBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            progress_bar::suspend(|| {
                // Nowhere to report a failure to write to stderr.
                let _ = std::io::stderr().lock().write_all(&self.0);
            });
        }
    }
}

/// Counts the retry warnings by cause and says the first and each doubling.
#[derive(Default)]
struct RetryCount {
    seen: Mutex<HashMap<String, u64>>,
}

impl<S: Subscriber> Layer<S> for RetryCount {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != RETRY_LOG_TARGET {
            return;
        }
        let mut retry = Retry::default();
        event.record(&mut retry);
        let count = {
            let mut seen = self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = seen.entry(retry.cause.clone()).or_default();
            *count += 1;
            *count
        };
        if let Some(line) = retry.line(count) {
            terminal::notice(&line);
        }
    }
}

/// The fields of a retry warning that its summary uses.
#[derive(Default)]
struct Retry {
    cause: String,
    message: String,
    operation: String,
    status: Option<u64>,
    error: Option<String>,
}

impl Retry {
    /// What to say at the `count`th retry of this cause: the first with its detail, then a
    /// count at each power of two.
    fn line(&self, count: u64) -> Option<String> {
        if count == 1 {
            let detail = match (&self.status, &self.error) {
                (Some(status), _) => format!(" (HTTP {status})"),
                (None, Some(error)) => format!(" ({error})"),
                (None, None) => String::new(),
            };
            let message = self.message.trim_end_matches("; retrying");
            return Some(format!(
                "{message}{detail} on {}; retrying. Further retries are counted here, -v shows each",
                self.operation
            ));
        }
        count.is_power_of_two().then(|| {
            let after = match self.cause.as_str() {
                "5xx" => "after 5xx",
                "429" => "after 429 (rate limited)",
                "unreachable" => "after Clerk was unreachable",
                other => other,
            };
            format!("{count} retries {after} so far")
        })
    }
}

impl Visit for Retry {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "cause" => value.clone_into(&mut self.cause),
            "operation" => value.clone_into(&mut self.operation),
            "error" => self.error = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_is_detailed_then_doublings_are_counted() {
        let retry = Retry {
            cause: "5xx".into(),
            message: "Clerk API error; retrying".into(),
            operation: "list sessions".into(),
            status: Some(503),
            error: None,
        };
        let said: Vec<(u64, String)> = (1..=20)
            .filter_map(|count| retry.line(count).map(|line| (count, line)))
            .collect();
        let counts: Vec<u64> = said.iter().map(|(count, _)| *count).collect();
        assert_eq!(counts, [1, 2, 4, 8, 16]);
        assert_eq!(
            said.first().map(|(_, line)| line.as_str()),
            Some(
                "Clerk API error (HTTP 503) on list sessions; retrying. Further retries are \
                 counted here, -v shows each"
            )
        );
        assert_eq!(
            said.last().map(|(_, line)| line.as_str()),
            Some("16 retries after 5xx so far")
        );
    }
}
