//! Responsibility matrices (`content/raci/<name>.csv` with `content/raci/<name>.toml`): which role is
//! Responsible, Accountable, Consulted or Informed for each task.
//!
//! The matrix is a CSV file because editors in administrations keep such tables in spreadsheets: the header
//! row is `Aufgabe;<role id>;<role id>;…`, each further row a task with one cell per role. The delimiter is
//! `;` (German spreadsheet default) or `,`, detected from the header line; a UTF-8 byte order mark is
//! skipped. A cell is empty or one of `R`, `A`, `C`, `I`, `AR` (R3 otherwise). The sidecar TOML file gives
//! the matrix its `title` and `description`.
//!
//! Here only what one file can tell is checked (syntax, cell values, duplicate columns and tasks); the rules
//! across a task's row and against `content/rollen.toml` (R1, R2, R4, W5, W6) are in the validation stage.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::content::fields::{FieldReader, Located, Need, is_slug};
use crate::content::relative;
use crate::diagnostics::{Diagnostic, Rule, SourceText};
use crate::markdown::slugify;
use crate::theme::is_editor_temp;

/// Folder of responsibility matrices, relative to the site root.
pub const RACI_DIR: &str = "content/raci";

/// The longest matrix title, in characters.
const MAX_TITLE: usize = 100;
/// The longest matrix description, in characters.
const MAX_DESCRIPTION: usize = 1000;

/// The value of one matrix cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Letter {
    /// Responsible: carries the task out.
    R,
    /// Accountable: answers for the result and decides; exactly one per task.
    A,
    /// Consulted: is heard before the decision.
    C,
    /// Informed: is told of the result.
    I,
    /// Accountable and Responsible at once.
    AR,
}

impl Letter {
    /// Every letter, in the order legends show them.
    pub const ALL: [Letter; 5] = [Letter::R, Letter::A, Letter::C, Letter::I, Letter::AR];

    /// The letter as written in a cell; anything but exact upper case is not a letter.
    pub fn parse(cell: &str) -> Option<Letter> {
        match cell {
            "R" => Some(Letter::R),
            "A" => Some(Letter::A),
            "C" => Some(Letter::C),
            "I" => Some(Letter::I),
            "AR" => Some(Letter::AR),
            _ => None,
        }
    }

    /// The letter as written in a cell, e.g. `AR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Letter::R => "R",
            Letter::A => "A",
            Letter::C => "C",
            Letter::I => "I",
            Letter::AR => "AR",
        }
    }

    /// Lower case, for CSS classes and translation keys, e.g. `ar`.
    pub fn key(self) -> &'static str {
        match self {
            Letter::R => "r",
            Letter::A => "a",
            Letter::C => "c",
            Letter::I => "i",
            Letter::AR => "ar",
        }
    }

    /// Whether the letter makes its role the accountable one (A or AR).
    pub fn is_accountable(self) -> bool {
        matches!(self, Letter::A | Letter::AR)
    }

    /// Whether the letter makes its role carry the task out (R or AR).
    pub fn is_responsible(self) -> bool {
        matches!(self, Letter::R | Letter::AR)
    }
}

/// One filled cell of a task's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Index into [`Matrix::roles`].
    pub role: usize,
    pub letter: Letter,
    /// The cell in the CSV file (byte range, as written, quotes included).
    pub span: Range<usize>,
}

/// One row of a matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task as written in the first column, trimmed, with the span of that cell.
    pub name: Located<String>,
    /// 1-based line of the row in the CSV file.
    pub line: usize,
    /// The row's id on the matrix page (a fragment, unique within the matrix), e.g. `aufgabe-betrieb`.
    pub anchor: String,
    /// The filled cells, in column order; empty cells are left out.
    pub cells: Vec<Cell>,
}

impl Task {
    /// The cells with a given letter.
    pub fn with(&self, letter: Letter) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(move |c| c.letter == letter)
    }
}

/// One responsibility matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The file stem, e.g. `ki-lebenszyklus`: the matrix's address.
    pub id: String,
    /// From the sidecar; empty when the sidecar is missing or broken (the build then fails anyway).
    pub title: String,
    pub description: String,
    /// The CSV file.
    pub source: SourceText,
    /// Site-relative path of the sidecar file.
    pub sidecar_path: String,
    /// The header of the first column (usually „Aufgabe“).
    pub task_label: String,
    /// The role ids of the column headers, in column order, each with the span of its header cell.
    pub roles: Vec<Located<String>>,
    pub tasks: Vec<Task>,
}

