//! The open data of the KI-Register: `register.json` (all entries, every key in schema order, absent values
//! `null` and absent lists `[]`), `register.csv` (one row per system, UTF-8 with BOM and `;` so that
//! spreadsheet programs keep the umlauts) and `register.schema.json` (the JSON Schema of an entry).
//!
//! CSV columns follow the schema: a scalar field is one column; a list is one column with its values joined by
//! [`LIST_SEPARATOR`]; a table (`approval`) gives one column per sub-field named `approval.date`; a list of
//! tables (`models`) gives one column per sub-field (`models.name`, `models.licence`, …) whose values are
//! joined by the separator in the same order, so the n-th value of each column belongs to the n-th model.
//! `register-aenderungen.csv` is the change log: one row per entry and Stand (see [`changelog_csv`]).
//! Nothing in these files depends on the time of the build.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::config::Config;
use crate::content::Content;
use crate::content::register::schema::{self, FIELDS, Field, Kind, SCHEMA_VERSION};
use crate::content::register::{Entry, Record, Value, default_value};
use crate::render::OutputFile;

/// Site path of the JSON export.
pub(crate) const JSON: &str = "register/register.json";
/// Site path of the CSV export.
pub(crate) const CSV: &str = "register/register.csv";
/// Site path of the JSON Schema.
pub(crate) const SCHEMA: &str = "register/register.schema.json";
/// Site path of the change log: one row per entry and Stand.
pub(crate) const CHANGELOG: &str = "register/register-aenderungen.csv";
/// All data files, for link checking.
pub(crate) const FILES: &[&str] = &[JSON, CSV, SCHEMA, CHANGELOG];
/// The change log's columns.
pub const CHANGELOG_COLUMNS: [&str; 6] = ["id", "name", "stand", "datum", "permalink", "felder"];
/// Joins the values of a list in one CSV cell.
pub const LIST_SEPARATOR: &str = " | ";

/// The three data files.
pub(crate) fn files(config: &Config, content: &Content, entries: &[&Entry]) -> Vec<OutputFile> {
    vec![
        OutputFile::new(JSON, json(config, entries).into_bytes()),
        OutputFile::new(CSV, csv(entries)),
        OutputFile::new(SCHEMA, json_schema(config, content).into_bytes()),
    ]
}

/// The JSON Schema of an entry, for this site's vocabularies, roles and training modules.
pub fn json_schema(config: &Config, content: &Content) -> String {
    let roles: Vec<&str> = content.roles.by_id.keys().map(String::as_str).collect();
    let training: Vec<&str> = content.training.by_id.keys().map(String::as_str).collect();
    let id = format!("{}{SCHEMA}", config.base_url);
    let schema = schema::json_schema(&content.vocabularies, &roles, &training, &id);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value serializes");
    text.push('\n');
    text
}

#[derive(Serialize)]
struct Export<'a> {
    #[serde(rename = "$schema")]
    schema: String,
    schema_version: &'static str,
    /// Where the data comes from: the site and the source folder (no build time, so the file is reproducible).
    generated_from: GeneratedFrom<'a>,
    entries: Vec<RecordJson<'a>>,
}

#[derive(Serialize)]
struct GeneratedFrom<'a> {
    site: &'a str,
    source: &'static str,
}

/// `register.json`: the entries sorted as the index lists them, each with every key of the schema.
pub fn json(config: &Config, entries: &[&Entry]) -> String {
    let export = Export {
        schema: format!("{}{SCHEMA}", config.base_url),
        schema_version: SCHEMA_VERSION,
        generated_from: GeneratedFrom {
            site: &config.base_url,
            source: crate::content::register::REGISTER_DIR,
        },
        entries: entries
            .iter()
            .map(|e| RecordJson {
                record: &e.record,
                fields: FIELDS,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&export).expect("the export serializes");
    text.push('\n');
    text
}

/// A record as a JSON object with the keys of its fields in schema order.
struct RecordJson<'a> {
    record: &'a Record,
    fields: &'static [Field],
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for f in self.fields {
            match self.record.get(f.name) {
                Some(v) => map.serialize_entry(
                    f.name,
                    &ValueJson {
                        value: &v.value,
                        kind: f.kind,
                    },
                )?,
                None => match default_value(f) {
                    Some(value) => map.serialize_entry(
                        f.name,
                        &ValueJson {
                            value: &value,
                            kind: f.kind,
                        },
                    )?,
                    None if f.kind.is_list() => map.serialize_entry(f.name, &[(); 0])?,
                    None => map.serialize_entry(f.name, &())?,
                },
            }
        }
        map.end()
    }
}

