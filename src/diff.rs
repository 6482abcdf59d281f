//! `regelwerk diff <A> <B>`: what changed in policy terms between two revisions — documents changed, blocks
//! changed, inserted, deleted and moved, status and Fassung changes; register entries added, removed or with
//! fields changed (old → new); matrices with letters changed per task × role and tasks or roles added or
//! removed — as Markdown ready to paste into a pull-request comment, or as JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::compare::{self, Block, DiffLabels, Summary};
use crate::content::frontmatter;
use crate::content::guideline::{self, GuidelineMeta};
use crate::diagnostics::SourceText;
use crate::history::git::GitCli;
use crate::versions::raci::{self as raci_versions, MatrixChanges};
use crate::versions::register::{self as register_versions, FieldChange};

/// One document that differs between the revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentChange {
    /// `leitlinie` or `seite`.
    pub kind: &'static str,
    pub id: String,
    pub title: String,
    /// `neu`, `entfernt` or `geändert`.
    pub change: &'static str,
    pub path: String,
    /// Block counts of the text change (for changed documents).
    pub blocks: Option<Summary>,
    /// Old and new status, when it changed.
    pub status: Option<(String, String)>,
    /// The decision, when this revision adopts a new Fassung.
    pub new_fassung: Option<String>,
    /// The old title, when the title changed.
    pub old_title: Option<String>,
}

/// One register entry that differs between the revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterChange {
    pub id: String,
    /// The name (the newer one, for a removed entry the old one).
    pub name: String,
    /// `neu`, `entfernt` or `geändert`.
    pub change: &'static str,
    pub path: String,
    /// The fields that changed, old → new (empty for added and removed entries, and when a version is not
    /// valid TOML).
    pub fields: Vec<FieldChange>,
}

/// One responsibility matrix that differs between the revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixChange {
    pub id: String,
    pub title: String,
    /// `neu`, `entfernt` or `geändert`.
    pub change: &'static str,
    /// Letters, tasks and roles that changed; `None` when a version does not parse.
    pub changes: Option<MatrixChanges>,
}

/// The policy changes between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    pub from: String,
    pub to: String,
    pub documents: Vec<DocumentChange>,
    pub register: Vec<RegisterChange>,
    pub matrices: Vec<MatrixChange>,
}

impl PolicyDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.register.is_empty() && self.matrices.is_empty()
    }
}

/// Register entries by id: (path, text).
fn register_files(files: &[(String, String)]) -> BTreeMap<String, (String, String)> {
    files
        .iter()
        .filter(|(path, _)| register_versions::is_entry_path(path))
        .map(|(path, text)| {
            (
                register_versions::identity(path, text),
                (path.clone(), text.clone()),
            )
        })
        .collect()
}

/// Matrices by id: (CSV file, sidecar).
fn matrix_files(
    files: &[(String, String)],
) -> BTreeMap<String, (Option<SourceText>, Option<SourceText>)> {
    let mut out: BTreeMap<String, (Option<SourceText>, Option<SourceText>)> = BTreeMap::new();
    for (path, text) in files {
        let Some(id) = raci_versions::matrix_id(path) else {
            continue;
        };
        let slot = out.entry(id.to_string()).or_default();
        let source = Some(SourceText::new(path.clone(), text.clone()));
        if path.ends_with(".csv") {
            slot.0 = source;
        } else {
            slot.1 = source;
        }
    }
    out.retain(|_, (csv, _)| csv.is_some());
    out
}

fn entry_name(id: &str, text: &str) -> String {
    text.parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("name").and_then(|v| v.as_str().map(str::to_string)))
        .unwrap_or_else(|| id.to_string())
}

fn matrix_title(id: &str, sidecar: Option<&SourceText>) -> String {
    sidecar
        .and_then(|s| crate::content::raci::parse_sidecar(s).0)
        .map_or_else(|| id.to_string(), |m| m.title)
}

