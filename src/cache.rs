//! Files a build keeps for the next one (the history log, the parsed front matter of earlier versions, the
//! page store's index, the content cache): binary ([postcard]), stamped and checksummed.
//!
//! A file is used only if its stamp is the one the reader asks for — the layout's format number, and for
//! whatever the program computes (parsed data), the program itself ([`program`]) — and its checksum holds;
//! anything else reads as absent, so a damaged or outdated cache only costs time. Files are written under
//! a temporary name and renamed into place: a reader never sees half a file.

use std::io;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::Mmap;

use serde::Serialize;
use serde::de::DeserializeOwned;

const MAGIC: &[u8; 4] = b"RWC1";
const CHECKSUM: usize = 32;

/// A stamp that changes with the program: its version, and the size and time of its executable (a rebuilt
/// binary may parse or render differently). Computed once per process.
pub fn program() -> &'static [u8; 32] {
    static PROGRAM: OnceLock<[u8; 32]> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let mut hasher = blake3::Hasher::new();
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
            hasher.update(&meta.len().to_le_bytes());
            hasher.update(format!("{:?}", meta.modified().ok()).as_bytes());
        }
        *hasher.finalize().as_bytes()
    })
}

/// The stamp of a cache of parsed or rendered data: its layout's `format` and the [`program`].
pub fn program_stamp(format: u32) -> Vec<u8> {
    let mut stamp = format.to_le_bytes().to_vec();
    stamp.extend_from_slice(program());
    stamp
}

/// The stamp of a cache that holds only what was read (no program output): its layout's `format`.
pub fn format_stamp(format: u32) -> Vec<u8> {
    format.to_le_bytes().to_vec()
}

/// Reads the value at `path` if the file exists, carries `stamp` and is intact.
pub fn read<T: DeserializeOwned>(path: &Path, stamp: &[u8]) -> Option<T> {
    decode(&std::fs::read(path).ok()?, stamp)
}

/// Writes `value` to `path` with `stamp` (under a temporary name, then renamed into place).
pub fn write<T: Serialize>(path: &Path, stamp: &[u8], value: &T) -> io::Result<()> {
    write_bytes(path, &encode(stamp, value)?)
}

/// Writes `bytes` to `path` under a temporary name, then renames it into place.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

/// A file of bytes that a stamped file points into (the content cache keeps its bodies' HTML in one),
/// mapped into memory instead of read: a build touches only the parts it uses. It is neither stamped nor
/// checksummed as a whole; it starts with a tag that the file pointing into it names (so the two are
/// from the same write), and whoever reads a part checks it (the content cache against the part's hash)
/// and calls [`MappedFile::damaged`] when it does not hold, so that the build is made again without the
/// cache. Safe to map because the program only ever replaces such a file by rename, never rewrites it.
#[derive(Debug)]
pub struct MappedFile {
    map: Option<Mmap>,
    damaged: AtomicBool,
}

/// The length of the tag a [`MappedFile`] starts with.
pub const TAG: usize = 16;

impl MappedFile {
    /// Maps the file at `path` if it starts with `tag`.
    pub fn open(path: &Path, tag: &[u8; TAG]) -> Option<MappedFile> {
        let file = std::fs::File::open(path).ok()?;
        // SAFETY: the program replaces these files only by rename, so the mapped file is never changed
        // while mapped (someone editing the cache by hand could break that; see the type's docs).
        let map = unsafe { Mmap::map(&file) }.ok()?;
        (map.get(..TAG) == Some(tag)).then(|| MappedFile {
            map: Some(map),
            damaged: AtomicBool::new(false),
        })
    }

    /// The bytes at `range` (after the tag); empty where the file is shorter.
    pub fn bytes(&self, range: std::ops::Range<usize>) -> &[u8] {
        let range = range.start.saturating_add(TAG)..range.end.saturating_add(TAG);
        self.map
            .as_deref()
            .and_then(|map| map.get(range))
            .unwrap_or_default()
    }

    /// Notes that a part of the file did not hold what it should.
    pub fn set_damaged(&self) {
        self.damaged.store(true, Ordering::Relaxed);
    }

    /// Whether a part of the file was found damaged.
    pub fn damaged(&self) -> bool {
        self.damaged.load(Ordering::Relaxed)
    }
}

/// A new tag for a [`MappedFile`] about to be written: different for every write.
pub fn new_tag() -> [u8; TAG] {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    let mut tag = [0; TAG];
    tag.copy_from_slice(&hasher.finalize().as_bytes()[..TAG]);
    tag
}

fn encode<T: Serialize>(stamp: &[u8], value: &T) -> io::Result<Vec<u8>> {
    let payload = postcard::to_stdvec(value).map_err(io::Error::other)?;
    let stamp_len = u8::try_from(stamp.len()).map_err(io::Error::other)?;
    let mut bytes = Vec::with_capacity(MAGIC.len() + 1 + stamp.len() + CHECKSUM + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.push(stamp_len);
    bytes.extend_from_slice(stamp);
    bytes.extend_from_slice(blake3::hash(&payload).as_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

fn decode<T: DeserializeOwned>(bytes: &[u8], stamp: &[u8]) -> Option<T> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (&stamp_len, rest) = rest.split_first()?;
    let (found, rest) = rest.split_at_checked(usize::from(stamp_len))?;
    if found != stamp {
        return None;
    }
    let (checksum, payload) = rest.split_at_checked(CHECKSUM)?;
    if blake3::hash(payload).as_bytes() != checksum {
        return None;
    }
    postcard::from_bytes(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        name: String,
        values: Vec<u32>,
    }

    fn sample() -> Sample {
        Sample {
            name: "Leitlinie".into(),
            values: vec![1, 2, 300_000],
        }
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/sample.bin");
        write(&path, &format_stamp(1), &sample()).unwrap();
        assert_eq!(read::<Sample>(&path, &format_stamp(1)), Some(sample()));
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn another_stamp_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.bin");
        write(&path, &format_stamp(1), &sample()).unwrap();
        assert_eq!(read::<Sample>(&path, &format_stamp(2)), None);
        assert_eq!(read::<Sample>(&path, &program_stamp(1)), None);
        write(&path, &program_stamp(1), &sample()).unwrap();
        assert_eq!(read::<Sample>(&path, &program_stamp(1)), Some(sample()));
    }

    #[test]
    fn any_damage_reads_as_absent() {
        let bytes = encode(&format_stamp(1), &sample()).unwrap();
        assert!(decode::<Sample>(&bytes, &format_stamp(1)).is_some());
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert_eq!(
                decode::<Sample>(&damaged, &format_stamp(1)),
                None,
                "byte {at}"
            );
        }
        for len in 0..bytes.len() {
            assert_eq!(
                decode::<Sample>(&bytes[..len], &format_stamp(1)),
                None,
                "length {len}"
            );
        }
    }
}
