//! The validation stage: rules that need more than one file (links between pages, roles named in
//! guidelines, matrices and register entries, duplicate ids, required legal pages), a whole row of a matrix,
//! more than one field of a register entry (the AI Act rules E3–E7), the current date (overdue reviews) or
//! the configuration and the roles together (authors' roles, E12).
//! Rules that concern a single field are checked where the field is read (content stage).

mod authors;
mod guidelines;
mod links;
mod motion;
mod raci;
mod register;

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::config::Config;
use crate::content::Content;
use crate::diagnostics::Diagnostic;

/// Facts from outside the content that the rules need.
pub struct Context<'a> {
    pub config: &'a Config,
    /// Site paths generated besides the documents (index pages, feeds, theme files).
    pub generated_paths: &'a BTreeSet<String>,
    /// The date reviews are measured against.
    pub today: NaiveDate,
}

/// The rules of one register entry beyond its single fields (E3–E8, E2 for training modules, W1–W4),
/// checked against the site's roles and training modules in `content`: what [`validate`] runs for each
/// entry, without the check for ids used twice across entries.
pub fn register_entry(
    entry: &crate::content::register::Entry,
    content: &Content,
    context: &Context,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    register::check_entry(entry, content, context, &mut diagnostics);
    diagnostics
}

/// Runs every cross-file rule and returns the problems found.
pub fn validate(content: &Content, context: &Context) -> Vec<Diagnostic> {
    let mut diagnostics = links::check(content, context.generated_paths);
    diagnostics.extend(guidelines::check(content, context));
    diagnostics.extend(motion::check(content));
    diagnostics.extend(raci::check(content));
    diagnostics.extend(register::check(content, context));
    diagnostics.extend(authors::check(content, context));
    diagnostics
}
