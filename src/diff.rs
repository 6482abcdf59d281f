//! `regelwerk diff <A> <B>`: what changed in policy terms between two revisions — documents changed, blocks
//! changed, inserted, deleted and moved, status and Fassung changes — as Markdown ready to paste into a
//! pull-request comment, or as JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::compare::{self, Block, DiffLabels, Summary};
use crate::content::frontmatter;
use crate::content::guideline::{self, GuidelineMeta};
use crate::diagnostics::SourceText;
use crate::history::git::GitCli;

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

/// The policy changes between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDiff {
    pub from: String,
    pub to: String,
    pub documents: Vec<DocumentChange>,
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
    let old = parse_all(git.files_at(from, "content")?);
    let new = parse_all(git.files_at(to, "content")?);
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
    if diff.documents.is_empty() {
        out.push_str("Keine inhaltlichen Änderungen an Leitlinien oder Seiten.\n");
        return out;
    }
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
    out
}

/// The change summary as JSON.
pub fn to_json(diff: &PolicyDiff) -> String {
    serde_json::to_string_pretty(diff).expect("diff serializes")
}
