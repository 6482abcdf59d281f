//! The KI-Register (`content/register/<id>.toml`): one AI system per file.
//!
//! Each file is read field by field along the [`schema::FIELDS`] definition into a [`Record`]: every value
//! with its position, so that the rules of `validate::register` can point at the line. The reader reports
//! what one field alone tells — missing (E1, with the reason for conditional fields), outside its vocabulary
//! (E2), malformed (E10), too long (E11), of the wrong type (S3), unknown (S2) — and an id that is not the
//! file name (E9). Files are read in parallel; the result is sorted by id.

pub mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use chrono::{Months, NaiveDate};
use rayon::prelude::*;
use walkdir::WalkDir;

use crate::content::fields::{FieldReader, Located, Need, Table, is_email, is_slug};
use crate::content::relative;
use crate::content::vocab::Vocabularies;
use crate::diagnostics::{Diagnostic, Rule, SourceText};
use schema::{FIELDS, Field, IfAbsent, Kind, Req};

/// Folder of register entries, relative to the site root.
pub const REGISTER_DIR: &str = "content/register";

/// One value read from an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Texts, vocabulary ids, role ids, URLs, e-mail addresses and months (`YYYY-MM`).
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    List(Vec<Located<Value>>),
    Table(Record),
}

/// The valid values of one table of an entry by field name, each with its position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    values: BTreeMap<&'static str, Located<Value>>,
    /// Keys written in the file, valid or not (a malformed value is reported once, not again as missing).
    present: BTreeSet<&'static str>,
    /// Where the table starts (for problems that concern it as a whole).
    pub anchor: Range<usize>,
}

impl Record {
    /// A value with its position.
    pub fn get(&self, name: &str) -> Option<&Located<Value>> {
        self.values.get(name)
    }

    /// Whether the key is written in the file, even with an invalid value.
    pub fn has(&self, name: &str) -> bool {
        self.present.contains(name)
    }

    /// Where a value is, or where the table is if it is absent.
    pub fn span(&self, name: &str) -> Range<usize> {
        self.get(name)
            .map_or_else(|| self.anchor.clone(), |v| v.span.clone())
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name).map(|v| &v.value) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A text that is present and not blank.
    pub fn filled(&self, name: &str) -> Option<&str> {
        self.text(name).filter(|s| !s.trim().is_empty())
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name).map(|v| &v.value) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name).map(|v| &v.value) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        match self.get(name).map(|v| &v.value) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }

    /// The items of a list; empty when absent.
    pub fn list(&self, name: &str) -> &[Located<Value>] {
        match self.get(name).map(|v| &v.value) {
            Some(Value::List(items)) => items,
            _ => &[],
        }
    }

    /// The texts of a list of texts.
    pub fn texts(&self, name: &str) -> impl Iterator<Item = &str> {
        self.list(name).iter().filter_map(|v| match &v.value {
            Value::Text(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn table(&self, name: &str) -> Option<&Record> {
        match self.get(name).map(|v| &v.value) {
            Some(Value::Table(r)) => Some(r),
            _ => None,
        }
    }

    /// The tables of a list of tables (`[[name]]`).
    pub fn tables(&self, name: &str) -> impl Iterator<Item = &Record> {
        self.list(name).iter().filter_map(|v| match &v.value {
            Value::Table(r) => Some(r),
            _ => None,
        })
    }

    fn insert(&mut self, name: &'static str, value: Located<Value>) {
        self.values.insert(name, value);
    }
}

/// One AI system of the register.
#[derive(Debug, Clone)]
pub struct Entry {
    pub source: SourceText,
    /// The file name without `.toml`; equal to the `id` field in a valid entry.
    pub id: String,
    /// Site-relative URL path, e.g. `register/kipitz/`.
    pub url_path: String,
    pub record: Record,
    /// Whether the file was read without errors: only valid entries are published.
    pub valid: bool,
}

impl Entry {
    /// Whether the entry is marked as an example.
    pub fn is_example(&self) -> bool {
        self.record.bool("example") == Some(true)
    }

    /// The review interval in months (default 12).
    pub fn review_interval(&self) -> u32 {
        self.record
            .int("review_interval_months")
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(12)
    }

    /// When the next review is due, if `last_reviewed` is set.
    pub fn next_review(&self) -> Option<NaiveDate> {
        let last = self.record.date("last_reviewed")?;
        Some(
            last.checked_add_months(Months::new(self.review_interval()))
                .unwrap_or(NaiveDate::MAX),
        )
    }

    /// Whether a field is listed in `unverified`.
    pub fn is_unverified(&self, field: &str) -> bool {
        self.record.texts("unverified").any(|f| f == field)
    }
}

/// Site-relative URL path of an entry.
pub fn url_path(id: &str) -> String {
    format!("register/{id}/")
}

/// Reads every `content/register/*.toml`, sorted by id.
pub fn load(root: &Path, vocab: &Vocabularies) -> (Vec<Entry>, Vec<Diagnostic>) {
    let mut files: Vec<String> = WalkDir::new(root.join(REGISTER_DIR))
        .min_depth(1)
        .max_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| relative(root, e.path()))
        .collect();
    files.sort();
    let read: Vec<(Entry, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|rel| read_file(root, rel, vocab))
        .collect();
    let mut entries = Vec::with_capacity(read.len());
    let mut diagnostics = Vec::new();
    for (entry, mut diags) in read {
        diagnostics.append(&mut diags);
        entries.push(entry);
    }
    entries.sort_by(|a, b| (&a.id, &a.source.path).cmp(&(&b.id, &b.source.path)));
    (entries, diagnostics)
}

/// Reads the entry in the file `rel` (relative to `root`) with the problems of its single fields.
pub(crate) fn read_file(root: &Path, rel: &str, vocab: &Vocabularies) -> (Entry, Vec<Diagnostic>) {
    let stem = rel
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".toml"))
        .unwrap_or(rel)
        .to_string();
    let text = match std::fs::read(root.join(rel)).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            let d = Diagnostic::file(
                rel,
                Rule::S1,
                "Die Datei ist nicht in UTF-8 gespeichert. Speichern Sie sie als UTF-8 (ohne Umwandlung der Umlaute).",
            );
            return (unreadable(rel, stem), vec![d]);
        }
        Err(err) => {
            let d = Diagnostic::file(
                rel,
                Rule::S1,
                format!("Die Datei kann nicht gelesen werden: {err}."),
            );
            return (unreadable(rel, stem), vec![d]);
        }
    };
    let source = SourceText::new(rel, text);
    let (record, diagnostics) = parse(&source, &stem, vocab);
    let valid = !diagnostics.iter().any(Diagnostic::is_error);
    let entry = Entry {
        url_path: url_path(&stem),
        id: stem,
        source,
        record,
        valid,
    };
    (entry, diagnostics)
}

