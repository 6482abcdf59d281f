//! Updating the index an earlier build wrote instead of writing it anew: when pages changed but every
//! page kept its number, the words of the changed pages are taken out of the index chunks they were in
//! and their new words put in; only those chunks are decoded and encoded again, all other files are
//! taken from the earlier build (by the hash of their content).
//!
//! The result is byte for byte what [`super::write::write_reusing`] writes from all pages: words keep
//! their pages in page order, a word's spellings (variants) keep the order in which a clean merge meets
//! them (by their first page, then in that page's order), chunks are cut by the same rule. Where that
//! order cannot be told from what is kept, [`update`] gives up (`None`) and the caller writes the index
//! anew.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use flate2::read::GzDecoder;
use hashbrown::HashMap;
use rayon::prelude::*;

use super::extract::{PageData, PageWord, Postings};
use super::write::{
    self, ChunkSummary, Compressed, INDEX_CHUNK_SIZE, Layout, PackedWord, PageSummary, Written,
};
use crate::search::SearchError;

/// A changed page: its number in the index, its data in the earlier build and now.
pub struct Change {
    pub number: usize,
    pub old: PageData,
    pub new: PageData,
}

/// The index of `layout` (the earlier build's) with `changes` applied, its unchanged files taken from
/// `earlier`. `None` when the update cannot reproduce a clean build exactly (a page's metadata fields
/// changed, an earlier file is missing or damaged, an ambiguous order): then write the index anew.
pub fn update(
    layout: &Layout,
    changes: Vec<Change>,
    language: &str,
    earlier: &Compressed,
) -> Result<Option<Written>, SearchError> {
    let changed: BTreeSet<usize> = changes.iter().map(|c| c.number).collect();
    let usable = !layout.chunks.is_empty()
        && changed.len() == changes.len()
        && changes.iter().all(|c| {
            c.number < layout.pages.len()
                && c.old.fragment.meta.keys().eq(c.new.fragment.meta.keys())
                && [&c.old, &c.new].iter().all(|p| {
                    p.words
                        .iter()
                        .all(|w| w.page.is_some() || !w.variants.is_empty())
                })
        });
    if !usable {
        return Ok(None);
    }

    // The changed pages' fragments.
    let mut pages: Vec<PageSummary> = layout.pages.clone();
    let mut fragments: Vec<Option<Vec<u8>>> = vec![None; pages.len()];
    let summaries: Vec<(usize, PageSummary, Vec<u8>)> = changes
        .par_iter()
        .map(|c| {
            let (summary, json) = PageSummary::of(&c.new, language);
            (c.number, summary, json)
        })
        .collect();
    for (number, summary, json) in summaries {
        pages[number] = summary;
        fragments[number] = Some(json);
    }

    // The words whose postings changed on a changed page, and the chunks that hold them.
    let differing: Vec<(Vec<&PageWord>, Vec<&PageWord>)> = changes.iter().map(differing).collect();
    let dirty: BTreeSet<&Arc<str>> = differing
        .iter()
        .flat_map(|(old, new)| old.iter().chain(new))
        .map(|w| &w.word)
        .collect();
    let chunk_of = |word: &str| {
        layout
            .chunks
            .partition_point(|c| c.first.as_str() <= word)
            .saturating_sub(1)
    };
    let touched: BTreeSet<usize> = dirty.iter().map(|w| chunk_of(w)).collect();
    let decoded: Vec<Option<Vec<PackedWord>>> = touched
        .par_iter()
        .map(|&i| decode_chunk(&layout.chunks[i], earlier))
        .collect();
    let mut words: BTreeMap<Arc<str>, PackedWord> = BTreeMap::new();
    for chunk in decoded {
        let Some(chunk) = chunk else {
            return Ok(None);
        };
        words.extend(chunk.into_iter().map(|w| (Arc::clone(&w.word), w)));
    }
    // Each dirty word's spellings and their first pages before the change.
    let before: HashMap<Arc<str>, Vec<(Arc<str>, usize)>> = dirty
        .iter()
        .filter_map(|w| {
            let word = words.get(*w)?;
            let forms = word
                .variants
                .iter()
                .map(|(form, pages)| (Arc::clone(form), pages.first().map_or(0, |p| p.0)))
                .collect();
            Some((Arc::clone(*w), forms))
        })
        .collect();

    if !apply(&mut words, &changes, &differing, &layout.meta_fields) {
        return Ok(None);
    }
    for word in &dirty {
        let Some(entry) = words.get_mut(*word) else {
            continue;
        };
        entry.variants.retain(|(_, pages)| !pages.is_empty());
        if entry.pages.is_empty() && entry.variants.is_empty() {
            words.remove(*word);
            continue;
        }
        let old = before.get(*word).map_or(&[][..], Vec::as_slice);
        if !order_variants(entry, old, &changes) {
            return Ok(None);
        }
    }

    // Cut the chunks again: an untouched chunk that starts where a new chunk starts is the same chunk.
    let mut by_chunk: BTreeMap<usize, Vec<PackedWord>> = BTreeMap::new();
    for (word, entry) in words {
        by_chunk.entry(chunk_of(&word)).or_default().push(entry);
    }
    enum Cut {
        Kept(usize),
        New(Vec<PackedWord>),
    }
    let mut cuts = Vec::new();
    let mut current: Vec<PackedWord> = Vec::new();
    let mut size = 0;
    for i in 0..layout.chunks.len() {
        let words = if touched.contains(&i) {
            by_chunk.remove(&i).unwrap_or_default()
        } else if current.is_empty() {
            cuts.push(Cut::Kept(i));
            continue;
        } else {
            match decode_chunk(&layout.chunks[i], earlier) {
                Some(words) => words,
                None => return Ok(None),
            }
        };
        for word in words {
            size += write::word_size(&word);
            current.push(word);
            if size >= INDEX_CHUNK_SIZE {
                cuts.push(Cut::New(std::mem::take(&mut current)));
                size = 0;
            }
        }
    }
    if !current.is_empty() {
        cuts.push(Cut::New(current));
    }
    let (chunks, bytes): (Vec<ChunkSummary>, Vec<Option<Vec<u8>>>) = cuts
        .into_par_iter()
        .map(|cut| match cut {
            Cut::Kept(i) => (layout.chunks[i].clone(), None),
            Cut::New(words) => {
                let (summary, bytes) = ChunkSummary::encode(&words, language);
                (summary, Some(bytes))
            }
        })
        .unzip();
    let layout = Layout {
        pages,
        meta_fields: layout.meta_fields.clone(),
        chunks,
    };
    write::assemble(language, layout, fragments, bytes, earlier)
}

