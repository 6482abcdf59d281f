//! One page's HTML → what the index needs of it ([`PageData`]): the fragment the browser shows (URL,
//! text, anchors, filters, metadata) and the page's postings (word → positions with weights).
//!
//! This reproduces Pagefind 1.6's reading of a page (`pagefind/src/fossick/parser.rs` and
//! `fossick/mod.rs`) on top of our own tag scanner ([`crate::search::html`]) instead of lol_html:
//!
//! - **What is read**: everything inside `<html>`; once an element with `data-pagefind-body` exists,
//!   only the content of such elements. `head`, `script`, `style`, `noscript`, `label`, `form`, `svg`,
//!   `footer`, `nav`, `iframe`, `template` and elements with `data-pagefind-ignore` are left out
//!   (`data-pagefind-ignore="all"` also drops their filters and metadata).
//! - **Text**: the text of each element is collected bottom-up as in Pagefind: `h1`–`h6`, `p`, `td`,
//!   `div`, `ul`, `li`, `article` and `section` are set off by spaces and end with a full stop when their
//!   text ends in a word character; other elements (`dt`, `dd`, `span` …) run into their neighbours.
//!   Character references are decoded after collecting (the full HTML5 set, like Pagefind).
//! - **Weights**: `data-pagefind-weight` (0–10, ×24 on disk) and headings automatically (`h1` 7 … `h6`
//!   2) when not inside an explicitly weighted element; parts of compounds get a share.
//! - **Anchors**: every element with an `id` inside the body (not ignored) becomes an anchor whose
//!   location is the position of the next word; its text is the element's own text and that of inline
//!   children.
//! - **Filters and metadata**: `data-pagefind-filter` / `-meta` / `-default-meta` / `-sort` in all three
//!   syntaxes (`name:value`, `name[data-attr]` lists, `name` = the element's text). `title` defaults to
//!   the first non-empty `h1`, else `<title>`; `image` to the first `img` after it.
//!
//! The function is pure ([`extract`]: URL + HTML → [`PageData`]); the [`Analyzer`] only memoizes. That
//! is the seam for an incremental index: a page whose HTML did not change has the same [`PageData`].

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use hashbrown::HashMap;
use regex::Regex;
use serde::Serialize;

use super::words::{Analysis, Analyzer, Indexable};
use crate::search::german;
use crate::search::html::{SECONDARY_MARK, Scanner, SectionTerms, Token, attribute};

/// Weight 1 on disk (weights are stored × 24).
const WEIGHT_MULTIPLIER: f32 = 24.0;
const WEIGHT_MAX: f32 = 10.0;

const SENTENCE_SELECTORS: &[&str] = &[
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "td", "div", "ul", "li", "article", "section",
];
const INLINE_SELECTORS: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdo", "big", "br", "button", "cite", "code", "dfn", "em", "i",
    "img", "input", "kbd", "label", "map", "object", "output", "q", "samp", "script", "select",
    "small", "span", "strong", "sub", "sup", "textarea", "time", "tt", "var",
];
const REMOVE_SELECTORS: &[&str] = &[
    "head", "style", "script", "noscript", "label", "form", "svg", "footer", "nav", "iframe",
    "template",
];
/// Elements without content or end tag.
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];

const ANCHOR: &str = "___PAGEFIND_ANCHOR___";
const WEIGHT: &str = "___PAGEFIND_WEIGHT___";
const AUTO_WEIGHT: &str = "___PAGEFIND_AUTO_WEIGHT___";
const END_WEIGHT: &str = "___END_PAGEFIND_WEIGHT___";
/// Where a section of the page ends, followed by its number (native index only, for the extra
/// terms): a private marker by Pagefind's rule, so it never reaches filters or metadata.
const SECTION_END: &str = "___PAGEFIND_REGELWERK_SECTION_END___";

/// The weight of extra terms on disk: half a word's (`0.5` × 24), on pages that gather text from other
/// pages a tenth (`0.1` × 24, rounded down as Pagefind does) — as `html::with_terms_at` writes them.
const TERM_WEIGHT: u8 = 12;
const SECONDARY_TERM_WEIGHT: u8 = 2;

static SENTENCE_CHARS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("[\\w'\"\\)\\$\\*]").expect("a valid regular expression"));
static ATTRIBUTE_MATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^\\s*(?P<name>[^:\\[\\]]+)\\[(?P<attribute>.+)\\]\\s*$")
        .expect("a valid regular expression")
});
static PRIVATE_PAGEFIND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("___PAGEFIND_[\\S]+\\s?").expect("a valid regular expression"));

