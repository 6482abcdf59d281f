//! Stände of responsibility matrices (`content/raci/<id>.csv` + `<id>.toml`) and what changed between two.
//!
//! A matrix is tracked by its id (the file stem); a commit that changed the CSV file or the sidecar is a
//! Stand. Changes are letters per task × role, tasks (rows) and roles (columns) added or removed, and the
//! title. A version that no longer parses under today's rules is kept as raw text and compared with nothing.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::content::raci::{self, Sidecar, Table};
use crate::diagnostics::{Diagnostic, SourceText};
use crate::history::Commit;

/// Folder whose files are versioned as matrices.
pub const PREFIX: &str = "content/raci/";

/// One published state of a matrix.
#[derive(Debug, Clone)]
pub struct RaciStand {
    pub commit: Commit,
    /// The CSV file as the commit left it.
    pub csv: SourceText,
    /// The sidecar as the commit left it, if there was one.
    pub sidecar: Option<SourceText>,
    /// Against the previous Stand; `None` for the first Stand or when either does not parse.
    pub changes: Option<MatrixChanges>,
}

impl RaciStand {
    /// The matrix as it was, if it parses without errors under today's rules.
    pub fn table(&self) -> Option<Table> {
        parse_table(&self.csv)
    }

    /// The sidecar as it was, if it parses without errors.
    pub fn meta(&self) -> Option<Sidecar> {
        let (meta, diags) = raci::parse_sidecar(self.sidecar.as_ref()?);
        meta.filter(|_| !diags.iter().any(Diagnostic::is_error))
    }

    /// The title at that time (the id if the sidecar does not parse).
    pub fn title(&self, id: &str) -> String {
        self.meta().map_or_else(|| id.to_string(), |m| m.title)
    }
}

fn parse_table(csv: &SourceText) -> Option<Table> {
    let (table, diags) = raci::parse(csv);
    table.filter(|_| !diags.iter().any(Diagnostic::is_error))
}

/// One cell whose letter changed: `None` is an empty cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellChange {
    /// The task (row) as written in the first column.
    pub task: String,
    /// The role id (column header).
    pub role: String,
    pub old: Option<&'static str>,
    pub new: Option<&'static str>,
}

/// What changed between two versions of a matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MatrixChanges {
    /// Letters changed in rows and columns present in both versions, in the newer order.
    pub cells: Vec<CellChange>,
    pub tasks_added: Vec<String>,
    pub tasks_removed: Vec<String>,
    pub roles_added: Vec<String>,
    pub roles_removed: Vec<String>,
    /// Old and new title, when it changed.
    pub title: Option<(String, String)>,
    /// Whether the description changed.
    pub description_changed: bool,
}

impl MatrixChanges {
    /// Whether nothing a reader sees changed.
    pub fn is_empty(&self) -> bool {
        self == &MatrixChanges::default()
    }
}

/// Whether `path` is a matrix file (CSV or sidecar); returns the matrix id.
pub fn matrix_id(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PREFIX)?;
    if rest.contains('/') {
        return None;
    }
    rest.strip_suffix(".csv")
        .or_else(|| rest.strip_suffix(".toml"))
}

/// Compares two versions: `None` when either CSV file does not parse. Sidecars that do not parse count as
/// unchanged.
pub fn changes(
    old_csv: &SourceText,
    old_sidecar: Option<&SourceText>,
    new_csv: &SourceText,
    new_sidecar: Option<&SourceText>,
) -> Option<MatrixChanges> {
    let old = parse_table(old_csv)?;
    let new = parse_table(new_csv)?;
    let mut changes = table_changes(&old, &new);
    let meta = |s: Option<&SourceText>| s.and_then(|s| raci::parse_sidecar(s).0);
    if let (Some(a), Some(b)) = (meta(old_sidecar), meta(new_sidecar)) {
        if a.title != b.title {
            changes.title = Some((a.title, b.title));
        }
        changes.description_changed = a.description != b.description;
    }
    Some(changes)
}

