//! Syntax highlighting of fenced code blocks with syntect, as CSS classes (`hl-…`), no inline styles.
//!
//! Only the languages a policy site shows are highlighted (TOML, JSON, YAML, Markdown, shell, XML/HTML, CSV
//! as plain text); everything else is printed as escaped plain code. Some grammars are slow or can hang on
//! odd input, so the list is deliberately short. Grammars are loaded once, on the first code block.

use std::sync::OnceLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxDefinition, SyntaxReference, SyntaxSet, SyntaxSetBuilder};
use syntect::util::LinesWithEndings;

/// CSS class prefix of highlighted tokens.
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Info-string names accepted in fences, and the syntect syntax name each maps to.
const LANGUAGES: &[(&str, &str)] = &[
    ("json", "JSON"),
    ("yaml", "YAML"),
    ("yml", "YAML"),
    ("markdown", "Markdown"),
    ("md", "Markdown"),
    ("sh", "Bourne Again Shell (bash)"),
    ("bash", "Bourne Again Shell (bash)"),
    ("shell", "Bourne Again Shell (bash)"),
    ("console", "Bourne Again Shell (bash)"),
    ("xml", "XML"),
    ("html", "HTML"),
];

struct Grammars {
    defaults: SyntaxSet,
    toml: SyntaxSet,
}

fn grammars() -> &'static Grammars {
    static GRAMMARS: OnceLock<Grammars> = OnceLock::new();
    GRAMMARS.get_or_init(|| {
        let mut builder = SyntaxSetBuilder::new();
        let toml = SyntaxDefinition::load_from_str(
            include_str!("syntaxes/TOML.sublime-syntax"),
            true,
            None,
        )
        .expect("the built-in TOML grammar is valid");
        builder.add(toml);
        Grammars {
            defaults: SyntaxSet::load_defaults_newlines(),
            toml: builder.build(),
        }
    })
}

fn find(lang: &str) -> Option<(&'static SyntaxSet, &'static SyntaxReference)> {
    let lang = lang.to_ascii_lowercase();
    if lang == "toml" {
        let set = &grammars().toml;
        return set.find_syntax_by_name("TOML").map(|s| (set, s));
    }
    let name = LANGUAGES.iter().find(|(alias, _)| *alias == lang)?.1;
    let set = &grammars().defaults;
    set.find_syntax_by_name(name).map(|s| (set, s))
}

/// A complete `<pre class="code"><code class="language-…">` block for a fenced code block.
pub fn code_block(code: &str, lang: &str) -> String {
    let class = if lang.is_empty() {
        String::new()
    } else {
        format!(
            " class=\"language-{}\"",
            crate::theme::escape_html_minimal(lang)
        )
    };
    let inner = highlight(code, lang).unwrap_or_else(|| crate::theme::escape_html_minimal(code));
    format!("<pre class=\"code\"><code{class}>{inner}</code></pre>\n")
}

fn highlight(code: &str, lang: &str) -> Option<String> {
    let (set, syntax) = find(lang)?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, set, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_is_highlighted_with_classes() {
        let html = code_block("status = \"entwurf\" # Kommentar\n", "toml");
        assert!(html.starts_with("<pre class=\"code\"><code class=\"language-toml\">"));
        assert!(html.contains("hl-string"), "{html}");
        assert!(html.contains("hl-comment"), "{html}");
        assert!(!html.contains("style="));
    }

    #[test]
    fn unknown_languages_are_escaped_plain_text() {
        let html = code_block("<b>x</b>\n", "brainfuck");
        assert!(
            html.contains("&lt;b&gt;x&lt;&#x2F;b&gt;") || html.contains("&lt;b&gt;x&lt;/b&gt;"),
            "{html}"
        );
    }
}