struct ValueJson<'a> {
    value: &'a Value,
    kind: Kind,
}

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Text(s) => serializer.serialize_str(s),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Date(d) => serializer.serialize_str(&d.format("%Y-%m-%d").to_string()),
            Value::Table(record) => RecordJson {
                record,
                fields: sub_fields(self.kind),
            }
            .serialize(serializer),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&ValueJson {
                        value: &item.value,
                        kind: self.kind,
                    })?;
                }
                seq.end()
            }
        }
    }
}

fn sub_fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Table(fields) | Kind::Tables(fields) => fields,
        _ => &[],
    }
}

/// The CSV column names, in order.
pub fn csv_columns() -> Vec<String> {
    let mut columns = Vec::new();
    for f in FIELDS {
        match f.kind {
            Kind::Table(sub) | Kind::Tables(sub) => {
                columns.extend(sub.iter().map(|s| format!("{}.{}", f.name, s.name)));
            }
            _ => columns.push(f.name.to_string()),
        }
    }
    columns
}

/// `register-aenderungen.csv`: one row per (entry, Stand), oldest Stand first per entry, in the same CSV
/// dialect as `register.csv`; `felder` holds the keys of the changed fields joined by `;` (for the first
/// Stand: every field it set).
pub fn changelog_csv(rows: &[[String; 6]]) -> Vec<u8> {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut bytes);
        // Writing into a Vec cannot fail.
        writer
            .write_record(CHANGELOG_COLUMNS)
            .expect("CSV into memory");
        for row in rows {
            writer.write_record(row).expect("CSV into memory");
        }
        writer.flush().expect("CSV into memory");
    }
    bytes
}

/// `register.csv`: UTF-8 with byte order mark, `;` as delimiter, CRLF line ends, one row per system.
pub fn csv(entries: &[&Entry]) -> Vec<u8> {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut bytes);
        let header = csv_columns();
        // Writing into a Vec cannot fail.
        writer.write_record(&header).expect("CSV into memory");
        for entry in entries {
            writer
                .write_record(csv_row(&entry.record))
                .expect("CSV into memory");
        }
        writer.flush().expect("CSV into memory");
    }
    bytes
}

fn csv_row(record: &Record) -> Vec<String> {
    let mut row = Vec::new();
    for f in FIELDS {
        let value = record
            .get(f.name)
            .map(|v| v.value.clone())
            .or_else(|| default_value(f));
        match f.kind {
            Kind::Table(sub) => {
                let table = record.table(f.name);
                row.extend(
                    sub.iter()
                        .map(|s| table.map(|t| cell(t, s)).unwrap_or_default()),
                );
            }
            Kind::Tables(sub) => {
                let tables: Vec<&Record> = record.tables(f.name).collect();
                row.extend(sub.iter().map(|s| {
                    tables
                        .iter()
                        .map(|t| cell(t, s))
                        .collect::<Vec<_>>()
                        .join(LIST_SEPARATOR)
                }));
            }
            _ => row.push(value.as_ref().map(scalar).unwrap_or_default()),
        }
    }
    row
}

fn cell(record: &Record, f: &Field) -> String {
    record
        .get(f.name)
        .map(|v| v.value.clone())
        .or_else(|| default_value(f))
        .as_ref()
        .map(scalar)
        .unwrap_or_default()
}

/// A value as one CSV cell (lists joined).
fn scalar(value: &Value) -> String {
    match value {
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::List(items) => items
            .iter()
            .map(|i| scalar(&i.value))
            .collect::<Vec<_>>()
            .join(LIST_SEPARATOR),
        Value::Table(_) => String::new(),
    }
}
