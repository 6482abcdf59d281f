//! regelwerk: a static site generator for public policy — guidelines, responsibility matrices and an AI
//! register — with validation that speaks German to editors.
//!
//! The pipeline, one module per stage, each handing an immutable result to the next:
//!
//! ```text
//! config → theme → content (guidelines, pages, roles, matrices, KI-Register) → validate → history → render → search
//! → output
//! ```
//!
//! [`check`] runs the stages up to validation; [`build`] runs them all and replaces the output directory
//! only when the whole build succeeded. [`serve`] builds and serves a site locally, rebuilding on every
//! change; [`publish`] builds into a new release folder and switches a server's document root to it.

pub mod cache;
pub mod compare;
pub mod config;
pub mod content;
pub mod diagnostics;
pub mod diff;
pub mod highlight;
pub mod history;
pub mod hook;
pub mod init;
pub mod markdown;
pub mod output;
pub mod publish;
pub mod render;
pub mod reuse;
pub mod search;
pub mod serve;
pub mod text;
pub mod theme;
pub mod validate;
pub mod versions;

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::config::Config;
use crate::content::{Content, RenderSettings};
use crate::diagnostics::Diagnostics;
use crate::render::OutputFile;
use crate::theme::Theme;

/// The folder of a site's caches, relative to its root (delete it at any time: it only saves time).
pub const CACHE_DIR: &str = ".regelwerk-cache";

/// What to build and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The site root: the folder with `regelwerk.toml`.
    pub root: PathBuf,
    /// Where the site is written (replaced as a whole).
    pub output: PathBuf,
    /// Replaces the configured `base_url` (e.g. for a local preview).
    pub base_url: Option<String>,
    /// The date reviews are measured against: see [`today`].
    pub today: NaiveDate,
    /// Whether the search stage runs. Without it no `pagefind/` index is written: the pages are the same,
    /// but the search page finds nothing (for measuring the pages alone, see BENCHMARKS.md).
    pub search: bool,
    /// Where the caches of rendered pages live (version pages, search index); default `<root>/`
    /// [`CACHE_DIR`]. Builds for another `base_url` (the preview) need their own: the pages differ, and
    /// each cache keeps only its last build.
    pub cache: PathBuf,
    /// Whether the search stage keeps its cache files in memory (`Paged::cache_writes`) for the
    /// caller to write once the site is out (`publish`: after the switch). Otherwise they are written
    /// as the stage goes.
    pub defer_cache_writes: bool,
    /// Whether the process ends right after the build (the command line). What the build made is then
    /// left to the operating system, which takes the memory back at once, instead of being freed on
    /// another thread while the build finishes (a whole site's documents, versions and pages).
    pub process_ends: bool,
}

impl BuildOptions {
    /// Defaults: output `<root>/public`, today's date, with the search index.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        BuildOptions {
            output: root.join("public"),
            cache: root.join(CACHE_DIR),
            root,
            base_url: None,
            today: today(),
            search: true,
            defer_cache_writes: false,
            process_ends: false,
        }
    }
}

/// The validated inputs of a build: the result of [`check`].
pub struct Checked {
    pub config: Config,
    /// Shared, so that a preview can reuse it for the next build while the theme's files do not change.
    pub theme: Arc<Theme>,
    pub content: Content,
    /// Every published version of each document, from git.
    pub versions: versions::Versions,
    /// The search's German glossary: built in, plus the site's `content/daten/suche.toml`.
    pub glossary: search::german::Glossary,
}