/// An anchor of a page in its fragment: an element with an `id` and the word position it starts at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anchor {
    pub element: String,
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub location: u32,
}

/// The fragment of a page (`fragment/*.pf_fragment`): what the browser loads for a result. Field order
/// and names are Pagefind's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fragment {
    pub url: String,
    /// The page's indexed text, words separated by single spaces: result positions index into it.
    pub content: String,
    pub word_count: usize,
    pub filters: BTreeMap<String, Vec<String>>,
    pub meta: BTreeMap<String, String>,
    pub anchors: Vec<Anchor>,
}

/// The positions of a word on one page, packed as in the index: `locs` are position deltas with weight
/// changes as negative markers (`-(weight + 1)`, then an absolute position); `meta_locs` the same per
/// metadata field (`-(field + 1)`, field numbers local to the page until the index is written).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Postings {
    pub locs: Vec<i32>,
    pub meta_locs: Vec<i32>,
}

/// One word of a page: its positions under the folded form, and per original spelling with diacritics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWord {
    pub word: Arc<str>,
    pub page: Option<Postings>,
    pub variants: Vec<(Arc<str>, Postings)>,
}

/// Everything the index needs of one page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageData {
    pub fragment: Fragment,
    /// The page has an element with `data-pagefind-body`.
    pub has_custom_body: bool,
    /// The page's text has at least one word (pages without are not indexed).
    pub has_words: bool,
    /// `data-pagefind-sort` values.
    pub sort: BTreeMap<String, String>,
    /// The page's words, in no particular order.
    pub words: Vec<PageWord>,
}

/// A word of the text: position, weight, the spelling with diacritics if it has any.
type Occurrence = (u32, u8, Option<Arc<str>>);
/// A word of a metadata field: field number, position, the spelling with diacritics if it has any.
type MetaOccurrence = (u16, u32, Option<Arc<str>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Indexing,
    Ignored,
    Excluded,
    Body,
    ParentOfBody,
}

/// An open element while reading (Pagefind's `DomParsingNode`).
#[derive(Debug)]
struct Node {
    tag: String,
    value: String,
    filter: Option<Vec<String>>,
    sort: Option<Vec<String>>,
    meta: Option<Vec<String>>,
    default_meta: Option<Vec<String>>,
    weight: Option<String>,
    anchor_ids: Option<Vec<String>>,
    status: Status,
}

impl Node {
    fn root() -> Self {
        Node {
            tag: String::new(),
            value: String::new(),
            filter: None,
            sort: None,
            meta: None,
            default_meta: None,
            weight: None,
            anchor_ids: None,
            status: Status::Indexing,
        }
    }

    fn attribute_pair(&self, input: &str) -> Option<(String, String)> {
        match input.split_once(':') {
            Some((name, value)) => Some((name.to_string(), normalize_content(value))),
            None if self.value.is_empty() => None,
            None => Some((input.to_string(), normalize_content(&self.value))),
        }
    }
}

#[derive(Default)]
struct Collected {
    filters: BTreeMap<String, Vec<String>>,
    sort: BTreeMap<String, String>,
    meta: BTreeMap<String, String>,
    default_meta: BTreeMap<String, String>,
    anchor_content: BTreeMap<String, String>,
    anchor_titles: BTreeMap<String, String>,
}

impl Collected {
    /// Filters, sort keys and metadata of an element that ends.
    fn attributes_of(&mut self, node: &Node) {
        for filter in node.filter.iter().flatten() {
            if let Some((name, value)) = node.attribute_pair(filter) {
                self.filters
                    .entry(name)
                    .or_default()
                    .push(normalize_content(&value));
            }
        }
        for sort in node.sort.iter().flatten() {
            if let Some((name, value)) = node.attribute_pair(sort) {
                self.sort.insert(name, value);
            }
        }
        for meta in node.meta.iter().flatten() {
            if let Some((name, value)) = node.attribute_pair(meta) {
                self.meta.insert(name, value);
            }
        }
        for meta in node.default_meta.iter().flatten() {
            if let Some((name, value)) = node.attribute_pair(meta) {
                self.default_meta.insert(name, value);
            }
        }
    }
}

/// Reads a page: the fragment and the postings Pagefind would build for it.
pub fn extract(url: &str, html: &str, analyzer: &mut Analyzer) -> PageData {
    extract_with_terms(url, html, &[], analyzer)
}

