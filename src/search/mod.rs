//! The search stage: rendered pages → a static search index in `pagefind/`, split into shards that the
//! browser merges.
//!
//! ```text
//! render → search → output
//! ```
//!
//! - **What is indexed**: every HTML page whose `<main>` carries `data-pagefind-body` (the theme's
//!   convention, see ARCHITECTURE.md). Pages that also carry `data-regelwerk-historie` (Stand, Fassung,
//!   Synopse) only with `[search] include_history = true`.
//! - **German**: each section of a page gets index-only terms at its end ([`german`], [`html`]): the
//!   parts of closed compounds and the glossary's forms. The published page is unchanged.
//! - **Shards**: one index per top-level section of the site (`leitlinien`, `register`, …; historical
//!   pages in `historie`), sections under [`MIN_SHARD_PAGES`] pages together: in the shard of the smallest
//!   other section they fit into, else in `gemeinsam`; a section of more than [`MAX_SHARD_PAGES`] pages
//!   split into buckets by a consistent hash of the URL. Memory grows
//!   with the largest shard, not with the site. The search page loads the first shard and merges the
//!   others (`pagefind/indexes.json` lists them).
//! - **Cache** (under `<root>/.regelwerk-cache/search/`), so that a rebuild does work in proportion to
//!   what changed, and writes exactly what a clean build writes:
//!   1. each page's section words (the one scan of a page for the German terms) in the store
//!      `pages/words`, keyed by the page's HTML, with the key of the page's extra terms and of the
//!      expansions they were made with; the lexicon and the expansions are made anew each build (they
//!      depend on the whole site's words), a page's terms only when the expansions changed or the page
//!      is read;
//!   2. a whole shard's files in `<shard>.pack` (and the changes since its last full write in
//!      `<shard>.pack-neu`) with the key of the build that made them, a hash over the backend version,
//!      language, and every page's URL, HTML and extra terms: an unchanged shard is taken as it is;
//!   3. for the native index, each page's read data ([`native::PageData`]) in the store
//!      `pages/shard-<shard>`, keyed by backend, language, URL, HTML and extra terms: a changed shard
//!      reads only its changed pages (and those whose extra terms changed), then writes the index anew,
//!      gzipping only files whose content is new (the others come from the previous pack);
//!   4. for the native index, what the shard's index was made of (`<shard>.state`,
//!      [`native::state`]): when the shard has the same pages as then, the last build's index is
//!      updated with the changed pages' words ([`native::update`]) instead of written from all pages.
//!
//!   The stores ([`store`]) are a few checksummed bucket files each; damaged or foreign cache files are
//!   ignored (the pages are read again).
//!
//! The index itself is behind [`SearchIndex`]: [`native::Native`] (the default) writes Pagefind's index
//! format itself; [`pagefind::Pagefind`] builds the same index with Pagefind's library
//! (`[search] backend = "pagefind"`).

pub mod german;
pub mod html;
pub mod native;
pub mod pagefind;
pub mod store;
mod vocabulary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Rule, SourceText};
use crate::render::OutputFile;
use german::{Glossary, GlossaryFile};
use html::Searchable;
use store::{Decoder, Encoder, Entry, Key, Store};
use vocabulary::Vocabulary;

/// Where the index is written inside the site.
pub const OUTPUT_DIR: &str = "pagefind/";
/// The list of shards the search page merges (`{"indexes": ["leitlinien/", …]}`, relative to
/// [`OUTPUT_DIR`]).
pub const MANIFEST: &str = "pagefind/indexes.json";
/// The cache of built shards, inside the cache folder ([`crate::BuildOptions::cache`]).
pub const CACHE_DIR: &str = "search";
/// A section with more pages than this is split into several shards. Every shard costs the browser an
/// index chunk per query word and its page list, so shards are as large as memory allows: Pagefind needs
/// about 0.2 GB per 1,000 pages while it indexes (BENCHMARKS.md).
pub const MAX_SHARD_PAGES: usize = 10_000;
/// Sections with fewer pages than this share a shard: the smallest other section's they fit into, else
/// `SHARED_SHARD`.
pub const MIN_SHARD_PAGES: usize = 1_000;
/// Shards are built two at a time only while the largest has at most this many pages; larger ones one
/// after the other, so that the memory of the search stage stays near that of one shard.
const PARALLEL_SHARD_PAGES: usize = 5_000;
/// Pages handed to an index at a time (their HTML with the extra terms is held in memory meanwhile).
const BATCH_PAGES: usize = 256;
/// The shard of the small sections when no other section has room for them.
const SHARED_SHARD: &str = "gemeinsam";
/// The shard of historical pages.
const HISTORY_SHARD: &str = "historie";
/// The shard of pages at the top of the site.
const ROOT_SHARD: &str = "start";

/// A failure of the search index backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError(pub String);

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Suchindex: {}", self.0)
    }
}

impl std::error::Error for SearchError {}

/// One file of an index, its path relative to the index's folder: owned bytes, or a part of the shard's
/// cached pack, mapped (see `read_shard_files`), with the hash the cache recorded.
pub type IndexFile = OutputFile;

/// One search index being built: pages in, files out.
pub trait SearchIndex {
    /// Adds a page: its URL as the browser opens it, and the HTML to index.
    fn add_page(&mut self, url: &str, html: String) -> Result<(), SearchError>;
    /// Adds pages (URL, HTML) in this order; an index may read them in parallel.
    fn add_pages(&mut self, pages: Vec<(String, String)>) -> Result<(), SearchError> {
        for (url, html) in pages {
            self.add_page(&url, html)?;
        }
        Ok(())
    }
    /// Builds the index and returns its files, sorted by path.
    fn files(self: Box<Self>) -> Result<Vec<IndexFile>, SearchError>;
}

/// Makes search indexes.
pub trait Backend: Sync {
    /// Name and version, part of the cache key.
    fn id(&self) -> &str;
    /// A new, empty index for pages in `language`.
    fn new_index(&self, language: &str) -> Result<Box<dyn SearchIndex>, SearchError>;
    /// The native index, if this backend is it: the search stage then keeps each page's read data
    /// ([`native::PageData`]) in the cache and reads only pages that changed.
    fn native(&self) -> Option<&native::Native> {
        None
    }
}

/// How the search stage indexes a site.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    /// The site's language (`de`): stemming.
    pub language: &'a str,
    /// The site's base path (`/`, `/ki/`): the start of every result URL.
    pub base_path: &'a str,
    /// Index historical pages too (`[search] include_history`).
    pub include_history: bool,
    pub glossary: &'a Glossary,
    /// The cache folder ([`CACHE_DIR`] in the build's cache folder), or `None` for no cache.
    pub cache: Option<PathBuf>,
    /// Where the cache's files are written (at once, or after the build: see [`crate::cache::Writes`]).
    pub writes: &'a crate::cache::Writes,
    /// See [`MAX_SHARD_PAGES`].
    pub max_shard_pages: usize,
    /// See [`MIN_SHARD_PAGES`].
    pub min_shard_pages: usize,
}

/// What the search stage did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Pages indexed.
    pub pages: usize,
    /// Shards written.
    pub shards: usize,
    /// Shards indexed anew (the others came from the cache).
    pub rebuilt: usize,
    /// Pages of those shards read anew (the native index takes the others from the per-page cache).
    pub read: usize,
    /// Of the shards indexed anew, those whose index of the last build was updated in place (native
    /// index, the same pages as then); the others were written from all their pages.
    pub updated: usize,
}

/// Reads the site's glossary additions (`content/daten/suche.toml`) on top of the built-in glossary.
pub fn load_glossary(root: &Path) -> (Glossary, Vec<Diagnostic>) {
    let text = match std::fs::read_to_string(root.join(german::SITE_FILE)) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return (Glossary::default(), Vec::new());
        }
        Err(err) => {
            let message = format!(
                "Die Datei kann nicht gelesen werden ({err}). Speichern Sie sie als UTF-8."
            );
            return (
                Glossary::default(),
                vec![Diagnostic::file(german::SITE_FILE, Rule::S1, message)],
            );
        }
    };
    match GlossaryFile::parse(&text) {
        Ok(file) => (Glossary::new(Some(file)), Vec::new()),
        Err(err) => {
            let source = SourceText::new(german::SITE_FILE, text);
            let detail = err.message().trim().to_string();
            let rule = if detail.contains("unknown field") {
                Rule::S2
            } else if detail.contains("invalid type") {
                Rule::S3
            } else {
                Rule::S1
            };
            let message = format!(
                "Das Suchglossar ist fehlerhaft: {detail}. Erlaubt sind min_teil (Zahl), teile und \
                 keine_teile (Listen von Wörtern) und die Tabelle [begriffe] (Wort = [\"Begriff\", …])."
            );
            let diagnostic = match err.span() {
                Some(span) => Diagnostic::at(&source, span, rule, message),
                None => Diagnostic::file(german::SITE_FILE, rule, message),
            };
            (Glossary::default(), vec![diagnostic])
        }
    }
}

/// A shard's name, its files and, if it was indexed anew, what was done ([`Rebuilt`]).
type BuiltShard = (String, Vec<IndexFile>, Option<Rebuilt>);

/// What indexing a shard anew took.
#[derive(Debug, Clone, Copy)]
struct Rebuilt {
    /// Pages read.
    read: usize,
    /// The index of the last build was updated in place.
    updated: bool,
}

/// A page to index.
struct Page<'a> {
    /// The URL the browser opens (`/leitlinien/x/`).
    url: String,
    /// The file's path in the site (`leitlinien/x/index.html`).
    path: &'a str,
    html: PageHtml<'a>,
    /// blake3 of the HTML.
    hash: Key,
    history: bool,
}

/// Where a page's HTML is: rendered by this build, or a file of an earlier build's (read only when the
/// caches do not have what the search needs of it).
enum PageHtml<'a> {
    Rendered(&'a str),
    Stored(&'a Path),
}

impl Page<'_> {
    /// The page's HTML.
    fn html(&self) -> Result<std::borrow::Cow<'_, str>, SearchError> {
        match self.html {
            PageHtml::Rendered(html) => Ok(std::borrow::Cow::Borrowed(html)),
            PageHtml::Stored(path) => std::fs::read_to_string(path)
                .map(std::borrow::Cow::Owned)
                .map_err(|err| SearchError(format!("{}: {err}", path.display()))),
        }
    }
}

/// A page the render stage took unchanged from an earlier build ([`crate::reuse::CurrentPages`]): not in
/// memory, but known by the hash of its HTML.
pub struct StoredPage<'a> {
    /// The file's path in the site.
    pub path: &'a str,
    /// blake3 of the HTML.
    pub hash: Key,
    pub searchable: Searchable,
    /// Where the file is.
    pub source: PathBuf,
}

