//! The render stage: validated content + theme → the files of the site, rendered in parallel.
//!
//! Each part of the site has its own module that turns content into `PageJob`s — a template, an output
//! path and the page's own context — and, where it publishes data files, into [`OutputFile`]s directly.
//! All jobs are then rendered in parallel. Templates receive typed contexts (serialized structs); every URL
//! in a context is already a full path including the site's base path. The output is deterministic: no
//! build timestamps, files sorted by path.
//!
//! The stage has two parts: [`render_current`] makes every page the search reads, [`render_history`] the
//! pages of the history no search reads (a build runs it while the search runs).

mod guidelines;
mod history;
mod motion;
mod raci;
mod register;
mod search;
mod versions;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::content::{Content, Edited, RenderSettings};
use crate::diagnostics::{Diagnostic, Rule};
use crate::markdown::{Rendered, TocEntry};
use crate::reuse::{CurrentPages, DocumentKey, Hash, Index, Store, StoredFile, VersionPages};
use crate::theme::{Theme, error_chain};
use crate::versions::Versions;

/// One file of the built site. Two files are equal when their paths and bytes are.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// Path inside the output directory, with `/`.
    pub path: String,
    /// The file's bytes: owned, or a part of a cache file mapped into memory (search index files an
    /// earlier build wrote), which is read only if the file is written.
    pub bytes: bytes::Bytes,
    /// BLAKE3 of `bytes`, when a cache recorded it: the output's manifest then need not read the bytes.
    pub hash: Option<Hash>,
}

impl PartialEq for OutputFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.bytes == other.bytes
    }
}

impl Eq for OutputFile {}

impl OutputFile {
    /// A file whose hash is not known yet.
    pub fn new(path: impl Into<String>, bytes: impl Into<bytes::Bytes>) -> Self {
        OutputFile {
            path: path.into(),
            bytes: bytes.into(),
            hash: None,
        }
    }

    /// BLAKE3 of the bytes: the recorded one, or computed.
    pub fn hash(&self) -> Hash {
        self.hash
            .unwrap_or_else(|| *blake3::hash(&self.bytes).as_bytes())
    }
}

/// One page of the site: which template, where to, and what to do with it.
pub(crate) struct PageJob {
    pub template: &'static str,
    /// Site-relative URL path of the page (`leitlinien/x/`, or a file name such as `404.html`).
    pub url_path: String,
    pub work: Work,
}

/// What a [`PageJob`] needs done.
pub(crate) enum Work {
    /// Render the page with the context only this page has.
    Render {
        context: tera::Context,
        /// A Markdown body the template gets as `page.content`. It stays out of `context` until the page
        /// is rendered: the page key hashes it where it is.
        body: Option<Arc<Rendered>>,
        /// The page's key, for the store (`None` for version pages: their document's key covers them).
        key: Option<Hash>,
    },
    /// Link the page the last build stored under the same key.
    Stored(StoredFile),
}

/// What a page's context is filled into: first the bytes of its key, and only if no earlier build
/// stored a page with that key, the values its template gets. A page taken from the store is thus keyed
/// from its values written out as JSON and never converted into the template engine's value tree,
/// which costs several times more (building, keying and dropping the values of every page was a third
/// of a one-page rebuild's render stage on a large site).
pub(crate) enum PageContext<'a> {
    /// The bytes the page's key is made from.
    Key(&'a mut Vec<u8>),
    /// The values the template gets.
    Values(&'a mut tera::Context),
}

impl PageContext<'_> {
    /// Adds the value `name` to the page's context.
    pub fn insert<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        match self {
            PageContext::Key(bytes) => {
                push_str(bytes, name);
                // JSON values end where they end: names and values cannot run into each other.
                if serde_json::to_writer(&mut **bytes, value).is_err() {
                    bytes.push(0xff);
                }
            }
            PageContext::Values(context) => context.insert(name, value),
        }
    }
}

/// A version page (Stand, Synopse, Fassungen) to render: version pages are not keyed one by one here —
/// their document's key, or the page keys inside `versions::render`, decide what is rendered at all.
pub(crate) struct VersionJob {
    pub template: &'static str,
    /// Site-relative URL path of the page.
    pub url_path: String,
    pub context: tera::Context,
}

