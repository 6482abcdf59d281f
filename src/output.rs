//! Writing the built site: everything goes into a staging directory beside the output, and only a complete
//! build replaces the output, in one step. A failed or interrupted build never touches the previous site.
//!
//! The site before is kept as a spare (`.<name>.spare` beside the output) with a manifest of its files'
//! hashes: the next build takes the spare as its staging directory and changes only what differs —
//! writes new and changed files, deletes files that are gone — instead of writing every file anew and
//! deleting the whole previous site. On some disks (journaled, with online discard) removing a directory
//! costs milliseconds, more than writing the page in it, so a rebuild after a small change writes and
//! deletes little. A spare without its manifest (an interrupted build) is not trusted: it is deleted on a
//! background thread and the site is written in full.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::render::OutputFile;
use crate::reuse::{Bundle, RawBundle, StoredFile};

/// How many threads write, link and remove files ([`on_disk_threads`]).
const DISK_THREADS: usize = 8;

/// Runs `work`, which writes, links or removes files in parallel with rayon, on threads of its own
/// instead of rayon's pool of one thread per core. A thread that waits for the disk then does not hold
/// a core's thread: the work on the CPU beside the writing (the search index, made while the pages are
/// written) does not queue behind it, and several of the disk's requests are in flight at once, which
/// matters on disks that are slow to answer. If the threads cannot be started, `work` runs where it is.
pub fn on_disk_threads<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(DISK_THREADS)
            .thread_name(|i| format!("schreiben-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// What one written site holds: each file written or linked on its own with the BLAKE3 hash of its bytes,
/// and the groups of files it holds whole (a document's version pages from the page store, see
/// [`Group`]). A build compares the site a folder holds with the one it writes by group first: a group
/// both hold is not looked into, so a rebuild after one commit compares the files of the documents that
/// changed and the site's other pages, not every file of a long history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Path → hash of the files not in a group.
    files: BTreeMap<String, Hash>,
    /// The groups, by their bundle's id.
    groups: BTreeMap<Hash, Bundle>,
}

/// A BLAKE3 hash of a file's bytes.
pub type Hash = [u8; 32];

impl Manifest {
    /// How many files the site has.
    pub fn len(&self) -> usize {
        self.files.len() + self.groups.values().map(Bundle::len).sum::<usize>()
    }

    /// Whether the site has no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of the file at `path`, if the site has it (groups are decoded to look).
    pub fn get(&self, path: &str) -> Option<Hash> {
        self.files.get(path).copied().or_else(|| {
            self.groups
                .values()
                .flat_map(|bundle| bundle.files().unwrap_or_default())
                .find(|f| f.path == path)
                .map(|f| f.hash)
        })
    }
}

/// The files of a site that are linked from a folder of earlier files (pages reused from an earlier
/// build) instead of written: single files, and groups placed and compared as a whole.
#[derive(Debug, Clone, Default)]
pub struct Linked {
    pub files: Vec<Link>,
    pub groups: Vec<Group>,
}

impl Linked {
    /// How many files they are.
    pub fn len(&self) -> usize {
        self.files.len() + self.groups.iter().map(|g| g.bundle.len()).sum::<usize>()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.groups.is_empty()
    }

    /// All of them as single links (the groups' files decoded).
    pub fn all(&self) -> io::Result<Vec<Link>> {
        let mut links = self.files.clone();
        for group in &self.groups {
            links.extend(group.links()?);
        }
        Ok(links)
    }
}

/// A group of files linked from a folder of files named by their hash ([`stored_file`]): one document's
/// version pages from the page store, its [`Bundle`]. The manifest records the bundle, so that the next
/// build that writes into this folder finds the group in place by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub bundle: Bundle,
    /// The folder of the files.
    pub dir: Arc<Path>,
}

impl Group {
    /// Its files as single links.
    pub fn links(&self) -> io::Result<Vec<Link>> {
        Ok(self
            .bundle
            .files()?
            .into_iter()
            .map(|f| Link {
                path: f.path,
                hash: f.hash,
                dir: Arc::clone(&self.dir),
            })
            .collect())
    }
}

/// Writes `files` (and `linked`) into `output`, replacing its previous contents only once all files are
/// written: [`write_atomically_with`] writing everything in one part.
pub fn write_atomically(
    output: &Path,
    files: &[OutputFile],
    links: &Linked,
) -> io::Result<Written> {
    write_atomically_with(output, |staging| staging.write(files, links, Part::All))
}