fn register_changes(old: &[(String, String)], new: &[(String, String)]) -> Vec<RegisterChange> {
    let (old, new) = (register_files(old), register_files(new));
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        let change = match (old.get(id), new.get(id)) {
            (None, Some((path, text))) => RegisterChange {
                id: id.clone(),
                name: entry_name(id, text),
                change: "neu",
                path: path.clone(),
                fields: Vec::new(),
            },
            (Some((path, text)), None) => RegisterChange {
                id: id.clone(),
                name: entry_name(id, text),
                change: "entfernt",
                path: path.clone(),
                fields: Vec::new(),
            },
            (Some((_, a)), Some((path, b))) => {
                let Some(fields) = register_versions::field_changes(Some(a), b) else {
                    if a == b {
                        continue;
                    }
                    out.push(RegisterChange {
                        id: id.clone(),
                        name: entry_name(id, b),
                        change: "geändert",
                        path: path.clone(),
                        fields: Vec::new(),
                    });
                    continue;
                };
                if fields.is_empty() {
                    continue;
                }
                RegisterChange {
                    id: id.clone(),
                    name: entry_name(id, b),
                    change: "geändert",
                    path: path.clone(),
                    fields,
                }
            }
            (None, None) => continue,
        };
        out.push(change);
    }
    out
}

fn matrix_changes(old: &[(String, String)], new: &[(String, String)]) -> Vec<MatrixChange> {
    let (old, new) = (matrix_files(old), matrix_files(new));
    let ids: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        let change = match (old.get(id), new.get(id)) {
            (None, Some((_, sidecar))) => MatrixChange {
                id: id.clone(),
                title: matrix_title(id, sidecar.as_ref()),
                change: "neu",
                changes: None,
            },
            (Some((_, sidecar)), None) => MatrixChange {
                id: id.clone(),
                title: matrix_title(id, sidecar.as_ref()),
                change: "entfernt",
                changes: None,
            },
            (Some((Some(a), a_side)), Some((Some(b), b_side))) => {
                if a == b && a_side == b_side {
                    continue;
                }
                let changes = raci_versions::changes(a, a_side.as_ref(), b, b_side.as_ref());
                if changes.as_ref().is_some_and(MatrixChanges::is_empty) {
                    continue;
                }
                MatrixChange {
                    id: id.clone(),
                    title: matrix_title(id, b_side.as_ref()),
                    change: "geändert",
                    changes,
                }
            }
            _ => continue,
        };
        out.push(change);
    }
    out
}

struct Parsed {
    kind: &'static str,
    id: String,
    path: String,
    title: String,
    meta: Option<GuidelineMeta>,
    body: String,
}

fn parse_all(files: Vec<(String, String)>) -> BTreeMap<(&'static str, String), Parsed> {
    let mut out = BTreeMap::new();
    for (path, text) in files {
        let kind = if path.starts_with("content/leitlinien/") && path.ends_with(".md") {
            "leitlinie"
        } else if path.starts_with("content/seiten/") && path.ends_with(".md") {
            "seite"
        } else {
            continue;
        };
        let stem = path
            .rsplit('/')
            .next()
            .unwrap_or(&path)
            .trim_end_matches(".md")
            .to_string();
        let source = SourceText::new(path.clone(), text);
        let Ok(split) = frontmatter::split(&source) else {
            continue;
        };
        let (meta, title) = if kind == "leitlinie" {
            let (meta, _) =
                guideline::read_meta(&source, split.toml.clone(), split.opening.clone());
            let title = meta.as_ref().map(|m| m.title.clone());
            (meta, title)
        } else {
            let (meta, _) =
                crate::content::page::read_meta(&source, split.toml.clone(), split.opening.clone());
            (None, meta.map(|m| m.title))
        };
        let id = meta.as_ref().map_or(stem.clone(), |m| m.id.value.clone());
        out.insert(
            (kind, id.clone()),
            Parsed {
                kind,
                id,
                title: title.unwrap_or(stem),
                body: source.text[split.body_start..].to_string(),
                path,
                meta,
            },
        );
    }
    out
}

fn blocks(body: &str) -> Vec<Block> {
    compare::split_blocks(body)
        .into_iter()
        .map(|r| Block {
            markdown: body[r.clone()].to_string(),
            html: crate::theme::escape_html_minimal(&body[r]),
        })
        .collect()
}

