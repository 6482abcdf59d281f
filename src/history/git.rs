//! [`History`] from the `git` program.
//!
//! With a cache folder ([`GitCli::with_cache`]) the log and the blobs read are kept between builds: a
//! build whose HEAD is the cached one runs no `git log` at all, and a build after new commits on the same
//! first-parent line reads only those commits and their blobs. Anything else — a rebase, a force-push, a
//! damaged or foreign cache — reads the whole history again.
//!
//! The log file holds the log up to some commit; the commits after it go into a small second file
//! ([`CACHE_TAIL`]) until there are `TAIL_LIMIT` of them. So a build after one more commit writes a few
//! hundred bytes, not the whole log of thousands of commits.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::history::blobs::{self, Blobs, Indexed};
use crate::history::{Commit, Completeness, FileChange, History, Log, Revision};

/// The log cache, relative to the site root.
pub const CACHE_DIR: &str = ".regelwerk-cache/history";
const CACHE_LOG: &str = "log.bin";
/// The revisions after those of `CACHE_LOG`.
pub const CACHE_TAIL: &str = "log-neu.bin";
/// How many revisions the tail holds before the whole log is written again.
const TAIL_LIMIT: usize = 500;
/// The log file of earlier versions, removed when the log is saved.
const OLD_CACHE_LOG: &str = "log.json";
const CACHE_BLOBS: &str = "blobs";
/// The `git log` every read of revisions runs: the first-parent line, each commit's changed files with
/// their blob ids (`parse_log`), paths relative to the site root.
const LOG: [&str; 7] = [
    "log",
    "--first-parent",
    "-z",
    "--raw",
    "--no-abbrev",
    "--no-renames",
    "--relative",
];
/// Raised when the cache layout changes.
const CACHE_FORMAT: u32 = 3;

/// Reads history by running `git` in the site root.
pub struct GitCli {
    root: PathBuf,
    cache: Option<PathBuf>,
}

impl GitCli {
    /// Reads the repository the folder `root` is in, without a cache.
    pub fn new(root: &Path) -> Self {
        GitCli {
            root: root.to_path_buf(),
            cache: None,
        }
    }

    /// Keeps the log in `dir` between runs (see the module documentation).
    pub fn with_cache(mut self, dir: PathBuf) -> Self {
        self.cache = Some(dir);
        self
    }

    fn git(&self) -> Command {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.root)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    fn output(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let out = self
            .git()
            .args(args)
            .output()
            .map_err(|e| format!("git kann nicht gestartet werden ({e})"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// The files under `dir` at revision `rev` (any git revision: a branch, a tag, a commit), with contents.
    pub fn files_at(&self, rev: &str, dir: &str) -> Result<Vec<(String, String)>, String> {
        let commit = self.output(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ]);
        if commit.is_err() {
            return Err(format!(
                "die Revision „{rev}“ gibt es in diesem Repository nicht"
            ));
        }
        let listing = self.output(&["ls-tree", "-r", "-z", rev, "--", dir])?;
        let listing = String::from_utf8_lossy(&listing);
        let mut entries: Vec<(String, String)> = listing
            .split('\0')
            .filter_map(|line| {
                let (meta, path) = line.split_once('\t')?;
                let mut fields = meta.split(' ');
                let (_, kind, blob) = (fields.next()?, fields.next()?, fields.next()?);
                (kind == "blob").then(|| (path.to_string(), blob.to_string()))
            })
            .collect();
        entries.sort();
        let ids: Vec<String> = entries.iter().map(|(_, b)| b.clone()).collect();
        let blobs = self.read_blobs(&ids)?;
        Ok(entries
            .into_iter()
            .filter_map(|(path, blob)| blobs.get(&blob).map(|text| (path, text.clone())))
            .collect())
    }

    /// Reads many blobs with one `git cat-file --batch`.
    fn read_blobs(&self, ids: &[String]) -> Result<HashMap<String, String>, String> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut child = self
            .git()
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("git cat-file kann nicht gestartet werden ({e})"))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let request: String = ids.iter().map(|id| format!("{id}\n")).collect();
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut blobs = HashMap::with_capacity(ids.len());
        let mut header = String::new();
        for _ in ids {
            header.clear();
            reader.read_line(&mut header).map_err(|e| e.to_string())?;
            let mut parts = header.split_whitespace();
            let (Some(id), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next())
            else {
                // `<id> missing`: skip, the document version is simply not available.
                continue;
            };
            let size: usize = size
                .parse()
                .map_err(|_| format!("unerwartete Ausgabe von git: {header}"))?;
            let mut content = vec![0; size + 1];
            reader.read_exact(&mut content).map_err(|e| e.to_string())?;
            content.pop();
            if kind == "blob" {
                blobs.insert(
                    id.to_string(),
                    String::from_utf8_lossy(&content).into_owned(),
                );
            }
        }
        let _ = writer.join();
        let _ = child.wait();
        Ok(blobs)
    }
}