/// Lets `write` write the site into a staging folder (see [`Staging`]; it may write it in parts, and do
/// other work in between), then replaces `output` with it, only if `write` succeeded.
///
/// On Linux the staging directory and the output are exchanged atomically (`renameat2` with
/// `RENAME_EXCHANGE`); elsewhere, or on file systems without it, the old output is renamed away and the new
/// one renamed in, a window of microseconds in which the output does not exist.
///
/// Returns the background removal of untrusted leftovers (dropping it lets the removal go on unattended)
/// and the manifest of the site written.
pub fn write_atomically_with<E: From<io::Error>>(
    output: &Path,
    write: impl FnOnce(&mut Staging) -> Result<(), E>,
) -> Result<Written, E> {
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = output
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "output has no directory name"))?
        .to_string_lossy()
        .to_string();
    let places = Places::new(parent, &name);
    let mut leftovers = old_sites(parent, &name);

    // Staging starts from the spare if its manifest says what it holds; the manifest is removed first, so
    // that a spare left half-updated by an interrupted build is never trusted.
    let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let spare_manifest = read_manifest(&places.spare_manifest);
    let _ = std::fs::remove_file(&places.spare_manifest);
    let held = match spare_manifest {
        Some(manifest) if std::fs::rename(&places.spare, &staging).is_ok() => Some(manifest),
        _ => {
            if places.spare.exists() {
                let trash = places.trash();
                if std::fs::rename(&places.spare, &trash).is_ok() {
                    leftovers.push(trash);
                }
            }
            None
        }
    };

    let mut site = Staging::new(staging.clone(), held);
    let result = write(&mut site).and_then(|()| Ok(swap_in(&staging, output, &places)?));
    match result {
        Ok(previous) => {
            // The previous site is the next build's spare, if its manifest is known.
            if let Some(previous) = previous {
                if std::fs::rename(&places.manifest, &places.spare_manifest).is_ok() {
                    if std::fs::rename(&previous, &places.spare).is_err() {
                        let _ = std::fs::remove_file(&places.spare_manifest);
                        leftovers.push(previous);
                    }
                } else {
                    leftovers.push(previous);
                }
            }
            let after = site.into_manifest();
            write_manifest(&places.manifest, &after)?;
            Ok(Written {
                cleanup: Removal::start(leftovers),
                manifest: after,
            })
        }
        Err(err) => {
            // The staging folder holds a site that is neither the old nor the new one.
            if staging.exists() {
                let trash = places.trash();
                if std::fs::rename(&staging, &trash).is_ok() {
                    leftovers.push(trash);
                }
            }
            let _ = std::fs::remove_file(&places.manifest);
            drop(Removal::start(leftovers));
            Err(err)
        }
    }
}

/// Which of a site's files a [`Staging::write`] writes: all, or those under a folder (a path prefix
/// ending in `/`), or all others. Groups of files ([`Group`]) are never inside such a folder: a write
/// of `Inside` takes none and leaves those the folder holds alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    All,
    Inside(&'a str),
    Outside(&'a str),
}

impl Part<'_> {
    /// Whether the file at `path` belongs to this part.
    pub fn holds(self, path: &str) -> bool {
        match self {
            Part::All => true,
            Part::Inside(folder) => path.starts_with(folder),
            Part::Outside(folder) => !path.starts_with(folder),
        }
    }
}

/// A site being written into a staging folder, in one part or several ([`Part`]): a new folder, or one
/// that holds an earlier site whose manifest says what it holds — then only what differs is written or
/// removed.
#[derive(Debug)]
pub struct Staging {
    path: PathBuf,
    /// The manifest of the earlier site the folder holds, if it holds one.
    held: Option<Manifest>,
    /// The files written so far.
    written: Manifest,
    /// Called once in each part that writes pages: after half of a new folder's files, or after a held
    /// site was updated (for tests that stop a publish there).
    halfway: Option<fn()>,
}

impl Staging {
    /// The staging folder `path`, holding the site of `held` (or nothing: then it is created).
    pub fn new(path: PathBuf, held: Option<Manifest>) -> Self {
        Staging {
            path,
            held,
            written: Manifest::default(),
            halfway: None,
        }
    }

