//! [`History`] from the `git` program.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::history::{Commit, Completeness, FileChange, History, Log, Revision};

/// Reads history by running `git` in the site root.
pub struct GitCli {
    root: PathBuf,
}

impl GitCli {
    pub fn new(root: &Path) -> Self {
        GitCli {
            root: root.to_path_buf(),
        }
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
        let inside = self.output(&["rev-parse", "--is-inside-work-tree"]);
        if inside.as_deref().map(|o| o.trim_ascii()) != Ok(b"true".as_slice()) {
            let reason = match inside {
                Err(e) if e.contains("starten") => e,
                _ => "die Website liegt nicht in einem git-Repository".to_string(),
            };
            return Log::empty(reason);
        }
        if self
            .output(&["rev-parse", "--verify", "--quiet", "HEAD"])
            .is_err()
        {
            return Log::empty("das git-Repository hat noch keinen Commit");
        }
        let shallow = self
            .output(&["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|o| o.trim_ascii() == b"true");
        let mut args = vec![
            "log",
            "--first-parent",
            "-z",
            "--raw",
            "--no-abbrev",
            "--no-renames",
            "--relative",
            "--format=%H %ct %ae",
            "--",
        ];
        args.extend(dirs);
        let raw = match self.output(&args) {
            Ok(raw) => raw,
            Err(e) => return Log::empty(format!("git log ist fehlgeschlagen: {e}")),
        };
        let mut revisions = parse_log(&String::from_utf8_lossy(&raw));
        revisions.reverse();
        let mut wanted: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for change in revisions.iter().flat_map(|r| &r.changes) {
            if let Some(blob) = &change.blob
                && seen.insert(blob.clone())
            {
                wanted.push(blob.clone());
            }
        }
        let blobs = match self.read_blobs(&wanted) {
            Ok(blobs) => blobs,
            Err(e) => return Log::empty(format!("git cat-file ist fehlgeschlagen: {e}")),
        };
        Log {
            completeness: if shallow {
                Completeness::Shallow
            } else {
                Completeness::Full
            },
            revisions,
            blobs,
        }
    }
}

/// Parses `git log -z --raw --format="%H %ct %ae"`: a header token per commit, then `:meta` / path pairs.
fn parse_log(raw: &str) -> Vec<Revision> {
    let mut revisions: Vec<Revision> = Vec::new();
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
            if let Some(revision) = revisions.last_mut() {
                revision.changes.push(FileChange {
                    path: path.to_string(),
                    blob,
                });
            }
        } else if let Some((id, rest)) = token.split_once(' ') {
            let (time, email) = rest.split_once(' ').unwrap_or((rest, ""));
            revisions.push(Revision {
                commit: Commit {
                    id: id.to_string(),
                    time: time.trim().parse().unwrap_or(0),
                    author_email: email.trim().to_string(),
                },
                changes: Vec::new(),
            });
        }
    }
    revisions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_log_with_nul_separators() {
        let raw = "aaaa 100 a@b.example\0\n:000000 100644 0000 bbbb A\0content/a.md\0:100644 000000 cccc 0000 D\0content/b.md\0\
                   dddd 50\0\n:100644 100644 1111 2222 M\0content/a.md\0";
        let revisions = parse_log(raw);
        assert_eq!(revisions.len(), 2);
        assert_eq!(revisions[0].commit.id, "aaaa");
        assert_eq!(revisions[0].commit.time, 100);
        assert_eq!(revisions[0].commit.author_email, "a@b.example");
        assert_eq!(revisions[1].commit.author_email, "");
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
    }
}
