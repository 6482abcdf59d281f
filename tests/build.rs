//! The build as a user runs it: deterministic output, atomic replacement, a snapshot of a rendered page,
//! and the command line's exit codes.

mod support;

use support::{build_into, copy_tree, regelwerk, snapshot_tree, valid_site};

#[test]
fn the_same_input_gives_byte_identical_output() {
    let site = valid_site();
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    assert!(build_into(site.path(), &a, &[]).status.success());
    assert!(build_into(site.path(), &b, &[]).status.success());
    let (first, second) = (snapshot_tree(&a), snapshot_tree(&b));
    assert!(
        first.len() > 10,
        "the build wrote only {} files",
        first.len()
    );
    assert!(first == second, "two builds of the same input differ");
}

#[test]
fn a_build_without_search_leaves_no_index_of_an_earlier_build() {
    let site = valid_site();
    let out = tempfile::tempdir().unwrap();
    let public = out.path().join("public");
    // Two builds with the index: the spare the third build starts from holds one.
    assert!(build_into(site.path(), &public, &[]).status.success());
    assert!(build_into(site.path(), &public, &[]).status.success());
    let pages_only = build_into(site.path(), &public, &["--no-search"]);
    assert!(pages_only.status.success());
    let left: Vec<String> = snapshot_tree(&public)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.starts_with("pagefind/"))
        .collect();
    assert!(left.is_empty(), "an earlier index was left: {left:?}");
}

#[test]
fn no_search_writes_the_same_pages_without_the_index() {
    let site = valid_site();
    let out = tempfile::tempdir().unwrap();
    let (with, without) = (out.path().join("with"), out.path().join("without"));
    assert!(build_into(site.path(), &with, &[]).status.success());
    let pages_only = build_into(site.path(), &without, &["--no-search"]);
    assert!(pages_only.status.success());
    let all = snapshot_tree(&with);
    let expected: Vec<_> = all
        .iter()
        .filter(|(path, _)| !path.starts_with("pagefind/"))
        .cloned()
        .collect();
    assert!(
        expected.len() < all.len(),
        "the default build has a search index"
    );
    assert!(
        snapshot_tree(&without) == expected,
        "--no-search changed more than the index"
    );
}

