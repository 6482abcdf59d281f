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
//!   pages in `historie`), sections under [`MIN_SHARD_PAGES`] pages together in `gemeinsam`, a section of
//!   more than [`MAX_SHARD_PAGES`] pages split into buckets by a consistent hash of the URL. Memory grows
//!   with the largest shard, not with the site. The search page loads the first shard and merges the
//!   others (`pagefind/indexes.json` lists them).
//! - **Cache**: a shard's files are kept in one file `<root>/.regelwerk-cache/search/<shard>-<hash>.pack`,
//!   the hash taken over the backend version, language, and every page's URL, HTML and extra terms; a
//!   build reindexes only shards whose pages changed.
//!
//! The index itself is behind [`SearchIndex`]: [`native::Native`] (the default) writes Pagefind's index
//! format itself; [`pagefind::Pagefind`] builds the same index with Pagefind's library
//! (`[search] backend = "pagefind"`).

pub mod german;
pub mod html;
pub mod native;
pub mod pagefind;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Rule, SourceText};
use crate::render::OutputFile;
use german::{Glossary, GlossaryFile, Lexicon};
use html::Searchable;

/// Where the index is written inside the site.
pub const OUTPUT_DIR: &str = "pagefind/";
/// The list of shards the search page merges (`{"indexes": ["leitlinien/", …]}`, relative to
/// [`OUTPUT_DIR`]).
pub const MANIFEST: &str = "pagefind/indexes.json";
/// The cache of built shards, relative to the site root.
pub const CACHE_DIR: &str = ".regelwerk-cache/search";
/// A section with more pages than this is split into several shards. Every shard costs the browser an
/// index chunk per query word and its page list, so shards are as large as memory allows: Pagefind needs
/// about 0.2 GB per 1,000 pages while it indexes (BENCHMARKS.md).
pub const MAX_SHARD_PAGES: usize = 10_000;
/// Sections with fewer pages than this share one shard ([`SHARED_SHARD`]).
pub const MIN_SHARD_PAGES: usize = 1_000;
/// Shards are built two at a time only while the largest has at most this many pages; larger ones one
/// after the other, so that the memory of the search stage stays near that of one shard.
const PARALLEL_SHARD_PAGES: usize = 5_000;
/// Pages handed to an index at a time (their HTML with the extra terms is held in memory meanwhile).
const BATCH_PAGES: usize = 256;
/// The shard of the small sections.
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

/// One file of an index, its path relative to the index's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

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
    /// The cache folder ([`CACHE_DIR`] under the root), or `None` for no cache.
    pub cache: Option<PathBuf>,
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

/// A shard's name, its files and whether it was indexed anew.
type BuiltShard = (String, Vec<IndexFile>, bool);

/// A page to index.
struct Page<'a> {
    /// The URL the browser opens (`/leitlinien/x/`).
    url: String,
    /// The file's path in the site (`leitlinien/x/index.html`).
    path: &'a str,
    html: &'a str,
    history: bool,
}

/// Indexes the searchable pages of a rendered site. Returns the index files to add to the output.
pub fn index(
    files: &[OutputFile],
    settings: &Settings,
    backend: &dyn Backend,
) -> Result<(Vec<OutputFile>, Report), SearchError> {
    let pages = searchable_pages(files, settings);
    let expansions = expansions(&pages, settings.glossary);
    let max = settings.max_shard_pages.max(1);
    let shards = shards(&pages, settings.min_shard_pages.min(max), max);

    let build = |(name, members): (&String, &Vec<usize>)| {
        let pages: Vec<&Page> = members.iter().map(|&i| &pages[i]).collect();
        build_shard(name, &pages, &expansions, settings, backend)
            .map(|(files, rebuilt)| (name.clone(), files, rebuilt))
    };
    let largest = shards.values().map(Vec::len).max().unwrap_or(0);
    let built: Vec<Result<BuiltShard, SearchError>> = if largest <= PARALLEL_SHARD_PAGES {
        shards.par_iter().map(build).collect()
    } else {
        shards.iter().map(build).collect()
    };

    let mut out = Vec::new();
    let mut report = Report {
        pages: pages.len(),
        ..Report::default()
    };
    let mut names = Vec::new();
    for result in built {
        let (name, files, rebuilt) = result?;
        report.shards += 1;
        report.rebuilt += usize::from(rebuilt);
        let primary = names.is_empty();
        for file in files {
            // The browser runs Pagefind's code and WebAssembly of the first shard only.
            if file.path == "pagefind.js" {
                if primary {
                    out.push(OutputFile {
                        path: format!("{OUTPUT_DIR}pagefind.js"),
                        bytes: file.bytes,
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
            });
        }
        names.push(format!("{name}/"));
    }
    let manifest = serde_json::json!({ "indexes": names });
    out.push(OutputFile {
        path: MANIFEST.to_string(),
        bytes: format!("{manifest}\n").into_bytes(),
    });
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, report))
}

