//! Pages of the responsibilities part: the index of matrices and roles (`verantwortung/`), one page per
//! matrix (`verantwortung/<id>/`) and one page per role (`rollen/<id>/`) with everything the role is
//! responsible for.

pub(crate) mod history;

use serde::Serialize;

use crate::content::raci::{Letter, Matrix};
use crate::content::{Content, Role};
use crate::render::guidelines::{GuidelineSummary, summary};
use crate::render::{PageJob, Shared};
use crate::versions::Versions;

/// Site paths this module always generates.
pub(crate) const GENERATED: &[&str] = &["verantwortung/"];

/// Every site path this module generates for `content` (for link checking).
pub(crate) fn generated(content: &Content) -> Vec<String> {
    let mut paths: Vec<String> = GENERATED.iter().map(|p| p.to_string()).collect();
    paths.extend(content.raci.iter().map(Matrix::url_path));
    paths.extend(content.roles.by_id.keys().map(|id| role_path(id)));
    paths
}

/// Site-relative URL path of a role's page.
pub(crate) fn role_path(id: &str) -> String {
    format!("rollen/{id}/")
}

/// A letter as templates show it: the letter, a CSS modifier, its expansion and what it means.
#[derive(Serialize, Clone)]
struct LetterContext {
    letter: &'static str,
    /// Lower case, for `raci-letter--<key>`.
    key: &'static str,
    /// The expansion for `<abbr title>`, e.g. „Durchführung (Responsible)“.
    title: String,
    /// What the letter means, for the legend.
    text: String,
}

fn letter(shared: &Shared, letter: Letter) -> LetterContext {
    LetterContext {
        letter: letter.as_str(),
        key: letter.key(),
        title: shared.text(&format!("raci_{}_title", letter.key())),
        text: shared.text(&format!("raci_{}_text", letter.key())),
    }
}

#[derive(Serialize, Clone)]
struct RoleLink {
    id: String,
    title: String,
    url: String,
}

fn role_link(shared: &Shared, content: &Content, id: &str) -> RoleLink {
    RoleLink {
        id: id.to_string(),
        title: content
            .roles
            .get(id)
            .map_or_else(|| id.to_string(), |r| r.title.clone()),
        url: shared.url(&role_path(id)),
    }
}

#[derive(Serialize)]
struct MatrixSummary {
    id: String,
    title: String,
    description: String,
    url: String,
    tasks: usize,
}

fn matrix_summary(shared: &Shared, matrix: &Matrix) -> MatrixSummary {
    MatrixSummary {
        id: matrix.id.clone(),
        title: matrix.title.clone(),
        description: matrix.description.clone(),
        url: shared.url(&matrix.url_path()),
        tasks: matrix.tasks.len(),
    }
}

#[derive(Serialize)]
struct RoleSummary {
    #[serde(flatten)]
    link: RoleLink,
    unit: String,
}

/// One cell of the table: empty, or a letter.
#[derive(Serialize)]
struct CellContext {
    letter: Option<LetterContext>,
}

/// The roles with one letter on one task, for the list view.
#[derive(Serialize)]
struct LetterGroup {
    letter: LetterContext,
    roles: Vec<RoleLink>,
}

#[derive(Serialize)]
struct RowContext {
    /// The row's fragment id.
    id: String,
    task: String,
    /// One per role column, in column order.
    cells: Vec<CellContext>,
    /// The roles by letter (A, AR, R, C, I), letters without roles left out.
    groups: Vec<LetterGroup>,
}

#[derive(Serialize)]
struct MatrixContext {
    #[serde(flatten)]
    summary: MatrixSummary,
    task_label: String,
    roles: Vec<RoleLink>,
    rows: Vec<RowContext>,
    source_path: String,
}

/// The order in which lists name the letters: who decides first.
const LIST_ORDER: [Letter; 5] = [Letter::A, Letter::AR, Letter::R, Letter::C, Letter::I];

