//! Pages' [`PageData`] → the files of a Pagefind 1.6 index (`pagefind/src/index/mod.rs`,
//! `output/mod.rs`):
//!
//! - `pagefind.{lang}_{hash}.pf_meta`: version, pages (fragment hash, word count), the word chunks with
//!   the first and last word each covers (shortened to the shortest distinguishing prefixes), filters,
//!   sorts, metadata fields;
//! - `index/{lang}_{hash}.pf_index`: the words in byte order, cut into chunks of about 20,000 postings;
//!   per word its pages (page numbers delta-encoded) with packed positions, and its spellings with
//!   diacritics as variants;
//! - `filter/{lang}_{hash}.pf_filter`: per filter its values and their pages;
//! - `fragment/{lang}_{hash}.pf_fragment`: per page the JSON the browser shows.
//!
//! All binary files are CBOR (arrays of fields in declaration order, as `minicbor`'s derive writes them),
//! prefixed with `pagefind_dcd` and gzipped. Names are the SHA-1 of the content (hex digits without
//! leading zeros, as Pagefind writes them), shortened to 7 digits and lengthened on collision.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use hashbrown::HashMap;
use rayon::prelude::*;
use sha1::{Digest, Sha1};

use super::extract::{PageData, Postings};
use crate::search::{IndexFile, SearchError};

/// Pagefind's chunk size: postings (positions + one per page) per index file.
pub const INDEX_CHUNK_SIZE: usize = 20_000;

/// The gzip level of the index files (flate2 on zlib-rs). Pagefind uses level 9 (miniz_oxide); level 6
/// of zlib-rs is slightly smaller still on our pages and several times faster (BENCHMARKS.md,
/// "Native index").
pub const GZIP_LEVEL: u32 = 6;

/// The version the runtime checks in `pf_meta`.
pub const PAGEFIND_VERSION: &str = "1.6.0";

/// Postings per page number.
pub type PagePostings = Vec<(usize, Postings)>;

/// A word with all its pages, as in an index chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedWord {
    pub word: Arc<str>,
    pub pages: Vec<(usize, Postings)>,
    pub variants: Vec<(Arc<str>, PagePostings)>,
}

/// Compressed files of an earlier build by the blake3 hash of their content before compression: a file
/// whose content did not change is taken from here instead of being compressed again (gzip is
/// deterministic, so the bytes are the same).
#[derive(Debug, Clone, Default)]
pub struct Compressed(pub HashMap<[u8; 32], EarlierFile>);

/// A compressed file of an earlier build.
#[derive(Debug, Clone)]
pub struct EarlierFile {
    pub bytes: bytes::Bytes,
    /// blake3 of `bytes` (for the output's manifest).
    pub hash: [u8; 32],
}

/// The index of one language: its files (paths relative to the index folder) and its entry in
/// `pagefind-entry.json`.
pub struct Written {
    pub files: Vec<IndexFile>,
    /// The blake3 hash of each file's content before compression, in the order of `files` (the keys of
    /// [`Compressed`] for the next build).
    pub contents: Vec<[u8; 32]>,
    /// The `pf_meta` hash (`de_1a2b3c4d5e`).
    pub meta_hash: String,
    pub page_count: usize,
    /// What the files were made of, for updating them in the next build ([`super::update`]).
    pub layout: Layout,
}

/// What the index keeps of a page besides its words: its fragment and what `pf_meta` and the filters
/// are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    /// The SHA-1 of the fragment with the language (`de_1a2b…`, whole; the file name is a prefix).
    pub fragment: String,
    /// The blake3 hash of the fragment's JSON (its key in [`Compressed`]).
    pub content: [u8; 32],
    pub word_count: usize,
    pub filters: BTreeMap<String, Vec<String>>,
    pub sort: BTreeMap<String, String>,
}

impl PageSummary {
    /// The summary of a page and its fragment's JSON.
    pub fn of(page: &PageData, language: &str) -> (Self, Vec<u8>) {
        let json = serde_json::to_string(&page.fragment).unwrap_or_default();
        let summary = PageSummary {
            fragment: format!("{language}_{}", full_hash(json.as_bytes())),
            content: *blake3::hash(json.as_bytes()).as_bytes(),
            word_count: page.fragment.word_count,
            filters: page.fragment.filters.clone(),
            sort: page.sort.clone(),
        };
        (summary, json.into_bytes())
    }
}

/// An index chunk as written: its first and last word (whole), the SHA-1 of its content with the
/// language (whole) and the blake3 hash of its content (its key in [`Compressed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSummary {
    pub first: String,
    pub last: String,
    pub hash: String,
    pub content: [u8; 32],
}