/// [`extract`] with index-only terms per section: each term is indexed at the position of the word of
/// its section it was made from (the first occurrence), with `TERM_WEIGHT`. The page's text, word
/// count and every other word's positions are those of the page without terms, so a term that comes
/// or goes changes the postings of that term only. (Pagefind's indexer gets the terms as text at the
/// end of their sections instead, `html::with_terms_at`, which moves every later word.) A term whose
/// word is not found in its section (the two readings of a page disagree on where a section ends)
/// goes to the section's first word.
pub fn extract_with_terms(
    url: &str,
    html: &str,
    terms: &[SectionTerms],
    analyzer: &mut Analyzer,
) -> PageData {
    let placing = terms.iter().any(|section| !section.terms.is_empty());
    let mut section_ends = Vec::new();
    if placing {
        for section in terms {
            if section_ends.last().is_none_or(|&last| last <= section.end) {
                section_ends.push(section.end);
            }
        }
    }
    let term_weight = if html.contains(SECONDARY_MARK) {
        SECONDARY_TERM_WEIGHT
    } else {
        TERM_WEIGHT
    };
    let (digest, collected, has_custom_body) = read(html, &section_ends);
    let Collected {
        mut filters,
        sort,
        mut meta,
        default_meta,
        anchor_content,
        anchor_titles,
    } = collected;

    for values in filters.values_mut() {
        for value in values.iter_mut() {
            if let std::borrow::Cow::Owned(tidy) = PRIVATE_PAGEFIND.replace_all(value, "") {
                *value = tidy;
            }
        }
    }
    if let Some(image) = meta.remove("auto_image") {
        let alt = meta.remove("auto_image_alt").unwrap_or_default();
        if !meta.contains_key("image") {
            meta.insert("image".into(), image);
            meta.insert("image_alt".into(), alt);
        }
    }
    for auto in ["auto_title", "auto_page_title"] {
        if let Some(title) = meta.remove(auto)
            && !meta.contains_key("title")
        {
            meta.insert("title".into(), title);
        }
    }
    let mut all_meta = default_meta;
    all_meta.extend(meta);
    for value in all_meta.values_mut() {
        if let std::borrow::Cow::Owned(tidy) = PRIVATE_PAGEFIND.replace_all(value, "") {
            *value = tidy;
        }
    }

    let digest = html_escape::decode_html_entities(&digest);
    let mut content = String::with_capacity(digest.len());
    let mut anchors = Vec::new();
    let mut positions: HashMap<Arc<str>, Vec<Occurrence>> = HashMap::new();
    let mut weights: Vec<u8> = vec![WEIGHT_MULTIPLIER as u8];
    let mut position: u32 = 0;
    let mut last_position: u32 = 0;
    // With terms to place: the words of the current section with their positions, and how many
    // sections have their terms placed.
    let mut section_words: Vec<(u32, &str)> = Vec::new();
    let mut placed = 0usize;
    let mut term_positions: Vec<(&str, u32)> = Vec::new();
    for word in digest.split_whitespace() {
        if word.starts_with('_') {
            if let Some(number) = word.strip_prefix(SECTION_END) {
                if let Ok(number) = number.parse::<usize>()
                    && number >= placed
                    && number < terms.len()
                {
                    for section in &terms[placed..=number] {
                        place_terms(
                            &section.terms,
                            &section_words,
                            position,
                            &mut term_positions,
                        );
                    }
                    placed = number + 1;
                    section_words.clear();
                }
                continue;
            }
            if word.starts_with(ANCHOR) {
                let marker = word.replace(ANCHOR, "");
                if let Some((element, anchor_id)) = marker.split_once(':') {
                    let text = anchor_content
                        .get(anchor_id)
                        .map(|t| normalize_content(t))
                        .unwrap_or_default();
                    if let Some((_, id)) = anchor_id.split_once(':') {
                        anchors.push(Anchor {
                            element: element.to_string(),
                            id: id.to_string(),
                            text: normalize_content(&text),
                            title: anchor_titles.get(anchor_id).cloned(),
                            location: position,
                        });
                    }
                }
                continue;
            }
            if word.starts_with(WEIGHT) {
                let weight = word.replace(WEIGHT, "").parse::<f32>().ok().unwrap_or(1.0);
                weights.push(if weight <= 0.0 {
                    0
                } else {
                    ((weight.clamp(0.0, WEIGHT_MAX) * WEIGHT_MULTIPLIER) as u8).max(1)
                });
                continue;
            }
            if word.starts_with(AUTO_WEIGHT) {
                if weights.len() == 1 {
                    let weight = word
                        .replace(AUTO_WEIGHT, "")
                        .parse::<f32>()
                        .ok()
                        .unwrap_or(1.0);
                    weights.push((weight.clamp(0.0, WEIGHT_MAX) * WEIGHT_MULTIPLIER) as u8);
                } else {
                    weights.push(weights.last().copied().unwrap_or_default());
                }
                continue;
            }
            if word.starts_with(END_WEIGHT) {
                weights.pop();
                continue;
            }
        }
        // (`german::each_word` splits at the zero-width space, so the raw word serves to place terms.)
        let raw = word;
        let stripped;
        let word = if word.contains('\u{200B}') {
            stripped = word.replace('\u{200B}', "");
            if stripped.is_empty() {
                continue;
            }
            stripped.as_str()
        } else {
            word
        };
        content.push_str(word);
        content.push(' ');
        if placing {
            section_words.push((position, raw));
        }

        let word_weight = weights.last().copied().unwrap_or(1);
        let analysis = analyzer.token(word);
        for (indexable, weight) in weighted(&analysis, word_weight) {
            positions
                .entry(Arc::clone(&indexable.stemmed))
                .or_default()
                .push((position, weight, indexable.original.clone()));
        }
        last_position = position;
        position += 1;
    }
    if content.ends_with(' ') {
        content.pop();
    }
    let has_words = !positions.is_empty();
    if placing && has_words {
        for section in terms.get(placed..).unwrap_or_default() {
            place_terms(
                &section.terms,
                &section_words,
                position,
                &mut term_positions,
            );
        }
        for (term, at) in term_positions {
            let analysis = analyzer.token(term);
            for (indexable, weight) in weighted(&analysis, term_weight) {
                let occurrences = positions.entry(Arc::clone(&indexable.stemmed)).or_default();
                // A word of the page at the same place says it already.
                if !occurrences.iter().any(|&(p, _, _)| p == at) {
                    occurrences.push((at, weight, indexable.original.clone()));
                }
            }
        }
    }

    let mut words: HashMap<Arc<str>, PageWord> = HashMap::with_capacity(positions.len());
    for (word, entries) in positions {
        let mut plain = Vec::new();
        let mut variants: BTreeMap<Arc<str>, Vec<(u32, u8)>> = BTreeMap::new();
        for (position, weight, original) in entries {
            match original {
                None => plain.push((position, weight)),
                Some(form) => variants.entry(form).or_default().push((position, weight)),
            }
        }
        let page = (!plain.is_empty()).then(|| Postings {
            locs: pack_positions(plain),
            meta_locs: Vec::new(),
        });
        let variants = variants
            .into_iter()
            .map(|(form, positions)| {
                let postings = Postings {
                    locs: pack_positions(positions),
                    meta_locs: Vec::new(),
                };
                (form, postings)
            })
            .collect();
        words.insert(
            Arc::clone(&word),
            PageWord {
                word,
                page,
                variants,
            },
        );
    }

    // Metadata words: field numbers in the page's (sorted) order of fields.
    let mut meta_positions: HashMap<Arc<str>, Vec<MetaOccurrence>> = HashMap::new();
    for (field, value) in all_meta.values().enumerate() {
        for (index, token) in value.split_whitespace().enumerate() {
            for indexable in analyzer.meta_token(token).words {
                meta_positions.entry(indexable.stemmed).or_default().push((
                    field as u16,
                    index as u32,
                    indexable.original,
                ));
            }
        }
    }
    for (word, entries) in meta_positions {
        let mut plain = Vec::new();
        let mut variants: BTreeMap<Arc<str>, Vec<(u16, u32)>> = BTreeMap::new();
        for (field, position, original) in entries {
            match original {
                None => plain.push((field, position)),
                Some(form) => variants.entry(form).or_default().push((field, position)),
            }
        }
        let entry = words.entry(Arc::clone(&word)).or_insert_with(|| PageWord {
            word,
            page: None,
            variants: Vec::new(),
        });
        if !plain.is_empty() {
            entry.page.get_or_insert_with(Postings::default).meta_locs = pack_meta_positions(plain);
        }
        for (form, positions) in variants {
            let meta_locs = pack_meta_positions(positions);
            match entry.variants.iter_mut().find(|(f, _)| *f == form) {
                Some((_, postings)) => postings.meta_locs = meta_locs,
                None => entry.variants.push((
                    form,
                    Postings {
                        locs: Vec::new(),
                        meta_locs,
                    },
                )),
            }
        }
    }

    PageData {
        fragment: Fragment {
            url: url.to_string(),
            content,
            word_count: last_position as usize + 1,
            filters,
            meta: all_meta,
            anchors,
        },
        has_custom_body,
        has_words,
        sort,
        words: words.into_values().collect(),
    }
}

