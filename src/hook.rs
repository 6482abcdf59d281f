//! `regelwerk hook install|uninstall`: git hooks that republish the site after every commit and merge.
//!
//! The `post-commit` and `post-merge` hooks are small POSIX shell scripts. When the current branch is the
//! configured one they start `regelwerk publish` in the background (`nohup … &`), appending its output to
//! `.git/regelwerk-publish.log`, and always exit 0: a hook never blocks or breaks a commit. They call the
//! regelwerk binary by the absolute path it had when the hook was installed.
//!
//! A hook written by regelwerk carries the [`MARKER`] line; any other hook is foreign and is neither
//! overwritten nor removed.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The line that marks a hook as regelwerk's.
pub const MARKER: &str =
    "# regelwerk-hook: written by `regelwerk hook install`, removed by `regelwerk hook uninstall`";

/// The hooks regelwerk writes.
pub const HOOKS: [&str; 2] = ["post-commit", "post-merge"];

/// The log file in the repository's git folder.
pub const LOG: &str = "regelwerk-publish.log";

/// What the hooks run.
#[derive(Debug, Clone)]
pub struct HookOptions {
    /// The site root (inside the repository).
    pub root: PathBuf,
    /// The publish target (`regelwerk publish --to`).
    pub to: PathBuf,
    /// Only commits on this branch are published.
    pub branch: String,
    /// The regelwerk binary the hooks call (normally `std::env::current_exe()`).
    pub exe: PathBuf,
}

/// Why the hooks were not installed or removed.
#[derive(Debug)]
pub enum HookError {
    /// The site is not in a git repository; git's message.
    NotARepository(String),
    /// Hooks that regelwerk did not write are in the way.
    Foreign(Vec<PathBuf>),
    /// An invalid option, described in German.
    Invalid(String),
    /// A file could not be written or removed.
    Io { path: PathBuf, error: io::Error },
}

/// Where the hooks and the log go.
struct GitPaths {
    hooks: PathBuf,
    log: PathBuf,
}

fn git_paths(root: &Path) -> Result<GitPaths, HookError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "hooks",
            "--git-common-dir",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HookError::NotARepository(format!("git kann nicht gestartet werden ({e})")))?;
    if !out.status.success() {
        return Err(HookError::NotARepository(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(hooks), Some(common)) => Ok(GitPaths {
            hooks: PathBuf::from(hooks),
            log: Path::new(common).join(LOG),
        }),
        _ => Err(HookError::NotARepository(format!(
            "unerwartete Ausgabe von git rev-parse: {text}"
        ))),
    }
}

/// Whether a hook file's text is one regelwerk wrote.
pub fn is_ours(text: &str) -> bool {
    text.lines().any(|line| line.trim() == MARKER)
}

/// Quotes a value for a POSIX shell: in single quotes, each `'` as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The text of a hook.
pub fn script(exe: &Path, root: &Path, to: &Path, branch: &str, log: &Path) -> String {
    let q = |p: &Path| shell_quote(&p.to_string_lossy());
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # Veröffentlicht die Website im Hintergrund, wenn auf dem Zweig {branch} committet oder gemergt wurde.\n\
         # Der Hook endet immer mit 0: er hält keinen Commit auf und lässt keinen scheitern.\n\
         branch=$(git symbolic-ref --quiet --short HEAD 2>/dev/null) || exit 0\n\
         [ \"$branch\" = {branch_q} ] || exit 0\n\
         unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX\n\
         log={log}\n\
         {{ printf '%s regelwerk publish %s\\n' \"$(date '+%Y-%m-%d %H:%M:%S')\" \"$(git rev-parse --short HEAD 2>/dev/null)\"; }} >>\"$log\" 2>/dev/null\n\
         nohup {exe} publish --root {root} --to {to} >>\"$log\" 2>&1 </dev/null &\n\
         exit 0\n",
        branch_q = shell_quote(branch),
        log = q(log),
        exe = q(exe),
        root = q(root),
        to = q(to),
    )
}

/// Writes the hooks. Refuses, writing nothing, when a hook of the same name exists that regelwerk did not
/// write; regelwerk's own hooks are replaced (e.g. with a new target). Returns the files written.
pub fn install(options: &HookOptions) -> Result<Vec<PathBuf>, HookError> {
    if options.branch.is_empty() || options.branch.contains(['\n', '\r']) {
        return Err(HookError::Invalid(format!(
            "„{}“ ist kein gültiger Zweigname.",
            options.branch
        )));
    }
    let paths = git_paths(&options.root)?;
    let root = options.root.canonicalize().map_err(|error| HookError::Io {
        path: options.root.clone(),
        error,
    })?;
    let to = std::path::absolute(&options.to).map_err(|error| HookError::Io {
        path: options.to.clone(),
        error,
    })?;
    let foreign: Vec<PathBuf> = HOOKS
        .iter()
        .map(|name| paths.hooks.join(name))
        .filter(|path| {
            std::fs::read(path).is_ok_and(|bytes| !is_ours(&String::from_utf8_lossy(&bytes)))
        })
        .collect();
    if !foreign.is_empty() {
        return Err(HookError::Foreign(foreign));
    }
    std::fs::create_dir_all(&paths.hooks).map_err(|error| HookError::Io {
        path: paths.hooks.clone(),
        error,
    })?;
    let text = script(&options.exe, &root, &to, &options.branch, &paths.log);
    let mut written = Vec::new();
    for name in HOOKS {
        let path = paths.hooks.join(name);
        write_executable(&path, &text).map_err(|error| HookError::Io {
            path: path.clone(),
            error,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Removes regelwerk's hooks; foreign hooks stay. Returns (removed, foreign hooks left in place).
pub fn uninstall(root: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), HookError> {
    let paths = git_paths(root)?;
    let mut removed = Vec::new();
    let mut foreign = Vec::new();
    for name in HOOKS {
        let path = paths.hooks.join(name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if is_ours(&String::from_utf8_lossy(&bytes)) {
            std::fs::remove_file(&path).map_err(|error| HookError::Io {
                path: path.clone(),
                error,
            })?;
            removed.push(path);
        } else {
            foreign.push(path);
        }
    }
    Ok((removed, foreign))
}

/// Writes `text` to `path` through a temporary file and marks it executable.
fn write_executable(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension(format!("regelwerk-tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes_and_spaces() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_script_is_marked_and_always_exits_zero() {
        let text = script(
            Path::new("/opt/regel werk/regelwerk"),
            Path::new("/srv/site"),
            Path::new("/var/www/ki"),
            "main",
            Path::new("/srv/site/.git/regelwerk-publish.log"),
        );
        assert!(is_ours(&text));
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.contains(
            "nohup '/opt/regel werk/regelwerk' publish --root '/srv/site' --to '/var/www/ki'"
        ));
        assert!(text.trim_end().ends_with("exit 0"));
        assert!(!is_ours("#!/bin/sh\nmake test\n"));
    }
}
