//! The native [`SearchIndex`]: writes Pagefind 1.6's on-disk index itself, so the unchanged Pagefind
//! browser runtime (`pagefind.js` + WebAssembly, used by the search page and for `mergeIndex`) reads it.
//!
//! ```text
//! page HTML ──extract (parallel, memoized stemming)──▶ PageData ──write──▶ pf_meta, pf_index, pf_filter,
//!                                                                          pf_fragment, entry
//! ```
//!
//! - [`extract`](mod@extract): one page → [`PageData`] (fragment + postings), a pure function of URL and HTML
//!   (Pagefind's reading of a page, rebuilt on our tag scanner). The search stage caches each page's
//!   `PageData` ([`codec`], [`crate::search::store`]) and reads only pages that changed; [`Reader`] reads
//!   single pages in parallel outside an index.
//! - [`words`]: splitting, normalising and stemming a token exactly as Pagefind (same stemmer crate), so
//!   the query side in the browser — which stems with the same Snowball build — meets the same words.
//! - [`write`](mod@write): merging, chunking, CBOR, names, gzip — files whose content an earlier build already
//!   compressed are taken from it ([`write::Compressed`]).
//!
//! The runtime files (`pagefind.js`, `wasm.<lang>.pagefind`) come from the `pagefind` crate itself: once
//! per process and language the library indexes a one-word page and we keep its runtime files. Their
//! bytes are always the ones of the crate version we write the format of; nothing is vendored twice.
//!
//! Given the same HTML, the native index has the same content as Pagefind's (the tests compare them
//! file by file after decompression); only the gzip level differs ([`write::GZIP_LEVEL`]).

pub mod codec;
pub mod extract;
pub mod state;
pub mod update;
pub mod words;
pub mod write;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use hashbrown::HashMap;
use rayon::prelude::*;
use serde::Serialize;

pub use extract::{PageData, extract, extract_with_terms};

use crate::search::html::SectionTerms;
use crate::search::{Backend, IndexFile, SearchError, SearchIndex};
use words::{Analyzer, WORD_SYMBOLS};

/// The format version of this writer: part of every cache key (with Pagefind's version, whose runtime
/// reads the files).
pub const VERSION: &str = "native-1+pagefind-1.6.0";

/// Builds Pagefind-format indexes without Pagefind's indexer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Native;

impl Backend for Native {
    /// [`VERSION`] and the program binary ([`crate::cache::program`]): a cache written by another build
    /// of regelwerk, whose reading or writing of pages may differ, is not used.
    fn id(&self) -> &str {
        static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        ID.get_or_init(|| {
            let program = blake3::Hash::from_bytes(*crate::cache::program());
            format!("{VERSION}+{}", &program.to_hex()[..16])
        })
    }

    fn new_index(&self, language: &str) -> Result<Box<dyn SearchIndex>, SearchError> {
        Ok(Box::new(NativeIndex {
            language: language.to_string(),
            pages: Vec::new(),
            urls: HashMap::new(),
            analyzers: Mutex::new(Vec::new()),
        }))
    }

    fn native(&self) -> Option<&Native> {
        Some(self)
    }
}

impl Native {
    /// A reader of single pages in `language`, for reading pages in parallel outside an index.
    pub fn reader(&self, language: &str) -> Reader {
        Reader {
            language: language.to_string(),
            analyzers: Mutex::new(Vec::new()),
        }
    }
}

/// Reads pages ([`extract()`]) on any thread, each with an analyzer from a pool, so that the analyzers'
/// memo of tokens carries over from page to page.
pub struct Reader {
    language: String,
    analyzers: Mutex<Vec<Analyzer>>,
}

impl Reader {
    /// Reads one page.
    pub fn read(&self, url: &str, html: &str) -> PageData {
        self.read_with_terms(url, html, &[])
    }