impl Matrix {
    /// Site-relative URL path of the matrix page.
    pub fn url_path(&self) -> String {
        url_path(&self.id)
    }
}

/// Site-relative URL path of the page of the matrix `id`.
pub fn url_path(id: &str) -> String {
    format!("verantwortung/{id}/")
}

/// The parts of a matrix that come from the CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub task_label: String,
    pub roles: Vec<Located<String>>,
    pub tasks: Vec<Task>,
}

/// The parts of a matrix that come from the sidecar file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    pub title: String,
    pub description: String,
}

/// Reads every matrix under `content/raci/`, sorted by id. A missing folder means no matrices.
pub fn load(root: &Path) -> (Vec<Matrix>, Vec<Diagnostic>) {
    // Pair the files by stem: (CSV, sidecar).
    let mut pairs: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for entry in WalkDir::new(root.join(RACI_DIR))
        .min_depth(1)
        .max_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let name = entry.file_name().to_string_lossy();
        if is_editor_temp(&name) {
            continue;
        }
        let Some(rel) = relative(root, entry.path()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".csv") {
            pairs.entry(stem.to_string()).or_default().0 = Some(rel);
        } else if let Some(stem) = name.strip_suffix(".toml") {
            pairs.entry(stem.to_string()).or_default().1 = Some(rel);
        }
    }

    let results: Vec<(Option<Matrix>, Vec<Diagnostic>)> = pairs
        .into_par_iter()
        .map(|(stem, (csv, sidecar))| load_one(root, stem, csv, sidecar))
        .collect();
    let mut matrices = Vec::new();
    let mut diagnostics = Vec::new();
    for (matrix, mut diags) in results {
        matrices.extend(matrix);
        diagnostics.append(&mut diags);
    }
    matrices.sort_by(|a: &Matrix, b: &Matrix| a.id.cmp(&b.id));
    (matrices, diagnostics)
}

/// Reads one matrix from its CSV file and sidecar, either of which may be missing.
fn load_one(
    root: &Path,
    stem: String,
    csv: Option<String>,
    sidecar: Option<String>,
) -> (Option<Matrix>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let csv_rel = csv
        .clone()
        .unwrap_or_else(|| format!("{RACI_DIR}/{stem}.csv"));
    let sidecar_rel = sidecar
        .clone()
        .unwrap_or_else(|| format!("{RACI_DIR}/{stem}.toml"));

    let meta = match &sidecar {
        Some(rel) => read_text(root, rel, &mut diagnostics).and_then(|text| {
            let (meta, mut diags) = parse_sidecar(&SourceText::new(rel.clone(), text));
            diagnostics.append(&mut diags);
            meta
        }),
        None => {
            diagnostics.push(Diagnostic::file(
                &csv_rel,
                Rule::E1,
                format!(
                    "Zu dieser Matrix fehlt die Beschreibung {sidecar_rel}. Legen Sie die Datei an mit \
                     title = \"…\" und description = \"…\"."
                ),
            ));
            None
        }
    };

    let Some(csv) = csv else {
        diagnostics.push(Diagnostic::file(
            &sidecar_rel,
            Rule::E1,
            format!(
                "Zu dieser Beschreibung fehlt die Matrix {csv_rel}. Legen Sie die CSV-Datei an \
                 (Kopfzeile „Aufgabe;rollen-id;…“) oder löschen Sie die Beschreibung."
            ),
        ));
        return (None, diagnostics);
    };
    if !is_slug(&stem) {
        diagnostics.push(Diagnostic::file(
            &csv,
            Rule::E9,
            format!(
                "Der Dateiname „{stem}.csv“ ergibt keine gültige Adresse. Benennen Sie die Datei (und ihre \
                 Beschreibung) mit Kleinbuchstaben, Ziffern und Bindestrichen, z. B. „ki-lebenszyklus.csv“."
            ),
        ));
    }
    let Some(text) = read_text(root, &csv, &mut diagnostics) else {
        return (None, diagnostics);
    };
    let source = SourceText::new(csv, text);
    let (table, mut diags) = parse(&source);
    diagnostics.append(&mut diags);
    let matrix = table.map(|table| {
        let meta = meta.unwrap_or(Sidecar {
            title: String::new(),
            description: String::new(),
        });
        Matrix {
            id: stem,
            title: meta.title,
            description: meta.description,
            source,
            sidecar_path: sidecar_rel,
            task_label: table.task_label,
            roles: table.roles,
            tasks: table.tasks,
        }
    });
    (matrix, diagnostics)
}

