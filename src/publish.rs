//! `regelwerk publish`: build the site into a new release folder and switch the web server's document root
//! to it in one step.
//!
//! The target folder `DIR` holds
//!
//! ```text
//! DIR/current                 symbolic link → releases/<id>: the web server's document root
//! DIR/releases/<id>/          one complete build each; <id> is the commit (12 hex digits) or, for a site
//!                             outside git or with uncommitted changes, a hash of the built files
//! DIR/releases/<id>.json      what was published: commit, commit time, time of publishing (not served)
//! DIR/releases/.<id>.manifest       the hashes of the release's files (see `output`), not served
//! DIR/.publish.lock           advisory lock: two publishes never interleave
//! ```
//!
//! The order of steps makes every moment safe to die at (a `kill -9`, a power cut after the page cache is
//! written): the release is written completely under a staging name and renamed into place, its record is
//! written before that, and only then a new link `current.tmp-<pid>` is created and renamed over `current`
//! (`rename` replaces a link atomically). A reader of `current` sees the old site or the new one, whole. Left-over
//! staging folders are removed by the next publish, which holds the lock. What only later publishes use (the
//! release's manifest, the page store's index, the content cache) is written after the switch, so that the
//! reader does not wait for it; losing it costs the next publish time, not the site. So are the search
//! stage's cache files ([`crate::cache::Writes`]).
//!
//! A release that is about to be pruned is recycled: its folder becomes the next release's staging folder
//! and only the files that differ are written or removed (as `build` does with its spare). Writing and
//! deleting a whole site costs seconds on some disks; a one-page commit then changes a few files. A
//! release without its manifest (published by an older version, or interrupted) is never recycled.
//!
//! The later commit wins: after taking the lock, a publish whose commit is older than the one `current`
//! already shows (an ancestor of it, or else an earlier commit time) changes nothing.
//!
//! For tests, the environment variable [`CRASH_ENV`] names a step at which the process aborts, as a
//! `kill -9` would stop it there: `locked`, `writing` (half the files written), `written`, `recorded`,
//! `released`, `linked`, `switched`, `caching` (the manifest written, the caches not), `pruning`.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostics;
use crate::output::Part;
use crate::render::OutputFile;
use crate::{BuildError, BuildOptions};

/// Test hook: the name of a step at which `publish` aborts (see the module documentation).
pub const CRASH_ENV: &str = "REGELWERK_TEST_CRASH_AT";

/// The link the web server serves from.
pub const CURRENT: &str = "current";
/// The folder with the releases.
pub const RELEASES: &str = "releases";
/// The lock file.
pub const LOCK: &str = ".publish.lock";

/// How many releases are kept when nothing else is said.
pub const DEFAULT_KEEP: usize = 5;

/// What to publish where.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The site root: the folder with `regelwerk.toml`.
    pub root: PathBuf,
    /// The target folder; the web server's document root is `<to>/current`.
    pub to: PathBuf,
    /// How many releases to keep (at least 1; the current one is never removed).
    pub keep: usize,
    /// The date reviews are measured against: see [`crate::today`].
    pub today: NaiveDate,
}

impl PublishOptions {
    /// Defaults: keep [`DEFAULT_KEEP`] releases, today's date.
    pub fn new(root: impl Into<PathBuf>, to: impl Into<PathBuf>) -> Self {
        PublishOptions {
            root: root.into(),
            to: to.into(),
            keep: DEFAULT_KEEP,
            today: crate::today(),
        }
    }
}

/// The record of one release, `releases/<id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The folder name under `releases/`.
    pub id: String,
    /// The commit the site was built from (full id), if the site is in a git repository.
    pub commit: Option<String>,
    /// The commit's committer time, seconds since 1970.
    pub commit_time: Option<i64>,
    /// Whether the site's files had uncommitted changes (then the id is a hash of the built files).
    pub uncommitted: bool,
    /// When the release was published, milliseconds since 1970 (orders the releases for pruning).
    pub published_at: u64,
    /// How many files the release has.
    pub files: usize,
}