impl VersionJob {
    /// The file a page is written to: `x/` becomes `x/index.html`.
    fn output_path(&self) -> String {
        output_path(&self.url_path)
    }
}

pub(crate) use search::PAGE as SEARCH_PAGE;

/// The file a page at a site path is written to (`a/b/` → `a/b/index.html`).
pub(crate) fn output_path(url_path: &str) -> String {
    if url_path.is_empty() || url_path.ends_with('/') {
        format!("{url_path}index.html")
    } else {
        url_path.to_string()
    }
}

/// Templates whose pages carry `<meta name="robots" content="noindex">`: left out of the sitemap.
const NOINDEX_TEMPLATES: &[&str] = &[
    "search.html",
    "stand.html",
    "synopse.html",
    "register_stand.html",
    "raci_stand.html",
    "removed.html",
];

/// The main navigation: site path and translation key of each entry, in order.
const NAV: &[(&str, &str)] = &[
    ("", "nav_home"),
    ("leitlinien/", "nav_leitlinien"),
    ("register/", "nav_register"),
    ("verantwortung/", "nav_verantwortung"),
    ("antrag/", "nav_antrag"),
    ("aenderungen/", "nav_aenderungen"),
];

/// Site paths the render stage generates besides one page per document (for link checking).
pub fn generated_paths(theme: &Theme, content: &Content) -> BTreeSet<String> {
    let mut paths: BTreeSet<String> = ["", "sitemap.xml", "robots.txt"]
        .into_iter()
        .map(String::from)
        .collect();
    paths.extend(guidelines::GENERATED.iter().map(|p| p.to_string()));
    paths.extend(motion::GENERATED.iter().map(|p| p.to_string()));
    paths.extend(versions::GENERATED.iter().map(|p| p.to_string()));
    paths.extend(raci::generated(content));
    paths.extend(register::generated_paths(content));
    paths.extend(search::GENERATED.iter().map(|p| p.to_string()));
    paths.extend(theme.static_files.keys().cloned());
    paths
}

#[derive(Serialize)]
struct SiteContext<'a> {
    title: &'a str,
    description: &'a str,
    language: &'a str,
    base_url: &'a str,
    base_path: &'a str,
}

#[derive(Serialize)]
struct NavItem {
    title: String,
    url: String,
    active: bool,
}

#[derive(Serialize)]
struct LinkItem {
    title: String,
    url: String,
}

#[derive(Serialize)]
struct Assets {
    css: String,
}

/// A date for templates: machine-readable and as the reader's language writes it.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct DateContext {
    pub iso: String,
    pub display: String,
}

/// A table-of-contents entry for templates.
#[derive(Serialize)]
pub(crate) struct TocContext {
    pub level: u8,
    pub id: String,
    pub title: String,
}

pub(crate) fn toc(entries: &[TocEntry]) -> Vec<TocContext> {
    entries
        .iter()
        .map(|e| TocContext {
            level: e.level,
            id: e.id.clone(),
            title: e.title.clone(),
        })
        .collect()
}

/// Everything shared by all pages of one build.
pub(crate) struct Shared<'a> {
    pub config: &'a Config,
    pub theme: &'a Theme,
    pub today: NaiveDate,
    base: tera::Context,
    /// How the site's current pages are keyed and where earlier ones are looked up; `None` where pages
    /// are only rendered (the preview of one edited page).
    keys: Option<Keys<'a>>,
}

/// The keying of current pages in one build.
struct Keys<'a> {
    /// The build-wide inputs ([`Store::build_fingerprint`] and the context every page gets).
    fingerprint: blake3::Hash,
    /// The pages the last build stored, if they may be reused.
    stored: Option<&'a Index>,
}