impl ChunkSummary {
    /// Encodes a chunk: its summary and its content.
    pub fn encode(chunk: &[PackedWord], language: &str) -> (Self, Vec<u8>) {
        let bytes = encode_chunk(chunk);
        let summary = ChunkSummary {
            first: chunk.first().map_or(String::new(), |w| w.word.to_string()),
            last: chunk.last().map_or(String::new(), |w| w.word.to_string()),
            hash: format!("{language}_{}", full_hash(&bytes)),
            content: *blake3::hash(&bytes).as_bytes(),
        };
        (summary, bytes)
    }
}

/// What an index's files are made of besides the words' postings: the pages in index order, the
/// metadata fields, the chunks in word order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub pages: Vec<PageSummary>,
    pub meta_fields: Vec<String>,
    pub chunks: Vec<ChunkSummary>,
}

/// Builds the index files of `pages` (in page order); `None` when no page has words (Pagefind writes no
/// index for the language then).
pub fn write(pages: Vec<PageData>, language: &str) -> Result<Option<Written>, SearchError> {
    write_reusing(pages, language, &Compressed::default())
}

/// The pages that go into the index, in page order: with words, and only those with
/// `data-pagefind-body` when any page has it.
pub fn indexed(pages: Vec<PageData>) -> Vec<PageData> {
    let custom_body = pages.iter().any(|p| p.has_custom_body);
    pages
        .into_iter()
        .filter(|p| (!custom_body || p.has_custom_body) && p.has_words)
        .collect()
}

