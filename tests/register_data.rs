//! The open data of the KI-Register, built from the valid fixture through the real binary:
//! `register.csv` holds exactly what `register.json` holds (flattened as docs/register.md describes), and every
//! entry of `register.json` is valid against the published `register.schema.json` (checked with the
//! `jsonschema` crate, draft 2020-12), which in turn rejects entries that break the register's rules.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{build_into, valid_site};

/// A change that makes an entry break one rule.
type Mutation = fn(&mut Value);

struct Built {
    _site: tempfile::TempDir,
    out: tempfile::TempDir,
}

fn build() -> Built {
    let site = valid_site();
    let out = tempfile::tempdir().unwrap();
    let public = out.path().join("public");
    let result = build_into(site.path(), &public, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    Built { _site: site, out }
}

impl Built {
    fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.out.path().join("public").join(path)).unwrap()
    }

    fn json(&self, path: &str) -> Value {
        serde_json::from_slice(&self.read(path)).unwrap()
    }
}

/// One value as a CSV cell: lists joined by " | ", `null` empty.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" | "),
        Value::Object(_) => panic!("an object is not a cell"),
    }
}

/// The CSV cell of column `column` for a JSON entry: `a.b` is sub-field b of table a, or of every table in
/// list a joined by " | ".
fn expected_cell(entry: &Value, column: &str) -> String {
    match column.split_once('.') {
        None => cell(&entry[column]),
        Some((field, sub)) => match &entry[field] {
            Value::Null => String::new(),
            Value::Object(o) => cell(&o[sub]),
            Value::Array(items) => items
                .iter()
                .map(|i| cell(&i[sub]))
                .collect::<Vec<_>>()
                .join(" | "),
            other => panic!("{field} is {other}"),
        },
    }
}

#[test]
fn csv_holds_what_json_holds() {
    let built = build();
    let json = built.json("register/register.json");
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(json["schema_version"], "1.0");

    let bytes = built.read("register/register.csv");
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "CSV without BOM");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), entries.len());

    // Every JSON key has its column(s), and every column comes from a JSON key.
    let columns: BTreeSet<&str> = headers.iter().collect();
    let roots: BTreeSet<&str> = headers
        .iter()
        .map(|h| h.split_once('.').map_or(h, |(f, _)| f))
        .collect();
    let keys: BTreeSet<&str> = entries[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(roots, keys);
    assert!(columns.contains("models.licence") && columns.contains("approval.by_role"));

    for (record, entry) in records.iter().zip(entries) {
        for (column, value) in headers.iter().zip(record.iter()) {
            assert_eq!(
                value,
                expected_cell(entry, column),
                "{} column {column}",
                entry["id"]
            );
        }
    }
    // Umlauts survive as UTF-8.
    assert!(String::from_utf8(bytes).unwrap().contains("Bürgerservice"));
}

#[test]
fn every_json_entry_is_valid_against_the_published_schema() {
    let built = build();
    let json = built.json("register/register.json");
    let schema = built.json("register/register.schema.json");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(
        jsonschema::draft202012::meta::is_valid(&schema),
        "the schema is not a valid draft 2020-12 schema"
    );
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let entries = json["entries"].as_array().unwrap();
    for entry in entries {
        let errors: Vec<String> = validator
            .iter_errors(entry)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", entry["id"]);
    }

    // The schema is not vacuous: it rejects what the register's rules reject.
    let in_use = entries
        .iter()
        .find(|e| e["status"] == "in_use")
        .unwrap()
        .clone();
    let broken: Vec<(&str, Mutation)> = vec![
        ("E1 human_oversight", |e| e["human_oversight"] = Value::Null),
        ("E2 status", |e| e["status"] = "aktiv".into()),
        ("E3 retired_on", |e| e["retired_on"] = "2026-01".into()),
        ("E4 prohibited", |e| e["risk_class"] = "prohibited".into()),
        ("E5 high", |e| {
            e["risk_class"] = "high".into();
            e["annex_iii_area"] = 5.into();
            e["profiling"] = false.into();
            e["log_retention_months"] = 6.into();
            e["workers_reps_informed"] = "2026-01-01".into();
        }),
        ("E6 exception", |e| {
            e["art6_3_exception"] = true.into();
            e["profiling"] = true.into();
            e["annex_iii_area"] = 4.into();
        }),
        ("E7 dpia", |e| {
            e["impact_assessments"][0]["type"] = "bias_audit".into()
        }),
        ("E8 role", |e| e["accountable_role"] = "niemand".into()),
        ("E11 name", |e| e["name"] = "x".repeat(101).into()),
        ("extra key", |e| e["neu"] = 1.into()),
    ];
    for (what, mutate) in broken {
        let mut entry = in_use.clone();
        mutate(&mut entry);
        assert!(!validator.is_valid(&entry), "schema accepts {what}");
    }
}
