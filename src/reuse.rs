//! Reusing the version pages of earlier builds.
//!
//! A document's history pages (every Stand, Fassung and Synopse, its Fassungen overview and
//! `versions.json`) are most of a site with a long history, and almost all of them stay the same from one
//! commit to the next. The render stage computes, per document, a key over everything those pages are
//! rendered from ([`DocumentKey`]); the files of a key seen before are taken from a content-addressed store
//! under [`DIR`] and hard-linked into the output instead of being rendered and written again. A build after
//! one more commit renders only the documents that commit touched.
//!
//! Within a document that changed, single pages are keyed too ([`StoredDocument::pages`]): after one
//! more commit only the new Stand, its comparisons and the pages that link to it are rendered; the other
//! Stand and Synopse pages of that document come from the store as well.
//!
//! The site's other pages are keyed the same way, one by one ([`CurrentPages`]): a page whose template and
//! context are those of a page the last build stored is linked from the store instead of rendered, and the
//! search reads it from there only if it needs its HTML at all.
//!
//! The store holds each file once, named by the BLAKE3 hash of its bytes; its index ([`INDEX_FILE`], a
//! [`crate::cache`] file) holds per document (by its address) the key of its version pages and their
//! files, encoded as one [`Bundle`], and the current pages by their page keys. A build decodes a
//! document's bundle only when the document changed: a build after one more commit hands the others on
//! as bytes, to the index it writes and to the output ([`crate::output::Manifest`]), which places and
//! compares them as a whole. After a successful build the store keeps exactly the files of that build's
//! documents (older entries are dropped), so it does not grow with the number of builds. The index is trusted without looking at the files (a build
//! after one commit does no work per stored file); files put into the store are first written to a
//! journal ([`PENDING_FILE`]), so that an interrupted save leaves nothing the next one cannot collect. If
//! files have gone missing all the same (a cache folder cleared by hand), the build notices when it cannot
//! link them and renders again without the store ([`Store::forget`]). A missing or damaged index only
//! costs time: everything is rendered again. The preview (`serve`, another `base_url`) keeps its own store
//! in its own cache folder, so that previews and builds do not evict each other's pages.

use hashbrown::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cache;
use crate::render::OutputFile;
use crate::search::html::{Searchable, searchable};

/// The store, inside the cache folder ([`crate::BuildOptions::cache`]).
pub const DIR: &str = "store";
/// The store's folder before it kept the current pages too; removed when the store is saved.
const OLD_DIR: &str = "versions";
/// The index of the last build's documents.
pub const INDEX_FILE: &str = "index.bin";
/// The hashes of the files a save is putting into the store, until its index is written.
pub const PENDING_FILE: &str = "pending.bin";
/// The index of earlier versions, replaced by [`INDEX_FILE`]; removed when the store is saved.
const OLD_INDEX_FILE: &str = "index.json";
const FILES_DIR: &str = "files";
/// Raised when the index layout changes; an index of another format is ignored.
const FORMAT: u32 = 6;

/// A BLAKE3 hash: of a file's bytes (its name in the store), or of everything a page or a document's
/// version pages are made from (its key). Kept as bytes, not hex: the index lists every file of the site.
pub type Hash = [u8; 32];

/// One file of a document's version pages, in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Path inside the output directory.
    pub path: String,
    /// BLAKE3 of the bytes: the file's name in the store.
    pub hash: Hash,
    /// The page key of the file, if it has one (see [`StoredDocument::pages`]).
    pub key: Option<Hash>,
    /// How a current page takes part in the search (`None` for version pages and other files).
    pub search: Option<Searchable>,
}

/// What the render stage did with the site's current pages (all pages but the version pages): each one
/// taken from the store (its key was stored) or rendered, with its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentPages {
    pub reused: Vec<StoredFile>,
    /// Output path and page key of each rendered page (its bytes are among the build's files).
    pub rendered: Vec<(String, Hash)>,
}

/// The files of one document's version pages, encoded (a `Vec<StoredFile>`, [postcard]). Decoded only
/// where a build needs them: for a document that changed, or an output folder that lacks them. A build
/// after one more commit hands most documents' bundles on as they are, from the store's index it read to
/// the one it writes, and from the output's manifest to the next; read from a mapped file, they are
/// slices of it, not copies.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Bundle {
    /// BLAKE3 of `bytes`: bundles of the same id hold the same files.
    id: Hash,
    bytes: bytes::Bytes,
}