/// What a publish did.
#[derive(Debug)]
pub enum Published {
    /// `current` now shows the new release.
    Switched {
        release: Release,
        /// Warnings of the build.
        diagnostics: Diagnostics,
        /// The release whose folder became this one (only what differs was written).
        recycled: Option<String>,
        /// Ids of the releases removed because more than `keep` exist.
        removed: Vec<String>,
        /// Problems removing old releases: the new site is published all the same.
        cleanup_problems: Vec<String>,
        timings: Vec<(&'static str, Duration)>,
        /// From the start of the publish (waiting for the lock included) to `current` showing the new
        /// release: what a reader waits for. The caches for later builds are saved after that.
        served_after: Duration,
    },
    /// Nothing changed; the reason, in German.
    Skipped {
        reason: String,
        diagnostics: Diagnostics,
    },
}

/// Why nothing was published. In every case `current` is as it was.
#[derive(Debug)]
pub enum PublishError {
    /// The content has errors.
    Invalid(Diagnostics),
    /// A file or folder could not be read or written.
    Io { path: PathBuf, error: io::Error },
    /// Another problem, described in German.
    Other(String),
}

impl From<BuildError> for PublishError {
    fn from(err: BuildError) -> Self {
        match err {
            BuildError::Invalid(diagnostics) => PublishError::Invalid(diagnostics),
            BuildError::Output { path, error } => PublishError::Io { path, error },
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> PublishError + '_ {
    move |error| PublishError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Stops the process at `stage` when the test hook [`CRASH_ENV`] names it, as `kill -9` would: no
/// destructor, no clean-up runs.
fn crash_point(stage: &str) {
    if std::env::var_os(CRASH_ENV).is_some_and(|value| value == stage) {
        #[cfg(unix)]
        {
            use rustix::process::{Signal, getpid, kill_process};
            let _ = kill_process(getpid(), Signal::KILL);
        }
        std::process::abort();
    }
}

/// Builds the site and makes it the one `<to>/current` shows, unless a newer commit is already published.
pub fn publish(options: &PublishOptions) -> Result<Published, PublishError> {
    let started = Instant::now();
    let to = &options.to;
    let releases = to.join(RELEASES);
    std::fs::create_dir_all(&releases).map_err(io_at(&releases))?;
    let current = to.join(CURRENT);
    if std::fs::symlink_metadata(&current).is_ok_and(|m| !m.file_type().is_symlink()) {
        return Err(PublishError::Other(format!(
            "{} ist kein symbolischer Link. publish legt current als Link auf den jeweiligen Stand in releases/ an: \
             benennen Sie den vorhandenen Ordner um oder wählen Sie mit --to ein anderes Ziel.",
            current.display()
        )));
    }

    let lock_path = to.join(LOCK);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_at(&lock_path))?;
    lock.lock().map_err(io_at(&lock_path))?;
    crash_point("locked");
    remove_leftovers(to, &releases);

    // A publish that waited for the lock may find a newer commit shown already: no need to build.
    if let (Some(shown), Some(head)) = (current_release(to), head(&options.root))
        && is_newer(&options.root, &shown, &head)
    {
        return Ok(Published::Skipped {
            reason: newer_shown(&shown, &head),
            diagnostics: Diagnostics::default(),
        });
    }

    let build = BuildOptions {
        cache: options.root.join(crate::CACHE_DIR),
        root: options.root.clone(),
        output: to.clone(),
        base_url: None,
        today: options.today,
        search: true,
        defer_cache_writes: true,
        process_ends: false,
    };
    // The release the new one will be built from is known before the build; its manifest is read from
    // the disk while the site is rendered.
    let recycling = Recycling::ahead(&releases, options.keep.max(1), to);
    // Build until HEAD stands still during a build, so the release is the commit it is named after. Whether
    // the site's files have uncommitted changes is asked while the site is rendered.
    let mut attempt = 0;
    let (mut paged, head, uncommitted) = loop {
        let before = head(&options.root);
        let status = std::thread::spawn({
            let root = options.root.clone();
            move || has_uncommitted_changes(&root)
        });
        let paged = crate::render_pages(&build, None)?;
        let after = head(&options.root);
        let uncommitted = status.join().unwrap_or(true);
        if before == after {
            let uncommitted = after.is_none() || uncommitted;
            break (paged, after, uncommitted);
        }
        attempt += 1;
        if attempt == 3 {
            return Err(PublishError::Other(
                "HEAD hat sich während jedes von drei Builds geändert; der nächste Commit veröffentlicht erneut."
                    .into(),
            ));
        }
    };
    let mut timings = std::mem::take(&mut paged.timings);

    let shown = current_release(to);
    if let (Some(shown), Some(head)) = (&shown, &head)
        && is_newer(&options.root, shown, head)
    {
        return Ok(Published::Skipped {
            reason: newer_shown(shown, head),
            diagnostics: paged.diagnostics,
        });
    }
    let already = |id: &str| {
        shown
            .as_ref()
            .is_some_and(|shown| shown.id == id)
            .then(|| format!("Der Stand {id} ist bereits veröffentlicht."))
    };
    let committed = match (&head, uncommitted) {
        (Some(head), false) => Some(head.commit[..12.min(head.commit.len())].to_string()),
        _ => None,
    };
    if let Some(reason) = committed.as_deref().and_then(already) {
        return Ok(Published::Skipped {
            reason,
            diagnostics: paged.diagnostics,
        });
    }

    let clock = Instant::now();
    let (staging, rendered, id) =
        match stage(paged, committed.as_deref(), &recycling, &already, &build) {
            Staged::Written(staging, rendered, id) => (staging, rendered, id),
            Staged::Shown(reason, diagnostics) => {
                return Ok(Published::Skipped {
                    reason,
                    diagnostics,
                });
            }
            Staged::Failed(staging, site, error) => {
                staging.discard();
                let io_error = match &error {
                    PublishError::Io { error, .. } => Some(error),
                    _ => None,
                };
                if !site.forget_failed_cache(io_error, &build.cache) {
                    return Err(error);
                }
                // Without the cache at fault (a damaged search file, pages gone from the store), the site
                // is made again and written in one part.
                drop(site);
                let rendered = crate::render_with(&build, None)?;
                let id = committed
                    .clone()
                    .unwrap_or_else(|| content_hash(&rendered.site.files, &rendered.site.links));
                let mut staging = recycling.staging(&id);
                if let Err(error) =
                    staging.write(&rendered.site.files, &rendered.site.links, Part::All)
                {
                    staging.discard();
                    return Err(error);
                }
                (staging, rendered, id)
            }
        };
    let mut site = rendered.site;
    timings.extend(std::mem::take(&mut site.timings));
    let release = Release {
        id: id.clone(),
        commit: head.as_ref().map(|h| h.commit.clone()),
        commit_time: head.as_ref().map(|h| h.time),
        uncommitted,
        published_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        files: site.files.len() + site.links.len(),
    };
    let (recycled, manifest) = staging.release(&releases, &release)?;
    timings.push(("release", clock.elapsed()));

    let clock = Instant::now();
    switch_current(to, &id)?;
    timings.push(("switch", clock.elapsed()));
    let served_after = started.elapsed();

    // The new site is served; what only helps later publishes is written now, still under the lock. An
    // interruption from here on costs the next publish time, never the site: a release without its
    // manifest is not recycled, and the search files, the store and the content cache are built so that
    // a half-written save is noticed (see `search`, `reuse` and `content::Bodies`).
    let clock = Instant::now();
    let _ = crate::output::write_manifest(&manifest_path(&releases, &release.id), &manifest);
    crash_point("caching");
    let saved = site.save_caches(&releases.join(&release.id), &build.cache, true);
    crate::drop_later((saved.warm, manifest));
    timings.push(("caches", clock.elapsed()));

    let (removed, cleanup_problems) = prune(&releases, options.keep.max(1), &id);
    drop(lock);
    Ok(Published::Switched {
        release,
        recycled,
        diagnostics: saved.diagnostics,
        removed,
        cleanup_problems,
        timings,
        served_after,
    })
}

/// What [`stage`] did.
enum Staged {
    /// The release is written into its staging folder: the folder, the site, the release's id.
    Written(Staging, crate::Rendered, String),
    /// A release of the same files is shown already: why nothing is published (in German).
    Shown(String, Diagnostics),
    /// Writing failed: the folder (to discard), the site, the error.
    Failed(Staging, crate::Paged, PublishError),
}

/// Writes the release of `paged` into a staging folder (made from the release `recycling` names for its
/// id, if any): while the search index is made when the release is named by its commit (`committed`);
/// else after it, once the files' hash names the release (and `already` did not find it shown).
fn stage(
    mut paged: crate::Paged,
    committed: Option<&str>,
    recycling: &Recycling,
    already: &dyn Fn(&str) -> Option<String>,
    build: &BuildOptions,
) -> Staged {
    match committed {
        Some(id) => {
            let open = || recycling.staging(id);
            match write_while_indexing(open, &paged, build) {
                (staging, Ok(beside)) => {
                    Staged::Written(staging, paged.with_beside(beside), id.to_string())
                }
                (staging, Err(error)) => Staged::Failed(staging, paged, error),
            }
        }
        None => match complete_and_index(&mut paged, build) {
            Ok(indexed) => {
                let rendered = paged.with_index(indexed);
                let id = content_hash(&rendered.site.files, &rendered.site.links);
                if let Some(reason) = already(&id) {
                    return Staged::Shown(reason, rendered.site.diagnostics);
                }
                let mut staging = recycling.staging(&id);
                match staging.write(&rendered.site.files, &rendered.site.links, Part::All) {
                    Ok(()) => Staged::Written(staging, rendered, id),
                    Err(error) => Staged::Failed(staging, rendered.site, error),
                }
            }
            Err(error) => Staged::Failed(Staging::none(recycling.releases), paged, error),
        },
    }
}

/// The pages of the site's history (see [`crate::Paged::complete`]) and the search stage of `paged`,
/// their error as a publish's.
fn complete_and_index(
    paged: &mut crate::Paged,
    build: &BuildOptions,
) -> Result<crate::Indexed, PublishError> {
    paged.complete()?;
    paged.index(build).map_err(PublishError::from)
}

/// Opens the staging folder (`open`: reading a recycled release's manifest is part of it) and writes the
/// pages of `paged` into it while its search index is made on another thread, then the index's files;
/// returns the folder, the index and the pages of the history rendered beside the search.
fn write_while_indexing(
    open: impl FnOnce() -> Staging,
    paged: &crate::Paged,
    build: &BuildOptions,
) -> (Staging, Result<crate::Beside, PublishError>) {
    std::thread::scope(|scope| {
        let search = scope.spawn(|| paged.index(build));
        let mut staging = open();
        let written = paged
            .write_beside_search(&mut staging.site, search)
            .map_err(|failure| match failure {
                crate::WriteFailure::Io(error) => io_at(staging.site.path())(error),
                crate::WriteFailure::Build(error) => error.into(),
            });
        (staging, written)
    })
}

/// Which release a new one is built from ([`recyclable`]), with that release's manifest read ahead.
struct Recycling<'a> {
    releases: &'a Path,
    keep: usize,
    /// The release `current` shows, which is never recycled.
    current: Option<String>,
    /// The release the new one will most likely be built from — the one to recycle for a release that
    /// is not in `releases` yet — and its manifest's bytes, read on another thread. Taken by the first
    /// staging.
    ahead: std::sync::Mutex<Option<ReadAhead>>,
}

/// The thread reading a release's manifest ahead: the release and the manifest's bytes.
type ReadAhead = std::thread::JoinHandle<Option<(String, Vec<u8>)>>;

impl<'a> Recycling<'a> {
    /// Starts reading the manifest of the release a new release in `to` would recycle: 5 MB at 10,000
    /// pages, whose reading from a disk that had evicted it took up to 0.1 s of the publish when it was
    /// read only once the site was rendered.
    fn ahead(releases: &'a Path, keep: usize, to: &Path) -> Self {
        let current = current_id(to);
        let ahead = std::thread::Builder::new()
            .name("manifest".into())
            .spawn({
                let (releases, current) = (releases.to_path_buf(), current.clone());
                move || {
                    let old = recyclable(&releases, keep, "", current.as_deref())?;
                    let bytes = std::fs::read(manifest_path(&releases, &old)).ok()?;
                    Some((old, bytes))
                }
            })
            .ok();
        Recycling {
            releases,
            keep,
            current,
            ahead: std::sync::Mutex::new(ahead),
        }
    }

