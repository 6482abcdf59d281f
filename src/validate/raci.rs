//! Rules of the responsibility matrices: exactly one A per task (R1), at least one R (R2), column headers
//! that are defined roles (R4), roles that no matrix assigns (W5) and tasks that consult many roles (W6).
//! R3 (a cell that is not a letter) is checked where the CSV is read.

use std::collections::BTreeSet;

use crate::content::raci::{Letter, Matrix, Task};
use crate::content::roles::ROLES_FILE;
use crate::content::{Content, Roles};
use crate::diagnostics::{Diagnostic, Rule};

/// More consulted roles than this on one task draw W6.
pub const MAX_CONSULTED: usize = 3;

/// Runs every matrix rule over all matrices.
pub fn check(content: &Content) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for matrix in &content.raci {
        check_columns(matrix, &content.roles, &mut diagnostics);
        for task in &matrix.tasks {
            check_task(matrix, task, &mut diagnostics);
        }
    }
    check_unassigned(content, &mut diagnostics);
    diagnostics
}

/// R4: every column header names a role of `content/rollen.toml`.
fn check_columns(matrix: &Matrix, roles: &Roles, diagnostics: &mut Vec<Diagnostic>) {
    for (index, column) in matrix.roles.iter().enumerate() {
        if roles.get(&column.value).is_some() {
            continue;
        }
        let hint = if roles.file_exists {
            let ids: Vec<&str> = roles.by_id.keys().map(String::as_str).collect();
            format!("Definierte Rollen: {}.", ids.join(", "))
        } else {
            format!("Legen Sie die Rollen in {ROLES_FILE} an.")
        };
        let message = if column.value.is_empty() {
            format!(
                "Die Spalte {} hat keinen Spaltenkopf. Tragen Sie die id einer Rolle ein oder löschen Sie die \
                 Spalte. {hint}",
                index + 2
            )
        } else {
            format!(
                "Die Spalte „{}“ ist keine definierte Rolle. Schreiben Sie die id der Rolle aus {ROLES_FILE} in \
                 den Spaltenkopf (nicht ihren Titel) oder legen Sie die Rolle dort an. {hint}",
                column.value
            )
        };
        diagnostics.push(Diagnostic::at(
            &matrix.source,
            column.span.clone(),
            Rule::R4,
            message,
        ));
    }
}

/// R1, R2 and W6 on one task's row.
fn check_task(matrix: &Matrix, task: &Task, diagnostics: &mut Vec<Diagnostic>) {
    let role = |index: usize| {
        matrix
            .roles
            .get(index)
            .map_or("?", |r| r.value.as_str())
            .to_string()
    };
    let name = &task.name.value;

    let accountable: Vec<_> = task
        .cells
        .iter()
        .filter(|c| c.letter.is_accountable())
        .collect();
    match accountable.as_slice() {
        [_] => {}
        [] => diagnostics.push(Diagnostic::at(
            &matrix.source,
            task.name.span.clone(),
            Rule::R1,
            format!(
                "Die Aufgabe „{name}“ hat kein A (0 gefunden). Jede Aufgabe braucht genau eine Rolle, die die \
                 Verantwortung trägt und entscheidet: Tragen Sie bei dieser Rolle A ein, oder AR, wenn sie die \
                 Aufgabe auch selbst durchführt."
            ),
        )),
        [_, second, ..] => {
            let roles: Vec<String> = accountable
                .iter()
                .map(|c| format!("{} ({})", role(c.role), c.letter.as_str()))
                .collect();
            diagnostics.push(Diagnostic::at(
                &matrix.source,
                second.span.clone(),
                Rule::R1,
                format!(
                    "Die Aufgabe „{name}“ hat {} A: {}. Genau eine Rolle trägt die Verantwortung: Behalten Sie \
                     das A bei einer Rolle und ändern Sie die anderen in R, C oder I.",
                    accountable.len(),
                    roles.join(", ")
                ),
            ));
        }
    }

    if !task.cells.iter().any(|c| c.letter.is_responsible()) {
        diagnostics.push(Diagnostic::at(
            &matrix.source,
            task.name.span.clone(),
            Rule::R2,
            format!(
                "Die Aufgabe „{name}“ hat kein R: niemand führt sie durch. Tragen Sie bei mindestens einer Rolle \
                 R ein, oder AR bei der verantwortlichen Rolle, wenn sie die Aufgabe selbst durchführt."
            ),
        ));
    }

    let consulted: Vec<String> = task.with(Letter::C).map(|c| role(c.role)).collect();
    if consulted.len() > MAX_CONSULTED {
        diagnostics.push(Diagnostic::at(
            &matrix.source,
            task.name.span.clone(),
            Rule::W6,
            format!(
                "Bei der Aufgabe „{name}“ werden {} Rollen angehört (C): {}. Viele C verlangsamen die Aufgabe: \
                 Beschränken Sie C auf höchstens {MAX_CONSULTED} Rollen, deren Rat vorher nötig ist, und \
                 unterrichten Sie die übrigen über das Ergebnis (I).",
                consulted.len(),
                consulted.join(", ")
            ),
        ));
    }
}