/// A changed page's words whose postings or spellings differ: (before, after). A word the same in both
/// leaves the index as it is.
fn differing(change: &Change) -> (Vec<&PageWord>, Vec<&PageWord>) {
    let old: HashMap<&str, &PageWord> = change.old.words.iter().map(|w| (&*w.word, w)).collect();
    let new: HashMap<&str, &PageWord> = change.new.words.iter().map(|w| (&*w.word, w)).collect();
    let before = change
        .old
        .words
        .iter()
        .filter(|w| new.get(&*w.word).copied() != Some(*w))
        .collect();
    let after = change
        .new
        .words
        .iter()
        .filter(|w| old.get(&*w.word).copied() != Some(*w))
        .collect();
    (before, after)
}

/// Takes each changed page's differing old postings out of `words` and puts its new ones in, in page
/// order. `false` when an old word is not in the index (the index is not the one the old pages made).
fn apply(
    words: &mut BTreeMap<Arc<str>, PackedWord>,
    changes: &[Change],
    differing: &[(Vec<&PageWord>, Vec<&PageWord>)],
    meta_fields: &[String],
) -> bool {
    for (change, (old, new)) in changes.iter().zip(differing) {
        let number = change.number;
        for word in old {
            let Some(entry) = words.get_mut(&word.word) else {
                return false;
            };
            if word.page.is_some() && !remove_page(&mut entry.pages, number) {
                return false;
            }
            for (form, _) in &word.variants {
                let Some((_, pages)) = entry.variants.iter_mut().find(|(f, _)| f == form) else {
                    return false;
                };
                if !remove_page(pages, number) {
                    return false;
                }
            }
        }
        let fields = write::field_map(&change.new, meta_fields);
        for word in new {
            let entry = words
                .entry(Arc::clone(&word.word))
                .or_insert_with(|| PackedWord {
                    word: Arc::clone(&word.word),
                    pages: Vec::new(),
                    variants: Vec::new(),
                });
            if let Some(postings) = &word.page {
                insert_page(&mut entry.pages, number, postings, &fields);
            }
            for (form, postings) in &word.variants {
                match entry.variants.iter_mut().find(|(f, _)| f == form) {
                    Some((_, pages)) => insert_page(pages, number, postings, &fields),
                    None => {
                        let mut pages = Vec::new();
                        insert_page(&mut pages, number, postings, &fields);
                        entry.variants.push((Arc::clone(form), pages));
                    }
                }
            }
        }
    }
    true
}