    /// Reads one page with its extra terms ([`extract_with_terms`]).
    pub fn read_with_terms(&self, url: &str, html: &str, terms: &[SectionTerms]) -> PageData {
        let mut analyzer = self
            .analyzers
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| Analyzer::new(&self.language));
        let page = extract_with_terms(url, html, terms, &mut analyzer);
        if let Ok(mut pool) = self.analyzers.lock() {
            pool.push(analyzer);
        }
        page
    }
}

/// The pages of one index, read as they are added (the HTML is not kept).
struct NativeIndex {
    language: String,
    pages: Vec<PageData>,
    urls: HashMap<String, usize>,
    /// Analyzers (with their memo of tokens) for the threads reading pages.
    analyzers: Mutex<Vec<Analyzer>>,
}

/// An analyzer borrowed from the index's pool, returned when the thread is done.
struct Borrowed<'a> {
    analyzer: Option<Analyzer>,
    pool: &'a Mutex<Vec<Analyzer>>,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let (Some(analyzer), Ok(mut pool)) = (self.analyzer.take(), self.pool.lock()) {
            pool.push(analyzer);
        }
    }
}

impl NativeIndex {
    fn borrow(&self) -> Borrowed<'_> {
        let analyzer = self
            .analyzers
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| Analyzer::new(&self.language));
        Borrowed {
            analyzer: Some(analyzer),
            pool: &self.analyzers,
        }
    }

    fn insert(&mut self, page: PageData) {
        // A URL added again replaces the page in its place, as Pagefind does.
        match self.urls.get(&page.fragment.url) {
            Some(&i) => self.pages[i] = page,
            None => {
                self.urls
                    .insert(page.fragment.url.clone(), self.pages.len());
                self.pages.push(page);
            }
        }
    }
}

impl SearchIndex for NativeIndex {
    fn add_page(&mut self, url: &str, html: String) -> Result<(), SearchError> {
        let page = {
            let mut borrowed = self.borrow();
            match borrowed.analyzer.as_mut() {
                Some(analyzer) => extract(url, &html, analyzer),
                None => extract(url, &html, &mut Analyzer::new(&self.language)),
            }
        };
        self.insert(page);
        Ok(())
    }

    fn add_pages(&mut self, pages: Vec<(String, String)>) -> Result<(), SearchError> {
        let read: Vec<PageData> = pages
            .par_iter()
            .map_init(
                || self.borrow(),
                |borrowed, (url, html)| match borrowed.analyzer.as_mut() {
                    Some(analyzer) => extract(url, html, analyzer),
                    None => extract(url, html, &mut Analyzer::new(&self.language)),
                },
            )
            .collect();
        for page in read {
            self.insert(page);
        }
        Ok(())
    }

    fn files(self: Box<Self>) -> Result<Vec<IndexFile>, SearchError> {
        build(self.pages, &self.language)
    }
}

/// The blake3 hash of each compressed file's content before compression, by path.
pub type Contents = HashMap<String, [u8; 32]>;

/// The index files of pages already read: what [`SearchIndex::files`] returns.
pub fn build(pages: Vec<PageData>, language: &str) -> Result<Vec<IndexFile>, SearchError> {
    build_reusing(pages, language, &write::Compressed::default()).map(|(files, ..)| files)
}

/// [`build`], taking compressed files whose content did not change from `earlier`; also returns the
/// content hash of each compressed file by path (for the next build's `earlier`) and what the index was
/// made of (for [`update::update`] in the next build).
pub fn build_reusing(
    pages: Vec<PageData>,
    language: &str,
    earlier: &write::Compressed,
) -> Result<(Vec<IndexFile>, Contents, write::Layout), SearchError> {
    let written = write::write_reusing(pages, language, earlier)?;
    finish(written, language)
}