/// A [`Bundle`] as it is decoded: its bytes borrowed from what is read ([`Bundle::from_raw`]).
#[derive(Deserialize)]
pub struct RawBundle<'a> {
    id: Hash,
    #[serde(borrow)]
    bytes: &'a [u8],
}

impl Bundle {
    /// The bundle of `files`.
    pub fn new(files: &[StoredFile]) -> Self {
        let bytes = postcard::to_stdvec(files).expect("a list of files encodes");
        Bundle {
            id: *blake3::hash(&bytes).as_bytes(),
            bytes: bytes.into(),
        }
    }

    /// The bundle decoded as `raw` from `whole`, keeping its bytes as a part of `whole`.
    pub fn from_raw(raw: RawBundle<'_>, whole: &bytes::Bytes) -> Self {
        Bundle {
            id: raw.id,
            bytes: whole.slice_ref(raw.bytes),
        }
    }

    /// What identifies its files: bundles of the same id hold the same files.
    pub fn id(&self) -> &Hash {
        &self.id
    }

    /// Its files, decoded; an error if its bytes are not a list of files (they come from checksummed
    /// files, so only a bug makes them so).
    pub fn files(&self) -> io::Result<Vec<StoredFile>> {
        postcard::from_bytes(&self.bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// How many files it holds (read from the front of its bytes; nothing else is decoded).
    pub fn len(&self) -> usize {
        // A list is encoded as its length first, a varint, as a `u64` is.
        postcard::take_from_bytes::<u64>(&self.bytes)
            .map_or(0, |(len, _)| usize::try_from(len).unwrap_or(0))
    }

    /// Whether it holds no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("id", &blake3::Hash::from_bytes(self.id).to_hex())
            .field("files", &self.len())
            .finish()
    }
}

/// One document's version pages in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDocument {
    /// The key of everything they were rendered from ([`DocumentKey`]).
    pub key: Hash,
    /// The folders of its pages a sitemap lists (`…/` of an `…/index.html`).
    pub listed: Vec<String>,
    /// Its files.
    pub bundle: Bundle,
}

/// A [`StoredDocument`] as it is decoded.
#[derive(Deserialize)]
struct RawDocument<'a> {
    key: Hash,
    listed: Vec<String>,
    #[serde(borrow)]
    bundle: RawBundle<'a>,
}

impl StoredDocument {
    /// Page key → hash of the file, of its pages that have a page key (see [`Index::document`]).
    pub fn pages(&self) -> HashMap<Hash, Hash> {
        self.bundle
            .files()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| Some((f.key?, f.hash)))
            .collect()
    }
}

/// The version pages of one document, as one build produced them; `address` is the document's (its
/// current page's folder), by which the store's index finds them again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentPages {
    /// Taken unchanged from the store.
    Reused {
        address: String,
        stored: StoredDocument,
    },
    /// Rendered in this build: the output paths of its files (bytes are among the build's files), the
    /// single pages taken from the store instead, the key of every page (output path, page key), and
    /// the folders a sitemap lists.
    Rendered {
        address: String,
        key: Hash,
        paths: Vec<String>,
        reused: Vec<StoredFile>,
        page_keys: Vec<(String, Hash)>,
        listed: Vec<String>,
    },
}

/// What the render stage did with the documents' version pages; the output stage links the reused ones
/// and [`Store::save`] records the rendered ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionPages {
    pub documents: Vec<DocumentPages>,
}

impl VersionPages {
    /// The single files taken from the store for documents that were rendered.
    pub fn reused(&self) -> impl Iterator<Item = &StoredFile> {
        self.documents.iter().flat_map(|d| match d {
            DocumentPages::Reused { .. } => &[][..],
            DocumentPages::Rendered { reused, .. } => reused.as_slice(),
        })
    }

    /// The files of the documents taken from the store whole.
    pub fn bundles(&self) -> impl Iterator<Item = &Bundle> {
        self.documents.iter().filter_map(|d| match d {
            DocumentPages::Reused { stored, .. } => Some(&stored.bundle),
            DocumentPages::Rendered { .. } => None,
        })
    }

