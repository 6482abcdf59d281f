//! `regelwerk.toml`: the site's settings, read strictly (unknown keys are errors with their line).

use std::path::Path;

use crate::content::fields::{FieldReader, Need, is_email};
use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// The name of the configuration file at the site root.
pub const CONFIG_FILE: &str = "regelwerk.toml";

/// Languages the built-in theme has complete translations for.
pub const LANGUAGES: &[&str] = &["de", "en"];

/// The validated site configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// Absolute URL of the published site, always ending in `/`.
    pub base_url: String,
    /// The path part of `base_url` (`/` or `/sub/`): every internal link starts with it.
    pub base_path: String,
    /// `de` or `en`: selects the theme's translations.
    pub language: String,
    /// Name of the theme: `default`, or a folder under `themes/`.
    pub theme: String,
    pub markdown: MarkdownConfig,
    pub legal: LegalPages,
    pub search: SearchConfig,
    pub history: HistoryConfig,
}

/// `[verlauf]`: how the version history is shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryConfig {
    /// `[verlauf.autoren]`: commit author e-mail → role id. Only mapped authors are named on Stand pages,
    /// and only by their role; nobody's name or address is published.
    pub authors: Vec<AuthorRole>,
}

impl HistoryConfig {
    /// The role id mapped to an author's e-mail address (compared without regard to case).
    pub fn role_of(&self, email: &str) -> Option<&str> {
        if email.is_empty() {
            return None;
        }
        self.authors
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(email))
            .map(|a| a.role.as_str())
    }
}

/// One line of `[verlauf.autoren]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorRole {
    pub email: String,
    pub role: String,
    /// The line in `regelwerk.toml`, for diagnostics about the role.
    pub line: usize,
}

/// `[search]`: what the site search indexes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchConfig {
    /// Index the historical Stand, Fassung and Synopse pages too, under their own type filter.
    pub include_history: bool,
    /// Which indexer writes the search index (`backend = "native"` or `"pagefind"`).
    pub backend: SearchBackend,
}

/// The indexer of the site search. Both write Pagefind's index format for Pagefind's browser runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchBackend {
    /// Our own indexer ([`crate::search::native`]): the same index, several times faster.
    #[default]
    Native,
    /// Pagefind's library ([`crate::search::pagefind`]): the reference, kept for comparison.
    Pagefind,
}

/// The values of `[search] backend`.
pub const SEARCH_BACKENDS: &[&str] = &["native", "pagefind"];

/// How Markdown is turned into HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MarkdownConfig {
    /// Raw HTML in Markdown is escaped unless this is true; then it is sanitized (ammonia).
    pub allow_html: bool,
}

/// The ids of the generic pages every public body's site must link from every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalPages {
    pub impressum: String,
    pub datenschutz: String,
    pub barrierefreiheit: String,
}

impl Default for LegalPages {
    fn default() -> Self {
        LegalPages {
            impressum: "impressum".into(),
            datenschutz: "datenschutz".into(),
            barrierefreiheit: "barrierefreiheit".into(),
        }
    }
}

/// Reads and validates `<root>/regelwerk.toml`. Returns the config if it is usable, and every problem found.
pub fn load(root: &Path) -> (Option<Config>, Vec<Diagnostic>) {
    let path = root.join(CONFIG_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&SourceText::new(CONFIG_FILE, text)),
        Err(err) => (
            None,
            vec![Diagnostic::file(
                CONFIG_FILE,
                Rule::S1,
                format!(
                    "Die Konfigurationsdatei {CONFIG_FILE} kann nicht gelesen werden ({err}). \
                     Ist --root das Verzeichnis der Website? Eine neue Website legt „regelwerk init“ an."
                ),
            )],
        ),
    }
}