impl Checked {
    /// What the render stage renders this site from, for `today`, with the store's index of the last
    /// build (`previous`).
    pub fn render_inputs<'a>(
        &'a self,
        today: NaiveDate,
        previous: Option<&'a reuse::Index>,
    ) -> render::Inputs<'a> {
        render::Inputs {
            config: &self.config,
            content: &self.content,
            theme: &self.theme,
            versions: &self.versions,
            today,
            previous,
        }
    }

    /// The page of the document or register entry at `rel` (a source path) as it is on disk now, rendered
    /// as a whole build would render it, when the change since this check touched nothing but that page (see
    /// [`Content::reread`](content::Content::reread)): what `serve` shows while the rebuild runs. `None` when only a whole build
    /// can tell what the change does.
    pub fn edited_page(&self, root: &Path, rel: &str, today: NaiveDate) -> Option<OutputFile> {
        let labels = self.theme.markdown_labels();
        let settings = RenderSettings::new(&self.config, &labels);
        let edited = self.content.reread(root, rel, &settings)?;
        if let content::Edited::Entry(entry) = &edited {
            // The rules across files, as the build checks them (its id is the one it had, so it is still
            // the only entry with it).
            let generated = render::generated_paths(&self.theme, &self.content);
            let context = validate::Context {
                config: &self.config,
                generated_paths: &generated,
                today,
            };
            if !validate::register_entry(entry, &self.content, &context).is_empty() {
                return None;
            }
        }
        render::edited_page(
            &self.config,
            &self.content,
            &self.theme,
            &self.versions,
            today,
            &edited,
        )?
        .ok()
    }
}

