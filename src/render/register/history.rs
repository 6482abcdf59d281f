//! The Stände of register entries: a page per Stand (`register/<id>/stand/<commit12>/`) with the entry as it
//! was, rendered like today's entry page, and the fields that changed against the previous Stand; a list of
//! Stände per entry (`register/<id>/staende/`); the entries' Stände for the changes page and the feed.
//! A Stand that no longer reads under today's rules is shown as its escaped source with a note.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::content::Content;
use crate::content::register::{self, Entry, schema};
use crate::diagnostics::Diagnostic;
use crate::render::history::{self, Banner, Change, WithStands};
use crate::render::register::{EntryContext, Labels};
use crate::render::{PageJob, Shared};
use crate::versions::Versions;
use crate::versions::register::{FieldChange, RegisterStand};

/// One changed field, labelled from the schema.
#[derive(Serialize)]
struct FieldRow {
    field: String,
    label: String,
    old: Option<String>,
    new: Option<String>,
}

#[derive(Serialize)]
struct StandPage<'a> {
    id: String,
    name: String,
    banner: Banner,
    first: bool,
    /// Whether this and the previous version are valid TOML, so that their fields can be compared.
    comparable: bool,
    changes: Vec<FieldRow>,
    /// The entry as it was, if it reads without errors under today's rules.
    entry: Option<EntryAt<'a>>,
    /// The source, when `entry` is `None`.
    raw: String,
}

/// An entry as a Stand shows it: today's entry's context, as its own page has it, or the context of the
/// entry as it was then.
#[derive(Serialize)]
#[serde(untagged)]
enum EntryAt<'a> {
    Today(&'a EntryContext),
    Then(Box<EntryContext>),
}

/// The label of a top-level field: the schema's, or the key itself for a field the schema no longer has.
pub(crate) fn field_label(shared: &Shared, field: &str) -> String {
    if schema::top(field).is_some() {
        shared.text(&format!("reg_f_{field}"))
    } else {
        field.to_string()
    }
}

fn rows(shared: &Shared, changes: &[FieldChange]) -> Vec<FieldRow> {
    changes
        .iter()
        .map(|c| FieldRow {
            field: c.field.clone(),
            label: field_label(shared, &c.field),
            old: c.old.clone(),
            new: c.new.clone(),
        })
        .collect()
}

fn base(id: &str) -> String {
    register::url_path(id)
}

/// The entry as Stand `stand` left it, if it reads without errors today.
fn entry_at(content: &Content, id: &str, stand: &RegisterStand) -> Option<Entry> {
    let stem = stand
        .source
        .path
        .rsplit('/')
        .next()
        .and_then(|n| n.strip_suffix(".toml"))
        .unwrap_or(id);
    let (record, diagnostics) = register::parse(&stand.source, stem, &content.vocabularies);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return None;
    }
    Some(Entry {
        source: stand.source.clone(),
        id: id.to_string(),
        url_path: base(id),
        record,
        valid: true,
    })
}

/// The entries with Stände, published today or removed, with their links.
fn with_stands<'v>(
    shared: &Shared,
    content: &Content,
    versions: &'v Versions,
) -> Vec<WithStands<'v, RegisterStand>> {
    let ids = content.valid_register().map(|e| e.id.as_str());
    history::with_stands(
        shared,
        &versions.register,
        ids,
        &versions.removals.register,
        base,
    )
}

/// The history link for today's entry page.
pub(crate) fn link(
    shared: &Shared,
    versions: &Versions,
    entry: &Entry,
) -> Option<history::HistoryLink> {
    history::link(shared, &versions.register, &entry.id, &base(&entry.id))
}

/// The Stand pages and the list of Stände of every entry (entries side by side: each Stand is read again
/// under today's rules). `today` has each entry published today (by id) with its context as its own page
/// shows it: a Stand of today's text shows the same.
pub(crate) fn jobs(
    shared: &Shared,
    content: &Content,
    versions: &Versions,
    today: &HashMap<&str, (&Entry, EntryContext)>,
) -> Vec<PageJob> {
    let labels = Labels { shared, content };
    let documents = with_stands(shared, content, versions);
    let per_entry: Vec<Vec<PageJob>> = documents
        .into_par_iter()
        .map(|document| {
            let current = today
                .get(document.id)
                .map(|(entry, context)| (*entry, context));
            entry_jobs(shared, content, &labels, current, document)
        })
        .collect();
    per_entry.into_iter().flatten().collect()
}