/// The files of an index (with `pagefind-entry.json` and the runtime), the content hash of each
/// compressed file by path and the index's layout.
pub fn finish(
    written: Option<write::Written>,
    language: &str,
) -> Result<(Vec<IndexFile>, Contents, write::Layout), SearchError> {
    let runtime = runtime(language)?;
    let mut contents = HashMap::new();
    let mut languages = BTreeMap::new();
    let mut files = Vec::new();
    let mut layout = write::Layout::default();
    if let Some(written) = written {
        languages.insert(
            language.to_string(),
            EntryLanguage {
                hash: written.meta_hash,
                wasm: runtime.wasm.clone(),
                page_count: written.page_count,
            },
        );
        contents = written
            .files
            .iter()
            .map(|f| f.path.clone())
            .zip(written.contents)
            .collect();
        files = written.files;
        layout = written.layout;
    }
    let entry = Entry {
        version: write::PAGEFIND_VERSION,
        languages,
        include_characters: WORD_SYMBOLS.to_vec(),
    };
    let entry = serde_json::to_string(&entry).map_err(|e| SearchError(e.to_string()))?;
    files.push(IndexFile::new("pagefind-entry.json", entry.into_bytes()));
    files.extend(runtime.files.iter().cloned());
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, contents, layout))
}

/// `pagefind-entry.json`, as Pagefind writes it.
#[derive(Serialize)]
struct Entry {
    version: &'static str,
    languages: BTreeMap<String, EntryLanguage>,
    include_characters: Vec<char>,
}

#[derive(Serialize)]
struct EntryLanguage {
    hash: String,
    wasm: Option<String>,
    page_count: usize,
}

/// Pagefind's browser runtime for one language.
struct Runtime {
    /// `pagefind.js` and the WebAssembly build the entry names.
    files: Vec<IndexFile>,
    /// The language's WebAssembly build (`de`), `None` where Pagefind has no stemmer (then
    /// `wasm.unknown.pagefind` is used).
    wasm: Option<String>,
}