/// Reads a file as UTF-8, reporting S1 when it cannot be read or is not UTF-8.
fn read_text(root: &Path, rel: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    match std::fs::read(root.join(rel)).map(String::from_utf8) {
        Ok(Ok(text)) => Some(text),
        Ok(Err(_)) => {
            let hint = if rel.ends_with(".csv") {
                " Wählen Sie beim Speichern im Tabellenprogramm das Format „CSV UTF-8“."
            } else {
                ""
            };
            diagnostics.push(Diagnostic::file(
                rel,
                Rule::S1,
                format!(
                    "Die Datei ist nicht in UTF-8 gespeichert. Speichern Sie sie als UTF-8 (ohne Umwandlung \
                     der Umlaute).{hint}"
                ),
            ));
            None
        }
        Err(err) => {
            diagnostics.push(Diagnostic::file(
                rel,
                Rule::S1,
                format!("Die Datei kann nicht gelesen werden: {err}."),
            ));
            None
        }
    }
}

/// Parses a sidecar file: `title` and `description`, nothing else.
pub fn parse_sidecar(source: &SourceText) -> (Option<Sidecar>, Vec<Diagnostic>) {
    let mut r = FieldReader::new(source, 0);
    let Some(doc) = r.parse(&source.text) else {
        return (None, r.into_diagnostics());
    };
    let mut root = r.root(&doc, 0..0);
    let title = r.text(&mut root, "title", Need::Required, Some(MAX_TITLE));
    let description = r.text(
        &mut root,
        "description",
        Need::Required,
        Some(MAX_DESCRIPTION),
    );
    r.finish(root);
    let meta = match (title, description) {
        (Some(title), Some(description)) => Some(Sidecar {
            title: title.value,
            description: description.value,
        }),
        _ => None,
    };
    (meta, r.into_diagnostics())
}