    /// Calls `halfway` in every [`Staging::write`] (see the field).
    pub fn with_halfway(mut self, halfway: fn()) -> Self {
        self.halfway = Some(halfway);
        self
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `files` and `links`, the site's files of `part`; of what the folder held, the files of
    /// `part` that are not among them are removed.
    pub fn write(&mut self, files: &[OutputFile], links: &Linked, part: Part) -> io::Result<()> {
        debug_assert!(
            !matches!(part, Part::Inside(_)) || links.groups.is_empty(),
            "groups are never inside a part's folder"
        );
        let mut after = manifest(files, &links.files);
        match &self.held {
            Some(held) => {
                update_tree(&self.path, held, part, &after, files, links)?;
                self.halfway();
            }
            None => {
                let (first, second) = files.split_at(files.len() / 2);
                write_tree(&self.path, first)?;
                self.halfway();
                write_tree(&self.path, second)?;
                link_tree(&self.path, &links.all()?)?;
            }
        }
        // Merged, not inserted one by one (see `sorted_files`).
        self.written.files.append(&mut after.files);
        self.written.groups.extend(
            links
                .groups
                .iter()
                .map(|g| (*g.bundle.id(), g.bundle.clone())),
        );
        Ok(())
    }

    fn halfway(&self) {
        if let Some(halfway) = self.halfway {
            halfway();
        }
    }

    /// Whether the folder held an earlier site.
    pub fn recycled(&self) -> bool {
        self.held.is_some()
    }

    /// The manifest of the files written.
    pub fn into_manifest(self) -> Manifest {
        self.written
    }
}

/// A site written by [`write_atomically`].
#[derive(Debug)]
pub struct Written {
    /// Leftovers of interrupted earlier builds, being deleted in the background.
    pub cleanup: Removal,
    /// Every file of the site with its hash.
    pub manifest: Manifest,
}

/// The files that differ between two sites: added, changed or gone, sorted.
pub fn changed_paths(before: &Manifest, after: &Manifest) -> Vec<String> {
    // Only a bug makes a group undecodable (they come from checksummed files): then it counts as empty.
    let gone =
        decoded(unshared(&before.groups, |id| after.groups.contains_key(id))).unwrap_or_default();
    let new =
        decoded(unshared(&after.groups, |id| before.groups.contains_key(id))).unwrap_or_default();
    let old = entries(&before.files, Part::All, &gone);
    let now = entries(&after.files, Part::All, &new);
    let (changed, removed) = differences(&old, &now);
    let mut paths: Vec<String> = changed
        .into_iter()
        .chain(removed)
        .map(str::to_string)
        .collect();
    paths.sort_unstable();
    paths.dedup();
    paths
}

/// Where the output's companions live, beside it.
struct Places {
    spare: PathBuf,
    spare_manifest: PathBuf,
    manifest: PathBuf,
    parent: PathBuf,
    name: String,
}

impl Places {
    fn new(parent: &Path, name: &str) -> Self {
        Places {
            spare: parent.join(format!(".{name}.spare")),
            spare_manifest: parent.join(format!(".{name}.spare.manifest")),
            manifest: parent.join(format!(".{name}.manifest")),
            parent: parent.to_path_buf(),
            name: name.to_string(),
        }
    }

    /// A fresh name for a folder to delete.
    fn trash(&self) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        self.parent
            .join(format!(".{}.old-{}-{nanos}", self.name, std::process::id()))
    }
}

/// The manifest of a site made of `files` and the single files `links` (no groups).
pub fn manifest(files: &[OutputFile], links: &[Link]) -> Manifest {
    let mut entries: Vec<(String, Hash)> = files
        .par_iter()
        .map(|f| (f.path.clone(), f.hash()))
        .collect();
    entries.extend(links.iter().map(|l| (l.path.clone(), l.hash)));
    Manifest {
        files: sorted_files(entries),
        groups: BTreeMap::new(),
    }
}

/// A map of `entries`, sorted first: a map built from sorted entries is built in one pass, while
/// inserting thousands of long paths with long common beginnings one by one compares them again and again.
fn sorted_files(mut entries: Vec<(String, Hash)>) -> BTreeMap<String, Hash> {
    entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().collect()
}

/// Raised when the manifest's layout changes; a manifest of another format is not trusted.
const MANIFEST_FORMAT: u32 = 3;

/// A manifest as its file holds it.
#[derive(serde::Serialize)]
struct ManifestFile<'a> {
    files: &'a BTreeMap<String, Hash>,
    groups: Vec<&'a Bundle>,
}

/// A manifest as it is decoded: the groups' files borrowed from the bytes read.
#[derive(serde::Deserialize)]
struct RawManifest<'a> {
    files: Vec<(String, Hash)>,
    #[serde(borrow)]
    groups: Vec<RawBundle<'a>>,
}

/// A manifest written by [`write_manifest`]; `None` if it is missing, damaged or of another format.
pub fn read_manifest(path: &Path) -> Option<Manifest> {
    let stamp = crate::cache::format_stamp(MANIFEST_FORMAT);
    manifest_from_payload(&crate::cache::read_shared(path, &stamp)?)
}

/// A manifest from the bytes of its file (read ahead of time); `None` if they are damaged or of
/// another format. Its groups stay parts of `bytes`.
pub fn manifest_from_bytes(bytes: bytes::Bytes) -> Option<Manifest> {
    let stamp = crate::cache::format_stamp(MANIFEST_FORMAT);
    manifest_from_payload(&crate::cache::shared_payload(bytes, &stamp)?)
}

fn manifest_from_payload(payload: &bytes::Bytes) -> Option<Manifest> {
    let raw: RawManifest = postcard::from_bytes(payload).ok()?;
    Some(Manifest {
        // Written from a map, so sorted: the map is built in one pass.
        files: raw.files.into_iter().collect(),
        groups: raw
            .groups
            .into_iter()
            .map(|raw| {
                let bundle = Bundle::from_raw(raw, payload);
                (*bundle.id(), bundle)
            })
            .collect(),
    })
}

/// Writes a manifest (a [`crate::cache`] file: under a temporary name, then renamed into place).
pub fn write_manifest(path: &Path, manifest: &Manifest) -> io::Result<()> {
    let file = ManifestFile {
        files: &manifest.files,
        groups: manifest.groups.values().collect(),
    };
    crate::cache::write(path, &crate::cache::format_stamp(MANIFEST_FORMAT), &file)
}

