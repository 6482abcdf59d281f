//! Synopse: two versions of a Markdown text side by side, aligned by block.
//!
//! No diff crate detects moved text, so this layer is ours; `similar` does the sequence work:
//! 1. both texts are split into blocks (paragraphs, headings, list items, tables, code);
//! 2. identical blocks are aligned in order (patience diff over the blocks);
//! 3. a removed block that reappears elsewhere — identical or nearly so — is a **move**;
//! 4. inside each changed region, removed and inserted blocks are paired by similarity (**changed**), the rest
//!    are **deleted** or **inserted**;
//! 5. changed blocks get a word diff on their rendered HTML: `<del>`/`<ins>` wrap only text between tags, so
//!    links and emphasis stay intact, and each run starts with a visually hidden „gelöscht:“/„eingefügt:“ for
//!    screen readers, which do not announce `<del>`/`<ins>` reliably.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use similar::{Algorithm, DiffOp, capture_diff_slices};

/// Blocks at least this similar (0–1) count as the same block, changed.
const CHANGED_THRESHOLD: f32 = 0.5;
/// Blocks at least this similar count as moved when they appear in another place.
const MOVED_THRESHOLD: f32 = 0.85;

/// One block of a text: its Markdown source and its rendered HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub markdown: String,
    pub html: String,
}

/// Splits a Markdown body into blocks: top-level elements, and the items of top-level lists one by one.
pub fn split_blocks(markdown: &str) -> Vec<Range<usize>> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut ranges = Vec::new();
    let mut depth = 0usize;
    let mut in_list = false;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Start(Tag::List(_)) if depth == 0 => {
                in_list = true;
                depth += 1;
            }
            Event::Start(Tag::Item) if depth == 1 && in_list => {
                ranges.push(range);
                depth += 1;
            }
            Event::Start(_) => {
                if depth == 0 {
                    ranges.push(range);
                }
                depth += 1;
            }
            Event::End(TagEnd::List(_)) if depth == 1 => {
                in_list = false;
                depth -= 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Rule if depth == 0 => ranges.push(range),
            Event::Html(_) if depth == 0 => ranges.push(range),
            _ => {}
        }
    }
    ranges
}

/// What happened to a block between the two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Row {
    /// The block is the same in both.
    Same { old: usize, new: usize },
    /// The block was edited: word diff HTML for both columns.
    Changed {
        old: usize,
        new: usize,
        old_html: String,
        new_html: String,
    },
    /// Only in the old version.
    Deleted { old: usize },
    /// Only in the new version.
    Inserted { new: usize },
    /// The old block's place: it moved to `new`.
    MovedAway { old: usize, new: usize },
    /// The new block's place: it came from `old` (with a word diff if it was edited too).
    MovedHere {
        old: usize,
        new: usize,
        old_html: String,
        new_html: String,
    },
}

/// The counts of a comparison, for its summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub changed: usize,
    pub inserted: usize,
    pub deleted: usize,
    pub moved: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        *self == Summary::default()
    }
}

/// A comparison of two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Synopsis {
    pub rows: Vec<Row>,
    pub summary: Summary,
}

/// Labels for the screen-reader text of word changes.
pub struct DiffLabels<'a> {
    pub deleted: &'a str,
    pub inserted: &'a str,
}