fn remove_page(pages: &mut Vec<(usize, Postings)>, number: usize) -> bool {
    match pages.binary_search_by_key(&number, |p| p.0) {
        Ok(i) => {
            pages.remove(i);
            true
        }
        Err(_) => false,
    }
}

fn insert_page(
    pages: &mut Vec<(usize, Postings)>,
    number: usize,
    postings: &Postings,
    fields: &[i32],
) {
    let mut postings = postings.clone();
    write::remap_fields(&mut postings.meta_locs, fields);
    match pages.binary_search_by_key(&number, |p| p.0) {
        Ok(i) => pages[i] = (number, postings),
        Err(i) => pages.insert(i, (number, postings)),
    }
}

/// Puts a word's spellings in the order a clean merge meets them: by the first page that has each,
/// then in that page's order. The order within a changed page comes from its new data, within an
/// unchanged page from the earlier index (`old`: the spellings in their order with their first pages);
/// `false` when that is unknown (a spelling whose first page changed to an unchanged page shared with
/// another spelling).
fn order_variants(word: &mut PackedWord, old: &[(Arc<str>, usize)], changes: &[Change]) -> bool {
    let changed = |number: usize| changes.iter().find(|c| c.number == number);
    let mut keys: HashMap<Arc<str>, (usize, usize)> = HashMap::new();
    let mut moved_to_unchanged: Vec<usize> = Vec::new();
    for (form, pages) in &word.variants {
        let Some(&(first, _)) = pages.first() else {
            return false;
        };
        let rank = match changed(first) {
            Some(change) => {
                let Some(new) = change.new.words.iter().find(|w| w.word == word.word) else {
                    return false;
                };
                match new.variants.iter().position(|(f, _)| f == form) {
                    Some(rank) => rank,
                    None => return false,
                }
            }
            None => match old.iter().position(|(f, _)| f == form) {
                Some(rank) => {
                    if old[rank].1 != first {
                        moved_to_unchanged.push(first);
                    }
                    rank
                }
                None => return false,
            },
        };
        keys.insert(Arc::clone(form), (first, rank));
    }
    let ambiguous = moved_to_unchanged
        .iter()
        .any(|&page| keys.values().filter(|(first, _)| *first == page).count() > 1);
    if ambiguous {
        return false;
    }
    word.variants
        .sort_by_key(|(form, _)| keys.get(form).copied().unwrap_or_default());
    true
}

/// An earlier build's chunk, decompressed, checked against its content hash and decoded.
fn decode_chunk(chunk: &ChunkSummary, earlier: &Compressed) -> Option<Vec<PackedWord>> {
    let compressed = &earlier.0.get(&chunk.content)?.bytes;
    let mut bytes = Vec::with_capacity(compressed.len() * 4);
    GzDecoder::new(&compressed[..])
        .read_to_end(&mut bytes)
        .ok()?;
    let content = bytes.strip_prefix(write::DECOMPRESSED_MARK)?;
    if blake3::hash(content).as_bytes() != &chunk.content {
        return None;
    }
    read_chunk(content)
}

/// The words of a `pf_index` chunk as [`write::encode_chunk`] writes it.
fn read_chunk(bytes: &[u8]) -> Option<Vec<PackedWord>> {
    let mut r = CborReader { rest: bytes };
    if r.array()? != 1 {
        return None;
    }
    let count = r.array()?;
    let mut words = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        if r.array()? != 3 {
            return None;
        }
        let word: Arc<str> = Arc::from(r.text()?);
        let pages = read_pages(&mut r)?;
        let variants = (0..r.array()?)
            .map(|_| {
                if r.array()? != 2 {
                    return None;
                }
                let form: Arc<str> = Arc::from(r.text()?);
                Some((form, read_pages(&mut r)?))
            })
            .collect::<Option<Vec<_>>>()?;
        words.push(PackedWord {
            word,
            pages,
            variants,
        });
    }
    r.rest.is_empty().then_some(words)
}

