//! Rules across guidelines and pages: unique ids (E9), owners that are defined roles (E8),
//! overdue reviews (W3), and the legal pages every page links to (L1).

use std::collections::BTreeMap;

use crate::content::Content;
use crate::content::roles::ROLES_FILE;
use crate::diagnostics::{Diagnostic, Rule};
use crate::validate::Context;

pub fn check(content: &Content, context: &Context) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    for (doc, meta) in content.valid_guidelines() {
        if let Some(other) = first.insert(&meta.id.value, &doc.source.path) {
            diagnostics.push(Diagnostic::at(
                &doc.source,
                meta.id.span.clone(),
                Rule::E9,
                format!(
                    "Die id „{}“ wird schon von {other} verwendet. Jede Leitlinie braucht eine eigene, dauerhafte id.",
                    meta.id.value
                ),
            ));
        }
        if content.roles.get(&meta.owner.value).is_none() {
            let hint = if content.roles.file_exists {
                let ids: Vec<&str> = content.roles.by_id.keys().map(String::as_str).collect();
                format!("Definierte Rollen: {}.", ids.join(", "))
            } else {
                format!("Legen Sie die Rollen in {ROLES_FILE} an.")
            };
            diagnostics.push(Diagnostic::at(
                &doc.source,
                meta.owner.span.clone(),
                Rule::E8,
                format!(
                    "Die Rolle „{}“ ist nicht definiert. {hint}",
                    meta.owner.value
                ),
            ));
        }
        if let Some(review) = &meta.review {
            let next = review.value.next();
            if next < context.today {
                diagnostics.push(Diagnostic::at(
                    &doc.source,
                    review.span.clone(),
                    Rule::W3,
                    format!(
                        "Die Überprüfung war am {} fällig (letzte am {}, alle {} Monate). \
                         Prüfen Sie den Text und tragen Sie das neue Datum unter [review] last ein.",
                        next.format("%d.%m.%Y"),
                        review.value.last.format("%d.%m.%Y"),
                        review.value.interval_months
                    ),
                ));
            }
        }
    }
    let legal = &context.config.legal;
    for (key, id) in [
        ("impressum", &legal.impressum),
        ("datenschutz", &legal.datenschutz),
        ("barrierefreiheit", &legal.barrierefreiheit),
    ] {
        if !content.valid_pages().any(|(doc, _)| &doc.id == id) {
            diagnostics.push(Diagnostic::file(
                crate::config::CONFIG_FILE,
                Rule::L1,
                format!(
                    "Die Pflichtseite „{key}“ fehlt: legen Sie content/seiten/{id}.md an. Jede Seite einer Behörde \
                     muss Impressum, Datenschutzerklärung und Erklärung zur Barrierefreiheit verlinken."
                ),
            ));
        }
    }
    diagnostics
}