fn unreadable(rel: &str, stem: String) -> Entry {
    Entry {
        source: SourceText::new(rel, String::new()),
        url_path: url_path(&stem),
        id: stem,
        record: Record::default(),
        valid: false,
    }
}

/// Reads one entry from its source; `stem` is the file name without `.toml`.
pub fn parse(source: &SourceText, stem: &str, vocab: &Vocabularies) -> (Record, Vec<Diagnostic>) {
    let mut r = FieldReader::new(source, 0);
    let Some(doc) = r.parse(&source.text) else {
        return (Record::default(), r.into_diagnostics());
    };
    let mut root = r.root(&doc, 0..0);
    let record = read_fields(&mut r, &mut root, FIELDS, vocab);
    r.finish(root);
    if !is_slug(stem) {
        r.report_at(
            0..0,
            Rule::E9,
            format!(
                "Der Dateiname „{stem}.toml“ ergibt keine gültige Adresse. Benennen Sie die Datei mit Kleinbuchstaben, \
                 Ziffern und Bindestrichen, z. B. „buergerservice-chat.toml“, und tragen Sie denselben Namen als id ein."
            ),
        );
    } else if let Some(id) = record.text("id")
        && id != stem
    {
        let message = if is_slug(id) {
            format!(
                "Die id „{id}“ stimmt nicht mit dem Dateinamen „{stem}.toml“ überein. Schreiben Sie id = \"{stem}\" \
                 oder benennen Sie die Datei in „{id}.toml“ um; die id bildet die dauerhafte Adresse des Eintrags."
            )
        } else {
            format!(
                "Die id „{id}“ ist ungültig. Verwenden Sie nur Kleinbuchstaben a–z, Ziffern und einzelne Bindestriche, \
                 gleich dem Dateinamen: id = \"{stem}\"."
            )
        };
        r.report_at(record.span("id"), Rule::E9, message);
    }
    (record, r.into_diagnostics())
}

/// Reads the fields of one table: unconditional ones first, so that conditions can look at them.
fn read_fields(
    r: &mut FieldReader,
    t: &mut Table,
    fields: &'static [Field],
    vocab: &Vocabularies,
) -> Record {
    let mut record = Record {
        anchor: t.anchor(),
        ..Record::default()
    };
    for f in fields {
        if t.has(f.name) {
            record.present.insert(f.name);
        }
    }
    for f in fields.iter().filter(|f| !matches!(f.req, Req::When(_))) {
        let need = match f.req {
            Req::Always => Need::Required,
            _ => Need::Optional,
        };
        if let Some(value) = read_field(r, t, f, need, vocab) {
            record.insert(f.name, value);
        }
    }
    for f in fields {
        let Req::When(cond) = f.req else { continue };
        let reason = cond.reason(&record);
        let need = reason
            .as_deref()
            .map_or(Need::Optional, Need::RequiredBecause);
        if let Some(value) = read_field(r, t, f, need, vocab) {
            record.insert(f.name, value);
        }
    }
    record
}