/// The letter of a task for a role, by role id.
fn letter_of(table: &Table, task: &str, role: &str) -> Option<&'static str> {
    let column = table.roles.iter().position(|r| r.value == role)?;
    table
        .tasks
        .iter()
        .find(|t| t.name.value == task)?
        .cells
        .iter()
        .find(|c| c.role == column)
        .map(|c| c.letter.as_str())
}

/// Cells, rows and columns that differ between two parsed matrices.
pub fn table_changes(old: &Table, new: &Table) -> MatrixChanges {
    let names =
        |t: &Table| -> Vec<String> { t.tasks.iter().map(|t| t.name.value.clone()).collect() };
    let roles = |t: &Table| -> Vec<String> { t.roles.iter().map(|r| r.value.clone()).collect() };
    let (old_tasks, new_tasks) = (names(old), names(new));
    let (old_roles, new_roles) = (roles(old), roles(new));
    let old_task_set: BTreeSet<&String> = old_tasks.iter().collect();
    let new_task_set: BTreeSet<&String> = new_tasks.iter().collect();
    let old_role_set: BTreeSet<&String> = old_roles.iter().collect();
    let new_role_set: BTreeSet<&String> = new_roles.iter().collect();
    let mut cells = Vec::new();
    for task in new_tasks.iter().filter(|t| old_task_set.contains(t)) {
        for role in new_roles.iter().filter(|r| old_role_set.contains(r)) {
            let (a, b) = (letter_of(old, task, role), letter_of(new, task, role));
            if a != b {
                cells.push(CellChange {
                    task: task.clone(),
                    role: role.clone(),
                    old: a,
                    new: b,
                });
            }
        }
    }
    MatrixChanges {
        cells,
        tasks_added: new_tasks
            .iter()
            .filter(|t| !old_task_set.contains(t))
            .cloned()
            .collect(),
        tasks_removed: old_tasks
            .iter()
            .filter(|t| !new_task_set.contains(t))
            .cloned()
            .collect(),
        roles_added: new_roles
            .iter()
            .filter(|r| !old_role_set.contains(r))
            .cloned()
            .collect(),
        roles_removed: old_roles
            .iter()
            .filter(|r| !new_role_set.contains(r))
            .cloned()
            .collect(),
        title: None,
        description_changed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> SourceText {
        SourceText::new("content/raci/m.csv", text)
    }

    #[test]
    fn letters_rows_and_columns_that_changed() {
        let old = csv("Aufgabe;ki;dsb;it\nBedarf;A;C;R\nBetrieb;I;;AR\nAlt;AR;;\n");
        let new = csv("Aufgabe;ki;dsb;pr\nBedarf;AR;C;I\nBetrieb;I;C;\nNeu;AR;;\n");
        let sidecar = |t: &str| {
            SourceText::new(
                "content/raci/m.toml",
                format!("title = \"{t}\"\ndescription = \"D\"\n"),
            )
        };
        let changes = changes(&old, Some(&sidecar("A")), &new, Some(&sidecar("B"))).unwrap();
        let cells: Vec<_> = changes
            .cells
            .iter()
            .map(|c| (c.task.as_str(), c.role.as_str(), c.old, c.new))
            .collect();
        assert_eq!(
            cells,
            [
                ("Bedarf", "ki", Some("A"), Some("AR")),
                ("Betrieb", "dsb", None, Some("C")),
            ]
        );
        assert_eq!(changes.tasks_added, ["Neu"]);
        assert_eq!(changes.tasks_removed, ["Alt"]);
        assert_eq!(changes.roles_added, ["pr"]);
        assert_eq!(changes.roles_removed, ["it"]);
        assert_eq!(changes.title, Some(("A".into(), "B".into())));
        assert!(!changes.description_changed);
    }

    #[test]
    fn a_matrix_that_no_longer_parses_is_not_compared() {
        let good = csv("Aufgabe;ki\nBedarf;A\n");
        assert!(changes(&csv("Aufgabe;ki\nBedarf;X\n"), None, &good, None).is_none());
        assert!(changes(&good, None, &good, None).unwrap().is_empty());
        assert_eq!(matrix_id("content/raci/m.csv"), Some("m"));
        assert_eq!(matrix_id("content/raci/m.toml"), Some("m"));
        assert_eq!(matrix_id("content/register/m.toml"), None);
    }
}