    /// The staging folder for the release `id`: the release to recycle for it, if any, taking the
    /// manifest read ahead when it is that release's.
    fn staging(&self, id: &str) -> Staging {
        let old = recyclable(self.releases, self.keep, id, self.current.as_deref());
        let ahead = self
            .ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .and_then(|thread| thread.join().ok())
            .flatten()
            .filter(|(read, _)| old.as_deref() == Some(read.as_str()))
            .map(|(_, bytes)| bytes);
        Staging::open(self.releases, old.as_deref(), ahead)
    }
}

/// A release being written under a staging name ([`crate::output::Staging`]): a new folder, or the folder
/// of a recycled release with the manifest of what it held.
struct Staging {
    site: crate::output::Staging,
    /// The recycled release.
    recycled: Option<String>,
}

impl Staging {
    /// The staging folder in `releases`, made from the release `recycle` if it can be (`read`: its
    /// manifest's bytes, if they were read already). The release to recycle leaves the releases first
    /// (its record is then an orphan, removed by `prune`); its manifest goes first of all, so that a
    /// half-updated folder is never trusted.
    fn open(releases: &Path, recycle: Option<&str>, read: Option<Vec<u8>>) -> Self {
        let path = staging_path(releases);
        let recycled = recycle.and_then(|old| {
            let manifest = match read {
                Some(bytes) => crate::output::manifest_from_bytes(bytes.into()),
                None => crate::output::read_manifest(&manifest_path(releases, old)),
            }?;
            std::fs::remove_file(manifest_path(releases, old)).ok()?;
            std::fs::rename(releases.join(old), &path).ok()?;
            Some((old.to_string(), manifest))
        });
        let (recycled, held) = recycled.unzip();
        Staging {
            site: crate::output::Staging::new(path, held).with_halfway(|| crash_point("writing")),
            recycled,
        }
    }

