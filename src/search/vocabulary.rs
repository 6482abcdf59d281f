//! The site's vocabulary for the German extra terms, kept between builds.
//!
//! A page's extra terms come from the lexicon of every word of the site ([`super::expansions`]), so each
//! build needs the set of all the pages' words. Gathering it from every page's section words took
//! 130–200 ms at 10,000 pages, on every build, for 11,000 distinct words. [`Vocabulary`] keeps how often
//! each word occurs (once per section that has it) with the expansions made from it, and the pages it was
//! counted from. A build whose pages are those pages, some of them changed, takes the counts of the
//! changed pages' earlier words away and adds their new words; only when a word came or went are the
//! expansions made again (from the counts, a few milliseconds). Anything else — pages that came or went,
//! another glossary, a cache that does not match the pages' cache — counts every page again, which gives
//! the same vocabulary by construction.

use std::path::{Path, PathBuf};

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use super::german::{self, Glossary, Lexicon};
use super::store::Key;
use super::{Expansions, SectionWords};
use rayon::prelude::*;

/// The file inside the search cache.
const FILE: &str = "vokabular.bin";
/// Raised when the layout changes.
const FORMAT: u32 = 1;

/// A page as the vocabulary counts it: its URL, the key of its section words now and, if the page changed
/// since the words cache was written, its earlier key and words.
pub(super) struct CountedPage<'a> {
    pub url: &'a str,
    pub key: &'a Key,
    /// `None` while not loaded: an update of the last build's vocabulary reads the words of changed
    /// pages only (which are), counting anew reads every page's ([`Vocabulary::needs_all_words`]).
    pub words: Option<&'a SectionWords>,
    /// `None` for a page whose words are those of the cache.
    pub earlier: Option<Earlier<'a>>,
}

/// What the words cache held for a page that changed: `None` for a page it did not know.
pub(super) type Earlier<'a> = Option<(&'a Key, &'a SectionWords)>;

/// The vocabulary of a build and the expansions made from it.
pub(super) struct Vocabulary {
    /// The pages counted ([`fingerprint`]).
    pages: Key,
    /// The glossary the expansions were made with ([`glossary_key`]).
    glossary: Key,
    /// Word → how many sections have it.
    counts: HashMap<String, u32>,
    pub expansions: Expansions,
    /// How the expansions differ from those of the last build's file, when they were made again
    /// from its counts; `None` when they are that file's or were made from counts taken anew.
    pub changed: Option<Changed>,
    /// Taken from the last build's file as it is (no page changed): nothing to save.
    unchanged: bool,
}

/// What a new word (or one gone) changed in the expansions: the key of the expansions before
/// ([`super::expansions_key`]) and the words whose extra terms came, went or changed. A page's terms
/// come from its own words' expansions only, so a page without any of these words keeps the terms it
/// had (a number or name first written on one page used to make the terms of every page again).
pub(super) struct Changed {
    pub earlier: Key,
    pub words: Vec<String>,
}

impl Vocabulary {
    /// The vocabulary of `pages` and its expansions, from `earlier` (the last build's, [`Vocabulary::load`])
    /// where it describes the pages as the words cache had them.
    pub fn of(pages: &[CountedPage], glossary: &Glossary, earlier: Option<Vocabulary>) -> Self {
        let glossary_key = glossary_key(glossary);
        let after = fingerprint(pages.iter().map(|page| (page.url, page.key)));
        match earlier {
            Some(mut vocabulary) if updates(&vocabulary, pages, &glossary_key) => {
                let mut words_changed = false;
                vocabulary.unchanged = pages.iter().all(|page| page.earlier.is_none());
                for page in pages {
                    let Some(Some((_, words))) = page.earlier else {
                        continue;
                    };
                    for word in all_words(words) {
                        if let Some(count) = vocabulary.counts.get_mut(word) {
                            *count -= 1;
                            if *count == 0 {
                                vocabulary.counts.remove(word);
                                words_changed = true;
                            }
                        }
                    }
                    for word in page.words.into_iter().flat_map(all_words) {
                        let count = vocabulary.counts.entry_ref(word).or_insert(0);
                        words_changed |= *count == 0;
                        *count += 1;
                    }
                }
                if words_changed {
                    let expansions = expand(&vocabulary.counts, glossary);
                    let words = differing(&vocabulary.expansions, &expansions);
                    if !words.is_empty() {
                        vocabulary.changed = Some(Changed {
                            earlier: super::expansions_key(&vocabulary.expansions),
                            words,
                        });
                    }
                    vocabulary.expansions = expansions;
                }
                vocabulary.pages = after;
                vocabulary
            }
            _ => {
                let counts = count(pages);
                Vocabulary {
                    pages: after,
                    glossary: glossary_key,
                    expansions: expand(&counts, glossary),
                    counts,
                    changed: None,
                    unchanged: false,
                }
            }
        }
    }

