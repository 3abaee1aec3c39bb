//! `clerk-incident report`: the post-incident review of an incident log, as Markdown.

use std::io::{self, Write as _};
use std::path::Path;

use clerk_incident_core::incident::{IncidentLog, report};
use clerk_incident_core::private_file;
use serde_json::json;

use crate::cli::ReportArgs;
use crate::commands::incident::{explain, same_file, warn};
use crate::exit_code::Exit;
use crate::global_args::GlobalArgs;
use crate::terminal;

pub(crate) fn run(global: &GlobalArgs, args: &ReportArgs) -> Exit {
    let timeline = match IncidentLog::open(&args.log.path).and_then(|log| log.read()) {
        Ok(timeline) => timeline,
        Err(err) => {
            terminal::problem(&explain(&err));
            return Exit::Failure;
        }
    };
    warn(&timeline);
    let markdown = report::render(&timeline);
    let Some(out) = &args.out else {
        if global.json {
            terminal::json(&json!({ "markdown": markdown, "warnings": timeline.warnings }));
        } else {
            terminal::out(markdown.trim_end());
        }
        return Exit::Ok;
    };
    if let Err(problem) = write(out, &args.log.path, &markdown, args.force) {
        terminal::problem(&problem);
        return Exit::Failure;
    }
    if global.json {
        terminal::json(&json!({ "out": out, "warnings": timeline.warnings }));
    } else {
        terminal::out(format!(
            "Wrote the post-incident review of {} to {}.",
            args.log.path.display(),
            out.display()
        ));
    }
    Exit::Ok
}

/// Writes the review to `out`: a new file, or any file but the log itself with `force`.
fn write(out: &Path, log: &Path, markdown: &str, force: bool) -> Result<(), String> {
    if same_file(out, log) {
        return Err(format!(
            "{} is the incident log itself; write the review elsewhere",
            out.display()
        ));
    }
    let mut options = private_file::options();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(out).map_err(|err| {
        if err.kind() == io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists; add --force to overwrite it",
                out.display()
            )
        } else {
            format!("cannot create {}: {err}", out.display())
        }
    })?;
    private_file::restrict(&file)
        .and_then(|()| file.write_all(markdown.as_bytes()))
        .and_then(|()| file.sync_all())
        .map_err(|err| format!("cannot write {}: {err}", out.display()))
}
