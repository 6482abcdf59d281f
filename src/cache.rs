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
///
/// A file of 256 KiB or more is mapped, not read: its bytes are already in the page cache,
/// and a buffer of their size would be fresh memory that the kernel first zeroes (for the page store's
/// index and the history's caches, megabytes of every build).
pub fn read<T: DeserializeOwned>(path: &Path, stamp: &[u8]) -> Option<T> {
    postcard::from_bytes(&read_shared(path, stamp)?).ok()
}

/// The size from which [`read`] maps a file instead of reading it.
const MAP_FROM: u64 = 256 * 1024;

/// The payload of the cache file at `path` if it exists, carries `stamp` and is intact: its encoded
/// value, not decoded, as shared bytes (mapped from 256 KiB, as in [`read`]). A reader decodes it with
/// borrowed parts and keeps the parts it passes on as slices of these bytes ([`bytes::Bytes::slice_ref`])
/// instead of copies: the page store's index and the output's manifest hand most of what they read on
/// to the files they write.
pub fn read_shared(path: &Path, stamp: &[u8]) -> Option<bytes::Bytes> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let bytes = if len >= MAP_FROM {
        // SAFETY: the program replaces cache files only by rename, never rewrites them (see
        // [`MappedFile`]); a file changed by hand all the same fails its checksum or its decoding.
        bytes::Bytes::from_owner(unsafe { Mmap::map(&file) }.ok()?)
    } else {
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        io::Read::read_to_end(&mut file, &mut bytes).ok()?;
        bytes::Bytes::from(bytes)
    };
    shared_payload(bytes, stamp)
}

/// The payload of a cache file's `bytes` ([`read_shared`] without the reading); `None` if they are
/// damaged or carry another stamp.
pub fn shared_payload(bytes: bytes::Bytes, stamp: &[u8]) -> Option<bytes::Bytes> {
    let payload = checked_payload(&bytes, stamp)?;
    Some(bytes.slice_ref(payload))
}

/// Writes `value` to `path` with `stamp` (under a temporary name, then renamed into place).
pub fn write<T: Serialize>(path: &Path, stamp: &[u8], value: &T) -> io::Result<()> {
    write_bytes(path, &encode(stamp, value)?)
}

/// Writes `bytes` to `path` under a temporary name, then renames it into place.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_via_temporary(path, bytes, false)
}

/// [`write_bytes`], the file synced to disk before it replaces the last one: for a file that is not
/// checksummed as a whole, so that a crash cannot leave it half-written under its name.
pub fn write_bytes_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_via_temporary(path, bytes, true)
}

fn write_via_temporary(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        io::Write::write_all(&mut file, bytes)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    })();
    written
        .and_then(|()| std::fs::rename(&temp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })
}

/// Where a run's cache files go: onto the disk at once, or kept in memory until [`Writes::flush`].
/// `publish` defers the search stage's files until the new site is served: they only help the next
/// build, and replacing a few megabytes of files can stall on some disks (see README, „publish“). Writes
/// keep their order; one that fails at the flush removes its file, so that no cache is left at an
/// older state than the files written with it.
#[derive(Debug, Default)]
pub struct Writes {
    deferred: Option<std::sync::Mutex<Vec<Deferred>>>,
}

enum Deferred {
    File {
        path: std::path::PathBuf,
        bytes: Vec<u8>,
        synced: bool,
    },
    /// A value to encode when it is written ([`Writes::owned_value`]).
    Encoded {
        path: std::path::PathBuf,
        encode: Box<dyn FnOnce() -> io::Result<Vec<u8>> + Send>,
    },
    Remove(std::path::PathBuf),
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deferred::File { path, .. } => write!(f, "File({})", path.display()),
            Deferred::Encoded { path, .. } => write!(f, "Encoded({})", path.display()),
            Deferred::Remove(path) => write!(f, "Remove({})", path.display()),
        }
    }
}

impl Writes {
    /// Writes that happen at once.
    pub const fn immediate() -> Self {
        Writes { deferred: None }
    }