/// Parses a configuration from its source text.
pub fn parse(source: &SourceText) -> (Option<Config>, Vec<Diagnostic>) {
    let mut reader = FieldReader::new(source, 0);
    let Some(doc) = reader.parse(&source.text) else {
        return (None, reader.into_diagnostics());
    };
    let mut root = reader.root(&doc, 0..0);
    let title = reader.text(&mut root, "title", Need::Required, Some(100));
    let description = reader.text(&mut root, "description", Need::Optional, Some(300));
    let base_url = reader.url(&mut root, "base_url", Need::Required);
    let language = reader.choice(&mut root, "language", Need::Optional, LANGUAGES);
    let theme = reader.text(&mut root, "theme", Need::Optional, None);

    let mut markdown = MarkdownConfig::default();
    if let Some(mut table) = reader.table(&mut root, "markdown", Need::Optional) {
        if let Some(allow) = reader.boolean(&mut table, "allow_html", Need::Optional) {
            markdown.allow_html = allow.value;
        }
        reader.finish(table);
    }

    let mut legal = LegalPages::default();
    if let Some(mut table) = reader.table(&mut root, "legal", Need::Optional) {
        for (key, slot) in [
            ("impressum", &mut legal.impressum),
            ("datenschutz", &mut legal.datenschutz),
            ("barrierefreiheit", &mut legal.barrierefreiheit),
        ] {
            if let Some(id) = reader.text(&mut table, key, Need::Optional, None) {
                *slot = id.value;
            }
        }
        reader.finish(table);
    }

    let mut search = SearchConfig::default();
    if let Some(mut table) = reader.table(&mut root, "search", Need::Optional) {
        if let Some(include) = reader.boolean(&mut table, "include_history", Need::Optional) {
            search.include_history = include.value;
        }
        if let Some(backend) = reader.choice(&mut table, "backend", Need::Optional, SEARCH_BACKENDS)
        {
            search.backend = match backend.value.as_str() {
                "pagefind" => SearchBackend::Pagefind,
                _ => SearchBackend::Native,
            };
        }
        reader.finish(table);
    }

    let mut history = HistoryConfig::default();
    if let Some(mut table) = reader.table(&mut root, "verlauf", Need::Optional) {
        if let Some(authors) = reader.table(&mut table, "autoren", Need::Optional) {
            for (email, role) in reader.string_map(authors) {
                if !is_email(&email.value) {
                    reader.report_at(
                        email.span.clone(),
                        Rule::E10,
                        format!(
                            "„{}“ in [verlauf.autoren] ist keine E-Mail-Adresse. Schreiben Sie die Adresse, mit der \
                             die Person ihre Commits macht, z. B. \"redaktion@landkreis.de\" = \"ki-beauftragte\".",
                            email.value
                        ),
                    );
                    continue;
                }
                history.authors.push(AuthorRole {
                    email: email.value,
                    role: role.value,
                    line: source.line_col(role.span.start).0,
                });
            }
        }
        reader.finish(table);
    }

    if let Some(theme) = &theme
        && (theme.value.is_empty() || theme.value.contains(['/', '\\', '.']))
    {
        reader.report_at(
            theme.span.clone(),
            Rule::E9,
            "„theme“ muss der Name eines Ordners unter themes/ sein (ohne / und .), z. B. \"default\".",
        );
    }
    reader.finish(root);
    let diagnostics = reader.into_diagnostics();

    let config = match (title, base_url) {
        (Some(title), Some(base_url)) if diagnostics.iter().all(|d| !d.is_error()) => {
            let mut base_url = base_url.value;
            if !base_url.ends_with('/') {
                base_url.push('/');
            }
            let base_path = url::Url::parse(&base_url)
                .map(|u| u.path().to_string())
                .unwrap_or_else(|_| "/".into());
            Some(Config {
                title: title.value,
                description: description.map(|d| d.value).unwrap_or_default(),
                base_url,
                base_path,
                language: language.map_or_else(|| "de".into(), |l| l.value),
                theme: theme.map_or_else(|| "default".into(), |t| t.value),
                markdown,
                legal,
                search,
                history,
            })
        }
        _ => None,
    };
    (config, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (Option<Config>, Vec<Diagnostic>) {
        parse(&SourceText::new(CONFIG_FILE, text))
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let (config, diags) = parse_str("title = \"T\"\nbase_url = \"https://example.org/sub\"\n");
        assert!(diags.is_empty(), "{diags:?}");
        let config = config.unwrap();
        assert_eq!(config.base_url, "https://example.org/sub/");
        assert_eq!(config.base_path, "/sub/");
        assert_eq!(config.language, "de");
        assert_eq!(config.theme, "default");
        assert_eq!(config.legal, LegalPages::default());
        assert_eq!(config.search.backend, SearchBackend::Native);
    }

    #[test]
    fn search_backend_is_chosen_by_name() {
        let base = "title = \"T\"\nbase_url = \"https://example.org/\"\n\n[search]\n";
        let (config, diags) = parse_str(&format!("{base}backend = \"pagefind\"\n"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(config.unwrap().search.backend, SearchBackend::Pagefind);
        let (config, diags) = parse_str(&format!("{base}backend = \"lucene\"\n"));
        assert!(config.is_none());
        assert_eq!((diags[0].rule, diags[0].line), (Rule::E2, 5));
    }

    #[test]
    fn authors_map_addresses_to_roles_with_their_line() {
        let (config, diags) = parse_str(
            "title = \"T\"\nbase_url = \"https://example.org/\"\n\n[verlauf.autoren]\n\
             \"Redaktion@Kreis.example\" = \"ki-beauftragte\"\n\"kein-name\" = \"x\"\n",
        );
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(got, [(Rule::E10, 6)]);
        assert!(config.is_none(), "an error makes the config unusable");
        let (config, diags) = parse_str(
            "title = \"T\"\nbase_url = \"https://example.org/\"\n\n[verlauf.autoren]\n\
             \"Redaktion@Kreis.example\" = \"ki-beauftragte\"\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let history = config.unwrap().history;
        assert_eq!(history.authors[0].line, 5);
        assert_eq!(
            history.role_of("redaktion@kreis.example"),
            Some("ki-beauftragte")
        );
        assert_eq!(history.role_of(""), None);
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let (config, diags) = parse_str(
            "title = \"T\"\nbase_url = \"https://example.org/\"\n\n[markdown]\nallow_htm = true\n",
        );
        assert!(config.is_none());
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].rule, diags[0].line), (Rule::S2, 5));
        assert!(diags[0].message.contains("markdown.allow_htm"));
    }
}