    /// The folders of all documents' version pages a sitemap lists.
    pub fn listed(&self) -> impl Iterator<Item = &str> {
        self.documents
            .iter()
            .flat_map(|d| match d {
                DocumentPages::Reused { stored, .. } => &stored.listed,
                DocumentPages::Rendered { listed, .. } => listed,
            })
            .map(String::as_str)
    }

    /// How many documents and files were reused and how many rendered.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for document in &self.documents {
            match document {
                DocumentPages::Reused { stored, .. } => {
                    counts.documents_reused += 1;
                    counts.files_reused += stored.bundle.len();
                }
                DocumentPages::Rendered { paths, reused, .. } => {
                    counts.documents_rendered += 1;
                    counts.files_reused += reused.len();
                    counts.files_rendered += paths.len();
                }
            }
        }
        counts
    }
}

/// What a build did with the version pages (see [`VersionPages::counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Documents whose version pages were all taken from the store.
    pub documents_reused: usize,
    /// Documents with at least one version page rendered anew.
    pub documents_rendered: usize,
    /// Files taken from the store.
    pub files_reused: usize,
    /// Files rendered anew.
    pub files_rendered: usize,
}

/// Builds a document's key: feed every input of its version pages, then [`DocumentKey::finish`]. The
/// inputs are collected and hashed in one piece (blake3 is far faster on one large input than on many
/// small ones); the key is the same as hashing them one after the other.
pub struct DocumentKey(Vec<u8>);

impl DocumentKey {
    /// A key that starts from the build-wide inputs ([`Store::build_fingerprint`]).
    pub fn new(build: &blake3::Hash) -> Self {
        let mut bytes = Vec::with_capacity(1024);
        bytes.extend_from_slice(build.as_bytes());
        DocumentKey(bytes)
    }

    /// Adds one input (length-prefixed, so that inputs cannot run into each other).
    pub fn add(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        let bytes = bytes.as_ref();
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// The key.
    pub fn finish(&self) -> Hash {
        *blake3::hash(&self.0).as_bytes()
    }
}

impl CurrentPages {
    /// Adds the pages of `other` (another part of the site) after these.
    pub fn append(&mut self, other: CurrentPages) {
        self.reused.extend(other.reused);
        self.rendered.extend(other.rendered);
    }

    /// How many pages were reused and how many rendered.
    pub fn counts(&self) -> PageCounts {
        PageCounts {
            reused: self.reused.len(),
            rendered: self.rendered.len(),
        }
    }
}

/// What a build did with the current pages (see [`CurrentPages::counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    /// Pages linked from the store.
    pub reused: usize,
    /// Pages rendered anew.
    pub rendered: usize,
}

/// The documents' keys and files of the last successful build.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// By document address.
    documents: HashMap<String, StoredDocument>,
    /// The current pages of the last build.
    current: Vec<StoredFile>,
    /// Page key → position in `current`.
    current_keys: HashMap<Hash, usize>,
    /// Hashes an interrupted save may have put into the store without recording them.
    pending: Vec<Hash>,
}

/// The index as its file holds it.
#[derive(Serialize)]
struct IndexFile<'a> {
    documents: Vec<(&'a str, &'a StoredDocument)>,
    current: &'a [StoredFile],
}

/// The index as it is decoded, its documents' files borrowed from the bytes read.
#[derive(Deserialize)]
struct RawIndex<'a> {
    #[serde(borrow)]
    documents: Vec<(&'a str, RawDocument<'a>)>,
    current: Vec<StoredFile>,
}

impl Index {
    /// The version pages the last build stored for the document at `address`.
    pub fn document(&self, address: &str) -> Option<&StoredDocument> {
        self.documents.get(address)
    }

    /// The stored current page of a page key.
    pub fn current_page(&self, key: &Hash) -> Option<&StoredFile> {
        self.current_keys.get(key).map(|&i| &self.current[i])
    }

