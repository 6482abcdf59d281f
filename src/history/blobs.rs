//! The contents of file versions, by git blob id.
//!
//! A history of 2,000 commits references tens of megabytes of file versions, but a build after one more
//! commit needs the texts of only the few documents it renders anew (the others' version pages are reused
//! by blob id, see `reuse`). So the history cache's blob file is mapped into memory and only indexed: a
//! text is read — and checked to be UTF-8 — when someone asks for it.
//!
//! The blob file is a sequence of records `<id> <length>\n<bytes>`. regelwerk only ever appends records
//! to it or replaces it whole (a new file renamed into place), never rewrites it in place, so a mapping
//! stays valid for as long as it lives.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;
use std::path::Path;

use memmap2::Mmap;

/// File versions by blob id: a mapped cache file plus texts read from git in this run.
#[derive(Default)]
pub struct Blobs {
    /// The mapped file's identity ([`identity`]).
    file: u64,
    mapped: Option<Mmap>,
    /// Blob id → byte range in `mapped` (foldhash: thousands of ids are decoded and looked up per build).
    index: hashbrown::HashMap<String, Range<usize>>,
    read: HashMap<String, String>,
}

impl Blobs {
    /// Texts held in memory (read from git).
    pub fn from_texts(texts: HashMap<String, String>) -> Self {
        Blobs {
            read: texts,
            ..Blobs::default()
        }
    }

    /// Maps a blob file written by [`encode`]; `None` if it cannot be opened. A damaged tail (an
    /// interrupted append) ends the index: the blobs after it count as missing.
    pub fn open(path: &Path) -> Option<Self> {
        Self::open_indexed(path, Indexed::default())
    }

    /// Maps a blob file whose beginning `known` indexes (as [`Blobs::indexed`] returned it when the file
    /// was that long): only records after it are read. `None` if the file cannot be opened or is shorter
    /// than `known` says (it is not the file the index was made for).
    pub fn open_indexed(path: &Path, known: Indexed) -> Option<Self> {
        let file = File::open(path).ok()?;
        if known.len > 0 && known.file != identity(&file) {
            return None;
        }
        // SAFETY: see the module documentation — the file is never truncated or rewritten in place.
        let mapped = unsafe { Mmap::map(&file) }.ok()?;
        let tail = mapped.get(known.len..)?;
        let mut index = known.records;
        index.extend(
            index_records(tail)
                .into_iter()
                .map(|(id, range)| (id, range.start + known.len..range.end + known.len)),
        );
        Some(Blobs {
            file: identity(&file),
            mapped: Some(mapped),
            index,
            read: HashMap::new(),
        })
    }

    /// The index of the mapped file, to open it again without reading it ([`Blobs::open_indexed`]).
    pub fn indexed(&self) -> Indexed {
        Indexed {
            file: self.file,
            len: self.mapped.as_ref().map_or(0, |m| m.len()),
            records: self.index.clone(),
        }
    }

    /// Adds texts read from git.
    pub fn extend(&mut self, texts: HashMap<String, String>) {
        self.read.extend(texts);
    }

    /// Whether the blob is available (without reading it).
    pub fn contains(&self, id: &str) -> bool {
        self.read.contains_key(id) || self.index.contains_key(id)
    }

    /// The text of a blob; `None` if it is missing or (in a damaged cache) not UTF-8.
    pub fn get(&self, id: &str) -> Option<&str> {
        std::str::from_utf8(self.bytes(id)?).ok()
    }

    /// The bytes of a blob, unchecked: for reading only a part of it.
    pub fn bytes(&self, id: &str) -> Option<&[u8]> {
        if let Some(text) = self.read.get(id) {
            return Some(text.as_bytes());
        }
        let range = self.index.get(id)?.clone();
        self.mapped.as_deref()?.get(range)
    }

    /// The ids of all available blobs, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.read
            .keys()
            .chain(self.index.keys().filter(|id| !self.read.contains_key(*id)))
            .map(String::as_str)
    }

    /// How many blobs are available.
    pub fn len(&self) -> usize {
        self.ids().count()
    }

    /// Whether no blob is available.
    pub fn is_empty(&self) -> bool {
        self.read.is_empty() && self.index.is_empty()
    }
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("mapped", &self.index.len())
            .field("read", &self.read.len())
            .finish()
    }
}

/// Two stores are equal when they hold the same texts under the same ids.
impl PartialEq for Blobs {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.ids().all(|id| self.get(id) == other.get(id))
    }
}

impl Eq for Blobs {}

/// Where the records of a blob file are: blob id → byte range of its text, for the first `len` bytes.
/// The file is identified too: a file replaced by another (a new one renamed into place) is not the one
/// the index was made for, even if it is as long.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Indexed {
    pub file: u64,
    pub len: usize,
    pub records: hashbrown::HashMap<String, Range<usize>>,
}