/// The metadata fields of the index: every page's, sorted.
pub fn meta_fields<'a>(pages: impl Iterator<Item = &'a PageData>) -> Vec<String> {
    pages
        .flat_map(|p| p.fragment.meta.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// [`write()`], taking files whose content is in `earlier` from there.
pub fn write_reusing(
    pages: Vec<PageData>,
    language: &str,
    earlier: &Compressed,
) -> Result<Option<Written>, SearchError> {
    let pages = indexed(pages);
    if pages.is_empty() {
        return Ok(None);
    }
    let meta_fields = meta_fields(pages.iter());
    // Fragments: JSON and hashes in parallel.
    let (summaries, fragments): (Vec<PageSummary>, Vec<Option<Vec<u8>>>) = pages
        .par_iter()
        .map(|page| {
            let (summary, json) = PageSummary::of(page, language);
            (summary, Some(json))
        })
        .unzip();

    // Words: merge the pages' words in page order, then sort and chunk.
    let mut words: HashMap<Arc<str>, PackedWord> = HashMap::new();
    for (number, page) in pages.into_iter().enumerate() {
        let fields = field_map(&page, &meta_fields);
        for word in page.words {
            let entry = words
                .entry(Arc::clone(&word.word))
                .or_insert_with(|| PackedWord {
                    word: word.word,
                    pages: Vec::new(),
                    variants: Vec::new(),
                });
            if let Some(mut postings) = word.page {
                remap_fields(&mut postings.meta_locs, &fields);
                entry.pages.push((number, postings));
            }
            for (form, mut postings) in word.variants {
                remap_fields(&mut postings.meta_locs, &fields);
                match entry.variants.iter_mut().find(|(f, _)| *f == form) {
                    Some((_, pages)) => pages.push((number, postings)),
                    None => entry.variants.push((form, vec![(number, postings)])),
                }
            }
        }
    }
    let mut words: Vec<PackedWord> = words.into_values().collect();
    words.par_sort_unstable_by(|a, b| a.word.cmp(&b.word));
    let chunks = chunk_index(words, INDEX_CHUNK_SIZE);
    let (chunks, chunk_bytes): (Vec<ChunkSummary>, Vec<Option<Vec<u8>>>) = chunks
        .par_iter()
        .map(|chunk| {
            let (summary, bytes) = ChunkSummary::encode(chunk, language);
            (summary, Some(bytes))
        })
        .unzip();
    let layout = Layout {
        pages: summaries,
        meta_fields,
        chunks,
    };
    let written = assemble(language, layout, fragments, chunk_bytes, earlier)?;
    // Every file's content was given: nothing is missing from `earlier`.
    written
        .map(Some)
        .ok_or_else(|| SearchError("Index unvollständig".into()))
}

/// A page's metadata field numbers → the index's (both sorted by name).
pub fn field_map(page: &PageData, meta_fields: &[String]) -> Vec<i32> {
    page.fragment
        .meta
        .keys()
        .map(|k| meta_fields.binary_search(k).unwrap_or_default() as i32)
        .collect()
}

/// The files of an index from its layout. The contents of fragments and chunks are given where they
/// are new (`Some`, in the order of the layout's pages and chunks) and otherwise taken compressed from
/// `earlier` by their hash; `None` when one of those is not there.
pub fn assemble(
    language: &str,
    layout: Layout,
    fragments: Vec<Option<Vec<u8>>>,
    chunks: Vec<Option<Vec<u8>>>,
    earlier: &Compressed,
) -> Result<Option<Written>, SearchError> {
    if u32::try_from(layout.pages.len()).is_err() {
        return Err(SearchError(format!(
            "zu viele Seiten in einem Index ({})",
            layout.pages.len()
        )));
    }
    let pages = &layout.pages;
    // Fragment names in page order (a collision lengthens the later one).
    let mut fragment_names: HashMap<String, usize> = HashMap::new();
    let mut meta_pages = Vec::with_capacity(pages.len());
    let mut raw: Vec<(String, Option<Vec<u8>>, [u8; 32])> =
        Vec::with_capacity(pages.len() + layout.chunks.len() + 16);
    for (i, (page, json)) in pages.iter().zip(fragments).enumerate() {
        let name = short_name(&page.fragment, language.len() + 8, 1, |n| {
            fragment_names.contains_key(n)
        });
        fragment_names.insert(name.clone(), i);
        meta_pages.push((name.clone(), page.word_count));
        raw.push((format!("fragment/{name}.pf_fragment"), json, page.content));
    }

    // Filters.
    let mut filter_map: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for (number, page) in pages.iter().enumerate() {
        for (filter, values) in &page.filters {
            for value in values {
                filter_map
                    .entry(filter)
                    .or_default()
                    .entry(value)
                    .or_default()
                    .push(number);
            }
        }
    }
    let encoded_filters: Vec<(String, Vec<u8>, String)> = filter_map
        .into_par_iter()
        .map(|(filter, values)| {
            let mut bytes = Vec::new();
            cbor::array(&mut bytes, 2);
            cbor::text(&mut bytes, filter);
            cbor::array(&mut bytes, values.len());
            for (value, pages) in values {
                cbor::array(&mut bytes, 2);
                cbor::text(&mut bytes, value);
                cbor::array(&mut bytes, pages.len());
                for page in pages {
                    cbor::unsigned(&mut bytes, page as u64);
                }
            }
            let hash = format!("{language}_{}", full_hash(&bytes));
            (filter.to_string(), bytes, hash)
        })
        .collect();
    let mut filter_names: Vec<String> = Vec::new();
    let mut meta_filters = Vec::new();
    for (filter, bytes, hash) in encoded_filters {
        let name = short_name(&hash, language.len() + 8, 2, |n| {
            filter_names.iter().any(|f| f == n)
        });
        meta_filters.push((filter, name.clone()));
        filter_names.push(name.clone());
        let content = *blake3::hash(&bytes).as_bytes();
        raw.push((format!("filter/{name}.pf_filter"), Some(bytes), content));
    }

    // Index chunks: names in word order, ranges cut to distinguishing prefixes.
    let mut meta_chunks = chunk_meta(&layout.chunks);
    let mut index_names: HashMap<String, ()> = HashMap::new();
    for (i, (chunk, bytes)) in layout.chunks.iter().zip(chunks).enumerate() {
        let name = short_name(&chunk.hash, language.len() + 8, 2, |n| {
            index_names.contains_key(n)
        });
        index_names.insert(name.clone(), ());
        meta_chunks[i].2 = name.clone();
        raw.push((format!("index/{name}.pf_index"), bytes, chunk.content));
    }

    // The metadata file.
    let sorts = sorts(pages);
    let mut meta = Vec::new();
    cbor::array(&mut meta, 6);
    cbor::text(&mut meta, PAGEFIND_VERSION);
    cbor::array(&mut meta, meta_pages.len());
    for (hash, word_count) in &meta_pages {
        cbor::array(&mut meta, 3);
        cbor::text(&mut meta, hash);
        cbor::unsigned(&mut meta, *word_count as u32 as u64);
        cbor::text(&mut meta, "");
    }
    cbor::array(&mut meta, meta_chunks.len());
    for (from, to, hash) in &meta_chunks {
        cbor::array(&mut meta, 3);
        cbor::text(&mut meta, from);
        cbor::text(&mut meta, to);
        cbor::text(&mut meta, hash);
    }
    cbor::array(&mut meta, meta_filters.len());
    for (filter, hash) in &meta_filters {
        cbor::array(&mut meta, 2);
        cbor::text(&mut meta, filter);
        cbor::text(&mut meta, hash);
    }
    cbor::array(&mut meta, sorts.len());
    for (sort, pages) in &sorts {
        cbor::array(&mut meta, 2);
        cbor::text(&mut meta, sort);
        cbor::array(&mut meta, pages.len());
        for page in pages {
            cbor::unsigned(&mut meta, *page as u64);
        }
    }
    cbor::array(&mut meta, layout.meta_fields.len());
    for field in &layout.meta_fields {
        cbor::text(&mut meta, field);
    }
    let meta_hash = full_hash(&meta);
    let meta_hash = format!(
        "{language}_{}",
        meta_hash
            .get(..language.len() + 8)
            .unwrap_or(meta_hash.as_str())
    );
    let meta_content = *blake3::hash(&meta).as_bytes();
    raw.insert(
        0,
        (
            format!("pagefind.{meta_hash}.pf_meta"),
            Some(meta),
            meta_content,
        ),
    );

    let compressed: Vec<Option<(IndexFile, [u8; 32])>> = raw
        .into_par_iter()
        .map(|(path, bytes, content)| {
            let file = match (earlier.0.get(&content), bytes) {
                (Some(earlier), _) => IndexFile {
                    path,
                    bytes: earlier.bytes.clone(),
                    hash: Some(earlier.hash),
                },
                (None, Some(bytes)) => IndexFile::new(
                    path,
                    compress(&bytes).map_err(|e| SearchError(format!("gzip: {e}")))?,
                ),
                (None, None) => return Ok(None),
            };
            Ok(Some((file, content)))
        })
        .collect::<Result<_, SearchError>>()?;
    let Some(compressed) = compressed.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let (files, contents) = compressed.into_iter().unzip();
    Ok(Some(Written {
        files,
        contents,
        meta_hash,
        page_count: meta_pages.len(),
        layout,
    }))
}

/// Replaces the page's field numbers in meta positions (`-(field + 1)`) by the index's. Both orders
/// are sorted by name, so the order of the markers stays valid.
pub fn remap_fields(meta_locs: &mut [i32], fields: &[i32]) {
    for loc in meta_locs.iter_mut().filter(|l| **l < 0) {
        let local = (-*loc - 1) as usize;
        if let Some(global) = fields.get(local) {
            *loc = -global - 1;
        }
    }
}

/// Sort orders of `data-pagefind-sort` keys: numeric when every value parses as a number.
fn sorts(pages: &[PageSummary]) -> Vec<(String, Vec<usize>)> {
    let keys: BTreeSet<&String> = pages.iter().flat_map(|p| p.sort.keys()).collect();
    keys.into_iter()
        .map(|key| {
            let mut values: Vec<(&String, usize)> = pages
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.sort.get(key).map(|v| (v, i)))
                .collect();
            let number = |v: &str| {
                v.parse::<i32>()
                    .map(|i| i as f32)
                    .ok()
                    .or_else(|| v.parse::<f32>().ok())
            };
            if values.iter().all(|(v, _)| number(v).is_some()) {
                values.sort_by(|a, b| {
                    number(a.0)
                        .unwrap_or_default()
                        .total_cmp(&number(b.0).unwrap_or_default())
                });
            } else {
                values.sort_by_key(|p| p.0);
            }
            (key.clone(), values.into_iter().map(|(_, i)| i).collect())
        })
        .collect()
}

/// What a word counts towards its chunk's size: its postings, one per page, one per variant.
pub fn word_size(word: &PackedWord) -> usize {
    word.pages
        .iter()
        .chain(word.variants.iter().flat_map(|(_, pages)| pages))
        .map(|(_, p)| p.locs.len() + p.meta_locs.len() + 1)
        .sum::<usize>()
        + word.variants.len()
}

/// Pagefind's `chunk_index`: words in order, a new chunk when the postings reach `chunk_size`.
pub fn chunk_index(words: Vec<PackedWord>, chunk_size: usize) -> Vec<Vec<PackedWord>> {
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    let mut size = 0;
    for word in words {
        size += word_size(&word);
        chunk.push(word);
        if size >= chunk_size {
            chunks.push(std::mem::take(&mut chunk));
            size = 0;
        }
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

/// Pagefind's `chunk_meta`: each chunk's first and last word, cut to the prefixes that tell neighbouring
/// chunks apart. Returns (from, to, hash) with the hash still empty.
fn chunk_meta(chunks: &[ChunkSummary]) -> Vec<(String, String, String)> {
    let mut named: Vec<(String, String, String)> = chunks
        .iter()
        .map(|chunk| (chunk.first.clone(), chunk.last.clone(), String::new()))
        .collect();
    for i in 1..named.len() {
        let (a, b) = prefixes(&named[i - 1].1, &named[i].0);
        if a >= named[i - 1].0 {
            named[i - 1].1 = a;
        }
        named[i].0 = b;
    }
    named
}

fn prefixes(a: &str, b: &str) -> (String, String) {
    let common = b.chars().zip(a.chars()).take_while(|(x, y)| x == y).count();
    (
        a.chars().take(common + 1).collect(),
        b.chars().take(common + 1).collect(),
    )
}

/// One `pf_index` chunk: `[[word, [[page delta, locs, meta_locs]…], [[form, pages]…]]…]`.
pub fn encode_chunk(chunk: &[PackedWord]) -> Vec<u8> {
    let postings: usize = chunk
        .iter()
        .map(|w| w.pages.iter().map(|(_, p)| p.locs.len() + 4).sum::<usize>() + 8)
        .sum();
    let mut out = Vec::with_capacity(postings * 2);
    cbor::array(&mut out, 1);
    cbor::array(&mut out, chunk.len());
    for word in chunk {
        cbor::array(&mut out, 3);
        cbor::text(&mut out, &word.word);
        encode_pages(&mut out, &word.pages);
        cbor::array(&mut out, word.variants.len());
        for (form, pages) in &word.variants {
            cbor::array(&mut out, 2);
            cbor::text(&mut out, form);
            encode_pages(&mut out, pages);
        }
    }
    out
}

fn encode_pages(out: &mut Vec<u8>, pages: &[(usize, Postings)]) {
    cbor::array(out, pages.len());
    let mut last = 0;
    for (number, postings) in pages {
        cbor::array(out, 3);
        cbor::unsigned(out, number.saturating_sub(last) as u64);
        last = *number;
        cbor::array(out, postings.locs.len());
        for &loc in &postings.locs {
            cbor::signed(out, loc as i64);
        }
        cbor::array(out, postings.meta_locs.len());
        for &loc in &postings.meta_locs {
            cbor::signed(out, loc as i64);
        }
    }
}

/// SHA-1 as Pagefind prints it: each byte in hex without a leading zero.
pub fn full_hash(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha1::digest(bytes);
    let mut out = String::with_capacity(40);
    for byte in digest {
        let _ = write!(out, "{byte:x}");
    }
    out
}

/// The prefix of `hash` of `length` characters, lengthened by `step` while `taken` reports it, as
/// Pagefind names files (by one character for fragments, by two for index and filter chunks); the whole
/// hash at most.
fn short_name(hash: &str, length: usize, step: usize, taken: impl Fn(&str) -> bool) -> String {
    let mut length = length.min(hash.len());
    while length < hash.len() && taken(&hash[..length]) {
        length = (length + step).min(hash.len());
    }
    hash[..length].to_string()
}

/// The prefix of every index file's content before compression.
pub const DECOMPRESSED_MARK: &[u8] = b"pagefind_dcd";

/// `pagefind_dcd` + content, gzipped.
fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3 + 64),
        Compression::new(GZIP_LEVEL),
    );
    gz.write_all(DECOMPRESSED_MARK)?;
    gz.write_all(bytes)?;
    gz.finish()
}

/// The few CBOR items the index uses (RFC 8949, definite lengths, shortest heads — as `minicbor`).
pub mod cbor {
    fn head(out: &mut Vec<u8>, major: u8, value: u64) {
        let major = major << 5;
        if value < 24 {
            out.push(major | value as u8);
        } else if value <= u8::MAX as u64 {
            out.extend_from_slice(&[major | 24, value as u8]);
        } else if value <= u16::MAX as u64 {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        } else if value <= u32::MAX as u64 {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        } else {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }

    /// An unsigned integer.
    pub fn unsigned(out: &mut Vec<u8>, value: u64) {
        head(out, 0, value);
    }

    /// A signed integer.
    pub fn signed(out: &mut Vec<u8>, value: i64) {
        if value >= 0 {
            head(out, 0, value as u64);
        } else {
            head(out, 1, (-1 - value) as u64);
        }
    }

    /// A text string.
    pub fn text(out: &mut Vec<u8>, value: &str) {
        head(out, 3, value.len() as u64);
        out.extend_from_slice(value.as_bytes());
    }

    /// The head of an array of `len` items.
    pub fn array(out: &mut Vec<u8>, len: usize) {
        head(out, 4, len as u64);
    }
}