/// The folder of the per-page cache ([`store`]) inside the cache folder.
const PAGES_DIR: &str = "pages";
/// The store of the pages' section words.
const WORDS_STORE: &str = "words";
/// Part of the key of a page's cached section words: to be changed whenever [`html::sections`] or
/// [`german::each_word`] read a page differently.
const SECTION_WORDS_VERSION: &str = "section-words-4";
/// The keys of the pages' extra terms, beside the words store ([`TermsKeys`]).
const TERMS_FILE: &str = "terme.bin";
/// Raised when [`TermsKeys`] or the key of a page's terms ([`hash_terms`]) changes.
const TERMS_FORMAT: u32 = 1;

/// Per page URL: the key of the section words its terms were made from, the key of the expansions they
/// were made with ([`expansions_key`]) and their key ([`hash_terms`]). Kept apart from the words store:
/// when the expansions change (a word new to the site), every page's entry changes here, and this file
/// is a few hundred kilobytes where the words store is tens of megabytes.
type TermsKeys = Vec<(String, Key, Key, Key)>;

/// Indexes the searchable pages of a rendered site. Returns the index files to add to the output.
pub fn index(
    files: &[OutputFile],
    stored: &[StoredPage],
    settings: &Settings,
    backend: &dyn Backend,
) -> Result<(Vec<OutputFile>, Report), SearchError> {
    let pages = searchable_pages(files, stored, settings);
    let max = settings.max_shard_pages.max(1);
    let shards = shards(&pages, settings.min_shard_pages.min(max), max);
    let version = backend
        .native()
        .map(|native| native_version(native, settings));
    std::thread::scope(|scope| {
        // What the last build left in the cache — each shard's files and state, the vocabulary — is
        // read on threads of their own while the pages' words and terms are made.
        let last: Vec<_> = shards
            .iter()
            .map(|(name, members)| {
                let version = version.as_deref();
                let read =
                    scope.spawn(move || LastBuild::read(settings.cache.as_deref(), name, version));
                (name, members, read)
            })
            .collect();
        let earlier = scope.spawn(|| settings.cache.as_deref().and_then(Vocabulary::load));
        let stores = settings.cache.as_ref().map(|cache| cache.join(PAGES_DIR));
        let store = stores.as_deref().map(|dir| Store::new(dir, WORDS_STORE));
        let terms_file = stores.as_deref().map(|dir| dir.join(TERMS_FILE));
        let stored_words = store.as_ref().map(Store::lazy);
        let source = WordsSource {
            pages: &pages,
            store: stored_words.as_ref(),
        };
        let (words, same_pages) = read_words(&source, terms_file.as_deref())?;
        let earlier = earlier.join().ok().flatten();
        if Vocabulary::needs_all_words(
            earlier.as_ref(),
            &counted(&pages, &words),
            settings.glossary,
        ) {
            source.load_all(&words)?;
        }
        let vocabulary = Vocabulary::of(&counted(&pages, &words), settings.glossary, earlier);
        if let Some(cache) = &settings.cache {
            vocabulary.save(cache, settings.writes);
        }
        let expansions = &vocabulary.expansions;
        let key = expansions_key(expansions);
        let fresh: Vec<&SectionWords> = words
            .iter()
            .filter(|cached| cached.fresh)
            .filter_map(|cached| cached.words.get())
            .collect();
        let changed = vocabulary.changed.as_ref().map(|changed| Changed {
            changed,
            elsewhere: !vocabulary.changed_only_in(&fresh),
        });
        let terms = terms(&source, &words, expansions, &key, changed.as_ref())?;
        if let Some(store) = &store {
            save_words(store, &source, same_pages, &words, settings.writes);
        }
        if let Some(path) = &terms_file {
            save_terms_keys(path, &pages, &words, &terms, !same_pages, settings.writes);
        }

        let build = |(name, members, last): (&String, &Vec<usize>, LastBuildThread)| {
            let pages: Vec<(&Page, &Terms)> =
                members.iter().map(|&i| (&pages[i], &terms[i])).collect();
            let last = last.join().unwrap_or_default();
            build_shard(name, &pages, settings, backend, last)
                .map(|(files, read)| (name.clone(), files, read))
        };
        let largest = shards.values().map(Vec::len).max().unwrap_or(0);
        let built: Vec<Result<BuiltShard, SearchError>> = if largest <= PARALLEL_SHARD_PAGES {
            last.into_par_iter().map(build).collect()
        } else {
            last.into_iter().map(build).collect()
        };
        finish_index(&pages, &shards, built, settings)
    })
}

/// A thread reading a shard's [`LastBuild`].
type LastBuildThread<'scope> = std::thread::ScopedJoinHandle<'scope, LastBuild>;

/// The index files of the built shards, with the manifest naming them.
fn finish_index(
    pages: &[Page],
    shards: &BTreeMap<String, Vec<usize>>,
    built: Vec<Result<BuiltShard, SearchError>>,
    settings: &Settings,
) -> Result<(Vec<OutputFile>, Report), SearchError> {
    if let Some(cache) = &settings.cache {
        remove_gone_shards(cache, shards);
    }

    let mut out = Vec::new();
    let mut report = Report {
        pages: pages.len(),
        ..Report::default()
    };
    let mut names = Vec::new();
    for result in built {
        let (name, files, read) = result?;
        report.shards += 1;
        report.rebuilt += usize::from(read.is_some());
        report.read += read.map_or(0, |r| r.read);
        report.updated += usize::from(read.is_some_and(|r| r.updated));
        let primary = names.is_empty();
        for file in files {
            // The browser runs Pagefind's code and WebAssembly of the first shard only.
            if file.path == "pagefind.js" {
                if primary {
                    out.push(OutputFile {
                        path: format!("{OUTPUT_DIR}pagefind.js"),
                        bytes: file.bytes,
                        hash: file.hash,
                    });
                }
                continue;
            }
            if file.path == "pagefind-worker.js" || (!primary && file.path.starts_with("wasm.")) {
                continue;
            }
            out.push(OutputFile {
                path: format!("{OUTPUT_DIR}{name}/{}", file.path),
                bytes: file.bytes,
                hash: file.hash,
            });
        }
        names.push(format!("{name}/"));
    }
    let manifest = serde_json::json!({ "indexes": names });
    out.push(OutputFile::new(
        MANIFEST.to_string(),
        format!("{manifest}\n").into_bytes(),
    ));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, report))
}

/// The pages as the vocabulary counts them, with the words loaded so far.
fn counted<'a>(pages: &'a [Page], words: &'a [CachedWords]) -> Vec<vocabulary::CountedPage<'a>> {
    pages
        .iter()
        .zip(words)
        .map(|(page, cached)| vocabulary::CountedPage {
            url: &page.url,
            key: &cached.key,
            words: cached.words.get(),
            earlier: cached
                .fresh
                .then(|| cached.earlier.as_ref().map(|(key, words)| (key, words))),
        })
        .collect()
}

/// The pages that take part in the search, rendered (`files`) or reused (`stored`), in path order.
fn searchable_pages<'a>(
    files: &'a [OutputFile],
    stored: &'a [StoredPage],
    settings: &Settings,
) -> Vec<Page<'a>> {
    let page = |path: &'a str, html: PageHtml<'a>, hash: Key, searchable: Searchable| {
        let history = match searchable {
            Searchable::No => return None,
            Searchable::Yes => false,
            Searchable::History if settings.include_history => true,
            Searchable::History => return None,
        };
        let dir = path.strip_suffix("index.html").unwrap_or(path);
        Some(Page {
            url: format!("{}{dir}", settings.base_path),
            path,
            html,
            hash,
            history,
        })
    };
    let mut pages: Vec<Page> = files
        .par_iter()
        .filter(|f| f.path.ends_with(".html"))
        .filter_map(|f| {
            let html = std::str::from_utf8(&f.bytes).ok()?;
            let hash = *blake3::hash(html.as_bytes()).as_bytes();
            page(
                &f.path,
                PageHtml::Rendered(html),
                hash,
                html::searchable(html),
            )
        })
        .collect();
    pages.extend(
        stored
            .iter()
            .filter_map(|s| page(s.path, PageHtml::Stored(&s.source), s.hash, s.searchable)),
    );
    pages.par_sort_unstable_by(|a, b| a.path.cmp(b.path));
    pages
}

/// Removes the cached packs and page stores of shards that are gone.
fn remove_gone_shards(cache: &Path, shards: &BTreeMap<String, Vec<usize>>) {
    store::remove_other_stores(&cache.join(PAGES_DIR), |store| {
        store == WORDS_STORE
            || store
                .strip_prefix(SHARD_STORE)
                .is_some_and(|shard| shards.contains_key(shard))
    });
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if file_name.starts_with('.') {
            continue;
        }
        let shard = file_name
            .strip_suffix(".pack")
            .or_else(|| file_name.strip_suffix(".pack-neu"))
            .or_else(|| {
                file_name
                    .strip_suffix(STATE_EXTENSION)
                    .and_then(|stem| stem.strip_suffix('.'))
            });
        // (Packs of the earlier format, `<shard>-<hash>.pack`, name no shard of today: they go too.)
        if shard.is_some_and(|shard| !shards.contains_key(shard)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The distinct words of each section of a page (see [`html::sections`]), in the order they first
/// occur: all in one string (each word followed by `\n`, which no word contains), so that a page's words
/// are one allocation in memory and one string in the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SectionWords {
    words: String,
    /// Per section its end (byte offset in the page) and the end of its words in `words`.
    sections: Vec<(usize, usize)>,
}

impl SectionWords {
    /// Each section's end in the page and its words.
    fn sections(&self) -> impl Iterator<Item = (usize, impl Iterator<Item = &str> + Clone)> {
        let mut from = 0;
        self.sections.iter().map(move |&(end, to)| {
            let words = self.words.get(from..to).unwrap_or_default();
            from = to;
            (end, words.split_terminator('\n'))
        })
    }
}

/// A page's section words: read from its HTML when it changed, else from the words store — when
/// something needs them ([`WordsSource::words`]). A build after an edit needs the words of the pages it
/// changed; the store holds every page's (≈ 60 MB at 10,000 pages), and reading it all took ≈ 50 ms.
struct CachedWords {
    /// Loaded on first use where the page did not change.
    words: std::sync::OnceLock<SectionWords>,
    /// The key of the page's entry in the store (its HTML).
    key: Key,
    /// The expansions the cached terms were made with and the terms' key ([`Terms::key`]).
    terms: Option<(Key, Key)>,
    /// The entry changed: read from the page, not from the cache.
    fresh: bool,
    /// For an entry that changed, the key and words the cache had for the page, if any.
    earlier: Option<(Key, SectionWords)>,
    /// The words were read from the page although the terms file vouched for them: the store's entry
    /// was missing or damaged. The entry is written again ([`save_words`]).
    read_again: std::sync::atomic::AtomicBool,
}

/// Where the section words of the pages come from: the words store, a bucket at a time, or the page.
struct WordsSource<'a> {
    pages: &'a [Page<'a>],
    store: Option<&'a store::LazyStore<'a>>,
}