#[test]
fn a_broken_build_leaves_the_previous_site_byte_identical() {
    let site = valid_site();
    let public = site.path().join("public");
    let first = regelwerk(&["build", "--root", site.path().to_str().unwrap()]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = snapshot_tree(&public);

    // An edit that breaks the site: a guideline with an invalid date and a broken link.
    let broken = site.path().join("content/leitlinien/kaputt.md");
    std::fs::write(
        &broken,
        "+++\nid = \"kaputt\"\ntitle = \"K\"\nsummary = \"Kaputt\"\nstatus = \"entwurf\"\nowner = \"ki-beauftragte\"\n\
         gueltig_ab = \"2026-13-01\"\n+++\n\n[Link](fehlt.md)\n",
    )
    .unwrap();
    let second = regelwerk(&["build", "--root", site.path().to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("E10") && stderr.contains("L1"),
        "all problems are reported: {stderr}"
    );
    assert!(
        stderr.contains("content/leitlinien/kaputt.md:7"),
        "file and line are named: {stderr}"
    );
    assert!(
        before == snapshot_tree(&public),
        "the previous output changed"
    );

    let leftovers: Vec<String> = std::fs::read_dir(site.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.contains(".staging-") || name.contains(".old-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging folders left behind: {leftovers:?}"
    );
}

#[test]
fn a_rebuild_replaces_the_page_of_a_removed_guideline() {
    let site = valid_site();
    let public = site.path().join("public");
    assert!(
        regelwerk(&["build", "--root", site.path().to_str().unwrap()])
            .status
            .success()
    );
    assert!(public.join("leitlinien/datenschutz/index.html").is_file());
    std::fs::remove_file(site.path().join("content/leitlinien/datenschutz.md")).unwrap();
    // The remaining guideline links to the removed one: fix that link, then rebuild.
    let path = site.path().join("content/leitlinien/grundsaetze.md");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("(datenschutz.md#dsfa)", "(#geltungsbereich)");
    std::fs::write(&path, text).unwrap();
    let out = regelwerk(&["build", "--root", site.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Its text is gone; its address now says so (its Stand keeps its permalink, tests/history.rs), with
    // no date, as the deletion is not committed.
    let notice = std::fs::read_to_string(public.join("leitlinien/datenschutz/index.html")).unwrap();
    assert!(!notice.contains("prüft die Fachverantwortung"), "{notice}");
    assert!(notice.contains("Dieses Dokument wird nicht mehr veröffentlicht."));
    assert!(!notice.contains("Entfernt am"));
    let index = std::fs::read_to_string(public.join("leitlinien/index.html")).unwrap();
    assert!(!index.contains("leitlinien/datenschutz/"));
}

#[test]
fn a_guideline_page_renders_as_in_the_snapshot() {
    let site = valid_site();
    let out = tempfile::tempdir().unwrap();
    assert!(build_into(site.path(), out.path(), &[]).status.success());
    let html =
        std::fs::read_to_string(out.path().join("leitlinien/grundsaetze/index.html")).unwrap();
    insta::assert_snapshot!("guideline_page", redact_asset_hashes(&html));
}

/// The stylesheet's cache-busting hash changes with every CSS edit, a commit id with every fixture edit;
/// the page layout is what matters here.
fn redact_asset_hashes(html: &str) -> String {
    redact_after(&redact_after(html, "?v=", "HASH"), "stand/", "COMMIT")
}

/// Replaces the hex digits that follow each `marker` with `placeholder`.
fn redact_after(text: &str, marker: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let hash_len = rest.chars().take_while(char::is_ascii_hexdigit).count();
        if hash_len > 0 {
            out.push_str(placeholder);
        }
        rest = &rest[hash_len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_output_may_not_contain_the_site() {
    let site = valid_site();
    let out = build_into(site.path(), site.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(site.path().join("regelwerk.toml").is_file());
}

#[test]
fn every_command_has_help_and_usage_errors_exit_with_2() {
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["build", "--help"],
        vec!["check", "--help"],
        vec!["serve", "--help"],
    ] {
        let out = regelwerk(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    assert_eq!(
        regelwerk(&["build", "--no-such-flag"]).status.code(),
        Some(2)
    );
    assert_eq!(
        regelwerk(&["check", "--format", "xml"]).status.code(),
        Some(2)
    );
    assert_eq!(regelwerk(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn a_site_from_init_passes_check_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("neu");
    let out = regelwerk(&["init", site.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = regelwerk(&[
        "check",
        "--root",
        site.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "[]");
    assert!(check.status.success());
    assert!(
        regelwerk(&["build", "--root", site.to_str().unwrap()])
            .status
            .success()
    );
    assert!(site.join("public/index.html").is_file());
    // A second init refuses to overwrite the site.
    assert_eq!(
        regelwerk(&["init", site.to_str().unwrap()]).status.code(),
        Some(2)
    );
}

#[test]
fn a_missing_config_is_a_content_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = regelwerk(&["check", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("regelwerk init"));
}

/// `regelwerk build -v` in `root`: how many pages came from the store and how many were rendered.
fn build_counting(root: &std::path::Path) -> (usize, usize) {
    let out = regelwerk(&["build", "-v", "--root", root.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Seiten: "))
        .unwrap_or_else(|| panic!("no page counts in {stderr}"));
    let numbers: Vec<usize> = line
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

/// The site a clean build of a copy of `root` writes (no caches, no earlier output).
fn clean_build(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let copy = tempfile::tempdir().unwrap();
    copy_tree(root, copy.path());
    let _ = std::fs::remove_dir_all(copy.path().join(regelwerk::CACHE_DIR));
    let _ = std::fs::remove_dir_all(copy.path().join("public"));
    let out = regelwerk(&["build", "--root", copy.path().to_str().unwrap()]);
    assert!(out.status.success());
    snapshot_tree(&copy.path().join("public"))
}

fn append(path: &std::path::Path, text: &str) {
    let mut content = std::fs::read_to_string(path).unwrap();
    content.push_str(text);
    std::fs::write(path, content).unwrap();
}

#[test]
fn a_rebuild_renders_only_the_pages_that_changed_and_writes_what_a_clean_build_writes() {
    let site = valid_site();
    let root = site.path();
    let (reused, rendered) = build_counting(root);
    assert_eq!(reused, 0, "the first build has nothing to reuse");
    assert!(rendered > 10, "{rendered} pages rendered");
    let pages = rendered;
    assert_eq!(build_counting(root), (pages, 0), "nothing changed");

    let guideline = root.join("content/leitlinien/datenschutz.md");
    append(
        &guideline,
        "\nEin neuer Absatz zur Löschung von Eingaben.\n",
    );
    let (reused, rendered) = build_counting(root);
    assert_eq!(reused + rendered, pages);
    assert!(
        (1..=3).contains(&rendered),
        "an edited paragraph renders its page, not {rendered} pages"
    );
    let public = || snapshot_tree(&root.join("public"));
    assert!(
        public() == clean_build(root),
        "the rebuild differs from a clean build"
    );

    // Without the search cache the search reads the reused pages from the store.
    std::fs::remove_dir_all(root.join(regelwerk::CACHE_DIR).join("search")).unwrap();
    append(&guideline, "Noch ein Satz.\n");
    let (_, rendered) = build_counting(root);
    assert!(rendered < pages / 2, "{rendered} of {pages} rendered");
    assert!(public() == clean_build(root), "without the search cache");

    // The store's files deleted by hand (its index kept): everything is rendered again.
    let store = root.join(regelwerk::CACHE_DIR).join(regelwerk::reuse::DIR);
    std::fs::remove_dir_all(store.join("files")).unwrap();
    std::fs::remove_dir_all(root.join(regelwerk::CACHE_DIR).join("search")).unwrap();
    append(&guideline, "Und ein dritter.\n");
    assert_eq!(build_counting(root), (0, pages), "the store is not trusted");
    assert!(public() == clean_build(root), "without the store's files");
    assert!(store.join("files").is_dir(), "the store is filled again");
}

#[test]
fn a_damaged_file_of_cached_bodies_is_noticed_and_the_site_made_without_it() {
    let site = valid_site();
    let root = site.path();
    let (_, pages) = build_counting(root);
    let bodies = root
        .join(regelwerk::CACHE_DIR)
        .join(regelwerk::content::CACHE_DIR);
    let text_files: Vec<std::path::PathBuf> = std::fs::read_dir(&bodies)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "text"))
        .collect();
    assert!(
        !text_files.is_empty(),
        "the texts and the bodies' HTML have files of their own"
    );
    // Every body changed in place behind its tag (16 bytes): the cache's index still matches.
    for path in &text_files {
        let mut bytes = std::fs::read(path).unwrap();
        for byte in bytes.iter_mut().skip(16) {
            if byte.is_ascii_lowercase() {
                *byte = b'x';
            }
        }
        std::fs::write(path, bytes).unwrap();
    }
    // Without the store, every page is rendered from the cached bodies.
    std::fs::remove_dir_all(root.join(regelwerk::CACHE_DIR).join(regelwerk::reuse::DIR)).unwrap();
    assert_eq!(build_counting(root), (0, pages));
    assert!(
        snapshot_tree(&root.join("public")) == clean_build(root),
        "a page shows a damaged body"
    );
    // The cache was written again, whole: the next build reuses it.
    assert_eq!(build_counting(root), (pages, 0));
    for path in &text_files {
        let bytes = std::fs::read(path).unwrap();
        let body = &bytes[16..];
        assert!(
            body.is_empty() || body.iter().any(|b| b.is_ascii_lowercase() && *b != b'x'),
            "{} is written again",
            path.display()
        );
    }
}

#[test]
fn leftovers_of_an_interrupted_build_are_gone_when_the_next_build_returns() {
    let site = valid_site();
    let root = site.path();
    // What a killed build leaves beside the output: a replaced site not yet deleted, and the staging
    // folder of a process that no longer exists.
    let old = root.join(".public.old-4242-1");
    let staging = root.join(".public.staging-4194300");
    for dir in [&old, &staging] {
        for i in 0..200 {
            let sub = dir.join(format!("seite-{i}"));
            std::fs::create_dir_all(&sub).unwrap();
            std::fs::write(sub.join("index.html"), "<p>alt</p>").unwrap();
        }
    }
    let out = regelwerk(&["build", "--root", root.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(!old.exists(), "the replaced site is deleted");
    assert!(!staging.exists(), "the dead staging folder is deleted");
}