/// The pages that take part in the search, in path order.
fn searchable_pages<'a>(files: &'a [OutputFile], settings: &Settings) -> Vec<Page<'a>> {
    files
        .par_iter()
        .filter(|f| f.path.ends_with(".html"))
        .filter_map(|f| {
            let html = std::str::from_utf8(&f.bytes).ok()?;
            let history = match html::searchable(html) {
                Searchable::No => return None,
                Searchable::Yes => false,
                Searchable::History if settings.include_history => true,
                Searchable::History => return None,
            };
            let dir = f.path.strip_suffix("index.html").unwrap_or(&f.path);
            Some(Page {
                url: format!("{}{dir}", settings.base_path),
                path: &f.path,
                html,
                history,
            })
        })
        .collect()
}

/// The extra terms of every word of the indexed pages that has any (see [`german::expand`]).
fn expansions(pages: &[Page], glossary: &Glossary) -> HashMap<String, Vec<String>> {
    let words: HashSet<String> = pages
        .par_iter()
        .fold(HashSet::new, |mut set: HashSet<String>, page| {
            for section in html::sections(page.html) {
                german::each_word(&section.text, |word| {
                    if !set.contains(word) {
                        set.insert(word.to_string());
                    }
                });
            }
            set
        })
        .reduce(HashSet::new, |mut a, b| {
            if a.len() < b.len() {
                return b.into_iter().chain(a).collect();
            }
            a.extend(b);
            a
        });
    let lexicon = Lexicon::new(words.iter().map(String::as_str), glossary);
    words
        .par_iter()
        .filter_map(|word| {
            let terms = german::expand(word, &lexicon, glossary);
            (!terms.is_empty()).then(|| (word.clone(), terms))
        })
        .collect()
}

/// A page's extra terms: per section that gets any, the section's end (byte offset) and its terms.
type PageTerms = Vec<(usize, Vec<String>)>;

/// The extra terms of each section of a page: the expansions of its words that it does not contain.
fn page_terms(page: &Page, expansions: &HashMap<String, Vec<String>>) -> PageTerms {
    html::sections(page.html)
        .into_iter()
        .filter_map(|section| {
            let mut expanded: Vec<&Vec<String>> = Vec::new();
            let mut present: HashSet<String> = HashSet::new();
            german::each_word(&section.text, |word| {
                if !present.contains(word) {
                    present.insert(word.to_string());
                    if let Some(extra) = expansions.get(word) {
                        expanded.push(extra);
                    }
                }
            });
            let mut terms = BTreeSet::new();
            for extra in expanded {
                terms.extend(extra.iter().filter(|t| !present.contains(*t)).cloned());
            }
            (!terms.is_empty()).then(|| (section.end, terms.into_iter().collect()))
        })
        .collect()
}