/// The bundles of `groups` whose ids `held` (the other side's) does not hold. A group both sides hold
/// is in place and not looked into.
fn unshared(
    groups: &BTreeMap<Hash, Bundle>,
    held: impl Fn(&Hash) -> bool,
) -> impl Iterator<Item = &Bundle> {
    groups
        .iter()
        .filter(move |(id, _)| !held(id))
        .map(|(_, bundle)| bundle)
}

/// The files of `bundles`, decoded side by side.
fn decoded<'a>(bundles: impl Iterator<Item = &'a Bundle>) -> io::Result<Vec<StoredFile>> {
    let bundles: Vec<&Bundle> = bundles.collect();
    let files: Vec<Vec<StoredFile>> = bundles
        .par_iter()
        .map(|bundle| bundle.files())
        .collect::<io::Result<_>>()?;
    Ok(files.concat())
}

/// The files of `part` in `files` and `more` as (path, hash), sorted by path.
fn entries<'a>(
    files: &'a BTreeMap<String, Hash>,
    part: Part,
    more: &'a [StoredFile],
) -> Vec<(&'a str, &'a Hash)> {
    let mut entries: Vec<(&str, &Hash)> = files
        .iter()
        .map(|(path, hash)| (path.as_str(), hash))
        .chain(more.iter().map(|f| (f.path.as_str(), &f.hash)))
        .filter(|(path, _)| part.holds(path))
        .collect();
    if !more.is_empty() {
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    entries
}

/// Turns `dir`, which holds the files of `before`, into the site made of `files` and `links`, whose
/// single files' manifest is `after`: writes what is new or changed, removes what is gone, leaves the
/// rest. Of `before`, only the files of `part` are looked at: the new files are that part of the site.
pub fn update_tree(
    dir: &Path,
    before: &Manifest,
    part: Part,
    after: &Manifest,
    files: &[OutputFile],
    links: &Linked,
) -> io::Result<()> {
    // Groups are not looked at in a part inside a folder (see `Part`).
    let (gone, new_links) = if matches!(part, Part::Inside(_)) {
        (Vec::new(), Vec::new())
    } else {
        let ids: hashbrown::HashSet<&Hash> = links.groups.iter().map(|g| g.bundle.id()).collect();
        let gone = decoded(unshared(&before.groups, |id| ids.contains(id)))?;
        // The new groups' files as links, each from its group's folder.
        let new: Vec<&Group> = links
            .groups
            .iter()
            .filter(|g| !before.groups.contains_key(g.bundle.id()))
            .collect();
        let new_links: Vec<Vec<Link>> = new
            .par_iter()
            .map(|g| g.links())
            .collect::<io::Result<_>>()?;
        (gone, new_links.concat())
    };
    let old = entries(&before.files, part, &gone);
    let mut now = entries(&after.files, Part::All, &[]);
    if !new_links.is_empty() {
        now.extend(new_links.iter().map(|l| (l.path.as_str(), &l.hash)));
        now.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    let (changed, removed) = differences(&old, &now);
    let changed_files: Vec<&OutputFile> = files
        .iter()
        .filter(|f| changed.contains(f.path.as_str()))
        .collect();
    let changed_links: Vec<&Link> = links
        .files
        .iter()
        .chain(&new_links)
        .filter(|l| changed.contains(l.path.as_str()))
        .collect();
    let after_paths: hashbrown::HashSet<&str> = now.iter().map(|(path, _)| *path).collect();
    on_disk_threads(|| {
        // Files that are gone, and every changed file that existed: a file may be a link into the store
        // of reused pages, which must not be overwritten in place.
        removed
            .par_iter()
            .try_for_each(|path| match std::fs::remove_file(dir.join(path)) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            })?;
        remove_empty_dirs(
            dir,
            removed
                .iter()
                .copied()
                .filter(|p| !after_paths.contains(*p)),
        );
        create_dirs(
            dir,
            changed_files
                .iter()
                .map(|f| f.path.as_str())
                .chain(changed_links.iter().map(|l| l.path.as_str())),
        )?;
        changed_files
            .par_iter()
            .try_for_each(|file| write_file(dir, file))?;
        changed_links
            .par_iter()
            .try_for_each(|link| place_link(dir, link))
    })
}

/// What differs between the files `before` and `after` (each sorted by path): the paths of `after` that
/// are new or changed, and the paths of `before` that are gone or changed. One pass over both: a site of
/// thousands of pages has long paths with long common beginnings, which made looking each one up in
/// both maps the slowest part of writing the output.
fn differences<'a>(
    before: &[(&'a str, &Hash)],
    after: &[(&'a str, &Hash)],
) -> (hashbrown::HashSet<&'a str>, Vec<&'a str>) {
    use std::cmp::Ordering;
    let mut changed = hashbrown::HashSet::new();
    let mut removed = Vec::new();
    let (mut old, mut new) = (before.iter().peekable(), after.iter().peekable());
    loop {
        match (old.peek(), new.peek()) {
            (Some((old_path, old_hash)), Some((new_path, new_hash))) => {
                match old_path.cmp(new_path) {
                    Ordering::Less => {
                        removed.push(*old_path);
                        old.next();
                    }
                    Ordering::Greater => {
                        changed.insert(*new_path);
                        new.next();
                    }
                    Ordering::Equal => {
                        if old_hash != new_hash {
                            removed.push(*old_path);
                            changed.insert(*new_path);
                        }
                        old.next();
                        new.next();
                    }
                }
            }
            (Some((old_path, _)), None) => {
                removed.push(*old_path);
                old.next();
            }
            (None, Some((new_path, _))) => {
                changed.insert(*new_path);
                new.next();
            }
            (None, None) => return (changed, removed),
        }
    }
}

/// Removes the folders of removed files that are now empty, deepest first.
fn remove_empty_dirs<'a>(dir: &Path, removed: impl Iterator<Item = &'a str>) {
    let mut dirs: Vec<&Path> = removed
        .flat_map(|p| Path::new(p).ancestors().skip(1))
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.dedup();
    for d in dirs {
        // Fails, as it should, while the folder still holds something.
        let _ = std::fs::remove_dir(dir.join(d));
    }
}

/// A file of the output that already exists elsewhere (a page reused from an earlier build): it is
/// hard-linked, or copied where links are not possible, instead of written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Path inside the output directory, with `/`.
    pub path: String,
    /// BLAKE3 of its bytes, as the manifest records it, and the name of the existing file.
    pub hash: [u8; 32],
    /// The folder of the existing file ([`stored_file`]); shared by all links into it.
    pub dir: Arc<Path>,
}

impl Link {
    /// The existing file. Its path is made only for links that are placed: most of a rebuild's links
    /// are already in the output.
    pub fn source(&self) -> PathBuf {
        stored_file(&self.dir, &self.hash)
    }
}

/// Where a folder of files named by their hash keeps the file of `hash`: `<dir>/<2 hex digits>/<hex>`.
pub fn stored_file(dir: &Path, hash: &[u8; 32]) -> PathBuf {
    let hex = blake3::Hash::from_bytes(*hash).to_hex();
    dir.join(&hex[..2]).join(hex.as_str())
}

/// Whether the source of any of `links` has gone missing (a store cleared by hand): writing them fails.
pub fn sources_missing(links: &Linked) -> bool {
    links.all().map_or(true, |all| {
        all.par_iter().any(|link| !link.source().exists())
    })
}

/// Writes all files under `dir` (directories first, then files in parallel).
pub fn write_tree(dir: &Path, files: &[OutputFile]) -> io::Result<()> {
    create_dirs(dir, files.iter().map(|f| f.path.as_str()))?;
    on_disk_threads(|| files.par_iter().try_for_each(|file| write_file(dir, file)))
}

/// Writes one file under `dir`; first checks a file whose hash a cache recorded against it (the bytes of
/// such a file are read here for the first time: see [`OutputFile::bytes`]).
fn write_file(dir: &Path, file: &OutputFile) -> io::Result<()> {
    if let Some(hash) = file.hash
        && *blake3::hash(&file.bytes).as_bytes() != hash
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            DamagedCache {
                path: file.path.clone(),
            },
        ));
    }
    std::fs::write(dir.join(&file.path), &file.bytes)
}

