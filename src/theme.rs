//! Themes: Tera templates, static files (CSS, scripts) and translations.
//!
//! The default theme is compiled into the binary, so a site needs no theme folder. A site overrides any
//! file by putting one at the same place under `themes/<theme>/` (templates, `static/`, `i18n/<lang>.toml`);
//! a theme with another name starts from the default and replaces what it contains.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use tera::Tera;
use walkdir::WalkDir;

use crate::config::{CONFIG_FILE, Config};
use crate::content::relative;
use crate::diagnostics::{Diagnostic, Rule};

/// The default theme as shipped in the repository, compiled in.
static BUILT_IN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// Translation keys the engine itself reads (templates read the rest).
pub const ENGINE_KEYS: &[&str] = &[
    "nav_home",
    "nav_leitlinien",
    "nav_verantwortung",
    "raci_task",
    "raci_r_title",
    "raci_r_text",
    "raci_a_title",
    "raci_a_text",
    "raci_c_title",
    "raci_c_text",
    "raci_i_title",
    "raci_i_text",
    "raci_ar_title",
    "raci_ar_text",
    "nav_register",
    "status_entwurf",
    "status_beschlossen",
    "status_aufgehoben",
    "todo_label",
    "task_done",
    "task_open",
    "implements_label",
    "table_region",
    "month_1",
    "month_2",
    "month_3",
    "month_4",
    "month_5",
    "month_6",
    "month_7",
    "month_8",
    "month_9",
    "month_10",
    "month_11",
    "month_12",
];

/// Files of the built-in theme that only `regelwerk serve` uses (it serves them under `/__regelwerk/`);
/// they are never copied into a site.
pub const PREVIEW_ONLY: &[&str] = &["js/livereload.js"];

/// A loaded theme, ready to render.
pub struct Theme {
    pub templates: Tera,
    /// The translations for the site's language.
    pub translations: BTreeMap<String, String>,
    /// Files copied into the output as they are, by output path (e.g. `css/regelwerk.css`).
    pub static_files: BTreeMap<String, Vec<u8>>,
    /// A hash over every template, translation and static file: pages rendered with another theme
    /// state are not reused (see [`crate::reuse`]).
    pub fingerprint: blake3::Hash,
}

impl Theme {
    /// A translation; a missing key shows as the key itself (a complete translation file is tested).
    pub fn text(&self, key: &str) -> String {
        self.translations
            .get(key)
            .map_or_else(|| key.to_string(), String::clone)
    }

    /// The words rendered Markdown needs.
    pub fn markdown_labels(&self) -> crate::markdown::Labels {
        labels(&self.translations)
    }
}

/// The words rendered Markdown needs, from the translations (a missing key shows as the key itself).
fn labels(translations: &BTreeMap<String, String>) -> crate::markdown::Labels {
    let text = |key: &str| {
        translations
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    };
    crate::markdown::Labels {
        todo: text("todo_label"),
        task_done: text("task_done"),
        task_open: text("task_open"),
        implements: text("implements_label"),
        table_region: text("table_region"),
    }
}

/// A theme whose templates are being parsed on another thread; everything else of it is ready. Parsing
/// the templates is the slow part of loading a theme (tens of milliseconds), and only rendering needs
/// them: the content is read meanwhile ([`start`], [`Loading::finish`]).
pub struct Loading {
    translations: BTreeMap<String, String>,
    static_files: BTreeMap<String, Vec<u8>>,
    fingerprint: blake3::Hash,
    parsing: Parsing,
}

/// The templates being parsed, or parsed already (when no thread could be started).
enum Parsing {
    Thread(std::thread::JoinHandle<Result<Tera, Diagnostic>>),
    Done(Box<Result<Tera, Diagnostic>>),
}

impl Parsing {
    fn wait(self) -> Result<Tera, Diagnostic> {
        match self {
            Parsing::Thread(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Parsing::Done(parsed) => *parsed,
        }
    }
}

impl Loading {
    /// The words rendered Markdown needs.
    pub fn markdown_labels(&self) -> crate::markdown::Labels {
        labels(&self.translations)
    }