impl History for GitCli {
    fn log(&self, dirs: &[&str]) -> Log {
        let dirs: Vec<String> = dirs.iter().map(|d| d.to_string()).collect();
        // The cached log is read while `git rev-parse` runs.
        let (head, cached) = std::thread::scope(|scope| {
            let cached = scope.spawn(|| {
                self.cache
                    .as_deref()
                    .and_then(|dir| CachedLog::load(dir, &dirs))
            });
            (self.head(), cached.join().ok().flatten())
        });
        let (head, shallow) = match head {
            Ok(found) => found,
            Err(reason) => return Log::empty(reason),
        };
        let completeness = if shallow {
            Completeness::Shallow
        } else {
            Completeness::Full
        };
        let cached = cached.filter(|cached| cached.shallow == shallow);
        let (revisions, blobs) = match cached {
            Some(cached) if cached.head == head => (cached.revisions, cached.blobs),
            Some(cached) => match self.read_since(cached, &dirs, shallow, &head) {
                Ok(Some(found)) => found,
                Ok(None) => match self.read_all(&dirs, shallow, &head) {
                    Ok(found) => found,
                    Err(reason) => return Log::empty(reason),
                },
                Err(reason) => return Log::empty(reason),
            },
            None => match self.read_all(&dirs, shallow, &head) {
                Ok(found) => found,
                Err(reason) => return Log::empty(reason),
            },
        };
        Log {
            completeness,
            revisions,
            blobs: Arc::new(blobs),
        }
    }
}

impl GitCli {
    /// The commit id of HEAD and whether the clone is shallow, with one `git rev-parse` when the root is
    /// in a repository with commits; otherwise why there is no history.
    fn head(&self) -> Result<(String, bool), String> {
        if let Some(found) = self.head_from_files() {
            return Ok(found);
        }
        let probe = self.output(&[
            "rev-parse",
            "--is-inside-work-tree",
            "--is-shallow-repository",
            "HEAD",
        ]);
        if let Ok(out) = &probe {
            let out = String::from_utf8_lossy(out);
            let lines: Vec<&str> = out.lines().map(str::trim).collect();
            if let [inside, shallow, head] = lines[..]
                && inside == "true"
                && head.len() >= 40
            {
                return Ok((head.to_string(), shallow == "true"));
            }
        }
        // Why not: outside a repository, git missing, or no commit yet.
        let inside = self.output(&["rev-parse", "--is-inside-work-tree"]);
        if inside.as_deref().map(|o| o.trim_ascii()) != Ok(b"true".as_slice()) {
            return Err(match inside {
                Err(e) if e.contains("starten") => e,
                _ => "die Website liegt nicht in einem git-Repository".to_string(),
            });
        }
        Err("das git-Repository hat noch keinen Commit".to_string())
    }

    /// HEAD's commit and whether the clone is shallow, read from the repository's files where they say
    /// it plainly: a `.git` folder in the root or a folder above it, HEAD a commit id or a branch whose ref
    /// is a file of its own, no reftable, none of `GIT_DIR`, `GIT_WORK_TREE`, `GIT_CEILING_DIRECTORIES` in
    /// the environment. Anything else (a worktree's `.git` file, packed refs, an unborn branch) is left
    /// to `git rev-parse`. A build whose HEAD is the cached one then starts no `git` at all.
    fn head_from_files(&self) -> Option<(String, bool)> {
        let told = ["GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        if told {
            return None;
        }
        plain_head(&self.root)
    }