    /// Whether every section that has one of the [`Changed`] words is among `pages` (the pages that
    /// changed): then no other page's terms can have changed, and their words need not be looked at.
    /// True when nothing changed.
    pub fn changed_only_in(&self, pages: &[&SectionWords]) -> bool {
        let Some(changed) = &self.changed else {
            return true;
        };
        let mut sections: HashMap<&str, u32> =
            changed.words.iter().map(|w| (w.as_str(), 0)).collect();
        for word in pages.iter().flat_map(|words| all_words(words)) {
            if let Some(count) = sections.get_mut(word) {
                *count += 1;
            }
        }
        sections
            .iter()
            .all(|(word, &count)| self.counts.get(*word).copied().unwrap_or(0) == count)
    }

    /// Whether making the vocabulary of `pages` needs every page's words: when `earlier` cannot be
    /// updated (see [`Vocabulary::of`]).
    pub fn needs_all_words(
        earlier: Option<&Vocabulary>,
        pages: &[CountedPage],
        glossary: &Glossary,
    ) -> bool {
        !earlier.is_some_and(|earlier| updates(earlier, pages, &glossary_key(glossary)))
    }

    /// The vocabulary the last build saved in the search cache `cache`, if it can be read.
    pub fn load(cache: &Path) -> Option<Vocabulary> {
        let file: File = crate::cache::read(&path(cache), &crate::cache::program_stamp(FORMAT))?;
        Some(Vocabulary {
            pages: file.pages,
            glossary: file.glossary,
            counts: file.counts.into_iter().collect(),
            expansions: file.expansions.into_iter().collect(),
            changed: None,
            unchanged: false,
        })
    }

    /// Keeps the vocabulary for the next build (a failure only costs that build time); a vocabulary
    /// taken unchanged from the last build's file is not written again.
    pub fn save(&self, cache: &Path, writes: &crate::cache::Writes) {
        if self.unchanged {
            return;
        }
        let file = File {
            pages: self.pages,
            glossary: self.glossary,
            counts: self
                .counts
                .iter()
                .map(|(word, count)| (word.clone(), *count))
                .collect(),
            expansions: self
                .expansions
                .iter()
                .map(|(word, terms)| (word.clone(), terms.clone()))
                .collect(),
        };
        let _ = writes.owned_value(&path(cache), crate::cache::program_stamp(FORMAT), file);
    }
}

/// The vocabulary's file.
#[derive(Serialize, Deserialize)]
struct File {
    pages: Key,
    glossary: Key,
    counts: Vec<(String, u32)>,
    expansions: Vec<(String, Vec<String>)>,
}

fn path(cache: &Path) -> PathBuf {
    cache.join(FILE)
}

/// Whether `vocabulary` (the last build's) describes `pages` as the words cache had them, with the
/// glossary of `glossary_key`, and the words of the pages that changed since are loaded: then it is
/// updated from those pages alone.
fn updates(vocabulary: &Vocabulary, pages: &[CountedPage], glossary_key: &Key) -> bool {
    let before = pages
        .iter()
        .map(|page| match page.earlier {
            None => Some((page.url, page.key)),
            Some(earlier) => page.words.and(earlier).map(|(key, _)| (page.url, key)),
        })
        .collect::<Option<Vec<_>>>()
        .map(|pages| fingerprint(pages.into_iter()));
    Some(vocabulary.pages) == before && vocabulary.glossary == *glossary_key
}

/// Every word of every section of a page, once per section.
fn all_words(words: &SectionWords) -> impl Iterator<Item = &str> {
    words.words.split_terminator('\n')
}

/// How many sections of `pages` have each word.
fn count(pages: &[CountedPage]) -> HashMap<String, u32> {
    pages
        .par_iter()
        .fold(HashMap::new, |mut counts: HashMap<&str, u32>, page| {
            // Every page's words are loaded to count anew (`Vocabulary::needs_all_words`).
            debug_assert!(page.words.is_some(), "{}: words not loaded", page.url);
            for word in page.words.into_iter().flat_map(all_words) {
                *counts.entry(word).or_insert(0) += 1;
            }
            counts
        })
        .reduce(HashMap::new, |a, b| {
            let (mut a, b) = if a.len() < b.len() { (b, a) } else { (a, b) };
            for (word, count) in b {
                *a.entry(word).or_insert(0) += count;
            }
            a
        })
        .into_iter()
        .map(|(word, count)| (word.to_string(), count))
        .collect()
}

