//! Generic pages (`content/seiten/*.md`, e.g. Impressum) and the home page text (`content/_index.md`):
//! a lighter front matter than guidelines.

use std::ops::Range;

use crate::content::fields::{FieldReader, Need};
use crate::diagnostics::{Diagnostic, SourceText};

/// The validated front matter of a generic page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageMeta {
    pub title: String,
    pub description: String,
    /// Position in lists; pages without one follow, by title.
    pub order: Option<i64>,
}

/// Reads page front matter, reporting every problem.
pub fn read_meta(
    source: &SourceText,
    toml: Range<usize>,
    anchor: Range<usize>,
) -> (Option<PageMeta>, Vec<Diagnostic>) {
    let mut r = FieldReader::new(source, toml.start);
    let Some(doc) = r.parse(&source.text[toml]) else {
        return (None, r.into_diagnostics());
    };
    let mut t = r.root(&doc, anchor);
    let title = r.text(&mut t, "title", Need::Required, Some(100));
    let description = r.text(&mut t, "description", Need::Optional, Some(300));
    let order = r.integer(&mut t, "order", Need::Optional, 0..=100_000);
    r.finish(t);
    let diagnostics = r.into_diagnostics();
    let meta = match title {
        Some(title) if !diagnostics.iter().any(Diagnostic::is_error) => Some(PageMeta {
            title: title.value,
            description: description.map(|d| d.value).unwrap_or_default(),
            order: order.map(|o| o.value),
        }),
        _ => None,
    };
    (meta, diagnostics)
}
