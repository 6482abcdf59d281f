//! Diagnostics: every problem regelwerk finds in a site, with file, line, column, rule and a German message.
//!
//! Stages never stop at the first problem: they collect [`Diagnostic`]s and hand them on; the CLI renders
//! them all at once, as human-readable text with the offending source line, as JSON, as a GitLab Code Quality
//! report or as GitHub workflow commands (annotations in merge and pull requests).

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use crate::text::Text;

use serde::{Deserialize, Serialize};

/// How bad a problem is: errors stop the build, warnings are reported and the site is still published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Every rule regelwerk checks. The code is stable: editors, CI annotations and tests refer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rule {
    /// A file is not valid TOML (or CSV), or not readable as UTF-8.
    S1,
    /// A key that the schema does not know.
    S2,
    /// A value of the wrong type.
    S3,
    /// A Markdown file without a complete `+++` front matter block.
    S4,
    /// A required field is missing.
    E1,
    /// A value outside its vocabulary.
    E2,
    /// Register: `retired_on` without `status = retired`, or `status = retired` without `retired_on`.
    E3,
    /// Register: a prohibited practice (Art. 5 KI-VO) in pilot or in use.
    E4,
    /// Register: high risk as deployer outside Annex III area 2 without EU database entry and FRIA
    /// (Art. 49(3), Art. 27 KI-VO).
    E5,
    /// Register: the Art. 6(3) exception claimed together with profiling.
    E6,
    /// Register: personal data without a DPIA and without a stated reason.
    E7,
    /// A role id that `content/rollen.toml` does not define.
    E8,
    /// A duplicate or malformed id.
    E9,
    /// A malformed URL, e-mail address or date.
    E10,
    /// A text longer than its limit.
    E11,
    /// `[verlauf.autoren]` in `regelwerk.toml` maps an author to a role that `content/rollen.toml` does not
    /// define.
    E12,
    /// A task of a responsibility matrix without exactly one A (AR counts as A).
    R1,
    /// A task of a responsibility matrix without an R (AR counts as R).
    R2,
    /// A matrix cell other than R, A, C, I, AR or empty.
    R3,
    /// A matrix column whose header is not a role id that `content/rollen.toml` defines.
    R4,
    /// A link to a page that does not exist.
    L1,
    /// A link to an anchor that does not exist on its page.
    L2,
    /// Raw HTML in Markdown, shown as text because the site does not allow HTML.
    M1,
    /// Two headings with the same explicit id on one page.
    M2,
    /// A theme template that does not parse or render.
    T1,
    /// Register: a proprietary model without `oss_deviation_reason` (motion M2).
    W1,
    /// Register: data processed in a third country without a legal basis (DSGVO Art. 44 ff.).
    W2,
    /// A review date that has passed.
    W3,
    /// A point of the motion that no guideline section implements.
    W7,
    /// The version history is missing or incomplete (no git repository, shallow clone).
    W8,
    /// A role that no responsibility matrix assigns anything.
    W5,
    /// A task on which many roles are consulted (more than three C).
    W6,
    /// Register: a personal instead of a functional mailbox.
    W4,
}

impl Rule {
    /// The code as printed, e.g. `E10`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::S1 => "S1",
            Rule::S2 => "S2",
            Rule::S3 => "S3",
            Rule::S4 => "S4",
            Rule::E1 => "E1",
            Rule::E2 => "E2",
            Rule::E3 => "E3",
            Rule::E4 => "E4",
            Rule::E5 => "E5",
            Rule::E6 => "E6",
            Rule::E7 => "E7",
            Rule::E8 => "E8",
            Rule::E9 => "E9",
            Rule::E10 => "E10",
            Rule::E11 => "E11",
            Rule::E12 => "E12",
            Rule::R1 => "R1",
            Rule::R2 => "R2",
            Rule::R3 => "R3",
            Rule::R4 => "R4",
            Rule::L1 => "L1",
            Rule::L2 => "L2",
            Rule::M1 => "M1",
            Rule::M2 => "M2",
            Rule::T1 => "T1",
            Rule::W1 => "W1",
            Rule::W2 => "W2",
            Rule::W3 => "W3",
            Rule::W7 => "W7",
            Rule::W8 => "W8",
            Rule::W5 => "W5",
            Rule::W6 => "W6",
            Rule::W4 => "W4",
        }
    }

    /// Whether the rule stops the build or only warns.
    pub fn severity(self) -> Severity {
        match self {
            Rule::M1
            | Rule::W1
            | Rule::W2
            | Rule::W3
            | Rule::W4
            | Rule::W5
            | Rule::W6
            | Rule::W7
            | Rule::W8 => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem at one place in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Path relative to the site root, with `/` separators.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters, where known.
    pub column: Option<usize>,
    pub rule: Rule,
    /// German, says what is wrong and what to do.
    pub message: String,
    /// Byte range in the file, for showing the source line.
    pub span: Option<Range<usize>>,
}

impl Diagnostic {
    /// A problem concerning a whole file (line 1, no column).
    pub fn file(path: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line: 1,
            column: None,
            rule,
            message: message.into(),
            span: None,
        }
    }

    /// A problem at a byte range of a source file.
    pub fn at(
        source: &SourceText,
        span: Range<usize>,
        rule: Rule,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = source.line_col(span.start);
        Diagnostic {
            path: source.path.clone(),
            line,
            column: Some(column),
            rule,
            message: message.into(),
            span: Some(span),
        }
    }

    /// A problem on a whole line (no column), e.g. a CSV row.
    pub fn line(
        path: impl Into<String>,
        line: usize,
        rule: Rule,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            line,
            ..Diagnostic::file(path, rule, message)
        }
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// The text of a source file with its site-relative path, for turning byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub path: String,
    /// The text: read from the file, or taken from the content cache (see [`crate::text`]).
    pub text: Text,
    /// Where each line starts: found when a problem is first reported, as most files have none.
    line_starts: OnceLock<Vec<usize>>,
}