fn matrix_context(shared: &Shared, content: &Content, matrix: &Matrix) -> MatrixContext {
    let roles: Vec<RoleLink> = matrix
        .roles
        .iter()
        .map(|r| role_link(shared, content, &r.value))
        .collect();
    let rows = matrix
        .tasks
        .iter()
        .map(|task| {
            let cells = (0..matrix.roles.len())
                .map(|index| CellContext {
                    letter: task
                        .cells
                        .iter()
                        .find(|c| c.role == index)
                        .map(|c| letter(shared, c.letter)),
                })
                .collect();
            let groups = LIST_ORDER
                .into_iter()
                .map(|l| LetterGroup {
                    letter: letter(shared, l),
                    roles: task.with(l).map(|c| roles[c.role].clone()).collect(),
                })
                .filter(|g| !g.roles.is_empty())
                .collect();
            RowContext {
                id: task.anchor.clone(),
                task: task.name.value.clone(),
                cells,
                groups,
            }
        })
        .collect();
    MatrixContext {
        summary: matrix_summary(shared, matrix),
        task_label: if matrix.task_label.is_empty() {
            shared.text("raci_task")
        } else {
            matrix.task_label.clone()
        },
        roles,
        rows,
        source_path: matrix.source.path.clone(),
    }
}

/// A task a role has a letter for, linking to its row.
#[derive(Serialize)]
struct AssignmentItem {
    task: String,
    matrix_title: String,
    url: String,
}

/// A role's tasks with one letter (AR counts under A and under R).
#[derive(Serialize)]
struct AssignmentGroup {
    letter: LetterContext,
    items: Vec<AssignmentItem>,
}

#[derive(Serialize)]
struct RolePageContext {
    id: String,
    title: String,
    unit: String,
    mailbox: Option<String>,
    /// Whether the role names a person (M9); `person` is `None` while the name is still missing.
    names_person: bool,
    person: Option<String>,
    description: String,
    guidelines: Vec<GuidelineSummary>,
    assignments: Vec<AssignmentGroup>,
}

fn role_context(shared: &Shared, content: &Content, role: &Role) -> RolePageContext {
    let assignments = [Letter::R, Letter::A, Letter::C, Letter::I]
        .into_iter()
        .map(|group| {
            let items = content
                .raci
                .iter()
                .flat_map(|matrix| {
                    matrix.tasks.iter().filter_map(move |task| {
                        let has = task.cells.iter().any(|c| {
                            matrix.roles.get(c.role).is_some_and(|r| r.value == role.id)
                                && (c.letter == group
                                    || (c.letter == Letter::AR
                                        && matches!(group, Letter::A | Letter::R)))
                        });
                        has.then(|| AssignmentItem {
                            task: task.name.value.clone(),
                            matrix_title: matrix.title.clone(),
                            url: format!("{}#{}", shared.url(&matrix.url_path()), task.anchor),
                        })
                    })
                })
                .collect();
            AssignmentGroup {
                letter: letter(shared, group),
                items,
            }
        })
        .filter(|g| !g.items.is_empty())
        .collect();
    RolePageContext {
        id: role.id.clone(),
        title: role.title.clone(),
        unit: role.unit.clone(),
        mailbox: role.mailbox.clone(),
        names_person: role.names_person,
        person: role.person.clone(),
        description: role.description.clone(),
        guidelines: content
            .valid_guidelines()
            .filter(|(_, meta)| meta.owner.value == role.id)
            .map(|(doc, meta)| summary(shared, doc, meta))
            .collect(),
        assignments,
    }
}