fn read_field(
    r: &mut FieldReader,
    t: &mut Table,
    f: &'static Field,
    need: Need,
    vocab: &Vocabularies,
) -> Option<Located<Value>> {
    let name = f.name;
    let required = !matches!(need, Need::Optional);
    let text = |v: Located<String>| Located::new(Value::Text(v.value), v.span);
    match f.kind {
        Kind::Id | Kind::Role => r.text(t, name, need, Some(80)).map(text),
        Kind::Text(max) => r.text(t, name, need, Some(max)).map(text),
        Kind::Const(expected) => {
            let v = r.text(t, name, need, None)?;
            if v.value == expected {
                Some(text(v))
            } else {
                r.report_at(
                    v.span.clone(),
                    Rule::E2,
                    format!(
                        "„{}“ = \"{}\" wird nicht unterstützt. Erlaubt ist nur \"{expected}\".",
                        t.qualified(name),
                        v.value
                    ),
                );
                None
            }
        }
        Kind::Choice(vocabulary) => r.choice(t, name, need, &vocab.ids(vocabulary)).map(text),
        Kind::NumberChoice(vocabulary) => {
            let v = r.integer(t, name, need, i64::MIN..=i64::MAX)?;
            let allowed = vocab.ids(vocabulary);
            if allowed.contains(&v.value.to_string().as_str()) {
                Some(Located::new(Value::Int(v.value), v.span))
            } else {
                r.report_at(
                    v.span.clone(),
                    Rule::E2,
                    format!(
                        "„{}“ = {} ist nicht erlaubt. Erlaubt sind: {}.",
                        t.qualified(name),
                        v.value,
                        allowed.join(", ")
                    ),
                );
                None
            }
        }
        Kind::Bool => r
            .boolean(t, name, need)
            .map(|v| Located::new(Value::Bool(v.value), v.span)),
        Kind::Int { min, max } => r
            .integer(t, name, need, min..=max)
            .map(|v| Located::new(Value::Int(v.value), v.span)),
        Kind::Date => r
            .date(t, name, need)
            .map(|v| Located::new(Value::Date(v.value), v.span)),
        Kind::Month => r.year_month(t, name, need).map(text),
        Kind::Url => r.url(t, name, need).map(text),
        Kind::Mailbox => {
            // Present but empty means "not yet filled in": required is only the key itself.
            let need = if t.has(name) { Need::Optional } else { need };
            let v = r.text(t, name, need, Some(254))?;
            if v.value.is_empty() || is_email(&v.value) {
                Some(text(v))
            } else {
                r.report_at(
                    v.span.clone(),
                    Rule::E10,
                    format!(
                        "„{}“ ist keine gültige E-Mail-Adresse (Form: ki@landkreis.de). Tragen Sie ein \
                         Funktionspostfach ein oder lassen Sie \"\" stehen, solange es noch fehlt.",
                        t.qualified(name)
                    ),
                );
                None
            }
        }
        Kind::Texts(_) | Kind::Choices(_) | Kind::Trainings | Kind::FieldNames => {
            let present = t.has(name);
            let items = r.texts(t, name, need)?;
            if items.is_empty() && required && present {
                r.report_at(t.anchor(), Rule::E1, empty_list(t, name, need));
            }
            let allowed: Option<Vec<&str>> = match f.kind {
                Kind::Choices(vocabulary) => Some(vocab.ids(vocabulary)),
                Kind::FieldNames => Some(FIELDS.iter().map(|f| f.name).collect()),
                _ => None,
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Kind::Texts(max) = f.kind {
                    let len = item.value.chars().count();
                    if len > max {
                        r.report_at(
                            item.span.clone(),
                            Rule::E11,
                            format!(
                                "Ein Eintrag in „{}“ ist {len} Zeichen lang, erlaubt sind höchstens {max}. Kürzen Sie \
                                 den Text oder teilen Sie ihn auf mehrere Einträge auf.",
                                t.qualified(name)
                            ),
                        );
                    }
                }
                if let Some(allowed) = &allowed
                    && !allowed.contains(&item.value.as_str())
                {
                    r.report_at(
                        item.span.clone(),
                        Rule::E2,
                        format!(
                            "„{}“ ist für „{}“ nicht erlaubt. Erlaubt sind: {}.",
                            item.value,
                            t.qualified(name),
                            allowed.join(", ")
                        ),
                    );
                    continue;
                }
                out.push(text(item));
            }
            let span = out.first().map_or(t.anchor(), |v| v.span.clone());
            Some(Located::new(Value::List(out), span))
        }
        Kind::Table(fields) => {
            let mut sub = r.table(t, name, need)?;
            let record = read_fields(r, &mut sub, fields, vocab);
            let span = sub.anchor();
            r.finish(sub);
            Some(Located::new(Value::Table(record), span))
        }
        Kind::Tables(fields) => {
            let present = t.has(name);
            let tables = r.tables(t, name, need);
            if tables.is_empty() {
                if present && required {
                    r.report_at(t.anchor(), Rule::E1, empty_list(t, name, need));
                }
                return None;
            }
            let mut out = Vec::with_capacity(tables.len());
            for mut sub in tables {
                let record = read_fields(r, &mut sub, fields, vocab);
                let span = sub.anchor();
                r.finish(sub);
                out.push(Located::new(Value::Table(record), span));
            }
            let span = out[0].span.clone();
            Some(Located::new(Value::List(out), span))
        }
    }
}

