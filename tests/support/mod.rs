//! Shared helpers for the integration tests: fixture sites in temporary folders and running the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixed date all tests measure reviews against (2026-12-01), so results never depend on the day.
pub const SOURCE_DATE_EPOCH: &str = "1796083200";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies the directory tree `from` into `to` (files in `to` are overwritten).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the valid fixture site in a fresh temporary folder, committed to a new git repository
/// (a site is published from git; without history `check` warns with W8).
pub fn valid_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("valid"), dir.path());
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    commit_all(dir.path(), "Erste Fassung", 1_780_000_000);
    dir
}

/// `git -C dir` with a fixed identity and no user or system configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .env("GIT_AUTHOR_NAME", "Redaktion")
        .env("GIT_AUTHOR_EMAIL", "redaktion@testkreis.example")
        .env("GIT_COMMITTER_NAME", "Redaktion")
        .env("GIT_COMMITTER_EMAIL", "redaktion@testkreis.example")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// Runs a git command; panics if it fails, else returns its output.
fn run_git(mut command: Command, what: &str) -> String {
    let out = command.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs git in `dir` with a fixed identity; panics if it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut command = git_command(dir);
    command.args(args);
    run_git(command, &format!("{args:?}"))
}

/// Commits everything in `dir` at `time` (seconds since 1970), so commit ids are reproducible; `env` is
/// passed on to git (and so to its hooks). Returns the commit id.
pub fn commit_at(
    dir: &Path,
    message: &str,
    time: i64,
    env: &[(&str, &str)],
    allow_empty: bool,
) -> String {
    git(dir, &["add", "--all"]);
    let date = format!("@{time} +0000");
    let mut command = git_command(dir);
    command.args(["commit", "--quiet", "-m", message]);
    if allow_empty {
        command.arg("--allow-empty");
    }
    command
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .envs(env.iter().copied());
    run_git(command, "commit");
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

/// Commits everything in `dir` at a fixed time (seconds since 1970), so commit ids are reproducible.
pub fn commit_all(dir: &Path, message: &str, time: i64) -> String {
    commit_at(dir, message, time, &[], true)
}

/// Runs the `regelwerk` binary with the fixed test date.
pub fn regelwerk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regelwerk"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .env("NO_COLOR", "1")
        .output()
        .expect("the regelwerk binary runs")
}

/// `regelwerk build` of the site at `root` into `output`, with the further `flags`.
pub fn build_into(root: &Path, output: &Path, flags: &[&str]) -> Output {
    let mut args = vec![
        "build",
        "--root",
        root.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    regelwerk(&args)
}

/// Every file under `dir` with its bytes, sorted by path.
pub fn snapshot_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Flips a byte in the middle of each search pack of the site at `root` (inside a file's bytes, which the
/// pack's checksum does not cover; the file's own hash, in the pack's listing, does); returns each damaged
/// pack's path and bytes.
pub fn damage_search_packs(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let cache = root.join(regelwerk::CACHE_DIR).join("search");
    let mut damaged = Vec::new();
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pack") {
            let mut bytes = std::fs::read(&path).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x55;
            std::fs::write(&path, &bytes).unwrap();
            damaged.push((path, bytes));
        }
    }
    assert!(!damaged.is_empty(), "no search pack in {}", cache.display());
    damaged
}