    /// The index in `payload` (an index file's, [`cache::read_shared`]); the documents' files stay
    /// parts of it.
    fn decode(payload: &bytes::Bytes) -> Option<Index> {
        let raw: RawIndex = postcard::from_bytes(payload).ok()?;
        let documents = raw
            .documents
            .into_iter()
            .map(|(address, document)| {
                let stored = StoredDocument {
                    key: document.key,
                    listed: document.listed,
                    bundle: Bundle::from_raw(document.bundle, payload),
                };
                (address.to_string(), stored)
            })
            .collect();
        let current_keys = raw
            .current
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((f.key?, i)))
            .collect();
        Some(Index {
            documents,
            current: raw.current,
            current_keys,
            pending: Vec::new(),
        })
    }

    /// The bytes of its file.
    fn encode(&self) -> io::Result<Vec<u8>> {
        let file = IndexFile {
            documents: self
                .documents
                .iter()
                .map(|(address, document)| (address.as_str(), document))
                .collect(),
            current: &self.current,
        };
        cache::encode(&cache::format_stamp(FORMAT), &file)
    }
}

/// A save of the store made ready before the site is written ([`Store::prepare`]); [`Store::commit`]
/// writes it.
#[derive(Debug)]
pub struct PreparedSave {
    /// The rendered files to put into the store: their entries and bytes.
    new_files: Vec<(StoredFile, bytes::Bytes)>,
    /// The journal of files being put into the store (none when nothing is new).
    pending: Option<Vec<Hash>>,
    /// The new index, as its cache file holds it.
    encoded_index: Vec<u8>,
    /// Store files no entry of the new index refers to.
    garbage: Vec<PathBuf>,
}