fn empty_list(t: &Table, name: &str, need: Need) -> String {
    let why = match need {
        Need::RequiredBecause(reason) => format!(", weil {reason}"),
        _ => String::new(),
    };
    format!(
        "Die Liste „{}“ ist leer; sie braucht mindestens einen Eintrag{why}.",
        t.qualified(name)
    )
}

/// The value an absent field has in the exports, if it has a default.
pub fn default_value(f: &Field) -> Option<Value> {
    match f.default {
        IfAbsent::None => None,
        IfAbsent::Int(i) => Some(Value::Int(i)),
        IfAbsent::Bool(b) => Some(Value::Bool(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"id = "x"
name = "X"
summary = "S"
status = "planned"
themes = ["digitalisierung"]
capability = ["recherche"]
audience = "internal"
org_unit = "Stabsstelle"
accountable_role = "ki-beauftragte"
contact_email = ""
ai_act_role = "deployer"
risk_class = "minimal"
risk_rationale = "R"
art5_check = { date = 2026-01-01, result = "Keine verbotene Praxis." }
purpose = "P"
decision_effect = "none"
personal_data = "none"
hosting = "own"
data_location = "de"
last_reviewed = 2026-01-01
schema_version = "1.0"
example = false

[[models]]
name = "M"
version = "1"
vendor = "V"
licence = "open_source"
"#;

    fn read(text: &str) -> (Record, Vec<Diagnostic>) {
        let source = SourceText::new("content/register/x.toml", text);
        parse(&source, "x", &Vocabularies::default())
    }

    #[test]
    fn reads_a_minimal_planned_entry() {
        let (record, diags) = read(MINIMAL);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(record.text("contact_email"), Some(""));
        assert_eq!(record.tables("models").count(), 1);
        assert_eq!(
            record.table("art5_check").and_then(|t| t.date("date")),
            NaiveDate::from_ymd_opt(2026, 1, 1)
        );
    }

    #[test]
    fn conditional_fields_name_their_reason() {
        let (_, diags) =
            read(&MINIMAL.replace("risk_class = \"minimal\"", "risk_class = \"high\""));
        let messages: Vec<&str> = diags
            .iter()
            .filter(|d| d.rule == Rule::E1)
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages
                .iter()
                .all(|m| m.contains("weil risk_class = high"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("„log_retention_months“"))
        );
    }

    #[test]
    fn values_are_checked_against_vocabularies_and_formats() {
        let text = MINIMAL
            .replace("status = \"planned\"", "status = \"aktiv\"")
            .replace(
                "themes = [\"digitalisierung\"]",
                "themes = [\"digitalisierung\", \"sport\"]",
            )
            .replace("contact_email = \"\"", "contact_email = \"ki at kreis\"")
            .replace("schema_version = \"1.0\"", "schema_version = \"2.0\"");
        let (_, diags) = read(&text);
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(
            got,
            [
                (Rule::E2, 4),
                (Rule::E2, 5),
                (Rule::E10, 10),
                (Rule::E2, 21)
            ]
        );
        assert!(diags[0].message.contains("planned, pilot, in_use, retired"));
    }

    #[test]
    fn the_id_must_be_the_file_name() {
        let (_, diags) = read(&MINIMAL.replace("id = \"x\"", "id = \"y\""));
        assert_eq!((diags[0].rule, diags[0].line), (Rule::E9, 1));
        assert!(diags[0].message.contains("x.toml"));
    }

    #[test]
    fn the_real_examples_read_without_errors() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (entries, diags) = load(root, &Vocabularies::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert!(entries.len() >= 4 && entries.iter().all(|e| e.valid && e.is_example()));
    }
}
