//! Fixture sites: the valid one passes `check` without a single diagnostic; each invalid one produces
//! exactly its rule, in the right file and line, through the real binary and its JSON output.
//!
//! An invalid fixture is a folder under `tests/fixtures/invalid/` holding only what differs from the valid
//! site (files that are added or replaced) and an `expect.toml`:
//!
//! ```toml
//! code = "E10"                          # the only rule the fixture may produce
//! path = "content/leitlinien/x.md"      # where (at least) one diagnostic must be
//! line = 7
//! remove = ["content/seiten/impressum.md"]   # optional: files deleted from the valid site
//! ```

mod support;

use std::path::Path;

use serde::Deserialize;
use support::{copy_tree, fixtures, regelwerk, valid_site};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: String,
    path: String,
    line: u64,
    #[serde(default)]
    remove: Vec<String>,
}

#[test]
fn the_valid_fixture_has_no_diagnostics() {
    let site = valid_site();
    let out = regelwerk(&[
        "check",
        "--root",
        site.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!([]),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn every_invalid_fixture_reports_its_rule_file_and_line() {
    let mut cases: Vec<_> = std::fs::read_dir(fixtures().join("invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "expected a fixture per rule, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(message) = run_case(case) {
            failures.push(format!(
                "{}: {message}",
                case.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "failing fixtures:\n{}",
        failures.join("\n")
    );
}

fn run_case(case: &Path) -> Result<(), String> {
    let expect: Expect =
        toml::from_str(&std::fs::read_to_string(case.join("expect.toml")).unwrap())
            .map_err(|e| format!("expect.toml: {e}"))?;
    let site = valid_site();
    copy_tree(case, site.path());
    std::fs::remove_file(site.path().join("expect.toml")).unwrap();
    for file in &expect.remove {
        std::fs::remove_file(site.path().join(file)).map_err(|e| format!("remove {file}: {e}"))?;
    }
    let out = regelwerk(&[
        "check",
        "--root",
        site.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let diagnostics: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("JSON output: {e}"))?;
    if diagnostics.is_empty() {
        return Err(format!("no diagnostic, expected {}", expect.code));
    }
    let other: Vec<_> = diagnostics
        .iter()
        .filter(|d| d["code"] != expect.code.as_str())
        .collect();
    if !other.is_empty() {
        return Err(format!("expected only {}, also got {other:?}", expect.code));
    }
    let hit = diagnostics
        .iter()
        .any(|d| d["path"] == expect.path.as_str() && d["line"] == expect.line);
    if !hit {
        return Err(format!(
            "no {} at {}:{}, got {diagnostics:?}",
            expect.code, expect.path, expect.line
        ));
    }
    let is_error = diagnostics[0]["severity"] == "error";
    let expected_exit = if is_error { 1 } else { 0 };
    if out.status.code() != Some(expected_exit) {
        return Err(format!(
            "exit code {:?}, expected {expected_exit}",
            out.status.code()
        ));
    }
    for d in &diagnostics {
        let message = d["message"].as_str().unwrap_or("");
        if message.len() < 20 {
            return Err(format!(
                "message too short to tell the editor what to do: {message:?}"
            ));
        }
    }
    Ok(())
}