/// Compares two versions given as blocks.
pub fn compare(old: &[Block], new: &[Block], labels: &DiffLabels) -> Synopsis {
    let old_keys: Vec<&str> = old.iter().map(|b| b.markdown.trim()).collect();
    let new_keys: Vec<&str> = new.iter().map(|b| b.markdown.trim()).collect();
    let ops = capture_diff_slices(Algorithm::Patience, &old_keys, &new_keys);

    // Blocks outside the in-order alignment.
    let mut removed: Vec<usize> = Vec::new();
    let mut added: Vec<usize> = Vec::new();
    for op in &ops {
        match *op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete {
                old_index, old_len, ..
            } => removed.extend(old_index..old_index + old_len),
            DiffOp::Insert {
                new_index, new_len, ..
            } => added.extend(new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                removed.extend(old_index..old_index + old_len);
                added.extend(new_index..new_index + new_len);
            }
        }
    }

    // Each block's words, split once: a block is compared with many others.
    let (old_words, new_words) = (block_words(old), block_words(new));
    let similar =
        |o: usize, n: usize, threshold: f32| similar_words(&old_words[o], &new_words[n], threshold);

    // Pair changed blocks inside each region first (local edits are the common case), then moves across regions.
    let mut old_partner: Vec<Option<(usize, bool)>> = vec![None; old.len()]; // (new index, moved)
    let mut new_partner: Vec<Option<(usize, bool)>> = vec![None; new.len()];
    for op in &ops {
        if let DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } = *op
        {
            let mut next_new = new_index;
            let region = old_partner.iter_mut().enumerate().skip(old_index);
            for (o, partner) in region.take(old_len) {
                // In order: the first sufficiently similar block after the last pairing.
                let candidate = (next_new..new_index + new_len)
                    .filter(|&n| new_partner[n].is_none())
                    .find(|&n| similar(o, n, CHANGED_THRESHOLD).is_some());
                if let Some(n) = candidate {
                    *partner = Some((n, false));
                    new_partner[n] = Some((o, false));
                    next_new = n + 1;
                }
            }
        }
    }
    for &o in &removed {
        if old_partner[o].is_some() {
            continue;
        }
        let best = added
            .iter()
            .copied()
            .filter(|&n| new_partner[n].is_none())
            .filter_map(|n| similar(o, n, MOVED_THRESHOLD).map(|r| (n, r)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        if let Some((n, _)) = best {
            old_partner[o] = Some((n, true));
            new_partner[n] = Some((o, true));
        }
    }

    let mut rows = Vec::with_capacity(old.len().max(new.len()));
    let mut summary = Summary::default();
    for op in &ops {
        match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for i in 0..len {
                    rows.push(Row::Same {
                        old: old_index + i,
                        new: new_index + i,
                    });
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                for o in old_index..old_index + old_len {
                    rows.push(old_row(o, &old_partner, &mut summary));
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                for n in new_index..new_index + new_len {
                    rows.push(new_row(n, old, new, &new_partner, labels, &mut summary));
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                // Interleave: old-only rows, then the changed pair, keeping both sides in order.
                let mut n = new_index;
                for o in old_index..old_index + old_len {
                    match old_partner[o] {
                        Some((partner, false)) => {
                            while n < partner {
                                rows.push(new_row(n, old, new, &new_partner, labels, &mut summary));
                                n += 1;
                            }
                            let (old_html, new_html) =
                                word_diff(&old[o].html, &new[partner].html, labels);
                            summary.changed += 1;
                            rows.push(Row::Changed {
                                old: o,
                                new: partner,
                                old_html,
                                new_html,
                            });
                            n = partner + 1;
                        }
                        _ => rows.push(old_row(o, &old_partner, &mut summary)),
                    }
                }
                while n < new_index + new_len {
                    rows.push(new_row(n, old, new, &new_partner, labels, &mut summary));
                    n += 1;
                }
            }
        }
    }
    Synopsis { rows, summary }
}

fn old_row(o: usize, old_partner: &[Option<(usize, bool)>], summary: &mut Summary) -> Row {
    match old_partner[o] {
        Some((n, true)) => Row::MovedAway { old: o, new: n },
        _ => {
            summary.deleted += 1;
            Row::Deleted { old: o }
        }
    }
}

fn new_row(
    n: usize,
    old: &[Block],
    new: &[Block],
    new_partner: &[Option<(usize, bool)>],
    labels: &DiffLabels,
    summary: &mut Summary,
) -> Row {
    match new_partner[n] {
        Some((o, true)) => {
            summary.moved += 1;
            let (old_html, new_html) = if old[o].markdown.trim() == new[n].markdown.trim() {
                (old[o].html.clone(), new[n].html.clone())
            } else {
                word_diff(&old[o].html, &new[n].html, labels)
            };
            Row::MovedHere {
                old: o,
                new: n,
                old_html,
                new_html,
            }
        }
        _ => {
            summary.inserted += 1;
            Row::Inserted { new: n }
        }
    }
}

/// Each block's words.
fn block_words(blocks: &[Block]) -> Vec<Vec<&str>> {
    blocks
        .iter()
        .map(|b| b.markdown.split_whitespace().collect())
        .collect()
}

/// The [`word_similarity`] of two texts' words if it is at least `threshold`. Texts whose lengths alone keep
/// them below it (they share at most as many words as the shorter has) are not compared: a block is
/// looked for among all blocks added elsewhere, most of which are not it.
fn similar_words(a: &[&str], b: &[&str], threshold: f32) -> Option<f32> {
    let (short, total) = (a.len().min(b.len()), a.len() + b.len());
    if total > 0 && (2 * short) as f32 / (total as f32) < threshold {
        return None;
    }
    Some(word_similarity(a, b)).filter(|&r| r >= threshold)
}

/// How similar two texts are (0–1), by their words: twice the words they have in common, in order,
/// over all their words.
fn word_similarity(a: &[&str], b: &[&str]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let ops = capture_diff_slices(Algorithm::Patience, a, b);
    let same: usize = ops
        .iter()
        .map(|op| match *op {
            DiffOp::Equal { len, .. } => len,
            _ => 0,
        })
        .sum();
    2.0 * same as f32 / (a.len() + b.len()) as f32
}

/// A piece of HTML: a tag (kept as it is) or a word or run of whitespace (compared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Tag(&'a str),
    Text(&'a str),
}

fn tokenize(html: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            tokens.push(Token::Tag(&rest[..end]));
            rest = &rest[end..];
            continue;
        }
        let text_end = rest.find('<').unwrap_or(rest.len());
        let mut text = &rest[..text_end];
        while !text.is_empty() {
            // A word (letters, digits, entities), a run of whitespace, or one punctuation character.
            let first = text.chars().next().expect("text is not empty");
            let class = char_class(first);
            let len = if class == CharClass::Punctuation {
                first.len_utf8()
            } else {
                text.char_indices()
                    .find(|(_, c)| char_class(*c) != class)
                    .map_or(text.len(), |(i, _)| i)
            };
            tokens.push(Token::Text(&text[..len]));
            text = &text[len..];
        }
        rest = &rest[text_end..];
    }
    tokens
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Word,
    Space,
    Punctuation,
}

