//! The council motion the site answers (`content/daten/antrag.toml`): its points M1…M9 in the motion's own
//! wording. Guideline sections declare the points they implement with `{umsetzt=M1,M9}` on their heading.

use std::path::Path;

use crate::content::fields::{FieldReader, Located, Need};
use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// Path of the motion file, relative to the site root.
pub const MOTION_FILE: &str = "content/daten/antrag.toml";

/// One point of the motion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// `M1` … : what sections refer to.
    pub id: Located<String>,
    /// A short label for lists (≤ 40 characters).
    pub short: String,
    /// The motion's own wording.
    pub text: String,
}

/// The motion: its council paper number, title and points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Motion {
    pub vorlage: String,
    pub title: String,
    /// The source path, for diagnostics on points.
    pub source: SourceText,
    pub points: Vec<Point>,
}

impl Motion {
    pub fn point(&self, id: &str) -> Option<&Point> {
        self.points.iter().find(|p| p.id.value == id)
    }
}

/// Reads the motion file if the site has one.
pub fn load(root: &Path) -> (Option<Motion>, Vec<Diagnostic>) {
    match std::fs::read_to_string(root.join(MOTION_FILE)) {
        Ok(text) => parse(SourceText::new(MOTION_FILE, text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (None, Vec::new()),
        Err(err) => (
            None,
            vec![Diagnostic::file(
                MOTION_FILE,
                Rule::S1,
                format!(
                    "Die Datei kann nicht gelesen werden ({err}). Speichern Sie sie als UTF-8."
                ),
            )],
        ),
    }
}

fn parse(source: SourceText) -> (Option<Motion>, Vec<Diagnostic>) {
    let mut r = FieldReader::new(&source, 0);
    let Some(doc) = r.parse(&source.text) else {
        return (None, r.into_diagnostics());
    };
    let mut root = r.root(&doc, 0..0);
    let vorlage = r.text(&mut root, "vorlage", Need::Required, Some(50));
    let title = r.text(&mut root, "title", Need::Required, Some(300));
    let mut points: Vec<Point> = Vec::new();
    for mut t in r.tables(&mut root, "punkt", Need::Required) {
        let id = r.text(&mut t, "id", Need::Required, Some(10));
        let short = r.text(&mut t, "kurz", Need::Required, Some(40));
        let text = r.text(&mut t, "text", Need::Required, Some(1000));
        r.finish(t);
        let (Some(id), Some(short), Some(text)) = (id, short, text) else {
            continue;
        };
        if points.iter().any(|p| p.id.value == id.value) {
            r.report_at(
                id.span.clone(),
                Rule::E9,
                format!(
                    "Der Antragspunkt „{}“ ist doppelt. Jeder Punkt braucht eine eigene id.",
                    id.value
                ),
            );
            continue;
        }
        points.push(Point {
            id,
            short: short.value,
            text: text.value,
        });
    }
    r.finish(root);
    let diagnostics = r.into_diagnostics();
    let motion = match (vorlage, title) {
        (Some(vorlage), Some(title)) => Some(Motion {
            vorlage: vorlage.value,
            title: title.value,
            points,
            source: source.clone(),
        }),
        _ => None,
    };
    (motion, diagnostics)
}