    /// A staging folder that nothing was written to yet.
    fn none(releases: &Path) -> Self {
        Staging {
            site: crate::output::Staging::new(staging_path(releases), None),
            recycled: None,
        }
    }

    /// Writes `files` and `links`, the release's files of `part` (see [`crate::output::Staging::write`]).
    fn write(
        &mut self,
        files: &[OutputFile],
        links: &crate::output::Linked,
        part: Part,
    ) -> Result<(), PublishError> {
        self.site
            .write(files, links, part)
            .map_err(io_at(self.site.path()))
    }

    /// Gives the staging folder up: it is removed.
    fn discard(self) {
        let _ = std::fs::remove_dir_all(self.site.path());
    }

    /// Writes the release's record, then renames the folder into place. Returns the release it
    /// recycled, and the manifest of the new one (written once it is served).
    fn release(
        self,
        releases: &Path,
        release: &Release,
    ) -> Result<(Option<String>, crate::output::Manifest), PublishError> {
        crash_point("written");
        // A release of the same id that is not shown (an earlier, pruned or interrupted one) is replaced.
        let target = releases.join(&release.id);
        if std::fs::symlink_metadata(&target).is_ok()
            && let Err(error) = std::fs::remove_dir_all(&target)
        {
            self.discard();
            return Err(io_at(&target)(error));
        }
        let pid = std::process::id();
        let record = releases.join(format!("{}.json", release.id));
        let record_tmp = releases.join(format!(".{}.json.tmp-{pid}", release.id));
        let json = serde_json::to_string_pretty(release).expect("a release serializes");
        if let Err(error) = std::fs::write(&record_tmp, json + "\n")
            .and_then(|()| std::fs::rename(&record_tmp, &record))
        {
            self.discard();
            return Err(io_at(&record)(error));
        }
        crash_point("recorded");
        if let Err(error) = std::fs::rename(self.site.path(), &target) {
            self.discard();
            return Err(PublishError::Io {
                path: target,
                error,
            });
        }
        crash_point("released");
        Ok((self.recycled, self.site.into_manifest()))
    }
}

/// The staging folder of this process's release.
fn staging_path(releases: &Path) -> PathBuf {
    releases.join(format!(".staging-{}", std::process::id()))
}

/// Where a release's manifest is kept.
fn manifest_path(releases: &Path, id: &str) -> PathBuf {
    releases.join(format!(".{id}.manifest"))
}

/// The release the next one may be built from: the oldest of those `prune` will remove after publishing
/// `new` (with `keep` releases kept), if it has a manifest. Never the one `current` shows.
fn recyclable(releases: &Path, keep: usize, new: &str, current: Option<&str>) -> Option<String> {
    let mut found: Vec<Release> = std::fs::read_dir(releases)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name
                .strip_suffix(".json")
                .filter(|id| !id.starts_with('.'))?;
            read_record(releases, id)
        })
        .filter(|r| r.id != new && releases.join(&r.id).is_dir())
        .collect();
    found.sort_by(|a, b| (b.published_at, &b.id).cmp(&(a.published_at, &a.id)));
    found
        .into_iter()
        .skip(keep.saturating_sub(1))
        .filter(|r| Some(r.id.as_str()) != current)
        .rfind(|r| manifest_path(releases, &r.id).is_file())
        .map(|r| r.id)
}