/// Compares the content of two revisions of the site at `root`.
pub fn diff(root: &Path, from: &str, to: &str) -> Result<PolicyDiff, String> {
    let git = GitCli::new(root);
    let old_files = git.files_at(from, "content")?;
    let new_files = git.files_at(to, "content")?;
    let register = register_changes(&old_files, &new_files);
    let matrices = matrix_changes(&old_files, &new_files);
    let old = parse_all(old_files);
    let new = parse_all(new_files);
    let labels = DiffLabels {
        deleted: "gelöscht:",
        inserted: "eingefügt:",
    };
    let mut documents = Vec::new();
    let keys: std::collections::BTreeSet<_> = old.keys().chain(new.keys()).cloned().collect();
    for key in keys {
        match (old.get(&key), new.get(&key)) {
            (None, Some(n)) => documents.push(DocumentChange {
                kind: n.kind,
                id: n.id.clone(),
                title: n.title.clone(),
                change: "neu",
                path: n.path.clone(),
                blocks: None,
                status: None,
                new_fassung: fassung_label(n.meta.as_ref()),
                old_title: None,
            }),
            (Some(o), None) => documents.push(DocumentChange {
                kind: o.kind,
                id: o.id.clone(),
                title: o.title.clone(),
                change: "entfernt",
                path: o.path.clone(),
                blocks: None,
                status: None,
                new_fassung: None,
                old_title: None,
            }),
            (Some(o), Some(n)) => {
                let summary = compare::compare(&blocks(&o.body), &blocks(&n.body), &labels).summary;
                let old_status = o.meta.as_ref().map(|m| m.status.as_str());
                let new_status = n.meta.as_ref().map(|m| m.status.as_str());
                let old_beschluss = o.meta.as_ref().and_then(|m| m.beschluss.as_ref());
                let new_beschluss = n.meta.as_ref().and_then(|m| m.beschluss.as_ref());
                let new_fassung = (new_beschluss.is_some() && new_beschluss != old_beschluss)
                    .then(|| fassung_label(n.meta.as_ref()))
                    .flatten();
                let status = (old_status != new_status).then(|| {
                    (
                        old_status.unwrap_or("?").to_string(),
                        new_status.unwrap_or("?").to_string(),
                    )
                });
                let old_title = (o.title != n.title).then(|| o.title.clone());
                if summary.is_empty()
                    && status.is_none()
                    && new_fassung.is_none()
                    && old_title.is_none()
                {
                    continue;
                }
                documents.push(DocumentChange {
                    kind: n.kind,
                    id: n.id.clone(),
                    title: n.title.clone(),
                    change: "geändert",
                    path: n.path.clone(),
                    blocks: Some(summary),
                    status,
                    new_fassung,
                    old_title,
                });
            }
            (None, None) => {}
        }
    }
    Ok(PolicyDiff {
        from: from.to_string(),
        to: to.to_string(),
        documents,
        register,
        matrices,
    })
}

fn fassung_label(meta: Option<&GuidelineMeta>) -> Option<String> {
    let b = meta?.beschluss.as_ref()?;
    Some(format!(
        "{} am {} (Vorlage {})",
        b.gremium,
        b.datum.format("%d.%m.%Y"),
        b.vorlage
    ))
}

/// The change summary as Markdown, for a pull-request comment.
pub fn to_markdown(diff: &PolicyDiff) -> String {
    let mut out = format!(
        "### Änderungen an den Regeln: `{}` → `{}`\n\n",
        diff.from, diff.to
    );
    if diff.is_empty() {
        out.push_str(
            "Keine inhaltlichen Änderungen an Leitlinien, Seiten, KI-Register oder Zuständigkeiten.\n",
        );
        return out;
    }
    if !diff.documents.is_empty() {
        documents_markdown(diff, &mut out);
    }
    if !diff.register.is_empty() {
        register_markdown(&diff.register, &mut out);
    }
    if !diff.matrices.is_empty() {
        matrices_markdown(&diff.matrices, &mut out);
    }
    out
}

