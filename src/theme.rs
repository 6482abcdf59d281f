//! Themes: Tera templates, static files (CSS, scripts) and translations.
//!
//! The default theme is compiled into the binary, so a site needs no theme folder. A site overrides any
//! file by putting one at the same place under `themes/<theme>/` (templates, `static/`, `i18n/<lang>.toml`);
//! a theme with another name starts from the default and replaces what it contains.

use std::collections::BTreeMap;
use std::path::Path;

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
        crate::markdown::Labels {
            todo: self.text("todo_label"),
            task_done: self.text("task_done"),
            task_open: self.text("task_open"),
            implements: self.text("implements_label"),
            table_region: self.text("table_region"),
        }
    }
}

/// Loads the theme the config names, with the site's overrides.
pub fn load(root: &Path, config: &Config) -> (Option<Theme>, Vec<Diagnostic>) {
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
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.set_escape_fn(escape_html_minimal);
    let mut template_ok = true;
    let sources: Vec<(&str, &str)> = templates
        .iter()
        .map(|(name, (_, text))| (name.as_str(), text.as_str()))
        .collect();
    if let Err(err) = tera.add_raw_templates(sources) {
        template_ok = false;
        let message = error_chain(&err);
        // Tera names the failing template in its message: point at that file.
        let path = templates
            .iter()
            .find(|(name, _)| message.contains(&format!("'{name}'")))
            .map_or_else(|| site_dir_rel.clone(), |(_, (rel, _))| rel.clone());
        diagnostics.push(template_error(&path, &message));
    }

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

    if !template_ok || diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    (
        Some(Theme {
            fingerprint: fingerprint(&templates, &translations, &static_files),
            templates: tera,
            translations,
            static_files,
        }),
        diagnostics,
    )
}

/// The hash of a theme's state: names and contents of templates, translations and static files.
fn fingerprint(
    templates: &BTreeMap<String, (String, String)>,
    translations: &BTreeMap<String, String>,
    static_files: &BTreeMap<String, Vec<u8>>,
) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    for (name, (_, text)) in templates {
        field(name.as_bytes());
        field(text.as_bytes());
    }
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