/// The Stand pages and the list of Stände of one entry, published today as `current` (with its
/// context) or removed.
fn entry_jobs(
    shared: &Shared,
    content: &Content,
    labels: &Labels,
    current: Option<(&Entry, &EntryContext)>,
    document: WithStands<RegisterStand>,
) -> Vec<PageJob> {
    let (current, current_context) = current.unzip();
    let mut jobs = Vec::new();
    let WithStands {
        id,
        stands,
        links,
        removed,
    } = &document;
    let (id, stands) = (*id, *stands);
    let base = base(id);
    let last = stands.len() - 1;
    for (i, stand) in stands.iter().enumerate() {
        // A Stand with today's file and text is today's entry: read once, its context made once.
        let today = current
            .filter(|c| c.source.path == stand.source.path && c.source.text == stand.source.text);
        let entry = match (today, current_context) {
            (Some(_), Some(context)) => Some(EntryAt::Today(context)),
            _ => entry_at(content, id, stand)
                .map(|entry| EntryAt::Then(Box::new(labels.entry(&entry)))),
        };
        let page = StandPage {
            id: id.to_string(),
            name: stand.name(id),
            banner: history::banner(
                shared,
                &base,
                links,
                i,
                i == last && current.is_some_and(|c| c.source.text == stand.source.text),
                history::changed_by(shared, content, &stand.commit),
                removed.clone(),
            ),
            first: i == 0,
            comparable: stand.changes.is_some(),
            changes: stand
                .changes
                .as_deref()
                .map(|c| rows(shared, c))
                .unwrap_or_default(),
            raw: if entry.is_some() {
                String::new()
            } else {
                stand.source.text.to_string()
            },
            entry,
        };
        jobs.push(shared.job(
            "register_stand.html",
            &history::stand_path(&base, &stand.commit),
            |c| c.insert("page", &page),
        ));
    }
    let title = match current {
        Some(entry) => entry.record.text("name").unwrap_or(id).to_string(),
        None => stands[last].name(id),
    };
    jobs.extend(history::list_jobs(
        shared,
        content,
        &base,
        title,
        ("nav_register", "register/"),
        document,
        |stand, first| summary(shared, stand, first),
    ));
    jobs
}

/// What a Stand changed, in a few words: the labels of the changed fields.
fn summary(shared: &Shared, stand: &RegisterStand, first: bool) -> String {
    if first {
        return shared.text("history_first");
    }
    match &stand.changes {
        None => shared.text("history_not_comparable"),
        Some(changes) if changes.is_empty() => shared.text("history_no_field_changed"),
        Some(changes) => changes
            .iter()
            .map(|c| field_label(shared, &c.field))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Every Stand of the published entries, for the changes page and the feed.
pub(crate) fn changes(shared: &Shared, content: &Content, versions: &Versions) -> Vec<Change> {
    history::changes(
        shared,
        with_stands(shared, content, versions),
        &versions.removals.register,
        base,
        |stand, id| stand.name(id),
        ("search_type_register", "feed_register"),
    )
}

/// The rows of the register's change log: entry id, name, Stand, date, permalink, changed field keys.
pub(crate) fn changelog(
    shared: &Shared,
    content: &Content,
    versions: &Versions,
) -> Vec<[String; 6]> {
    let mut rows = Vec::new();
    for WithStands { id, stands, .. } in with_stands(shared, content, versions) {
        let base = base(id);
        for stand in stands {
            rows.push([
                id.to_string(),
                stand.name(id),
                stand.commit.short().to_string(),
                stand.commit.date().format("%Y-%m-%d").to_string(),
                format!(
                    "{}{}",
                    shared.config.base_url,
                    history::stand_path(&base, &stand.commit)
                ),
                stand
                    .changes
                    .as_ref()
                    .map(|c| {
                        c.iter()
                            .map(|c| c.field.as_str())
                            .collect::<Vec<_>>()
                            .join(";")
                    })
                    .unwrap_or_default(),
            ]);
        }
    }
    rows
}
