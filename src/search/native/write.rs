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
pub struct Compressed(pub HashMap<[u8; 32], Vec<u8>>);

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
}

/// Builds the index files of `pages` (in page order); `None` when no page has words (Pagefind writes no
/// index for the language then).
pub fn write(pages: Vec<PageData>, language: &str) -> Result<Option<Written>, SearchError> {
    write_reusing(pages, language, &Compressed::default())
}

/// [`write`], taking files whose content is in `earlier` from there.
pub fn write_reusing(
    pages: Vec<PageData>,
    language: &str,
    earlier: &Compressed,
) -> Result<Option<Written>, SearchError> {
    let custom_body = pages.iter().any(|p| p.has_custom_body);
    let pages: Vec<PageData> = pages
        .into_iter()
        .filter(|p| (!custom_body || p.has_custom_body) && p.has_words)
        .collect();
    if pages.is_empty() {
        return Ok(None);
    }
    if u32::try_from(pages.len()).is_err() {
        return Err(SearchError(format!(
            "zu viele Seiten in einem Index ({})",
            pages.len()
        )));
    }

    let sorts = sorts(&pages);
    let meta_fields: Vec<String> = pages
        .iter()
        .flat_map(|p| p.fragment.meta.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    // Fragments: JSON and hashes in parallel, names in page order (a collision lengthens the later one).
    let encoded: Vec<(String, String, usize)> = pages
        .par_iter()
        .map(|page| {
            let json = serde_json::to_string(&page.fragment).unwrap_or_default();
            let hash = format!("{language}_{}", full_hash(json.as_bytes()));
            (json, hash, page.fragment.word_count)
        })
        .collect();
    let mut fragment_names: HashMap<String, usize> = HashMap::new();
    let mut meta_pages = Vec::with_capacity(pages.len());
    let mut fragments = Vec::with_capacity(pages.len());
    for (i, (json, hash, word_count)) in encoded.into_iter().enumerate() {
        let name = short_name(&hash, language.len() + 8, 1, |n| {
            fragment_names.contains_key(n)
        });
        fragment_names.insert(name.clone(), i);
        meta_pages.push((name.clone(), word_count));
        fragments.push((name, json));
    }

    // Filters.
    let mut filter_map: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for (number, page) in pages.iter().enumerate() {
        for (filter, values) in &page.fragment.filters {
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
    let mut filter_files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut meta_filters = Vec::new();
    for (filter, bytes, hash) in encoded_filters {
        let name = short_name(&hash, language.len() + 8, 2, |n| {
            filter_files.iter().any(|(f, _)| f == n)
        });
        meta_filters.push((filter, name.clone()));
        filter_files.push((name, bytes));
    }

    // Words: merge the pages' words in page order, then sort and chunk.
    let field_maps: Vec<Vec<i32>> = pages
        .iter()
        .map(|p| {
            p.fragment
                .meta
                .keys()
                .map(|k| meta_fields.binary_search(k).unwrap_or_default() as i32)
                .collect()
        })
        .collect();
    let mut words: HashMap<Arc<str>, PackedWord> = HashMap::new();
    for (number, page) in pages.into_iter().enumerate() {
        let fields = &field_maps[number];
        for word in page.words {
            let entry = words
                .entry(Arc::clone(&word.word))
                .or_insert_with(|| PackedWord {
                    word: word.word,
                    pages: Vec::new(),
                    variants: Vec::new(),
                });
            if let Some(mut postings) = word.page {
                remap_fields(&mut postings.meta_locs, fields);
                entry.pages.push((number, postings));
            }
            for (form, mut postings) in word.variants {
                remap_fields(&mut postings.meta_locs, fields);
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
    let mut meta_chunks = chunk_meta(&chunks);
    let encoded_chunks: Vec<(Vec<u8>, String)> = chunks
        .par_iter()
        .map(|chunk| {
            let bytes = encode_chunk(chunk);
            let hash = format!("{language}_{}", full_hash(&bytes));
            (bytes, hash)
        })
        .collect();
    let mut index_files: Vec<(String, Vec<u8>)> = Vec::with_capacity(encoded_chunks.len());
    let mut index_names: HashMap<String, ()> = HashMap::new();
    for (i, (bytes, hash)) in encoded_chunks.into_iter().enumerate() {
        let name = short_name(&hash, language.len() + 8, 2, |n| {
            index_names.contains_key(n)
        });
        index_names.insert(name.clone(), ());
        meta_chunks[i].2 = name.clone();
        index_files.push((name, bytes));
    }

    // The metadata file.
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
    cbor::array(&mut meta, meta_fields.len());
    for field in &meta_fields {
        cbor::text(&mut meta, field);
    }
    let meta_hash = full_hash(&meta);
    let meta_hash = format!(
        "{language}_{}",
        meta_hash
            .get(..language.len() + 8)
            .unwrap_or(meta_hash.as_str())
    );

    let mut raw: Vec<(String, Vec<u8>)> =
        Vec::with_capacity(fragments.len() + index_files.len() + filter_files.len() + 1);
    raw.push((format!("pagefind.{meta_hash}.pf_meta"), meta));
    raw.extend(
        fragments
            .into_iter()
            .map(|(name, json)| (format!("fragment/{name}.pf_fragment"), json.into_bytes())),
    );
    raw.extend(
        index_files
            .into_iter()
            .map(|(name, bytes)| (format!("index/{name}.pf_index"), bytes)),
    );
    raw.extend(
        filter_files
            .into_iter()
            .map(|(name, bytes)| (format!("filter/{name}.pf_filter"), bytes)),
    );
    let (files, contents) = raw
        .into_par_iter()
        .map(|(path, bytes)| {
            let content = *blake3::hash(&bytes).as_bytes();
            let bytes = match earlier.0.get(&content) {
                Some(compressed) => compressed.clone(),
                None => compress(&bytes).map_err(|e| SearchError(format!("gzip: {e}")))?,
            };
            Ok((IndexFile { path, bytes }, content))
        })
        .collect::<Result<(Vec<_>, Vec<_>), SearchError>>()?;
    Ok(Some(Written {
        files,
        contents,
        meta_hash,
        page_count: meta_pages.len(),
    }))
}

/// Replaces the page's field numbers in meta positions (`-(field + 1)`) by the index's. Both orders
/// are sorted by name, so the order of the markers stays valid.
fn remap_fields(meta_locs: &mut [i32], fields: &[i32]) {
    for loc in meta_locs.iter_mut().filter(|l| **l < 0) {
        let local = (-*loc - 1) as usize;
        if let Some(global) = fields.get(local) {
            *loc = -global - 1;
        }
    }
}

/// Sort orders of `data-pagefind-sort` keys: numeric when every value parses as a number.
fn sorts(pages: &[PageData]) -> Vec<(String, Vec<usize>)> {
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

/// Pagefind's `chunk_index`: words in order, a new chunk when the postings reach `chunk_size`.
fn chunk_index(words: Vec<PackedWord>, chunk_size: usize) -> Vec<Vec<PackedWord>> {
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    let mut size = 0;
    for word in words {
        size += word
            .pages
            .iter()
            .chain(word.variants.iter().flat_map(|(_, pages)| pages))
            .map(|(_, p)| p.locs.len() + p.meta_locs.len() + 1)
            .sum::<usize>()
            + word.variants.len();
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
fn chunk_meta(chunks: &[Vec<PackedWord>]) -> Vec<(String, String, String)> {
    let mut named: Vec<(String, String, String)> = chunks
        .iter()
        .map(|chunk| {
            (
                chunk.first().map_or(String::new(), |w| w.word.to_string()),
                chunk.last().map_or(String::new(), |w| w.word.to_string()),
                String::new(),
            )
        })
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
fn encode_chunk(chunk: &[PackedWord]) -> Vec<u8> {
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

/// `pagefind_dcd` + content, gzipped.
fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3 + 64),
        Compression::new(GZIP_LEVEL),
    );
    gz.write_all(b"pagefind_dcd")?;
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