/// The content-addressed store of version pages under a site root.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in the cache folder `cache` (nothing is created until [`Store::save`]).
    pub fn new(cache: &Path) -> Self {
        Store {
            dir: cache.join(DIR),
        }
    }

    /// The index of the last build; empty if there is none or it cannot be read.
    pub fn index(&self) -> Index {
        let stamp = cache::format_stamp(FORMAT);
        let mut index = cache::read_shared(&self.dir.join(INDEX_FILE), &stamp)
            .and_then(|payload| Index::decode(&payload))
            .unwrap_or_default();
        index.pending =
            cache::read::<Vec<Hash>>(&self.dir.join(PENDING_FILE), &stamp).unwrap_or_default();
        index
    }

    /// Drops the index, after files it lists were found missing: the next build renders every version
    /// page and collects whatever is left in the store.
    pub fn forget(&self) -> io::Result<()> {
        match std::fs::remove_file(self.dir.join(INDEX_FILE)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Where the file with this hash is kept.
    pub fn file(&self, hash: &Hash) -> PathBuf {
        crate::output::stored_file(&self.files_dir(), hash)
    }

    /// The folder of the stored files ([`crate::output::stored_file`] names them).
    pub fn files_dir(&self) -> PathBuf {
        self.dir.join(FILES_DIR)
    }

    /// The hash of the inputs every page depends on: the program itself (a new binary may render
    /// differently), the theme and the configuration.
    pub fn build_fingerprint(theme: &blake3::Hash, config: &impl std::fmt::Debug) -> blake3::Hash {
        let mut key = DocumentKey(Vec::new());
        key.add(crate::cache::program());
        key.add(theme.as_bytes());
        key.add(format!("{config:?}"));
        blake3::hash(&key.0)
    }

    /// Records a successful build written to `output`: the rendered documents' files and current pages are
    /// linked from the output into the store, the index is replaced, and files no page uses any more are
    /// removed — of those the index the build read (`before`) knew, else of all in the store. The same as
    /// [`Store::prepare`] and then [`Store::commit`].
    pub fn save(
        &self,
        before: Option<&Index>,
        pages: &VersionPages,
        current: &CurrentPages,
        files: &[OutputFile],
        output: &Path,
    ) -> io::Result<()> {
        self.commit(self.prepare(before, pages, current, files)?, output)
    }

    /// What [`Store::save`] does before it writes: the new index encoded, the files to put into the store,
    /// the files to remove. Reads nothing the build writes, so a build prepares it while its search runs
    /// and only writes once the site is written.
    pub fn prepare(
        &self,
        before: Option<&Index>,
        pages: &VersionPages,
        current: &CurrentPages,
        files: &[OutputFile],
    ) -> io::Result<PreparedSave> {
        let by_path: HashMap<&str, &OutputFile> =
            files.iter().map(|f| (f.path.as_str(), f)).collect();
        let mut documents = HashMap::with_capacity(pages.documents.len());
        // The rendered files to put into the store: the stored file and its bytes.
        let mut new_files: Vec<(StoredFile, bytes::Bytes)> = Vec::new();
        for document in &pages.documents {
            match document {
                DocumentPages::Reused { address, stored } => {
                    documents.insert(address.clone(), stored.clone());
                }
                DocumentPages::Rendered {
                    address,
                    key,
                    paths,
                    reused,
                    page_keys,
                    listed,
                } => {
                    let page_keys: HashMap<&str, &Hash> = page_keys
                        .iter()
                        .map(|(path, key)| (path.as_str(), key))
                        .collect();
                    let mut stored = reused.clone();
                    for path in paths {
                        let Some(file) = by_path.get(path.as_str()) else {
                            continue;
                        };
                        let entry = StoredFile {
                            path: path.clone(),
                            hash: file.hash(),
                            key: page_keys.get(path.as_str()).map(|&&key| key),
                            search: None,
                        };
                        stored.push(entry.clone());
                        new_files.push((entry, file.bytes.clone()));
                    }
                    stored.sort_by(|a, b| a.path.cmp(&b.path));
                    let stored = StoredDocument {
                        key: *key,
                        listed: listed.clone(),
                        bundle: Bundle::new(&stored),
                    };
                    documents.insert(address.clone(), stored);
                }
            }
        }

        let rendered_pages: Vec<(StoredFile, bytes::Bytes)> = current
            .rendered
            .par_iter()
            .filter_map(|(path, key)| {
                let file = by_path.get(path.as_str())?;
                let html = std::str::from_utf8(&file.bytes).unwrap_or_default();
                let entry = StoredFile {
                    path: path.clone(),
                    hash: file.hash(),
                    key: Some(*key),
                    search: Some(searchable(html)),
                };
                Some((entry, file.bytes.clone()))
            })
            .collect();
        let mut current_files = current.reused.clone();
        current_files.extend(rendered_pages.iter().map(|(entry, _)| entry.clone()));
        new_files.extend(rendered_pages);

        let mut pending: Vec<Hash> = before.map(|b| b.pending.clone()).unwrap_or_default();
        pending.extend(new_files.iter().map(|(entry, _)| entry.hash));
        let index = Index {
            documents,
            current: current_files,
            ..Index::default()
        };
        Ok(PreparedSave {
            garbage: self.garbage(&index, before),
            encoded_index: index.encode()?,
            pending: (!new_files.is_empty()).then_some(pending),
            new_files,
        })
    }

    /// Writes a save [`Store::prepare`] made, for the site written to `output`.
    pub fn commit(&self, prepared: PreparedSave, output: &Path) -> io::Result<()> {
        let PreparedSave {
            new_files,
            pending,
            encoded_index,
            garbage,
        } = prepared;
        std::fs::create_dir_all(&self.dir)?;
        if let Some(pending) = pending {
            // Journal first: if the save stops before the index is written, the next one collects these.
            cache::write(
                &self.dir.join(PENDING_FILE),
                &cache::format_stamp(FORMAT),
                &pending,
            )?;
        }
        crate::output::on_disk_threads(|| {
            new_files.par_iter().try_for_each(|(entry, bytes)| {
                let target = self.file(&entry.hash);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                put(&output.join(&entry.path), bytes, &target)
            })
        })?;
        cache::write_bytes(&self.dir.join(INDEX_FILE), &encoded_index)?;
        for done in [PENDING_FILE, OLD_INDEX_FILE] {
            let _ = std::fs::remove_file(self.dir.join(done));
        }
        for path in garbage {
            let _ = std::fs::remove_file(path);
        }
        if let Some(cache) = self.dir.parent() {
            let _ = std::fs::remove_dir_all(cache.join(OLD_DIR));
        }
        Ok(())
    }

    /// The store files no entry of `index` refers to: of the files `before` knew (files added since are
    /// this build's), or of all files in the store when there was no index before.
    ///
    /// A document whose files `index` took over whole from `before` (the same [`Bundle`]) is not
    /// decoded: its files stay and are looked at no further. That is exact as long as no two
    /// documents' pages have the same bytes (every page names its own address); should they all the
    /// same, a file still used may go, and the build that misses it renders again without the store
    /// ([`Store::forget`]).
    fn garbage(&self, index: &Index, before: Option<&Index>) -> Vec<PathBuf> {
        let kept: HashSet<&Hash> = match before {
            Some(before) => {
                let ids: HashSet<&Hash> =
                    before.documents.values().map(|d| d.bundle.id()).collect();
                index
                    .documents
                    .values()
                    .map(|d| d.bundle.id())
                    .filter(|id| ids.contains(id))
                    .collect()
            }
            None => HashSet::new(),
        };
        let changed = |documents: &'_ HashMap<String, StoredDocument>| -> Vec<StoredFile> {
            documents
                .values()
                .filter(|d| !kept.contains(d.bundle.id()))
                .flat_map(|d| d.bundle.files().unwrap_or_default())
                .collect()
        };
        let now = changed(&index.documents);
        let used: HashSet<&Hash> = now.iter().chain(&index.current).map(|f| &f.hash).collect();
        let candidates: Vec<(Hash, PathBuf)> = match before {
            Some(before) if !before.documents.is_empty() => {
                let earlier = changed(&before.documents);
                earlier
                    .iter()
                    .chain(&before.current)
                    .map(|f| &f.hash)
                    .chain(&before.pending)
                    .filter(|hash| !used.contains(hash))
                    .map(|hash| (*hash, self.file(hash)))
                    .collect()
            }
            _ => self.listing(),
        };
        let mut garbage: Vec<PathBuf> = candidates
            .into_iter()
            .filter(|(hash, _)| !used.contains(hash))
            .map(|(_, path)| path)
            .collect();
        garbage.sort_unstable();
        garbage.dedup();
        garbage
    }

    /// The files in the store: hash and path. A file whose name is not a hash (a temporary copy left by an
    /// interrupted save) is listed with a hash no index holds, so it is removed too.
    fn listing(&self) -> Vec<(Hash, PathBuf)> {
        let Ok(prefixes) = std::fs::read_dir(self.files_dir()) else {
            return Vec::new();
        };
        prefixes
            .flatten()
            .filter_map(|prefix| std::fs::read_dir(prefix.path()).ok())
            .flat_map(|entries| entries.flatten())
            .map(|entry| {
                let name = entry.file_name();
                let hash = blake3::Hash::from_hex(name.as_encoded_bytes())
                    .map_or([0; 32], |hash| *hash.as_bytes());
                (hash, entry.path())
            })
            .collect()
    }
}