/// The HTML the index gets for a page: the page with each section's extra terms at its end.
fn indexed_html(page: &Page, terms: &PageTerms) -> String {
    html::with_terms_at(page.html, terms)
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
    let (small, large): (Vec<_>, Vec<_>) = sections
        .into_iter()
        .partition(|(_, members)| members.len() < min_pages.min(max_pages));
    let mut pooled: Vec<usize> = small.into_iter().flat_map(|(_, m)| m).collect();
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
            let hash = blake3::hash(pages[i].url.as_bytes());
            let key = u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"));
            let bucket = jump_hash(key, buckets);
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

/// Builds one shard, or takes it from the cache. Returns its files and whether it was built.
fn build_shard(
    name: &str,
    pages: &[&Page],
    expansions: &HashMap<String, Vec<String>>,
    settings: &Settings,
    backend: &dyn Backend,
) -> Result<(Vec<IndexFile>, bool), SearchError> {
    let mut hasher = blake3::Hasher::new();
    for part in [backend.id(), settings.language, name] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    // The key covers what the indexed HTML is made of (the page and its extra terms); the HTML itself is
    // made only on a cache miss, in batches, so a shard's pages are never all held as HTML at once.
    let terms: Vec<PageTerms> = pages
        .par_iter()
        .map(|page| page_terms(page, expansions))
        .collect();
    for (page, terms) in pages.iter().zip(&terms) {
        hasher.update(page.url.as_bytes());
        hasher.update(&[0]);
        hasher.update(page.html.as_bytes());
        hasher.update(&[0]);
        for (end, terms) in terms {
            hasher.update(&(*end as u64).to_le_bytes());
            for term in terms {
                hasher.update(term.as_bytes());
                hasher.update(&[0]);
            }
            hasher.update(&[1]);
        }
        hasher.update(&[2]);
    }
    let key = format!("{name}-{}", &hasher.finalize().to_hex()[..16]);
    if let Some(cache) = &settings.cache
        && let Some(files) = read_cached(&pack_path(cache, &key))
    {
        return Ok((files, false));
    }

    let mut index = backend.new_index(settings.language)?;
    for (batch, terms) in pages.chunks(BATCH_PAGES).zip(terms.chunks(BATCH_PAGES)) {
        let batch: Vec<(String, String)> = batch
            .par_iter()
            .zip(terms)
            .map(|(page, terms)| (page.url.clone(), indexed_html(page, terms)))
            .collect();
        index.add_pages(batch)?;
    }
    let files = index.files()?;
    let wasm = used_wasm(&files, settings.language);
    let files: Vec<IndexFile> = files
        .into_iter()
        .filter(|f| kept(&f.path, wasm.as_deref()))
        .collect();
    if let Some(cache) = &settings.cache {
        // The cache only saves time: a build that cannot write it still succeeds.
        let _ = write_cached(cache, name, &key, &files);
    }
    Ok((files, true))
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

/// The first line of a cached shard.
const PACK_MAGIC: &[u8] = b"regelwerk search cache 1\n";

/// A cached shard: one file `<key>.pack` holding all the shard's files (path length, path, length,
/// bytes, little-endian) — one file to create instead of a thousand small ones.
fn pack_path(cache: &Path, key: &str) -> PathBuf {
    cache.join(format!("{key}.pack"))
}

fn read_cached(path: &Path) -> Option<Vec<IndexFile>> {
    let bytes = std::fs::read(path).ok()?;
    let mut rest = bytes.strip_prefix(PACK_MAGIC)?;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let mut files = Vec::new();
    while let Some(len) = take(4) {
        let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
        let path = std::str::from_utf8(take(len)?).ok()?.to_string();
        let len = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
        let bytes = take(len)?.to_vec();
        files.push(IndexFile { path, bytes });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (!files.is_empty()).then_some(files)
}

/// Writes a shard into the cache (a temporary file renamed into place) and removes the shard's older
/// entries.
fn write_cached(cache: &Path, name: &str, key: &str, files: &[IndexFile]) -> std::io::Result<()> {
    std::fs::create_dir_all(cache)?;
    let size: usize = files
        .iter()
        .map(|f| f.path.len() + f.bytes.len() + 12)
        .sum();
    let mut pack = Vec::with_capacity(PACK_MAGIC.len() + size);
    pack.extend_from_slice(PACK_MAGIC);
    for file in files {
        pack.extend_from_slice(&(file.path.len() as u32).to_le_bytes());
        pack.extend_from_slice(file.path.as_bytes());
        pack.extend_from_slice(&(file.bytes.len() as u64).to_le_bytes());
        pack.extend_from_slice(&file.bytes);
    }
    let temporary = cache.join(format!(".{key}.tmp-{}", std::process::id()));
    let target = pack_path(cache, key);
    if let Err(err) =
        std::fs::write(&temporary, &pack).and_then(|()| std::fs::rename(&temporary, &target))
    {
        let _ = std::fs::remove_file(&temporary);
        return Err(err);
    }
    let current = format!("{key}.pack");
    for entry in std::fs::read_dir(cache)?.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let stale = file_name
            .trim_end_matches(".pack")
            .rsplit_once('-')
            .is_some_and(|(shard, _)| shard == name)
            && file_name != current;
        if stale {
            // Entries of earlier versions were folders.
            let _ = std::fs::remove_file(entry.path());
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
                IndexFile {
                    path: "pagefind-entry.json".into(),
                    bytes: format!("{}", self.pages.len()).into_bytes(),
                },
                IndexFile {
                    path: "pagefind-ui.js".into(),
                    bytes: b"ui".to_vec(),
                },
                IndexFile {
                    path: "pagefind.js".into(),
                    bytes: b"js".to_vec(),
                },
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
        OutputFile {
            path: path.into(),
            bytes: format!("<html><body><main {main}>{body}</main></body></html>").into_bytes(),
        }
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
            OutputFile {
                path: "css/x.css".into(),
                bytes: b"main{}".to_vec(),
            },
        ]
    }

    fn settings<'a>(glossary: &'a Glossary, cache: Option<PathBuf>) -> Settings<'a> {
        Settings {
            language: "de",
            base_path: "/ki/",
            include_history: false,
            glossary,
            cache,
            max_shard_pages: MAX_SHARD_PAGES,
            min_shard_pages: 1,
        }
    }

    #[test]
    fn indexes_marked_pages_by_section_with_extra_terms() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let (files, report) = index(&site(), &settings(&glossary, None), &recorder).unwrap();
        assert_eq!(
            report,
            Report {
                pages: 3,
                shards: 2,
                rebuilt: 2
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
            files[0].bytes,
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
        let (files, report) = index(&site(), &settings, &recorder).unwrap();
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
            let pages = searchable_pages(files, &settings);
            let mut map = BTreeMap::new();
            for (name, members) in shards(&pages, 1, 10) {
                for i in members {
                    map.insert(pages[i].url.clone(), name.clone());
                }
            }
            map
        };
        let before = shard_of(&site(45));
        let names: BTreeSet<&String> = before.values().collect();
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
        let (files, report) = index(&site(), &settings, &recorder).unwrap();
        assert_eq!(report.shards, 1);
        let manifest = files.iter().find(|f| f.path == MANIFEST).unwrap();
        assert_eq!(manifest.bytes, b"{\"indexes\":[\"gemeinsam/\"]}\n");
    }

    #[test]
    fn unchanged_shards_come_from_the_cache() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let glossary = Glossary::default();
        let cache = tempfile::tempdir().unwrap();
        let settings = settings(&glossary, Some(cache.path().to_path_buf()));
        let (first, report) = index(&site(), &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 2);

        let (second, report) = index(&site(), &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 0);
        assert_eq!(first, second);

        let mut changed = site();
        changed[4] = file("seiten/s/index.html", "data-pagefind-body", "<h1>S2</h1>");
        let (_, report) = index(&changed, &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 1);
        let entries: Vec<String> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries.len(), 2, "old entries are removed: {entries:?}");

        // A damaged entry is a miss: the shard is indexed again.
        for entry in std::fs::read_dir(cache.path()).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        }
        let (third, report) = index(&changed, &settings, &recorder).unwrap();
        assert_eq!(report.rebuilt, 2);
        assert_eq!(index(&changed, &settings, &recorder).unwrap().0, third);
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
