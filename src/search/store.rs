//! The per-page cache of the search stage: what was read of each page in the last build, kept on disk so
//! that a rebuild reads only the pages that changed.
//!
//! A store is a set of keyed entries (key: the page's URL, value: bytes) in a few bucket files
//! `<dir>/<name>.<count>-<i>.bin` — a page's bucket is a hash of its URL, `count` grows with the number of
//! pages (one bucket per [`PAGES_PER_BUCKET`], at most [`MAX_BUCKETS`]). Few files instead of one per page
//! (creating and unlinking thousands of small files is slow), more than one so that an edit rewrites only
//! the bucket of the edited page. Saving writes exactly the given entries: entries of pages that are gone
//! disappear with their bucket's next write, files of other bucket counts are removed.
//!
//! Every file is checked as a whole (magic line, then a blake3 checksum of the rest): a damaged or
//! foreign file is ignored, its pages are read again. The values carry their own key of what they were
//! made from ([`Entry`]): a value is used only when that key matches.
//!
//! [`Encoder`] and [`Decoder`] are the compact binary form of the values (LEB128 integers,
//! length-prefixed strings); decoding never panics and reports bad input as `None`.

use std::path::{Path, PathBuf};

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;

use crate::cache::Writes;

/// The first line of every bucket file; the version changes whenever any value's encoding does.
const MAGIC: &[u8] = b"regelwerk search pages 1\n";
/// Pages per bucket file, about. An edit rewrites its page's bucket whole: with 256 pages per bucket
/// the history corpus' shard store rewrote 5 MB for one changed page (≈ 20 ms of a one-commit rebuild,
/// and up to 150 ms when the disk was slow to take it), with 64 it rewrites ≈ 1.3 MB.
pub const PAGES_PER_BUCKET: usize = 64;
/// The most bucket files of one store (reached at 16,384 pages).
pub const MAX_BUCKETS: usize = 256;

/// A key of what a value was made from (a blake3 hash).
pub type Key = [u8; 32];

/// An entry of a store: the key of what its value was made from and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub value: Vec<u8>,
}

/// One store: a name under a folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    name: String,
}

impl Store {
    /// The store `name` (letters, digits, `-`) in `dir`.
    pub fn new(dir: &Path, name: &str) -> Self {
        Store {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        }
    }

    /// How many bucket files a store of `entries` entries has.
    fn buckets(entries: usize) -> usize {
        entries.div_ceil(PAGES_PER_BUCKET).clamp(1, MAX_BUCKETS)
    }

    fn path(&self, count: usize, bucket: usize) -> PathBuf {
        self.dir.join(format!("{}.{count}-{bucket}.bin", self.name))
    }