impl WordsSource<'_> {
    /// The words of page `i`: loaded from the store on first use, or read from the page where the store
    /// does not have them for its key.
    fn words<'w>(
        &self,
        i: usize,
        cached: &'w CachedWords,
    ) -> Result<&'w SectionWords, SearchError> {
        if let Some(words) = cached.words.get() {
            return Ok(words);
        }
        let page = &self.pages[i];
        let stored = self
            .store
            .and_then(|store| store.get(&page.url))
            .filter(|entry| entry.key == cached.key)
            .and_then(|entry| decode_section_words(&entry.value));
        let words = match stored {
            Some(words) => words,
            None => {
                cached
                    .read_again
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                section_words(&page.html()?)
            }
        };
        Ok(cached.words.get_or_init(|| words))
    }

    /// Loads the words of every page.
    fn load_all(&self, words: &[CachedWords]) -> Result<(), SearchError> {
        words
            .par_iter()
            .enumerate()
            .try_for_each(|(i, cached)| self.words(i, cached).map(|_| ()))
    }
}

/// Each page's key of its section words and what the caches know of them: the key of its terms where
/// [`TERMS_FILE`] (at `terms_file`) has them for those words — then the words themselves stay in the
/// store until needed — and, for a page whose words changed, its words now (the one scan of a page for
/// its words: both the site's lexicon and the page's extra terms are made from them) and those the store
/// had. Also returns whether the terms file names exactly these pages (then the words store does too, and
/// only changed entries need writing).
fn read_words(
    source: &WordsSource,
    terms_file: Option<&Path>,
) -> Result<(Vec<CachedWords>, bool), SearchError> {
    let terms_keys = terms_file.and_then(load_terms_keys).unwrap_or_default();
    let terms_keys: HashMap<&str, (&Key, &Key, &Key)> = terms_keys
        .iter()
        .map(|(url, words, made_with, key)| (url.as_str(), (words, made_with, key)))
        .collect();
    let pages = source.pages;
    let same_pages = terms_keys.len() == pages.len()
        && pages
            .iter()
            .all(|page| terms_keys.contains_key(page.url.as_str()));
    let read: Vec<CachedWords> = pages
        .par_iter()
        .map(|page| {
            let mut hasher = blake3::Hasher::new();
            hasher.update(SECTION_WORDS_VERSION.as_bytes());
            hasher.update(&page.hash);
            let key = *hasher.finalize().as_bytes();
            if let Some(&(_, made_with, terms)) = terms_keys
                .get(page.url.as_str())
                .filter(|(words, ..)| **words == key)
            {
                return Ok(CachedWords {
                    words: std::sync::OnceLock::new(),
                    key,
                    terms: Some((*made_with, *terms)),
                    fresh: false,
                    earlier: None,
                    read_again: Default::default(),
                });
            }
            let entry = source.store.and_then(|store| store.get(&page.url));
            let decoded = entry.and_then(|entry| decode_section_words(&entry.value));
            match (entry, decoded) {
                (Some(entry), Some(words)) if entry.key == key => Ok(CachedWords {
                    words: words.into(),
                    key,
                    terms: None,
                    fresh: false,
                    earlier: None,
                    read_again: Default::default(),
                }),
                (entry, decoded) => Ok(CachedWords {
                    words: section_words(&page.html()?).into(),
                    key,
                    terms: None,
                    fresh: true,
                    earlier: entry.zip(decoded).map(|(entry, words)| (entry.key, words)),
                    read_again: Default::default(),
                }),
            }
        })
        .collect::<Result<_, SearchError>>()?;
    Ok((read, same_pages))
}

/// Saves the pages' section words: only entries that changed, or, when pages came or went
/// (`same_pages` false), the whole store (every page's words loaded).
fn save_words(
    store: &Store,
    source: &WordsSource,
    same_pages: bool,
    words: &[CachedWords],
    writes: &crate::cache::Writes,
) {
    let pages = source.pages;
    // The cache only saves time: a build that cannot write it still succeeds.
    if same_pages {
        let changed: Vec<(&str, Entry)> = pages
            .iter()
            .zip(words)
            .filter(|(_, cached)| {
                cached.fresh || cached.read_again.load(std::sync::atomic::Ordering::Relaxed)
            })
            .filter_map(|(page, cached)| Some((page.url.as_str(), words_entry(cached)?)))
            .collect();
        if !changed.is_empty() {
            let entries: Vec<(&str, &Entry)> = changed.iter().map(|(u, e)| (*u, e)).collect();
            let _ = store.update(pages.len(), &entries, writes);
        }
        return;
    }
    if source.load_all(words).is_err() {
        return;
    }
    let all: Vec<(&str, Entry)> = pages
        .iter()
        .zip(words)
        .filter_map(|(page, cached)| Some((page.url.as_str(), words_entry(cached)?)))
        .collect();
    let entries: Vec<(&str, &Entry)> = all.iter().map(|(u, e)| (*u, e)).collect();
    let _ = store.save(&entries, writes);
}

/// A page's entry in the words store, if its words are loaded.
fn words_entry(cached: &CachedWords) -> Option<Entry> {
    Some(Entry {
        key: cached.key,
        value: encode_section_words(cached.words.get()?),
    })
}

/// The keys of the pages' terms the last build saved at `path`, if they can be read.
fn load_terms_keys(path: &Path) -> Option<TermsKeys> {
    crate::cache::read(path, &crate::cache::format_stamp(TERMS_FORMAT))
}

/// Saves the keys of the pages' terms at `path` when any of them changed or pages came or went (a failure
/// only costs the next build time). The file also tells the next build which pages the words store
/// holds (see [`read_words`]).
fn save_terms_keys(
    path: &Path,
    pages: &[Page],
    words: &[CachedWords],
    terms: &[Terms],
    pages_changed: bool,
    writes: &crate::cache::Writes,
) {
    let unchanged = words
        .iter()
        .zip(terms)
        .all(|(cached, terms)| cached.terms == Some((*terms.expansions_key, terms.key)));
    if unchanged && !pages_changed {
        return;
    }
    let keys: TermsKeys = pages
        .iter()
        .zip(words)
        .zip(terms)
        .map(|((page, cached), terms)| {
            (
                page.url.clone(),
                cached.key,
                *terms.expansions_key,
                terms.key,
            )
        })
        .collect();
    // Deferred (publish), it is encoded after the switch: 10,000 URLs with their keys.
    if writes
        .owned_value(path, crate::cache::format_stamp(TERMS_FORMAT), keys)
        .is_err()
    {
        let _ = std::fs::remove_file(path);
    }
}

/// A page's section words, read from its HTML.
fn section_words(html: &str) -> SectionWords {
    let mut out = SectionWords::default();
    for section in html::sections(html) {
        let mut seen: HashSet<String> = HashSet::new();
        german::each_word(&section.text, |word| {
            if !seen.contains(word) {
                seen.insert(word.to_string());
                out.words.push_str(word);
                out.words.push('\n');
            }
        });
        out.sections.push((section.end, out.words.len()));
    }
    out
}

/// A page's section words and (the key of the expansions, the key of its terms).
fn encode_section_words(words: &SectionWords) -> Vec<u8> {
    let mut e = Encoder(Vec::with_capacity(
        words.words.len() + words.sections.len() * 6 + 8,
    ));
    e.uint(words.sections.len() as u64);
    for &(end, to) in &words.sections {
        e.uint(end as u64);
        e.uint(to as u64);
    }
    e.str(&words.words);
    e.0
}

fn decode_section_words(bytes: &[u8]) -> Option<SectionWords> {
    let mut d = Decoder::new(bytes);
    let sections = (0..d.length()?)
        .map(|_| {
            let end = usize::try_from(d.uint()?).ok()?;
            let to = usize::try_from(d.uint()?).ok()?;
            Some((end, to))
        })
        .collect::<Option<Vec<_>>>()?;
    let words = d.str()?.to_string();
    let ordered = sections.windows(2).all(|w| w[0].1 <= w[1].1)
        && sections.iter().all(|&(_, to)| words.is_char_boundary(to));
    (d.is_empty() && ordered).then_some(SectionWords { words, sections })
}

/// A page's extra terms: every section of the page in order, with its terms (most have none).
type PageTerms = Vec<html::SectionTerms>;

/// The extra terms of every word that has any.
type Expansions = HashMap<String, Vec<String>>;

/// A page's extra terms as the shards need them: their key (for the caches' keys), and the means to
/// make them for a page that is read.
struct Terms<'a> {
    /// blake3 over the terms ([`hash_terms`]).
    key: Key,
    /// The key of the expansions they were made with ([`expansions_key`]).
    expansions_key: &'a Key,
    /// The page's number, its words and where they come from.
    page: usize,
    words: &'a CachedWords,
    source: &'a WordsSource<'a>,
    expansions: &'a Expansions,
    /// The terms, where they were made for their key (a page whose HTML or expansions changed).
    made: Option<PageTerms>,
}

impl Terms<'_> {
    /// The page's extra terms.
    fn make(&self) -> Result<std::borrow::Cow<'_, PageTerms>, SearchError> {
        Ok(match &self.made {
            Some(terms) => std::borrow::Cow::Borrowed(terms),
            None => std::borrow::Cow::Owned(page_terms(
                self.source.words(self.page, self.words)?,
                self.expansions,
            )),
        })
    }
}

/// A key of all the site's expansions: while it stays the same, a page whose HTML did not change keeps
/// its terms (the cache has their key).
fn expansions_key(expansions: &Expansions) -> Key {
    let mut sorted: Vec<(&String, &Vec<String>)> = expansions.iter().collect();
    sorted.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut hasher = blake3::Hasher::new();
    for (word, terms) in sorted {
        hasher.update(word.as_bytes());
        hasher.update(&[0]);
        for term in terms {
            hasher.update(term.as_bytes());
            hasher.update(&[1]);
        }
        hasher.update(&[2]);
    }
    *hasher.finalize().as_bytes()
}

/// What a word new to the site (or one gone) changed in the expansions ([`vocabulary::Changed`]), and
/// whether pages that did not change have any of those words (`elsewhere`): if not, their terms are
/// kept without loading their words.
struct Changed<'a> {
    changed: &'a vocabulary::Changed,
    elsewhere: bool,
}