/// The words a token is indexed as, each with its weight: the token's `weight`, of which the parts of a
/// compound get a share.
fn weighted(analysis: &Analysis, weight: u8) -> impl Iterator<Item = (&Indexable, u8)> {
    let partial = if analysis.compound_parts > 0 && weight > 0 {
        (weight / u8::try_from(analysis.compound_parts).unwrap_or(u8::MAX)).max(1)
    } else {
        0
    };
    analysis.words.iter().map(move |indexable| {
        let share = if indexable.is_compound_part {
            partial
        } else {
            weight
        };
        (indexable, share)
    })
}

/// Finds where each of a section's terms goes: the position of the first of the section's words that
/// contains the term's source word (as `german::each_word` splits it), else the section's first word
/// (`next` when the section has none).
fn place_terms<'t>(
    terms: &'t [(String, String)],
    words: &[(u32, &str)],
    next: u32,
    out: &mut Vec<(&'t str, u32)>,
) {
    if terms.is_empty() {
        return;
    }
    let mut found: HashMap<&str, Option<u32>> = terms
        .iter()
        .map(|(_, source)| (source.as_str(), None))
        .collect();
    let mut missing = found.len();
    for &(position, word) in words {
        german::each_word(word, |part| {
            if let Some(slot @ None) = found.get_mut(part) {
                *slot = Some(position);
                missing -= 1;
            }
        });
        if missing == 0 {
            break;
        }
    }
    let fallback = words.first().map_or(next, |&(position, _)| position);
    for (term, source) in terms {
        let at = found.get(source.as_str()).copied().flatten();
        out.push((term, at.unwrap_or(fallback)));
    }
}