    /// The entries saved: URL → entry. Missing, damaged or foreign files give no entries.
    pub fn load(&self) -> HashMap<String, Entry> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return HashMap::new();
        };
        let files: Vec<PathBuf> = dir
            .flatten()
            .filter(|entry| {
                self.bucket_file(&entry.file_name().to_string_lossy())
                    .is_some()
            })
            .map(|entry| entry.path())
            .collect();
        files
            .into_par_iter()
            .map(|path| {
                std::fs::read(path)
                    .ok()
                    .and_then(|bytes| parse(&bytes))
                    .unwrap_or_default()
            })
            .reduce(HashMap::new, |mut a, b| {
                a.extend(b);
                a
            })
    }

    /// The store read a bucket at a time, as entries are asked for ([`LazyStore::get`]).
    pub fn lazy(&self) -> LazyStore<'_> {
        let counts = self.counts();
        // Files of more than one bucket count are left by a save that stopped half-way: then all are
        // read at once, as `load` merges them.
        let count = match counts[..] {
            [count] => Some(count),
            _ => None,
        };
        LazyStore {
            store: self,
            count,
            buckets: (0..count.unwrap_or(1))
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// The entries of `urls` in the store as saved with `total` entries, reading only their buckets.
    pub fn load_some(&self, total: usize, urls: &[&str]) -> HashMap<String, Entry> {
        let count = Self::buckets(total);
        let buckets: std::collections::BTreeSet<usize> =
            urls.iter().map(|url| bucket_of(url, count)).collect();
        let mut found = HashMap::new();
        for bucket in buckets {
            let Ok(bytes) = std::fs::read(self.path(count, bucket)) else {
                continue;
            };
            // Only the entries asked for are copied out of the bucket.
            let wanted: HashSet<&str> = urls
                .iter()
                .copied()
                .filter(|url| bucket_of(url, count) == bucket)
                .collect();
            for (url, key, value) in parse_borrowed(&bytes).unwrap_or_default() {
                if wanted.contains(url) {
                    let entry = Entry {
                        key: *key,
                        value: value.to_vec(),
                    };
                    found.insert(url.to_string(), entry);
                }
            }
        }
        found
    }

    /// Replaces the entries of `changed` (URL, entry) in the store as saved with `total` entries,
    /// rewriting only their buckets. Errors only cost time on the next build.
    pub fn update(
        &self,
        total: usize,
        changed: &[(&str, &Entry)],
        writes: &Writes,
    ) -> std::io::Result<()> {
        let count = Self::buckets(total);
        if self.holds_other_counts(count) {
            // Saved with another bucket count (by another version, or a save that stopped half-way):
            // read whole and saved anew with `count` buckets, so that later updates rewrite one bucket
            // again instead of every build reading every file.
            let mut all = self.load();
            for &(url, entry) in changed {
                all.insert(url.to_string(), entry.clone());
            }
            let entries: Vec<(&str, &Entry)> = all.iter().map(|(u, e)| (u.as_str(), e)).collect();
            return self.save_in(&entries, count, writes);
        }
        let mut buckets: HashMap<usize, Vec<(&str, &Entry)>> = HashMap::new();
        for &(url, entry) in changed {
            buckets
                .entry(bucket_of(url, count))
                .or_default()
                .push((url, entry));
        }
        for (bucket, changed) in buckets {
            let path = self.path(count, bucket);
            let bytes = std::fs::read(&path).unwrap_or_default();
            // The bucket's other entries go into the new file from the old one's bytes, without being
            // copied into owned entries first.
            let mut members: HashMap<&str, (&Key, &[u8])> = parse_borrowed(&bytes)
                .unwrap_or_default()
                .into_iter()
                .map(|(url, key, value)| (url, (key, value)))
                .collect();
            for (url, entry) in changed {
                members.insert(url, (&entry.key, &entry.value));
            }
            let mut members: Vec<(&str, &Key, &[u8])> = members
                .into_iter()
                .map(|(url, (key, value))| (url, key, value))
                .collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            writes.bytes(&path, serialize_parts(&members), false)?;
        }
        Ok(())
    }

    /// The bucket count of a file name of this store (`<name>.<count>-<i>.bin`).
    fn bucket_file(&self, file_name: &str) -> Option<usize> {
        let rest = file_name
            .strip_prefix(self.name.as_str())?
            .strip_prefix('.')?;
        let (count, bucket) = rest.strip_suffix(".bin")?.split_once('-')?;
        bucket.parse::<usize>().ok()?;
        count.parse().ok()
    }

    /// Saves exactly `entries` (URL, entry): bucket files whose content did not change are left alone,
    /// files of the store with another bucket count are removed. Errors only cost time on the next build.
    pub fn save(&self, entries: &[(&str, &Entry)], writes: &Writes) -> std::io::Result<()> {
        self.save_in(entries, Self::buckets(entries.len()), writes)
    }

    /// Whether the store has files of a bucket count other than `count`.
    fn holds_other_counts(&self, count: usize) -> bool {
        self.counts().iter().any(|&c| c != count)
    }

    /// The bucket counts of the store's files, sorted, each once.
    fn counts(&self) -> Vec<usize> {
        let mut counts: Vec<usize> = std::fs::read_dir(&self.dir)
            .map(|dir| {
                dir.flatten()
                    .filter_map(|entry| self.bucket_file(&entry.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        counts.sort_unstable();
        counts.dedup();
        counts
    }

    /// [`Store::save`] into `count` buckets.
    fn save_in(
        &self,
        entries: &[(&str, &Entry)],
        count: usize,
        writes: &Writes,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut buckets: Vec<Vec<(&str, &Entry)>> = vec![Vec::new(); count];
        for &(url, entry) in entries {
            buckets[bucket_of(url, count)].push((url, entry));
        }
        buckets
            .into_par_iter()
            .enumerate()
            .try_for_each(|(bucket, mut members)| {
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let bytes = serialize(&members);
                let path = self.path(count, bucket);
                if std::fs::read(&path).is_ok_and(|old| old == bytes) {
                    return Ok(());
                }
                writes.bytes(&path, bytes, false)
            })?;
        for entry in std::fs::read_dir(&self.dir)?.flatten() {
            let stale = self
                .bucket_file(&entry.file_name().to_string_lossy())
                .is_some_and(|c| c != count);
            if stale {
                let _ = writes.remove(&entry.path());
            }
        }
        Ok(())
    }
}

/// A [`Store`] whose buckets are read when one of their entries is first asked for: for a build that needs
/// a few entries of many and learns which only as it goes.
pub struct LazyStore<'a> {
    store: &'a Store,
    /// The bucket count of the store's files; `None` when there are files of several counts (all are
    /// read at once) or none.
    count: Option<usize>,
    buckets: Vec<std::sync::OnceLock<HashMap<String, Entry>>>,
}

impl LazyStore<'_> {
    /// The entry saved for `url`, if any.
    pub fn get(&self, url: &str) -> Option<&Entry> {
        let (bucket, entries) = match self.count {
            Some(count) => {
                let bucket = bucket_of(url, count);
                (bucket, &self.buckets[bucket])
            }
            None => (0, &self.buckets[0]),
        };
        entries
            .get_or_init(|| match self.count {
                Some(count) => std::fs::read(self.store.path(count, bucket))
                    .ok()
                    .and_then(|bytes| parse(&bytes))
                    .unwrap_or_default(),
                None => self.store.load(),
            })
            .get(url)
    }
}

/// Removes the stores in `dir` whose names `keep` does not accept (the stores of shards that are gone).
pub fn remove_other_stores(dir: &Path, keep: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if let Some(stem) = file_name.strip_suffix(".bin")
            && let Some((name, _)) = stem.rsplit_once('.')
            && !name.starts_with('.')
            && !keep(name)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn bucket_of(url: &str, count: usize) -> usize {
    (url_hash(url) % count as u64) as usize
}

/// A stable 64-bit hash of a page's URL, for spreading pages over buckets and shards.
pub fn url_hash(url: &str) -> u64 {
    let hash = blake3::hash(url.as_bytes());
    let mut first = [0; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// A bucket file: magic, blake3 of the rest, then per entry URL, key, value.
fn serialize(members: &[(&str, &Entry)]) -> Vec<u8> {
    let parts: Vec<(&str, &Key, &[u8])> = members
        .iter()
        .map(|(url, entry)| (*url, &entry.key, entry.value.as_slice()))
        .collect();
    serialize_parts(&parts)
}

/// [`serialize`] of entries given as URL, key and value.
fn serialize_parts(members: &[(&str, &Key, &[u8])]) -> Vec<u8> {
    let size: usize = members
        .iter()
        .map(|(url, _, value)| url.len() + value.len() + 48)
        .sum();
    let mut body = Encoder(Vec::with_capacity(size));
    for (url, key, value) in members {
        body.str(url);
        body.0.extend_from_slice(*key);
        body.bytes(value);
    }
    let mut out = Vec::with_capacity(MAGIC.len() + 32 + body.0.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(blake3::hash(&body.0).as_bytes());
    out.extend_from_slice(&body.0);
    out
}

fn parse(bytes: &[u8]) -> Option<HashMap<String, Entry>> {
    let entries = parse_borrowed(bytes)?
        .into_iter()
        .map(|(url, key, value)| {
            let entry = Entry {
                key: *key,
                value: value.to_vec(),
            };
            (url.to_string(), entry)
        })
        .collect();
    Some(entries)
}

/// The entries of a bucket file (URL, key, value) as parts of its bytes; `None` if the file is damaged
/// or foreign.
fn parse_borrowed(bytes: &[u8]) -> Option<Vec<(&str, &Key, &[u8])>> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (sum, body) = rest.split_at_checked(32)?;
    if blake3::hash(body).as_bytes() != sum {
        return None;
    }
    let mut decoder = Decoder::new(body);
    let mut entries = Vec::new();
    while !decoder.is_empty() {
        let url = decoder.str()?;
        let key = decoder.take(32)?.try_into().ok()?;
        let value = decoder.bytes()?;
        entries.push((url, key, value));
    }
    Some(entries)
}

/// Writes values compactly: unsigned integers as LEB128, signed ones zigzagged, strings and byte
/// strings with their length first.
#[derive(Debug, Default)]
pub struct Encoder(pub Vec<u8>);

impl Encoder {
    /// An unsigned integer.
    pub fn uint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    /// A signed integer.
    pub fn int(&mut self, value: i64) {
        self.uint(((value << 1) ^ (value >> 63)) as u64);
    }

    /// A byte string.
    pub fn bytes(&mut self, value: &[u8]) {
        self.uint(value.len() as u64);
        self.0.extend_from_slice(value);
    }

    /// A string.
    pub fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    /// A flag.
    pub fn bool(&mut self, value: bool) {
        self.0.push(u8::from(value));
    }
}

/// Reads what an [`Encoder`] wrote; every read is checked, `None` on bad input.
#[derive(Debug)]
pub struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder { rest: bytes }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// An unsigned integer.
    pub fn uint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, tail) = self.rest.split_first()?;
            self.rest = tail;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    /// An unsigned integer that fits `usize` and is at most the bytes left (a length or a count of
    /// items that take at least a byte each).
    pub fn length(&mut self) -> Option<usize> {
        let len = usize::try_from(self.uint()?).ok()?;
        (len <= self.rest.len()).then_some(len)
    }

    /// A signed integer.
    pub fn int(&mut self) -> Option<i64> {
        let raw = self.uint()?;
        Some(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// A byte string.
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.length()?;
        self.take(len)
    }

    /// A string.
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    /// A flag.
    pub fn bool(&mut self) -> Option<bool> {
        match self.take(1)? {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_round_trip() {
        let mut e = Encoder::default();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            e.uint(v);
        }
        for v in [0i64, -1, 1, -25, i32::MIN as i64, i64::MIN, i64::MAX] {
            e.int(v);
        }
        e.str("Übermittlung");
        e.bool(true);
        let mut d = Decoder::new(&e.0);
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(d.uint(), Some(v));
        }
        for v in [0i64, -1, 1, -25, i32::MIN as i64, i64::MIN, i64::MAX] {
            assert_eq!(d.int(), Some(v));
        }
        assert_eq!(d.str(), Some("Übermittlung"));
        assert_eq!(d.bool(), Some(true));
        assert!(d.is_empty());
        // Truncated or overlong input is `None`, never a panic.
        assert_eq!(Decoder::new(&[0x80]).uint(), None);
        assert_eq!(Decoder::new(&[0xff; 11]).uint(), None);
        assert_eq!(Decoder::new(&[5, b'a']).str(), None);
    }

    #[test]
    fn a_lazy_store_reads_only_the_buckets_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "w");
        let entry = |i: usize| Entry {
            key: [(i % 251) as u8; 32],
            value: i.to_le_bytes().to_vec(),
        };
        let many: Vec<(String, Entry)> = (0..600).map(|i| (format!("/{i}/"), entry(i))).collect();
        let refs: Vec<(&str, &Entry)> = many.iter().map(|(u, e)| (u.as_str(), e)).collect();
        store.save(&refs, &Writes::immediate()).unwrap();
        let count = Store::buckets(600);
        assert_eq!(count, 600usize.div_ceil(PAGES_PER_BUCKET));
        assert!(count > 1);
        // Every bucket but that of "/7/" is gone: its entries are still found, the others are not.
        let kept = bucket_of("/7/", count);
        for bucket in (0..count).filter(|&b| b != kept) {
            std::fs::remove_file(store.path(count, bucket)).unwrap();
        }
        let lazy = store.lazy();
        assert_eq!(lazy.get("/7/"), Some(&entry(7)));
        for (i, (url, e)) in many.iter().enumerate() {
            let found = lazy.get(url);
            if bucket_of(url, count) == kept {
                assert_eq!(found, Some(e), "{i}");
            } else {
                assert_eq!(found, None, "{i}");
            }
        }
        // Files of two bucket counts (a save that stopped half-way): everything is read and merged.
        std::fs::write(store.path(1, 0), serialize(&[("/neu/", &entry(1))])).unwrap();
        let lazy = store.lazy();
        assert_eq!(lazy.get("/neu/"), Some(&entry(1)));
        assert_eq!(lazy.get("/7/"), Some(&entry(7)));
        // No store at all: nothing.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(Store::new(empty.path(), "w").lazy().get("/7/"), None);
    }

    #[test]
    fn an_update_rewrites_only_the_changed_pages_buckets_and_keeps_their_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "s");
        let entry = |i: usize, version: u8| Entry {
            key: [version; 32],
            value: format!("{i}:{version}").into_bytes(),
        };
        let many: Vec<(String, Entry)> =
            (0..600).map(|i| (format!("/{i}/"), entry(i, 1))).collect();
        let refs: Vec<(&str, &Entry)> = many.iter().map(|(u, e)| (u.as_str(), e)).collect();
        store.save(&refs, &Writes::immediate()).unwrap();
        let count = Store::buckets(600);
        let changed = [bucket_of("/7/", count), bucket_of("/neu/", count)];
        let read_untouched = || -> Vec<Vec<u8>> {
            (0..count)
                .filter(|b| !changed.contains(b))
                .map(|b| std::fs::read(store.path(count, b)).unwrap())
                .collect()
        };
        let untouched = read_untouched();

        let (seven, new) = (entry(7, 2), entry(600, 2));
        store
            .update(
                601,
                &[("/7/", &seven), ("/neu/", &new)],
                &Writes::immediate(),
            )
            .unwrap();
        let loaded = store.load();
        assert_eq!(loaded.len(), 601);
        assert_eq!(loaded["/7/"], seven);
        assert_eq!(loaded["/neu/"], new);
        for (url, e) in many.iter().filter(|(url, _)| url != "/7/") {
            assert_eq!(&loaded[url], e, "{url}");
        }
        // Buckets without a changed page are left as they were.
        assert_eq!(read_untouched(), untouched);

        // `load_some` gives exactly the entries asked for.
        let some = store.load_some(601, &["/7/", "/8/", "/fehlt/"]);
        assert_eq!(some.len(), 2);
        assert_eq!(some["/7/"], seven);
        assert_eq!(some["/8/"], entry(8, 1));
    }

    #[test]
    fn an_update_of_a_store_saved_with_another_bucket_count_saves_it_anew() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "w");
        let entry = |i: usize| Entry {
            key: [(i % 251) as u8; 32],
            value: i.to_le_bytes().to_vec(),
        };
        // Saved as one bucket (two entries), then updated as a store of 600 pages: more buckets.
        let (a, b) = (entry(1), entry(2));
        store
            .save(&[("/a/", &a), ("/b/", &b)], &Writes::immediate())
            .unwrap();
        let c = entry(3);
        store
            .update(600, &[("/c/", &c)], &Writes::immediate())
            .unwrap();
        let count = Store::buckets(600);
        assert!(count > 1);
        assert!(
            !store.holds_other_counts(count),
            "every file has the new count"
        );
        let lazy = store.lazy();
        assert_eq!(
            lazy.count,
            Some(count),
            "buckets are read one at a time again"
        );
        for (url, e) in [("/a/", &a), ("/b/", &b), ("/c/", &c)] {
            assert_eq!(lazy.get(url), Some(e), "{url}");
        }
    }

    #[test]
    fn saves_only_the_given_entries_and_ignores_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "s");
        let entry = |b: u8| Entry {
            key: [b; 32],
            value: vec![b; 3],
        };
        let (a, b) = (entry(1), entry(2));
        store
            .save(&[("/a/", &a), ("/b/", &b)], &Writes::immediate())
            .unwrap();
        let loaded = store.load();
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded["/a/"], a);
        store.save(&[("/a/", &a)], &Writes::immediate()).unwrap();
        assert_eq!(store.load().len(), 1);

        // More pages: more buckets; the files of the old count go.
        let many: Vec<(String, Entry)> = (0..600).map(|i| (format!("/{i}/"), entry(3))).collect();
        let refs: Vec<(&str, &Entry)> = many.iter().map(|(u, e)| (u.as_str(), e)).collect();
        store.save(&refs, &Writes::immediate()).unwrap();
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, Store::buckets(600));
        assert!(files > 1);
        assert_eq!(store.load().len(), 600);

        // A damaged file is ignored as a whole.
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let path = file.unwrap().path();
            let mut bytes = std::fs::read(&path).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            std::fs::write(&path, bytes).unwrap();
        }
        assert!(store.load().is_empty());
        std::fs::write(store.path(3, 0), b"garbage").unwrap();
        assert!(store.load().is_empty());

        remove_other_stores(dir.path(), |name| name != "s");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