/// Puts a file into the store: a hard link to the written output file where the file system allows it,
/// otherwise a copy (written to a temporary name first, so the store never holds half a file).
fn put(written: &Path, bytes: &[u8], target: &Path) -> io::Result<()> {
    match std::fs::hard_link(written, target) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => {
            let temp = target.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&temp, bytes)?;
            std::fs::rename(&temp, target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key named for a test.
    fn k(name: &str) -> Hash {
        *blake3::hash(name.as_bytes()).as_bytes()
    }

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile::new(path, text.as_bytes().to_vec())
    }

    /// The pages of a document `address` rendered in this build: `paths`, with page keys `keys`.
    fn rendered(address: &str, key: Hash, paths: &[&str], keys: &[(&str, Hash)]) -> DocumentPages {
        with(address, key, paths, keys, Vec::new(), &[])
    }

    /// [`rendered`], with single pages taken from the store and folders a sitemap lists.
    fn with(
        address: &str,
        key: Hash,
        paths: &[&str],
        keys: &[(&str, Hash)],
        reused: Vec<StoredFile>,
        listed: &[&str],
    ) -> DocumentPages {
        DocumentPages::Rendered {
            address: address.into(),
            key,
            paths: paths.iter().map(|p| p.to_string()).collect(),
            reused,
            page_keys: keys.iter().map(|(p, k)| (p.to_string(), *k)).collect(),
            listed: listed.iter().map(|l| l.to_string()).collect(),
        }
    }

    /// The hash of the first stored file of the document at `address`.
    fn first_hash(store: &Store, address: &str) -> Hash {
        store
            .index()
            .document(address)
            .unwrap()
            .bundle
            .files()
            .unwrap()[0]
            .hash
    }

    #[test]
    fn saved_documents_are_found_again_and_unused_files_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let out = tmp.path().join("public");
        let files = vec![
            file("a/stand/1/index.html", "eins"),
            file("b/x.json", "zwei"),
        ];
        crate::output::write_tree(&out, &files).unwrap();
        let pages = VersionPages {
            documents: vec![
                with(
                    "a/",
                    k("ka"),
                    &["a/stand/1/index.html"],
                    &[("a/stand/1/index.html", k("pa"))],
                    Vec::new(),
                    &["a/"],
                ),
                rendered("b/", k("kb"), &["b/x.json"], &[]),
            ],
        };
        store
            .save(None, &pages, &CurrentPages::default(), &files, &out)
            .unwrap();

        let index = store.index();
        let a = index.document("a/").expect("document a is stored").clone();
        assert_eq!(a.key, k("ka"));
        assert_eq!(a.listed, ["a/"]);
        let stored = a.bundle.files().unwrap();
        assert_eq!(a.bundle.len(), 1);
        assert_eq!(stored[0].path, "a/stand/1/index.html");
        assert_eq!(std::fs::read(store.file(&stored[0].hash)).unwrap(), b"eins");
        assert!(index.document("unbekannt/").is_none());
        assert_eq!(a.pages().get(&k("pa")), Some(&stored[0].hash));
        assert_eq!(a.pages().get(&k("pb")), None);

        // The next build uses only document a: b's file leaves the store.
        let b_hash = index.document("b/").unwrap().bundle.files().unwrap()[0].hash;
        let next = VersionPages {
            documents: vec![DocumentPages::Reused {
                address: "a/".into(),
                stored: a.clone(),
            }],
        };
        store
            .save(Some(&index), &next, &CurrentPages::default(), &[], &out)
            .unwrap();
        assert!(!store.file(&b_hash).exists());
        assert!(store.file(&stored[0].hash).exists());
        // A document reused whole keeps its bundle, and with it its page keys for the build that
        // changes it.
        assert_eq!(store.index().document("a/"), Some(&a));
        assert!(store.index().document("b/").is_none());
    }

    #[test]
    fn a_changed_document_keeps_the_files_it_still_uses_and_drops_the_others() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let out = tmp.path().join("public");
        let first = vec![file("a/1.html", "eins"), file("a/2.html", "zwei")];
        crate::output::write_tree(&out, &first).unwrap();
        let pages = VersionPages {
            documents: vec![rendered(
                "a/",
                k("ka"),
                &["a/1.html", "a/2.html"],
                &[("a/1.html", k("p1")), ("a/2.html", k("p2"))],
            )],
        };
        store
            .save(None, &pages, &CurrentPages::default(), &first, &out)
            .unwrap();
        let index = store.index();
        let stored = index.document("a/").unwrap().bundle.files().unwrap();
        let (one, two) = (stored[0].clone(), stored[1].clone());

        // Page 1 is taken from the store, page 2 rendered anew with other bytes.
        let second = vec![file("a/2.html", "zwei, neu")];
        crate::output::write_tree(&out, &second).unwrap();
        let next = VersionPages {
            documents: vec![with(
                "a/",
                k("ka2"),
                &["a/2.html"],
                &[("a/2.html", k("p2neu"))],
                vec![one.clone()],
                &[],
            )],
        };
        store
            .save(Some(&index), &next, &CurrentPages::default(), &second, &out)
            .unwrap();
        assert!(store.file(&one.hash).exists(), "page 1 is still used");
        assert!(
            !store.file(&two.hash).exists(),
            "page 2's old bytes are not"
        );
        let a = store.index().document("a/").unwrap().clone();
        assert_eq!(a.key, k("ka2"));
        assert_eq!(a.pages().len(), 2);
    }

    #[test]
    fn files_of_an_interrupted_save_are_collected_by_the_next() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let out = tmp.path().join("public");
        let files = vec![file("a/stand/1/index.html", "eins")];
        crate::output::write_tree(&out, &files).unwrap();
        let pages = || VersionPages {
            documents: vec![rendered("a/", k("ka"), &["a/stand/1/index.html"], &[])],
        };
        store
            .save(None, &pages(), &CurrentPages::default(), &files, &out)
            .unwrap();
        // A save that put a file and stopped before its index: only its journal knows the file.
        let orphan = k("verwaist");
        std::fs::create_dir_all(store.file(&orphan).parent().unwrap()).unwrap();
        std::fs::write(store.file(&orphan), "verwaist").unwrap();
        let stamp = cache::format_stamp(FORMAT);
        cache::write(&store.dir.join(PENDING_FILE), &stamp, &vec![orphan]).unwrap();

        let index = store.index();
        assert!(index.document("a/").is_some());
        store
            .save(
                Some(&index),
                &pages(),
                &CurrentPages::default(),
                &files,
                &out,
            )
            .unwrap();
        assert!(
            !store.file(&orphan).exists(),
            "the journal's file is collected"
        );
        assert!(!store.dir.join(PENDING_FILE).exists());
        let hash = first_hash(&store, "a/");
        assert!(store.file(&hash).exists());
    }

    #[test]
    fn a_forgotten_index_collects_the_whole_store() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let out = tmp.path().join("public");
        let files = vec![file("a/x.json", "eins")];
        crate::output::write_tree(&out, &files).unwrap();
        let pages = VersionPages {
            documents: vec![rendered("a/", k("ka"), &["a/x.json"], &[])],
        };
        store
            .save(None, &pages, &CurrentPages::default(), &files, &out)
            .unwrap();
        let hash = first_hash(&store, "a/");
        store.forget().unwrap();
        let index = store.index();
        assert!(index.document("a/").is_none());
        store
            .save(
                Some(&index),
                &VersionPages::default(),
                &CurrentPages::default(),
                &[],
                &out,
            )
            .unwrap();
        assert!(!store.file(&hash).exists());
    }

    #[test]
    fn current_pages_are_found_by_key_with_their_search_class_and_kept_while_used() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let out = tmp.path().join("public");
        let files = vec![
            file("a/index.html", "<main data-pagefind-body>A</main>"),
            file("b/index.html", "<main>B</main>"),
        ];
        crate::output::write_tree(&out, &files).unwrap();
        let current = CurrentPages {
            reused: Vec::new(),
            rendered: vec![
                ("a/index.html".into(), k("ka")),
                ("b/index.html".into(), k("kb")),
            ],
        };
        store
            .save(None, &VersionPages::default(), &current, &files, &out)
            .unwrap();
        let index = store.index();
        let a = index.current_page(&k("ka")).expect("a is stored").clone();
        assert_eq!(a.path, "a/index.html");
        assert_eq!(a.search, Some(Searchable::Yes));
        assert_eq!(
            index.current_page(&k("kb")).unwrap().search,
            Some(Searchable::No)
        );
        assert!(index.current_page(&k("kc")).is_none());
        assert_eq!(
            std::fs::read(store.file(&a.hash)).unwrap(),
            b"<main data-pagefind-body>A</main>"
        );

        // The next build reuses a and drops b: b's file leaves the store, a's stays.
        let b_hash = index.current_page(&k("kb")).unwrap().hash;
        let next = CurrentPages {
            reused: vec![a.clone()],
            rendered: Vec::new(),
        };
        store
            .save(Some(&index), &VersionPages::default(), &next, &[], &out)
            .unwrap();
        assert!(store.file(&a.hash).exists());
        assert!(!store.file(&b_hash).exists());
        assert!(store.index().current_page(&k("ka")).is_some());
    }

    #[test]
    fn a_damaged_index_is_an_empty_one() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        std::fs::create_dir_all(tmp.path().join(DIR)).unwrap();
        std::fs::write(tmp.path().join(DIR).join(INDEX_FILE), "{kaputt").unwrap();
        assert!(store.index().documents.is_empty());
    }

    #[test]
    fn keys_separate_their_inputs() {
        let build = blake3::hash(b"build");
        let ab = DocumentKey::new(&build).add("a").add("b").finish();
        let a_b = DocumentKey::new(&build).add("ab").add("").finish();
        assert_ne!(ab, a_b);
        assert_eq!(ab, DocumentKey::new(&build).add("a").add("b").finish());
    }
}
