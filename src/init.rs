//! `regelwerk init`: a new minimal site that builds and passes `check` as it is.

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
