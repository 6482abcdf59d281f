//! Reading rendered pages for the search index: whether a page is searchable, the text of its sections,
//! and the copy of the page with index-only terms that Pagefind gets.
//!
//! A small tag scanner over the HTML the theme renders (well-formed, attribute values escaped): it is
//! enough to find `<main>`, headings with ids, elements marked `data-pagefind-ignore`, and text.

/// Encloses the index-only terms of a section; the search page leaves them out of excerpts.
pub const TERMS_MARK: &str = "⁂";

/// Elements after which text does not continue the previous word.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// Elements without content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// How a page takes part in the search, read from its `<main>` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Searchable {
    /// `<main>` without `data-pagefind-body`: not indexed.
    No,
    /// `<main data-pagefind-body>`: indexed.
    Yes,
    /// `<main data-pagefind-body data-regelwerk-historie>`: a historical version, indexed only when
    /// `[search] include_history` is set.
    History,
}

/// Whether and how the page is searchable.
pub fn searchable(html: &str) -> Searchable {
    for token in Scanner::new(html) {
        if let Token::Start { name, tag, .. } = token
            && name == "main"
        {
            return match (
                has_attr(tag, "data-pagefind-body"),
                has_attr(tag, "data-regelwerk-historie"),
            ) {
                (false, _) => Searchable::No,
                (true, false) => Searchable::Yes,
                (true, true) => Searchable::History,
            };
        }
    }
    Searchable::No
}

/// One section of a page's `<main>`: from a heading with an id (or the start of `<main>`) to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The byte offset where the section ends: the next heading's `<` or `</main>`'s `<`.
    pub end: usize,
    /// The section's text, without elements marked `data-pagefind-ignore`.
    pub text: String,
}

/// The sections of the page's `<main>` element.
pub fn sections(html: &str) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut in_main = false;
    let mut ignored: Option<(String, usize)> = None;
    let mut text = String::new();
    for token in Scanner::new(html) {
        match token {
            Token::Start { name, tag, at } => {
                if !in_main {
                    in_main = name == "main";
                    continue;
                }
                if let Some((ignored_name, depth)) = &mut ignored {
                    if *ignored_name == name && !VOID.contains(&name.as_str()) {
                        *depth += 1;
                    }
                    continue;
                }
                if has_attr(tag, "data-pagefind-ignore") && !VOID.contains(&name.as_str()) {
                    ignored = Some((name, 1));
                    continue;
                }
                if is_heading(&name) && has_attr(tag, "id") {
                    sections.push(Section {
                        end: at,
                        text: std::mem::take(&mut text),
                    });
                }
                if BLOCK.contains(&name.as_str()) {
                    text.push(' ');
                }
            }
            Token::End { name, at } => {
                if !in_main {
                    continue;
                }
                if let Some((ignored_name, depth)) = &mut ignored {
                    if *ignored_name == name {
                        *depth -= 1;
                        if *depth == 0 {
                            ignored = None;
                        }
                    }
                    continue;
                }
                if name == "main" {
                    sections.push(Section {
                        end: at,
                        text: std::mem::take(&mut text),
                    });
                    break;
                }
                if BLOCK.contains(&name.as_str()) {
                    text.push(' ');
                }
            }
            Token::Text(raw) => {
                if in_main && ignored.is_none() {
                    decode_into(raw, &mut text);
                }
            }
        }
    }
    sections
}

/// Marks a page that gathers text from other pages (role pages, matrices, the motion page): its own text and
/// its added terms weigh less, so the pages the text comes from rank first.
pub const SECONDARY_MARK: &str = "data-regelwerk-sekundaer";

/// The extra terms of one section of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionTerms {
    /// The byte offset where the section ends ([`Section::end`]).
    pub end: usize,
    /// Each term with the word of the section it is made from (the first that has it), sorted by term.
    pub terms: Vec<(String, String)>,
}