/// Pagefind's `positions_to_packed_page`: positions sorted by weight (the default weight first — Pagefind
/// compares with 25, so every list starts with a weight marker) then position; a weight change is
/// written as `-(weight + 1)` followed by the absolute position, otherwise deltas.
fn pack_positions(mut positions: Vec<(u32, u8)>) -> Vec<i32> {
    positions.sort_by_key(|&(position, weight)| (if weight == 25 { 0 } else { weight }, position));
    let mut current_weight = 25;
    let mut last = 0;
    let mut out = Vec::with_capacity(positions.len() + 2);
    for (position, weight) in positions {
        if weight != current_weight {
            out.push(-(weight as i32) - 1);
            out.push(position as i32);
            current_weight = weight;
        } else {
            out.push(position as i32 - last as i32);
        }
        last = position;
    }
    out
}

/// Pagefind's `meta_positions_to_packed`: per field `-(field + 1)`, then position deltas.
fn pack_meta_positions(mut positions: Vec<(u16, u32)>) -> Vec<i32> {
    positions.sort_by_key(|&(field, position)| (field, position));
    let mut current = None;
    let mut last = 0;
    let mut out = Vec::with_capacity(positions.len() + 2);
    for (field, position) in positions {
        if Some(field) != current {
            out.push(-(field as i32) - 1);
            current = Some(field);
            last = 0;
        }
        out.push(position as i32 - last as i32);
        last = position;
    }
    out
}

