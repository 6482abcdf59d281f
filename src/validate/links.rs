//! L1 and L2: every internal link points to a page that exists, and to an anchor that exists on it.

use std::collections::{BTreeMap, BTreeSet};

use crate::content::Content;
use crate::diagnostics::{Diagnostic, Rule};
use crate::markdown::LinkTarget;

pub fn check(content: &Content, generated: &BTreeSet<String>) -> Vec<Diagnostic> {
    // The first document published at a path owns it (a duplicate id is reported on the later one).
    let mut anchors: BTreeMap<&str, &BTreeSet<String>> = BTreeMap::new();
    for (_, path, body) in content.documents() {
        anchors.entry(path).or_insert(&body.anchors);
    }
    let mut diagnostics = Vec::new();
    for (source, own_path, body) in content.documents() {
        for link in &body.links {
            let problem = match &link.target {
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
                    match anchors.get(page.as_str()) {
                        Some(page_anchors) => fragment.as_deref().and_then(|f| {
                            missing_anchor(Some(page_anchors), f, &link.dest, "der Zielseite")
                        }),
                        None if generated.contains(page.as_str()) => None,
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
            };
            if let Some((rule, message)) = problem {
                diagnostics.push(Diagnostic::at(source, link.span.clone(), rule, message));
            }
        }
    }
    diagnostics
}

/// `leitlinien/x` and `leitlinien/x/index.html` both mean the page `leitlinien/x/`.
fn normalize_page(path: &str) -> String {
    let path = path.strip_suffix("index.html").unwrap_or(path);
    if path.is_empty()
        || path.ends_with('/')
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
    {
        path.to_string()
    } else {
        format!("{path}/")
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