/// Points `<to>/current` at `releases/<id>`: a new link beside it, renamed over the old one.
fn switch_current(to: &Path, id: &str) -> Result<(), PublishError> {
    let link = to.join(CURRENT);
    let tmp = to.join(format!("{CURRENT}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    symlink(&Path::new(RELEASES).join(id), &tmp).map_err(io_at(&tmp))?;
    crash_point("linked");
    if let Err(error) = std::fs::rename(&tmp, &link) {
        let _ = std::fs::remove_file(&tmp);
        return Err(PublishError::Io { path: link, error });
    }
    // Make the switch durable; the rename itself is already visible to every reader.
    if let Ok(dir) = File::open(to) {
        let _ = dir.sync_all();
    }
    crash_point("switched");
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "publish braucht symbolische Links (Linux, macOS, BSD)",
    ))
}

/// Removes what an interrupted publish left behind: staging folders and temporary links. Only called with
/// the lock held, so no other publish is using them.
fn remove_leftovers(to: &Path, releases: &Path) {
    let tmp_prefix = format!("{CURRENT}.tmp-");
    if let Ok(entries) = std::fs::read_dir(to) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&tmp_prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(releases) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(".staging-") {
                let _ = std::fs::remove_dir_all(entry.path());
            } else if name.starts_with('.')
                && (name.contains(".json.tmp-") || name.contains(".manifest.tmp"))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The id of the release `<to>/current` points at, if it is one.
pub fn current_id(to: &Path) -> Option<String> {
    let target = std::fs::read_link(to.join(CURRENT)).ok()?;
    let id = target.file_name()?.to_string_lossy().to_string();
    Some(id)
}

/// The record of the release `<to>/current` shows, if there is one.
pub fn current_release(to: &Path) -> Option<Release> {
    let id = current_id(to)?;
    read_record(&to.join(RELEASES), &id)
}

fn read_record(releases: &Path, id: &str) -> Option<Release> {
    let text = std::fs::read_to_string(releases.join(format!("{id}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Keeps the `keep` most recently published releases and the current one; removes the rest, and records
/// or folders without their counterpart (left by an interrupted publish).
fn prune(releases: &Path, keep: usize, current: &str) -> (Vec<String>, Vec<String>) {
    let mut found: Vec<Release> = Vec::new();
    let mut orphans: Vec<PathBuf> = Vec::new();
    let Ok(entries) = std::fs::read_dir(releases) else {
        return (Vec::new(), Vec::new());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(id) = name.strip_prefix('.').and_then(|n| {
            // `.manifest.json`: the manifests of earlier versions, removed with their release.
            n.strip_suffix(".manifest")
                .or_else(|| n.strip_suffix(".manifest.json"))
        }) {
            if !releases.join(id).is_dir() {
                orphans.push(entry.path());
            }
            continue;
        }
        if name.starts_with('.') {
            continue;
        }
        if let Some(id) = name.strip_suffix(".json") {
            if !releases.join(id).is_dir() && id != current {
                orphans.push(entry.path());
            }
        } else if entry.path().is_dir() {
            match read_record(releases, &name) {
                Some(release) => found.push(release),
                None if name != current => orphans.push(entry.path()),
                None => {}
            }
        }
    }
    found.sort_by(|a, b| (b.published_at, &b.id).cmp(&(a.published_at, &a.id)));
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    let mut remove = |path: &Path| {
        let result = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        match result {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                problems.push(format!("{} ({err})", path.display()));
            }
            _ => {}
        }
    };
    for release in found.iter().skip(keep).filter(|r| r.id != current) {
        crash_point("pruning");
        // The folder first: a record without its folder is an orphan, never a half-removed release.
        remove(&releases.join(&release.id));
        remove(&releases.join(format!("{}.json", release.id)));
        remove(&manifest_path(releases, &release.id));
        removed.push(release.id.clone());
    }
    for orphan in orphans {
        remove(&orphan);
    }
    (removed, problems)
}

/// A commit and its committer time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    commit: String,
    time: i64,
}

fn git(root: &Path, args: &[&str]) -> Option<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
}

/// HEAD of the site's repository; `None` outside git or before the first commit.
fn head(root: &Path) -> Option<Head> {
    let out =
        git(root, &["log", "-1", "--format=%H %ct", "HEAD"]).filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (commit, time) = text.trim().split_once(' ')?;
    Some(Head {
        commit: commit.to_string(),
        time: time.parse().ok()?,
    })
}

/// Whether the site's own files (configuration, content, themes) differ from HEAD.
fn has_uncommitted_changes(root: &Path) -> bool {
    git(
        root,
        &[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            crate::config::CONFIG_FILE,
            "content",
            "themes",
        ],
    )
    .filter(|o| o.status.success())
    .is_none_or(|o| !o.stdout.is_empty())
}

/// Whether the release already shown is newer than `head`: `head` is an ancestor of its commit, or, when
/// neither descends from the other, its commit time is later.
fn is_newer(root: &Path, shown: &Release, head: &Head) -> bool {
    let Some(shown_commit) = &shown.commit else {
        return false;
    };
    if *shown_commit == head.commit {
        return false;
    }
    let is_ancestor = |a: &str, b: &str| {
        git(root, &["merge-base", "--is-ancestor", a, b]).is_some_and(|o| o.status.success())
    };
    if is_ancestor(&head.commit, shown_commit) {
        return true;
    }
    if is_ancestor(shown_commit, &head.commit) {
        return false;
    }
    shown.commit_time.is_some_and(|time| time > head.time)
}

fn newer_shown(shown: &Release, head: &Head) -> String {
    format!(
        "Veröffentlicht ist schon der neuere Stand {}; Commit {} wird nicht veröffentlicht.",
        shown.id,
        &head.commit[..12.min(head.commit.len())]
    )
}

/// 12 hex digits of a hash over the built files' paths and bytes; a linked file counts by the hash of its
/// bytes.
fn content_hash(files: &[OutputFile], links: &crate::output::Linked) -> String {
    // Links whose groups cannot be decoded (only a bug makes them so) count as none: the hash then
    // names a release that is not shown, and the release is written.
    let links = links.all().unwrap_or_default();
    let mut sorted: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.path.as_str(), &f.bytes[..]))
        .chain(links.iter().map(|l| (l.path.as_str(), l.hash.as_slice())))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = blake3::Hasher::new();
    for (path, bytes) in sorted {
        hasher.update(path.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hasher.finalize().to_hex()[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(id: &str, published_at: u64) -> Release {
        Release {
            id: id.into(),
            commit: None,
            commit_time: None,
            uncommitted: true,
            published_at,
            files: 1,
        }
    }

    fn make(releases: &Path, r: &Release) {
        std::fs::create_dir_all(releases.join(&r.id)).unwrap();
        std::fs::write(
            releases.join(format!("{}.json", r.id)),
            serde_json::to_string(r).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn prune_keeps_the_newest_and_the_current_release() {
        let tmp = tempfile::tempdir().unwrap();
        let releases = tmp.path();
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            make(releases, &release(id, i as u64));
        }
        std::fs::create_dir(releases.join("halb")).unwrap();
        std::fs::write(releases.join("weg.json"), "{}").unwrap();
        // "a" is the oldest but current (e.g. after a rollback): it stays.
        let (mut removed, problems) = prune(releases, 2, "a");
        removed.sort();
        assert_eq!(removed, ["b"]);
        assert!(problems.is_empty());
        let mut left: Vec<String> = std::fs::read_dir(releases)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(left, ["a", "a.json", "c", "c.json", "d", "d.json"]);
    }

    /// `id`'s release of one file, with its manifest.
    fn make_recyclable(releases: &Path, id: &str, published_at: u64) {
        make(releases, &release(id, published_at));
        let file = format!("{id}.html");
        std::fs::write(releases.join(id).join(&file), id).unwrap();
        let manifest =
            crate::output::manifest(&[OutputFile::new(&file, id.as_bytes().to_vec())], &[]);
        crate::output::write_manifest(&manifest_path(releases, id), &manifest).unwrap();
    }

    /// The files in a staging folder once an empty site is written into it: none if the folder's
    /// manifest said what it held (all of it is removed), else what the recycled release left.
    fn left_after_writing_nothing(mut staging: Staging) -> Vec<String> {
        staging
            .write(&[], &crate::output::Linked::default(), Part::All)
            .unwrap();
        let path = staging.site.path().to_path_buf();
        let mut left: Vec<String> = std::fs::read_dir(&path)
            .map(|dir| {
                dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        left.sort();
        staging.discard();
        left
    }

    #[test]
    fn the_recycled_releases_manifest_is_read_ahead_and_used_only_for_that_release() {
        let tmp = tempfile::tempdir().unwrap();
        let releases = tmp.path().join(RELEASES);
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            make_recyclable(&releases, id, i as u64);
        }
        let recycling = Recycling::ahead(&releases, 2, tmp.path());
        while !recycling
            .ahead
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .is_finished()
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Damaged on the disk after it was read: the staging takes what was read ahead, so the folder
        // is trusted and updated in place.
        std::fs::write(manifest_path(&releases, "a"), "kaputt").unwrap();
        let staging = recycling.staging("x");
        assert_eq!(staging.recycled.as_deref(), Some("a"));
        assert!(left_after_writing_nothing(staging).is_empty());

        // The guess ("b", the oldest left) is not the release to recycle when "b" itself is published
        // again: then "c"'s manifest is read from the disk, not "b"'s used.
        make_recyclable(&releases, "d", 3);
        let recycling = Recycling::ahead(&releases, 2, tmp.path());
        let staging = recycling.staging("b");
        assert_eq!(staging.recycled.as_deref(), Some("c"));
        assert!(left_after_writing_nothing(staging).is_empty());
    }

    #[test]
    fn content_hash_depends_on_paths_and_bytes_only() {
        let f = |p: &str, b: &str| OutputFile::new(p, b.as_bytes().to_vec());
        let one = content_hash(
            &[f("a", "1"), f("b", "2")],
            &crate::output::Linked::default(),
        );
        assert_eq!(
            one,
            content_hash(
                &[f("b", "2"), f("a", "1")],
                &crate::output::Linked::default()
            )
        );
        assert_ne!(
            one,
            content_hash(
                &[f("a", "12"), f("b", "")],
                &crate::output::Linked::default()
            )
        );
        assert_eq!(one.len(), 12);
    }
}