    /// Writes kept until [`Writes::flush`].
    pub fn deferred() -> Self {
        Writes {
            deferred: Some(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// [`write()`]: `value` with `stamp` at `path`.
    pub fn value<T: Serialize>(&self, path: &Path, stamp: &[u8], value: &T) -> io::Result<()> {
        self.bytes(path, encode(stamp, value)?, false)
    }

    /// [`Writes::value`] for a value the caller gives up: deferred, it is encoded only when it is written
    /// (after the switch, for `publish`), not on the caller's way.
    pub fn owned_value<T: Serialize + Send + 'static>(
        &self,
        path: &Path,
        stamp: Vec<u8>,
        value: T,
    ) -> io::Result<()> {
        self.encoded(path, move || encode(&stamp, &value))
    }

    /// Writes the bytes `encode` makes: at once, or, deferred, made only when they are written.
    pub fn encoded(
        &self,
        path: &Path,
        encode: impl FnOnce() -> io::Result<Vec<u8>> + Send + 'static,
    ) -> io::Result<()> {
        match &self.deferred {
            Some(_) => self.put(Deferred::Encoded {
                path: path.to_path_buf(),
                encode: Box::new(encode),
            }),
            None => self.bytes(path, encode()?, false),
        }
    }

    /// [`write_bytes`], or with `synced` [`write_bytes_synced`].
    pub fn bytes(&self, path: &Path, bytes: Vec<u8>, synced: bool) -> io::Result<()> {
        self.put(Deferred::File {
            path: path.to_path_buf(),
            bytes,
            synced,
        })
    }

    /// Removes the file at `path` (a missing file is no error).
    pub fn remove(&self, path: &Path) -> io::Result<()> {
        self.put(Deferred::Remove(path.to_path_buf()))
    }

    fn put(&self, write: Deferred) -> io::Result<()> {
        match &self.deferred {
            Some(queue) => {
                queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(write);
                Ok(())
            }
            None => write.run(),
        }
    }

    /// Does the deferred writes, in order. Errors only cost the next build time: they are not
    /// returned, and the file of a write that failed is removed.
    pub fn flush(self) {
        let Some(queue) = self.deferred else {
            return;
        };
        for write in queue
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            let written = match &write {
                Deferred::File { path, .. } | Deferred::Encoded { path, .. } => Some(path.clone()),
                Deferred::Remove(_) => None,
            };
            if write.run().is_err()
                && let Some(path) = written
            {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

impl Deferred {
    fn run(self) -> io::Result<()> {
        match self {
            Deferred::File {
                path,
                bytes,
                synced,
            } => write_via_temporary(&path, &bytes, synced),
            Deferred::Encoded { path, encode } => write_via_temporary(&path, &encode()?, false),
            Deferred::Remove(path) => match std::fs::remove_file(&path) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            },
        }
    }
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

/// The bytes of a cache file holding `value` with `stamp` (what [`write()`] writes).
pub fn encode<T: Serialize>(stamp: &[u8], value: &T) -> io::Result<Vec<u8>> {
    let stamp_len = u8::try_from(stamp.len()).map_err(io::Error::other)?;
    let head = MAGIC.len() + 1 + stamp.len() + CHECKSUM;
    // Sized first, then written into one buffer after its header: a buffer that grows while the value
    // is written, and a copy behind the header, touched three times the file's size of fresh memory.
    let size = postcard::experimental::serialized_size(value).map_err(io::Error::other)?;
    let mut bytes = Vec::with_capacity(head + size);
    bytes.extend_from_slice(MAGIC);
    bytes.push(stamp_len);
    bytes.extend_from_slice(stamp);
    bytes.extend_from_slice(&[0; CHECKSUM]);
    let mut bytes = postcard::to_extend(value, bytes).map_err(io::Error::other)?;
    let checksum = blake3::hash(&bytes[head..]);
    bytes[head - CHECKSUM..head].copy_from_slice(checksum.as_bytes());
    Ok(bytes)
}

/// The value of a cache file's `bytes` ([`read`] without the reading); `None` if they are damaged or
/// carry another stamp.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], stamp: &[u8]) -> Option<T> {
    postcard::from_bytes(checked_payload(bytes, stamp)?).ok()
}

/// The encoded value in a cache file's `bytes`, if they carry `stamp` and their checksum holds.
fn checked_payload<'a>(bytes: &'a [u8], stamp: &[u8]) -> Option<&'a [u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (&stamp_len, rest) = rest.split_first()?;
    let (found, rest) = rest.split_at_checked(usize::from(stamp_len))?;
    if found != stamp {
        return None;
    }
    let (checksum, payload) = rest.split_at_checked(CHECKSUM)?;
    (blake3::hash(payload).as_bytes() == checksum).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_writes_wait_for_the_flush_and_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        std::fs::write(&b, "alt").unwrap();
        let writes = Writes::deferred();
        writes.bytes(&a, b"eins".to_vec(), false).unwrap();
        writes.bytes(&a, b"zwei".to_vec(), true).unwrap();
        writes.remove(&b).unwrap();
        writes.value(&b, &format_stamp(1), &sample()).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"alt");
        writes.flush();
        assert_eq!(std::fs::read(&a).unwrap(), b"zwei");
        assert_eq!(read::<Sample>(&b, &format_stamp(1)), Some(sample()));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "no temporary file is left");

        // At once: written before the call returns, errors returned.
        let at_once = Writes::immediate();
        at_once.bytes(&a, b"drei".to_vec(), false).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"drei");
        let blocked = dir.path().join("a.bin/unter");
        assert!(at_once.bytes(&blocked, Vec::new(), false).is_err());

        // A deferred write that fails removes the file it was to replace, never leaves it older.
        let deferred = Writes::deferred();
        deferred.bytes(&b, b"neu".to_vec(), false).unwrap();
        std::fs::create_dir(
            dir.path()
                .join("b.bin.tmp".to_string() + &std::process::id().to_string()),
        )
        .unwrap();
        deferred.flush();
        assert!(!b.exists());
    }

    #[test]
    fn an_owned_value_is_encoded_when_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        let deferred = Writes::deferred();
        deferred.owned_value(&a, format_stamp(1), sample()).unwrap();
        deferred.remove(&a).unwrap();
        deferred.owned_value(&b, format_stamp(1), sample()).unwrap();
        assert!(!b.exists());
        deferred.flush();
        assert!(!a.exists(), "the order is kept: written, then removed");
        assert_eq!(read::<Sample>(&b, &format_stamp(1)), Some(sample()));
        let at_once = Writes::immediate();
        at_once.owned_value(&a, format_stamp(2), sample()).unwrap();
        assert_eq!(read::<Sample>(&a, &format_stamp(2)), Some(sample()));
    }

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
