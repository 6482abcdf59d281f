//! Text a build works with — a source file's text, a rendered body's HTML — either made or read in
//! this run, or a range of a file the content cache keeps ([`crate::cache::MappedFile`]), mapped into
//! memory instead of read: a one-page rebuild of a large site uses the text of a handful of documents,
//! and every other document is known by the hashes the cache keeps.
//!
//! Mapped text is checked against its hash when it is first read. Text that does not hold what it
//! should (a damaged cache) reads as empty and marks its file damaged; whoever used it then makes the
//! result again without the cache (`render_with`, `check`).

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::cache::MappedFile;

/// Text, owned or mapped from a cache file; cheap to clone. Dereferences to `str`.
#[derive(Clone, Default)]
pub struct Text(Source);

#[derive(Clone)]
enum Source {
    Owned(Arc<str>),
    Mapped {
        file: Arc<MappedFile>,
        range: Range<usize>,
        /// BLAKE3 of the text.
        hash: [u8; 32],
        /// Whether the bytes are that text, found when first read.
        intact: OnceLock<bool>,
    },
}

impl Default for Source {
    fn default() -> Self {
        Source::Owned(Arc::from(""))
    }
}

impl Text {
    /// The text at `range` of a mapped file, which must hash (BLAKE3) to `hash`.
    pub fn mapped(file: Arc<MappedFile>, range: Range<usize>, hash: [u8; 32]) -> Text {
        Text(Source::Mapped {
            file,
            range,
            hash,
            intact: OnceLock::new(),
        })
    }

    /// The text; empty for mapped text that is not what it should be (see [`Text::checked`]).
    pub fn as_str(&self) -> &str {
        self.checked().unwrap_or_default()
    }

    /// The text, `None` for mapped text that does not hold what it should: its file is then marked
    /// damaged ([`MappedFile::damaged`]).
    pub fn checked(&self) -> Option<&str> {
        match &self.0 {
            Source::Owned(text) => Some(text),
            Source::Mapped {
                file,
                range,
                hash,
                intact,
            } => {
                let bytes = file.bytes(range.clone());
                let intact = *intact.get_or_init(|| {
                    std::str::from_utf8(bytes).is_ok() && blake3::hash(bytes).as_bytes() == hash
                });
                let text = std::str::from_utf8(bytes).ok().filter(|_| intact);
                if text.is_none() {
                    file.set_damaged();
                }
                text
            }
        }
    }

    /// Whether the text is read from a mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Source::Mapped { .. })
    }

    /// The text as a `String` of its own.
    pub fn into_string(self) -> String {
        self.as_str().to_string()
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(Source::Owned(Arc::from(text)))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(Source::Owned(Arc::from(text)))
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_text_is_checked_against_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("texte");
        let tag = crate::cache::new_tag();
        let mut bytes = tag.to_vec();
        bytes.extend_from_slice("Grüße aus Lüneburg".as_bytes());
        crate::cache::write_bytes(&path, &bytes).unwrap();
        let file = Arc::new(MappedFile::open(&path, &tag).unwrap());
        let whole = 0.."Grüße aus Lüneburg".len();
        let good = Text::mapped(
            Arc::clone(&file),
            whole.clone(),
            *blake3::hash("Grüße aus Lüneburg".as_bytes()).as_bytes(),
        );
        assert_eq!(good.as_str(), "Grüße aus Lüneburg");
        assert!(good.is_mapped() && !file.damaged());
        let wrong = Text::mapped(
            Arc::clone(&file),
            whole,
            *blake3::hash(b"anders").as_bytes(),
        );
        assert_eq!(wrong.checked(), None);
        assert_eq!(wrong.as_str(), "");
        assert!(file.damaged());
        // Another file's tag: not mapped at all.
        assert!(MappedFile::open(&path, &crate::cache::new_tag()).is_none());
    }
}