/// A successful build.
#[derive(Debug)]
pub struct Built {
    /// Warnings (a successful build has no errors).
    pub diagnostics: Diagnostics,
    pub files: usize,
    pub timings: Vec<(&'static str, Duration)>,
    /// What the search stage indexed and how much of it came from the cache.
    pub search: search::Report,
    /// What was reused from the last build's version pages and what was rendered anew.
    pub versions: reuse::Counts,
    /// How many of the other pages were reused and how many rendered anew.
    pub pages: reuse::PageCounts,
    /// Leftovers of interrupted earlier builds, being deleted in the background. Usually nothing; a
    /// program that ends after the build should [`output::Removal::wait`] for it, or the deletion stops
    /// half-way and the next build starts it again.
    pub cleanup: output::Removal,
    /// Every file of the written site with its hash: what changed since an earlier build
    /// ([`output::changed_paths`]).
    pub manifest: output::Manifest,
}

/// What an earlier build hands to the next one in the same process (`serve`), through [`render_with`]: the
/// checked site it rendered. Its theme spares a rebuild after a content change reading and parsing the
/// templates again, its rendered Markdown bodies ([`content::Bodies`]) rendering unchanged files again, and
/// the whole of it lets `serve` show an edited page before the rebuild ([`Checked::edited_page`]). The caller drops it
/// when a file under `themes/` or `regelwerk.toml` changes; the theme is also ignored when the configured
/// theme or language differs, a body when its text or the site's links changed.
#[derive(Clone)]
pub struct Warm {
    checked: Arc<Checked>,
}

impl Warm {
    /// The checked site the build rendered.
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// The rendered Markdown bodies, for the next build or the content cache.
    pub fn bodies(&self) -> &content::Bodies {
        &self.checked.content.bodies
    }
}

/// A site checked and rendered in memory, before the search stage ([`render_pages`]): its pages and
/// other files, not yet written. [`Paged::index`] makes its search index; [`render_with`] does both.
pub struct Paged {
    /// The rendered files, sorted by path (after [`Paged::with_index`], with the index's files; before
    /// [`Paged::complete`], without the history's).
    pub files: Vec<OutputFile>,
    /// Files reused from an earlier build, linked into the output instead of written (before
    /// [`Paged::complete`], without the history's).
    pub links: output::Linked,
    /// Where reused version pages come from, and where this build's are kept for the next.
    pub store: reuse::Store,
    /// The store's index as this build found it (none when nothing was reused).
    pub stored: Option<reuse::Index>,
    /// Which documents' version pages were reused and which rendered (none before [`Paged::complete`]).
    pub versions: reuse::VersionPages,
    /// Which current pages were reused and which rendered.
    pub current: reuse::CurrentPages,
    /// The history's pages, until they are rendered ([`Paged::complete`]): `files`, `links`, `versions`
    /// and `current` then hold them too.
    history: Option<PendingHistory>,
    /// The page store's save, if it was made ready beside the search ([`reuse::Store::prepare`]).
    store_save: Option<reuse::PreparedSave>,
    /// Warnings (a rendered site has no errors).
    pub diagnostics: Diagnostics,
    pub timings: Vec<(&'static str, Duration)>,
    /// The theme and Markdown bodies this run used, for the next run's [`render_with`].
    pub warm: Warm,
    /// The content cache as this run read it from the cache folder (empty when `warm` came from an
    /// earlier run of this process): [`content::Bodies::save`] writes what changed since.
    pub earlier_bodies: content::Bodies,
    /// The search stage's cache files, not yet written when [`BuildOptions::defer_cache_writes`] asked
    /// for it: [`cache::Writes::flush`] writes them.
    pub cache_writes: cache::Writes,
    /// [`BuildOptions::process_ends`]: what [`Paged::save_caches`] leaves is not freed.
    process_ends: bool,
}

/// The search index of a [`Paged`] site ([`Paged::index`]).
pub struct Indexed {
    /// The index's files, sorted by path.
    pub files: Vec<OutputFile>,
    /// What the search stage indexed and how much of it came from the cache.
    pub report: search::Report,
    /// How long it took.
    pub took: Duration,
}

/// A site checked and rendered in memory with its search index, not yet written: what [`build`] writes
/// and what [`publish`] turns into a release.
pub struct Rendered {
    /// The site's files, the index's among them.
    pub site: Paged,
    /// What the search stage indexed and how much of it came from the cache.
    pub search: search::Report,
}

/// Why a build did not publish.
#[derive(Debug)]
pub enum BuildError {
    /// The content has errors: nothing was written.
    Invalid(Diagnostics),
    /// Writing the output failed: the previous output is unchanged.
    Output {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// The date a run measures reviews against: `SOURCE_DATE_EPOCH` (seconds, for reproducible builds)
/// when set, otherwise today's date.
pub fn today() -> NaiveDate {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map(|dt| dt.date_naive())
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// Reads and validates a site: every problem of every file, without writing anything.
pub fn check(
    root: &Path,
    base_url: Option<&str>,
    today: NaiveDate,
) -> (Option<Checked>, Diagnostics) {
    let cache = root.join(CACHE_DIR);
    let (checked, diagnostics, _) =
        check_timed(root, base_url, today, None, &cache, &mut Vec::new());
    if checked.as_ref().is_some_and(|c| c.content.bodies.damaged()) {
        // A text in the content cache was not what it should be (see `text`): checked again without it.
        let _ = std::fs::remove_dir_all(cache.join(content::CACHE_DIR));
        return check(root, base_url, today);
    }
    (checked, diagnostics)
}

/// [`check`], with what an earlier run left: `reuse` from this process (`serve`), else the content cache
/// of the last build in the cache folder `cache`. Also returns the content cache as it was read (empty
/// with `reuse`).
fn check_timed(
    root: &Path,
    base_url: Option<&str>,
    today: NaiveDate,
    reuse: Option<&Warm>,
    cache: &Path,
    timings: &mut Vec<(&'static str, Duration)>,
) -> (Option<Checked>, Diagnostics, content::Bodies) {
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };

    // History does not depend on the content: it is read while the configuration, the theme and the
    // content load.
    let history = {
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            // The front matter of the versions the last build saw is read while git reads the log.
            let (fronts, log) = std::thread::scope(|scope| {
                let fronts = scope
                    .spawn(|| versions::fronts::Cache::load(&root.join(history::git::CACHE_DIR)));
                let log = history::History::log(&history::for_site(&root), &["content"]);
                (fronts.join().unwrap_or_default(), log)
            });
            versions::build(&log, fronts)
        })
    };
    let earlier = reuse.is_none().then(|| {
        let cache = cache.to_path_buf();
        std::thread::spawn(move || content::Bodies::load(&cache))
    });

    let (config, mut diagnostics) = config::load(root);
    let Some(mut config) = config else {
        // Waited for, so that it never writes its cache beside the next run's.
        let _ = history.join();
        return (
            None,
            Diagnostics::new(diagnostics),
            content::Bodies::default(),
        );
    };
    if let Some(url) = base_url {
        config.base_url = url.to_string();
        config.base_path =
            url::Url::parse(url).map_or_else(|_| "/".into(), |u| u.path().to_string());
    }
    lap("config", timings);

    let reusable = reuse.map(Warm::checked).filter(|earlier| {
        earlier.config.theme == config.theme && earlier.config.language == config.language
    });
    // The theme of an earlier run, or one being loaded: its templates are parsed while the content loads.
    let theme = if let Some(earlier) = reusable {
        ThemeSource::Earlier(Arc::clone(&earlier.theme))
    } else {
        let (loading, theme_diagnostics) = theme::start(root, &config);
        diagnostics.extend(theme_diagnostics);
        let Some(loading) = loading else {
            let _ = history.join();
            return (
                None,
                Diagnostics::new(diagnostics),
                content::Bodies::default(),
            );
        };
        ThemeSource::Loading(Box::new(loading))
    };
    lap("theme", timings);

    let labels = match &theme {
        ThemeSource::Earlier(theme) => theme.markdown_labels(),
        ThemeSource::Loading(loading) => loading.markdown_labels(),
    };
    let settings = RenderSettings::new(&config, &labels);
    let earlier = earlier
        .and_then(|loading| loading.join().ok())
        .unwrap_or_default();
    let bodies = reuse.map_or(&earlier, Warm::bodies);
    let (content, content_diagnostics) = content::load(root, &settings, Some(bodies));
    diagnostics.extend(content_diagnostics);
    let (glossary, glossary_diagnostics) = search::load_glossary(root);
    diagnostics.extend(glossary_diagnostics);
    lap("content", timings);

    let theme = match theme {
        ThemeSource::Earlier(theme) => Some(theme),
        ThemeSource::Loading(loading) => loading
            .finish()
            .map_err(|diagnostic| diagnostics.push(diagnostic))
            .ok()
            .map(Arc::new),
    };
    lap("templates", timings);
    let Some(theme) = theme else {
        let _ = history.join();
        return (None, Diagnostics::new(diagnostics), earlier);
    };

    let generated = render::generated_paths(&theme, &content);
    diagnostics.extend(validate::validate(
        &content,
        &validate::Context {
            config: &config,
            generated_paths: &generated,
            today,
        },
    ));
    lap("validate", timings);

    let versions = history
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    diagnostics.extend(versions::diagnostics(&versions));
    lap("history", timings);

    let diagnostics = Diagnostics::new(diagnostics);
    if diagnostics.has_errors() {
        return (None, diagnostics, earlier);
    }
    (
        Some(Checked {
            config,
            theme,
            content,
            versions,
            glossary,
        }),
        diagnostics,
        earlier,
    )
}

/// Where a check takes its theme from: the last run of the process, or files whose templates are being
/// parsed.
enum ThemeSource {
    Earlier(Arc<Theme>),
    Loading(Box<theme::Loading>),
}

/// Checks and renders the site in memory, reusing what an earlier run in this process left (`warm`) where it
/// still applies, and makes its search index when `options.search` asks for it. Writes nothing;
/// `options.output` is only checked not to contain the site.
pub fn render_with(options: &BuildOptions, warm: Option<&Warm>) -> Result<Rendered, BuildError> {
    let mut site = render_pages(options, warm)?;
    site.complete()?;
    if !options.search {
        return Ok(Rendered {
            site,
            search: search::Report::default(),
        });
    }
    match site.index(options) {
        Err(_) if site.stored_pages_missing() => {
            // Pages of the store have gone missing (a cache cleared by hand): without the store, they
            // are rendered again.
            let _ = site.store.forget();
            render_with(options, warm)
        }
        indexed => Ok(site.with_index(indexed?)),
    }
}

/// Checks and renders the site in memory, like [`render_with`], but without the search stage: the caller
/// runs [`Paged::index`] (`publish` does while it writes the pages).
pub fn render_pages(options: &BuildOptions, warm: Option<&Warm>) -> Result<Paged, BuildError> {
    let mut timings = Vec::new();
    // The page store's index is read while the site is checked.
    let store = reuse::Store::new(&options.cache);
    let index = std::thread::spawn({
        let store = store.clone();
        move || store.index()
    });
    let (checked, diagnostics, earlier_bodies) = check_timed(
        &options.root,
        options.base_url.as_deref(),
        options.today,
        warm,
        &options.cache,
        &mut timings,
    );
    let Some(checked) = checked else {
        return Err(BuildError::Invalid(diagnostics));
    };
    if is_inside(&options.root, &options.output) {
        let message = format!(
            "Das Ausgabeverzeichnis {} enthält die Website selbst. Wählen Sie mit --output einen eigenen Ordner, z. B. public.",
            options.output.display()
        );
        return Err(BuildError::Output {
            path: options.output.clone(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        });
    }
    let clock = Instant::now();
    // Reused pages are not in memory, so the search could not index them: with historical pages in the
    // search, everything is rendered.
    let index = if checked.config.search.include_history {
        None
    } else {
        Some(index.join().unwrap_or_default())
    };
    let (site, made) =
        render::render_current(&checked.render_inputs(options.today, index.as_ref()))
            .map_err(|errors| BuildError::Invalid(Diagnostics::new(errors)))?;
    if checked.content.bodies.damaged() {
        // A text in the content cache (a file's, a body's HTML) was not what it should be (see `text`):
        // the cache goes, and the site is made again without it, before anything is written.
        let _ = std::fs::remove_dir_all(options.cache.join(content::CACHE_DIR));
        drop(site);
        return render_pages(options, None);
    }
    let links = links_to(&store, &site);
    timings.push(("render", clock.elapsed()));
    let cache_writes = if options.defer_cache_writes {
        cache::Writes::deferred()
    } else {
        cache::Writes::immediate()
    };
    let include_history = checked.config.search.include_history;
    let mut paged = Paged {
        files: site.files,
        links,
        store,
        stored: index,
        versions: site.versions,
        current: site.current,
        history: Some(PendingHistory {
            made,
            today: options.today,
        }),
        store_save: None,
        diagnostics,
        timings,
        warm: Warm {
            checked: Arc::new(checked),
        },
        earlier_bodies,
        cache_writes,
        process_ends: options.process_ends,
    };
    if include_history {
        // The search reads the version pages too.
        paged.complete()?;
    }
    Ok(paged)
}

/// The files of `site` that are taken from the store: linked into the output from `store`, the
/// documents' version pages reused whole as groups.
fn links_to(store: &reuse::Store, site: &render::Site) -> output::Linked {
    let stored_files: Arc<Path> = Arc::from(store.files_dir());
    let reused: Vec<&reuse::StoredFile> =
        site.versions.reused().chain(&site.current.reused).collect();
    output::Linked {
        files: reused
            .par_iter()
            .map(|f| output::Link {
                path: f.path.clone(),
                hash: f.hash,
                dir: Arc::clone(&stored_files),
            })
            .collect(),
        groups: site
            .versions
            .bundles()
            .map(|bundle| output::Group {
                bundle: bundle.clone(),
                dir: Arc::clone(&stored_files),
            })
            .collect(),
    }
}

/// The pages of the site's history, not rendered yet ([`render::render_history`]): no search reads them
/// (unless `search.include_history` is set), so a build renders them while the search runs.
struct PendingHistory {
    /// What the other pages' part made, for the sitemap.
    made: render::CurrentMade,
    today: NaiveDate,
}

/// The pages of the site's history, rendered ([`Paged::render_history`]), with the site's other pages:
/// everything there is to write.
pub(crate) struct WithHistory {
    /// All the site's rendered files, sorted by path.
    files: Vec<OutputFile>,
    /// All files taken from the store.
    links: output::Linked,
    versions: reuse::VersionPages,
    /// Which of the history's site-wide pages were reused and which rendered.
    current: reuse::CurrentPages,
    took: Duration,
}

impl Paged {
    /// The search stage: indexes the rendered pages and those reused from the store. Reads nothing but
    /// the pages and the search caches, so it may run while the pages are written.
    pub fn index(&self, options: &BuildOptions) -> Result<Indexed, BuildError> {
        let clock = Instant::now();
        let checked = self.warm.checked();
        let settings = search::Settings {
            language: &checked.config.language,
            base_path: &checked.config.base_path,
            include_history: checked.config.search.include_history,
            glossary: &checked.glossary,
            cache: Some(options.cache.join(search::CACHE_DIR)),
            writes: &self.cache_writes,
            max_shard_pages: search::MAX_SHARD_PAGES,
            min_shard_pages: search::MIN_SHARD_PAGES,
        };
        let backend: &dyn search::Backend = match checked.config.search.backend {
            config::SearchBackend::Native => &search::native::Native,
            config::SearchBackend::Pagefind => &search::pagefind::Pagefind,
        };
        let (files, report) = search::index(&self.files, &self.stored_pages(), &settings, backend)
            .map_err(|error| BuildError::Output {
                path: options.output.join(search::OUTPUT_DIR),
                error: std::io::Error::other(error),
            })?;
        Ok(Indexed {
            files,
            report,
            took: clock.elapsed(),
        })
    }

    /// Renders the pages of the site's history, if they are not yet (see `PendingHistory`).
    pub fn complete(&mut self) -> Result<(), BuildError> {
        if let Some(history) = self.render_history()? {
            self.with_history(history);
        }
        Ok(())
    }

    /// The pages of the site's history with the site's other files, if they are not rendered yet. Reads
    /// nothing the search writes, so it may run while the search does.
    pub(crate) fn render_history(&self) -> Result<Option<WithHistory>, BuildError> {
        let Some(pending) = &self.history else {
            return Ok(None);
        };
        let clock = Instant::now();
        let checked = self.warm.checked();
        let history = render::render_history(
            &checked.render_inputs(pending.today, self.stored.as_ref()),
            &pending.made,
        )
        .map_err(|errors| BuildError::Invalid(Diagnostics::new(errors)))?;
        let mut links = links_to(&self.store, &history);
        links.files.extend(self.links.files.iter().cloned());
        links.groups.extend(self.links.groups.iter().cloned());
        let mut files = history.files;
        files.extend(self.files.iter().cloned());
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Some(WithHistory {
            files,
            links,
            versions: history.versions,
            current: history.current,
            took: clock.elapsed(),
        }))
    }

    /// The site with the pages of its history ([`Paged::render_history`]).
    pub(crate) fn with_history(&mut self, history: WithHistory) {
        self.files = history.files;
        self.links = history.links;
        self.versions = history.versions;
        self.current.append(history.current);
        self.timings.push(("versions", history.took));
        self.history = None;
    }

    /// The site with what [`Paged::write_beside_search`] made beside the search.
    pub(crate) fn with_beside(mut self, beside: Beside) -> Rendered {
        if let Some(history) = beside.history {
            self.with_history(history);
        }
        self.store_save = beside.store_save;
        self.with_index(beside.index)
    }

    /// The site with its search index.
    pub fn with_index(mut self, indexed: Indexed) -> Rendered {
        self.files.extend(indexed.files);
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.timings.push(("search", indexed.took));
        Rendered {
            site: self,
            search: indexed.report,
        }
    }

    /// The reused pages the search takes part of its index from, read from the store.
    fn stored_pages(&self) -> Vec<search::StoredPage<'_>> {
        self.current
            .reused
            .iter()
            .filter_map(|f| {
                Some(search::StoredPage {
                    path: &f.path,
                    hash: f.hash,
                    searchable: f.search?,
                    source: self.store.file(&f.hash),
                })
            })
            .collect()
    }