/// A file taken from a cache whose bytes do not hold the hash the cache recorded: the cache is damaged
/// (by hand, or by the disk). The build that meets it makes the file again without that cache.
#[derive(Debug)]
pub struct DamagedCache {
    /// The file's path in the site.
    pub path: String,
}

impl std::fmt::Display for DamagedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: die Datei aus dem Cache ist beschädigt (sie wird ohne den Cache neu erzeugt)",
            self.path
        )
    }
}

impl std::error::Error for DamagedCache {}

/// Whether writing failed because a file from a cache was damaged ([`DamagedCache`]).
pub fn damaged_cache(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<DamagedCache>())
}

/// Links (or copies) all `links` under `dir`.
pub fn link_tree(dir: &Path, links: &[Link]) -> io::Result<()> {
    create_dirs(dir, links.iter().map(|l| l.path.as_str()))?;
    on_disk_threads(|| links.par_iter().try_for_each(|link| place_link(dir, link)))
}

fn place_link(dir: &Path, link: &Link) -> io::Result<()> {
    let target = dir.join(&link.path);
    let source = link.source();
    std::fs::hard_link(&source, &target).or_else(|_| std::fs::copy(&source, &target).map(|_| ()))
}

fn create_dirs<'a>(dir: &Path, paths: impl Iterator<Item = &'a str>) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut dirs: Vec<PathBuf> = paths
        .filter_map(|p| Path::new(p).parent().map(|p| dir.join(p)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        std::fs::create_dir_all(d)?;
    }
    Ok(())
}

