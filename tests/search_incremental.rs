//! The search stage's caches as a user meets them: after an edit, a rebuild that takes unchanged pages
//! from `.regelwerk-cache/search/` writes exactly the index a clean build of the edited site writes —
//! with the native index (per-page cache) and with Pagefind's library (shard cache).

mod support;

use std::path::Path;

use support::{copy_tree, regelwerk, snapshot_tree, valid_site};

fn build(root: &Path) {
    let out = regelwerk(&["build", "--root", root.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files of the search index in `<root>/public/pagefind/`.
fn index(root: &Path) -> Vec<(String, Vec<u8>)> {
    snapshot_tree(&root.join("public/pagefind"))
}

/// A clean build of a copy of `root` (no cache, no earlier output): its index.
fn clean_index(root: &Path) -> Vec<(String, Vec<u8>)> {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(root, copy.path());
    let _ = std::fs::remove_dir_all(copy.path().join(".regelwerk-cache"));
    let _ = std::fs::remove_dir_all(copy.path().join("public"));
    build(copy.path());
    index(copy.path())
}

fn append(path: &Path, text: &str) {
    let mut content = std::fs::read_to_string(path).unwrap();
    content.push_str(text);
    std::fs::write(path, content).unwrap();
}

fn edits_rebuild_like_a_clean_build(site: &Path) {
    build(site);
    let first = index(site);
    assert!(first.len() > 5, "{} index files", first.len());
    build(site);
    assert!(index(site) == first, "an unchanged rebuild differs");

    let guideline = site.join("content/leitlinien/datenschutz.md");
    // A new paragraph with a compound whose tail is a word new to the site.
    append(
        &guideline,
        "\nDie Modellrisikobewertung folgt der Bewertung.\n",
    );
    build(site);
    let edited = index(site);
    assert!(edited != first, "the edit changed the index");
    assert!(
        edited == clean_index(site),
        "the cached rebuild after an edit differs from a clean build"
    );
}

#[test]
fn native_index_cached_rebuilds_equal_clean_builds() {
    let site = valid_site();
    edits_rebuild_like_a_clean_build(site.path());
    let stores = std::fs::read_dir(site.path().join(".regelwerk-cache/search/pages"))
        .unwrap()
        .count();
    assert!(stores >= 2, "the per-page cache is written");
}

#[test]
fn pagefind_backend_cached_rebuilds_equal_clean_builds() {
    let site = valid_site();
    append(
        &site.path().join("regelwerk.toml"),
        "\n[search]\nbackend = \"pagefind\"\n",
    );
    edits_rebuild_like_a_clean_build(site.path());
}