fn read_pages(r: &mut CborReader) -> Option<Vec<(usize, Postings)>> {
    let count = r.array()?;
    let mut pages = Vec::with_capacity(count.min(r.rest.len()));
    let mut last = 0usize;
    for _ in 0..count {
        if r.array()? != 3 {
            return None;
        }
        let number = last.checked_add(usize::try_from(r.unsigned()?).ok()?)?;
        last = number;
        let mut lists = [Vec::new(), Vec::new()];
        for list in &mut lists {
            let len = r.array()?;
            list.reserve(len.min(r.rest.len()));
            for _ in 0..len {
                list.push(i32::try_from(r.signed()?).ok()?);
            }
        }
        let [locs, meta_locs] = lists;
        pages.push((number, Postings { locs, meta_locs }));
    }
    Some(pages)
}

/// Reads the CBOR items [`write::cbor`] writes; `None` on anything else.
struct CborReader<'a> {
    rest: &'a [u8],
}

impl<'a> CborReader<'a> {
    fn head(&mut self) -> Option<(u8, u64)> {
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        let (major, info) = (first >> 5, first & 0x1f);
        let len = match info {
            0..=23 => return Some((major, u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return None,
        };
        let (bytes, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some((
            major,
            bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)),
        ))
    }

    fn array(&mut self) -> Option<usize> {
        match self.head()? {
            (4, len) => usize::try_from(len).ok(),
            _ => None,
        }
    }

    fn unsigned(&mut self) -> Option<u64> {
        match self.head()? {
            (0, value) => Some(value),
            _ => None,
        }
    }

    fn signed(&mut self) -> Option<i64> {
        match self.head()? {
            (0, value) => i64::try_from(value).ok(),
            (1, value) => Some(-1 - i64::try_from(value).ok()?),
            _ => None,
        }
    }

    fn text(&mut self) -> Option<&'a str> {
        match self.head()? {
            (3, len) => {
                let (text, rest) = self.rest.split_at_checked(usize::try_from(len).ok()?)?;
                self.rest = rest;
                std::str::from_utf8(text).ok()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::native::{extract, words::Analyzer};

    /// A page of `words` (some with diacritics, so that words have spellings), long enough that a few
    /// dozen pages fill several index chunks.
    fn page(number: usize, words: &str) -> PageData {
        // Page 0 has only its own words: an edit of it touches the first chunk and no other.
        let filler: String = match number {
            0 => String::new(),
            _ => (0..120)
                .map(|i| format!("wort{} ", (number * 7 + i) % 300))
                .collect(),
        };
        let html = format!(
            "<html><body><main data-pagefind-body data-pagefind-filter=\"typ:Leitlinie\">\
             <h1>{number}</h1><p>{words} {filler}</p><p>{filler}</p></main></body></html>"
        );
        extract(&format!("/p{number}/"), &html, &mut Analyzer::new("de"))
    }

    /// Pages of the test site: enough for several index chunks.
    const PAGES: usize = 120;

    fn site() -> Vec<PageData> {
        (0..PAGES)
            .map(|i| {
                let spelling = match i % 3 {
                    _ if i == 0 => "aaab aaac",
                    0 => "Übermittlung café",
                    1 => "Ubermittlung cafè",
                    _ => "Übermittlung Ubermittlung café cafè",
                };
                page(i, spelling)
            })
            .collect()
    }

    /// The earlier build's compressed files by content, as the search stage keeps them.
    fn earlier(written: &Written) -> Compressed {
        Compressed(
            written
                .contents
                .iter()
                .zip(&written.files)
                .map(|(content, file)| {
                    let earlier = write::EarlierFile {
                        bytes: file.bytes.clone(),
                        hash: *blake3::hash(&file.bytes).as_bytes(),
                    };
                    (*content, earlier)
                })
                .collect(),
        )
    }

    /// Applies `edits` (page number → new words) to the site's index with [`update`] and checks the
    /// result against writing the edited site anew. Returns whether the update was possible.
    fn updates_like_a_clean_write(edits: &[(usize, &str)]) -> bool {
        let before = site();
        let written = write::write(before.clone(), "de").unwrap().unwrap();
        assert!(
            written.layout.chunks.len() >= 3,
            "{}",
            written.layout.chunks.len()
        );
        let mut after = before.clone();
        let changes = edits
            .iter()
            .map(|&(number, words)| {
                after[number] = page(number, words);
                Change {
                    number,
                    old: before[number].clone(),
                    new: after[number].clone(),
                }
            })
            .collect();
        let updated = update(&written.layout, changes, "de", &earlier(&written)).unwrap();
        let clean = write::write(after, "de").unwrap().unwrap();
        let Some(updated) = updated else {
            return false;
        };
        let files = |w: &Written| -> Vec<(String, Vec<u8>)> {
            let mut files: Vec<_> = w
                .files
                .iter()
                .map(|f| (f.path.clone(), f.bytes.to_vec()))
                .collect();
            files.sort();
            files
        };
        assert!(
            files(&updated) == files(&clean),
            "{edits:?}: the files differ"
        );
        assert_eq!(updated.layout, clean.layout, "{edits:?}");
        assert_eq!(updated.meta_hash, clean.meta_hash);
        true
    }

    #[test]
    fn an_update_writes_what_a_clean_write_writes() {
        // A word edited, a word new to the index, a word gone from it.
        assert!(updates_like_a_clean_write(&[(5, "Übermittlung neuwort")]));
        assert!(updates_like_a_clean_write(&[(0, "")]));
        // Many more positions for one word: chunk boundaries move.
        let long = "wort1 ".repeat(3000);
        assert!(updates_like_a_clean_write(&[(3, &long)]));
        // The first chunk grows (one page, nothing else touched): the chunks after it are cut anew.
        let first = "aaab ".repeat(3000);
        assert!(updates_like_a_clean_write(&[(0, &first)]));
        // Several pages, first and last.
        assert!(updates_like_a_clean_write(&[
            (0, "café"),
            (PAGES - 1, "zzzende aaaanfang")
        ]));
        // A spelling's first page changes to a changed page, or to an unchanged one it has alone.
        assert!(updates_like_a_clean_write(&[(3, "cafè Übermittlung")]));
        assert!(updates_like_a_clean_write(&[(2, "")]));
        // A spelling's first page moves to an unchanged page with another spelling, whose order there
        // the index does not tell: refused.
        assert!(!updates_like_a_clean_write(&[(1, "Übermittlung")]));
    }

    #[test]
    fn an_update_it_cannot_reproduce_is_refused() {
        let before = site();
        let written = write::write(before.clone(), "de").unwrap().unwrap();
        // A chunk missing from the earlier build's files.
        let change = || Change {
            number: 4,
            old: before[4].clone(),
            new: page(4, "anders"),
        };
        let result = update(
            &written.layout,
            vec![change()],
            "de",
            &Compressed::default(),
        );
        assert!(result.unwrap().is_none());
        // The old page is not the one the index was made of.
        let wrong = Change {
            number: 4,
            old: page(4, "nie geschrieben"),
            new: page(4, "anders"),
        };
        let result = update(&written.layout, vec![wrong], "de", &earlier(&written));
        assert!(result.unwrap().is_none());
        // A damaged chunk.
        let mut damaged = earlier(&written);
        for file in damaged.0.values_mut() {
            let mut changed = file.bytes.to_vec();
            let middle = changed.len() / 2;
            changed[middle] ^= 0x55;
            file.bytes = bytes::Bytes::from(changed);
        }
        let result = update(&written.layout, vec![change()], "de", &damaged);
        assert!(result.unwrap().is_none());
    }

    #[test]
    fn chunks_decode_to_what_was_encoded_and_bad_bytes_are_none() {
        let pages = write::indexed(site());
        let written = write::write(pages, "de").unwrap().unwrap();
        let earlier = earlier(&written);
        let chunk = &written.layout.chunks[0];
        let words = decode_chunk(chunk, &earlier).unwrap();
        assert_eq!(write::encode_chunk(&words).len(), {
            let mut bytes = Vec::new();
            GzDecoder::new(&earlier.0[&chunk.content].bytes[..])
                .read_to_end(&mut bytes)
                .unwrap();
            bytes.len() - write::DECOMPRESSED_MARK.len()
        });
        let bytes = write::encode_chunk(&words);
        for cut in 0..bytes.len().min(2000) {
            assert!(read_chunk(&bytes[..cut]).is_none());
        }
    }
}
