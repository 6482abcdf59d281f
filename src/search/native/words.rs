//! One whitespace-separated token of a page → the words the index holds for it, exactly as Pagefind 1.6
//! splits, normalises and stems them (`pagefind/src/fossick/splitting.rs`, non-extended build).
//!
//! - the whole token: alphanumeric characters (and `_`-like connector symbols) kept, lower-cased, stemmed;
//!   a token with diacritics (`Übermittlung`) is indexed under its folded stem (`ubermittl`) and keeps
//!   its original form as a variant, so the browser ranks exact spellings higher;
//! - parts of compounds (`Datenschutz-Folgenabschätzung`, `KI-Leitlinien`, camelCase): each part of two
//!   or more characters, stemmed, at a share of the token's weight;
//! - the compound tail after a dot (`sysconfig.is_python_build`), katakana suffixes and emoji.
//!
//! The result depends on nothing but the token and the language, so [`Analyzer`] memoizes it: a page
//! repeats most of its tokens, a site repeats most of its vocabulary.

use std::sync::{Arc, LazyLock};

use convert_case::{Case, Casing};
use hashbrown::HashMap;
use pagefind_stem::{Algorithm, Stemmer};
use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Symbols that count as part of a word (the Unicode category "Punctuation, Connector"), as in Pagefind.
pub const WORD_SYMBOLS: [char; 10] = ['_', '‿', '⁀', '⁔', '︳', '︴', '﹍', '﹎', '﹏', '＿'];

const MAX_KATAKANA_SUFFIX_CHARS: usize = 16;
const MAX_DOTTED_TAIL_CHARS: usize = 64;

static EMOJI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("\\p{Emoji}").expect("a valid regular expression"));

/// One word the index holds for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexable {
    /// The normalised, diacritic-folded, stemmed word: the key in the index.
    pub stemmed: Arc<str>,
    /// A part of a compound: indexed with a share of the token's weight.
    pub is_compound_part: bool,
    /// The form before diacritics were folded, when it differs (`übermittlung`).
    pub original: Option<Arc<str>>,
}

/// What a token yields: its words, and how many of them are compound parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub words: Vec<Indexable>,
    pub compound_parts: usize,
}

/// Splits and stems tokens for one language, remembering every token it has seen.
pub struct Analyzer {
    stemmer: Option<Stemmer>,
    memo: HashMap<String, Arc<Analysis>>,
    /// Interned stems and forms: equal words share one allocation.
    strings: HashMap<String, Arc<str>>,
}

impl Analyzer {
    /// An analyzer with the stemmer Pagefind uses for `language` (none for languages it cannot stem).
    pub fn new(language: &str) -> Self {
        Analyzer {
            stemmer: stemmer(language),
            memo: HashMap::new(),
            strings: HashMap::new(),
        }
    }

    /// The words of a token of the page's text (whole word, compound parts, dotted tails).
    pub fn token(&mut self, token: &str) -> Arc<Analysis> {
        if let Some(known) = self.memo.get(token) {
            return Arc::clone(known);
        }
        let mut words = indexable_words(token, self.stemmer.as_ref());
        let tails = dotted_tails(token, self.stemmer.as_ref(), &words);
        words.extend(tails);
        let analysis = Arc::new(self.intern(words));
        self.memo.insert(token.to_string(), Arc::clone(&analysis));
        analysis
    }

    /// The words of a token of a metadata field (no dotted tails, as in Pagefind).
    pub fn meta_token(&mut self, token: &str) -> Analysis {
        let words = indexable_words(token, self.stemmer.as_ref());
        self.intern(words)
    }

    fn intern(&mut self, words: Vec<Word>) -> Analysis {
        let compound_parts = words.iter().filter(|w| w.is_compound_part).count();
        let words = words
            .into_iter()
            .map(|w| Indexable {
                stemmed: self.string(w.stemmed),
                is_compound_part: w.is_compound_part,
                original: w.original.map(|o| self.string(o)),
            })
            .collect();
        Analysis {
            words,
            compound_parts,
        }
    }

    fn string(&mut self, s: String) -> Arc<str> {
        if let Some(known) = self.strings.get(&s) {
            return Arc::clone(known);
        }
        let shared: Arc<str> = Arc::from(s.as_str());
        self.strings.insert(s, Arc::clone(&shared));
        shared
    }
}

