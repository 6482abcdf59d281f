//! Training modules (`content/daten/schulungen.toml`): the mandatory training programme (motion M8,
//! Art. 4 KI-VO). Register entries name the modules their users must complete by id.

use std::collections::BTreeMap;
use std::path::Path;

use crate::content::fields::{FieldReader, Need, is_slug};
use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// Path of the training file, relative to the site root.
pub const TRAINING_FILE: &str = "content/daten/schulungen.toml";

/// One training module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub id: String,
    pub title: String,
}

/// All training modules of the site by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Training {
    pub by_id: BTreeMap<String, Module>,
    /// Whether the training file exists at all (for a helpful message on unknown ids).
    pub file_exists: bool,
}

impl Training {
    pub fn get(&self, id: &str) -> Option<&Module> {
        self.by_id.get(id)
    }
}

/// Reads `content/daten/schulungen.toml` if it exists.
pub fn load(root: &Path) -> (Training, Vec<Diagnostic>) {
    match std::fs::read_to_string(root.join(TRAINING_FILE)) {
        Ok(text) => parse(&SourceText::new(TRAINING_FILE, text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (Training::default(), Vec::new()),
        Err(err) => (
            Training::default(),
            vec![Diagnostic::file(
                TRAINING_FILE,
                Rule::S1,
                format!(
                    "Die Datei kann nicht gelesen werden ({err}). Speichern Sie sie als UTF-8."
                ),
            )],
        ),
    }
}

/// Parses the training file: `[[modul]]` tables with id, title and descriptive fields.
pub fn parse(source: &SourceText) -> (Training, Vec<Diagnostic>) {
    let mut training = Training {
        file_exists: true,
        ..Training::default()
    };
    let mut r = FieldReader::new(source, 0);
    let Some(doc) = r.parse(&source.text) else {
        return (training, r.into_diagnostics());
    };
    let mut root = r.root(&doc, 0..0);
    for mut t in r.tables(&mut root, "modul", Need::Required) {
        let id = r.text(&mut t, "id", Need::Required, Some(60));
        let title = r.text(&mut t, "title", Need::Required, Some(150));
        for key in ["zielgruppe", "dauer", "wiederholung", "inhalt"] {
            r.text(&mut t, key, Need::Optional, Some(1000));
        }
        r.boolean(&mut t, "pflicht", Need::Optional);
        r.finish(t);
        let (Some(id), Some(title)) = (id, title) else {
            continue;
        };
        if !is_slug(&id.value) {
            r.report_at(
                id.span.clone(),
                Rule::E9,
                format!(
                    "Die Modul-id „{}“ ist ungültig: nur Kleinbuchstaben a–z, Ziffern und Bindestriche.",
                    id.value
                ),
            );
            continue;
        }
        if training.by_id.contains_key(&id.value) {
            r.report_at(
                id.span.clone(),
                Rule::E9,
                format!(
                    "Die Modul-id „{}“ ist bereits vergeben. Jedes Schulungsmodul braucht eine eigene id.",
                    id.value
                ),
            );
            continue;
        }
        training.by_id.insert(
            id.value.clone(),
            Module {
                id: id.value,
                title: title.value,
            },
        );
    }
    r.finish(root);
    (training, r.into_diagnostics())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_modules_and_reports_duplicates() {
        let text = "[[modul]]\nid = \"ki-grundlagen\"\ntitle = \"Grundlagen\"\npflicht = true\n\n[[modul]]\nid = \"ki-grundlagen\"\ntitle = \"Doppelt\"\n";
        let (training, diags) = parse(&SourceText::new(TRAINING_FILE, text));
        assert_eq!(training.get("ki-grundlagen").unwrap().title, "Grundlagen");
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].rule, diags[0].line), (Rule::E9, 7));
    }
}