/// Parses the CSV text of a matrix. Returns `None` when there is no usable header row.
pub fn parse(source: &SourceText) -> (Option<Table>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let text = source.text.as_str();
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
    let delimiter = detect_delimiter(body);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());

    let cell_diagnostic = |span: Range<usize>, rule: Rule, message: String| {
        let mut d = Diagnostic::at(source, span, rule, message);
        // The byte order mark is invisible: it does not count as a column.
        if bom > 0 && d.line == 1 {
            d.column = d.column.map(|c| c.saturating_sub(1).max(1));
        }
        d
    };

    let mut record = csv::StringRecord::new();
    let mut header: Option<(String, Vec<Located<String>>)> = None;
    let mut tasks: Vec<Task> = Vec::new();
    let mut used_anchors: BTreeSet<String> = BTreeSet::new();
    let mut first_line_of_task: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                let line = err.position().map_or(1, |p| p.line() as usize);
                diagnostics.push(Diagnostic::line(
                    &source.path,
                    line,
                    Rule::S1,
                    format!(
                        "Die CSV-Datei ist fehlerhaft: {err}. Prüfen Sie Anführungszeichen und Trennzeichen \
                         in dieser Zeile."
                    ),
                ));
                break;
            }
        }
        let Some(position) = record.position() else {
            continue;
        };
        let mut start = bom + position.byte() as usize;
        // Blank lines before a record are skipped by the parser: the record starts after them.
        while matches!(text.as_bytes().get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        let line = source.line_col(start).0;
        let spans = field_spans(text, start, delimiter, record.len());
        let cells: Vec<(&str, Range<usize>)> = record
            .iter()
            .zip(spans)
            .map(|(value, span)| (value.trim(), span))
            .collect();

        let Some((_, roles)) = &header else {
            header = Some(read_header(&cells, &mut diagnostics, &cell_diagnostic));
            if header.as_ref().is_some_and(|(_, roles)| roles.is_empty()) {
                diagnostics.push(Diagnostic::line(
                    &source.path,
                    line,
                    Rule::S1,
                    "Die Kopfzeile enthält keine Rollen-Spalten. Die erste Zeile muss lauten: \
                     „Aufgabe;rollen-id;rollen-id;…“, getrennt durch Semikolon oder Komma.",
                ));
                return (None, diagnostics);
            }
            continue;
        };

        if cells.iter().all(|(value, _)| value.is_empty()) {
            continue;
        }
        let (name, name_span) = cells[0].clone();
        if name.is_empty() {
            diagnostics.push(cell_diagnostic(
                name_span,
                Rule::E1,
                "In dieser Zeile fehlt die Aufgabe in der ersten Spalte. Tragen Sie die Aufgabe ein oder \
                 löschen Sie die Zeile."
                    .to_string(),
            ));
            continue;
        }
        if let Some(first) = first_line_of_task.get(name) {
            diagnostics.push(cell_diagnostic(
                name_span.clone(),
                Rule::E9,
                format!(
                    "Die Aufgabe „{name}“ steht schon in Zeile {first}. Führen Sie die beiden Zeilen zusammen \
                     oder benennen Sie die Aufgaben eindeutig."
                ),
            ));
        } else {
            first_line_of_task.insert(name.to_string(), line);
        }
        let mut task_cells = Vec::new();
        for (index, (value, span)) in cells.iter().enumerate().skip(1) {
            if value.is_empty() {
                continue;
            }
            let role = index - 1;
            let Some(role_id) = roles.get(role) else {
                diagnostics.push(cell_diagnostic(
                    span.clone(),
                    Rule::S1,
                    format!(
                        "Die Zelle „{value}“ in Spalte {} hat keinen Spaltenkopf: die Kopfzeile hat nur {} Spalten. \
                         Ergänzen Sie die Rolle in der Kopfzeile oder löschen Sie den Wert.",
                        index + 1,
                        roles.len() + 1
                    ),
                ));
                continue;
            };
            match Letter::parse(value) {
                Some(letter) => task_cells.push(Cell {
                    role,
                    letter,
                    span: span.clone(),
                }),
                None => diagnostics.push(cell_diagnostic(
                    span.clone(),
                    Rule::R3,
                    invalid_letter_message(value, name, &role_id.value),
                )),
            }
        }
        tasks.push(Task {
            name: Located::new(name.to_string(), name_span),
            line,
            anchor: unique_anchor(name, &mut used_anchors),
            cells: task_cells,
        });
    }

    let Some((task_label, roles)) = header else {
        diagnostics.push(Diagnostic::file(
            &source.path,
            Rule::S1,
            "Die CSV-Datei ist leer. Die erste Zeile muss die Kopfzeile sein: „Aufgabe;rollen-id;rollen-id;…“.",
        ));
        return (None, diagnostics);
    };
    (
        Some(Table {
            task_label,
            roles,
            tasks,
        }),
        diagnostics,
    )
}

/// Reads the header row: the task column's label and the role columns. Empty cells at the end of the
/// header are dropped (spreadsheets export them); a duplicate role column is E9.
fn read_header(
    cells: &[(&str, Range<usize>)],
    diagnostics: &mut Vec<Diagnostic>,
    cell_diagnostic: &impl Fn(Range<usize>, Rule, String) -> Diagnostic,
) -> (String, Vec<Located<String>>) {
    let task_label = cells
        .first()
        .map(|(v, _)| v.to_string())
        .unwrap_or_default();
    let used = cells
        .iter()
        .rposition(|(value, _)| !value.is_empty())
        .map_or(0, |last| last + 1);
    let mut roles: Vec<Located<String>> = Vec::new();
    for (index, (value, span)) in cells.iter().enumerate().take(used).skip(1) {
        if let Some(first) = roles
            .iter()
            .position(|r| !value.is_empty() && r.value == *value)
        {
            diagnostics.push(cell_diagnostic(
                span.clone(),
                Rule::E9,
                format!(
                    "Die Rolle „{value}“ hat schon die Spalte {} (Spalte {} ist doppelt). Führen Sie die \
                     beiden Spalten zusammen: jede Rolle hat genau eine Spalte.",
                    first + 2,
                    index + 1
                ),
            ));
        }
        roles.push(Located::new(value.to_string(), span.clone()));
    }
    (task_label, roles)
}