/// Pagefind's stemmer for a language (`de`, `de-at` → German), `None` where it has none.
pub fn stemmer(language: &str) -> Option<Stemmer> {
    let algorithm = match language.split('-').next().unwrap_or_default() {
        "ar" => Algorithm::Arabic,
        "hy" => Algorithm::Armenian,
        "eu" => Algorithm::Basque,
        "ca" => Algorithm::Catalan,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "en" => Algorithm::English,
        "eo" => Algorithm::Esperanto,
        "et" => Algorithm::Estonian,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hi" => Algorithm::Hindi,
        "hu" => Algorithm::Hungarian,
        "id" => Algorithm::Indonesian,
        "ga" => Algorithm::Irish,
        "it" => Algorithm::Italian,
        "lt" => Algorithm::Lithuanian,
        "nb" | "nn" | "no" => Algorithm::Norwegian,
        "ne" => Algorithm::Nepali,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "sr" => Algorithm::Serbian,
        "pl" => Algorithm::Polish,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        "yi" => Algorithm::Yiddish,
        _ => return None,
    };
    Some(Stemmer::create(algorithm))
}

/// A word before interning.
struct Word {
    stemmed: String,
    is_compound_part: bool,
    original: Option<String>,
}

fn indexable_words(raw_word: &str, stemmer: Option<&Stemmer>) -> Vec<Word> {
    let mut results = Vec::new();
    let normalized_word = normalize_word(raw_word);
    if !normalized_word.is_empty() {
        results.push(stem_word(&normalized_word, stemmer, false));
    }
    for suffix in katakana_suffixes(raw_word) {
        let folded = normalize_diacritics(suffix);
        results.push(Word {
            stemmed: folded.clone().unwrap_or_else(|| suffix.to_string()),
            original: folded.map(|_| suffix.to_string()),
            is_compound_part: true,
        });
    }

    let possibly_compound = raw_word.chars().any(|c| !c.is_alphanumeric())
        || raw_word.chars().skip(1).any(|c| c.is_uppercase());
    if !possibly_compound {
        return results;
    }

    let (word_parts, extras) = discrete_words(raw_word);
    if !normalized_word.is_empty()
        && (word_parts.contains(|c: char| c.is_whitespace())
            || !normalized_word.starts_with(&word_parts))
    {
        for part in word_parts.split_whitespace().filter(|w| w.len() > 1) {
            let folded = normalize_diacritics(part);
            let stemmed = match stemmer {
                Some(stemmer) => stemmer.stem(folded.as_deref().unwrap_or(part)).into_owned(),
                None => folded.clone().unwrap_or_else(|| part.to_string()),
            };
            results.push(Word {
                stemmed,
                original: folded.map(|_| part.to_string()),
                is_compound_part: true,
            });
        }
    }
    for extra in extras.into_iter().flatten() {
        results.push(Word {
            stemmed: extra,
            original: None,
            is_compound_part: false,
        });
    }
    results
}

fn dotted_tails(raw_word: &str, stemmer: Option<&Stemmer>, existing: &[Word]) -> Vec<Word> {
    let mut tails: Vec<Word> = Vec::new();
    if !raw_word.contains('.') {
        return tails;
    }
    for (i, _) in raw_word.match_indices('.') {
        let rest = &raw_word[i + 1..];
        let tail = match rest.char_indices().nth(MAX_DOTTED_TAIL_CHARS) {
            Some((end, _)) => &rest[..end],
            None => rest,
        };
        let tail_is_compound = tail.chars().any(|c| !c.is_alphanumeric())
            || tail.chars().skip(1).any(|c| c.is_uppercase());
        if !tail_is_compound {
            continue;
        }
        let normalized = normalize_word(tail);
        if normalized.chars().count() < 2 {
            continue;
        }
        let word = stem_word(&normalized, stemmer, true);
        if !existing.iter().any(|w| w.stemmed == word.stemmed)
            && !tails.iter().any(|w| w.stemmed == word.stemmed)
        {
            tails.push(word);
        }
    }
    tails
}

fn normalize_word(raw_word: &str) -> String {
    let mut normalized = String::with_capacity(raw_word.len());
    for mut c in raw_word.chars() {
        if c.is_alphanumeric() || WORD_SYMBOLS.contains(&c) {
            c.make_ascii_lowercase();
            if c.is_uppercase() {
                normalized.extend(c.to_lowercase());
            } else {
                normalized.push(c);
            }
        }
    }
    normalized
}