/// W5: every role of `content/rollen.toml` has at least one letter in some matrix. Sites without
/// matrices are not warned about.
fn check_unassigned(content: &Content, diagnostics: &mut Vec<Diagnostic>) {
    if content.raci.is_empty() {
        return;
    }
    let assigned: BTreeSet<&str> = content
        .raci
        .iter()
        .flat_map(|m| {
            m.tasks
                .iter()
                .flat_map(|t| t.cells.iter())
                .filter_map(|c| m.roles.get(c.role))
                .map(|r| r.value.as_str())
        })
        .collect();
    for role in content.roles.by_id.values() {
        if assigned.contains(role.id.as_str()) {
            continue;
        }
        diagnostics.push(Diagnostic::line(
            ROLES_FILE,
            role.line,
            Rule::W5,
            format!(
                "Die Rolle „{}“ hat in keiner Zuständigkeitsmatrix (content/raci/) eine Aufgabe. Ordnen Sie ihr \
                 dort R, A, C oder I zu, oder entfernen Sie die Rolle, wenn es sie nicht gibt.",
                role.id
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{raci, roles};
    use crate::diagnostics::SourceText;

    fn content(csv: &str) -> Content {
        let (roles, diags) = roles::parse(&SourceText::new(
            ROLES_FILE,
            "[[role]]\nid = \"ki\"\ntitle = \"KI\"\n\n[[role]]\nid = \"dsb\"\ntitle = \"DSB\"\n\n\
             [[role]]\nid = \"it\"\ntitle = \"IT\"\n\n[[role]]\nid = \"pr\"\ntitle = \"PR\"\n\n\
             [[role]]\nid = \"gs\"\ntitle = \"GS\"\n",
        ));
        assert!(diags.is_empty());
        let source = SourceText::new("content/raci/m.csv", csv);
        let (table, diags) = raci::parse(&source);
        assert!(diags.is_empty(), "{diags:?}");
        let table = table.unwrap();
        Content {
            roles,
            raci: vec![Matrix {
                id: "m".into(),
                title: "M".into(),
                description: "D".into(),
                source,
                sidecar_path: "content/raci/m.toml".into(),
                task_label: table.task_label,
                roles: table.roles,
                tasks: table.tasks,
            }],
            ..Content::default()
        }
    }

    fn found(csv: &str) -> Vec<(Rule, usize, Option<usize>)> {
        check(&content(csv))
            .iter()
            .map(|d| (d.rule, d.line, d.column))
            .collect()
    }

    #[test]
    fn a_complete_matrix_has_no_problems() {
        assert_eq!(
            found("Aufgabe;ki;dsb;it;pr;gs\nX;A;R;C;I;\nY;AR;;;;I\n"),
            []
        );
    }

    #[test]
    fn counts_a_and_r_per_task() {
        let got =
            found("Aufgabe;ki;dsb;it;pr;gs\nZwei A;A;AR;C;I;I\nKein A;R;C;;;I\nKein R;A;C;I;I;I\n");
        // Two A: at the second one (column "Zwei A;A;" + 1); no A, no R: at the task.
        assert_eq!(
            got,
            [
                (Rule::R1, 2, Some(10)),
                (Rule::R1, 3, Some(1)),
                (Rule::R2, 4, Some(1))
            ]
        );
        let diags = check(&content("Aufgabe;ki;dsb;it;pr;gs\nZwei A;A;AR;R;I;I\n"));
        assert!(
            diags[0].message.contains("2 A: ki (A), dsb (AR)"),
            "{}",
            diags[0].message
        );
    }

    #[test]
    fn warns_on_many_consulted_and_unassigned_roles() {
        let got = found("Aufgabe;ki;dsb;it;pr;gs\nX;AR;C;C;C;C\nY;AR;C;C;C;\n");
        assert_eq!(got, [(Rule::W6, 2, Some(1))]);
        // gs (its id on line 18) never appears in a matrix.
        let got = found("Aufgabe;ki;dsb;it;pr\nX;AR;C;I;I\n");
        assert_eq!(got, [(Rule::W5, 18, None)]);
    }

    #[test]
    fn unknown_columns_point_at_their_header() {
        let got = found("Aufgabe;ki;dsb;it;pr;gs;hausmeister\nX;AR;C;I;I;I;I\n");
        assert_eq!(got, [(Rule::R4, 1, Some(25))]);
    }
}