/// The page with each section's terms inserted at the section's end as an element Pagefind indexes
/// with half weight (a tenth on pages marked [`SECONDARY_MARK`]), between two [`TERMS_MARK`]s;
/// sections without terms are left alone. This is how Pagefind's own indexer gets the terms; the
/// native index places them at their words instead (`native::extract_with_terms`).
pub fn with_terms_at(html: &str, terms: &[SectionTerms]) -> String {
    let weight = if html.contains(SECONDARY_MARK) {
        "0.1"
    } else {
        "0.5"
    };
    let extra: usize = terms
        .iter()
        .flat_map(|s| &s.terms)
        .map(|(t, _)| t.len() + 1)
        .sum();
    let mut out = String::with_capacity(html.len() + extra + terms.len() * 64);
    let mut from = 0;
    for SectionTerms { end, terms } in terms {
        if terms.is_empty() || *end < from || !html.is_char_boundary(*end) {
            continue;
        }
        out.push_str(&html[from..*end]);
        out.push_str("<div data-pagefind-weight=\"");
        out.push_str(weight);
        out.push_str("\">");
        out.push_str(TERMS_MARK);
        for (term, _) in terms {
            out.push(' ');
            out.push_str(term);
        }
        out.push(' ');
        out.push_str(TERMS_MARK);
        out.push_str("</div>");
        from = *end;
    }
    out.push_str(&html[from..]);
    out
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Whether a start tag (`<name attr …>`) has the attribute `name`.
pub fn has_attr(tag: &str, name: &str) -> bool {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let mut rest = inner.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-');
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return false;
        }
        let len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if rest[..len].eq_ignore_ascii_case(name) {
            return true;
        }
        rest = rest[len..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            rest = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].find(q).map_or("", |i| &value[i + 2..]),
                _ => value.find(char::is_whitespace).map_or("", |i| &value[i..]),
            };
        }
    }
}

/// The raw value of the attribute `name` of a start tag (`<name attr …>`): `Some("")` for an attribute
/// without a value, character references not decoded.
pub fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let inner = tag.strip_prefix('<').unwrap_or(tag);
    let inner = inner.strip_suffix('>').unwrap_or(inner);
    let mut rest = inner.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-');
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let found = rest[..len].eq_ignore_ascii_case(name);
        rest = rest[len..].trim_start();
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            match after.chars().next() {
                Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                    Some(i) => {
                        value = &after[1..i + 1];
                        rest = &after[i + 2..];
                    }
                    None => {
                        value = &after[1..];
                        rest = "";
                    }
                },
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    value = &after[..end];
                    rest = &after[end..];
                }
            }
        }
        if found {
            return Some(value);
        }
    }
}

/// Appends text with the character references the theme writes decoded; others become a space.
fn decode_into(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let decoded = match &rest[1..end] {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "#39" | "#x27" | "apos" => "'",
            "#x2F" | "#47" => "/",
            "shy" | "#173" | "#xAD" => "",
            _ => " ",
        };
        out.push_str(decoded);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
}

/// A piece of HTML as the [`Scanner`] sees it.
pub(crate) enum Token<'a> {
    /// Text between tags (raw: character references not decoded).
    Text(&'a str),
    /// A start tag: lower-case name, the whole tag, its byte offset.
    Start {
        name: String,
        tag: &'a str,
        at: usize,
    },
    /// An end tag: lower-case name, its byte offset.
    End { name: String, at: usize },
}

/// A tokenizer for the theme's HTML: tags, text, comments skipped, `<script>` and `<style>` content skipped.
pub(crate) struct Scanner<'a> {
    html: &'a str,
    pos: usize,
    /// Inside `<script>` or `<style>`: skip to this end tag.
    raw_until: Option<&'static str>,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `html`.
    pub(crate) fn new(html: &'a str) -> Self {
        Scanner {
            html,
            pos: 0,
            raw_until: None,
        }
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            let rest = &self.html[self.pos..];
            if rest.is_empty() {
                return None;
            }
            if let Some(end) = self.raw_until.take() {
                let skip = find_ascii_ci(rest, end).unwrap_or(rest.len());
                self.pos += skip;
                continue;
            }
            let Some(lt) = rest.find('<') else {
                self.pos = self.html.len();
                return Some(Token::Text(rest));
            };
            if lt > 0 {
                self.pos += lt;
                return Some(Token::Text(&rest[..lt]));
            }
            let at = self.pos;
            if rest.starts_with("<!--") {
                self.pos += rest.find("-->").map_or(rest.len(), |i| i + 3);
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                self.pos += rest.find('>').map_or(rest.len(), |i| i + 1);
                continue;
            }
            let close = tag_end(rest);
            let tag = &rest[..close];
            self.pos += close;
            if let Some(body) = tag.strip_prefix("</") {
                return Some(Token::End {
                    name: tag_name(body),
                    at,
                });
            }
            let name = tag_name(&tag[1..]);
            if name.is_empty() {
                return Some(Token::Text(tag));
            }
            if name == "script" {
                self.raw_until = Some("</script");
            } else if name == "style" {
                self.raw_until = Some("</style");
            }
            return Some(Token::Start { name, tag, at });
        }
    }
}