    /// Waits for the templates: the theme, or the problem of the template that does not parse.
    pub fn finish(self) -> Result<Theme, Diagnostic> {
        let templates = self.parsing.wait()?;
        Ok(Theme {
            templates,
            translations: self.translations,
            static_files: self.static_files,
            fingerprint: self.fingerprint,
        })
    }
}

/// Loads the theme the config names, with the site's overrides.
pub fn load(root: &Path, config: &Config) -> (Option<Theme>, Vec<Diagnostic>) {
    let (loading, mut diagnostics) = start(root, config);
    let theme = loading.and_then(|loading| {
        loading
            .finish()
            .map_err(|diagnostic| diagnostics.push(diagnostic))
            .ok()
    });
    (theme, diagnostics)
}

/// Starts loading the theme the config names, with the site's overrides: reads its files and translations
/// and starts parsing its templates (see [`Loading`]). `None` when a file or translation is missing or
/// broken.
pub fn start(root: &Path, config: &Config) -> (Option<Loading>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let site_dir_rel = format!("themes/{}", config.theme);
    let site_dir = root.join(&site_dir_rel);
    if config.theme != "default" && !site_dir.is_dir() {
        diagnostics.push(Diagnostic::file(
            CONFIG_FILE,
            Rule::E2,
            format!(
                "Das Theme „{}“ gibt es nicht: der Ordner {site_dir_rel}/ fehlt. Verwenden Sie theme = \"default\" \
                 oder legen Sie den Ordner an.",
                config.theme
            ),
        ));
        return (None, diagnostics);
    }

    // Templates: built-in first, then the site's files of the same name replace them.
    let mut templates: BTreeMap<String, (String, String)> = BTreeMap::new();
    if let Some(dir) = BUILT_IN.get_dir("templates") {
        for file in dir.files() {
            let name = file.path().strip_prefix("templates").unwrap_or(file.path());
            let name = name.to_string_lossy().replace('\\', "/");
            let text = file.contents_utf8().unwrap_or_default().to_string();
            templates.insert(
                name.clone(),
                (format!("(eingebaut) themes/default/templates/{name}"), text),
            );
        }
    }
    for (name, rel, bytes) in site_files(root, &site_dir.join("templates")) {
        match String::from_utf8(bytes) {
            Ok(text) => {
                templates.insert(name, (rel, text));
            }
            Err(_) => diagnostics.push(Diagnostic::file(
                rel,
                Rule::S1,
                "Die Vorlage ist nicht in UTF-8 gespeichert.",
            )),
        }
    }
    let fingerprint_templates = templates_digest(&templates);
    let parsing = {
        let templates = Arc::new(templates);
        let spawned = std::thread::Builder::new().name("vorlagen".into()).spawn({
            let (templates, site_dir_rel) = (Arc::clone(&templates), site_dir_rel.clone());
            move || parse(&templates, &site_dir_rel)
        });
        match spawned {
            Ok(handle) => Parsing::Thread(handle),
            Err(_) => Parsing::Done(Box::new(parse(&templates, &site_dir_rel))),
        }
    };

    // Translations: built-in language file, overlaid by the site's.
    let lang_file = format!("i18n/{}.toml", config.language);
    let mut translations = BTreeMap::new();
    if let Some(file) = BUILT_IN.get_file(&lang_file) {
        match toml::from_str::<BTreeMap<String, String>>(file.contents_utf8().unwrap_or_default()) {
            Ok(map) => translations.extend(map),
            Err(err) => diagnostics.push(Diagnostic::file(
                format!("themes/default/{lang_file}"),
                Rule::S1,
                format!(
                    "Die eingebaute Übersetzungsdatei ist fehlerhaft: {}",
                    err.message()
                ),
            )),
        }
    }
    let site_lang = site_dir.join(&lang_file);
    if site_lang.is_file() {
        let rel = format!("{site_dir_rel}/{lang_file}");
        let parsed = std::fs::read_to_string(&site_lang)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                toml::from_str::<BTreeMap<String, String>>(&text)
                    .map_err(|e| e.message().to_string())
            });
        match parsed {
            Ok(map) => translations.extend(map),
            Err(err) => diagnostics.push(Diagnostic::file(
                rel,
                Rule::S1,
                format!("Die Übersetzungsdatei ist fehlerhaft: {err}. Jede Zeile hat die Form schluessel = \"Text\"."),
            )),
        }
    }
    for key in ENGINE_KEYS {
        if !translations.contains_key(*key) {
            diagnostics.push(Diagnostic::file(
                format!("{site_dir_rel}/{lang_file}"),
                Rule::E1,
                format!("Der Übersetzungsschlüssel „{key}“ fehlt. Ergänzen Sie {key} = \"…\"."),
            ));
        }
    }

    // Static files: built-in, then the site's.
    let mut static_files = BTreeMap::new();
    if let Some(dir) = BUILT_IN.get_dir("static") {
        collect_built_in(dir, &mut static_files);
    }
    for name in PREVIEW_ONLY {
        static_files.remove(*name);
    }
    for (name, _, bytes) in site_files(root, &site_dir.join("static")) {
        static_files.insert(name, bytes);
    }

    if diagnostics.iter().any(Diagnostic::is_error) {
        // Every problem of the theme at once: the templates' too.
        if let Err(diagnostic) = parsing.wait() {
            diagnostics.push(diagnostic);
        }
        return (None, diagnostics);
    }
    (
        Some(Loading {
            fingerprint: fingerprint(&fingerprint_templates, &translations, &static_files),
            translations,
            static_files,
            parsing,
        }),
        diagnostics,
    )
}

