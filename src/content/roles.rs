//! Roles (`content/rollen.toml`): who is responsible, by function rather than by person. The one role the
//! motion asks to name a person for (M9) carries `person`, which stays visibly open until the county fills it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::content::fields::{FieldReader, Located, Need, is_slug};
use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// Path of the roles file, relative to the site root.
pub const ROLES_FILE: &str = "content/rollen.toml";

/// One role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub title: String,
    /// Organisational unit the role sits in.
    pub unit: String,
    /// Functional mailbox; `None` until the county fills it in.
    pub mailbox: Option<String>,
    /// Whether the role has a named person field (M9), and the name once filled in.
    pub person: Option<String>,
    pub names_person: bool,
    pub description: String,
    /// 1-based line of the role's `id` in `content/rollen.toml`, for diagnostics about the role.
    pub line: usize,
}

/// All roles of the site by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub by_id: BTreeMap<String, Role>,
    /// Whether `content/rollen.toml` exists at all (for a helpful message on unknown roles).
    pub file_exists: bool,
}

impl Roles {
    pub fn get(&self, id: &str) -> Option<&Role> {
        self.by_id.get(id)
    }
}

/// Reads `content/rollen.toml` if it exists.
pub fn load(root: &Path) -> (Roles, Vec<Diagnostic>) {
    match std::fs::read_to_string(root.join(ROLES_FILE)) {
        Ok(text) => parse(&SourceText::new(ROLES_FILE, text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (Roles::default(), Vec::new()),
        Err(err) => (
            Roles::default(),
            vec![Diagnostic::file(
                ROLES_FILE,
                Rule::S1,
                format!(
                    "Die Datei kann nicht gelesen werden ({err}). Speichern Sie sie als UTF-8."
                ),
            )],
        ),
    }
}

/// Parses the roles file.
pub fn parse(source: &SourceText) -> (Roles, Vec<Diagnostic>) {
    let mut roles = Roles {
        file_exists: true,
        ..Roles::default()
    };
    let mut r = FieldReader::new(source, 0);
    let Some(doc) = r.parse(&source.text) else {
        return (roles, r.into_diagnostics());
    };
    let mut root = r.root(&doc, 0..0);
    let mut first_seen: BTreeMap<String, usize> = BTreeMap::new();
    for mut t in r.tables(&mut root, "role", Need::Required) {
        let id = r.text(&mut t, "id", Need::Required, Some(60));
        let title = r.text(&mut t, "title", Need::Required, Some(100));
        let unit = r.text(&mut t, "unit", Need::Optional, Some(200));
        let mailbox = r.email(&mut t, "mailbox", Need::Optional);
        let names_person = t.has("person");
        let person = r.text(&mut t, "person", Need::Optional, Some(100));
        let description = r.text(&mut t, "description", Need::Optional, Some(600));
        r.finish(t);
        let (Some(id), Some(title)) = (id, title) else {
            continue;
        };
        if !check_id(&mut r, &id, &mut first_seen) {
            continue;
        }
        let line = r.source().line_col(id.span.start).0;
        roles.by_id.insert(
            id.value.clone(),
            Role {
                id: id.value,
                title: title.value,
                unit: unit.map(|u| u.value).unwrap_or_default(),
                mailbox: mailbox.map(|m| m.value),
                person: person.map(|p| p.value).filter(|p| !p.trim().is_empty()),
                names_person,
                description: description.map(|d| d.value).unwrap_or_default(),
                line,
            },
        );
    }
    r.finish(root);
    (roles, r.into_diagnostics())
}

/// Reports a malformed or duplicate role id (E9); true if the id is usable.
fn check_id(
    r: &mut FieldReader,
    id: &Located<String>,
    first_seen: &mut BTreeMap<String, usize>,
) -> bool {
    if !is_slug(&id.value) {
        r.report_at(
            id.span.clone(),
            Rule::E9,
            format!(
                "Die Rollen-id „{}“ ist ungültig: nur Kleinbuchstaben a–z, Ziffern und Bindestriche.",
                id.value
            ),
        );
        return false;
    }
    let line = r.source().line_col(id.span.start).0;
    if let Some(first) = first_seen.get(&id.value) {
        r.report_at(
            id.span.clone(),
            Rule::E9,
            format!(
                "Die Rollen-id „{}“ ist bereits in Zeile {first} vergeben. Jede Rolle braucht eine eigene id.",
                id.value
            ),
        );
        return false;
    }
    first_seen.insert(id.value.clone(), line);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_roles_and_reports_duplicates() {
        let text = "[[role]]\nid = \"ki\"\ntitle = \"KI\"\nperson = \"\"\n\n[[role]]\nid = \"ki\"\ntitle = \"Doppelt\"\n";
        let (roles, diags) = parse(&SourceText::new(ROLES_FILE, text));
        assert_eq!(roles.by_id.len(), 1);
        let ki = roles.get("ki").unwrap();
        assert!(ki.names_person && ki.person.is_none());
        assert_eq!(ki.line, 2);
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].rule, diags[0].line), (Rule::E9, 7));
    }
}