impl Shared<'_> {
    /// The full path of a site path (with the base path).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_path, path)
    }

    /// A translation of the theme.
    pub fn text(&self, key: &str) -> String {
        self.theme.text(key)
    }

    pub fn date(&self, date: NaiveDate) -> DateContext {
        let month = self.theme.text(&format!("month_{}", date.month()));
        let display = match self.config.language.as_str() {
            "de" => format!("{}. {} {}", date.day(), month, date.year()),
            _ => format!("{} {} {}", date.day(), month, date.year()),
        };
        DateContext {
            iso: date.format("%Y-%m-%d").to_string(),
            display,
        }
    }

    /// The values every page gets that follow from its path alone (the navigation with its active item,
    /// the canonical and the current URL). They are added when the page is rendered, not kept in its
    /// job: the page's key has its path and the build-wide inputs they are made of, so building them for
    /// every page of a large site only to key it was wasted (a quarter of a guideline job's time).
    fn path_values(&self, path: &str) -> [(&'static str, tera::Value); 3] {
        let nav: Vec<NavItem> = NAV
            .iter()
            .map(|(target, key)| NavItem {
                title: self.theme.text(key),
                url: self.url(target),
                active: if target.is_empty() {
                    path.is_empty()
                } else {
                    path.starts_with(target)
                },
            })
            .collect();
        [
            ("nav", tera::to_value(nav).unwrap_or_default()),
            (
                "canonical",
                tera::Value::String(format!("{}{}", self.config.base_url, path)),
            ),
            ("current_url", tera::Value::String(self.url(path))),
        ]
    }

    /// The job of a current page at `path` whose own context `fill` makes: keyed, and taken from the
    /// store if the last build stored a page with its key (see [`PageContext`]). `fill` is called once to
    /// key the page and once more if it is rendered.
    pub fn job(
        &self,
        template: &'static str,
        path: &str,
        fill: impl Fn(&mut PageContext),
    ) -> PageJob {
        self.keyed_job(template, path, None, fill)
    }

    /// [`Shared::job`] for a page that shows a Markdown `body` as `page.content`; `fill` inserts `page`
    /// without it.
    pub fn job_with_body(
        &self,
        template: &'static str,
        path: &str,
        body: &Arc<Rendered>,
        fill: impl Fn(&mut PageContext),
    ) -> PageJob {
        self.keyed_job(template, path, Some(body), fill)
    }

    fn keyed_job(
        &self,
        template: &'static str,
        path: &str,
        body: Option<&Arc<Rendered>>,
        fill: impl Fn(&mut PageContext),
    ) -> PageJob {
        let output = output_path(path);
        let key = self.keys.as_ref().map(|keys| {
            let mut bytes = Vec::with_capacity(4096);
            fill(&mut PageContext::Key(&mut bytes));
            let key = page_key(
                &keys.fingerprint,
                template,
                &output,
                &bytes,
                body.map(|b| &b.html_hash),
            );
            (key, keys.stored.and_then(|index| index.current_page(&key)))
        });
        if let Some((_, Some(file))) = &key
            && file.path == output
        {
            return PageJob {
                template,
                url_path: path.to_string(),
                work: Work::Stored((*file).clone()),
            };
        }
        let mut context = tera::Context::new();
        fill(&mut PageContext::Values(&mut context));
        PageJob {
            template,
            url_path: path.to_string(),
            work: Work::Render {
                context,
                body: body.cloned(),
                key: key.map(|(key, _)| key),
            },
        }
    }

    /// The job of a version page (Stand, Synopse, Fassungen of a guideline): always rendered, its
    /// document's key decides whether it is needed at all.
    pub fn version_job(
        &self,
        template: &'static str,
        path: &str,
        fill: impl FnOnce(&mut tera::Context),
    ) -> VersionJob {
        let mut context = tera::Context::new();
        fill(&mut context);
        VersionJob {
            template,
            url_path: path.to_string(),
            context,
        }
    }

    /// Renders a page job with `shared`, a copy of the shared context (see [`Shared::render_values`]);
    /// `None` for a page the job takes from the store (only a keyed build has such jobs).
    fn render(
        &self,
        shared: &mut tera::Context,
        job: PageJob,
    ) -> Option<Result<OutputFile, Diagnostic>> {
        let Work::Render { context, body, .. } = job.work else {
            return None;
        };
        let values = page_values(context, body.as_deref());
        Some(self.render_values(shared, job.template, &job.url_path, values))
    }

    /// Renders `template` to `path` with `shared`, a copy of the shared context: the page's `values` are
    /// moved in for the page and out again after it, so that the shared context (hundreds of translations)
    /// is not copied for every page. A page value with the name of a shared one hides it for that page only.
    /// The page also gets the values of its path ([`Shared::path_values`]) unless it has its own.
    fn render_values(
        &self,
        shared: &mut tera::Context,
        template: &'static str,
        url_path: &str,
        mut values: tera::Map<String, tera::Value>,
    ) -> Result<OutputFile, Diagnostic> {
        let path = output_path(url_path);
        for (name, value) in self.path_values(url_path) {
            values.entry(name).or_insert(value);
        }
        let keys: Vec<String> = values.keys().cloned().collect();
        let hidden: Vec<(String, tera::Value)> = keys
            .iter()
            .filter_map(|key| shared.remove(key).map(|value| (key.clone(), value)))
            .collect();
        shared.extend(context_of(values));
        let rendered = self.theme.templates.render(template, shared);
        for key in &keys {
            shared.remove(key);
        }
        shared.extend(context_of(hidden.into_iter().collect()));
        rendered
            .map(|html| OutputFile::new(path.clone(), html.into_bytes()))
            .map_err(|err| {
                Diagnostic::file(
                    format!("themes/{}/templates/{}", self.config.theme, template),
                    Rule::T1,
                    format!(
                        "Die Vorlage kann für {path} nicht angewendet werden: {}",
                        error_chain(&err)
                    ),
                )
            })
    }
}