static RUNTIMES: LazyLock<Mutex<HashMap<String, Arc<Runtime>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The runtime files for `language`, taken once per process from the `pagefind` crate.
fn runtime(language: &str) -> Result<Arc<Runtime>, SearchError> {
    let mut cache = RUNTIMES
        .lock()
        .map_err(|_| SearchError("runtime cache poisoned".into()))?;
    if let Some(runtime) = cache.get(language) {
        return Ok(Arc::clone(runtime));
    }
    let mut index = super::pagefind::Pagefind.new_index(language)?;
    let html = format!("<html lang=\"{language}\"><body><p>pagefind</p></body></html>");
    index.add_page("/", html)?;
    let files = index.files()?;
    let wasm = files
        .iter()
        .find(|f| f.path == "pagefind-entry.json")
        .and_then(|f| serde_json::from_slice::<serde_json::Value>(&f.bytes).ok())
        .and_then(|entry| {
            entry
                .get("languages")?
                .get(language)?
                .get("wasm")?
                .as_str()
                .map(str::to_string)
        });
    let wasm_file = format!("wasm.{}.pagefind", wasm.as_deref().unwrap_or("unknown"));
    let files: Vec<IndexFile> = files
        .into_iter()
        .filter(|f| f.path == "pagefind.js" || f.path == wasm_file)
        .collect();
    if !files.iter().any(|f| f.path == "pagefind.js") {
        return Err(SearchError("Pagefind lieferte kein pagefind.js".into()));
    }
    let runtime = Arc::new(Runtime { files, wasm });
    cache.insert(language.to_string(), Arc::clone(&runtime));
    Ok(runtime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A decoded CBOR item (the kinds the index uses).
    #[derive(Debug, Clone, PartialEq)]
    enum Cbor {
        Int(i64),
        Text(String),
        Array(Vec<Cbor>),
    }

    impl Cbor {
        fn items(&self) -> &[Cbor] {
            match self {
                Cbor::Array(items) => items,
                other => panic!("not an array: {other:?}"),
            }
        }
        fn text(&self) -> &str {
            match self {
                Cbor::Text(text) => text,
                other => panic!("not a text: {other:?}"),
            }
        }
        fn int(&self) -> i64 {
            match self {
                Cbor::Int(i) => *i,
                other => panic!("not an integer: {other:?}"),
            }
        }
        fn ints(&self) -> Vec<i64> {
            self.items().iter().map(Cbor::int).collect()
        }
    }

    fn decode(bytes: &[u8], at: &mut usize) -> Cbor {
        let first = bytes[*at];
        *at += 1;
        let (major, info) = (first >> 5, first & 31);
        let value = match info {
            0..=23 => info as u64,
            24..=27 => {
                let n = 1 << (info - 24);
                let mut v = 0u64;
                for b in &bytes[*at..*at + n] {
                    v = (v << 8) | *b as u64;
                }
                *at += n;
                v
            }
            _ => panic!("indefinite lengths are not used"),
        };
        match major {
            0 => Cbor::Int(value as i64),
            1 => Cbor::Int(-1 - value as i64),
            3 => {
                let text = std::str::from_utf8(&bytes[*at..*at + value as usize]).unwrap();
                *at += value as usize;
                Cbor::Text(text.to_string())
            }
            4 => Cbor::Array((0..value).map(|_| decode(bytes, at)).collect()),
            _ => panic!("unexpected major type {major}"),
        }
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out.strip_prefix(b"pagefind_dcd".as_slice())
            .expect("the pagefind_dcd signature")
            .to_vec()
    }

    fn cbor(file: &IndexFile) -> Cbor {
        let bytes = gunzip(&file.bytes);
        let mut at = 0;
        let item = decode(&bytes, &mut at);
        assert_eq!(at, bytes.len(), "{}: trailing bytes", file.path);
        item
    }

    fn page(main: &str, body: &str) -> String {
        format!(
            "<!doctype html><html lang=\"de\"><head><title>Seite</title></head><body>\
             <header><a id=\"top\" href=\"/\">Kopf</a></header>\
             <main {main}>{body}</main><footer>Fuß</footer></body></html>"
        )
    }

    fn index(pages: &[(&str, String)], backend: &dyn Backend) -> Vec<IndexFile> {
        let mut index = backend.new_index("de").unwrap();
        for (url, html) in pages {
            index.add_page(url, html.clone()).unwrap();
        }
        index.files().unwrap()
    }

    /// word → [(page, locs, meta_locs)] over all index chunks, page numbers absolute; plus variants.
    type Postings = BTreeMap<String, Vec<(i64, Vec<i64>, Vec<i64>)>>;

    fn words(files: &[IndexFile]) -> (Postings, Postings) {
        let mut words = BTreeMap::new();
        let mut variants = BTreeMap::new();
        let pages = |list: &Cbor| {
            let mut last = 0;
            list.items()
                .iter()
                .map(|p| {
                    let p = p.items();
                    last += p[0].int();
                    (last, p[1].ints(), p[2].ints())
                })
                .collect::<Vec<_>>()
        };
        for file in files.iter().filter(|f| f.path.starts_with("index/")) {
            let chunk = cbor(file);
            for word in chunk.items()[0].items() {
                let word = word.items();
                words.insert(word[0].text().to_string(), pages(&word[1]));
                for variant in word[2].items() {
                    let variant = variant.items();
                    variants.insert(variant[0].text().to_string(), pages(&variant[1]));
                }
            }
        }
        (words, variants)
    }

    fn fragments(files: &[IndexFile]) -> Vec<serde_json::Value> {
        let meta = files.iter().find(|f| f.path.ends_with(".pf_meta")).unwrap();
        let meta = cbor(meta);
        meta.items()[1]
            .items()
            .iter()
            .map(|p| {
                let hash = p.items()[0].text();
                let file = files
                    .iter()
                    .find(|f| f.path == format!("fragment/{hash}.pf_fragment"))
                    .unwrap();
                serde_json::from_slice(&gunzip(&file.bytes)).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_chunk_round_trips_with_words_pages_and_positions() {
        let files = index(
            &[
                (
                    "/a/",
                    page("data-pagefind-body", "<p>Daten schützen Daten</p>"),
                ),
                ("/b/", page("data-pagefind-body", "<p>Keine Daten</p>")),
            ],
            &Native,
        );
        let (words, _) = words(&files);
        // Default weight 24 is written as a marker first (-25), then the absolute position, then deltas.
        assert_eq!(
            words["dat"],
            [(0, vec![-25, 0, 2], vec![]), (1, vec![-25, 1], vec![])]
        );
        assert_eq!(words["kein"], [(1, vec![-25, 0], vec![])]);
        let entry: serde_json::Value = serde_json::from_slice(
            &files
                .iter()
                .find(|f| f.path == "pagefind-entry.json")
                .unwrap()
                .bytes,
        )
        .unwrap();
        assert_eq!(entry["version"], "1.6.0");
        assert_eq!(entry["languages"]["de"]["page_count"], 2);
        assert_eq!(entry["languages"]["de"]["wasm"], "de");
        assert!(files.iter().any(|f| f.path == "wasm.de.pagefind"));
        assert!(files.iter().any(|f| f.path == "pagefind.js"));
        // The title (first h1, else <title>) is a meta field; its words have meta positions.
        let fragments = fragments(&files);
        assert_eq!(fragments[0]["meta"]["title"], "Seite");
        assert_eq!(fragments[0]["content"], "Daten schützen Daten.");
        assert_eq!(words["seit"][0].2, vec![-1, 0]);
    }

    #[test]
    fn headings_and_weighted_elements_get_weight_markers() {
        let files = index(
            &[(
                "/a/",
                page(
                    "data-pagefind-body",
                    "<h1>Regel</h1><p>Regel</p><h2>Regel</h2>\
                     <div data-pagefind-weight=\"0.3\">Regel <h3>Regel</h3></div>\
                     <div data-pagefind-weight=\"0\">Regel</div>",
                ),
            )],
            &Native,
        );
        let (words, _) = words(&files);
        // Positions 0 (h1: 7 × 24 = 168), 1 (24), 2 (h2: 144), 3 and 4 (0.3 → 7; the h3 inherits the
        // explicit weight), 5 (0). Sorted by weight, the default first.
        assert_eq!(
            words["regel"][0].1,
            [-1, 5, -8, 3, 1, -25, 1, -145, 2, -169, 0]
        );
        assert_eq!(words["regel"][0].2, [-1, 0], "the h1 is the title");
    }

    #[test]
    fn anchors_are_ids_at_word_positions() {
        let files = index(
            &[(
                "/a/",
                page(
                    "id=\"inhalt\" data-pagefind-body",
                    "<h1>Titel</h1><p>Eins zwei</p>\
                     <h2 id=\"risiken\">Risiken <em>und</em> Folgen</h2><p>drei</p>\
                     <nav id=\"toc\"><a id=\"x\">weg</a></nav>\
                     <p data-pagefind-ignore id=\"nein\">weg</p>",
                ),
            )],
            &Native,
        );
        let fragment = &fragments(&files)[0];
        let anchors = fragment["anchors"].as_array().unwrap();
        let ids: Vec<(&str, &str, &str, u64)> = anchors
            .iter()
            .map(|a| {
                (
                    a["element"].as_str().unwrap(),
                    a["id"].as_str().unwrap(),
                    a["text"].as_str().unwrap(),
                    a["location"].as_u64().unwrap(),
                )
            })
            .collect();
        // The header's id is outside the body, main's own id is dropped with the text around it,
        // elements with data-pagefind-ignore have none; a nav is left out only after its anchor is set
        // (as in Pagefind), so it keeps an anchor, with the text of its inline children.
        assert_eq!(
            ids,
            [
                ("h2", "risiken", "Risiken und Folgen", 3),
                ("nav", "toc", "weg", 7)
            ]
        );
        assert_eq!(
            fragment["content"],
            "Titel. Eins zwei. Risiken und Folgen. drei."
        );
    }

    #[test]
    fn filters_in_all_three_syntaxes() {
        let files = index(
            &[
                (
                    "/a/",
                    page(
                        "data-pagefind-body data-pagefind-filter=\"typ:Leitlinie\"",
                        "<div data-pagefind-filter=\"status[data-status], hosting[data-hosting]\" \
                         data-status=\"freigegeben\" data-hosting=\"EU &amp; DE\"></div>\
                         <p>Lizenz: <span data-pagefind-filter=\"lizenz\">CC BY 4.0</span></p>",
                    ),
                ),
                (
                    "/b/",
                    page(
                        "data-pagefind-body data-pagefind-filter=\"typ:Register\"",
                        "<p>Text</p>",
                    ),
                ),
            ],
            &Native,
        );
        let fragments = fragments(&files);
        assert_eq!(
            fragments[0]["filters"],
            serde_json::json!({
                "hosting": ["EU & DE"],
                "lizenz": ["CC BY 4.0"],
                "status": ["freigegeben"],
                "typ": ["Leitlinie"],
            })
        );
        let typ = files
            .iter()
            .find(|f| f.path.starts_with("filter/") && cbor(f).items()[0].text() == "typ")
            .unwrap();
        let typ = cbor(typ);
        let values: Vec<(&str, Vec<i64>)> = typ.items()[1]
            .items()
            .iter()
            .map(|v| (v.items()[0].text(), v.items()[1].ints()))
            .collect();
        assert_eq!(values, [("Leitlinie", vec![0]), ("Register", vec![1])]);
    }

    #[test]
    fn diacritics_are_folded_with_the_original_as_variant() {
        let files = index(
            &[(
                "/a/",
                page(
                    "data-pagefind-body",
                    "<p>Übermittlung und Ubermittlung, Datenschutz-Folgenabschätzung</p>",
                ),
            )],
            &Native,
        );
        let (words, variants) = words(&files);
        assert_eq!(words["ubermittl"], [(0, vec![-25, 2], vec![])]);
        assert_eq!(variants["übermittlung"], [(0, vec![-25, 0], vec![])]);
        // The compound's parts share the word's weight (24 / 2 = 12).
        assert_eq!(variants["folgenabschätzung"], [(0, vec![-13, 3], vec![])]);
        assert_eq!(words["datenschutz"], [(0, vec![-13, 3], vec![])]);
    }

    #[test]
    fn malformed_html_does_not_panic() {
        let inputs = [
            "",
            "<",
            "<html",
            "<html><main data-pagefind-body><p>offen <b>fett",
            "<html><body><main data-pagefind-body></div></p>Text</main>",
            "<html><main data-pagefind-body data-pagefind-filter=\":\">&#xFFFFFF; &unknown; x</main>",
            "<html><main data-pagefind-body><h1 id=\"a b\">x</h1><svg><path/><text>y</text></svg>z",
            "<html><main data-pagefind-body data-pagefind-weight=\"NaN\">\u{200B} ___PAGEFIND_ANCHOR___x ___END_PAGEFIND_WEIGHT___ ___END_PAGEFIND_WEIGHT___ a</main>",
        ];
        let mut analyzer = Analyzer::new("de");
        for html in inputs {
            let _ = extract("/x/", html, &mut analyzer);
        }
        let pages: Vec<(&str, String)> = inputs
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    ["/a/", "/b/", "/c/", "/d/", "/e/", "/f/", "/g/", "/h/"][i],
                    h.to_string(),
                )
            })
            .collect();
        let _ = index(&pages, &Native);
    }

    /// The native index holds what Pagefind's holds, file by file (names are content hashes).
    #[test]
    fn same_index_as_pagefind() {
        let pages = [
            (
                "/leitlinien/a/",
                page(
                    "data-pagefind-body data-pagefind-filter=\"typ:Leitlinie\"",
                    "<nav data-pagefind-ignore><ol><li>Inhalt</li></ol></nav>\
                     <h1>KI-Leitlinie &amp; Datenschutz</h1><p>Ein&shy;leitung: Künstliche Intelligenz (KI) \
                     im Landkreis Lüneburg – sicher&nbsp;einsetzen.</p>\
                     <h2 id=\"dsfa\">Datenschutz-Folgen&shy;abschätzung</h2><p>Risiken der Übermittlung in \
                     Drittländer; siehe Art.&nbsp;35 DSGVO, sysconfig.is_python_build, eGovernment 😀.</p>\
                     <nav id=\"toc\"><a id=\"y\" href=\"#x\">Sprung</a></nav><p data-pagefind-ignore id=\"z\">weg</p>\
                     <dl><dt>Begriff</dt><dd>Erklärung</dd></dl><table><tr><td>Zelle</td><th>Kopf</th></tr></table>\
                     <div data-pagefind-weight=\"0.5\">⁂ risiko übermittlung ⁂</div>\
                     <h3 id=\"x\" data-pagefind-title=\"Eigener Titel\">Unter<code>punkt</code></h3>\
                     <p>Lizenz: <span data-pagefind-filter=\"lizenz\">CC BY 4.0</span> <br>neu</p>\
                     <img src=\"/bild.png\" alt=\"Ein Bild\">",
                ),
            ),
            (
                "/register/b/",
                page(
                    "data-pagefind-body data-regelwerk-sekundaer data-pagefind-filter=\"typ[data-typ], status[data-status]\" data-typ=\"Register\" data-status=\"geprüft\"",
                    "<h1>BärGPT</h1><section><p>Chat-Assistent für die Verwaltung.</p>\
                     <ul><li>eins</li><li>zwei</li></ul></section>\
                     <div data-pagefind-weight=\"0.3\"><p>Rollen und Zuständigkeiten</p></div>\
                     <p data-pagefind-meta=\"autor:Team\">Text</p>",
                ),
            ),
            (
                "/seiten/c/",
                page(
                    "data-pagefind-body",
                    "<p>Impressum</p><h1></h1><h1>Spät</h1>",
                ),
            ),
            ("/leer/", page("data-pagefind-body", "<p> </p>")),
        ];
        let native = index(&pages, &Native);
        let reference = index(&pages, &crate::search::pagefind::Pagefind);
        let comparable = |files: &[IndexFile]| -> BTreeMap<String, Vec<u8>> {
            files
                .iter()
                .filter(|f| {
                    f.path.starts_with("index/")
                        || f.path.starts_with("filter/")
                        || f.path.starts_with("fragment/")
                        || f.path.ends_with(".pf_meta")
                })
                .map(|f| (f.path.clone(), gunzip(&f.bytes)))
                .chain(
                    files
                        .iter()
                        .filter(|f| {
                            f.path == "pagefind-entry.json"
                                || f.path == "pagefind.js"
                                || f.path == "wasm.de.pagefind"
                        })
                        .map(|f| (f.path.clone(), f.bytes.to_vec())),
                )
                .collect()
        };
        let native = comparable(&native);
        let reference = comparable(&reference);
        for (path, bytes) in &reference {
            let ours = native.get(path).unwrap_or_else(|| {
                panic!(
                    "{path} missing; native has {:?}",
                    native.keys().collect::<Vec<_>>()
                )
            });
            assert!(
                ours == bytes,
                "{path} differs:\nnative:    {}\npagefind:  {}",
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(
            native.keys().collect::<Vec<_>>(),
            reference.keys().collect::<Vec<_>>()
        );
    }
}