fn stem_word(normalized_word: &str, stemmer: Option<&Stemmer>, is_compound_part: bool) -> Word {
    let folded = normalize_diacritics(normalized_word);
    let stemmed = match stemmer {
        Some(stemmer) => stemmer
            .stem(folded.as_deref().unwrap_or(normalized_word))
            .into_owned(),
        None => folded
            .clone()
            .unwrap_or_else(|| normalized_word.to_string()),
    };
    Word {
        stemmed,
        original: folded.map(|_| normalized_word.to_string()),
        is_compound_part,
    }
}

fn is_katakana(c: char) -> bool {
    matches!(c as u32, 0x30A1..=0x30FA | 0x30FC..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F)
}

fn katakana_suffixes(word: &str) -> Vec<&str> {
    if word.chars().count() < 3 || !word.chars().all(is_katakana) {
        return Vec::new();
    }
    let mut suffixes: Vec<&str> = Vec::new();
    for (i, _) in word.char_indices().skip(1) {
        let rest = &word[i..];
        let suffix = match rest.char_indices().nth(MAX_KATAKANA_SUFFIX_CHARS) {
            Some((end, _)) => &rest[..end],
            None => rest,
        };
        if suffix.chars().count() >= 2 && !suffixes.contains(&suffix) {
            suffixes.push(suffix);
        }
    }
    suffixes
}

/// The word with diacritics removed (`übermittlung` → `ubermittlung`), `None` when nothing changes.
pub fn normalize_diacritics(word: &str) -> Option<String> {
    if word.is_ascii() || !has_decomposition(word) {
        return None;
    }
    let stripped: String = word
        .nfd()
        .filter(|c| {
            !unicode_normalization::char::is_combining_mark(*c)
                || matches!(*c, '\u{3099}' | '\u{309A}')
        })
        .collect();
    let normalized = if stripped
        .chars()
        .any(|c| matches!(c, '\u{3099}' | '\u{309A}'))
    {
        stripped.nfc().collect::<String>()
    } else {
        stripped
    };
    (normalized != word).then_some(normalized)
}

fn has_decomposition(word: &str) -> bool {
    word.chars().any(|c| {
        unicode_normalization::char::is_combining_mark(c) || {
            let mut decomposes = false;
            unicode_normalization::char::decompose_canonical(c, |part| {
                decomposes = decomposes || part != c;
            });
            decomposes
        }
    })
}

fn discrete_words(s: &str) -> (String, Option<Vec<String>>) {
    let words = s
        .replace(|c: char| c.is_ascii_punctuation(), " ")
        .to_case(Case::Lower)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let extras = EMOJI.is_match(s).then(|| {
        s.graphemes(true)
            .filter(|x| emojis::get(x).is_some())
            .map(str::to_string)
            .collect()
    });
    (words, extras)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(analysis: &Analysis) -> Vec<(&str, bool, Option<&str>)> {
        analysis
            .words
            .iter()
            .map(|w| (&*w.stemmed, w.is_compound_part, w.original.as_deref()))
            .collect()
    }

    #[test]
    fn words_are_normalised_stemmed_and_folded() {
        let mut analyzer = Analyzer::new("de");
        assert_eq!(
            stems(&analyzer.token("Leitlinien,")),
            [("leitlini", false, None)]
        );
        // Diacritics: folded stem, original form kept as the variant.
        assert_eq!(
            stems(&analyzer.token("Übermittlung")),
            [("ubermittl", false, Some("übermittlung"))]
        );
        // Hyphenated compound: the whole word and its parts.
        assert_eq!(
            stems(&analyzer.token("Datenschutz-Folgenabschätzung")),
            [
                (
                    "datenschutzfolgenabschatz",
                    false,
                    Some("datenschutzfolgenabschätzung")
                ),
                ("datenschutz", true, None),
                ("folgenabschatz", true, Some("folgenabschätzung")),
            ]
        );
        assert_eq!(
            analyzer
                .token("Datenschutz-Folgenabschätzung")
                .compound_parts,
            2
        );
        assert!(analyzer.token("—").words.is_empty());
    }
}