/// The values of a page's context (moved, not copied), with its `body` as `page.content`.
fn page_values(context: tera::Context, body: Option<&Rendered>) -> tera::Map<String, tera::Value> {
    with_body(context_values(context), body)
}

/// `values` with `body` as `page.content`.
fn with_body(
    mut values: tera::Map<String, tera::Value>,
    body: Option<&Rendered>,
) -> tera::Map<String, tera::Value> {
    if let Some(body) = body
        && let Some(tera::Value::Object(page)) = values.get_mut("page")
    {
        page.insert("content".into(), tera::Value::String(body.html.to_string()));
    }
    values
}

/// The values of a context (moved, not copied).
fn context_values(context: tera::Context) -> tera::Map<String, tera::Value> {
    match context.into_json() {
        tera::Value::Object(values) => values,
        _ => tera::Map::new(),
    }
}

/// The key of a current page: everything it is rendered from — the build-wide inputs (`fingerprint`:
/// program, theme, configuration, shared context), its template, its path, its own context and its
/// Markdown body, by the hash of its HTML (see [`PageJob::body`]).
fn page_key(
    fingerprint: &blake3::Hash,
    template: &str,
    path: &str,
    values: &[u8],
    body: Option<&Hash>,
) -> Hash {
    let mut key = DocumentKey::new(fingerprint);
    key.add(template).add(path);
    // The values are written out (see [`PageContext`]) and hashed in one piece: many small `update`s
    // cost blake3 far more than one large one.
    key.add(blake3::hash(values).as_bytes());
    match body {
        Some(html) => key.add(b"body").add(html),
        None => key.add(b""),
    };
    key.finish()
}

fn push_str(bytes: &mut Vec<u8>, s: &str) {
    bytes.extend_from_slice(&(s.len() as u64).to_le_bytes());
    bytes.extend_from_slice(s.as_bytes());
}

/// A current page: rendered, with its key, or taken from the store.
enum CurrentPage {
    Rendered(OutputFile, Hash),
    Reused(StoredFile),
}

/// A context of `values` (moved, not copied).
fn context_of(values: tera::Map<String, tera::Value>) -> tera::Context {
    tera::Context::from_value(tera::Value::Object(values)).unwrap_or_default()
}

/// The version pages of an earlier build, to reuse where their inputs are unchanged.
pub(crate) struct Previous<'a> {
    pub index: &'a Index,
    /// The build-wide inputs of this build ([`Store::build_fingerprint`] and the context every page
    /// gets).
    pub fingerprint: blake3::Hash,
}