/// Escapes a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn register_markdown(changes: &[RegisterChange], out: &mut String) {
    out.push_str("\n#### KI-Register\n\n");
    for c in changes {
        out.push_str(&format!("- **{}** (`{}`): {}\n", c.name, c.id, c.change));
        for f in &c.fields {
            out.push_str(&format!(
                "  - `{}`: {} → {}\n",
                f.field,
                f.old
                    .as_deref()
                    .map_or("–".to_string(), |v| format!("„{v}“")),
                f.new
                    .as_deref()
                    .map_or("–".to_string(), |v| format!("„{v}“")),
            ));
        }
    }
}

fn matrices_markdown(changes: &[MatrixChange], out: &mut String) {
    out.push_str("\n#### Zuständigkeiten (RACI)\n\n");
    for m in changes {
        out.push_str(&format!("- **{}** (`{}`): {}\n", m.title, m.id, m.change));
        let Some(c) = &m.changes else {
            if m.change == "geändert" {
                out.push_str("  - nicht vergleichbar: eine der Fassungen lässt sich nicht lesen\n");
            }
            continue;
        };
        if !c.cells.is_empty() {
            out.push_str("\n  | Aufgabe | Rolle | vorher | nachher |\n  |---|---|---|---|\n");
            for cell_change in &c.cells {
                out.push_str(&format!(
                    "  | {} | `{}` | {} | {} |\n",
                    cell(&cell_change.task),
                    cell_change.role,
                    cell_change.old.unwrap_or("–"),
                    cell_change.new.unwrap_or("–"),
                ));
            }
            out.push('\n');
        }
        for (label, items) in [
            ("Aufgaben hinzugefügt", &c.tasks_added),
            ("Aufgaben entfernt", &c.tasks_removed),
            ("Rollen hinzugefügt", &c.roles_added),
            ("Rollen entfernt", &c.roles_removed),
        ] {
            if !items.is_empty() {
                out.push_str(&format!("  - {label}: {}\n", items.join(", ")));
            }
        }
        if let Some((a, b)) = &c.title {
            out.push_str(&format!("  - Titel: „{a}“ → „{b}“\n"));
        }
        if c.description_changed {
            out.push_str("  - Beschreibung geändert\n");
        }
    }
}

fn documents_markdown(diff: &PolicyDiff, out: &mut String) {
    let fassungen: Vec<&DocumentChange> = diff
        .documents
        .iter()
        .filter(|d| d.new_fassung.is_some())
        .collect();
    if !fassungen.is_empty() {
        out.push_str("**Neue beschlossene Fassungen:**\n\n");
        for d in fassungen {
            out.push_str(&format!(
                "- {} — {}\n",
                d.title,
                d.new_fassung.as_deref().unwrap_or("")
            ));
        }
        out.push('\n');
    }
    out.push_str("| Dokument | Art | Änderung | geändert | eingefügt | gestrichen | verschoben | Hinweise |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---|\n");
    for d in &diff.documents {
        let counts = d.blocks.map_or_else(
            || "| – | – | – | –".to_string(),
            |s| {
                format!(
                    "| {} | {} | {} | {}",
                    s.changed, s.inserted, s.deleted, s.moved
                )
            },
        );
        let mut notes = Vec::new();
        if let Some((a, b)) = &d.status {
            notes.push(format!("Status {a} → {b}"));
        }
        if let Some(old) = &d.old_title {
            notes.push(format!("Titel vorher: {old}"));
        }
        out.push_str(&format!(
            "| {} (`{}`) | {} | {} {} | {} |\n",
            d.title.replace('|', "\\|"),
            d.path,
            d.kind,
            d.change,
            counts,
            notes.join("; ").replace('|', "\\|")
        ));
    }
    out.push_str(
        "\nBlöcke sind Absätze, Überschriften, Listenpunkte und Tabellen des Markdown-Texts.\n",
    );
}

/// The change summary as JSON.
pub fn to_json(diff: &PolicyDiff) -> String {
    serde_json::to_string_pretty(diff).expect("diff serializes")
}