    /// Reads every first-parent revision that changed `dirs`, oldest first, and the blobs they reference.
    #[allow(clippy::type_complexity)]
    fn read(&self, dirs: &[String]) -> Result<(Vec<Revision>, HashMap<String, String>), String> {
        let mut args = LOG.to_vec();
        args.extend(["--format=%H %ct %ae", "--"]);
        args.extend(dirs.iter().map(String::as_str));
        let raw = self
            .output(&args)
            .map_err(|e| format!("git log ist fehlgeschlagen: {e}"))?;
        let mut revisions: Vec<Revision> = parse_log(&String::from_utf8_lossy(&raw))
            .into_iter()
            .map(|(revision, _)| revision)
            .collect();
        revisions.reverse();
        let blobs = self.blobs_of(&revisions, &Blobs::default())?;
        Ok((revisions, blobs))
    }

    /// The first-parent revisions after `cached` up to `head` that changed `dirs`, oldest first, with
    /// the blobs they reference that `known` does not hold — if `head` continues the first-parent line
    /// of `cached` (no rebase, no force-push): the oldest commit after `cached` has it as its first
    /// parent; else `None`. One `git log` of every commit in the range, with its parents; the changes
    /// outside `dirs` are left out here, not by a pathspec (which would leave out the commits that tell).
    #[allow(clippy::type_complexity)]
    fn read_range(
        &self,
        dirs: &[String],
        cached: &str,
        head: &str,
        known: &Blobs,
    ) -> Result<Option<(Vec<Revision>, HashMap<String, String>)>, String> {
        let range = format!("{cached}..{head}");
        let mut args = LOG.to_vec();
        args.extend(["--format=%H %ct %ae%x01%P", &range]);
        let raw = self
            .output(&args)
            .map_err(|e| format!("git log ist fehlgeschlagen: {e}"))?;
        let mut log = parse_log(&String::from_utf8_lossy(&raw));
        log.reverse();
        let continues = log
            .first()
            .and_then(|(_, parents)| parents.as_deref())
            .and_then(|parents| parents.split_whitespace().next())
            .is_some_and(|parent| parent == cached);
        if !continues {
            return Ok(None);
        }
        let inside = |path: &str| {
            dirs.iter().any(|dir| {
                path.strip_prefix(dir.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
        };
        let revisions: Vec<Revision> = log
            .into_iter()
            .map(|(mut revision, _)| {
                revision.changes.retain(|change| inside(&change.path));
                revision
            })
            .filter(|revision| !revision.changes.is_empty())
            .collect();
        let blobs = self.blobs_of(&revisions, known)?;
        Ok(Some((revisions, blobs)))
    }

    /// The blobs `revisions` reference that `known` does not hold: from the working tree where it holds
    /// them ([`worktree_blobs`]), the rest with one `git cat-file`.
    fn blobs_of(
        &self,
        revisions: &[Revision],
        known: &Blobs,
    ) -> Result<HashMap<String, String>, String> {
        let mut wanted: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for change in revisions.iter().flat_map(|r| &r.changes) {
            if let Some(blob) = &change.blob
                && !known.contains(blob)
                && seen.insert(blob.clone())
            {
                wanted.push(blob.clone());
            }
        }
        // The newest version of a file is mostly what the working tree holds: read there, it needs no
        // `git cat-file` (after one more commit, none at all).
        let (mut blobs, wanted) = worktree_blobs(&self.root, revisions, wanted);
        blobs.extend(
            self.read_blobs(&wanted)
                .map_err(|e| format!("git cat-file ist fehlgeschlagen: {e}"))?,
        );
        Ok(blobs)
    }

    /// The whole history, kept in the cache for the next build.
    fn read_all(
        &self,
        dirs: &[String],
        shallow: bool,
        head: &str,
    ) -> Result<(Vec<Revision>, Blobs), String> {
        let (revisions, texts) = self.read(dirs)?;
        if let Some(dir) = &self.cache {
            // A cache that cannot be written only costs the next build time.
            let _ = (|| -> std::io::Result<()> {
                std::fs::create_dir_all(dir)?;
                let bytes = blobs::encode(&texts);
                let temp = dir.join(format!("{CACHE_BLOBS}.{}", std::process::id()));
                std::fs::write(&temp, &bytes)?;
                let file = std::fs::File::open(&temp)?;
                std::fs::rename(&temp, dir.join(CACHE_BLOBS))?;
                let mut indexed = Indexed::default();
                indexed.add(&file, 0, &bytes);
                CachedLog::save(dir, dirs, shallow, head, &revisions, &indexed)
            })();
        }
        Ok((revisions, Blobs::from_texts(texts)))
    }

    /// The cached history plus the commits since, if HEAD continues its first-parent line (`None` after a
    /// rebase or force-push; see [`GitCli::read_range`]).
    #[allow(clippy::type_complexity)]
    fn read_since(
        &self,
        cached: CachedLog,
        dirs: &[String],
        shallow: bool,
        head: &str,
    ) -> Result<Option<(Vec<Revision>, Blobs)>, String> {
        let Some((new_revisions, new_blobs)) =
            self.read_range(dirs, &cached.head, head, &cached.blobs)?
        else {
            return Ok(None);
        };
        let CachedLog {
            mut revisions,
            mut blobs,
            base,
            ..
        } = cached;
        revisions.extend(new_revisions);
        if let Some(dir) = &self.cache {
            // The blobs are appended before the log that references them is saved; if they cannot be,
            // the cache stays at the commit it was (and the next build reads the new commits again).
            let _ = (|| -> std::io::Result<()> {
                let appended = if new_blobs.is_empty() {
                    None
                } else {
                    let bytes = blobs::encode(&new_blobs);
                    let mut file = std::fs::OpenOptions::new()
                        .append(true)
                        .open(dir.join(CACHE_BLOBS))?;
                    let at =
                        usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
                    file.write_all(&bytes)?;
                    Some((file, at, bytes))
                };
                // While the tail is short, only the tail is written; the blobs appended since the log
                // file was written are indexed from the blob file when it is mapped.
                if revisions.len() - base.revisions <= TAIL_LIMIT {
                    return CachedLog::save_tail(
                        dir,
                        &base.head,
                        head,
                        &revisions[base.revisions..],
                    );
                }
                let mut indexed = blobs.indexed();
                if let Some((file, at, bytes)) = appended {
                    indexed.add(&file, at, &bytes);
                }
                CachedLog::save(dir, dirs, shallow, head, &revisions, &indexed)
            })();
        }
        blobs.extend(new_blobs);
        Ok(Some((revisions, blobs)))
    }
}

/// The cache's log file: the log of the cached HEAD and where the blob file keeps each blob.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    dirs: Vec<String>,
    shallow: bool,
    head: String,
    revisions: Vec<Revision>,
    blobs: Indexed,
}

/// The cache's tail file: the revisions after those of the log file, up to `head`.
#[derive(Serialize, Deserialize)]
struct TailFile {
    /// The HEAD of the log file these revisions continue.
    base: String,
    head: String,
    revisions: Vec<Revision>,
}

/// A log read back from the cache, with every blob it references.
struct CachedLog {
    head: String,
    /// Whether it was read from a shallow clone.
    shallow: bool,
    revisions: Vec<Revision>,
    blobs: Blobs,
    /// What the log file holds: its HEAD and how many of `revisions` (the rest are the tail's).
    base: Base,
}

struct Base {
    head: String,
    revisions: usize,
}

impl CachedLog {
    /// The cached log, if it was read for the same folders and its blob file is the one it indexed. The
    /// index holds every blob the log references: the blobs are written first.
    fn load(dir: &Path, dirs: &[String]) -> Option<CachedLog> {
        let file: CacheFile = crate::cache::read(
            &dir.join(CACHE_LOG),
            &crate::cache::format_stamp(CACHE_FORMAT),
        )?;
        if file.dirs != dirs {
            return None;
        }
        let blobs = Blobs::open_indexed(&dir.join(CACHE_BLOBS), file.blobs)?;
        let base = Base {
            head: file.head,
            revisions: file.revisions.len(),
        };
        let mut revisions = file.revisions;
        let tail: Option<TailFile> = crate::cache::read(
            &dir.join(CACHE_TAIL),
            &crate::cache::format_stamp(CACHE_FORMAT),
        );
        let head = match tail {
            Some(tail) if tail.base == base.head => {
                revisions.extend(tail.revisions);
                tail.head
            }
            _ => base.head.clone(),
        };
        Some(CachedLog {
            head,
            shallow: file.shallow,
            revisions,
            blobs,
            base,
        })
    }

    /// Writes the revisions after the log file's HEAD `base`, up to `head`.
    fn save_tail(
        dir: &Path,
        base: &str,
        head: &str,
        revisions: &[Revision],
    ) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            base: &'a str,
            head: &'a str,
            revisions: &'a [Revision],
        }
        let file = Borrowed {
            base,
            head,
            revisions,
        };
        let stamp = crate::cache::format_stamp(CACHE_FORMAT);
        crate::cache::write(&dir.join(CACHE_TAIL), &stamp, &file)
    }