    /// Whether reused pages the search reads have gone missing from the store (a cache cleared by hand).
    pub fn stored_pages_missing(&self) -> bool {
        self.stored_pages().iter().any(|page| !page.source.exists())
    }

    /// After writing the site failed (with `error`, if it was the writing): whether a cache was at fault,
    /// which is then removed, so that the site can be made again without it. A search file from the cache
    /// that did not hold its recorded hash ([`output::damaged_cache`]) takes the search cache with it;
    /// pages of the store gone missing (a cache cleared by hand), the store's index.
    pub fn forget_failed_cache(&self, error: Option<&std::io::Error>, cache: &Path) -> bool {
        if error.is_some_and(output::damaged_cache) {
            let _ = std::fs::remove_dir_all(cache.join(search::CACHE_DIR));
            true
        } else if output::sources_missing(&self.links) || self.stored_pages_missing() {
            let _ = self.store.forget();
            true
        } else {
            false
        }
    }

    /// After the site was written to `written_to`: saves what later runs reuse — the search stage's
    /// deferred cache files, the page store (its index and the pages rendered now), and the content cache
    /// (when `save_bodies`; `serve` keeps its bodies in memory) — and frees the site's files on another
    /// thread. Caches that cannot be saved only cost the next run time.
    pub fn save_caches(self, written_to: &Path, cache: &Path, save_bodies: bool) -> Saved {
        let Paged {
            files,
            links,
            store,
            stored,
            versions,
            current,
            history: _,
            store_save,
            diagnostics,
            timings,
            warm,
            earlier_bodies,
            cache_writes,
            process_ends,
        } = self;
        cache_writes.flush();
        let _ = match store_save {
            Some(prepared) => store.commit(prepared, written_to),
            None => store.save(stored.as_ref(), &versions, &current, &files, written_to),
        };
        if save_bodies {
            let _ = warm.bodies().save(cache, &earlier_bodies);
        }
        let saved = Saved {
            files: files.len() + links.len(),
            versions: versions.counts(),
            pages: current.counts(),
            diagnostics,
            timings,
            warm,
        };
        let_go(
            (files, links, stored, versions, current, earlier_bodies),
            process_ends,
        );
        saved
    }
}

/// What is left of a site once it is written and its caches saved ([`Paged::save_caches`]).
pub struct Saved {
    /// How many files the site has.
    pub files: usize,
    /// Which documents' version pages were reused and which rendered.
    pub versions: reuse::Counts,
    /// Which current pages were reused and which rendered.
    pub pages: reuse::PageCounts,
    /// Warnings of the build.
    pub diagnostics: Diagnostics,
    pub timings: Vec<(&'static str, Duration)>,
    /// What the next run in this process may reuse.
    pub warm: Warm,
}

/// Why writing a site with its search index beside it ([`Paged::write_beside_search`]) failed.
pub(crate) enum WriteFailure {
    Io(std::io::Error),
    /// The search, or rendering the history's pages, failed.
    Build(BuildError),
}

impl From<std::io::Error> for WriteFailure {
    fn from(error: std::io::Error) -> Self {
        WriteFailure::Io(error)
    }
}

/// What [`Paged::write_beside_search`] made besides writing ([`Paged::with_beside`] takes it).
pub(crate) struct Beside {
    /// The search index.
    index: Indexed,
    /// The pages of the history, if they were not rendered yet.
    history: Option<WithHistory>,
    /// The page store's save, made ready (none if that failed: then it is made when it is saved).
    store_save: Option<reuse::PreparedSave>,
}

/// The site's search stage running on another thread ([`Paged::index`]).
pub(crate) type SearchThread<'scope> =
    std::thread::ScopedJoinHandle<'scope, Result<Indexed, BuildError>>;

impl Paged {
    /// Writes the site's pages into `staging` while its search stage runs on `search` (started by the
    /// caller before it opened the staging folder), then the index's files; returns the index. Pages of the
    /// history not rendered yet are rendered first, beside the search (and returned, for
    /// [`Paged::with_history`]).
    pub(crate) fn write_beside_search(
        &self,
        staging: &mut output::Staging,
        search: SearchThread,
    ) -> Result<Beside, WriteFailure> {
        let history = beside_the_search(|| self.render_history()).map_err(WriteFailure::Build)?;
        let (files, links) = history
            .as_ref()
            .map_or((&self.files, &self.links), |h| (&h.files, &h.links));
        let pages = staging.write(files, links, output::Part::Outside(search::OUTPUT_DIR));
        // What the page store will save is known now: made ready while the search still runs, so that
        // after it only the writing is left.
        let store_save = beside_the_search(|| match &history {
            Some(history) => {
                let mut current = self.current.clone();
                current.append(history.current.clone());
                self.store
                    .prepare(self.stored.as_ref(), &history.versions, &current, files)
            }
            None => self
                .store
                .prepare(self.stored.as_ref(), &self.versions, &self.current, files),
        });
        let index = search
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            .map_err(WriteFailure::Build)?;
        pages?;
        staging.write(
            &index.files,
            &output::Linked::default(),
            output::Part::Inside(search::OUTPUT_DIR),
        )?;
        Ok(Beside {
            index,
            history,
            store_save: store_save.ok(),
        })
    }
}

/// Runs `work`, which may use rayon, on threads of lower priority (nice 10 on Linux) than the search
/// beside it: the work takes what the search leaves of the cores instead of slowing it down. Rendering
/// the history's pages on rayon's own threads made the search stage of a one-commit rebuild (history
/// corpus) 4–9 ms longer. If the threads cannot be started, `work` runs where it is.
fn beside_the_search<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
            .thread_name(|i| format!("nebenher-{i}"))
            .start_handler(|_| {
                // Per thread on Linux; a nice value that cannot be set leaves the thread as it is.
                #[cfg(target_os = "linux")]
                let _ = rustix::process::setpriority_process(None, 10);
            })
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Writes the pages of `site` into the output while its search index is made on another thread (when
/// `options.search` asks for one), then the index's files; the output is replaced once all is written.
/// The pages of the site's history are rendered beside the search ([`Paged::write_beside_search`]);
/// without a search, `site` must be [complete](Paged::complete).
fn write_indexing(
    options: &BuildOptions,
    site: &Paged,
) -> Result<(Option<Beside>, output::Written), WriteFailure> {
    let mut indexed = None;
    // The search starts first: reading the spare's manifest is part of the writing.
    let written = std::thread::scope(|scope| {
        let search = options.search.then(|| scope.spawn(|| site.index(options)));
        output::write_atomically_with(&options.output, |staging| {
            match search {
                Some(search) => indexed = Some(site.write_beside_search(staging, search)?),
                // Without a search index, the site is all of the output: an index an earlier
                // build left in the spare goes too.
                None => staging.write(&site.files, &site.links, output::Part::All)?,
            }
            Ok::<(), WriteFailure>(())
        })
    })?;
    Ok((indexed, written))
}

/// Drops `value` on another thread: freeing a whole site's documents, versions or pages takes
/// milliseconds the build need not wait for. (If the thread cannot be started, it is dropped here.)
pub(crate) fn drop_later<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("freigeben".into())
        .spawn(move || drop(value));
}

/// Lets go of what a build made: left to the operating system when the process ends with the build
/// ([`BuildOptions::process_ends`]), else freed on another thread ([`drop_later`]).
fn let_go<T: Send + 'static>(value: T, process_ends: bool) {
    if process_ends {
        std::mem::forget(value);
    } else {
        drop_later(value);
    }
}

/// Checks, renders and writes the site; the output is replaced only if everything succeeded.
pub fn build(options: &BuildOptions) -> Result<Built, BuildError> {
    build_with(options, None).map(|(built, warm)| {
        let_go(warm, options.process_ends);
        built
    })
}

/// [`build`], reusing what an earlier run in this process left where it still applies (see [`Warm`]);
/// returns what the next run may reuse.
pub fn build_with(
    options: &BuildOptions,
    warm: Option<&Warm>,
) -> Result<(Built, Warm), BuildError> {
    let mut site = render_pages(options, warm)?;
    if !options.search {
        site.complete()?;
    }
    let clock = Instant::now();
    let output_error = |error| BuildError::Output {
        path: options.output.clone(),
        error,
    };
    // The previous site is deleted in the background (see [`output`]).
    let (rendered, written) = match write_indexing(options, &site) {
        Ok((Some(beside), written)) => (site.with_beside(beside), written),
        Ok((None, written)) => (
            Rendered {
                site,
                search: search::Report::default(),
            },
            written,
        ),
        Err(failure) => {
            let error = match &failure {
                WriteFailure::Io(error) => Some(error),
                WriteFailure::Build(_) => None,
            };
            if !site.forget_failed_cache(error, &options.cache) {
                return Err(match failure {
                    WriteFailure::Io(error) => output_error(error),
                    WriteFailure::Build(error) => error,
                });
            }
            // Without the cache at fault, the site is made again and written in one part.
            drop(site);
            let rendered = render_with(options, warm)?;
            let written = output::write_atomically(
                &options.output,
                &rendered.site.files,
                &rendered.site.links,
            )
            .map_err(output_error)?;
            (rendered, written)
        }
    };
    let output::Written { cleanup, manifest } = written;
    let Saved {
        files,
        versions,
        pages,
        diagnostics,
        mut timings,
        warm: next,
    } = rendered
        .site
        .save_caches(&options.output, &options.cache, warm.is_none());
    timings.push(("output", clock.elapsed()));
    Ok((
        Built {
            diagnostics,
            files,
            timings,
            search: rendered.search,
            versions,
            pages,
            cleanup,
            manifest,
        },
        next,
    ))
}

/// Whether `output` is the site root itself or one of its ancestors (replacing it would delete the site).
fn is_inside(root: &Path, output: &Path) -> bool {
    let (Ok(root), Ok(output)) = (root.canonicalize(), absolute_lexical(output)) else {
        return false;
    };
    root.starts_with(output)
}

fn absolute_lexical(path: &Path) -> std::io::Result<PathBuf> {
    match path.canonicalize() {
        Ok(p) => Ok(p),
        Err(_) => std::path::absolute(path),
    }
}
