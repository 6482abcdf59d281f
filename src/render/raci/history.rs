//! The Stände of responsibility matrices: a page per Stand (`verantwortung/<id>/stand/<commit12>/`) with the
//! matrix as it was, rendered like today's matrix page, and the letters, rows and roles that changed against
//! the previous Stand; a list of Stände per matrix (`verantwortung/<id>/staende/`); the matrices' Stände for
//! the changes page and the feed. A Stand that no longer reads under today's rules shows its escaped source.

use serde::Serialize;

use crate::content::Content;
use crate::content::raci::{self as matrices, Matrix};
use crate::render::history::{self, Banner, Change, WithStands};
use crate::render::raci::{MatrixContext, matrix_context, role_link};
use crate::render::{PageJob, Shared};
use crate::versions::Versions;
use crate::versions::raci::{MatrixChanges, RaciStand};

/// One cell whose letter changed.
#[derive(Serialize)]
struct CellRow {
    task: String,
    role: String,
    old: Option<&'static str>,
    new: Option<&'static str>,
}

#[derive(Serialize)]
struct ChangesContext {
    cells: Vec<CellRow>,
    tasks_added: Vec<String>,
    tasks_removed: Vec<String>,
    roles_added: Vec<String>,
    roles_removed: Vec<String>,
    title: Option<(String, String)>,
    description_changed: bool,
    empty: bool,
}

#[derive(Serialize)]
struct StandPage {
    id: String,
    title: String,
    banner: Banner,
    first: bool,
    changes: Option<ChangesContext>,
    /// The matrix as it was, if it reads without errors under today's rules.
    matrix: Option<MatrixContext>,
    /// The CSV source and the sidecar's, when `matrix` is `None`.
    raw_csv: String,
    raw_sidecar: String,
}

fn base(id: &str) -> String {
    matrices::url_path(id)
}

fn role_title(shared: &Shared, content: &Content, id: &str) -> String {
    role_link(shared, content, id).title
}

fn changes_context(shared: &Shared, content: &Content, c: &MatrixChanges) -> ChangesContext {
    let roles = |ids: &[String]| ids.iter().map(|r| role_title(shared, content, r)).collect();
    ChangesContext {
        cells: c
            .cells
            .iter()
            .map(|cell| CellRow {
                task: cell.task.clone(),
                role: role_title(shared, content, &cell.role),
                old: cell.old,
                new: cell.new,
            })
            .collect(),
        tasks_added: c.tasks_added.clone(),
        tasks_removed: c.tasks_removed.clone(),
        roles_added: roles(&c.roles_added),
        roles_removed: roles(&c.roles_removed),
        title: c.title.clone(),
        description_changed: c.description_changed,
        empty: c.is_empty(),
    }
}

/// The matrix as Stand `stand` left it, if it reads without errors today.
fn matrix_at(id: &str, stand: &RaciStand) -> Option<Matrix> {
    let table = stand.table()?;
    let meta = stand.meta();
    Some(Matrix {
        id: id.to_string(),
        title: meta
            .as_ref()
            .map_or_else(|| id.to_string(), |m| m.title.clone()),
        description: meta.map(|m| m.description).unwrap_or_default(),
        source: stand.csv.clone(),
        sidecar_path: stand
            .sidecar
            .as_ref()
            .map_or_else(String::new, |s| s.path.clone()),
        task_label: table.task_label,
        roles: table.roles,
        tasks: table.tasks,
    })
}

/// The matrices with Stände, published today or removed, with their links.
fn with_stands<'v>(
    shared: &Shared,
    content: &Content,
    versions: &'v Versions,
) -> Vec<WithStands<'v, RaciStand>> {
    let ids = content.raci.iter().map(|m| m.id.as_str());
    history::with_stands(shared, &versions.raci, ids, &versions.removals.raci, base)
}

/// The history link for today's matrix page.
pub(crate) fn link(
    shared: &Shared,
    versions: &Versions,
    matrix: &Matrix,
) -> Option<history::HistoryLink> {
    history::link(shared, &versions.raci, &matrix.id, &base(&matrix.id))
}

/// What a Stand changed, in a few words.
fn summary(shared: &Shared, stand: &RaciStand, first: bool) -> String {
    let Some(c) = &stand.changes else {
        return shared.text(if first {
            "history_first"
        } else {
            "history_not_comparable"
        });
    };
    if c.is_empty() {
        return shared.text("history_no_field_changed");
    }
    let mut parts = Vec::new();
    let count = |n: usize, key: &str| format!("{n} {}", shared.text(key));
    if !c.cells.is_empty() {
        parts.push(count(c.cells.len(), "raci_history_n_cells"));
    }
    if !c.tasks_added.is_empty() {
        parts.push(count(c.tasks_added.len(), "raci_history_n_tasks_added"));
    }
    if !c.tasks_removed.is_empty() {
        parts.push(count(c.tasks_removed.len(), "raci_history_n_tasks_removed"));
    }
    if !c.roles_added.is_empty() {
        parts.push(count(c.roles_added.len(), "raci_history_n_roles_added"));
    }
    if !c.roles_removed.is_empty() {
        parts.push(count(c.roles_removed.len(), "raci_history_n_roles_removed"));
    }
    if c.title.is_some() || c.description_changed {
        parts.push(shared.text("raci_history_description"));
    }
    parts.join(", ")
}

/// The Stand pages and the list of Stände of every matrix.
pub(crate) fn jobs(shared: &Shared, content: &Content, versions: &Versions) -> Vec<PageJob> {
    let mut jobs = Vec::new();
    for document in with_stands(shared, content, versions) {
        let WithStands {
            id,
            stands,
            links,
            removed,
        } = &document;
        let (id, stands) = (*id, *stands);
        let base = base(id);
        let current = content.raci.iter().find(|m| m.id == id);
        let last = stands.len() - 1;
        for (i, stand) in stands.iter().enumerate() {
            let matrix = matrix_at(id, stand);
            let is_latest = i == last && current.is_some_and(|c| c.source.text == stand.csv.text);
            let page = StandPage {
                id: id.to_string(),
                title: stand.title(id),
                banner: history::banner(
                    shared,
                    &base,
                    links,
                    i,
                    is_latest,
                    history::changed_by(shared, content, &stand.commit),
                    removed.clone(),
                ),
                first: i == 0,
                changes: stand
                    .changes
                    .as_ref()
                    .map(|c| changes_context(shared, content, c)),
                matrix: matrix.as_ref().map(|m| matrix_context(shared, content, m)),
                raw_csv: if matrix.is_some() {
                    String::new()
                } else {
                    stand.csv.text.to_string()
                },
                raw_sidecar: match (&matrix, &stand.sidecar) {
                    (None, Some(s)) => s.text.to_string(),
                    _ => String::new(),
                },
            };
            jobs.push(shared.job(
                "raci_stand.html",
                &history::stand_path(&base, &stand.commit),
                |c| c.insert("page", &page),
            ));
        }
        let title = current.map_or_else(|| stands[last].title(id), |m| m.title.clone());
        jobs.extend(history::list_jobs(
            shared,
            content,
            &base,
            title,
            ("nav_verantwortung", "verantwortung/"),
            document,
            |stand, first| summary(shared, stand, first),
        ));
    }
    jobs
}

/// Every Stand of the matrices, for the changes page and the feed.
pub(crate) fn changes(shared: &Shared, content: &Content, versions: &Versions) -> Vec<Change> {
    history::changes(
        shared,
        with_stands(shared, content, versions),
        &versions.removals.raci,
        base,
        |stand, id| stand.title(id),
        ("search_type_responsibility", "feed_raci"),
    )
}