/// Parses the templates (name → (path for messages, text)); a template that does not parse is a T1 problem
/// at its file.
fn parse(
    templates: &BTreeMap<String, (String, String)>,
    site_dir_rel: &str,
) -> Result<Tera, Diagnostic> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.set_escape_fn(escape_html_minimal);
    let sources: Vec<(&str, &str)> = templates
        .iter()
        .map(|(name, (_, text))| (name.as_str(), text.as_str()))
        .collect();
    tera.add_raw_templates(sources).map_err(|err| {
        let message = error_chain(&err);
        // Tera names the failing template in its message: point at that file.
        let path = templates
            .iter()
            .find(|(name, _)| message.contains(&format!("'{name}'")))
            .map_or_else(|| site_dir_rel.to_string(), |(_, (rel, _))| rel.clone());
        template_error(&path, &message)
    })?;
    Ok(tera)
}

/// The hash of the templates' names and texts.
fn templates_digest(templates: &BTreeMap<String, (String, String)>) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    for (name, (_, text)) in templates {
        for bytes in [name.as_bytes(), text.as_bytes()] {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
    }
    hasher.finalize()
}

/// The hash of a theme's state: its templates (see [`templates_digest`]), translations and static files.
fn fingerprint(
    templates: &blake3::Hash,
    translations: &BTreeMap<String, String>,
    static_files: &BTreeMap<String, Vec<u8>>,
) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(templates.as_bytes());
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    for (key, text) in translations {
        field(key.as_bytes());
        field(text.as_bytes());
    }
    for (name, bytes) in static_files {
        field(name.as_bytes());
        field(bytes);
    }
    hasher.finalize()
}

fn collect_built_in(dir: &Dir<'_>, out: &mut BTreeMap<String, Vec<u8>>) {
    for file in dir.files() {
        let name = file.path().strip_prefix("static").unwrap_or(file.path());
        out.insert(
            name.to_string_lossy().replace('\\', "/"),
            file.contents().to_vec(),
        );
    }
    for sub in dir.dirs() {
        collect_built_in(sub, out);
    }
}

/// Files under `dir` as (name relative to `dir`, path relative to root, bytes), sorted.
fn site_files(root: &Path, dir: &Path) -> Vec<(String, String, Vec<u8>)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| !is_editor_temp(e.file_name().to_string_lossy().as_ref()))
        .filter_map(|e| {
            let name = relative(dir, e.path())?;
            let rel = relative(root, e.path())?;
            let bytes = std::fs::read(e.path()).ok()?;
            Some((name, rel, bytes))
        })
        .collect()
}

/// Backup and swap files editors leave next to the real ones.
pub fn is_editor_temp(name: &str) -> bool {
    name.starts_with(".#")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".~")
}

/// Escapes what HTML requires (`& < > " '`) and leaves `/` readable, unlike Tera's default.
pub fn escape_html_minimal(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A template error as a diagnostic, with the line Tera's parser reports where there is one.
fn template_error(path: &str, message: &str) -> Diagnostic {
    let line = message
        .split("-->")
        .nth(1)
        .and_then(|rest| rest.trim_start().split(':').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1);
    Diagnostic::line(
        path,
        line,
        Rule::T1,
        format!("Die Vorlage kann nicht gelesen werden. {message}"),
    )
}

/// A Tera error with all its causes in one line.
pub fn error_chain(err: &tera::Error) -> String {
    use std::error::Error;
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lang: &str) -> Vec<String> {
        let file = BUILT_IN.get_file(format!("i18n/{lang}.toml")).unwrap();
        toml::from_str::<BTreeMap<String, String>>(file.contents_utf8().unwrap())
            .unwrap()
            .into_keys()
            .collect()
    }

    #[test]
    fn german_and_english_translations_are_complete() {
        let de = keys("de");
        assert_eq!(
            de,
            keys("en"),
            "de.toml and en.toml must have the same keys"
        );
        for key in ENGINE_KEYS {
            assert!(de.iter().any(|k| k == key), "missing engine key {key}");
        }
    }

    #[test]
    fn templates_use_only_translated_words() {
        let de = keys("de");
        let dir = BUILT_IN.get_dir("templates").unwrap();
        for file in dir.files() {
            let text = file.contents_utf8().unwrap();
            for (i, _) in text.match_indices("t.") {
                let before = text[..i].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' || before == '.' {
                    continue;
                }
                let key: String = text[i + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    de.contains(&key),
                    "{} uses t.{key}, which de.toml does not define",
                    file.path().display()
                );
            }
        }
    }
}