/// Deleting replaced sites on a background thread.
#[must_use = "dropping a Removal lets it run unattended; call wait() to block until it is done"]
pub struct Removal(Option<std::thread::JoinHandle<()>>);

impl std::fmt::Debug for Removal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Removal(running)"
        } else {
            "Removal(none)"
        })
    }
}

impl Removal {
    fn start(dirs: Vec<PathBuf>) -> Self {
        if dirs.is_empty() {
            return Removal(None);
        }
        let handle = std::thread::Builder::new()
            .name("alte-ausgabe".into())
            .spawn(move || {
                for dir in dirs {
                    let _ = std::fs::remove_dir_all(dir);
                }
            })
            .ok();
        Removal(handle)
    }

    /// Blocks until the previous sites are deleted.
    pub fn wait(self) {
        if let Some(handle) = self.0 {
            let _ = handle.join();
        }
    }
}

/// Replaced sites of earlier runs that were not deleted completely, and staging folders of runs that
/// were killed (their process no longer exists).
fn old_sites(parent: &Path, name: &str) -> Vec<PathBuf> {
    let old = format!(".{name}.old-");
    let staging = format!(".{name}.staging-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.starts_with(&old)
                || file
                    .strip_prefix(&staging)
                    .and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !process_exists(pid))
        })
        .map(|e| e.path())
        .collect()
}

#[cfg(target_os = "linux")]
fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_exists(_: u32) -> bool {
    true
}

/// Puts the staged site in place; returns where the previous site now is, if there was one.
fn swap_in(staging: &Path, output: &Path, places: &Places) -> io::Result<Option<PathBuf>> {
    let is_dir = std::fs::symlink_metadata(output)
        .map(|m| m.is_dir())
        .unwrap_or(false);
    if !is_dir {
        if output.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", output.display()),
            ));
        }
        return std::fs::rename(staging, output).map(|()| None);
    }
    if exchange(staging, output).is_ok() {
        // `staging` now holds the previous site.
        return Ok(Some(staging.to_path_buf()));
    }
    let old = places.trash();
    std::fs::rename(output, &old)?;
    if let Err(err) = std::fs::rename(staging, output) {
        std::fs::rename(&old, output)?;
        return Err(err);
    }
    Ok(Some(old))
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange",
    ))
}