/// The extra terms of every word that has any (see [`german::expand`]), against the lexicon of all the
/// words counted.
fn expand(counts: &HashMap<String, u32>, glossary: &Glossary) -> Expansions {
    let lexicon = Lexicon::new(counts.keys().map(String::as_str), glossary);
    let words: Vec<&String> = counts.keys().collect();
    words
        .par_iter()
        .filter_map(|word| {
            let terms = german::expand(word, &lexicon, glossary);
            (!terms.is_empty()).then(|| ((*word).clone(), terms))
        })
        .collect()
}

/// The words whose expansions differ between `before` and `after` (present in one only, or with other
/// terms).
fn differing(before: &Expansions, after: &Expansions) -> Vec<String> {
    let mut words: Vec<String> = after
        .iter()
        .filter(|(word, terms)| before.get(*word) != Some(terms))
        .map(|(word, _)| word.clone())
        .chain(
            before
                .keys()
                .filter(|word| !after.contains_key(*word))
                .cloned(),
        )
        .collect();
    words.sort_unstable();
    words
}

/// A key of a set of pages (URL and the key of its words), independent of their order.
fn fingerprint<'a>(pages: impl Iterator<Item = (&'a str, &'a Key)>) -> Key {
    let mut sum: u128 = 0;
    let mut count: u64 = 0;
    for (url, key) in pages {
        let mut hasher = blake3::Hasher::new();
        hasher.update(url.as_bytes());
        hasher.update(&[0]);
        hasher.update(key);
        let hash = hasher.finalize();
        let mut low = [0; 16];
        low.copy_from_slice(&hash.as_bytes()[..16]);
        sum = sum.wrapping_add(u128::from_le_bytes(low));
        count += 1;
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(&sum.to_le_bytes());
    hasher.update(&count.to_le_bytes());
    *hasher.finalize().as_bytes()
}