    /// Writes the log of `head` with the index of the blob file.
    fn save(
        dir: &Path,
        dirs: &[String],
        shallow: bool,
        head: &str,
        revisions: &[Revision],
        blobs: &Indexed,
    ) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            dirs: &'a [String],
            shallow: bool,
            head: &'a str,
            revisions: &'a [Revision],
            blobs: &'a Indexed,
        }
        let file = Borrowed {
            dirs,
            shallow,
            head,
            revisions,
            blobs,
        };
        let stamp = crate::cache::format_stamp(CACHE_FORMAT);
        crate::cache::write(&dir.join(CACHE_LOG), &stamp, &file)?;
        for replaced in [CACHE_TAIL, OLD_CACHE_LOG] {
            let _ = std::fs::remove_file(dir.join(replaced));
        }
        Ok(())
    }
}

/// Parses `git log -z --raw --format="%H %ct %ae"`: a header token per commit, then `:meta` / path pairs.
/// HEAD's commit and whether the clone is shallow, read from the files of the repository `root` is in
/// (see [`GitCli::head_from_files`]).
fn plain_head(root: &Path) -> Option<(String, bool)> {
    let root = root.canonicalize().ok()?;
    let git_dir = root
        .ancestors()
        .map(|dir| dir.join(".git"))
        .find(|git| git.exists())
        .filter(|git| git.is_dir())?;
    if git_dir.join("reftable").exists() {
        return None;
    }
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let id = match head.trim().strip_prefix("ref: ") {
        Some(branch) => {
            let name = branch.strip_prefix("refs/heads/")?;
            if name
                .split('/')
                .any(|part| part.is_empty() || part.starts_with('.'))
            {
                return None;
            }
            std::fs::read_to_string(git_dir.join(branch)).ok()?
        }
        None => head,
    };
    let id = id.trim();
    let plain = matches!(id.len(), 40 | 64)
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    plain.then(|| (id.to_string(), git_dir.join("shallow").exists()))
}