/// Walks the HTML like Pagefind's parser: the digest (text with anchor and weight markers, references
/// not yet decoded), the collected attributes, and whether a `data-pagefind-body` element was found.
/// Reads the page's text as Pagefind collects it. At each of `section_ends` (byte offsets of tags, in
/// order) a [`SECTION_END`] marker with the section's number goes into the text.
fn read(html: &str, section_ends: &[usize]) -> (String, Collected, bool) {
    let mut collected = Collected::default();
    let mut stack: Vec<Node> = vec![Node::root()];
    let mut in_html = false;
    let mut foreign = 0usize;
    let mut anchor_counter = 0usize;
    let mut next_end = 0usize;

    for token in Scanner::new(html) {
        if let Token::Start { at, .. } | Token::End { at, .. } = &token {
            while let Some(&end) = section_ends.get(next_end)
                && end <= *at
            {
                if in_html && let Some(node) = stack.last_mut() {
                    node.value.push(' ');
                    node.value.push_str(SECTION_END);
                    node.value.push_str(&next_end.to_string());
                    node.value.push(' ');
                }
                next_end += 1;
            }
        }
        match token {
            Token::Start { name, tag, .. } => {
                if !in_html {
                    if name != "html" {
                        continue;
                    }
                    in_html = true;
                }
                let self_closing = foreign > 0 && tag.ends_with("/>");
                if (name == "svg" || name == "math") && !self_closing {
                    foreign += 1;
                }
                start(
                    &name,
                    tag,
                    self_closing,
                    &mut stack,
                    &mut collected,
                    &mut anchor_counter,
                );
            }
            Token::End { name, .. } => {
                if !in_html {
                    continue;
                }
                let Some(open) = stack.iter().rposition(|n| n.tag == name) else {
                    continue;
                };
                if open == 0 {
                    continue;
                }
                while stack.len() > open {
                    let node = stack.pop().expect("the stack is longer than `open`");
                    if (node.tag == "svg" || node.tag == "math") && foreign > 0 {
                        foreign -= 1;
                    }
                    end(node, &mut stack, &mut collected);
                }
                if name == "html" {
                    in_html = false;
                }
            }
            Token::Text(raw) => {
                if !in_html {
                    continue;
                }
                let Some(node) = stack.last_mut() else {
                    continue;
                };
                node.value.push_str(raw);
                if !matches!(node.status, Status::Ignored | Status::Excluded)
                    && let Some(ids) = &node.anchor_ids
                {
                    for id in ids {
                        collected
                            .anchor_content
                            .entry(id.clone())
                            .or_default()
                            .push_str(raw);
                    }
                }
            }
        }
    }

    // Elements never closed: their text goes to their parents (Pagefind's fallback).
    while stack.len() > 1 {
        let node = stack.pop().expect("more than the root");
        let parent = stack.last_mut().expect("the root");
        if parent.status != Status::ParentOfBody {
            match node.status {
                Status::Ignored | Status::Excluded => {}
                Status::Indexing => parent.value.push_str(&node.value),
                Status::Body | Status::ParentOfBody => {
                    parent.value.clear();
                    parent.value.push_str(&node.value);
                    parent.status = Status::ParentOfBody;
                }
            }
        }
    }
    let root = stack.pop().unwrap_or_else(Node::root);
    (root.value, collected, root.status == Status::ParentOfBody)
}

fn start(
    name: &str,
    tag: &str,
    self_closing: bool,
    stack: &mut Vec<Node>,
    collected: &mut Collected,
    anchor_counter: &mut usize,
) {
    // Most tags carry no Pagefind attribute: look them up only when one is there.
    let marked = tag.contains("data-pagefind-");
    let pagefind = |attr: &str| if marked { attribute(tag, attr) } else { None };
    let ignore =
        pagefind("data-pagefind-ignore").map(|value| match value.to_ascii_lowercase().as_str() {
            "" | "index" | "true" => Status::Ignored,
            _ => Status::Excluded,
        });
    let body = pagefind("data-pagefind-body").is_some();
    let status = if body {
        Status::Body
    } else {
        ignore.unwrap_or(Status::Indexing)
    };
    let list = |attr: &str| pagefind(attr).map(|value| parse_attr_string(value, tag));
    let Some(parent) = stack.last_mut() else {
        return;
    };

    let mut anchor_id = None;
    if !matches!(status, Status::Excluded | Status::Ignored)
        && let Some(id) = attribute(tag, "id")
        && !(parent.status == Status::ParentOfBody && status != Status::Body)
    {
        let id: String = id.chars().filter(|c| !c.is_whitespace()).collect();
        parent.value.push(' ');
        parent.value.push_str(ANCHOR);
        parent.value.push_str(name);
        parent.value.push(':');
        let key = format!("{anchor_counter}:{id}");
        parent.value.push_str(&key);
        parent.value.push(' ');
        *anchor_counter += 1;
        anchor_id = Some(key);
    }
    if let (Some(anchor_id), Some(title)) = (&anchor_id, pagefind("data-pagefind-title")) {
        let title = normalize_content(title);
        if !title.is_empty() {
            collected.anchor_titles.insert(anchor_id.clone(), title);
        }
    }
    if status != Status::Excluded {
        if let Some(attrs) = pagefind("data-pagefind-index-attrs") {
            for attr in attrs.split(',') {
                let mut value = attribute(tag, attr.trim()).unwrap_or_default().to_string();
                if value.chars().last().is_some_and(sentence_char) {
                    value.push('.');
                }
                parent.value.push(' ');
                parent.value.push_str(&value);
                parent.value.push(' ');
            }
        }
        if name == "br" {
            parent.value.push(' ');
        }
    }

    let mut anchor_ids = match &parent.anchor_ids {
        Some(ids) if INLINE_SELECTORS.contains(&name) => Some(ids.clone()),
        _ => None,
    };
    if let Some(id) = anchor_id {
        anchor_ids.get_or_insert_with(Vec::new).push(id);
    }
    let mut node = Node {
        tag: name.to_string(),
        value: String::new(),
        filter: list("data-pagefind-filter"),
        sort: list("data-pagefind-sort"),
        meta: list("data-pagefind-meta"),
        default_meta: list("data-pagefind-default-meta"),
        weight: pagefind("data-pagefind-weight").map(str::to_string),
        anchor_ids,
        status: if parent.status == Status::Excluded {
            Status::Excluded
        } else {
            status
        },
    };
    if REMOVE_SELECTORS.contains(&name) {
        node.status = Status::Ignored;
    }

    if VOID.contains(&name) || self_closing {
        // No content and no end tag: only filters, metadata and the first image after the title.
        if node.status == Status::Excluded {
            return;
        }
        collected.attributes_of(&node);
        if name == "img"
            && !collected.meta.contains_key("auto_image")
            && (collected.meta.contains_key("auto_title") || collected.meta.contains_key("title"))
            && let Some(src) = attribute(tag, "src")
        {
            collected
                .meta
                .insert("auto_image".into(), normalize_content(src));
            if let Some(alt) = attribute(tag, "alt") {
                collected
                    .meta
                    .insert("auto_image_alt".into(), normalize_content(alt));
            }
        }
        return;
    }
    stack.push(node);
}

