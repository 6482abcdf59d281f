//! German term expansion: the extra words the index gets so that German queries find what Pagefind's
//! stemmer alone misses.
//!
//! Pagefind stems German words (Snowball), folds diacritics and splits words at hyphens, so
//! „Folgenabschätzung“ already finds „Datenschutz-Folgenabschätzung“. It does not split closed
//! compounds, and the stem of a singular does not reach an irregular plural. This module adds, per word:
//!
//! - **the tails of closed compounds**: every ending of the word that is itself a word of the
//!   [`Lexicon`] (the site's own words plus the glossary's `teile`, at least `min_teil` characters,
//!   minus `keine_teile`), also when the ending only differs by an inflection (`-en`, `-n`, `-e`, `-s`,
//!   `-es`, `-er`, `-ern`): „Datenschutzfolgenabschätzung“ → „schutzfolgenabschätzung“ is no word,
//!   „folgenabschätzung“ and „abschätzung“ are. The heads need nothing: Pagefind matches the query as a
//!   prefix, so „Datenschutz“ already finds „Datenschutzfolgenabschätzung“.
//! - **the glossary's terms** for the word or any of its tails (`risiken` → `risiko`), so „Risiko“ finds
//!   „Risiken“ and „Restrisiken“.
//!
//! Limits: splitting by lexicon is greedy-free but not linguistic — a word that happens to end in
//! another word of the site is split too („Einsatz“ → „Satz“ if the site says „Satz“); `keine_teile`
//! stops the frequent cases. A compound whose parts the site never uses alone and the glossary does not
//! list is not split. Umlaut spellings with `ae`/`oe`/`ue`/`ss` are handled at query time in the browser
//! (the search page also searches the umlaut form), not here.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Deserialize;

/// The built-in glossary (`src/search/glossar.toml`).
pub const BUILT_IN: &str = include_str!("glossar.toml");

/// The site's additions to the glossary, relative to the site root.
pub const SITE_FILE: &str = "content/daten/suche.toml";

/// Endings a compound's tail may carry beyond the lexicon's form of the word.
const INFLECTIONS: &[&str] = &["ern", "en", "er", "es", "n", "e", "s"];

/// The shortest head that is split off a compound (in characters).
const MIN_HEAD: usize = 3;

/// What the search knows about German beyond stemming: word parts, words never split off, extra terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glossary {
    /// The shortest compound part (in characters).
    pub min_part: usize,
    /// Parts known besides the site's own words.
    pub parts: BTreeSet<String>,
    /// Words never split off as a part.
    pub never_parts: BTreeSet<String>,
    /// Word (lower case) → extra terms indexed wherever the word stands.
    pub terms: BTreeMap<String, Vec<String>>,
}

/// The file format of the glossary (German keys, as editors write them).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryFile {
    min_teil: Option<usize>,
    #[serde(default)]
    teile: Vec<String>,
    #[serde(default)]
    keine_teile: Vec<String>,
    #[serde(default)]
    begriffe: BTreeMap<String, Vec<String>>,
}

impl GlossaryFile {
    /// Parses a glossary file.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

impl Glossary {
    /// The built-in glossary with the site's file applied on top (lists are extended, terms replaced).
    pub fn new(site: Option<GlossaryFile>) -> Self {
        let built_in = GlossaryFile::parse(BUILT_IN).expect("the built-in glossary is valid TOML");
        let mut glossary = Glossary {
            min_part: 4,
            parts: BTreeSet::new(),
            never_parts: BTreeSet::new(),
            terms: BTreeMap::new(),
        };
        for file in std::iter::once(built_in).chain(site) {
            if let Some(min) = file.min_teil {
                glossary.min_part = min.max(2);
            }
            glossary
                .parts
                .extend(file.teile.iter().map(|w| w.to_lowercase()));
            glossary
                .never_parts
                .extend(file.keine_teile.iter().map(|w| w.to_lowercase()));
            for (word, terms) in file.begriffe {
                glossary.terms.insert(
                    word.to_lowercase(),
                    terms.iter().map(|t| t.to_lowercase()).collect(),
                );
            }
        }
        glossary
    }
}

impl Default for Glossary {
    fn default() -> Self {
        Glossary::new(None)
    }
}

/// The words compounds are split against: the site's words and the glossary's parts.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    words: HashSet<String>,
}

impl Lexicon {
    /// A lexicon of `words` (any case) and the glossary's parts, without its `keine_teile` and words
    /// shorter than its `min_part`.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>, glossary: &Glossary) -> Self {
        let words = words
            .into_iter()
            .map(str::to_lowercase)
            .chain(glossary.parts.iter().cloned())
            .filter(|w| w.chars().count() >= glossary.min_part && !glossary.never_parts.contains(w))
            .collect();
        Lexicon { words }
    }

    /// Whether `word` (lower case) is a part compounds are split into.
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(word)
    }

    /// How many words the lexicon has.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the lexicon is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Splits text into words: runs of letters and digits, lower case. Hyphens, apostrophes and all other
/// characters separate words (Pagefind indexes hyphenated parts itself).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Calls `f` with each word of `text` in lower case, as [`words`] yields them, allocating only for words
/// that lower-casing changes.
pub fn each_word(text: &str, mut f: impl FnMut(&str)) {
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let unchanged = word.chars().all(|c| {
            let mut lower = c.to_lowercase();
            lower.next() == Some(c) && lower.next().is_none()
        });
        if unchanged {
            f(word);
        } else {
            f(&word.to_lowercase());
        }
    }
}