/// A manifest of `(path, byte)`: the byte stands for the file's hash (for tests).
#[cfg(test)]
pub(crate) fn manifest_of(entries: &[(&str, u8)]) -> Manifest {
    Manifest {
        files: entries
            .iter()
            .map(|(path, byte)| (path.to_string(), [*byte; 32]))
            .collect(),
        groups: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link to `text`, stored under `dir` as a store keeps it, and the stored file.
    fn stored(dir: &Path, path: &str, text: &str) -> (Link, PathBuf) {
        let link = Link {
            path: path.into(),
            hash: *blake3::hash(text.as_bytes()).as_bytes(),
            dir: Arc::from(dir.join("gespeichert")),
        };
        let source = link.source();
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::write(&source, text).unwrap();
        (link, source)
    }

    /// `link` alone.
    fn single(link: &Link) -> Linked {
        Linked {
            files: vec![link.clone()],
            groups: Vec::new(),
        }
    }

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile::new(path, text.as_bytes().to_vec())
    }

    #[test]
    fn files_are_written_on_threads_of_their_own_not_on_the_cores_pool() {
        let (threads, name) = on_disk_threads(|| {
            (
                rayon::current_num_threads(),
                std::thread::current().name().map(str::to_string),
            )
        });
        assert_eq!(threads, DISK_THREADS);
        assert!(name.is_some_and(|n| n.starts_with("schreiben-")));
        // Called from a thread of rayon's own pool, too.
        let inside = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| on_disk_threads(rayon::current_num_threads));
        assert_eq!(inside, DISK_THREADS);
    }

    /// A group of `files` (path, text), stored under `dir` as the page store keeps them.
    fn group(dir: &Path, files: &[(&str, &str)]) -> Group {
        let stored: Vec<StoredFile> = files
            .iter()
            .map(|(path, text)| {
                let (link, _) = stored(dir, path, text);
                StoredFile {
                    path: link.path,
                    hash: link.hash,
                    key: None,
                    search: None,
                }
            })
            .collect();
        Group {
            bundle: Bundle::new(&stored),
            dir: Arc::from(dir.join("gespeichert")),
        }
    }

    #[test]
    fn a_group_the_folder_holds_stays_in_place_one_it_lacks_is_linked_one_gone_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("site");
        let a = group(tmp.path(), &[("a/1.html", "eins"), ("a/2.html", "zwei")]);
        let b = group(tmp.path(), &[("b/1.html", "drei")]);
        let c = group(tmp.path(), &[("c/1.html", "vier")]);
        let index = [file("index.html", "start")];
        let linked = |groups: &[&Group]| Linked {
            files: Vec::new(),
            groups: groups.iter().map(|g| (*g).clone()).collect(),
        };

        let mut first = Staging::new(site.clone(), None);
        first.write(&index, &linked(&[&a, &b]), Part::All).unwrap();
        let first = first.into_manifest();
        assert_eq!(first.len(), 4);
        assert_eq!(
            first.get("a/2.html"),
            Some(*blake3::hash(b"zwei").as_bytes())
        );
        assert_eq!(std::fs::read(site.join("a/1.html")).unwrap(), b"eins");

        // A's files are not linked again (their sources are gone: linking them would fail), B's are
        // removed, C's linked.
        for link in a.links().unwrap() {
            std::fs::remove_file(link.source()).unwrap();
        }
        let mut second = Staging::new(site.clone(), Some(first.clone()));
        second.write(&index, &linked(&[&a, &c]), Part::All).unwrap();
        let second = second.into_manifest();
        assert_eq!(std::fs::read(site.join("a/2.html")).unwrap(), b"zwei");
        assert!(!site.join("b").exists(), "b's files and folder are gone");
        assert_eq!(std::fs::read(site.join("c/1.html")).unwrap(), b"vier");
        assert_eq!(changed_paths(&first, &second), ["b/1.html", "c/1.html"]);

        // The manifest's file keeps its groups; read back, they are the same.
        let path = tmp.path().join("manifest");
        write_manifest(&path, &second).unwrap();
        assert_eq!(read_manifest(&path), Some(second.clone()));
        let bytes = bytes::Bytes::from(std::fs::read(&path).unwrap());
        assert_eq!(manifest_from_bytes(bytes), Some(second));
    }

    #[test]
    fn a_write_inside_a_folder_leaves_the_groups_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("site");
        let a = group(tmp.path(), &[("a/1.html", "eins")]);
        let pages = Linked {
            files: Vec::new(),
            groups: vec![a],
        };
        let mut first = Staging::new(site.clone(), None);
        first.write(&[], &pages, Part::Outside("suche/")).unwrap();
        first
            .write(
                &[file("suche/i.json", "1")],
                &Linked::default(),
                Part::Inside("suche/"),
            )
            .unwrap();
        let first = first.into_manifest();
        let mut second = Staging::new(site.clone(), Some(first));
        second
            .write(
                &[file("suche/i.json", "2")],
                &Linked::default(),
                Part::Inside("suche/"),
            )
            .unwrap();
        assert_eq!(std::fs::read(site.join("a/1.html")).unwrap(), b"eins");
        assert_eq!(std::fs::read(site.join("suche/i.json")).unwrap(), b"2");
    }

    #[test]
    fn differences_are_found_in_one_pass_over_both_manifests() {
        let before = manifest_of(&[("a", 1), ("b/x", 2), ("c", 3), ("e", 5), ("f", 6)]);
        let after = manifest_of(&[("a", 1), ("b/x", 9), ("d", 4), ("e", 5), ("g", 6)]);
        fn diff<'a>(
            before: &'a Manifest,
            part: Part,
            after: &'a Manifest,
        ) -> (hashbrown::HashSet<&'a str>, Vec<&'a str>) {
            differences(
                &entries(&before.files, part, &[]),
                &entries(&after.files, Part::All, &[]),
            )
        }
        fn sorted<'a>(
            (changed, mut removed): (hashbrown::HashSet<&'a str>, Vec<&'a str>),
        ) -> (Vec<&'a str>, Vec<&'a str>) {
            let mut changed: Vec<&str> = changed.into_iter().collect();
            changed.sort_unstable();
            removed.sort_unstable();
            (changed, removed)
        }
        assert_eq!(
            sorted(diff(&before, Part::All, &after)),
            (vec!["b/x", "d", "g"], vec!["b/x", "c", "f"])
        );
        assert_eq!(
            sorted(diff(&before, Part::Outside("b/"), &after)),
            (vec!["b/x", "d", "g"], vec!["c", "f"]),
            "files of `before` outside the part are not looked at"
        );
        assert_eq!(
            sorted(diff(&before, Part::All, &Manifest::default())),
            (vec![], vec!["a", "b/x", "c", "e", "f"])
        );
        assert_eq!(
            sorted(diff(&Manifest::default(), Part::All, &after)),
            (vec!["a", "b/x", "d", "e", "g"], vec![])
        );
        assert_eq!(sorted(diff(&after, Part::All, &after)), (vec![], vec![]));
        assert_eq!(changed_paths(&before, &after), ["b/x", "c", "d", "f", "g"]);
        assert!(changed_paths(&after, &after).is_empty());
    }

    #[test]
    fn replaces_the_whole_output_and_leaves_no_staging_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        write_atomically(
            &out,
            &[file("index.html", "eins"), file("a/b/c.html", "x")],
            &Linked::default(),
        )
        .unwrap()
        .cleanup
        .wait();
        write_atomically(&out, &[file("index.html", "zwei")], &Linked::default())
            .unwrap()
            .cleanup
            .wait();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "zwei"
        );
        assert!(
            !out.join("a").exists(),
            "files of the previous build are gone"
        );
        let mut left: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".public.manifest",
                ".public.spare",
                ".public.spare.manifest",
                "public"
            ],
            "no staging folder remains, the previous site is the spare"
        );
    }

    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).unwrap().ino()
    }

    fn build(out: &Path, files: &[OutputFile]) {
        write_atomically(out, files, &Linked::default())
            .unwrap()
            .cleanup
            .wait();
    }

    #[test]
    fn the_spare_is_updated_with_what_changed_only() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let same = file("bleibt/index.html", "gleich");
        build(&out, &[same.clone(), file("alt/x/index.html", "weg")]);
        let first = inode(&out.join("bleibt/index.html"));
        build(&out, &[same.clone(), file("neu.html", "2")]);
        // The third build starts from the first build's site, kept as the spare.
        build(&out, &[same.clone(), file("neu.html", "3")]);
        assert_eq!(
            inode(&out.join("bleibt/index.html")),
            first,
            "an unchanged file is not written again"
        );
        assert_eq!(std::fs::read_to_string(out.join("neu.html")).unwrap(), "3");
        assert!(
            !out.join("alt").exists(),
            "a removed page and its empty folders are gone"
        );
    }

    #[test]
    fn a_site_written_in_parts_equals_one_written_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        build(
            &out,
            &[
                file("a.html", "1"),
                file("weg.html", "x"),
                file("suche/alt.idx", "alt"),
                file("suche/bleibt.idx", "b"),
            ],
        );
        build(&out, &[file("a.html", "1")]);
        // The third build starts from the first one's site and writes it in two parts: each part
        // removes only its own files that are gone.
        let pages = [file("a.html", "2"), file("neu.html", "n")];
        let index = [file("suche/bleibt.idx", "b"), file("suche/neu.idx", "n")];
        let written = write_atomically_with(&out, |staging| {
            assert!(staging.recycled());
            staging.write(&pages, &Linked::default(), Part::Outside("suche/"))?;
            staging.write(&index, &Linked::default(), Part::Inside("suche/"))
        })
        .unwrap();
        written.cleanup.wait();
        let whole: Vec<OutputFile> = pages.iter().chain(&index).cloned().collect();
        assert_eq!(written.manifest, manifest(&whole, &[]));
        let mut found: Vec<String> = walkdir::WalkDir::new(&out)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(&out).unwrap().to_string_lossy();
                format!("{rel}={}", std::fs::read_to_string(e.path()).unwrap())
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "a.html=2",
                "neu.html=n",
                "suche/bleibt.idx=b",
                "suche/neu.idx=n"
            ]
        );
    }

    #[test]
    fn a_failed_part_leaves_the_output_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        build(&out, &[file("a.html", "1")]);
        let failed: io::Result<Written> = write_atomically_with(&out, |staging| {
            staging.write(
                &[file("a.html", "2")],
                &Linked::default(),
                Part::Outside("suche/"),
            )?;
            Err(io::Error::other("die Suche schlug fehl"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(out.join("a.html")).unwrap(), "1");
    }

    #[test]
    fn a_spare_without_manifest_is_not_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        build(&out, &[file("a.html", "1")]);
        build(&out, &[file("a.html", "2")]);
        // An interrupted build: the spare was changed, its manifest is gone.
        std::fs::write(tmp.path().join(".public.spare/a.html"), "kaputt").unwrap();
        std::fs::remove_file(tmp.path().join(".public.spare.manifest")).unwrap();
        build(&out, &[file("a.html", "1"), file("b.html", "b")]);
        assert_eq!(std::fs::read_to_string(out.join("a.html")).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "b");
        let old: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".old-")
            })
            .collect();
        assert!(old.is_empty(), "the untrusted spare was deleted");
    }

    #[test]
    fn changing_a_linked_file_does_not_touch_its_source() {
        let tmp = tempfile::tempdir().unwrap();
        let (link, source) = stored(tmp.path(), "s.html", "alt");
        let out = tmp.path().join("public");
        write_atomically(&out, &[], &single(&link))
            .unwrap()
            .cleanup
            .wait();
        write_atomically(&out, &[], &single(&link))
            .unwrap()
            .cleanup
            .wait();
        // The spare now holds the link; the third build writes the page instead.
        build(&out, &[file("s.html", "neu")]);
        assert_eq!(std::fs::read_to_string(out.join("s.html")).unwrap(), "neu");
        assert_eq!(std::fs::read_to_string(&source).unwrap(), "alt");
    }

    #[test]
    fn links_bring_existing_files_into_the_output() {
        let tmp = tempfile::tempdir().unwrap();
        let (link, _) = stored(tmp.path(), "x/stand/1/index.html", "alt");
        let out = tmp.path().join("public");
        write_atomically(&out, &[file("index.html", "neu")], &single(&link))
            .unwrap()
            .cleanup
            .wait();
        assert_eq!(
            std::fs::read_to_string(out.join("x/stand/1/index.html")).unwrap(),
            "alt"
        );
    }
}
