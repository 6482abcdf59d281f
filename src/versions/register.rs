//! Stände of KI-Register entries (`content/register/<id>.toml`) and what changed between two of them.
//!
//! An entry is tracked by its `id` field, so a renamed file keeps its history. Changes are compared field by
//! field on the plain TOML of both versions, not through today's schema: a Stand written under older rules
//! still shows what changed, and comments or formatting alone change no field.

use serde::Serialize;

use crate::diagnostics::SourceText;
use crate::history::Commit;

/// Folder whose files are versioned as register entries.
pub const PREFIX: &str = "content/register/";

/// One published state of a register entry.
#[derive(Debug, Clone)]
pub struct RegisterStand {
    pub commit: Commit,
    /// The file as the commit left it (path at that commit).
    pub source: SourceText,
    /// Top-level fields against the previous Stand (for the first Stand: every field, all new); `None` when
    /// this or the previous version is not valid TOML.
    pub changes: Option<Vec<FieldChange>>,
    /// The `name` field, read once: pages, the changes page and the change log all show it.
    name: Option<String>,
}

impl RegisterStand {
    /// The Stand of the entry file `path` with `text` at `commit`: its `name` (see [`identity_and_name`])
    /// and its `changes` against the previous one.
    pub fn new(
        commit: Commit,
        path: &str,
        text: &str,
        name: Option<String>,
        changes: Option<Vec<FieldChange>>,
    ) -> Self {
        RegisterStand {
            commit,
            source: SourceText::new(path, text),
            changes,
            name,
        }
    }

    /// The entry's name at that time (its id if the file has none).
    pub fn name(&self, id: &str) -> String {
        self.name.clone().unwrap_or_else(|| id.to_string())
    }
}

/// One top-level field whose value differs between two versions of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The key, e.g. `risk_class`.
    pub field: String,
    /// The value before, as text; `None` when the field was absent.
    pub old: Option<String>,
    /// The value after, as text; `None` when the field was removed.
    pub new: Option<String>,
}

/// Whether `path` is a register entry file.
pub fn is_entry_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| !rest.contains('/') && rest.ends_with(".toml"))
}

/// The entry's identity (see [`identity`]) and its `name` field, from one parse of `text`.
pub fn identity_and_name(path: &str, text: &str) -> (String, Option<String>) {
    identity_and_name_of(path, parse(text).as_ref())
}

/// [`identity_and_name`] of a file already parsed (`None`: not valid TOML).
pub fn identity_and_name_of(path: &str, table: Option<&toml::Table>) -> (String, Option<String>) {
    let field =
        |key: &str| table.and_then(|t| t.get(key).and_then(|v| v.as_str().map(str::to_string)));
    let name = field("name");
    (field("id").unwrap_or_else(|| file_stem(path)), name)
}

fn file_stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".toml").unwrap_or(name).to_string()
}

/// The entry's identity: its `id` field, or the file name when the file has none or does not parse.
pub fn identity(path: &str, text: &str) -> String {
    identity_and_name(path, text).0
}

/// An entry's text as a TOML table; `None` when it is not valid TOML.
pub fn parse(text: &str) -> Option<toml::Table> {
    text.parse::<toml::Table>().ok()
}

/// The fields that differ between two versions of an entry (`old = None`: the entry is new), in the order of
/// the newer file's keys, removed fields last. `None` when either text is not valid TOML.
pub fn field_changes(old: Option<&str>, new: &str) -> Option<Vec<FieldChange>> {
    let old = old.map(parse);
    field_changes_of(old.as_ref().map(Option::as_ref), parse(new).as_ref())
}

/// [`field_changes`] of versions already parsed (`Some(None)`, `None`: not valid TOML).
pub fn field_changes_of(
    old: Option<Option<&toml::Table>>,
    new: Option<&toml::Table>,
) -> Option<Vec<FieldChange>> {
    let new = new?;
    let empty = toml::Table::new();
    let old = match old {
        Some(table) => table?,
        None => &empty,
    };
    let mut changes = Vec::new();
    for (key, value) in new {
        let before = old.get(key);
        if before != Some(value) {
            changes.push(FieldChange {
                field: key.clone(),
                old: before.map(display),
                new: Some(display(value)),
            });
        }
    }
    for (key, value) in old {
        if !new.contains_key(key) {
            changes.push(FieldChange {
                field: key.clone(),
                old: Some(display(value)),
                new: None,
            });
        }
    }
    Some(changes)
}

/// A TOML value as readers see it: texts without quotes, lists joined by „, “, tables as „key: value“.
pub fn display(value: &toml::Value) -> String {
    use toml::Value;
    match value {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => if *b { "ja" } else { "nein" }.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(items) if items.iter().all(Value::is_table) => {
            items.iter().map(display).collect::<Vec<_>>().join(" | ")
        }
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Table(table) => table
            .iter()
            .map(|(k, v)| format!("{k}: {}", display(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_per_field_and_ignore_comments_and_order() {
        let old = "# Kommentar\nid = \"x\"\nname = \"X\"\nthemes = [\"a\", \"b\"]\nrisk_class = \"minimal\"\n\
                   [[models]]\nname = \"M\"\nversion = \"1\"\n";
        let new = "id = \"x\"\nthemes = [\"a\", \"b\"]\nname = \"X\"\nrisk_class = \"high\"\nexample = true\n\
                   [[models]]\nname = \"M\"\nversion = \"2\"\n";
        let changes = field_changes(Some(old), new).unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("risk_class", Some("minimal"), Some("high")),
                ("example", None, Some("ja")),
                (
                    "models",
                    Some("name: M; version: 1"),
                    Some("name: M; version: 2")
                ),
            ]
        );
        assert_eq!(field_changes(Some(old), old), Some(vec![]));
        assert_eq!(field_changes(Some("id = "), new), None);
        assert_eq!(field_changes(None, "id = \"x\"\n").unwrap().len(), 1);
    }

    #[test]
    fn identity_is_the_id_field_or_the_file_name() {
        assert_eq!(identity("content/register/a.toml", "id = \"b\"\n"), "b");
        assert_eq!(identity("content/register/a.toml", "id = [\n"), "a");
        assert!(is_entry_path("content/register/a.toml"));
        assert!(!is_entry_path("content/register/sub/a.toml"));
        assert!(!is_entry_path("content/raci/a.toml"));
    }
}
