//! The search stage's caches as a user meets them: after an edit, a rebuild that takes unchanged pages
//! from `.regelwerk-cache/search/` writes exactly the index a clean build of the edited site writes —
//! with the native index (per-page cache, the shard's index updated in place) and with Pagefind's library
//! (shard cache).

mod support;

use std::path::Path;

use support::{
    SOURCE_DATE_EPOCH, copy_tree, damage_search_packs, regelwerk, snapshot_tree, valid_site,
};

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

/// Builds through the library (as the CLI does) and returns what the search stage reports.
fn build_reporting(root: &Path) -> regelwerk::search::Report {
    let mut options = regelwerk::BuildOptions::new(root);
    let epoch: i64 = SOURCE_DATE_EPOCH.parse().unwrap();
    options.today = chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap()
        .date_naive();
    regelwerk::build(&options).expect("the site builds").search
}

/// The native index's in-place update: after an edit that keeps every page (the shard's index of
/// the last build is updated, not written anew) and after pages are added and removed (written anew
/// from all pages), the index is the one a clean build writes. Each step checks which path it took,
/// so that a broken update cannot pass as a full rewrite.
#[test]
fn native_index_updates_in_place_and_equals_clean_builds() {
    let site = valid_site();
    let root = site.path();
    // Small sites share one shard; every page of it is then in the updated index.
    let first = build_reporting(root);
    assert_eq!(first.updated, 0, "{first:?}");
    assert!(first.read > 5, "{first:?}");
    let guideline = root.join("content/leitlinien/datenschutz.md");

    // (what, the change, shards updated in place)
    type Step<'a> = (&'a str, Box<dyn Fn(&Path) + 'a>, usize);
    let steps: Vec<Step> = vec![
        (
            "one page edited",
            Box::new(|_| append(&guideline, "\nDie Aufsicht prüft die Übermittlung.\n")),
            1,
        ),
        (
            "the same page edited again, earlier words shifted",
            Box::new(|_| {
                let text = std::fs::read_to_string(&guideline).unwrap();
                let text = text.replacen(
                    "\n\n",
                    "\n\nEin neuer erster Satz mit Modellrisiken.\n\n",
                    1,
                );
                std::fs::write(&guideline, text).unwrap();
            }),
            1,
        ),
        (
            "a page added",
            Box::new(|root| {
                std::fs::write(
                    root.join("content/seiten/hinweise.md"),
                    "+++\ntitle = \"Hinweise\"\ndescription = \"Hinweise zur Nutzung\"\n+++\n\n\
                     ## Nutzung\n\nDie Hinweise gelten für alle Ämter.\n",
                )
                .unwrap();
            }),
            0,
        ),
        (
            "the added page edited",
            Box::new(|root| {
                append(
                    &root.join("content/seiten/hinweise.md"),
                    "\nNachtrag zur Nutzung.\n",
                )
            }),
            1,
        ),
        (
            "a page removed",
            Box::new(|root| std::fs::remove_file(root.join("content/seiten/hinweise.md")).unwrap()),
            0,
        ),
    ];
    for (what, change, updated) in steps {
        change(root);
        let report = build_reporting(root);
        assert_eq!(report.updated, updated, "{what}: {report:?}");
        assert!(report.read >= 1 || updated == 0, "{what}: {report:?}");
        assert!(
            index(root) == clean_index(root),
            "{what}: the rebuilt index differs from a clean build's"
        );
    }
}

#[test]
fn a_damaged_search_pack_is_caught_where_it_is_written_and_the_index_made_again() {
    let site = valid_site();
    build(site.path());
    let damaged = damage_search_packs(site.path());
    // A new output folder: every file is written, and checked against its hash first.
    std::fs::remove_dir_all(site.path().join("public")).unwrap();
    build(site.path());
    assert!(
        index(site.path()) == clean_index(site.path()),
        "the index written differs from a clean build"
    );
    // The search cache was made again: no pack is the damaged one.
    for (path, bytes) in damaged {
        assert_ne!(std::fs::read(&path).ok(), Some(bytes), "{}", path.display());
    }
}
