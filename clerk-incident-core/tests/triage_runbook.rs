//! docs/runbook.md lists the classifier's rules: this keeps the table and the code in step.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use clerk_incident_core::triage::{Category, rules};

const RUNBOOK: &str = include_str!("../../docs/runbook.md");

#[test]
fn the_runbook_lists_every_rule_in_order_with_its_verdict() {
    let rows: Vec<Vec<&str>> = RUNBOOK
        .lines()
        .filter(|line| line.starts_with("| ") && line.contains(" | `"))
        .map(|line| line.split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| cells.len() == 7 && cells[1].parse::<usize>().is_ok())
        .collect();
    let documented: Vec<(String, &str, &str)> = rows
        .iter()
        .map(|cells| (cells[2].trim_matches('`').to_owned(), cells[4], cells[5]))
        .collect();
    let coded: Vec<(String, &str, &str)> = rules()
        .map(|rule| {
            (
                rule.name.to_owned(),
                rule.category.as_str(),
                rule.severity.as_str(),
            )
        })
        .collect();
    assert_eq!(
        documented, coded,
        "docs/runbook.md's rule table is out of date"
    );
}

#[test]
fn the_runbook_covers_every_category_and_the_triage_exit_codes() {
    for category in Category::ALL {
        assert!(
            RUNBOOK.contains(&format!("| `{}` |", category.as_str())),
            "{category} missing from the categories table"
        );
    }
    for code in 10..=14 {
        assert!(
            RUNBOOK.contains(&format!("| {code} | `triage` |")),
            "{code}"
        );
    }
}