fn char_class(c: char) -> CharClass {
    if c.is_whitespace() {
        CharClass::Space
    } else if c.is_alphanumeric() || matches!(c, '&' | ';' | '#' | '-' | '_' | '§') {
        // `&amp;`-style entities and hyphenated compounds stay one word.
        CharClass::Word
    } else {
        CharClass::Punctuation
    }
}

/// Word diff of two HTML fragments: the old with `<del>`, the new with `<ins>` around changed words.
pub fn word_diff(old_html: &str, new_html: &str, labels: &DiffLabels) -> (String, String) {
    let old_tokens = tokenize(old_html);
    let new_tokens = tokenize(new_html);
    let old_words: Vec<(usize, &str)> = words(&old_tokens);
    let new_words: Vec<(usize, &str)> = words(&new_tokens);
    let a: Vec<&str> = old_words.iter().map(|w| w.1).collect();
    let b: Vec<&str> = new_words.iter().map(|w| w.1).collect();
    let mut old_marked = vec![false; old_tokens.len()];
    let mut new_marked = vec![false; new_tokens.len()];
    for op in capture_diff_slices(Algorithm::Patience, &a, &b) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        for i in old_range {
            old_marked[old_words[i].0] = true;
        }
        for i in new_range {
            new_marked[new_words[i].0] = true;
        }
    }
    (
        emit(&old_tokens, &old_marked, "del", labels.deleted),
        emit(&new_tokens, &new_marked, "ins", labels.inserted),
    )
}

/// The non-whitespace text tokens with their token index.
fn words<'a>(tokens: &[Token<'a>]) -> Vec<(usize, &'a str)> {
    tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t {
            Token::Text(s) if !s.trim().is_empty() => Some((i, *s)),
            _ => None,
        })
        .collect()
}