/// Every page's [`Terms`]: the key from the cache where the page's HTML is the same as then and so are
/// the expansions, or at least those of the page's words (`changed`, from the vocabulary); made from its
/// section words otherwise.
fn terms<'a>(
    source: &'a WordsSource<'a>,
    words: &'a [CachedWords],
    expansions: &'a Expansions,
    expansions_key: &'a Key,
    changed: Option<&Changed>,
) -> Result<Vec<Terms<'a>>, SearchError> {
    // A word as it stands in a page's section words: on a line of its own.
    let changed = changed.map(|c| {
        let lines: Vec<String> = c.changed.words.iter().map(|w| format!("\n{w}\n")).collect();
        (c.changed.earlier, lines, c.elsewhere)
    });
    let has_changed_word = |words: &SectionWords, lines: &[String]| {
        let text = &words.words;
        lines
            .iter()
            .any(|line| text.starts_with(&line[1..]) || text.contains(line.as_str()))
    };
    words
        .par_iter()
        .enumerate()
        .map(|(i, cached)| {
            let kept = match (cached.terms, &changed) {
                (Some((made_with, key)), _) if made_with == *expansions_key => Some(key),
                (Some((made_with, key)), Some((earlier, lines, elsewhere)))
                    if made_with == *earlier =>
                {
                    let unaffected = if cached.fresh || *elsewhere {
                        !has_changed_word(source.words(i, cached)?, lines)
                    } else {
                        // An unchanged page, and only changed pages have the words.
                        true
                    };
                    unaffected.then_some(key)
                }
                _ => None,
            };
            let (key, made) = match kept {
                Some(key) => (key, None),
                None => {
                    let terms = page_terms(source.words(i, cached)?, expansions);
                    let mut hasher = blake3::Hasher::new();
                    hash_terms(&mut hasher, &terms);
                    (*hasher.finalize().as_bytes(), Some(terms))
                }
            };
            Ok(Terms {
                key,
                expansions_key,
                page: i,
                words: cached,
                source,
                expansions,
                made,
            })
        })
        .collect()
}

/// The extra terms of each section of a page: the expansions of its words that it does not contain,
/// each with the first of the section's words it comes from.
fn page_terms(page: &SectionWords, expansions: &Expansions) -> PageTerms {
    page.sections()
        .map(|(end, words)| {
            let mut terms: BTreeMap<&str, &str> = BTreeMap::new();
            let mut present: Option<HashSet<&str>> = None;
            for word in words.clone() {
                let Some(extra) = expansions.get(word) else {
                    continue;
                };
                let present = present.get_or_insert_with(|| words.clone().collect());
                for term in extra {
                    if !present.contains(term.as_str()) {
                        terms.entry(term).or_insert(word);
                    }
                }
            }
            html::SectionTerms {
                end,
                terms: terms
                    .into_iter()
                    .map(|(term, word)| (term.to_string(), word.to_string()))
                    .collect(),
            }
        })
        .collect()
}

/// The HTML Pagefind's indexer gets for a page: the page with each section's extra terms at its end.
fn indexed_html(page: &Page, terms: &PageTerms) -> Result<String, SearchError> {
    Ok(html::with_terms_at(&page.html()?, terms))
}

/// A page read by the native index, its extra terms placed at the words they come from.
fn read_native(
    reader: &native::Reader,
    page: &Page,
    terms: &Terms,
) -> Result<native::PageData, SearchError> {
    Ok(reader.read_with_terms(&page.url, &page.html()?, &terms.make()?))
}

/// Groups pages into shards: name → indices into `pages`, sorted by name.
fn shards(pages: &[Page], min_pages: usize, max_pages: usize) -> BTreeMap<String, Vec<usize>> {
    let mut sections: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, page) in pages.iter().enumerate() {
        let name = if page.history {
            HISTORY_SHARD.to_string()
        } else {
            match page.path.split_once('/') {
                Some((first, _)) => first
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '-'
                        }
                    })
                    .collect(),
                None => ROOT_SHARD.to_string(),
            }
        };
        sections.entry(name).or_default().push(i);
    }
    let mut shards = BTreeMap::new();
    let (small, mut large): (Vec<_>, Vec<_>) = sections
        .into_iter()
        .partition(|(_, members)| members.len() < min_pages.min(max_pages));
    let mut pooled: Vec<usize> = small.into_iter().flat_map(|(_, m)| m).collect();
    // The small sections join the smallest section of current pages they fit into, rather than making a
    // shard of their own: every shard costs a first query its own index files and chunks (at 1,000
    // guidelines the whole site is then one index, as with the Pagefind CLI).
    if !pooled.is_empty()
        && let Some((_, members)) = large
            .iter_mut()
            .filter(|(name, members)| {
                name != HISTORY_SHARD && members.len() + pooled.len() <= max_pages
            })
            .min_by_key(|(_, members)| members.len())
    {
        members.append(&mut pooled);
        members.sort_unstable();
    }
    pooled.sort_unstable();
    let sections = large
        .into_iter()
        .chain((!pooled.is_empty()).then(|| (SHARED_SHARD.to_string(), pooled)));
    for (name, members) in sections {
        if members.len() <= max_pages {
            shards.insert(name, members);
            continue;
        }
        // Buckets by a consistent hash of the URL: a new page moves no other page to another shard,
        // and when the number of buckets grows by one, only the pages of the new bucket move.
        let buckets = members.len().div_ceil(max_pages);
        let width = buckets.to_string().len();
        for i in members {
            let bucket = jump_hash(store::url_hash(&pages[i].url), buckets);
            shards
                .entry(format!("{name}-{:0width$}", bucket + 1))
                .or_insert_with(Vec::new)
                .push(i);
        }
    }
    shards
}