/// The length of the tag at the start of `rest` (up to and including `>`), quotes respected.
fn tag_end(rest: &str) -> usize {
    let mut quote = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

fn tag_name(body: &str) -> String {
    body.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html lang="de"><head><title>T</title><script src="x.js"></script></head>
<body><header>Kopf</header><main id="inhalt" data-pagefind-body data-pagefind-filter="typ:Leitlinie">
<nav data-pagefind-ignore><ol><li>Inhalt <nav>inner</nav></li></ol></nav>
<h1>Titel</h1><p>Ein&shy;leitung &amp; Zweck</p>
<h2 id="dsfa">Datenschutz<em>folgen</em>abschätzung</h2><p>Text über Risiken.</p>
<h3>ohne id</h3><p>mehr</p>
<h2 id="b">B</h2><ul><li>eins</li><li>zwei</li></ul>
</main><footer>Fuß</footer></body></html>"#;

    #[test]
    fn main_marks_decide_what_is_searchable() {
        assert_eq!(searchable(PAGE), Searchable::Yes);
        assert_eq!(
            searchable("<main id=\"inhalt\" class=\"site-main\">x</main>"),
            Searchable::No
        );
        assert_eq!(
            searchable("<main data-pagefind-body data-regelwerk-historie>x</main>"),
            Searchable::History
        );
        assert_eq!(
            searchable("<main data-pagefind-bodyx>x</main>"),
            Searchable::No
        );
        assert_eq!(searchable("<p>kein main</p>"), Searchable::No);
    }

    #[test]
    fn sections_split_at_headings_with_ids_and_skip_ignored_parts() {
        let sections = sections(PAGE);
        assert_eq!(sections.len(), 3);
        let words: Vec<Vec<String>> = sections
            .iter()
            .map(|s| crate::search::german::words(&s.text).collect())
            .collect();
        assert_eq!(words[0], ["titel", "einleitung", "zweck"]);
        assert_eq!(
            words[1],
            [
                "datenschutzfolgenabschätzung",
                "text",
                "über",
                "risiken",
                "ohne",
                "id",
                "mehr"
            ]
        );
        assert_eq!(words[2], ["b", "eins", "zwei"]);
        assert!(PAGE[sections[1].end..].starts_with("<h2 id=\"b\">"));
        assert!(PAGE[sections[2].end..].starts_with("</main>"));
    }

    #[test]
    fn terms_go_to_the_end_of_their_section() {
        let sections = sections(PAGE);
        let terms: Vec<SectionTerms> = sections
            .iter()
            .zip([vec![], vec!["risiko"], vec!["x"]])
            .map(|(section, terms)| SectionTerms {
                end: section.end,
                terms: terms
                    .iter()
                    .map(|t| (t.to_string(), "w".to_string()))
                    .collect(),
            })
            .collect();
        let html = with_terms_at(PAGE, &terms);
        assert!(html.contains(
            "<p>mehr</p>\n<div data-pagefind-weight=\"0.5\">⁂ risiko ⁂</div><h2 id=\"b\">"
        ));
        assert!(html.contains("<div data-pagefind-weight=\"0.5\">⁂ x ⁂</div></main>"));
        let none: Vec<SectionTerms> = terms
            .into_iter()
            .map(|s| SectionTerms { terms: vec![], ..s })
            .collect();
        assert_eq!(with_terms_at(PAGE, &none), PAGE);
    }

    #[test]
    fn attributes_are_matched_as_whole_names() {
        assert!(has_attr("<main data-pagefind-body>", "data-pagefind-body"));
        assert!(has_attr(
            "<main data-pagefind-body class=x>",
            "data-pagefind-body"
        ));
        assert!(has_attr("<h2 id=\"a\">", "id"));
        assert!(!has_attr("<h2 data-id=\"a\">", "id"));
        assert!(!has_attr("<h2 class=\"id\">", "id"));
        assert!(!has_attr("<h2 title=\"see id here\">", "id"));
        assert!(has_attr("<h2 title='a > b' id=x>", "id"));
    }
}