/// A rendered site: its files in memory, and the pages reused from an earlier build.
pub struct Site {
    pub files: Vec<OutputFile>,
    pub versions: VersionPages,
    pub current: CurrentPages,
}

/// What the render stage renders from: the checked site, the day it is rendered for, and the store's
/// index of the last build (pages whose inputs did not change are taken from there).
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub config: &'a Config,
    pub content: &'a Content,
    pub theme: &'a Theme,
    pub versions: &'a Versions,
    pub today: NaiveDate,
    pub previous: Option<&'a Index>,
}

/// What [`render_current`] made that [`render_history`] needs: the pages, for the sitemap.
pub struct CurrentMade {
    /// Template and URL path of every page made from a job.
    pages: Vec<(&'static str, String)>,
}

/// The site's shared context, keyed for reusing pages the last build stored.
fn keyed<'a>(inputs: &Inputs<'a>) -> Shared<'a> {
    let Inputs { config, theme, .. } = *inputs;
    let mut shared = shared(config, inputs.content, theme, inputs.today);
    let fingerprint = {
        let mut key = DocumentKey::new(&Store::build_fingerprint(&theme.fingerprint, config));
        key.add(shared.base.clone().into_json().to_string());
        blake3::Hash::from_bytes(key.finish())
    };
    shared.keys = Some(Keys {
        fingerprint,
        stored: inputs.previous,
    });
    shared
}

/// Renders every page but the history's (see [`render_history`]): the pages the search reads, the
/// register's data files, `robots.txt` and the theme's static files. Pages whose inputs did not change
/// are taken from the store; fails with diagnostics if a template cannot be applied.
pub fn render_current(inputs: &Inputs) -> Result<(Site, CurrentMade), Vec<Diagnostic>> {
    let Inputs {
        config,
        content,
        theme,
        versions,
        ..
    } = *inputs;
    let shared = keyed(inputs);
    // The register's data files depend on nothing the pages do: they are made beside everything else.
    let (jobs, register_files) = rayon::join(
        || {
            let mut jobs = guidelines::jobs(&shared, content, versions);
            jobs.extend(motion::jobs(&shared, content));
            jobs.extend(raci::jobs(&shared, content, versions));
            jobs.extend(register::jobs(&shared, content, versions));
            jobs.extend(search::jobs(&shared));
            jobs
        },
        || register::files(&shared, content, versions),
    );
    let pages = job_pages(&jobs);
    let (mut files, current) = render_jobs(&shared, jobs)?;
    files.extend(register_files);
    files.push(OutputFile::new(
        "robots.txt",
        format!(
            "User-agent: *\nAllow: /\nSitemap: {}sitemap.xml\n",
            config.base_url
        )
        .into_bytes(),
    ));
    files.extend(
        theme
            .static_files
            .iter()
            .map(|(path, bytes)| OutputFile::new(path.clone(), bytes.clone())),
    );
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let site = Site {
        files,
        versions: VersionPages::default(),
        current,
    };
    Ok((site, CurrentMade { pages }))
}