/// The German message for a cell that is not a RACI letter, with a hint for the likely meaning.
fn invalid_letter_message(value: &str, task: &str, role: &str) -> String {
    let upper = value.to_uppercase();
    let mut letters: Vec<char> = upper.chars().filter(char::is_ascii_alphabetic).collect();
    letters.sort_unstable();
    letters.dedup();
    let hint = if Letter::parse(&upper).is_some() {
        format!(" Schreiben Sie den Buchstaben groß: „{upper}“.")
    } else if letters == ['A', 'R'] {
        " Wenn die Rolle zugleich verantwortet und durchführt, schreiben Sie „AR“.".to_string()
    } else {
        String::new()
    };
    format!(
        "„{value}“ ist kein erlaubter Wert (Aufgabe „{task}“, Rolle „{role}“). Erlaubt sind R, A, C, I und AR; \
         lassen Sie die Zelle leer, wenn die Rolle nicht beteiligt ist.{hint}"
    )
}

/// A fragment id for a task row, unique within its matrix.
fn unique_anchor(task: &str, used: &mut BTreeSet<String>) -> String {
    let base = format!("aufgabe-{}", slugify(task));
    let mut anchor = base.clone();
    let mut n = 2;
    while used.contains(&anchor) {
        anchor = format!("{base}-{n}");
        n += 1;
    }
    used.insert(anchor.clone());
    anchor
}

/// `;` or `,`: whichever occurs more often (outside quotes) in the header line; `;` on a tie.
fn detect_delimiter(text: &str) -> u8 {
    let (mut semicolons, mut commas) = (0usize, 0usize);
    let mut quoted = false;
    for byte in text.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b';' if !quoted => semicolons += 1,
            b',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if commas > semicolons { b',' } else { b';' }
}