pub(crate) fn jobs(shared: &Shared, content: &Content, versions: &Versions) -> Vec<PageJob> {
    let legend: Vec<LetterContext> = Letter::ALL.into_iter().map(|l| letter(shared, l)).collect();
    let mut jobs = Vec::new();

    jobs.push(shared.job("raci_index.html", "verantwortung/", |c| {
        let matrices: Vec<MatrixSummary> = content
            .raci
            .iter()
            .map(|m| matrix_summary(shared, m))
            .collect();
        let roles: Vec<RoleSummary> = content
            .roles
            .by_id
            .values()
            .map(|r| RoleSummary {
                link: role_link(shared, content, &r.id),
                unit: r.unit.clone(),
            })
            .collect();
        c.insert("matrices", &matrices);
        c.insert("roles", &roles);
    }));

    for matrix in &content.raci {
        jobs.push(shared.job("raci.html", &matrix.url_path(), |c| {
            c.insert("page", &matrix_context(shared, content, matrix));
            c.insert("legend", &legend);
            c.insert("history", &history::link(shared, versions, matrix));
        }));
    }

    for role in content.roles.by_id.values() {
        jobs.push(shared.job("role.html", &role_path(&role.id), |c| {
            c.insert("page", &role_context(shared, content, role));
        }));
    }
    jobs.extend(history::jobs(shared, content, versions));
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, LegalPages, MarkdownConfig, SearchConfig};
    use crate::content::roles::{self, ROLES_FILE};
    use crate::diagnostics::SourceText;
    use crate::render::shared;

    fn config() -> Config {
        Config {
            title: "Testkreis".into(),
            description: "Test".into(),
            base_url: "https://ki.testkreis.example/".into(),
            base_path: "/".into(),
            language: "de".into(),
            theme: "default".into(),
            markdown: MarkdownConfig::default(),
            legal: LegalPages::default(),
            search: SearchConfig::default(),
            history: Default::default(),
        }
    }

    fn content() -> Content {
        let (roles, _) = roles::parse(&SourceText::new(
            ROLES_FILE,
            "[[role]]\nid = \"ki\"\ntitle = \"KI-Beauftragte\"\nperson = \"\"\n\n\
             [[role]]\nid = \"dsb\"\ntitle = \"Datenschutz & Recht\"\n",
        ));
        let source = SourceText::new(
            "content/raci/m.csv",
            "Aufgabe;ki;dsb\nBedarf <feststellen>;A;R\nBetrieb;AR;C\n",
        );
        let (table, _) = crate::content::raci::parse(&source);
        let table = table.unwrap();
        Content {
            roles,
            raci: vec![Matrix {
                id: "m".into(),
                title: "Lebenszyklus".into(),
                description: "Wer was tut.".into(),
                source,
                sidecar_path: "content/raci/m.toml".into(),
                task_label: table.task_label,
                roles: table.roles,
                tasks: table.tasks,
            }],
            ..Content::default()
        }
    }

    fn render(path: &str) -> String {
        let config = config();
        let dir = tempfile::tempdir().unwrap();
        let (theme, diags) = crate::theme::load(dir.path(), &config);
        assert!(diags.is_empty(), "{diags:?}");
        let theme = theme.unwrap();
        let content = content();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let shared = shared(&config, &content, &theme, today);
        let job = jobs(&shared, &content, &Versions::none("test"))
            .into_iter()
            .find(|j| j.url_path == path)
            .unwrap();
        let mut base = shared.base.clone();
        String::from_utf8(
            shared
                .render(&mut base, job)
                .unwrap()
                .unwrap()
                .bytes
                .to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn matrix_table_snapshot() {
        let html = render("verantwortung/m/");
        let start = html.find("<div class=\"table-wrap").unwrap();
        let end = html[start..].find("</table>").unwrap() + start + "</table>\n</div>".len();
        insta::assert_snapshot!(&html[start..end]);
    }

    #[test]
    fn role_page_lists_letters_and_open_person() {
        let html = render("rollen/ki/");
        assert!(html.contains("<mark class=\"todo\">"), "{html}");
        // AR counts under A and under R; the links point at the rows.
        // (Tera escapes `/` in attributes as `&#x2F;`.)
        let html = html.replace("&#x2F;", "/");
        assert_eq!(
            html.matches("/verantwortung/m/#aufgabe-betrieb\"").count(),
            2
        );
        assert!(html.contains("/verantwortung/m/#aufgabe-bedarf-feststellen\""));
        let dsb = render("rollen/dsb/");
        assert!(dsb.contains("Datenschutz &amp; Recht"));
        assert!(
            !dsb.contains("noch nicht benannt"),
            "only M9 roles name a person"
        );
    }

    #[test]
    fn generated_paths_cover_matrices_and_roles() {
        let paths = generated(&content());
        assert_eq!(
            paths,
            [
                "verantwortung/",
                "verantwortung/m/",
                "rollen/dsb/",
                "rollen/ki/"
            ]
        );
    }
}