/// A key of the glossary: another glossary makes other expansions.
fn glossary_key(glossary: &Glossary) -> Key {
    *blake3::hash(format!("{glossary:?}").as_bytes()).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of one section with `words`.
    fn words(words: &[&str]) -> SectionWords {
        let text: String = words.iter().map(|w| format!("{w}\n")).collect();
        SectionWords {
            sections: vec![(100, text.len())],
            words: text,
        }
    }

    fn key(name: &str) -> Key {
        *blake3::hash(name.as_bytes()).as_bytes()
    }

    fn page<'a>(url: &'a str, key: &'a Key, words: &'a SectionWords) -> CountedPage<'a> {
        CountedPage {
            url,
            key,
            words: Some(words),
            earlier: None,
        }
    }

    fn sorted(expansions: &Expansions) -> Vec<(String, Vec<String>)> {
        let mut all: Vec<_> = expansions
            .iter()
            .map(|(w, t)| (w.clone(), t.clone()))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_vocabulary_kept_between_builds_is_the_one_counted_anew() {
        let glossary = Glossary::default();
        let (ka, kb, kb2) = (key("a"), key("b"), key("b2"));
        let a = words(&["einsatzplanung", "planung"]);
        let b = words(&["verwaltung", "einsatz"]);
        let first = Vocabulary::of(
            &[page("/a/", &ka, &a), page("/b/", &kb, &b)],
            &glossary,
            None,
        );

        // Page b changes: one word goes, one comes (which makes a compound of page a split anew).
        let b2 = words(&["kreisverwaltung", "einsatz", "kreis"]);
        let mut changed = page("/b/", &kb2, &b2);
        changed.earlier = Some(Some((&kb, &b)));
        let pages = [page("/a/", &ka, &a), changed];
        let before = first.expansions.clone();
        let kept = Vocabulary::of(&pages, &glossary, Some(first));
        let anew = Vocabulary::of(
            &[page("/a/", &ka, &a), page("/b/", &kb2, &b2)],
            &glossary,
            None,
        );
        assert_eq!(kept.pages, anew.pages);
        assert_eq!(kept.counts, anew.counts);
        assert_eq!(sorted(&kept.expansions), sorted(&anew.expansions));
        assert!(kept.counts.contains_key("kreis") && !kept.counts.contains_key("verwaltung"));
        assert!(
            kept.expansions.contains_key("kreisverwaltung"),
            "{:?}",
            kept.expansions
        );
        // What changed in the expansions, for the pages' terms: exactly the words whose terms differ.
        let changed = kept.changed.as_ref().expect("the expansions changed");
        assert_eq!(changed.earlier, super::super::expansions_key(&before));
        let mut differing: Vec<&String> = before
            .keys()
            .chain(kept.expansions.keys())
            .filter(|word| before.get(*word) != kept.expansions.get(*word))
            .collect();
        differing.sort();
        differing.dedup();
        assert_eq!(changed.words.iter().collect::<Vec<_>>(), differing);
        assert!(changed.words.contains(&"kreisverwaltung".to_string()));
        assert!(anew.changed.is_none());
        // Page a has a changed word too (its compound split anew): its words must be looked at.
        // Only the changed page has the changed word: the other pages' words need not be looked at.
        assert!(kept.changed_only_in(&[&b2]));
        assert!(!kept.changed_only_in(&[]));
        // Updating needs the changed page's words only; without the kept vocabulary, every page's.
        let mut unloaded = page("/a/", &ka, &a);
        unloaded.words = None;
        let mut changed = page("/b/", &kb2, &b2);
        changed.earlier = Some(Some((&kb, &b)));
        let pages = [unloaded, changed];
        let first = Vocabulary::of(
            &[page("/a/", &ka, &a), page("/b/", &kb, &b)],
            &glossary,
            None,
        );
        assert!(!Vocabulary::needs_all_words(
            Some(&first),
            &pages,
            &glossary
        ));
        assert!(Vocabulary::needs_all_words(None, &pages, &glossary));
    }

    #[test]
    fn a_new_word_that_changes_the_terms_of_another_pages_word_is_found_there() {
        let glossary = Glossary::default();
        let (ka, kb, kb2) = (key("a"), key("b"), key("b2"));
        let a = words(&["einsatzplanung", "verwaltung"]);
        let b = words(&["verwaltung"]);
        let first = Vocabulary::of(
            &[page("/a/", &ka, &a), page("/b/", &kb, &b)],
            &glossary,
            None,
        );
        // Page b brings „planung“, the tail of a compound on page a: that compound's terms change.
        let b2 = words(&["verwaltung", "planung"]);
        let mut changed = page("/b/", &kb2, &b2);
        changed.earlier = Some(Some((&kb, &b)));
        let kept = Vocabulary::of(&[page("/a/", &ka, &a), changed], &glossary, Some(first));
        let new = kept.changed.as_ref().expect("the expansions changed");
        assert!(
            new.words.contains(&"einsatzplanung".to_string()),
            "{:?}",
            new.words
        );
        assert!(!kept.changed_only_in(&[&b2]), "page a has a changed word");
        assert!(kept.changed_only_in(&[&a, &b2]));
    }

    #[test]
    fn a_vocabulary_of_other_pages_is_counted_anew() {
        let glossary = Glossary::default();
        let (ka, kb) = (key("a"), key("b"));
        let a = words(&["einsatzplanung", "planung"]);
        let b = words(&["verwaltung"]);
        // Kept from a build of page a alone; now page b came: its earlier words are unknown.
        let only_a = Vocabulary::of(&[page("/a/", &ka, &a)], &glossary, None);
        let mut new = page("/b/", &kb, &b);
        new.earlier = Some(None);
        let counted = Vocabulary::of(&[page("/a/", &ka, &a), new], &glossary, Some(only_a));
        assert_eq!(counted.counts.get("verwaltung"), Some(&1));
        assert_eq!(counted.counts.get("planung"), Some(&1));

        // A vocabulary that does not describe the pages as the words cache had them is not used.
        let stale = Vocabulary::of(&[page("/a/", &kb, &b)], &glossary, None);
        let counted = Vocabulary::of(&[page("/a/", &ka, &a)], &glossary, Some(stale));
        assert_eq!(counted.counts.get("verwaltung"), None);
        assert_eq!(counted.counts.get("planung"), Some(&1));
    }

    #[test]
    fn the_vocabulary_is_read_back_as_it_was_saved() {
        let dir = tempfile::tempdir().unwrap();
        let glossary = Glossary::default();
        let ka = key("a");
        let a = words(&["einsatzplanung", "planung"]);
        let saved = Vocabulary::of(&[page("/a/", &ka, &a)], &glossary, None);
        saved.save(dir.path(), &crate::cache::Writes::immediate());
        let read = Vocabulary::load(dir.path()).expect("saved");
        assert_eq!(read.pages, saved.pages);
        assert_eq!(read.counts, saved.counts);
        assert_eq!(sorted(&read.expansions), sorted(&saved.expansions));

        // Nothing changed: the file is left as it is.
        let again = Vocabulary::of(&[page("/a/", &ka, &a)], &glossary, Some(read));
        std::fs::remove_file(path(dir.path())).unwrap();
        again.save(dir.path(), &crate::cache::Writes::immediate());
        assert!(!path(dir.path()).exists());
    }
}