fn end(mut node: Node, stack: &mut [Node], collected: &mut Collected) {
    if node.status == Status::Excluded {
        return;
    }
    collected.attributes_of(&node);
    if node.tag == "h1"
        && !collected.meta.contains_key("auto_title")
        && !node.value.trim().is_empty()
    {
        collected
            .meta
            .insert("auto_title".into(), normalize_content(&node.value));
    }
    if node.tag == "title" && !collected.meta.contains_key("auto_page_title") {
        collected
            .meta
            .insert("auto_page_title".into(), normalize_content(&node.value));
    }
    if node.status == Status::Ignored {
        return;
    }
    let tag = node.tag.as_str();
    if SENTENCE_SELECTORS.contains(&tag) {
        node.value.insert(0, ' ');
        if node.value.chars().last().is_some_and(sentence_char) {
            node.value.push('.');
        }
        node.value.push(' ');
    }
    let auto_weight = match tag {
        "h1" => Some("7"),
        "h2" => Some("6"),
        "h3" => Some("5"),
        "h4" => Some("4"),
        "h5" => Some("3"),
        "h6" => Some("2"),
        _ => None,
    };
    let wrap = match (&node.weight, auto_weight) {
        (Some(weight), _) => Some((WEIGHT, weight.as_str())),
        (None, Some(weight)) => Some((AUTO_WEIGHT, weight)),
        (None, None) => None,
    };
    let Some(parent) = stack.last_mut() else {
        return;
    };
    if parent.status == Status::ParentOfBody
        && !matches!(node.status, Status::Body | Status::ParentOfBody)
    {
        return;
    }
    if matches!(node.status, Status::Body | Status::ParentOfBody) {
        if parent.status != Status::ParentOfBody {
            parent.value.clear();
        }
        parent.status = Status::ParentOfBody;
    }
    match wrap {
        Some((marker, weight)) => {
            parent.value.push(' ');
            parent.value.push_str(marker);
            parent.value.push_str(weight);
            parent.value.push(' ');
            parent.value.push_str(&node.value);
            parent.value.push(' ');
            parent.value.push_str(END_WEIGHT);
            parent.value.push(' ');
        }
        None => parent.value.push_str(&node.value),
    }
}

fn sentence_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '"' | ')' | '$' | '*');
    }
    let mut buffer = [0; 4];
    SENTENCE_CHARS.is_match(c.encode_utf8(&mut buffer))
}

/// Pagefind's `parse_attr_string`: `name:value`, or a comma list of `name` and `name[data-attr]`.
fn parse_attr_string(input: &str, tag: &str) -> Vec<String> {
    if let Some((attrs, literal)) = input.split_once(':') {
        let mut list = parse_attr_string(attrs, tag);
        if let Some(last) = list.last_mut() {
            last.push(':');
            last.push_str(literal);
        }
        return list;
    }
    input
        .split(',')
        .map(|chunk| {
            let chunk = chunk.trim();
            match ATTRIBUTE_MATCH.captures(chunk) {
                Some(found) => {
                    let name = found.name("name").map_or("", |m| m.as_str());
                    let attr = found.name("attribute").map_or("", |m| m.as_str());
                    format!("{name}:{}", attribute(tag, attr).unwrap_or_default())
                }
                None => chunk.to_string(),
            }
        })
        .collect()
}

