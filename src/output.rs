//! Writing the built site: everything goes into a staging directory beside the output, and only a complete
//! build replaces the output, in one step. A failed or interrupted build never touches the previous site.

use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::render::OutputFile;

/// Writes `files` into `output`, replacing its previous contents only once all files are written.
///
/// On Linux the staging directory and the output are exchanged atomically (`renameat2` with
/// `RENAME_EXCHANGE`); elsewhere, or on file systems without it, the old output is renamed away and the new
/// one renamed in, a window of microseconds in which the output does not exist.
pub fn write_atomically(output: &Path, files: &[OutputFile]) -> io::Result<()> {
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
    let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let result =
        write_tree(&staging, files).and_then(|()| swap_in(&staging, output, parent, &name));
    if result.is_err() && staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Writes all files under `dir` (directories first, then files in parallel).
pub fn write_tree(dir: &Path, files: &[OutputFile]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| Path::new(&f.path).parent().map(|p| dir.join(p)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        std::fs::create_dir_all(d)?;
    }
    files
        .par_iter()
        .try_for_each(|file| std::fs::write(dir.join(&file.path), &file.bytes))
}

fn swap_in(staging: &Path, output: &Path, parent: &Path, name: &str) -> io::Result<()> {
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
        return std::fs::rename(staging, output);
    }
    if exchange(staging, output).is_ok() {
        // `staging` now holds the previous site.
        return std::fs::remove_dir_all(staging);
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    std::fs::rename(output, &old)?;
    if let Err(err) = std::fs::rename(staging, output) {
        std::fs::rename(&old, output)?;
        return Err(err);
    }
    std::fs::remove_dir_all(&old)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replaces_the_whole_output_and_leaves_no_staging_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        write_atomically(&out, &[file("index.html", "eins"), file("a/b/c.html", "x")]).unwrap();
        write_atomically(&out, &[file("index.html", "zwei")]).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "zwei"
        );
        assert!(
            !out.join("a").exists(),
            "files of the previous build are gone"
        );
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only public/ remains");
    }
}