/// Writes the tokens back, wrapping runs of marked words (and the spaces between them) in `<tag>`.
fn emit(tokens: &[Token], marked: &[bool], tag: &str, label: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Tag(t) => {
                if open {
                    out.push_str(&format!("</{tag}>"));
                    open = false;
                }
                out.push_str(t);
            }
            Token::Text(s) => {
                let is_space = s.trim().is_empty();
                if marked[i] && !open {
                    out.push_str(&format!(
                        "<{tag}><span class=\"visually-hidden\">{label} </span>"
                    ));
                    open = true;
                } else if open && is_space {
                    // Keep the run open only if the next word is marked too.
                    let next_marked = tokens[i + 1..]
                        .iter()
                        .zip(&marked[i + 1..])
                        .find(|(t, _)| !matches!(t, Token::Text(s) if s.trim().is_empty()))
                        .is_some_and(|(t, m)| matches!(t, Token::Text(_)) && *m);
                    if !next_marked {
                        out.push_str(&format!("</{tag}>"));
                        open = false;
                    }
                } else if open && !marked[i] {
                    out.push_str(&format!("</{tag}>"));
                    open = false;
                }
                out.push_str(s);
            }
        }
    }
    if open {
        out.push_str(&format!("</{tag}>"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: DiffLabels = DiffLabels {
        deleted: "gelöscht:",
        inserted: "eingefügt:",
    };

    fn blocks(texts: &[&str]) -> Vec<Block> {
        texts
            .iter()
            .map(|t| Block {
                markdown: t.to_string(),
                html: format!("<p>{t}</p>"),
            })
            .collect()
    }

    #[test]
    fn splits_top_level_blocks_and_list_items() {
        let md = "# Titel\n\nAbsatz eins.\n\n- a\n- b\n\n| x |\n|---|\n| 1 |\n";
        let parts: Vec<&str> = split_blocks(md).into_iter().map(|r| md[r].trim()).collect();
        assert_eq!(
            parts,
            [
                "# Titel",
                "Absatz eins.",
                "- a",
                "- b",
                "| x |\n|---|\n| 1 |"
            ]
        );
    }

    #[test]
    fn detects_changes_insertions_deletions_and_moves() {
        let old = blocks(&[
            "Erster Absatz bleibt.",
            "Dieser Absatz wird verschoben und bleibt gleich lang.",
            "Zweiter Absatz bleibt.",
            "Die Frist beträgt zwei Wochen nach Eingang.",
            "Dritter Absatz bleibt.",
            "Dieser Satz fällt weg.",
            "Letzter Absatz.",
        ]);
        let new = blocks(&[
            "Erster Absatz bleibt.",
            "Zweiter Absatz bleibt.",
            "Die Frist beträgt vier Wochen nach Eingang.",
            "Dritter Absatz bleibt.",
            "Letzter Absatz.",
            "Dieser Absatz wird verschoben und bleibt gleich lang.",
            "Ein neuer Absatz.",
        ]);
        let s = compare(&old, &new, &LABELS);
        assert_eq!(
            s.summary,
            Summary {
                changed: 1,
                inserted: 1,
                deleted: 1,
                moved: 1
            }
        );
        assert!(s.rows.contains(&Row::MovedAway { old: 1, new: 5 }));
        assert!(
            s.rows
                .iter()
                .any(|r| matches!(r, Row::MovedHere { old: 1, new: 5, .. }))
        );
        let changed = s.rows.iter().find_map(|r| match r {
            Row::Changed {
                old_html, new_html, ..
            } => Some((old_html.clone(), new_html.clone())),
            _ => None,
        });
        let (old_html, new_html) = changed.expect("a changed row");
        assert!(
            old_html.contains("<del><span class=\"visually-hidden\">gelöscht: </span>zwei</del>"),
            "{old_html}"
        );
        assert!(
            new_html.contains("<ins><span class=\"visually-hidden\">eingefügt: </span>vier</ins>"),
            "{new_html}"
        );
    }

    #[test]
    fn word_diff_keeps_links_and_emphasis_intact() {
        let (old, new) = word_diff(
            "<p>Siehe <a href=\"/x/\">die alte Regel</a> und <em>mehr</em>.</p>",
            "<p>Siehe <a href=\"/x/\">die neue Regel</a> und <em>mehr</em>.</p>",
            &LABELS,
        );
        assert_eq!(
            old,
            "<p>Siehe <a href=\"/x/\">die <del><span class=\"visually-hidden\">gelöscht: </span>alte</del> Regel</a> und <em>mehr</em>.</p>"
        );
        assert!(new.contains("<a href=\"/x/\">die <ins>"), "{new}");
    }

    #[test]
    fn identical_texts_have_an_empty_summary() {
        let a = blocks(&["Eins.", "Zwei."]);
        let s = compare(&a, &a, &LABELS);
        assert!(s.summary.is_empty());
        assert_eq!(s.rows.len(), 2);
    }
}