/// Pagefind's `normalize_content`: references decoded, whitespace trimmed, line breaks and runs of
/// whitespace turned into one space.
pub fn normalize_content(text: &str) -> String {
    let decoded = html_escape::decode_html_entities(text);
    let trimmed = decoded.trim_matches(char::is_whitespace);
    let mut out = String::with_capacity(trimmed.len());
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_whitespace() {
            out.push(c);
            continue;
        }
        let mut run = 1;
        while chars.next_if(|c| c.is_whitespace()).is_some() {
            run += 1;
        }
        out.push(if run > 1 || c == '\n' { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::html::sections;

    const PAGE: &str = "<html><body><main data-pagefind-body><h1>Leitlinie</h1>\
        <p>Die Verwaltung prüft Risiken.</p><h2 id=\"b\">Zweiter Teil</h2>\
        <p>Datenschutz und Verwaltung gehen vor.</p></main></body></html>";

    /// The page's sections, with `terms[i]` as (term, source) pairs of section `i`.
    fn terms(html: &str, terms: &[&[(&str, &str)]]) -> Vec<SectionTerms> {
        sections(html)
            .iter()
            .zip(terms)
            .map(|(section, terms)| SectionTerms {
                end: section.end,
                terms: terms
                    .iter()
                    .map(|(t, s)| (t.to_string(), s.to_string()))
                    .collect(),
            })
            .collect()
    }

    fn postings(page: &PageData, word: &str) -> Vec<i32> {
        page.words
            .iter()
            .find(|w| &*w.word == word)
            .and_then(|w| w.page.as_ref())
            .map(|p| p.locs.clone())
            .unwrap_or_default()
    }

    /// [`PAGE`] read with `terms[i]` in its section `i`.
    fn read_page(terms_of: &[&[(&str, &str)]]) -> PageData {
        extract_with_terms(
            "/a/",
            PAGE,
            &terms(PAGE, terms_of),
            &mut Analyzer::new("de"),
        )
    }

    /// Both sections with a term.
    const BOTH: &[&[(&str, &str)]] = &[&[("risiko", "risiken")], &[("schutz", "datenschutz")]];

    #[test]
    fn terms_are_indexed_at_their_words_and_move_nothing() {
        let plain = extract("/a/", PAGE, &mut Analyzer::new("de"));
        let with = read_page(BOTH);
        // The text, its length and the anchors are the page's own.
        assert_eq!(with.fragment, plain.fragment);
        assert!(
            !with
                .fragment
                .content
                .contains(crate::search::html::TERMS_MARK)
        );
        // „Risiken“ is word 4 (Leitlinie. Die Verwaltung prüft Risiken.), „Datenschutz“ word 7;
        // the terms stand there with half a word's weight (-(12 + 1), then the position).
        let words: Vec<&str> = with.fragment.content.split(' ').collect();
        assert_eq!(words[4], "Risiken.");
        assert_eq!(words[7], "Datenschutz");
        assert_eq!(postings(&with, "risiko"), [-13, 4]);
        assert_eq!(postings(&with, "schutz"), [-13, 7]);
        assert!(postings(&plain, "risiko").is_empty());
        // Every word of the page keeps its postings.
        for word in &plain.words {
            let ours = with.words.iter().find(|w| w.word == word.word).unwrap();
            assert_eq!(ours, word);
        }
    }

    #[test]
    fn a_term_that_comes_changes_only_its_own_postings() {
        let before = read_page(&[&[], &[("schutz", "datenschutz")]]);
        let after = read_page(BOTH);
        let changed: Vec<&str> = after
            .words
            .iter()
            .filter(|w| before.words.iter().find(|b| b.word == w.word) != Some(w))
            .map(|w| &*w.word)
            .collect();
        assert_eq!(changed, ["risiko"]);
    }

    #[test]
    fn terms_on_secondary_pages_weigh_a_tenth_and_unfound_words_fall_back() {
        let html = PAGE.replace(
            "data-pagefind-body",
            "data-pagefind-body data-regelwerk-sekundaer",
        );
        let mut analyzer = Analyzer::new("de");
        let page = extract_with_terms(
            "/a/",
            &html,
            &terms(
                &html,
                &[&[("risiko", "risiken")], &[("satz", "gibtesnicht")]],
            ),
            &mut analyzer,
        );
        assert_eq!(postings(&page, "risiko"), [-3, 4]);
        // The second section starts with its heading („Zweiter“, word 5).
        assert_eq!(postings(&page, "satz"), [-3, 5]);
    }
}
