//! `regelwerk publish` and `regelwerk hook`: releases switched atomically through the `current` link, the
//! later commit wins, and an interruption at any moment leaves one whole site.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{
    SOURCE_DATE_EPOCH, build_into, commit_at, damage_search_packs, git, regelwerk, snapshot_tree,
    valid_site,
};

type Tree = Vec<(String, Vec<u8>)>;

/// Commits everything at `time` with the fixed test date in the environment (hooks inherit it).
fn commit(dir: &Path, message: &str, time: i64) -> String {
    let env = [("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH), ("NO_COLOR", "1")];
    commit_at(dir, message, time, &env, false)
}

/// Changes the title of the fixture's draft guideline (the site stays valid).
fn retitle(site: &Path, title: &str) {
    let path = site.join("content/leitlinien/datenschutz.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("title = \"").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let new = format!("{}title = \"{title}\"{}", &text[..start], &text[end..]);
    std::fs::write(path, new).unwrap();
}

/// What `regelwerk build` writes for the site as it is now.
fn expected(site: &Path) -> Tree {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("site");
    let result = build_into(site, &dir, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    snapshot_tree(&dir)
}

fn publish_cmd(site: &Path, to: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regelwerk"));
    command
        .args(["publish", "--keep", "2", "--root"])
        .arg(site)
        .arg("--to")
        .arg(to)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .env("NO_COLOR", "1");
    command
}

fn publish(site: &Path, to: &Path) -> std::process::Output {
    let out = publish_cmd(site, to).output().unwrap();
    assert!(
        out.status.success(),
        "publish failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn current(to: &Path) -> Tree {
    snapshot_tree(&to.join("current"))
}

fn current_commit(to: &Path) -> Option<String> {
    regelwerk::publish::current_release(to).and_then(|r| r.commit)
}

/// Asserts that `current` shows exactly one of the given builds, every file of it.
fn assert_whole(to: &Path, old: &Tree, new: &Tree, when: &str) {
    let shown = current(to);
    assert!(
        !shown.is_empty() && (shown == *old || shown == *new),
        "after {when}: current is neither the old nor the new site, whole ({} files; old {}, new {})",
        shown.len(),
        old.len(),
        new.len()
    );
}

fn leftovers(to: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for dir in [to.to_path_buf(), to.join("releases")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if name.contains(".tmp-") || name.starts_with(".staging-") {
                names.push(name);
            }
        }
    }
    names
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn publish_switches_current_keeps_n_releases_and_skips_older_commits() {
    let site = valid_site();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("www");
    let first = git(site.path(), &["rev-parse", "HEAD"]).trim().to_string();
    let out = publish(site.path(), &to);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&first[..12]));
    // The caches for the next publish were written after the switch: the search index's among them.
    let search_cache = site.path().join(".regelwerk-cache/search");
    let packs = std::fs::read_dir(&search_cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert!(packs > 0, "no search pack in {}", search_cache.display());
    assert_eq!(current(&to), expected(site.path()));
    assert_eq!(
        std::fs::read_link(to.join("current")).unwrap(),
        PathBuf::from("releases").join(&first[..12])
    );
    // The same commit again: nothing changes.
    let again = publish(site.path(), &to);
    assert!(String::from_utf8_lossy(&again.stdout).contains("bereits veröffentlicht"));

    let mut commits = vec![first];
    for (i, title) in ["Zwei", "Drei", "Vier"].iter().enumerate() {
        retitle(site.path(), title);
        commits.push(commit(site.path(), title, 1_780_000_100 + i as i64));
        let out = String::from_utf8_lossy(&publish(site.path(), &to).stdout).into_owned();
        assert_eq!(
            current_commit(&to).as_deref(),
            commits.last().map(String::as_str)
        );
        // With two releases kept, from the third on the oldest one is recycled: the same site results.
        assert_eq!(out.contains("wiederverwendet"), commits.len() >= 3, "{out}");
        assert_eq!(current(&to), expected(site.path()));
    }
    // --keep 2: the two newest releases stay, with their records and manifests.
    let mut left: Vec<String> = std::fs::read_dir(to.join("releases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    let mut want: Vec<String> = commits[2..]
        .iter()
        .flat_map(|c| {
            [
                c[..12].to_string(),
                format!("{}.json", &c[..12]),
                format!(".{}.manifest", &c[..12]),
            ]
        })
        .collect();
    want.sort();
    assert_eq!(left, want);

    // An older commit (checked out again) does not replace the newer one that is published.
    let shown = current(&to);
    git(site.path(), &["checkout", "--quiet", &commits[1]]);
    let out = publish(site.path(), &to);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("neuere Stand"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(current(&to), shown);
    git(site.path(), &["checkout", "--quiet", "main"]);

    // Uncommitted changes are published under a hash of the built files.
    retitle(site.path(), "Entwurf am Schreibtisch");
    publish(site.path(), &to);
    let release = regelwerk::publish::current_release(&to).unwrap();
    assert!(release.uncommitted);
    assert_ne!(release.id, commits[3][..12]);
    assert_eq!(current(&to), expected(site.path()));
}

#[test]
fn a_store_cleared_by_hand_is_rendered_again() {
    let site = valid_site();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("www");
    publish(site.path(), &to);
    retitle(site.path(), "Zwei");
    commit(site.path(), "Zwei", 1_780_000_100);
    // The version store's files are gone, its index is not: the new release (written whole, nothing to
    // recycle yet) cannot link them and is rendered again without the store.
    let files = site
        .path()
        .join(regelwerk::CACHE_DIR)
        .join(regelwerk::reuse::DIR)
        .join("files");
    assert!(files.is_dir());
    std::fs::remove_dir_all(&files).unwrap();
    publish(site.path(), &to);
    assert_eq!(current(&to), expected(site.path()));
    assert!(files.is_dir(), "the store is filled again");
}

#[test]
fn a_damaged_search_pack_is_made_again_while_the_pages_are_written() {
    let site = valid_site();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("www");
    publish(site.path(), &to);
    // A byte flipped inside a file of each search pack; the next commit changes no page, so every
    // search file comes from the packs (while the pages are written), and the damaged one is caught.
    damage_search_packs(site.path());
    git(
        site.path(),
        &["commit", "-q", "--allow-empty", "-m", "leer"],
    );
    publish(site.path(), &to);
    assert_eq!(current(&to), expected(site.path()));
    assert!(leftovers(&to).is_empty(), "{:?}", leftovers(&to));
}

#[test]
fn a_broken_site_is_not_published_and_current_stays() {
    let site = valid_site();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("www");
    publish(site.path(), &to);
    let before = current(&to);
    std::fs::write(
        site.path().join("content/leitlinien/kaputt.md"),
        "+++\nid = \"kaputt\"\n+++\n",
    )
    .unwrap();
    commit(site.path(), "kaputt", 1_780_000_100);
    let out = publish_cmd(site.path(), &to).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E1"));
    assert_eq!(current(&to), before);
}

#[test]
fn an_interrupted_publish_leaves_one_whole_site() {
    let site = valid_site();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("www");
    publish(site.path(), &to);
    let mut time = 1_780_000_100;
    let mut next_commit = |site: &Path, label: &str| {
        time += 10;
        retitle(site, label);
        commit(site, label, time);
        expected(site)
    };

    // The named steps of the test hook, in the order publish passes them (pruning needs more than --keep 2).
    for stage in [
        "locked", "writing", "written", "recorded", "released", "linked", "switched", "caching",
        "pruning",
    ] {
        let old = current(&to);
        let new = next_commit(site.path(), &format!("Stand vor {stage}"));
        if stage == "pruning" {
            // Releases without manifests (as an older regelwerk wrote them) are pruned, not recycled.
            for entry in std::fs::read_dir(to.join("releases")).unwrap() {
                let path = entry.unwrap().path();
                if path.to_string_lossy().ends_with(".manifest") {
                    std::fs::remove_file(path).unwrap();
                }
            }
        }
        let out = publish_cmd(site.path(), &to)
            .env(regelwerk::publish::CRASH_ENV, stage)
            .output()
            .unwrap();
        assert!(!out.status.success(), "publish did not stop at {stage}");
        assert_whole(&to, &old, &new, &format!("a stop at {stage}"));
        // The next publish cleans up and shows the new commit.
        publish(site.path(), &to);
        assert_eq!(current(&to), new, "after the stop at {stage}");
        assert_eq!(leftovers(&to), Vec::<String>::new(), "after {stage}");
    }

    // Real kills at different moments.
    for delay_ms in [0, 5, 15, 30, 60, 120, 250] {
        let old = current(&to);
        let new = next_commit(site.path(), &format!("Abbruch nach {delay_ms} ms"));
        let mut child = publish_cmd(site.path(), &to)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        assert_whole(&to, &old, &new, &format!("kill -9 after {delay_ms} ms"));
    }
    publish(site.path(), &to);
    assert_eq!(leftovers(&to), Vec::<String>::new());
}

#[test]
fn the_hook_publishes_the_last_of_two_quick_commits() {
    let site = valid_site();
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("www");
    let root = site.path().to_str().unwrap();
    let out = regelwerk(&[
        "hook",
        "install",
        "--root",
        root,
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = std::fs::read_to_string(site.path().join(".git/hooks/post-commit")).unwrap();
    assert!(hook.contains(env!("CARGO_BIN_EXE_regelwerk")));

    retitle(site.path(), "Erster schneller Commit");
    commit(site.path(), "eins", 1_780_000_100);
    retitle(site.path(), "Zweiter schneller Commit");
    let second = commit(site.path(), "zwei", 1_780_000_101);
    let want = expected(site.path());

    // Each publish ends its log with one of these lines; wait for both.
    let log = site.path().join(".git/regelwerk-publish.log");
    wait_for("both publishes to finish", Duration::from_secs(120), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let done = text
            .lines()
            .filter(|l| {
                l.starts_with("Veröffentlicht:")
                    || l.starts_with("Nichts geändert:")
                    || l.starts_with("Nichts veröffentlicht:")
            })
            .count();
        done >= 2
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("Nichts veröffentlicht:"), "{text}");
    assert_eq!(
        current_commit(&to).as_deref(),
        Some(second.as_str()),
        "{text}"
    );
    assert!(current(&to) == want, "current is the second commit, whole");

    // A commit on another branch publishes nothing.
    git(site.path(), &["checkout", "--quiet", "-b", "entwurf"]);
    retitle(site.path(), "Nur ein Entwurf");
    commit(site.path(), "entwurf", 1_780_000_102);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(current_commit(&to).as_deref(), Some(second.as_str()));

    // Foreign hooks are neither overwritten nor removed; uninstall removes only ours.
    let hooks = site.path().join(".git/hooks");
    std::fs::write(hooks.join("post-merge"), "#!/bin/sh\necho eigener Hook\n").unwrap();
    let out = regelwerk(&[
        "hook",
        "install",
        "--root",
        root,
        "--to",
        to.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = regelwerk(&["hook", "uninstall", "--root", root]);
    assert!(out.status.success());
    assert!(!hooks.join("post-commit").exists());
    assert_eq!(
        std::fs::read_to_string(hooks.join("post-merge")).unwrap(),
        "#!/bin/sh\necho eigener Hook\n"
    );
}
