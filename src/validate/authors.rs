//! `[verlauf.autoren]` of `regelwerk.toml`: every author is mapped to a role that `content/rollen.toml`
//! defines (E12), because Stand pages name the role, never the person.

use crate::config::CONFIG_FILE;
use crate::content::Content;
use crate::content::roles::ROLES_FILE;
use crate::diagnostics::{Diagnostic, Rule};
use crate::validate::Context;

/// E12: an author mapped to an unknown role.
pub fn check(content: &Content, context: &Context) -> Vec<Diagnostic> {
    let ids: Vec<&str> = content.roles.by_id.keys().map(String::as_str).collect();
    context
        .config
        .history
        .authors
        .iter()
        .filter(|a| content.roles.get(&a.role).is_none())
        .map(|a| {
            let hint = if ids.is_empty() {
                format!("Legen Sie die Rollen in {ROLES_FILE} an.")
            } else {
                format!("Definierte Rollen: {}.", ids.join(", "))
            };
            Diagnostic::line(
                CONFIG_FILE,
                a.line,
                Rule::E12,
                format!(
                    "Die Rolle „{}“ für die Autorin oder den Autor „{}“ ist in {ROLES_FILE} nicht definiert. \
                     Tragen Sie die id einer Rolle ein; Stand-Seiten nennen nur den Namen der Rolle. {hint}",
                    a.role, a.email
                ),
            )
        })
        .collect()
}