/// Renders the pages of the site's history no search reads: the guidelines' version pages (Stände,
/// Synopsen, Fassungen, `versions.json`), the site-wide history pages (changes, decisions, point in
/// time, pages of removed guidelines), the feed — and the sitemap, which lists them with the pages
/// [`render_current`] `made`. A document's version pages are taken from the store by its key, single pages
/// of a changed document by theirs.
pub fn render_history(inputs: &Inputs, made: &CurrentMade) -> Result<Site, Vec<Diagnostic>> {
    let Inputs {
        config,
        content,
        theme,
        versions,
        previous,
        ..
    } = *inputs;
    let shared = keyed(inputs);
    let labels = theme.markdown_labels();
    let settings = RenderSettings::new(config, &labels);
    let mut other_changes = register::history::changes(&shared, content, versions);
    other_changes.extend(raci::history::changes(&shared, content, versions));
    // Every guideline with Stände, today's and removed ones, for the history pages and the feed.
    let documents = versions::subjects(&shared, content, versions);
    other_changes.extend(versions::removals(&shared, versions, &documents));
    // The site-wide history pages are keyed like any page; a document's version pages are reused by
    // their own keys, inside `versions::render`.
    let jobs = versions::site_pages(&shared, &documents, &other_changes);
    let previous = previous
        .zip(shared.keys.as_ref())
        .map(|(index, keys)| Previous {
            index,
            fingerprint: keys.fingerprint,
        });
    let (version_jobs, version_files, version_pages) = versions::render(
        &shared,
        content,
        versions,
        &documents,
        &settings,
        &other_changes,
        previous.as_ref(),
    );
    let mut pages = job_pages(&jobs);
    pages.extend(
        version_jobs
            .iter()
            .map(|j| (j.template, j.url_path.clone())),
    );
    let (rendered, versioned) = rayon::join(
        || render_jobs(&shared, jobs),
        || {
            version_jobs
                .into_par_iter()
                .map_init(
                    || shared.base.clone(),
                    |base, job| {
                        shared.render_values(
                            base,
                            job.template,
                            &job.url_path,
                            page_values(job.context, None),
                        )
                    },
                )
                .collect::<Vec<Result<OutputFile, Diagnostic>>>()
        },
    );
    let mut errors = Vec::new();
    let (mut files, current) = rendered.unwrap_or_else(|failed| {
        errors.extend(failed);
        Default::default()
    });
    for result in versioned {
        match result {
            Ok(file) => files.push(file),
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    files.extend(version_files);
    // The sitemap lists the pages search engines may index: not the search page, Stände and Synopsen
    // (their templates say `noindex`).
    // A changed document's version pages rendered now are among `pages` too.
    let reused_pages = version_pages.listed();
    let mut page_paths: Vec<&str> = made
        .pages
        .iter()
        .chain(&pages)
        .filter(|(template, _)| !NOINDEX_TEMPLATES.contains(template))
        .map(|(_, url_path)| url_path.as_str())
        .filter(|p| p.is_empty() || p.ends_with('/'))
        .chain(reused_pages)
        .collect();
    page_paths.sort_unstable();
    page_paths.dedup();
    files.push(sitemap(config, &page_paths));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Site {
        files,
        versions: version_pages,
        current,
    })
}

/// Template and URL path of each job's page.
fn job_pages(jobs: &[PageJob]) -> Vec<(&'static str, String)> {
    jobs.iter()
        .map(|j| (j.template, j.url_path.clone()))
        .collect()
}

/// Renders `jobs` in parallel, or takes their pages from the store: the files rendered, and which pages
/// were rendered and which reused. Fails with the diagnostics of every page whose template failed.
fn render_jobs(
    shared: &Shared,
    jobs: Vec<PageJob>,
) -> Result<(Vec<OutputFile>, CurrentPages), Vec<Diagnostic>> {
    let results: Vec<Result<CurrentPage, Diagnostic>> = jobs
        .into_par_iter()
        .map_init(
            || shared.base.clone(),
            |base, job| match job.work {
                Work::Stored(file) => Ok(CurrentPage::Reused(file)),
                Work::Render { context, body, key } => shared
                    .render_values(
                        base,
                        job.template,
                        &job.url_path,
                        page_values(context, body.as_deref()),
                    )
                    .map(|file| CurrentPage::Rendered(file, key.unwrap_or_default())),
            },
        )
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut pages = CurrentPages::default();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(CurrentPage::Rendered(file, key)) => {
                pages.rendered.push((file.path.clone(), key));
                files.push(file);
            }
            Ok(CurrentPage::Reused(file)) => pages.reused.push(file),
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((files, pages))
}

/// The page of a document read again after a save ([`Content::reread`]), rendered as the whole build
/// would render it with the rest of the site as `content` has it: what `serve` shows before the rebuild.
/// `None` for a document that is not published.
pub fn edited_page(
    config: &Config,
    content: &Content,
    theme: &Theme,
    versions: &Versions,
    today: NaiveDate,
    edited: &Edited,
) -> Option<Result<OutputFile, Diagnostic>> {
    let shared = shared(config, content, theme, today);
    let job = match edited {
        Edited::Entry(entry) => register::entry_job(&shared, content, versions, entry),
        _ => guidelines::edited_job(&shared, content, versions, edited)?,
    };
    // Its `Shared` has no keys: nothing is taken from the store.
    shared.render(&mut shared.base.clone(), job)
}

fn shared<'a>(
    config: &'a Config,
    content: &Content,
    theme: &'a Theme,
    today: NaiveDate,
) -> Shared<'a> {
    let css_hash = theme
        .static_files
        .get("css/regelwerk.css")
        .map(|bytes| blake3::hash(bytes).to_hex()[..10].to_string())
        .unwrap_or_default();
    let mut base = tera::Context::new();
    base.insert(
        "site",
        &SiteContext {
            title: &config.title,
            description: &config.description,
            language: &config.language,
            base_url: &config.base_url,
            base_path: &config.base_path,
        },
    );
    base.insert("t", &theme.translations);
    base.insert(
        "assets",
        &Assets {
            css: format!("{}css/regelwerk.css?v={css_hash}", config.base_path),
        },
    );
    let legal: Vec<LinkItem> = [
        &config.legal.impressum,
        &config.legal.datenschutz,
        &config.legal.barrierefreiheit,
    ]
    .into_iter()
    .filter_map(|id| content.valid_pages().find(|(doc, _)| &doc.id == id))
    .map(|(doc, meta)| LinkItem {
        title: meta.title.clone(),
        url: format!("{}{}", config.base_path, doc.url_path),
    })
    .collect();
    base.insert("legal", &legal);
    Shared {
        config,
        theme,
        today,
        base,
        keys: None,
    }
}

