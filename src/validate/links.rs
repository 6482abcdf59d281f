//! L1 and L2: every internal link points to a page that exists, and to an anchor that exists on it.

use std::borrow::Cow;
use std::collections::BTreeSet;

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::content::Content;
use crate::diagnostics::{Diagnostic, Rule};
use crate::markdown::LinkTarget;

pub fn check(content: &Content, generated: &BTreeSet<String>) -> Vec<Diagnostic> {
    // The first document published at a path owns it (a duplicate id is reported on the later one).
    let documents: Vec<_> = content.documents().collect();
    let mut anchors: HashMap<&str, &BTreeSet<String>> = HashMap::with_capacity(documents.len());
    for &(_, path, body) in &documents {
        anchors.entry(path).or_insert(&body.anchors);
    }
    // Documents side by side (at 10,000 guidelines the links took 20 ms one after the other); the
    // diagnostics keep the documents' order.
    documents
        .par_iter()
        .flat_map_iter(|&(source, own_path, body)| {
            body.links
                .iter()
                .filter_map(|link| {
                    link_problem(&anchors, generated, own_path, link).map(|(rule, message)| {
                        Diagnostic::at(source, link.span.clone(), rule, message)
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What is wrong with `link` of the document at `own_path`, if anything.
fn link_problem(
    anchors: &HashMap<&str, &BTreeSet<String>>,
    generated: &BTreeSet<String>,
    own_path: &str,
    link: &crate::markdown::Link,
) -> Option<(Rule, String)> {
    match &link.target {
        LinkTarget::External => None,
        LinkTarget::MissingSource(file) => Some((
            Rule::L1,
            format!(
                "Der Link „{}“ zeigt auf die Datei {file}, die es nicht gibt. Prüfen Sie Dateiname und Ordner.",
                link.dest
            ),
        )),
        LinkTarget::SamePage(anchor) => {
            missing_anchor(anchors.get(own_path), anchor, &link.dest, "dieser Seite")
        }
        LinkTarget::Internal { path, fragment } => {
            let page = normalize_page(path);
            match anchors.get(page.as_ref()) {
                Some(page_anchors) => fragment.as_deref().and_then(|f| {
                    missing_anchor(Some(page_anchors), f, &link.dest, "der Zielseite")
                }),
                None if generated.contains(page.as_ref()) => None,
                None => Some((
                    Rule::L1,
                    format!(
                        "Der Link „{}“ zeigt auf /{path}, diese Seite gibt es auf der Website nicht. \
                         Verlinken Sie andere Texte am besten über ihre Datei, z. B. „governance.md#abschnitt“.",
                        link.dest
                    ),
                )),
            }
        }
    }
}

/// `leitlinien/x` and `leitlinien/x/index.html` both mean the page `leitlinien/x/`.
fn normalize_page(path: &str) -> Cow<'_, str> {
    let path = path.strip_suffix("index.html").unwrap_or(path);
    if path.is_empty()
        || path.ends_with('/')
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
    {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("{path}/"))
    }
}

fn missing_anchor(
    anchors: Option<&&BTreeSet<String>>,
    anchor: &str,
    dest: &str,
    where_: &str,
) -> Option<(Rule, String)> {
    if anchor.is_empty() || anchors.is_some_and(|a| a.contains(anchor)) {
        return None;
    }
    let known = anchors
        .map(|a| {
            a.iter()
                .take(12)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Some((
        Rule::L2,
        format!(
            "Der Link „{dest}“ zeigt auf den Anker „#{anchor}“, den es auf {where_} nicht gibt. \
             Vorhandene Anker: {known}."
        ),
    ))
}