/// The extra index terms for one word (lower case): its tails that are words of the lexicon and the
/// glossary's terms for the word and those tails. Sorted, without the word itself.
pub fn expand(word: &str, lexicon: &Lexicon, glossary: &Glossary) -> Vec<String> {
    let mut out = BTreeSet::new();
    if let Some(terms) = glossary.terms.get(word) {
        out.extend(terms.iter().cloned());
    }
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    if chars.len() >= MIN_HEAD + glossary.min_part {
        for &(start, _) in &chars[MIN_HEAD..=chars.len() - glossary.min_part] {
            let tail = &word[start..];
            if is_part(tail, lexicon, glossary) {
                out.insert(tail.to_string());
                if let Some(terms) = glossary.terms.get(tail) {
                    out.extend(terms.iter().cloned());
                }
            }
        }
    }
    out.remove(word);
    out.into_iter().collect()
}

/// Whether a compound's tail is a part: a lexicon word itself or one with an inflection ending.
fn is_part(tail: &str, lexicon: &Lexicon, glossary: &Glossary) -> bool {
    if glossary.never_parts.contains(tail) {
        return false;
    }
    if lexicon.contains(tail) || glossary.terms.contains_key(tail) {
        return true;
    }
    INFLECTIONS.iter().any(|ending| {
        tail.strip_suffix(ending)
            .is_some_and(|stem| stem.chars().count() >= glossary.min_part && lexicon.contains(stem))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_word_yields_what_words_yields() {
        let text = "Die KI-Leitlinien: Übermittlung, ΣΟΦΊΑ straße ǅemal 42x";
        let mut each = Vec::new();
        each_word(text, |w| each.push(w.to_string()));
        assert_eq!(each, words(text).collect::<Vec<_>>());
    }

    fn lexicon(glossary: &Glossary) -> Lexicon {
        // Words a policy site like the Lüneburg one uses on its own.
        let site = "Daten Schutz Folgenabschätzung Übermittlungen Risiken Risiko Klassifizierung \
                    Verarbeitung Einsatz Beispiel Betreiber Pflichten Sicherheit";
        let words: Vec<String> = words(site).collect();
        Lexicon::new(words.iter().map(String::as_str), glossary)
    }

    #[test]
    fn expansion_table() {
        let glossary = Glossary::default();
        let lexicon = lexicon(&glossary);
        // (word in the text, terms that must be added, terms that must not be added)
        let table: &[(&str, &[&str], &[&str])] = &[
            (
                "datenschutzfolgenabschätzung",
                &["folgenabschätzung", "abschätzung"],
                &["datenschutzfolgenabschätzung", "schutzfolgenabschätzung"],
            ),
            (
                "datenübermittlung",
                &["übermittlung"],
                &["datenübermittlung"],
            ),
            ("drittlandübermittlungen", &["übermittlungen"], &[]),
            ("risiken", &["risiko"], &["risiken"]),
            ("restrisiken", &["risiken", "risiko"], &[]),
            ("hochrisiko", &["risiko"], &[]),
            ("risikoklassifizierung", &["klassifizierung"], &[]),
            ("betreiberpflichten", &["pflichten"], &[]),
            ("informationssicherheit", &["sicherheit"], &[]),
            ("metadaten", &["daten"], &[]),
            // Endings and function words are never split off.
            ("beispielsweise", &[], &["weise"]),
            ("gegenüber", &[], &["über"]),
            // Too short to be a compound of two parts.
            ("daten", &[], &[]),
            // Unknown parts: nothing to add.
            ("quellcode", &[], &["code"]),
        ];
        for (word, must, must_not) in table {
            let terms = expand(word, &lexicon, &glossary);
            for term in *must {
                assert!(
                    terms.iter().any(|t| t == term),
                    "{word}: {term} fehlt in {terms:?}"
                );
            }
            for term in *must_not {
                assert!(
                    !terms.iter().any(|t| t == term),
                    "{word}: {term} darf nicht in {terms:?} stehen"
                );
            }
        }
    }

    #[test]
    fn words_are_lower_case_letter_runs() {
        let got: Vec<String> = words("Die Datenschutz-Folgenabschätzung (DSFA), Art. 35").collect();
        assert_eq!(
            got,
            [
                "die",
                "datenschutz",
                "folgenabschätzung",
                "dsfa",
                "art",
                "35"
            ]
        );
    }

    #[test]
    fn site_file_extends_lists_and_replaces_terms() {
        let site = GlossaryFile::parse(
            "min_teil = 5\nteile = [\"Antrag\"]\nkeine_teile = [\"satz\"]\n[begriffe]\nrisiken = [\"gefahr\"]\n",
        )
        .unwrap();
        let glossary = Glossary::new(Some(site));
        assert_eq!(glossary.min_part, 5);
        assert!(glossary.parts.contains("antrag"));
        assert!(glossary.parts.contains("übermittlung"));
        assert!(glossary.never_parts.contains("satz"));
        assert_eq!(glossary.terms["risiken"], ["gefahr"]);
        assert_eq!(glossary.terms["themen"], ["thema"]);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = GlossaryFile::parse("teil = [\"x\"]\n").unwrap_err();
        assert!(err.to_string().contains("teil"), "{err}");
    }

    #[test]
    fn built_in_glossary_is_lower_case() {
        let glossary = Glossary::default();
        for word in glossary
            .parts
            .iter()
            .chain(&glossary.never_parts)
            .chain(glossary.terms.keys())
        {
            assert_eq!(word, &word.to_lowercase());
        }
    }
}