/// Jump consistent hash (Lamping and Veach, 2014): the bucket in `0..buckets` of `key`.
fn jump_hash(mut key: u64, buckets: usize) -> usize {
    let (mut bucket, mut next) = (0_i64, 0_i64);
    while next < buckets as i64 {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        next = ((bucket + 1) as f64 * ((1_u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    bucket as usize
}

/// The prefix of a shard's store of read pages (`shard-leitlinien`).
const SHARD_STORE: &str = "shard-";

/// Builds one shard, or takes it from the cache. Returns its files and, if it was built, what that took.
fn build_shard(
    name: &str,
    pages: &[(&Page, &Terms)],
    settings: &Settings,
    backend: &dyn Backend,
    last: LastBuild,
) -> Result<(Vec<IndexFile>, Option<Rebuilt>), SearchError> {
    let mut hasher = blake3::Hasher::new();
    for part in [backend.id(), settings.language, name] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    // The key covers what the indexed HTML is made of (the page and its extra terms); the HTML itself is
    // made only for the pages that are read.
    for (page, terms) in pages {
        hasher.update(page.url.as_bytes());
        hasher.update(&[0]);
        hasher.update(&page.hash);
        hasher.update(&terms.key);
    }
    let key = format!("{name}-{}", &hasher.finalize().to_hex()[..16]);
    let LastBuild {
        pack: last_pack,
        files: last_files,
        state: last_state,
    } = last;
    let last_files = match last_files {
        Some((last_key, files)) if last_key == key && !files.is_empty() => {
            let files = files
                .into_iter()
                .map(|file| IndexFile {
                    path: file.path,
                    bytes: file.bytes,
                    hash: Some(file.hash),
                })
                .collect();
            return Ok((files, None));
        }
        other => other,
    };

    let (files, rebuilt, contents, state) = match backend.native() {
        Some(native) => {
            let earlier = compressed(last_files.map(|(_, files)| files));
            let (files, rebuilt, contents, state) =
                build_native(name, pages, settings, native, last_state, &earlier)?;
            (files, rebuilt, contents, Some(state))
        }
        None => {
            let mut index = backend.new_index(settings.language)?;
            for batch in pages.chunks(BATCH_PAGES) {
                let batch: Vec<(String, String)> = batch
                    .par_iter()
                    .map(|(page, terms)| {
                        let terms = terms.make()?;
                        Ok((page.url.clone(), indexed_html(page, &terms)?))
                    })
                    .collect::<Result<_, SearchError>>()?;
                index.add_pages(batch)?;
            }
            let rebuilt = Rebuilt {
                read: pages.len(),
                updated: false,
            };
            (index.files()?, rebuilt, HashMap::new(), None)
        }
    };
    let wasm = used_wasm(&files, settings.language);
    let files: Vec<IndexFile> = files
        .into_iter()
        .filter(|f| kept(&f.path, wasm.as_deref()))
        .collect();
    if let Some(cache) = &settings.cache {
        // The cache only saves time: a build that cannot write it still succeeds.
        let _ = write_cached(
            cache,
            name,
            &key,
            &files,
            &contents,
            settings.writes,
            last_pack.as_ref(),
        );
        let path = state_path(cache, name);
        if let Some(state) = state
            && state.save(&path, settings.writes).is_err()
        {
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok((files, Some(rebuilt)))
}

fn hash_terms(hasher: &mut blake3::Hasher, terms: &PageTerms) {
    for section in terms {
        hasher.update(&(section.end as u64).to_le_bytes());
        for (term, word) in &section.terms {
            hasher.update(term.as_bytes());
            hasher.update(&[0]);
            hasher.update(word.as_bytes());
            hasher.update(&[0]);
        }
        hasher.update(&[1]);
    }
    hasher.update(&[2]);
}

/// A shard built by the native index: its files, how many pages were read, the content hashes of the
/// compressed files (for the pack) and what it was made of (for the next build).
type NativeShard = (
    Vec<IndexFile>,
    Rebuilt,
    native::Contents,
    native::state::ShardState,
);

/// Builds a shard with the native index. When the shard's pages are the same as in the last build (the
/// same URLs in the same order, each in or out of the index as before), only the changed pages are read
/// and the last build's index is updated ([`native::update`]); otherwise each page's
/// [`native::PageData`] comes from the shard's store where the page and its terms did not change, is read
/// otherwise, and the index is written from all of them, taking compressed files whose content did not
/// change from the shard's previous pack.
fn build_native(
    name: &str,
    pages: &[(&Page, &Terms)],
    settings: &Settings,
    native: &native::Native,
    last_state: Option<native::state::ShardState>,
    earlier: &native::write::Compressed,
) -> Result<NativeShard, SearchError> {
    let version = native_version(native, settings);
    let keys: Vec<Key> = pages
        .par_iter()
        .map(|(page, terms)| {
            let mut hasher = blake3::Hasher::new();
            for part in [native.id(), settings.language, &page.url] {
                hasher.update(part.as_bytes());
                hasher.update(&[0]);
            }
            hasher.update(&page.hash);
            hasher.update(&terms.key);
            *hasher.finalize().as_bytes()
        })
        .collect();
    let store = settings
        .cache
        .as_ref()
        .map(|cache| Store::new(&cache.join(PAGES_DIR), &format!("{SHARD_STORE}{name}")));
    if let (Some(store), Some(state)) = (&store, last_state)
        && let Some(built) = update_native(pages, &keys, state, store, settings, native, earlier)?
    {
        return Ok(built);
    }

    let cached = store.as_ref().map(Store::load).unwrap_or_default();
    let reader = native.reader(settings.language);
    // Each page's data, and for a page read anew its entry for the store (`None` without a cache).
    let read: Vec<(native::PageData, Option<Option<Entry>>)> = pages
        .par_iter()
        .zip(&keys)
        .map(|((page, terms), &key)| {
            if let Some(entry) = cached.get(&page.url)
                && entry.key == key
                && let Some(data) = native::codec::decode(&entry.value)
            {
                return Ok((data, None));
            }
            let data = read_native(&reader, page, terms)?;
            let value = store.is_some().then(|| native::codec::encode(&data));
            Ok((data, Some(value.map(|value| Entry { key, value }))))
        })
        .collect::<Result<_, SearchError>>()?;
    if let Some(store) = &store {
        let changed = cached.len() != pages.len() || read.iter().any(|(_, new)| new.is_some());
        if changed {
            let entries: Vec<(&str, &Entry)> = pages
                .iter()
                .zip(&read)
                .filter_map(|((page, _), (_, new))| {
                    let entry = new
                        .as_ref()
                        .map_or_else(|| cached.get(&page.url), Option::as_ref)?;
                    Some((page.url.as_str(), entry))
                })
                .collect();
            // The cache only saves time: a build that cannot write it still succeeds.
            let _ = store.save(&entries, settings.writes);
        }
    }
    drop(cached);
    let fresh = read.iter().filter(|(_, new)| new.is_some()).count();
    let mut data = Vec::with_capacity(read.len());
    let mut state_pages: Vec<native::state::StatePage> = Vec::with_capacity(read.len());
    let mut urls: HashMap<String, usize> = HashMap::with_capacity(read.len());
    for ((page, _), key) in read.into_iter().zip(keys) {
        let state_page = native::state::StatePage {
            url: page.fragment.url.clone(),
            key,
            custom_body: page.has_custom_body,
            indexed: false,
        };
        // A URL read again replaces the page in its place, as in the index.
        match urls.get(&page.fragment.url) {
            Some(&i) => {
                data[i] = page;
                state_pages[i] = state_page;
            }
            None => {
                urls.insert(page.fragment.url.clone(), data.len());
                data.push(page);
                state_pages.push(state_page);
            }
        }
    }
    let custom_body = data.iter().any(|p| p.has_custom_body);
    for (state, page) in state_pages.iter_mut().zip(&data) {
        state.indexed = indexed(custom_body, page);
    }
    let (built, contents, layout) = native::build_reusing(data, settings.language, earlier)?;
    let state = native::state::ShardState {
        version,
        pages: state_pages,
        layout,
    };
    let rebuilt = Rebuilt {
        read: fresh,
        updated: false,
    };
    Ok((built, rebuilt, contents, state))
}

/// Whether a page goes into the index (as [`native::write::indexed`] decides).
fn indexed(custom_body: bool, page: &native::PageData) -> bool {
    (!custom_body || page.has_custom_body) && page.has_words
}

/// Updates the shard's index of the last build (`state`) with the pages whose keys changed; `None` when
/// the pages are not the same as then, a changed page's earlier data is not in the store, or the update
/// cannot reproduce a clean build.
fn update_native(
    pages: &[(&Page, &Terms)],
    keys: &[Key],
    state: native::state::ShardState,
    store: &Store,
    settings: &Settings,
    native: &native::Native,
    earlier: &native::write::Compressed,
) -> Result<Option<NativeShard>, SearchError> {
    let same_pages = state.pages.len() == pages.len()
        && state
            .pages
            .iter()
            .zip(pages)
            .all(|(old, (page, _))| old.url == page.url);
    let changed: Vec<usize> = (0..keys.len())
        .filter(|&i| state.pages.get(i).is_none_or(|old| old.key != keys[i]))
        .collect();
    if !same_pages || changed.is_empty() {
        return Ok(None);
    }
    let urls: Vec<&str> = changed.iter().map(|&i| pages[i].0.url.as_str()).collect();
    let entries = store.load_some(pages.len(), &urls);
    let Some(old) = changed
        .iter()
        .map(|&i| {
            let entry = entries.get(&pages[i].0.url)?;
            (entry.key == state.pages[i].key)
                .then(|| native::codec::decode(&entry.value))
                .flatten()
        })
        .collect::<Option<Vec<native::PageData>>>()
    else {
        return Ok(None);
    };
    drop(entries);
    let reader = native.reader(settings.language);
    let new: Vec<(native::PageData, Entry)> = changed
        .par_iter()
        .map(|&i| {
            let (page, terms) = pages[i];
            let data = read_native(&reader, page, terms)?;
            let value = native::codec::encode(&data);
            Ok((
                data,
                Entry {
                    key: keys[i],
                    value,
                },
            ))
        })
        .collect::<Result<_, SearchError>>()?;

    // Every page keeps its number only if it stays in (or out of) the index.
    let mut state_pages = state.pages.clone();
    for (&i, (data, _)) in changed.iter().zip(&new) {
        state_pages[i].key = keys[i];
        state_pages[i].custom_body = data.has_custom_body;
    }
    let custom_body = state_pages.iter().any(|p| p.custom_body);
    if custom_body != state.pages.iter().any(|p| p.custom_body)
        || changed
            .iter()
            .zip(&new)
            .any(|(&i, (data, _))| indexed(custom_body, data) != state.pages[i].indexed)
    {
        return Ok(None);
    }
    let mut numbers = Vec::with_capacity(state_pages.len());
    let mut next = 0;
    for page in &state_pages {
        numbers.push(next);
        next += usize::from(page.indexed);
    }
    let changes: Vec<native::update::Change> = changed
        .iter()
        .zip(old)
        .zip(&new)
        .filter(|((i, _), _)| state.pages[**i].indexed)
        .map(|((&i, old), (data, _))| native::update::Change {
            number: numbers[i],
            old,
            new: data.clone(),
        })
        .collect();
    if settings.cache.is_none() {
        return Ok(None);
    }
    let written = if changes.is_empty() {
        None
    } else {
        native::update::update(&state.layout, changes, settings.language, earlier)?
    };
    let Some(written) = written else {
        return Ok(None);
    };
    let (files, contents, layout) = native::finish(Some(written), settings.language)?;
    let entries: Vec<(&str, &Entry)> = changed
        .iter()
        .zip(&new)
        .map(|(&i, (_, entry))| (pages[i].0.url.as_str(), entry))
        .collect();
    // The cache only saves time: a build that cannot write it still succeeds.
    let _ = store.update(pages.len(), &entries, settings.writes);
    let state = native::state::ShardState {
        version: state.version,
        pages: state_pages,
        layout,
    };
    let rebuilt = Rebuilt {
        read: changed.len(),
        updated: true,
    };
    Ok(Some((files, rebuilt, contents, state)))
}

/// The file of a shard's [`native::state::ShardState`].
fn state_path(cache: &Path, name: &str) -> PathBuf {
    cache.join(format!("{name}.{STATE_EXTENSION}"))
}

/// The extension of the shards' state files.
const STATE_EXTENSION: &str = "state";

/// What a shard's last build left in the search cache: its files (the pack with its changes) with that
/// build's key, and, for the native index, its state. Read on a thread of its own while the pages' words
/// and terms are made (see [`index`]); `None` where the cache does not hold it (or holds it damaged).
/// It is read for every shard, also for one that turns out unchanged (whose state then goes unused): on a
/// core the search leaves idle, that costs less than reading it on the search's way when it is needed.
#[derive(Default)]
struct LastBuild {
    /// The shard's pack, which the new build's files are compared with when they are saved.
    pack: Option<Pack>,
    files: Option<(String, Vec<CachedFile>)>,
    state: Option<native::state::ShardState>,
}

impl LastBuild {
    /// The last build of the shard `name` in `cache`; its state only if it was made by `version` of the
    /// native index ([`native_version`]).
    fn read(cache: Option<&Path>, name: &str, version: Option<&str>) -> Self {
        let Some(cache) = cache else {
            return LastBuild::default();
        };
        let pack = read_pack(cache, name);
        let files = pack.as_ref().and_then(|pack| {
            let changes = read_changes(cache, name).filter(|changes| changes.pack == pack.sum);
            shard_files(pack, changes)
        });
        LastBuild {
            pack,
            files,
            state: version.and_then(|version| {
                native::state::ShardState::load(&state_path(cache, name), version)
            }),
        }
    }
}

/// What a shard's state records as the index that made it: the native index's id and the language.
fn native_version(native: &native::Native, settings: &Settings) -> String {
    format!("{} {}", native.id(), settings.language)
}

/// The compressed files of a shard's last build by the hash of their content, for the new index to take
/// where its content is the same.
fn compressed(files: Option<Vec<CachedFile>>) -> native::write::Compressed {
    let mut compressed = native::write::Compressed::default();
    if let Some(files) = files {
        for file in files {
            if file.content != [0; 32] {
                compressed.0.insert(
                    file.content,
                    native::write::EarlierFile {
                        bytes: file.bytes,
                        hash: file.hash,
                    },
                );
            }
        }
    }
    compressed
}

/// Whether a file of Pagefind's bundle is published: not Pagefind's own UI, which the site does not use,
/// and of the WebAssembly builds only the one the index names (when it names one).
fn kept(path: &str, wasm: Option<&str>) -> bool {
    if path.starts_with("wasm.") {
        return wasm.is_none_or(|w| path == format!("wasm.{w}.pagefind"));
    }
    !(path.starts_with("pagefind-ui.")
        || path.starts_with("pagefind-modular-ui.")
        || path.starts_with("pagefind-component-ui.")
        || path == "pagefind-highlight.js")
}

/// The WebAssembly build `pagefind-entry.json` names for `language` (`de`, or `unknown` where Pagefind
/// has no stemmer for it).
fn used_wasm(files: &[IndexFile], language: &str) -> Option<String> {
    let entry = files.iter().find(|f| f.path == "pagefind-entry.json")?;
    let entry: serde_json::Value = serde_json::from_slice(&entry.bytes).ok()?;
    let wasm = entry.get("languages")?.get(language)?.get("wasm");
    Some(
        wasm.and_then(|w| w.as_str())
            .unwrap_or("unknown")
            .to_string(),
    )
}

/// The first line of a shard's pack.
const PACK_MAGIC: &[u8] = b"regelwerk search cache 4\n";
/// Raised when the layout of a pack's file of changes changes.
const PACK_CHANGES_FORMAT: u32 = 2;
/// A build writes the whole pack again when the files it would write into the file of changes are
/// more than this share of the pack.
const PACK_CHANGES_SHARE: usize = 4;

/// A shard's files as its last build left them are kept in two files, so that a build that changed a
/// page writes a little, not the whole index again (39 MB at 10,000 pages):
///
/// - `<shard>.pack`: all of the shard's files as of a full write — one file to create instead of a
///   thousand small ones: the magic line, a blake3 checksum of its listing, the key of the build that
///   wrote it (length, bytes), then per file path length, path, the blake3 hash of its content before
///   compression (zeros if unknown), the blake3 hash of its bytes, length, bytes (little-endian). The
///   listing is everything but the files' bytes, which their own hashes name: a build reads only the
///   listing (the bytes are mapped, and read only where a file is written or an index chunk updated),
///   and the output's manifest takes the recorded hashes instead of hashing 39 MB again. The pack is
///   synced to disk before it replaces the last one, so a crash cannot leave it half-written;
/// - `<shard>.pack-neu` ([`PackChanges`]): the files of a later build, each either a file of the pack
///   (by path) or its bytes, with that build's key. It is written by every build until its bytes reach
///   a [`PACK_CHANGES_SHARE`]th of the pack; then the pack is written anew and it is removed.
fn pack_path(cache: &Path, name: &str) -> PathBuf {
    cache.join(format!("{name}.pack"))
}

/// The file of changes to a shard's pack.
fn changes_path(cache: &Path, name: &str) -> PathBuf {
    cache.join(format!("{name}.pack-neu"))
}

/// A later build's files, as changes to the pack whose checksum is `pack`.
#[derive(serde::Serialize, serde::Deserialize)]
struct PackChanges {
    pack: Key,
    key: String,
    /// Path, hash of the content before compression, hash of the bytes, and the bytes unless the pack
    /// has the file.
    files: Vec<(String, Key, Key, Option<bytes::Bytes>)>,
}

/// A shard's file as cached.
struct CachedFile {
    path: String,
    /// blake3 of the content before compression (zeros if unknown).
    content: Key,
    /// blake3 of `bytes`.
    hash: Key,
    /// A part of the mapped pack, or of the changes.
    bytes: bytes::Bytes,
}

/// A file in a mapped pack: the hashes of its content and of its bytes, and where the bytes are.
#[derive(Clone)]
struct PackEntry {
    content: Key,
    hash: Key,
    range: std::ops::Range<usize>,
}

fn read_changes(cache: &Path, name: &str) -> Option<PackChanges> {
    crate::cache::read(
        &changes_path(cache, name),
        &crate::cache::format_stamp(PACK_CHANGES_FORMAT),
    )
}

/// A shard's pack, mapped, its listing checked against its checksum (the files' bytes are not read).
struct Pack {
    /// The checksum of the listing, which names the pack in its changes.
    sum: Key,
    /// The key of the build that wrote it.
    key: String,
    bytes: bytes::Bytes,
    /// The pack's files by path.
    entries: HashMap<String, PackEntry>,
}

/// The pack of the shard `name` in `cache`; `None` if it is missing or its listing is damaged.
fn read_pack(cache: &Path, name: &str) -> Option<Pack> {
    let (sum, map) = map_pack(&pack_path(cache, name))?;
    let key = pack_key(&map)?.to_string();
    let entries = pack_entries(&map, &sum)?
        .into_iter()
        .map(|(path, entry)| (path.to_string(), entry))
        .collect();
    Some(Pack {
        sum,
        key,
        bytes: bytes::Bytes::from_owner(map),
        entries,
    })
}

/// The shard's files as its last build left them — the pack with its `changes`, if they are the pack's —
/// and that build's key.
fn shard_files(pack: &Pack, changes: Option<PackChanges>) -> Option<(String, Vec<CachedFile>)> {
    let from_pack = |path: String, entry: &PackEntry| CachedFile {
        path,
        content: entry.content,
        hash: entry.hash,
        bytes: pack.bytes.slice(entry.range.clone()),
    };
    let Some(changes) = changes else {
        let files = pack
            .entries
            .iter()
            .map(|(path, entry)| from_pack(path.clone(), entry))
            .collect();
        return Some((pack.key.clone(), files));
    };
    let files = changes
        .files
        .into_iter()
        .map(|(path, content, hash, bytes)| match bytes {
            Some(bytes) => Some(CachedFile {
                path,
                content,
                hash,
                bytes,
            }),
            None => {
                let entry = pack.entries.get(path.as_str())?;
                Some(from_pack(path, entry))
            }
        })
        .collect::<Option<Vec<_>>>()?;
    Some((changes.key, files))
}

/// A pack mapped into memory, with the checksum of its listing (checked by [`pack_entries`], not
/// here: a pack whose listing does not hold its checksum is never used).
fn map_pack(path: &Path) -> Option<(Key, memmap2::Mmap)> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: packs are only ever replaced by rename, never changed in place.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let sum = map.strip_prefix(PACK_MAGIC)?.get(..32)?.try_into().ok()?;
    Some((sum, map))
}

/// The key a mapped pack names.
fn pack_key(map: &[u8]) -> Option<&str> {
    let rest = map.strip_prefix(PACK_MAGIC)?.get(32..)?;
    let (len, rest) = rest.split_at_checked(4)?;
    let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
    std::str::from_utf8(rest.get(..len)?).ok()
}

/// A mapped pack's files by path; `None` unless its listing holds the checksum `sum`.
fn pack_entries<'a>(map: &'a [u8], sum: &Key) -> Option<HashMap<&'a str, PackEntry>> {
    let mut at = PACK_MAGIC.len() + 32;
    let mut listing = blake3::Hasher::new();
    // The next `n` bytes, and where they start; part of the listing unless they are a file's bytes.
    let mut take = |n: usize, listed: bool| -> Option<(usize, &'a [u8])> {
        let bytes = map.get(at..at.checked_add(n)?)?;
        if listed {
            listing.update(bytes);
        }
        at += n;
        Some((at - n, bytes))
    };
    let (_, len) = take(4, true)?;
    take(u32::from_le_bytes(len.try_into().ok()?) as usize, true)?;
    let mut files = HashMap::new();
    while let Some((_, len)) = take(4, true) {
        let (_, path) = take(u32::from_le_bytes(len.try_into().ok()?) as usize, true)?;
        let path = std::str::from_utf8(path).ok()?;
        let (_, content) = take(32, true)?;
        let (_, hash) = take(32, true)?;
        let (_, len) = take(8, true)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        let (from, _) = take(len, false)?;
        files.insert(
            path,
            PackEntry {
                content: content.try_into().ok()?,
                hash: hash.try_into().ok()?,
                range: from..from + len,
            },
        );
    }
    (listing.finalize().as_bytes() == sum).then_some(files)
}

/// Keeps a shard's files for the next build: as changes to the shard's pack (`last_pack`, as read at
/// the start of the search) when they are few, else as a new pack.
fn write_cached(
    cache: &Path,
    name: &str,
    key: &str,
    files: &[IndexFile],
    contents: &native::Contents,
    writes: &crate::cache::Writes,
    last_pack: Option<&Pack>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(cache)?;
    let content = |file: &IndexFile| *contents.get(&file.path).unwrap_or(&[0; 32]);
    if let Some(pack) = last_pack {
        let (sum, map, in_pack) = (pack.sum, &pack.bytes, &pack.entries);
        let pack_size = map.len();
        let mut new_bytes = 0;
        let changes: Vec<(String, Key, Key, Option<bytes::Bytes>)> = files
            .iter()
            .map(|file| {
                let content = content(file);
                // The same content compresses to the same bytes (see `native::write::Compressed`):
                // only files without a content hash are compared byte for byte.
                let same = in_pack.get(file.path.as_str()).filter(|entry| {
                    entry.content == content
                        && entry.range.len() == file.bytes.len()
                        && (content != [0; 32] || map[entry.range.clone()] == file.bytes[..])
                });
                match same {
                    Some(entry) => (file.path.clone(), content, entry.hash, None),
                    None => {
                        new_bytes += file.bytes.len();
                        (
                            file.path.clone(),
                            content,
                            file.hash(),
                            Some(file.bytes.clone()),
                        )
                    }
                }
            })
            .collect();
        if new_bytes * PACK_CHANGES_SHARE <= pack_size {
            return writes.owned_value(
                &changes_path(cache, name),
                crate::cache::format_stamp(PACK_CHANGES_FORMAT),
                PackChanges {
                    pack: sum,
                    key: key.to_string(),
                    files: changes,
                },
            );
        }
    }
    let hashes: Vec<Key> = files.par_iter().map(IndexFile::hash).collect();
    let size: usize = files
        .iter()
        .map(|f| f.path.len() + f.bytes.len() + 76)
        .sum();
    let mut pack = Vec::with_capacity(PACK_MAGIC.len() + 32 + 4 + key.len() + size);
    pack.extend_from_slice(PACK_MAGIC);
    pack.extend_from_slice(&[0; 32]);
    let mut listing = blake3::Hasher::new();
    let mut put = |pack: &mut Vec<u8>, bytes: &[u8]| {
        listing.update(bytes);
        pack.extend_from_slice(bytes);
    };
    put(&mut pack, &(key.len() as u32).to_le_bytes());
    put(&mut pack, key.as_bytes());
    for (file, hash) in files.iter().zip(&hashes) {
        put(&mut pack, &(file.path.len() as u32).to_le_bytes());
        put(&mut pack, file.path.as_bytes());
        put(&mut pack, &content(file));
        put(&mut pack, hash);
        put(&mut pack, &(file.bytes.len() as u64).to_le_bytes());
        pack.extend_from_slice(&file.bytes);
    }
    let sum = listing.finalize();
    pack[PACK_MAGIC.len()..PACK_MAGIC.len() + 32].copy_from_slice(sum.as_bytes());
    writes.bytes(&pack_path(cache, name), pack, true)?;
    writes.remove(&changes_path(cache, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Section words of one section with `words`.
    fn one_section(words: &[&str]) -> SectionWords {
        let words: String = words.iter().map(|w| format!("{w}\n")).collect();
        SectionWords {
            sections: vec![(100, words.len())],
            words,
        }
    }

    #[test]
    fn a_changed_expansion_makes_only_the_terms_of_pages_with_its_word_again() {
        let expansions = |extra: &[(&str, &str)]| -> Expansions {
            [("datenschutzfolgenabschätzung", "abschätzung")]
                .iter()
                .chain(extra)
                .map(|(word, term)| (word.to_string(), vec![term.to_string()]))
                .collect()
        };
        let (before, after) = (
            expansions(&[]),
            expansions(&[("kreisverwaltung", "verwaltung")]),
        );
        let (key_before, key_after) = (expansions_key(&before), expansions_key(&after));
        let pages = [
            one_section(&["datenschutzfolgenabschätzung", "planung"]),
            one_section(&["planung", "kreisverwaltung"]),
            one_section(&["kreisverwaltung"]),
            // The changed word only as the beginning of another word.
            one_section(&["kreisverwaltungsamt"]),
        ];
        // Every page's words are loaded: the source is never asked.
        let source = WordsSource {
            pages: &[],
            store: None,
        };
        let uncached = |words: &SectionWords| CachedWords {
            words: words.clone().into(),
            key: [0; 32],
            terms: None,
            fresh: true,
            earlier: None,
            read_again: Default::default(),
        };
        let fresh: Vec<CachedWords> = pages.iter().map(uncached).collect();
        // The last build made every page's terms with the expansions before.
        let cached: Vec<CachedWords> = terms(&source, &fresh, &before, &key_before, None)
            .unwrap()
            .iter()
            .zip(&pages)
            .map(|(terms, words)| CachedWords {
                terms: Some((key_before, terms.key)),
                fresh: false,
                ..uncached(words)
            })
            .collect();
        let changed = vocabulary::Changed {
            earlier: key_before,
            words: vec!["kreisverwaltung".into()],
        };
        let everywhere = |changed| Changed {
            changed,
            elsewhere: true,
        };
        let kept = terms(
            &source,
            &cached,
            &after,
            &key_after,
            Some(&everywhere(&changed)),
        )
        .unwrap();
        let made: Vec<bool> = kept.iter().map(|t| t.made.is_some()).collect();
        assert_eq!(made, [false, true, true, false]);
        let anew = terms(&source, &fresh, &after, &key_after, None).unwrap();
        let keys = |terms: &[Terms]| terms.iter().map(|t| t.key).collect::<Vec<_>>();
        assert_eq!(keys(&kept), keys(&anew));
        assert_ne!(
            kept[1].key,
            cached[1].terms.unwrap().1,
            "the page's terms changed"
        );

        // Terms made with other expansions than the ones before are made again.
        let other = vocabulary::Changed {
            earlier: [7; 32],
            words: changed.words.clone(),
        };
        let again = terms(
            &source,
            &cached,
            &after,
            &key_after,
            Some(&everywhere(&other)),
        )
        .unwrap();
        assert!(again.iter().all(|t| t.made.is_some()));
    }
    use std::sync::Mutex;

    /// A backend that records what it was given.
    #[derive(Default)]
    struct Recorder {
        built: Mutex<Vec<(String, String)>>,
    }

    struct RecordingIndex<'a> {
        pages: Vec<(String, String)>,
        log: &'a Mutex<Vec<(String, String)>>,
    }

    impl SearchIndex for RecordingIndex<'static> {
        fn add_page(&mut self, url: &str, html: String) -> Result<(), SearchError> {
            self.pages.push((url.to_string(), html));
            Ok(())
        }

        fn files(self: Box<Self>) -> Result<Vec<IndexFile>, SearchError> {
            self.log.lock().unwrap().extend(self.pages.iter().cloned());
            Ok(vec![
                IndexFile::new(
                    "pagefind-entry.json",
                    format!("{}", self.pages.len()).into_bytes(),
                ),
                IndexFile::new("pagefind-ui.js", b"ui".to_vec()),
                IndexFile::new("pagefind.js", b"js".to_vec()),
            ])
        }
    }

    impl Backend for &'static Recorder {
        fn id(&self) -> &str {
            "test"
        }

        fn new_index(&self, _language: &str) -> Result<Box<dyn SearchIndex>, SearchError> {
            Ok(Box::new(RecordingIndex {
                pages: Vec::new(),
                log: &self.built,
            }))
        }
    }

    fn file(path: &str, main: &str, body: &str) -> OutputFile {
        OutputFile::new(
            path,
            format!("<html><body><main {main}>{body}</main></body></html>").into_bytes(),
        )
    }

    /// `site` with the body of the page at `path` replaced by `body`.
    fn edit_page(site: &mut [OutputFile], path: &str, body: &str) {
        let page = site.iter().position(|f| f.path == path).unwrap();
        site[page] = file(path, "data-pagefind-body", body);
    }

    fn site() -> Vec<OutputFile> {
        vec![
            file("index.html", "", "<p>Start</p>"),
            file(
                "leitlinien/a/index.html",
                "data-pagefind-body",
                "<h1>A</h1><h2 id=\"r\">Risiken</h2><p>Datenübermittlung</p>",
            ),
            file(
                "leitlinien/b/index.html",
                "data-pagefind-body",
                "<h1>B</h1><p>Übermittlung</p>",
            ),
            file(
                "leitlinien/a/stand/x/index.html",
                "data-pagefind-body data-regelwerk-historie",
                "<h1>A alt</h1>",
            ),
            file("seiten/s/index.html", "data-pagefind-body", "<h1>S</h1>"),
            OutputFile::new("css/x.css", b"main{}".to_vec()),
        ]
    }

    fn settings<'a>(glossary: &'a Glossary, cache: Option<PathBuf>) -> Settings<'a> {
        static AT_ONCE: crate::cache::Writes = crate::cache::Writes::immediate();
        Settings {
            language: "de",
            base_path: "/ki/",
            include_history: false,
            glossary,
            cache,
            writes: &AT_ONCE,
            max_shard_pages: MAX_SHARD_PAGES,
            min_shard_pages: 1,
        }
    }

    #[test]
    fn indexes_marked_pages_by_section_with_extra_terms() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let (files, report) = index(&site(), &[], &settings(&glossary, None), &recorder).unwrap();
        assert_eq!(
            report,
            Report {
                pages: 3,
                shards: 2,
                rebuilt: 2,
                read: 3,
                updated: 0,
            }
        );
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "pagefind/indexes.json",
                "pagefind/leitlinien/pagefind-entry.json",
                "pagefind/pagefind.js",
                "pagefind/seiten/pagefind-entry.json",
            ]
        );
        assert_eq!(
            &files[0].bytes[..],
            b"{\"indexes\":[\"leitlinien/\",\"seiten/\"]}\n"
        );
        // Shards are built in parallel: the order in which they finish varies.
        let mut built = recorder.built.lock().unwrap().clone();
        built.sort();
        let urls: Vec<&str> = built.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(
            urls,
            ["/ki/leitlinien/a/", "/ki/leitlinien/b/", "/ki/seiten/s/"]
        );
        // The section „Risiken“ gets „risiko“ and the compound's part, at its end.
        assert!(
            built[0]
                .1
                .contains("<p>Datenübermittlung</p><div data-pagefind-weight=\"0.5\">⁂ risiko übermittlung ⁂</div></main>"),
            "{}",
            built[0].1
        );
        assert!(!built[1].1.contains("⁂"));
    }

    #[test]
    fn history_pages_only_when_asked_for() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let mut settings = settings(&glossary, None);
        settings.include_history = true;
        let (files, report) = index(&site(), &[], &settings, &recorder).unwrap();
        assert_eq!(report.pages, 4);
        assert!(
            files
                .iter()
                .any(|f| f.path == "pagefind/historie/pagefind-entry.json")
        );
    }

    #[test]
    fn large_sections_are_split_into_stable_buckets() {
        let glossary = Glossary::default();
        let settings = settings(&glossary, None);
        let site = |n: usize| -> Vec<OutputFile> {
            (0..n)
                .map(|i| {
                    file(
                        &format!("register/s{i}/index.html"),
                        "data-pagefind-body",
                        "x",
                    )
                })
                .collect()
        };
        let shard_of = |files: &[OutputFile]| -> BTreeMap<String, String> {
            let pages = searchable_pages(files, &[], &settings);
            let mut map = BTreeMap::new();
            for (name, members) in shards(&pages, 1, 10) {
                for i in members {
                    map.insert(pages[i].url.clone(), name.clone());
                }
            }
            map
        };
        let before = shard_of(&site(45));
        let names: std::collections::BTreeSet<&String> = before.values().collect();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            [
                "register-1",
                "register-2",
                "register-3",
                "register-4",
                "register-5"
            ]
        );
        // One more page: every other page stays in its shard.
        let grown = shard_of(&site(46));
        assert!(before.iter().all(|(url, shard)| &grown[url] == shard));
        // One more shard: pages only move into the new one.
        let split = shard_of(&site(55));
        assert!(
            before
                .iter()
                .all(|(url, shard)| &split[url] == shard || split[url] == "register-6")
        );
        assert!(split.values().filter(|s| *s == "register-6").count() > 3);
    }

    #[test]
    fn small_sections_share_a_shard() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let mut settings = settings(&glossary, None);
        settings.min_shard_pages = 3;
        let (files, report) = index(&site(), &[], &settings, &recorder).unwrap();
        assert_eq!(report.shards, 1);
        let manifest = files.iter().find(|f| f.path == MANIFEST).unwrap();
        assert_eq!(&manifest.bytes[..], b"{\"indexes\":[\"gemeinsam/\"]}\n");
    }

    #[test]
    fn small_sections_join_a_larger_section_with_room() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let mut settings = settings(&glossary, None);
        settings.min_shard_pages = 2;
        let (files, report) = index(&site(), &[], &settings, &recorder).unwrap();
        assert_eq!(report.shards, 1);
        let manifest = files.iter().find(|f| f.path == MANIFEST).unwrap();
        assert_eq!(&manifest.bytes[..], b"{\"indexes\":[\"leitlinien/\"]}\n");

        // Without room (the shard would exceed the maximum), they keep a shard of their own.
        settings.max_shard_pages = 2;
        let (files, report) = index(&site(), &[], &settings, &recorder).unwrap();
        assert_eq!(report.shards, 2);
        let manifest = files.iter().find(|f| f.path == MANIFEST).unwrap();
        assert_eq!(
            &manifest.bytes[..],
            b"{\"indexes\":[\"gemeinsam/\",\"leitlinien/\"]}\n"
        );
    }

    #[test]
    fn unchanged_shards_come_from_the_cache() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let cache = tempfile::tempdir().unwrap();
        let settings = settings(&glossary, Some(cache.path().to_path_buf()));
        let (first, report) = index(&site(), &[], &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 2);

        let (second, report) = index(&site(), &[], &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 0);
        assert_eq!(first, second);

        let mut changed = site();
        changed[4] = file("seiten/s/index.html", "data-pagefind-body", "<h1>S2</h1>");
        let (_, report) = index(&changed, &[], &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 1);
        let entries: Vec<String> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".pack"))
            .collect();
        assert_eq!(entries.len(), 2, "old entries are removed: {entries:?}");

        // A damaged entry is a miss: the shard is indexed again.
        for entry in std::fs::read_dir(cache.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "pack") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        }
        let (third, report) = index(&changed, &[], &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 2);
        assert_eq!(index(&changed, &[], &settings, &recorder).unwrap().0, third);
    }

    /// A site for the native index: German compounds whose extra terms depend on other pages' words.
    fn german_site() -> Vec<OutputFile> {
        let mut files = vec![
            file(
                "leitlinien/a/index.html",
                "data-pagefind-body data-pagefind-filter=\"typ:Leitlinie\"",
                "<h1>Datenschutz</h1><h2 id=\"r\">Risiken</h2><p>Datenübermittlung in Drittländer.</p>",
            ),
            file(
                "leitlinien/b/index.html",
                "data-pagefind-body",
                "<h1>Sonnenblumenfeld</h1><p>Übermittlung und Restrisiken.</p>",
            ),
            file(
                "register/c/index.html",
                "data-pagefind-body data-regelwerk-sekundaer",
                "<h1>Register</h1><p>Modellklassifizierung</p>",
            ),
        ];
        for i in 0..40 {
            files.push(file(
                &format!("leitlinien/p{i:02}/index.html"),
                "data-pagefind-body",
                &format!(
                    "<h1>Seite {i}</h1><h2 id=\"x\">Abschnitt</h2><p>Text {i} über Daten.</p>"
                ),
            ));
        }
        files
    }

    fn native_index(files: &[OutputFile], cache: Option<&Path>) -> (Vec<OutputFile>, Report) {
        let glossary = Glossary::default();
        let settings = settings(&glossary, cache.map(Path::to_path_buf));
        index(files, &[], &settings, &native::Native).unwrap()
    }

    #[test]
    fn a_small_change_writes_changes_to_the_pack_and_a_large_one_a_new_pack() {
        let cache = tempfile::tempdir().unwrap();
        let cache = cache.path();
        let packs = || -> BTreeMap<String, Vec<u8>> {
            std::fs::read_dir(cache)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "pack" || x == "pack-neu")
                })
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&p).unwrap())
                })
                .collect()
        };
        let mut site = german_site();
        native_index(&site, Some(cache));
        let written = packs();
        assert!(
            written.keys().all(|name| name.ends_with(".pack")),
            "{written:?}"
        );

        // One page's text: the pack stays, its changes are written beside it.
        edit_page(
            &mut site,
            "leitlinien/p07/index.html",
            "<h1>Seite 7</h1><h2 id=\"x\">Abschnitt</h2><p>Neuer Text über Löschfristen.</p>",
        );
        let (edited, _) = native_index(&site, Some(cache));
        assert!(edited == native_index(&site, None).0, "as a clean build");
        let after = packs();
        let changes: Vec<&String> = after.keys().filter(|n| n.ends_with(".pack-neu")).collect();
        assert_eq!(changes.len(), 1, "{:?}", after.keys());
        for (name, bytes) in &written {
            assert!(
                after.get(name) == Some(bytes),
                "{name} is not written again"
            );
        }
        // The pack and its changes are the shard as it is: an unchanged shard comes from them.
        let (again, report) = native_index(&site, Some(cache));
        assert_eq!(report.rebuilt, 0);
        assert!(again == edited);

        // Every page changed, with much new text: a new pack, no changes beside it.
        for (i, file) in site.iter_mut().enumerate() {
            if file.path.starts_with("leitlinien/p") {
                let html = String::from_utf8(file.bytes.to_vec()).unwrap();
                let text: Vec<String> = (0..300).map(|n| format!("wort{i}x{n}")).collect();
                file.bytes = html
                    .replace("über Daten", &text.join(" "))
                    .into_bytes()
                    .into();
            }
        }
        let (rewritten, _) = native_index(&site, Some(cache));
        assert!(rewritten == native_index(&site, None).0, "as a clean build");
        let last = packs();
        assert!(
            last.keys().all(|name| name.ends_with(".pack")),
            "{:?}",
            last.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>()
        );
        assert!(
            written
                .iter()
                .any(|(name, bytes)| last.get(name) != Some(bytes))
        );
    }

    /// The key property of the caches: a rebuild that takes pages from them writes exactly what a clean
    /// build of the same site writes.
    #[test]
    fn cached_rebuilds_write_what_clean_builds_write() {
        let cache = tempfile::tempdir().unwrap();
        let cache = cache.path();
        let mut site = german_site();
        let (first, report) = native_index(&site, Some(cache));
        assert_eq!(report.read, 43);
        assert_eq!(first, native_index(&site, None).0);
        assert_eq!(native_index(&site, Some(cache)).1.rebuilt, 0);

        // (what, the change, pages read again: the changed page and pages whose extra terms changed,
        // shards whose index was updated in place rather than written anew)
        type Step = (
            &'static str,
            Box<dyn Fn(&mut Vec<OutputFile>)>,
            usize,
            usize,
        );
        let mut steps: Vec<Step> = vec![
            (
                "one page edited",
                Box::new(|site| {
                    site[4] = file(
                        "leitlinien/p01/index.html",
                        "data-pagefind-body",
                        "<h1>Seite 1</h1><h2 id=\"x\">Abschnitt</h2><p>Text 1 über Daten, neu.</p>",
                    );
                }),
                1,
                1,
            ),
            (
                // „blumenfeld“ enters the lexicon: page b's compound gets a new term.
                "a word new to the site",
                Box::new(|site| {
                    site[5] = file(
                        "leitlinien/p02/index.html",
                        "data-pagefind-body",
                        "<h1>Seite 2</h1><p>Ein Blumenfeld.</p>",
                    );
                }),
                2,
                1,
            ),
            (
                "a page added",
                Box::new(|site| {
                    site.push(file(
                        "leitlinien/neu/index.html",
                        "data-pagefind-body",
                        "<h1>Neu</h1><p>Klassifizierung</p>",
                    ));
                }),
                1,
                0,
            ),
            (
                "a page removed",
                Box::new(|site| {
                    site.remove(3);
                }),
                0,
                0,
            ),
        ];
        for (what, change, read, updated) in steps.drain(..) {
            change(&mut site);
            let (cached, report) = native_index(&site, Some(cache));
            let clean = native_index(&site, None).0;
            assert!(cached == clean, "{what}: the cached rebuild differs");
            assert_eq!(report.read, read, "{what}: {report:?}");
            assert_eq!(report.updated, updated, "{what}: {report:?}");
        }
        // The terms of page b changed with the new word: it was read again.
        edit_page(&mut site, "leitlinien/b/index.html", "<h1>B</h1>");
        let (cached, _) = native_index(&site, Some(cache));
        assert!(cached == native_index(&site, None).0);
    }

    #[test]
    fn words_the_store_lost_are_read_from_their_pages_and_written_to_it_again() {
        let cache = tempfile::tempdir().unwrap();
        let cache = cache.path();
        let site = german_site();
        let (first, _) = native_index(&site, Some(cache));
        let words = Store::new(&cache.join(PAGES_DIR), WORDS_STORE);
        let stored = words.load();
        assert!(stored.len() > 40, "{}", stored.len());
        // The words store is damaged while the terms file still vouches for every page's words; without
        // the vocabulary, the next build needs all of them.
        for entry in std::fs::read_dir(cache.join(PAGES_DIR)).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(WORDS_STORE)
            {
                let mut bytes = std::fs::read(&path).unwrap();
                let last = bytes.len() - 1;
                bytes[last] ^= 0x55;
                std::fs::write(&path, &bytes).unwrap();
            }
        }
        assert!(words.load().is_empty());
        std::fs::remove_file(cache.join("vokabular.bin")).unwrap();
        let (again, _) = native_index(&site, Some(cache));
        assert!(again == first);
        assert_eq!(
            words.load(),
            stored,
            "the store holds every page's words again"
        );
    }

    #[test]
    fn a_damaged_page_cache_is_read_again() {
        let cache = tempfile::tempdir().unwrap();
        let cache = cache.path();
        let mut site = german_site();
        let (clean, _) = native_index(&site, None);
        native_index(&site, Some(cache));
        site[0].bytes = [&site[0].bytes[..], b" "].concat().into();
        let clean_edited = native_index(&site, None).0;
        // Damage every cache file in its middle but the packs (below); the stores keep their checksum.
        let mut damaged = 0;
        let mut packs = Vec::new();
        for entry in walkdir::WalkDir::new(cache) {
            let entry = entry.unwrap();
            if entry.path().extension().is_some_and(|e| e == "pack") {
                packs.push(entry.path().to_path_buf());
            } else if entry.file_type().is_file() {
                let mut bytes = std::fs::read(entry.path()).unwrap();
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x55;
                std::fs::write(entry.path(), &bytes).unwrap();
                damaged += 1;
            }
        }
        assert!(damaged >= 3, "{damaged}");
        let (rebuilt, report) = native_index(&site, Some(cache));
        assert!(rebuilt == clean_edited);
        // The edited page's shard is made anew from every page; the other shard (one page) is unchanged
        // and its pack intact.
        assert_eq!((report.rebuilt, report.read), (1, 42), "{report:?}");
        // Foreign files in the cache folders are ignored.
        std::fs::write(
            cache.join("pages/words.1-0.bin"),
            b"regelwerk search pages 1\n",
        )
        .unwrap();
        std::fs::write(cache.join("pages/shard-leitlinien.1-0.bin"), [0xff; 100]).unwrap();
        let shorter = site[0].bytes.len() - 1;
        site[0].bytes.truncate(shorter);
        assert!(native_index(&site, Some(cache)).0 == clean);

        // A pack's listing is checked, its files' bytes are not read: a damaged file keeps the hash the
        // listing records for it, and fails it where the output checks it before writing it
        // (`output::DamagedCache`; the build then makes the index again, tests/search_incremental.rs).
        assert!(!packs.is_empty());
        for pack in &packs {
            let mut bytes = std::fs::read(pack).unwrap();
            let sum: Key = bytes[PACK_MAGIC.len()..PACK_MAGIC.len() + 32]
                .try_into()
                .unwrap();
            // The largest chunk of the index (the runtime's files are not every shard's).
            let range = pack_entries(&bytes, &sum)
                .expect("an intact listing")
                .into_iter()
                .filter(|(path, _)| path.starts_with("index/"))
                .map(|(_, e)| e.range)
                .max_by_key(|r| r.len())
                .unwrap();
            bytes[range.start + range.len() / 2] ^= 0x55;
            std::fs::write(pack, &bytes).unwrap();
        }
        let (from_damaged, _) = native_index(&site, Some(cache));
        let fails_its_hash = |f: &OutputFile| {
            f.hash
                .is_some_and(|h| h != *blake3::hash(&f.bytes).as_bytes())
        };
        assert_eq!(
            from_damaged.iter().filter(|f| fails_its_hash(f)).count(),
            packs.len(),
            "one damaged file per pack, each caught by its hash"
        );
        let intact: Vec<&OutputFile> = from_damaged.iter().filter(|f| !fails_its_hash(f)).collect();
        assert_eq!(intact.len(), clean.len() - packs.len());
        assert!(intact.iter().all(|f| clean.contains(f)));
        let _ = std::fs::remove_dir_all(cache);
        // Stores of shards that are gone are removed.
        site.retain(|f| !f.path.starts_with("register/"));
        native_index(&site, Some(cache));
        let stores: Vec<String> = std::fs::read_dir(cache.join("pages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(stores.iter().all(|s| !s.contains("register")), "{stores:?}");
        let packs = std::fs::read_dir(cache).unwrap();
        assert!(
            packs
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().starts_with("register"))
        );
    }

    #[test]
    fn glossary_errors_name_file_and_line() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("content/daten")).unwrap();
        std::fs::write(
            root.path().join(german::SITE_FILE),
            "teile = [\"a\"]\nbegriff = 1\n",
        )
        .unwrap();
        let (_, diagnostics) = load_glossary(root.path());
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].rule, Rule::S2);
        assert_eq!(diagnostics[0].line, 2);
    }
}