impl Indexed {
    /// Adds `bytes` (records as [`encode`] wrote them), written at offset `at` of `file`: the index then
    /// covers the file up to their end. (Bytes another process appended before `at` stay unindexed.)
    pub fn add(&mut self, file: &File, at: usize, bytes: &[u8]) {
        self.file = identity(file);
        self.records.extend(
            index_records(bytes)
                .into_iter()
                .map(|(id, range)| (id, range.start + at..range.end + at)),
        );
        self.len = at + bytes.len();
    }
}

/// What identifies an open file across renames of other files: its inode where there is one.
pub fn identity(file: &File) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        file.metadata().map_or(0, |m| m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        0
    }
}

/// Blobs as records of `<id> <length>\n<bytes>`, sorted by id.
pub fn encode(blobs: &HashMap<String, String>) -> Vec<u8> {
    let mut ids: Vec<&String> = blobs.keys().collect();
    ids.sort();
    let mut out = Vec::with_capacity(blobs.values().map(|t| t.len() + 64).sum());
    for id in ids {
        let text = &blobs[id];
        out.extend_from_slice(format!("{id} {}\n", text.len()).as_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// Where each record of [`encode`] keeps its bytes; reading stops at a damaged record.
fn index_records(bytes: &[u8]) -> hashbrown::HashMap<String, Range<usize>> {
    let mut index = hashbrown::HashMap::new();
    let mut at = 0;
    while let Some(newline) = bytes[at..].iter().take(128).position(|&b| b == b'\n') {
        let Ok(header) = std::str::from_utf8(&bytes[at..at + newline]) else {
            break;
        };
        let Some((id, len)) = header.split_once(' ') else {
            break;
        };
        let Ok(len) = len.parse::<usize>() else { break };
        let start = at + newline + 1;
        let Some(end) = start.checked_add(len).filter(|&end| end <= bytes.len()) else {
            break;
        };
        index.insert(id.to_string(), start..end);
        at = end;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_a_file_and_a_damaged_tail_is_dropped() {
        let texts: HashMap<String, String> = [
            ("aa".to_string(), "erste Zeile\nzweite".to_string()),
            ("bb".to_string(), String::new()),
            ("cc".to_string(), "Größe 3 ÄÖÜ".to_string()),
        ]
        .into();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blobs");
        let mut bytes = encode(&texts);
        std::fs::write(&path, &bytes).unwrap();
        let blobs = Blobs::open(&path).unwrap();
        assert_eq!(blobs, Blobs::from_texts(texts.clone()));
        assert_eq!(blobs.get("cc"), Some("Größe 3 ÄÖÜ"));
        assert!(blobs.contains("bb") && !blobs.contains("dd"));

        bytes.extend_from_slice(b"dd 100\nnur ein Teil");
        std::fs::write(&path, &bytes).unwrap();
        let damaged = Blobs::open(&path).unwrap();
        assert_eq!(damaged, Blobs::from_texts(texts));
        assert_eq!(damaged.get("dd"), None);
    }

    #[test]
    fn a_saved_index_opens_the_file_without_reading_it_and_covers_appended_records() {
        let first: HashMap<String, String> = [("aa".to_string(), "eins".to_string())].into();
        let second: HashMap<String, String> = [("bb".to_string(), "zwei".to_string())].into();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blobs");
        let bytes = encode(&first);
        std::fs::write(&path, &bytes).unwrap();
        let mut index = Blobs::open(&path).unwrap().indexed();
        assert_eq!(index.len, bytes.len());

        // Records appended after the index was saved are read; the indexed ones are not looked at (a
        // range into other bytes shows that the saved index is used as it is).
        let appended = encode(&second);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, &appended).unwrap();
        let mut shifted = index.clone();
        shifted.records.insert("aa".into(), 0..2);
        let blobs = Blobs::open_indexed(&path, shifted).unwrap();
        assert_eq!(blobs.get("aa"), Some("aa"));
        assert_eq!(blobs.get("bb"), Some("zwei"));

        index.add(&file, bytes.len(), &appended);
        let blobs = Blobs::open_indexed(&path, index.clone()).unwrap();
        assert_eq!(
            blobs,
            Blobs::from_texts([first, second].into_iter().flatten().collect())
        );
        assert_eq!(blobs.indexed(), index);

        // A file shorter than its index, or another file renamed into place, is not the one the index was
        // made for.
        std::fs::write(&path, &bytes).unwrap();
        assert!(Blobs::open_indexed(&path, index.clone()).is_none());
        let other = dir.path().join("other");
        std::fs::write(&other, [bytes.clone(), appended].concat()).unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(Blobs::open_indexed(&path, index).is_none());
        assert!(Blobs::open(&path).unwrap().contains("bb"));
    }

    #[test]
    fn garbage_and_invalid_text_count_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blobs");
        std::fs::write(&path, b"kaputt").unwrap();
        assert!(Blobs::open(&path).unwrap().is_empty());
        std::fs::write(&path, b"aa 2\n\xff\xfe").unwrap();
        let blobs = Blobs::open(&path).unwrap();
        assert!(blobs.contains("aa"));
        assert_eq!(blobs.get("aa"), None);
    }
}
