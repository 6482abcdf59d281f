//! `regelwerk init`: a new minimal site that builds and passes `check` as it is.
//!
//! A site is published from git (every commit is a permanent Stand), so a new site outside any repository
//! becomes one: `git init` and a first commit. Inside an existing repository nothing is committed.

use std::io;
use std::path::Path;

use include_dir::{Dir, DirEntry, include_dir};

/// The files of a new site.
static SCAFFOLD: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/scaffold");

/// Writes a new site into `dir` (created if missing). Refuses to touch a folder that already has a site.
pub fn init(dir: &Path) -> io::Result<Vec<String>> {
    if dir.join(crate::config::CONFIG_FILE).exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "In {} gibt es bereits eine Website (regelwerk.toml).",
                dir.display()
            ),
        ));
    }
    let mut written = Vec::new();
    write_dir(&SCAFFOLD, dir, &mut written)?;
    written.sort();
    Ok(written)
}

/// What `init` did about git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitSetup {
    /// A new repository with a first commit.
    Committed,
    /// The folder is inside an existing repository: the user commits.
    ExistingRepository,
    /// git is missing or failed: the reason.
    Skipped(String),
}

/// Makes a new site folder a git repository with a first commit, unless it is inside one already.
pub fn init_git(dir: &Path) -> GitSetup {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
    };
    match git(&["rev-parse", "--is-inside-work-tree"]) {
        Err(err) => return GitSetup::Skipped(format!("git ist nicht installiert ({err})")),
        Ok(out) if out.status.success() => return GitSetup::ExistingRepository,
        Ok(_) => {}
    }
    let has_identity = git(&["config", "user.email"]).is_ok_and(|o| o.status.success());
    let identity: &[&str] = if has_identity {
        &[]
    } else {
        &[
            "-c",
            "user.name=regelwerk",
            "-c",
            "user.email=regelwerk@localhost",
        ]
    };
    let steps: [Vec<&str>; 3] = [
        vec!["init", "--quiet"],
        vec!["add", "--all"],
        [
            identity,
            &[
                "commit",
                "--quiet",
                "-m",
                "Neue Website mit regelwerk angelegt",
            ],
        ]
        .concat(),
    ];
    for step in &steps {
        match git(step) {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return GitSetup::Skipped(String::from_utf8_lossy(&out.stderr).trim().to_string());
            }
            Err(err) => return GitSetup::Skipped(err.to_string()),
        }
    }
    GitSetup::Committed
}

fn write_dir(source: &Dir<'_>, target: &Path, written: &mut Vec<String>) -> io::Result<()> {
    for entry in source.entries() {
        match entry {
            DirEntry::Dir(sub) => write_dir(sub, target, written)?,
            DirEntry::File(file) => {
                let path = target.join(file.path());
                if path.exists() {
                    continue;
                }
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, file.contents())?;
                written.push(file.path().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(())
}
