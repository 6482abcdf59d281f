//! [`PageData`] in the compact binary form of the per-page cache ([`crate::search::store`]): fields in
//! declaration order, maps as sorted lists. [`decode`] checks everything and never panics.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::extract::{Anchor, Fragment, PageData, PageWord, Postings};
use crate::search::store::{Decoder, Encoder};

/// A page's data as bytes.
pub fn encode(page: &PageData) -> Vec<u8> {
    let mut e = Encoder(Vec::with_capacity(page.fragment.content.len() * 3 + 256));
    let f = &page.fragment;
    e.str(&f.url);
    e.str(&f.content);
    e.uint(f.word_count as u64);
    encode_filters(&mut e, &f.filters);
    encode_map(&mut e, &f.meta);
    e.uint(f.anchors.len() as u64);
    for anchor in &f.anchors {
        e.str(&anchor.element);
        e.str(&anchor.id);
        e.str(&anchor.text);
        match &anchor.title {
            Some(title) => {
                e.bool(true);
                e.str(title);
            }
            None => e.bool(false),
        }
        e.uint(u64::from(anchor.location));
    }
    e.bool(page.has_custom_body);
    e.bool(page.has_words);
    encode_map(&mut e, &page.sort);
    e.uint(page.words.len() as u64);
    for word in &page.words {
        e.str(&word.word);
        match &word.page {
            Some(postings) => {
                e.bool(true);
                encode_postings(&mut e, postings);
            }
            None => e.bool(false),
        }
        e.uint(word.variants.len() as u64);
        for (form, postings) in &word.variants {
            e.str(form);
            encode_postings(&mut e, postings);
        }
    }
    e.0
}

/// A string map: length, then key and value of each entry (read by [`decode_map`]).
pub(super) fn encode_map(e: &mut Encoder, map: &BTreeMap<String, String>) {
    e.uint(map.len() as u64);
    for (key, value) in map {
        e.str(key);
        e.str(value);
    }
}

/// A page's filters: length, then each filter's name and its values (read by [`decode_filters`]).
pub(super) fn encode_filters(e: &mut Encoder, filters: &BTreeMap<String, Vec<String>>) {
    e.uint(filters.len() as u64);
    for (name, values) in filters {
        e.str(name);
        e.uint(values.len() as u64);
        for value in values {
            e.str(value);
        }
    }
}

fn encode_postings(e: &mut Encoder, postings: &Postings) {
    for list in [&postings.locs, &postings.meta_locs] {
        e.uint(list.len() as u64);
        for &loc in list {
            e.int(i64::from(loc));
        }
    }
}

/// The page data [`encode`] wrote; `None` for anything else.
pub fn decode(bytes: &[u8]) -> Option<PageData> {
    let mut d = Decoder::new(bytes);
    let url = d.str()?.to_string();
    let content = d.str()?.to_string();
    let word_count = usize::try_from(d.uint()?).ok()?;
    let filters = decode_filters(&mut d)?;
    let meta = decode_map(&mut d)?;
    let mut anchors = Vec::new();
    for _ in 0..d.length()? {
        anchors.push(Anchor {
            element: d.str()?.to_string(),
            id: d.str()?.to_string(),
            text: d.str()?.to_string(),
            title: if d.bool()? {
                Some(d.str()?.to_string())
            } else {
                None
            },
            location: u32::try_from(d.uint()?).ok()?,
        });
    }
    let has_custom_body = d.bool()?;
    let has_words = d.bool()?;
    let sort = decode_map(&mut d)?;
    let mut words = Vec::new();
    for _ in 0..d.length()? {
        let word: Arc<str> = Arc::from(d.str()?);
        let page = if d.bool()? {
            Some(decode_postings(&mut d)?)
        } else {
            None
        };
        let variants = (0..d.length()?)
            .map(|_| Some((Arc::from(d.str()?), decode_postings(&mut d)?)))
            .collect::<Option<Vec<_>>>()?;
        words.push(PageWord {
            word,
            page,
            variants,
        });
    }
    if !d.is_empty() {
        return None;
    }
    Some(PageData {
        fragment: Fragment {
            url,
            content,
            word_count,
            filters,
            meta,
            anchors,
        },
        has_custom_body,
        has_words,
        sort,
        words,
    })
}

/// A string map as [`Encoder`] writes it: length, then key and value of each entry.
pub(super) fn decode_map(d: &mut Decoder) -> Option<BTreeMap<String, String>> {
    (0..d.length()?)
        .map(|_| Some((d.str()?.to_string(), d.str()?.to_string())))
        .collect()
}

/// A page's filters: length, then each filter's name and its values.
pub(super) fn decode_filters(d: &mut Decoder) -> Option<BTreeMap<String, Vec<String>>> {
    (0..d.length()?)
        .map(|_| {
            let name = d.str()?.to_string();
            let values = (0..d.length()?)
                .map(|_| d.str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?;
            Some((name, values))
        })
        .collect()
}

fn decode_postings(d: &mut Decoder) -> Option<Postings> {
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let len = d.length()?;
        list.reserve(len);
        for _ in 0..len {
            list.push(i32::try_from(d.int()?).ok()?);
        }
    }
    let [locs, meta_locs] = lists;
    Some(Postings { locs, meta_locs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::native::{extract, words::Analyzer};

    #[test]
    fn page_data_round_trips_and_bad_bytes_are_none() {
        let html = "<html><head><title>T</title></head><body><main data-pagefind-body \
                    data-pagefind-filter=\"typ:Leitlinie\" data-pagefind-sort=\"n:3\">\
                    <h1>Übermittlung</h1><h2 id=\"a\" data-pagefind-title=\"X\">Daten-Schutz</h2>\
                    <p data-pagefind-meta=\"autor:Team Nord\">Risiken <img src=\"/b.png\" alt=\"B\"></p>\
                    </main></body></html>";
        let page = extract("/a/", html, &mut Analyzer::new("de"));
        let bytes = encode(&page);
        assert_eq!(decode(&bytes), Some(page));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None);
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None);
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0xff;
            let _ = decode(&flipped);
        }
    }
}
