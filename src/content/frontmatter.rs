//! Splitting a Markdown file into its TOML front matter (between `+++` lines) and its body,
//! keeping byte offsets so that every problem points at the line in the original file.

use std::ops::Range;

use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// Where the parts of a Markdown file are (byte offsets into the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The opening `+++` line: where a missing front-matter field is reported.
    pub opening: Range<usize>,
    /// The TOML text between the delimiters.
    pub toml: Range<usize>,
    /// The Markdown body after the closing delimiter.
    pub body_start: usize,
}

const DELIMITER: &str = "+++";

/// Finds the front matter; a file without a complete block is an S4 diagnostic.
pub fn split(source: &SourceText) -> Result<Split, Diagnostic> {
    find_block(&source.text).map_err(|missing| {
        let message = match missing {
            Missing::Opening(_) => {
                "Die Datei beginnt nicht mit Front Matter. Schreiben Sie in die erste Zeile „+++“, \
                 darunter die Felder (z. B. title = \"…\") und schließen Sie mit einer Zeile „+++“ ab."
            }
            Missing::Closing(_) => {
                "Das Front Matter wird nicht geschlossen. Ergänzen Sie nach den Feldern eine Zeile „+++“."
            }
        };
        let (Missing::Opening(line) | Missing::Closing(line)) = missing;
        Diagnostic::at(source, line, Rule::S4, message)
    })
}

/// Which delimiter is missing, and the first line (where it is reported).
enum Missing {
    Opening(Range<usize>),
    Closing(Range<usize>),
}

/// Finds the front matter of a text without making a diagnostic: for file versions from the history,
/// whose problems are not reported. Reads only as far as the closing delimiter.
pub fn locate(text: &str) -> Option<Split> {
    find_block(text).ok()
}

/// The start of a file up to and including its closing delimiter line, as text; `None` without a complete
/// front matter or when that part is not UTF-8. Reads no further: the rest of a long file is not touched.
pub fn head(bytes: &[u8]) -> Option<&str> {
    let mut end = 0;
    for (n, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        end += line.len();
        let line = match n {
            0 => line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line),
            _ => line,
        };
        let delimiter = line.trim_ascii_end() == DELIMITER.as_bytes();
        match (n, delimiter) {
            (0, false) => return None,
            (0, true) => {}
            (_, true) => return std::str::from_utf8(&bytes[..end]).ok(),
            (_, false) => {}
        }
    }
    None
}

fn find_block(text: &str) -> Result<Split, Missing> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let first_line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    if text[start..first_line_end].trim_end() != DELIMITER {
        return Err(Missing::Opening(start..first_line_end));
    }
    let toml_start = (first_line_end + 1).min(text.len());
    let mut line_start = toml_start;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        if text[line_start..line_end].trim_end() == DELIMITER {
            return Ok(Split {
                opening: start..first_line_end,
                toml: toml_start..line_start,
                body_start: (line_end + 1).min(text.len()),
            });
        }
        line_start = line_end + 1;
    }
    Err(Missing::Closing(start..first_line_end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_keeps_offsets() {
        let src = SourceText::new("a.md", "+++\ntitle = \"x\"\n+++\n\nText\n");
        let split = split(&src).unwrap();
        assert_eq!(&src.text[split.toml.clone()], "title = \"x\"\n");
        assert_eq!(&src.text[split.body_start..], "\nText\n");
        assert_eq!(split.opening, 0..3);
    }

    #[test]
    fn the_head_ends_after_the_closing_delimiter_and_splits_like_the_whole_text() {
        let text = "+++\ntitle = \"Ä\"\n+++\n\nText \u{fc}ber viele Zeilen\n";
        let head = head(text.as_bytes()).unwrap();
        assert_eq!(head, "+++\ntitle = \"Ä\"\n+++\n");
        let whole = split(&SourceText::new("a.md", text)).unwrap();
        assert_eq!(locate(head), Some(whole));
        assert_eq!(super::head(b"# Titel\n+++\n"), None);
        assert_eq!(super::head(b"+++\ntitle = 1\n"), None);
        // Only the head must be text.
        assert!(super::head(b"+++\nx = 1\n+++\n\xff").is_some());
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_s4() {
        let missing = split(&SourceText::new("a.md", "# Titel\n")).unwrap_err();
        assert_eq!((missing.rule, missing.line), (Rule::S4, 1));
        let unclosed = split(&SourceText::new("a.md", "+++\ntitle = \"x\"\n")).unwrap_err();
        assert_eq!((unclosed.rule, unclosed.line), (Rule::S4, 1));
    }
}
