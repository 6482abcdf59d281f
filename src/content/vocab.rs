//! Vocabularies of the KI-Register: the allowed values of fields such as `status` or `risk_class`, with their
//! German labels, as data rather than code.
//!
//! The built-in vocabularies (`src/content/vocabulary.toml`) are compiled in. A site adds terms or replaces the
//! label and description of a term in `content/daten/vokabular.toml`, in the same format. The code knows only
//! the vocabulary names ([`NAMES`]) and the few ids its rules refer to.

use std::collections::BTreeMap;
use std::path::Path;

use crate::content::fields::{FieldReader, Need, is_slug};
use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// The built-in vocabularies.
const BUILT_IN: &str = include_str!("vocabulary.toml");
/// How diagnostics name the built-in file.
const BUILT_IN_PATH: &str = "(eingebaut) src/content/vocabulary.toml";
/// A site's additions and overrides, relative to the site root.
pub const SITE_FILE: &str = "content/daten/vokabular.toml";

/// Every vocabulary by name, in the order documentation lists them.
pub const NAMES: &[&str] = &[
    "status",
    "risk_class",
    "ai_act_role",
    "audience",
    "decision_effect",
    "personal_data",
    "hosting",
    "data_location",
    "licence",
    "art50_duties",
    "assessment_type",
    "annex_iii_area",
    "themes",
    "capability",
];

/// One allowed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub id: String,
    /// German label the site shows.
    pub label: String,
    pub description: String,
}

/// All vocabularies of a site: built-in terms, then the site's additions and overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabularies {
    by_name: BTreeMap<&'static str, Vec<Term>>,
}

impl Default for Vocabularies {
    /// The built-in vocabularies alone.
    fn default() -> Self {
        let (vocabularies, diagnostics) =
            Vocabularies::empty().merge(&SourceText::new(BUILT_IN_PATH, BUILT_IN));
        debug_assert!(diagnostics.is_empty(), "{diagnostics:?}");
        vocabularies
    }
}

impl Vocabularies {
    fn empty() -> Self {
        Vocabularies {
            by_name: NAMES.iter().map(|n| (*n, Vec::new())).collect(),
        }
    }

    /// The terms of a vocabulary, in file order (site additions last).
    pub fn terms(&self, name: &str) -> &[Term] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The ids of a vocabulary.
    pub fn ids(&self, name: &str) -> Vec<&str> {
        self.terms(name).iter().map(|t| t.id.as_str()).collect()
    }

    /// One term, if the vocabulary has it.
    pub fn term(&self, name: &str, id: &str) -> Option<&Term> {
        self.terms(name).iter().find(|t| t.id == id)
    }

    /// The label of a term; the id itself for an unknown one.
    pub fn label(&self, name: &str, id: &str) -> String {
        self.term(name, id)
            .map_or_else(|| id.to_string(), |t| t.label.clone())
    }

    /// Adds the terms of `source` (same format as the built-in file): a known id replaces label and description.
    fn merge(mut self, source: &SourceText) -> (Self, Vec<Diagnostic>) {
        let mut r = FieldReader::new(source, 0);
        let Some(doc) = r.parse(&source.text) else {
            return (self, r.into_diagnostics());
        };
        let mut root = r.root(&doc, 0..0);
        for &name in NAMES {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for mut t in r.tables(&mut root, name, Need::Optional) {
                let id = r.text(&mut t, "id", Need::Required, Some(60));
                let label = r.text(&mut t, "label", Need::Required, Some(150));
                let description = r.text(&mut t, "description", Need::Optional, Some(600));
                r.finish(t);
                let (Some(id), Some(label)) = (id, label) else {
                    continue;
                };
                if !is_slug(&id.value.replace('_', "-")) {
                    r.report_at(
                        id.span.clone(),
                        Rule::E9,
                        format!(
                            "Die id „{}“ im Vokabular „{name}“ ist ungültig: nur Kleinbuchstaben a–z, Ziffern, \
                             Bindestriche und Unterstriche.",
                            id.value
                        ),
                    );
                    continue;
                }
                let line = source.line_col(id.span.start).0;
                if let Some(first) = seen.insert(id.value.clone(), line) {
                    r.report_at(
                        id.span.clone(),
                        Rule::E9,
                        format!(
                            "Die id „{}“ steht im Vokabular „{name}“ schon in Zeile {first}. Jeder Wert darf nur einmal \
                             vorkommen.",
                            id.value
                        ),
                    );
                    continue;
                }
                let term = Term {
                    id: id.value,
                    label: label.value,
                    description: description.map(|d| d.value).unwrap_or_default(),
                };
                let terms = self.by_name.entry(name).or_default();
                match terms.iter_mut().find(|t| t.id == term.id) {
                    Some(existing) => *existing = term,
                    None => terms.push(term),
                }
            }
        }
        r.finish(root);
        (self, r.into_diagnostics())
    }
}

/// The built-in vocabularies with the site's `content/daten/vokabular.toml` applied, if it exists.
pub fn load(root: &Path) -> (Vocabularies, Vec<Diagnostic>) {
    let built_in = Vocabularies::default();
    match std::fs::read_to_string(root.join(SITE_FILE)) {
        Ok(text) => built_in.merge(&SourceText::new(SITE_FILE, text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (built_in, Vec::new()),
        Err(err) => (
            built_in,
            vec![Diagnostic::file(
                SITE_FILE,
                Rule::S1,
                format!(
                    "Die Datei kann nicht gelesen werden ({err}). Speichern Sie sie als UTF-8."
                ),
            )],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_is_valid_and_complete() {
        let (vocab, diags) = Vocabularies::empty().merge(&SourceText::new(BUILT_IN_PATH, BUILT_IN));
        assert!(diags.is_empty(), "{diags:?}");
        for name in NAMES {
            assert!(!vocab.terms(name).is_empty(), "vocabulary {name} is empty");
        }
        assert_eq!(
            vocab.ids("annex_iii_area"),
            ["1", "2", "3", "4", "5", "6", "7", "8"]
        );
    }

    #[test]
    fn a_site_adds_and_overrides_terms() {
        let site = "[[themes]]\nid = \"schule\"\nlabel = \"Schule\"\n\n[[status]]\nid = \"planned\"\nlabel = \"In Planung\"\n\n[[farben]]\nid = \"rot\"\nlabel = \"Rot\"\n";
        let (vocab, diags) = Vocabularies::default().merge(&SourceText::new(SITE_FILE, site));
        assert_eq!(vocab.label("status", "planned"), "In Planung");
        assert_eq!(vocab.ids("themes").last(), Some(&"schule"));
        assert_eq!(vocab.ids("status").len(), 4);
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].rule, diags[0].line), (Rule::S2, 9));
    }
}