/// Of the blobs `wanted`, those the working tree under `root` holds as the newest version of a file
/// `revisions` changed (its git blob id, the SHA-1 of `blob <length>\0` and its bytes, is the one
/// wanted): id → text, and the ids still wanted. A file that differs (an uncommitted edit, a checkout
/// filter, a SHA-256 repository) is left to `git cat-file`.
fn worktree_blobs(
    root: &Path,
    revisions: &[Revision],
    wanted: Vec<String>,
) -> (HashMap<String, String>, Vec<String>) {
    use sha1::{Digest, Sha1};
    let mut newest: HashMap<&str, &str> = HashMap::new();
    for change in revisions.iter().flat_map(|r| &r.changes) {
        match &change.blob {
            Some(blob) => newest.insert(&change.path, blob),
            None => newest.remove(change.path.as_str()),
        };
    }
    let candidates: HashMap<&str, &str> = newest
        .into_iter()
        .filter(|(_, blob)| blob.len() == 40)
        .map(|(path, blob)| (blob, path))
        .collect();
    let mut found = HashMap::new();
    let rest = wanted
        .into_iter()
        .filter(|id| {
            let Some(path) = candidates.get(id.as_str()) else {
                return true;
            };
            let Ok(bytes) = std::fs::read(root.join(path)) else {
                return true;
            };
            let mut hasher = Sha1::new();
            hasher.update(format!("blob {}\0", bytes.len()));
            hasher.update(&bytes);
            let hash = hasher.finalize();
            let matches = hash
                .iter()
                .zip(id.as_bytes().chunks(2))
                .all(|(&byte, hex)| {
                    std::str::from_utf8(hex)
                        .ok()
                        .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                        == Some(byte)
                });
            if matches {
                found.insert(id.clone(), String::from_utf8_lossy(&bytes).into_owned());
            }
            !matches
        })
        .collect();
    (found, rest)
}