/// `sitemap.xml` with every page (directory URLs), sorted.
fn sitemap(config: &Config, pages: &[&str]) -> OutputFile {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for page in pages {
        xml.push_str("  <url><loc>");
        xml.push_str(&crate::theme::escape_html_minimal(&format!(
            "{}{page}",
            config.base_url
        )));
        xml.push_str("</loc></url>\n");
    }
    xml.push_str("</urlset>\n");
    OutputFile::new("sitemap.xml", xml.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_tell_values_apart() {
        let fingerprint = blake3::hash(b"build");
        let key = |value: serde_json::Value| {
            let tera::Value::Object(values) = value else {
                panic!("an object")
            };
            let mut bytes = Vec::new();
            let mut context = PageContext::Key(&mut bytes);
            for (name, value) in &values {
                context.insert(name, value);
            }
            page_key(&fingerprint, "page.html", "a/index.html", &bytes, None)
        };
        let pairs = [
            (
                serde_json::json!({"a": ["ab"]}),
                serde_json::json!({"a": ["a", "b"]}),
            ),
            (
                serde_json::json!({"a": {"b": ""}}),
                serde_json::json!({"a": {"": "b"}}),
            ),
            (serde_json::json!({"a": 1}), serde_json::json!({"a": "1"})),
            (
                serde_json::json!({"a": null}),
                serde_json::json!({"a": false}),
            ),
            (
                serde_json::json!({"a": [[]]}),
                serde_json::json!({"a": [{}]}),
            ),
            (
                serde_json::json!({"a": "b", "c": "d"}),
                serde_json::json!({"a": "bc", "": "d"}),
            ),
            (
                serde_json::json!({"a": 1, "b": 2}),
                serde_json::json!({"a": 12}),
            ),
        ];
        for (one, other) in pairs {
            assert_ne!(key(one.clone()), key(other.clone()), "{one} and {other}");
            assert_eq!(key(one.clone()), key(one));
        }
        let page = |path, body| page_key(&fingerprint, "page.html", path, &[], body);
        assert_ne!(page("a/index.html", None), page("b/index.html", None));
        let [empty, a, b] =
            ["", "<p>a</p>", "<p>b</p>"].map(|html| *blake3::hash(html.as_bytes()).as_bytes());
        assert_ne!(
            page("a/index.html", None),
            page("a/index.html", Some(&empty))
        );
        assert_ne!(
            page("a/index.html", Some(&a)),
            page("a/index.html", Some(&b))
        );
    }
}