impl PartialEq for SourceText {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.text == other.text
    }
}

impl Eq for SourceText {}

impl SourceText {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self::with_text(path, Text::from(text.into()))
    }

    /// A source whose text is already a [`Text`] (such as one the content cache keeps).
    pub fn with_text(path: impl Into<String>, text: Text) -> Self {
        SourceText {
            path: path.into(),
            text,
            line_starts: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&start| start <= offset);
        let start = line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        (line, column)
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts()
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }
}

/// All problems of a run, sorted by file, line, column and rule.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new(mut list: Vec<Diagnostic>) -> Self {
        list.sort_by(|a, b| {
            (&a.path, a.line, a.column, a.rule, &a.message)
                .cmp(&(&b.path, b.line, b.column, b.rule, &b.message))
        });
        list.dedup();
        Diagnostics(list)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// The JSON form: an array of objects with exactly `path`, `line`, `column`, `code`, `severity`, `message`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            path: &'a str,
            line: usize,
            column: Option<usize>,
            code: &'static str,
            severity: Severity,
            message: &'a str,
        }
        let items: Vec<Json> = self
            .0
            .iter()
            .map(|d| Json {
                path: &d.path,
                line: d.line,
                column: d.column,
                code: d.rule.code(),
                severity: d.severity(),
                message: &d.message,
            })
            .collect();
        serde_json::to_string_pretty(&items).expect("diagnostics serialize")
    }

    /// A GitLab Code Quality report: a JSON array of `{description, check_name, fingerprint, severity,
    /// location: {path, lines: {begin}}}`. Errors are `major`, warnings `minor`; the fingerprint is a stable
    /// hash of path, line, code and message, so GitLab recognises the same problem across pipelines.
    /// `prefix` is the site's folder inside the repository (`""` at its root, else ending in `/`): GitLab
    /// needs paths relative to the repository.
    pub fn to_gitlab(&self, prefix: &str) -> String {
        #[derive(Serialize)]
        struct Lines {
            begin: usize,
        }
        #[derive(Serialize)]
        struct Location {
            path: String,
            lines: Lines,
        }
        #[derive(Serialize)]
        struct Issue<'a> {
            description: &'a str,
            check_name: &'static str,
            fingerprint: String,
            severity: &'static str,
            location: Location,
        }
        let items: Vec<Issue> = self
            .0
            .iter()
            .map(|d| {
                let path = format!("{prefix}{}", d.path);
                Issue {
                    description: &d.message,
                    check_name: d.rule.code(),
                    fingerprint: fingerprint(&path, d.line, d.rule.code(), &d.message),
                    severity: match d.severity() {
                        Severity::Error => "major",
                        Severity::Warning => "minor",
                    },
                    location: Location {
                        path,
                        lines: Lines { begin: d.line },
                    },
                }
            })
            .collect();
        serde_json::to_string_pretty(&items).expect("diagnostics serialize")
    }

    /// GitHub Actions workflow commands, one line per problem:
    /// `::error file=…,line=…,col=…,title=…::message` (`::warning` for warnings), escaped as GitHub requires.
    /// `prefix` as in [`Diagnostics::to_gitlab`].
    pub fn to_github(&self, prefix: &str) -> String {
        let mut out = String::new();
        for d in &self.0 {
            let command = match d.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let path = format!("{prefix}{}", d.path);
            out.push_str(&format!(
                "::{command} file={},line={}",
                github_property(&path),
                d.line
            ));
            if let Some(column) = d.column {
                out.push_str(&format!(",col={column}"));
            }
            out.push_str(&format!(
                ",title={}::{}\n",
                github_property(&format!("regelwerk {}", d.rule.code())),
                github_data(&d.message)
            ));
        }
        out
    }

    /// The human form: each problem with its source line, then a German summary line.
    /// Source files are read from `root` to show the offending line.
    pub fn to_human(&self, root: &Path, color: bool) -> String {
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        for d in &self.0 {
            let level = match d.severity() {
                Severity::Error => Level::ERROR,
                Severity::Warning => Level::WARNING,
            };
            let title = level.primary_title(d.message.as_str()).id(d.rule.code());
            let text = std::fs::read_to_string(root.join(&d.path)).ok();
            let rendered = match text {
                Some(text) => {
                    let source = SourceText::new(d.path.clone(), text);
                    let span = d.span.clone().unwrap_or_else(|| {
                        let start = source.line_start(d.line);
                        let end = source.text[start..]
                            .find('\n')
                            .map_or(source.text.len(), |i| start + i);
                        start..end
                    });
                    let span = span.start.min(source.text.len())..span.end.min(source.text.len());
                    let report = [title.element(
                        Snippet::source(source.text.as_str())
                            .path(d.path.as_str())
                            .fold(true)
                            .annotation(AnnotationKind::Primary.span(span)),
                    )];
                    renderer.render(&report)
                }
                None => {
                    let origin = format!("{}:{}", d.path, d.line);
                    let report = [title.element(annotate_snippets::Origin::path(origin.as_str()))];
                    renderer.render(&report)
                }
            };
            out.push_str(&rendered);
            out.push_str("\n\n");
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// One German line: how many errors and warnings.
    pub fn summary(&self) -> String {
        let errors = self.error_count();
        let warnings = self.warning_count();
        match (errors, warnings) {
            (0, 0) => "Keine Probleme gefunden.".to_string(),
            _ => format!(
                "{errors} Fehler, {warnings} {}.",
                if warnings == 1 {
                    "Warnung"
                } else {
                    "Warnungen"
                }
            ),
        }
    }
}

/// A stable hash of a problem's place and text, for CI systems that track problems across runs.
fn fingerprint(path: &str, line: usize, code: &str, message: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [path, &line.to_string(), code, message] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    hasher.finalize().to_hex()[..32].to_string()
}

/// The message of a GitHub workflow command: `%`, CR and LF escaped.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a GitHub workflow command: like [`github_data`], plus `:` and `,`.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = SourceText::new("a.md", "ab\nÄöü x\n");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 1));
        // "Äöü " is 7 bytes, 4 characters: 'x' is in column 5.
        assert_eq!(src.line_col(3 + 7), (2, 5));
        assert_eq!(src.line_start(2), 3);
    }

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let d = Diagnostics::new(vec![Diagnostic::line("x.md", 4, Rule::E1, "fehlt")]);
        let v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
        let obj = v[0].as_object().unwrap();
        let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["code", "column", "line", "message", "path", "severity"]
        );
        assert_eq!(obj["severity"], "error");
        assert_eq!(obj["line"], 4);
    }

    #[test]
    fn github_commands_escape_data_and_properties() {
        assert_eq!(github_data("50 % a\r\nb"), "50 %25 a%0D%0Ab");
        assert_eq!(github_property("a:b,c%d\n"), "a%3Ab%2Cc%25d%0A");
        let d = Diagnostics::new(vec![
            Diagnostic {
                column: Some(3),
                ..Diagnostic::line(
                    "content/a,b.md",
                    7,
                    Rule::L1,
                    "Link: fehlt,\nbitte 100 % prüfen",
                )
            },
            Diagnostic::line("content/x.md", 2, Rule::W3, "überfällig"),
        ]);
        assert_eq!(
            d.to_github("site/"),
            "::error file=site/content/a%2Cb.md,line=7,col=3,title=regelwerk L1::Link: fehlt,%0Abitte 100 %25 prüfen\n\
             ::warning file=site/content/x.md,line=2,title=regelwerk W3::überfällig\n"
        );
    }

    #[test]
    fn gitlab_code_quality_has_the_required_fields_and_stable_fingerprints() {
        let list = || {
            Diagnostics::new(vec![
                Diagnostic::line("content/a.md", 4, Rule::E1, "fehlt"),
                Diagnostic::line("content/a.md", 9, Rule::W7, "offen"),
            ])
        };
        let v: serde_json::Value = serde_json::from_str(&list().to_gitlab("")).unwrap();
        let first = &v[0];
        assert_eq!(first["description"], "fehlt");
        assert_eq!(first["check_name"], "E1");
        assert_eq!(first["severity"], "major");
        assert_eq!(first["location"]["path"], "content/a.md");
        assert_eq!(first["location"]["lines"]["begin"], 4);
        assert_eq!(v[1]["severity"], "minor");
        let fingerprint = first["fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 32);
        assert_ne!(fingerprint, v[1]["fingerprint"].as_str().unwrap());
        let again: serde_json::Value = serde_json::from_str(&list().to_gitlab("")).unwrap();
        assert_eq!(
            again[0]["fingerprint"], first["fingerprint"],
            "stable across runs"
        );
        let moved: serde_json::Value = serde_json::from_str(&list().to_gitlab("site/")).unwrap();
        assert_eq!(moved[0]["location"]["path"], "site/content/a.md");
    }
}