/// The revisions of a raw log (`-z --raw`, each commit's line `<id> <time> <email>`, optionally followed
/// by `\x01` and its parents), newest first, with the parents where the format gives them.
fn parse_log(raw: &str) -> Vec<(Revision, Option<String>)> {
    let mut revisions: Vec<(Revision, Option<String>)> = Vec::new();
    let mut tokens = raw.split('\0');
    while let Some(token) = tokens.next() {
        let token = token.trim_start_matches('\n');
        if token.is_empty() {
            continue;
        }
        if let Some(meta) = token.strip_prefix(':') {
            let Some(path) = tokens.next() else { break };
            let fields: Vec<&str> = meta.split(' ').collect();
            let (Some(new_blob), Some(status)) = (fields.get(3), fields.get(4)) else {
                continue;
            };
            let blob = (!status.starts_with('D') && new_blob.bytes().any(|b| b != b'0'))
                .then(|| new_blob.to_string());
            if let Some((revision, _)) = revisions.last_mut() {
                revision.changes.push(FileChange {
                    path: path.to_string(),
                    blob,
                });
            }
        } else if let Some((id, rest)) = token.split_once(' ') {
            let (rest, parents) = match rest.split_once('\x01') {
                Some((rest, parents)) => (rest, Some(parents.trim().to_string())),
                None => (rest, None),
            };
            let (time, email) = rest.split_once(' ').unwrap_or((rest, ""));
            let revision = Revision {
                commit: Commit {
                    id: id.into(),
                    time: time.trim().parse().unwrap_or(0),
                    author_email: email.trim().into(),
                },
                changes: Vec::new(),
            };
            revisions.push((revision, parents));
        }
    }
    revisions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `git -C at args` with a fixed identity and no user or system configuration; its output, trimmed.
    fn git_in(at: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(at)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.org"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn the_newest_versions_come_from_the_working_tree_when_it_holds_them() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| git_in(dir.path(), args);
        git(&["init", "--quiet"]);
        std::fs::create_dir_all(dir.path().join("content")).unwrap();
        std::fs::write(dir.path().join("content/a.md"), "eins\n").unwrap();
        std::fs::write(dir.path().join("content/b.md"), "zwei\n").unwrap();
        git(&["add", "-A"]);
        git(&["commit", "--quiet", "-m", "eins"]);
        std::fs::write(dir.path().join("content/a.md"), "eins, neu\n").unwrap();
        git(&["commit", "--quiet", "-am", "zwei"]);
        // b is edited and not committed: its blob is not in the working tree.
        std::fs::write(dir.path().join("content/b.md"), "zwei, nicht committet\n").unwrap();

        let cli = GitCli::new(dir.path());
        let (revisions, _) = cli.read(&["content".into()]).unwrap();
        let blob = |rev: usize, path: &str| {
            revisions[rev]
                .changes
                .iter()
                .find(|c| c.path == path)
                .and_then(|c| c.blob.clone())
                .unwrap()
        };
        let (old_a, new_a, b) = (
            blob(0, "content/a.md"),
            blob(1, "content/a.md"),
            blob(0, "content/b.md"),
        );
        let (found, rest) = worktree_blobs(
            dir.path(),
            &revisions,
            vec![old_a.clone(), new_a.clone(), b.clone()],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[&new_a], "eins, neu\n");
        assert_eq!(rest, [old_a.clone(), b.clone()]);
        // What the log reads is the same either way.
        let (_, texts) = cli.read(&["content".into()]).unwrap();
        assert_eq!(texts[&new_a], "eins, neu\n");
        assert_eq!(texts[&old_a], "eins\n");
        assert_eq!(texts[&b], "zwei\n");
    }

    #[test]
    fn head_is_read_from_the_repositorys_files_where_they_say_it_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let git = git_in;
        std::fs::create_dir_all(repo.join("site/content")).unwrap();
        git(&repo, &["init", "--quiet"]);
        let site = GitCli::new(&repo.join("site"));
        assert_eq!(plain_head(&repo.join("site")), None, "no commit yet");
        std::fs::write(repo.join("site/content/a.md"), "eins\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "--quiet", "-m", "eins"]);
        std::fs::write(repo.join("site/content/a.md"), "zwei\n").unwrap();
        git(&repo, &["commit", "--quiet", "-am", "zwei"]);
        let head = git(&repo, &["rev-parse", "HEAD"]);
        // From the site's folder inside the repository, on a branch.
        assert_eq!(plain_head(&repo.join("site")), Some((head.clone(), false)));
        assert_eq!(site.head(), Ok((head.clone(), false)));
        // A detached HEAD.
        git(&repo, &["checkout", "--quiet", "--detach", "HEAD~1"]);
        let first = git(&repo, &["rev-parse", "HEAD"]);
        assert_eq!(plain_head(&repo.join("site")), Some((first.clone(), false)));
        git(&repo, &["checkout", "--quiet", "-"]);
        // Packed refs are left to git, which gives the same.
        git(&repo, &["pack-refs", "--all"]);
        assert_eq!(plain_head(&repo.join("site")), None);
        assert_eq!(site.head(), Ok((head.clone(), false)));
        // A shallow clone says so.
        let clone = dir.path().join("clone");
        let url = format!("file://{}", repo.display());
        git(
            dir.path(),
            &["clone", "--quiet", "--depth", "1", &url, "clone"],
        );
        assert_eq!(plain_head(&clone), Some((head.clone(), true)));
    }

    #[test]
    fn parses_raw_log_with_nul_separators() {
        let raw = "aaaa 100 a@b.example\0\n:000000 100644 0000 bbbb A\0content/a.md\0:100644 000000 cccc 0000 D\0content/b.md\0\
                   dddd 50\0\n:100644 100644 1111 2222 M\0content/a.md\0";
        let revisions: Vec<Revision> = parse_log(raw).into_iter().map(|(r, _)| r).collect();
        assert_eq!(revisions.len(), 2);
        assert_eq!(&*revisions[0].commit.id, "aaaa");
        assert_eq!(revisions[0].commit.time, 100);
        assert_eq!(&*revisions[0].commit.author_email, "a@b.example");
        assert_eq!(&*revisions[1].commit.author_email, "");
        assert_eq!(
            revisions[0].changes,
            [
                FileChange {
                    path: "content/a.md".into(),
                    blob: Some("bbbb".into())
                },
                FileChange {
                    path: "content/b.md".into(),
                    blob: None
                },
            ]
        );
        assert_eq!(revisions[1].changes[0].blob.as_deref(), Some("2222"));

        // With parents (a merge: the first is the first parent).
        let raw = "eeee 70 x@y.example\u{1}ffff 9999\0\n:100644 100644 1111 2222 M\0content/a.md\0";
        let log = parse_log(raw);
        assert_eq!(log[0].1.as_deref(), Some("ffff 9999"));
        assert_eq!(&*log[0].0.commit.author_email, "x@y.example");
        assert_eq!(log[0].0.changes.len(), 1);
    }
}