/// The byte ranges of the raw fields of the record that starts at byte `start` of `text`.
///
/// The csv crate gives a record's position but not its fields': this scanner follows the same quoting
/// rules (fields starting with `"`, `""` inside them) so that a diagnostic can point at the very cell.
/// Always returns `count` ranges; should the scan disagree with the parser, the rest point at the record.
fn field_spans(text: &str, start: usize, delimiter: u8, count: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::with_capacity(count);
    let mut field_start = start;
    let mut i = start;
    let mut quoted = false;
    while i < bytes.len() && spans.len() < count {
        let b = bytes[i];
        if quoted {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if b == b'"' && i == field_start {
            quoted = true;
        } else if b == delimiter {
            spans.push(field_start..i);
            field_start = i + 1;
        } else if b == b'\n' || b == b'\r' {
            break;
        }
        i += 1;
    }
    if spans.len() < count {
        spans.push(field_start..i);
    }
    while spans.len() < count {
        spans.push(start..start);
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (Table, Vec<Diagnostic>) {
        let (table, diags) = parse(&SourceText::new("content/raci/m.csv", text));
        (table.expect("a table"), diags)
    }

    fn letters(task: &Task) -> Vec<(usize, &'static str)> {
        task.cells
            .iter()
            .map(|c| (c.role, c.letter.as_str()))
            .collect()
    }

    #[test]
    fn reads_semicolon_separated_matrix_with_lines() {
        let (table, diags) =
            parse_str("Aufgabe;ki;dsb;it\nBedarf feststellen;A;C;R\n\nBetrieb; I ;;AR\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(table.task_label, "Aufgabe");
        let roles: Vec<&str> = table.roles.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(roles, ["ki", "dsb", "it"]);
        assert_eq!(table.tasks.len(), 2);
        assert_eq!(table.tasks[0].line, 2);
        assert_eq!(letters(&table.tasks[0]), [(0, "A"), (1, "C"), (2, "R")]);
        // The blank line 3 is skipped; line numbers stay those of the file.
        assert_eq!(table.tasks[1].line, 4);
        assert_eq!(letters(&table.tasks[1]), [(0, "I"), (2, "AR")]);
        assert_eq!(table.tasks[1].anchor, "aufgabe-betrieb");
    }

    #[test]
    fn reads_comma_separated_matrix_with_quoted_cells() {
        let text = "Aufgabe,ki,dsb\n\"Beschaffung, Vergabe\",A,R\n\"Sag \"\"Hallo\"\"\nzweizeilig\",AR,\"C\"\nEnde,A,x\n";
        let source = SourceText::new("content/raci/m.csv", text);
        let (table, diags) = parse(&source);
        let table = table.unwrap();
        assert_eq!(table.tasks[0].name.value, "Beschaffung, Vergabe");
        assert_eq!(letters(&table.tasks[0]), [(0, "A"), (1, "R")]);
        assert_eq!(table.tasks[1].name.value, "Sag \"Hallo\"\nzweizeilig");
        assert_eq!(table.tasks[1].line, 3);
        assert_eq!(letters(&table.tasks[1]), [(0, "AR"), (1, "C")]);
        // After a quoted cell spanning two lines, the next record is on line 5.
        assert_eq!(table.tasks[2].line, 5);
        assert_eq!(diags.len(), 1);
        assert_eq!(
            (diags[0].rule, diags[0].line, diags[0].column),
            (Rule::R3, 5, Some(8))
        );
        assert_eq!(&text[diags[0].span.clone().unwrap()], "x");
    }

    #[test]
    fn skips_byte_order_mark_and_counts_columns_in_characters() {
        let text = "\u{feff}Aufgabe;ki;Ki\nÄnderung prüfen;A;r\n";
        let (table, diags) = parse_str(text);
        assert_eq!(table.task_label, "Aufgabe");
        assert_eq!(table.roles[0].value, "ki");
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line, d.column)).collect();
        // „Ki“ in the header is an unknown role for validation, not here; „r“ is not a letter:
        // "Änderung prüfen;A;" is 18 characters, so „r“ is in column 19.
        assert_eq!(got, [(Rule::R3, 2, Some(19))]);
        assert!(diags[0].message.contains("„R“"), "{}", diags[0].message);
    }

    #[test]
    fn byte_order_mark_is_not_a_column() {
        let (_, diags) = parse_str("\u{feff}Aufgabe;ki;ki\nX;A;R\n");
        assert_eq!(
            (diags[0].rule, diags[0].line, diags[0].column),
            (Rule::E9, 1, Some(12))
        );
    }

    #[test]
    fn reports_bad_cells_and_rows() {
        let (table, diags) = parse_str("Aufgabe;ki;dsb;\nA;RA;C;;\n;A;R\nB;A;R;I\nA;A;R\n");
        // The empty trailing header cell is dropped.
        assert_eq!(table.roles.len(), 2);
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(
            got,
            [(Rule::R3, 2), (Rule::E1, 3), (Rule::S1, 4), (Rule::E9, 5)]
        );
        assert!(diags[0].message.contains("„AR“"));
        assert_eq!(table.tasks.len(), 3);
        assert_eq!(table.tasks[2].anchor, "aufgabe-a-2");
    }

    #[test]
    fn empty_file_and_header_without_roles_are_syntax_errors() {
        for text in ["", "\n", "Aufgabe\nX\n"] {
            let (table, diags) = parse(&SourceText::new("m.csv", text));
            assert!(table.is_none());
            assert_eq!(diags.len(), 1, "{text:?}");
            assert_eq!(diags[0].rule, Rule::S1);
        }
    }

    #[test]
    fn sidecar_needs_title_and_description_only() {
        let (meta, diags) = parse_sidecar(&SourceText::new(
            "m.toml",
            "title = \"Matrix\"\nautor = \"x\"\n",
        ));
        assert!(meta.is_none());
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(got, [(Rule::E1, 1), (Rule::S2, 2)]);
    }

    #[test]
    fn detects_delimiter_from_header_only() {
        assert_eq!(detect_delimiter("Aufgabe;a;b\nx,y,z,w,v\n"), b';');
        assert_eq!(detect_delimiter("Aufgabe,a,b\nx;y\n"), b',');
        assert_eq!(detect_delimiter("\"Aufgabe; Phase\",a,b\n"), b',');
    }
}
