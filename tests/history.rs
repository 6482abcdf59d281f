//! Versions from git, end to end: a fixture repository with several commits, a rename, a decision and a
//! moved paragraph; the Stand and Fassung pages, the Synopse, versions.json, the Atom feed; shallow clones and
//! sites outside git.

mod support;

use std::path::Path;

use support::{build_into, commit_all, git, regelwerk, valid_site};

const T0: i64 = 1_780_000_000;
const DAY: i64 = 86_400;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn edit(site: &Path, file: &str, from: &str, to: &str) {
    let path = site.join(file);
    let text = read(&path);
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The valid site, then: an edit with a moved paragraph, a rename, an adoption, a later draft.
fn repository() -> (tempfile::TempDir, Vec<String>) {
    let site = valid_site();
    let dir = site.path();
    let mut commits = vec![git(dir, &["rev-parse", "HEAD"]).trim().to_string()];

    // 2: a word changes and the table moves above the heading before it.
    let path = dir.join("content/leitlinien/grundsaetze.md");
    let text = read(&path);
    let table = "| Grundsatz | Bedeutung |\n|-----------|-----------|\n| Mensch entscheidet | KI unterstützt nur. |\n| Offenheit | Jedes System steht im Register.[^register] |\n\n";
    assert!(text.contains(table));
    let text = text
        .replace(table, "")
        .replace(
            "Diese Leitlinie gilt für alle Ämter.",
            "Diese Regel gilt für alle Ämter und Eigenbetriebe.",
        )
        .replace(
            "## Grundsätze der Nutzung\n\n",
            &format!("{table}## Grundsätze der Nutzung\n\n"),
        );
    std::fs::write(&path, text).unwrap();
    commits.push(commit_all(
        dir,
        "Geltungsbereich erweitert, Tabelle verschoben",
        T0 + DAY,
    ));

    // 3: the file is renamed; its id stays.
    git(
        dir,
        &[
            "mv",
            "content/leitlinien/datenschutz.md",
            "content/leitlinien/dsgvo.md",
        ],
    );
    edit(
        dir,
        "content/leitlinien/grundsaetze.md",
        "(datenschutz.md#dsfa)",
        "(dsgvo.md#dsfa)",
    );
    commits.push(commit_all(dir, "Datei umbenannt", T0 + 2 * DAY));

    // 4: the Kreistag adopts the data protection guideline.
    edit(
        dir,
        "content/leitlinien/dsgvo.md",
        "status = \"entwurf\"\nowner = \"datenschutz\"\norder = 2\n",
        "status = \"beschlossen\"\nowner = \"datenschutz\"\norder = 2\ngueltig_ab = 2026-10-01\n\n[beschluss]\ngremium = \"Kreistag\"\ndatum = 2026-09-24\nvorlage = \"2026/120\"\n",
    );
    commits.push(commit_all(dir, "Beschluss des Kreistags", T0 + 3 * DAY));

    // 5: a newer draft of the adopted text.
    edit(
        dir,
        "content/leitlinien/dsgvo.md",
        "prüft die Fachverantwortung",
        "prüft die Fachverantwortung unverzüglich",
    );
    commits.push(commit_all(dir, "Neuer Entwurf", T0 + 4 * DAY));
    (site, commits)
}

fn short(commit: &str) -> &str {
    &commit[..12]
}

#[test]
fn stands_fassungen_synopse_and_feed_from_a_repository() {
    let (site, commits) = repository();
    let out = tempfile::tempdir().unwrap();
    let public = out.path();
    let build = build_into(site.path(), public, &[]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );

    // Every commit that changed a guideline is a Stand with a permanent page.
    let g = public.join("leitlinien/grundsaetze");
    assert!(
        g.join(format!("stand/{}/index.html", short(&commits[0])))
            .is_file()
    );
    assert!(
        g.join(format!("stand/{}/index.html", short(&commits[1])))
            .is_file()
    );
    let first = read(&g.join(format!("stand/{}/index.html", short(&commits[0]))));
    assert!(
        first.contains("Diese Leitlinie gilt für alle Ämter."),
        "the old text"
    );
    assert!(first.contains("Es gibt einen neueren Stand."));
    // Its table of contents is the current page's: level-3 headings nested under their level 2.
    let toc = |html: &str| {
        let start = html
            .find("<nav data-pagefind-ignore class=\"toc\"")
            .expect("a toc");
        html[start..start + html[start..].find("</nav>").unwrap()].to_string()
    };
    assert!(toc(&first).contains("<ol class=\"toc__sublist\">"));
    assert_eq!(toc(&first), toc(&read(&g.join("index.html"))));

    // The renamed document keeps its history under its id; the rename alone is no Stand.
    let d = public.join("leitlinien/datenschutz");
    let json: serde_json::Value = serde_json::from_str(&read(&d.join("versions.json"))).unwrap();
    let keys: Vec<&str> = json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            short(&commits[0]),
            short(&commits[3]),
            short(&commits[4]),
            "aktuell"
        ]
    );
    assert_eq!(json["versions"][1]["beschluss"]["vorlage"], "2026/120");

    // The decision made commit 4 a Fassung, with its own page and table row.
    let fassung = read(&d.join("fassung/2026-09-24/index.html"));
    assert!(
        fassung.contains("Fassung vom 24. September 2026"),
        "{fassung}"
    );
    let fassungen = read(&d.join("fassungen/index.html"));
    assert!(
        fassungen.contains("2026/120") && fassungen.contains("in Kraft"),
        "{fassungen}"
    );
    let current = read(&d.join("index.html"));
    assert!(
        current.contains("ein neuerer Entwurf"),
        "the current text is newer than the Fassung"
    );
    assert!(read(&public.join("beschluesse/index.html")).contains("2026/120"));

    // The Synopse of commit 1 → 2: one changed block (word diff), one moved block, counted.
    let synopse = read(&g.join(format!(
        "synopse/{}/{}/index.html",
        short(&commits[0]),
        short(&commits[1])
    )));
    assert!(
        synopse.contains(
            "<ins><span class=\"visually-hidden\">eingefügt: </span>und Eigenbetriebe</ins>."
        ),
        "word-level insertion: {synopse}"
    );
    assert!(
        synopse.contains("<del><span class=\"visually-hidden\">gelöscht: </span>Leitlinie</del>"),
        "word-level deletion"
    );
    assert!(
        synopse.contains("<ins><span class=\"visually-hidden\">eingefügt: </span>Regel</ins>"),
        "replaced word"
    );
    assert!(
        synopse.contains("<a href=\"/leitlinien/datenschutz/#dsfa\">"),
        "links of earlier versions resolve"
    );
    assert!(
        synopse.contains("synopse__row--moved_here")
            && synopse.contains("synopse__row--moved_away")
    );
    assert!(
        synopse.contains("1 geändert, 0 eingefügt, 0 gestrichen, 1 verschoben"),
        "summary line"
    );

    // The Fassung is compared with today's text.
    assert!(
        d.join(format!("synopse/{}/aktuell/index.html", short(&commits[3])))
            .is_file()
    );

    // The Atom feed is well-formed Atom with one entry per Stand, newest first, without personal names.
    let feed = read(&public.join("aenderungen.atom"));
    let entries = check_atom(&feed);
    assert_eq!(
        entries, 9,
        "3 Stände of grundsaetze (the rename edited its link) + 3 of datenschutz + the first Stand of \
         2 register entries and 1 matrix"
    );
    assert!(
        !feed.contains("Redaktion") && !feed.contains("@testkreis"),
        "no author names or addresses"
    );
}

/// Parses the feed as XML and checks the Atom elements; returns the number of entries.
#[test]
fn the_guideline_page_says_whether_its_text_is_the_fassung_in_force() {
    let (site, commits) = repository();
    let dir = site.path();
    // Back to the adoption: the text in the folder is the Fassung in force.
    git(dir, &["reset", "-q", "--hard", &commits[3]]);
    let page = || {
        read(
            &build_site(dir)
                .path()
                .join("leitlinien/datenschutz/index.html"),
        )
    };
    let adopted = page();
    assert!(
        adopted.contains("Der angezeigte Text ist diese Fassung.")
            && !adopted.contains("ein neuerer Entwurf"),
        "{adopted}"
    );

    // An edit that is not committed yet is a newer draft, compared with the Fassung in force.
    edit(
        dir,
        "content/leitlinien/dsgvo.md",
        "prüft die Fachverantwortung",
        "prüft die Fachverantwortung sofort",
    );
    let draft = page();
    assert!(draft.contains("ein neuerer Entwurf"), "{draft}");
    assert!(
        draft.contains(&format!("synopse/{}/aktuell/", short(&commits[3]))),
        "{draft}"
    );
}

fn check_atom(feed: &str) -> usize {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut reader = Reader::from_str(feed);
    let mut depth_names: Vec<String> = Vec::new();
    let mut entries = 0;
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = AsRef::<str>::as_ref(&e.name()).to_string();
                if root.is_none() {
                    let ns = e
                        .attributes()
                        .filter_map(Result::ok)
                        .find(|a| AsRef::<str>::as_ref(&a.key) == "xmlns")
                        .map(|a| a.value.to_string());
                    assert_eq!(ns.as_deref(), Some("http://www.w3.org/2005/Atom"));
                    root = Some(name.clone());
                }
                if name == "entry" {
                    entries += 1;
                }
                depth_names.push(name);
            }
            Event::End(_) => {
                depth_names.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("feed"));
    for required in ["<id>", "<title>", "<updated>"] {
        assert!(
            feed.matches(required).count() > entries,
            "{required} in feed and every entry"
        );
    }
    entries
}

#[test]
fn diff_summarises_policy_changes_between_revisions() {
    let (site, commits) = repository();
    let root = site.path().to_str().unwrap();
    let out = regelwerk(&[
        "diff",
        &commits[0],
        &commits[4],
        "--root",
        root,
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let docs = json["documents"].as_array().unwrap();
    let grundsaetze = docs
        .iter()
        .find(|d| d["id"] == "grundsaetze")
        .expect("grundsaetze changed");
    assert_eq!(grundsaetze["change"], "geändert");
    assert_eq!(grundsaetze["blocks"]["moved"], 1);
    assert_eq!(
        grundsaetze["blocks"]["changed"], 1,
        "the paragraph with the new scope and the renamed link"
    );
    let datenschutz = docs
        .iter()
        .find(|d| d["id"] == "datenschutz")
        .expect("datenschutz changed");
    assert_eq!(
        datenschutz["path"], "content/leitlinien/dsgvo.md",
        "followed across the rename"
    );
    assert_eq!(
        datenschutz["status"],
        serde_json::json!(["entwurf", "beschlossen"])
    );
    assert!(
        datenschutz["new_fassung"]
            .as_str()
            .unwrap()
            .contains("Kreistag am 24.09.2026")
    );
    assert_eq!(docs.len(), 2, "nothing else changed: {docs:?}");

    let markdown = regelwerk(&["diff", &commits[0], &commits[4], "--root", root]);
    let text = String::from_utf8_lossy(&markdown.stdout);
    assert!(text.contains("**Neue beschlossene Fassungen:**"), "{text}");
    assert!(text.contains("| Grundsätze (`content/leitlinien/grundsaetze.md`) | leitlinie | geändert | 1 | 0 | 0 | 1 |"), "{text}");

    let unknown = regelwerk(&["diff", "gibt-es-nicht", "HEAD", "--root", root]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_shallow_clone_builds_with_a_warning() {
    let (site, _) = repository();
    let clone = tempfile::tempdir().unwrap();
    let target = clone.path().join("klon");
    git(
        clone.path(),
        &[
            "clone",
            "--quiet",
            "--depth",
            "1",
            &format!("file://{}", site.path().display()),
            target.to_str().unwrap(),
        ],
    );
    let out = regelwerk(&["build", "--root", target.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("W8") && stderr.contains("git fetch --unshallow"),
        "{stderr}"
    );
}

#[test]
fn a_site_outside_git_builds_with_a_warning() {
    let site = tempfile::tempdir().unwrap();
    support::copy_tree(&support::fixtures().join("valid"), site.path());
    let out = regelwerk(&[
        "check",
        "--root",
        site.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["code"], "W8");
    assert!(json[0]["message"].as_str().unwrap().contains("git init"));
    let build = regelwerk(&["build", "--root", site.path().to_str().unwrap()]);
    assert!(build.status.success());
    assert!(
        site.path()
            .join("public/leitlinien/grundsaetze/index.html")
            .is_file()
    );
}

/// The files under `dir` with their bytes, by path.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    support::snapshot_tree(dir).into_iter().collect()
}

#[test]
fn unchanged_version_pages_are_reused_and_one_commit_renders_only_its_document() {
    let (site, _) = repository();
    let dir = site.path();
    let mut options = regelwerk::BuildOptions::new(dir);
    options.today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();

    let first = regelwerk::render_with(&options, None).unwrap();
    assert_eq!(
        first.site.versions.counts().files_reused,
        0,
        "nothing to reuse yet"
    );
    regelwerk::build(&options).unwrap();
    let built_once = tree(&dir.join("public"));

    // Nothing changed: every document's version pages come from the store, and the site is the same.
    let again = regelwerk::render_with(&options, None).unwrap();
    let counts = again.site.versions.counts();
    let reused = counts.documents_reused;
    assert!(reused >= 2, "documents with history are reused ({reused})");
    assert_eq!((counts.documents_rendered, counts.files_rendered), (0, 0));
    regelwerk::build(&options).unwrap();
    assert_eq!(
        tree(&dir.join("public")),
        built_once,
        "a rebuild from the store is identical"
    );

    // One commit to one guideline: only that document is rendered again, and of its pages only those the
    // commit changes: its new Stand, the one before (its „next“ link), comparisons with the new text, the
    // overview and versions.json. Older Stände and comparisons between them come from the store.
    let files_before = stands_and_comparisons(&built_once, "grundsaetze");
    edit(
        dir,
        "content/leitlinien/grundsaetze.md",
        "Diese Regel gilt für alle Ämter und Eigenbetriebe.",
        "Diese Regel gilt für alle Ämter, Eigenbetriebe und Beteiligungen.",
    );
    commit_all(dir, "Geltungsbereich nochmals erweitert", T0 + 10 * DAY);
    let after = regelwerk::render_with(&options, None).unwrap();
    let counts = after.site.versions.counts();
    assert_eq!(
        (counts.documents_reused, counts.documents_rendered),
        (reused - 1, 1)
    );
    let rendered: Vec<String> = after
        .site
        .files
        .iter()
        .map(|f| f.path.clone())
        .filter(|p| p.starts_with("leitlinien/grundsaetze/"))
        .collect();
    let reused_pages: Vec<&str> = after
        .site
        .versions
        .reused()
        .map(|f| f.path.as_str())
        .filter(|p| p.starts_with("leitlinien/grundsaetze/"))
        .filter(|p| p.contains("/stand/") || p.contains("/synopse/"))
        .collect();
    let rendered_versions = rendered
        .iter()
        .filter(|p| p.contains("/stand/") || p.contains("/synopse/"))
        .count();
    assert_eq!(
        rendered_versions, 4,
        "rendered: the new Stand, the one before it, its comparison and the Fassung's with today's text \
         ({rendered:?})"
    );
    assert_eq!(
        reused_pages.len() + rendered_versions,
        files_before + 2,
        "everything else comes from the store ({reused_pages:?})"
    );
    regelwerk::build(&options).unwrap();
    let now = tree(&dir.join("public"));
    let dsgvo: Vec<_> = built_once
        .iter()
        .filter(|(p, _)| p.starts_with("leitlinien/datenschutz/stand/"))
        .collect();
    assert!(!dsgvo.is_empty());
    for (path, bytes) in dsgvo {
        assert_eq!(now.get(path), Some(bytes), "{path} is unchanged");
    }
    let stands = |t: &std::collections::BTreeMap<String, Vec<u8>>| {
        t.keys()
            .filter(|p| p.starts_with("leitlinien/grundsaetze/stand/"))
            .count()
    };
    assert_eq!(
        stands(&now),
        stands(&built_once) + 1,
        "the new Stand is there"
    );

    // A store whose files were deleted by hand costs time, not correctness: the index is trusted, the
    // build notices when it cannot link the files, renders everything again, and the pages are exactly those
    // of the build from the store. (Without the spare site every file is written anew, so the links are
    // needed.)
    let store = dir.join(regelwerk::CACHE_DIR).join(regelwerk::reuse::DIR);
    std::fs::remove_dir_all(store.join("files")).unwrap();
    std::fs::remove_dir_all(dir.join(".public.spare")).unwrap();
    let rebuilt = regelwerk::build(&options).unwrap();
    assert_eq!(
        (
            rebuilt.versions.files_reused,
            rebuilt.versions.documents_reused
        ),
        (0, 0),
        "rendered again without the store"
    );
    assert_eq!(tree(&dir.join("public")), now);
    let counts = regelwerk::render_with(&options, None)
        .unwrap()
        .site
        .versions
        .counts();
    assert_eq!(counts.files_rendered, 0, "the store is whole again");
}

#[test]
fn a_preview_with_its_own_cache_does_not_evict_the_builds_pages() {
    let (site, _) = repository();
    let dir = site.path();
    let mut options = regelwerk::BuildOptions::new(dir);
    options.today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    regelwerk::build(&options).unwrap();
    // What `serve` does: another address, its own output and caches.
    let mut preview = options.clone();
    preview.base_url = Some("http://127.0.0.1:4000/".into());
    preview.output = dir.join("vorschau-ausgabe");
    preview.cache = dir.join(regelwerk::CACHE_DIR).join("vorschau");
    regelwerk::build(&preview).unwrap();
    for (name, options) in [("build", &options), ("preview", &preview)] {
        let counts = regelwerk::render_with(options, None)
            .unwrap()
            .site
            .versions
            .counts();
        assert_eq!(counts.files_rendered, 0, "{name}: {counts:?}");
        assert!(counts.files_reused > 0, "{name}: {counts:?}");
    }
}

/// How many Stand and Synopse pages a document has in a built tree.
fn stands_and_comparisons(tree: &std::collections::BTreeMap<String, Vec<u8>>, id: &str) -> usize {
    let stands = format!("leitlinien/{id}/stand/");
    let comparisons = format!("leitlinien/{id}/synopse/");
    tree.keys()
        .filter(|p| p.starts_with(&stands) || p.starts_with(&comparisons))
        .count()
}

/// A build renders the history's pages on the writing thread while the search runs; without a search they
/// are rendered before anything is written. Both give the same pages, rendered anew or from the store.
#[test]
fn the_history_rendered_beside_the_search_is_the_history_rendered_alone() {
    let (site, commits) = repository();
    let out = tempfile::tempdir().unwrap();
    let pages = |dir: &Path| -> std::collections::BTreeMap<String, Vec<u8>> {
        tree(dir)
            .into_iter()
            .filter(|(path, _)| !path.starts_with("pagefind/"))
            .collect()
    };
    let mut built = Vec::new();
    for (name, flags) in [
        ("beside", &[][..]),
        ("alone", &["--no-search"][..]),
        ("beside-again", &[][..]),
    ] {
        if name != "beside-again" {
            // Rendered anew: nothing from the store.
            let _ = std::fs::remove_dir_all(site.path().join(regelwerk::CACHE_DIR));
        }
        let output = out.path().join(name);
        let run = support::build_into(site.path(), &output, flags);
        assert!(run.status.success(), "{name}: {run:?}");
        built.push((name, pages(&output)));
    }
    let stand = format!(
        "leitlinien/grundsaetze/stand/{}/index.html",
        short(&commits[1])
    );
    assert!(built[0].1.contains_key(&stand), "{stand} is built");
    assert!(built[0].1.contains_key("aenderungen.atom"));
    for (name, tree) in &built[1..] {
        assert!(
            tree == &built[0].1,
            "{name} differs from the build beside the search"
        );
    }
}

/// A template of the history's pages that fails while the search runs beside it fails the build like
/// any other: the error is reported and the previous site stays as it was.
#[test]
fn a_failing_history_template_leaves_the_previous_site() {
    let (site, _) = repository();
    let out = tempfile::tempdir().unwrap();
    let public = out.path().join("public");
    let first = support::build_into(site.path(), &public, &[]);
    assert!(first.status.success(), "{first:?}");
    let before = tree(&public);

    let templates = site.path().join("themes/default/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("stand.html"),
        "{% extends \"base.html\" %}{% block content %}{{ page.gibt_es_nicht.feld }}{% endblock content %}",
    )
    .unwrap();
    let second = support::build_into(site.path(), &public, &[]);
    assert_eq!(second.status.code(), Some(1), "{second:?}");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("stand.html"),
        "the template is named: {stderr}"
    );
    assert!(tree(&public) == before, "the previous site is unchanged");
}

/// With `[search] include_history` the search reads the version pages too: they are rendered before it
/// runs, not beside it.
#[test]
fn the_search_indexes_the_history_when_asked_to() {
    let (site, _) = repository();
    let out = tempfile::tempdir().unwrap();
    let mut options = regelwerk::BuildOptions::new(site.path());
    options.output = out.path().join("public");
    let without = regelwerk::build(&options).unwrap().search.pages;

    let config = site.path().join("regelwerk.toml");
    let mut text = read(&config);
    text.push_str("\n[search]\ninclude_history = true\n");
    std::fs::write(&config, text).unwrap();
    let with = regelwerk::build(&options).unwrap().search.pages;
    let stands = tree(&options.output)
        .keys()
        .filter(|path| path.contains("/stand/") && path.ends_with("index.html"))
        .count();
    assert!(stands >= 4, "the repository has Stände ({stands})");
    assert!(
        with >= without + stands,
        "{with} pages indexed with the history, {without} without, {stands} Stände"
    );
}

#[test]
fn the_sitemap_lists_indexable_pages_only() {
    let (site, commits) = repository();
    let mut options = regelwerk::BuildOptions::new(site.path());
    options.today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    regelwerk::build(&options).unwrap();
    let sitemap = read(&site.path().join("public/sitemap.xml"));
    for listed in [
        "/leitlinien/grundsaetze/</loc>",
        "/leitlinien/grundsaetze/fassungen/</loc>",
        "/register/</loc>",
    ] {
        assert!(sitemap.contains(listed), "{listed} is listed:\n{sitemap}");
    }
    let stand = format!("/stand/{}/", short(&commits[1]));
    for left_out in ["/suche/", stand.as_str(), "/synopse/", "/fassung/"] {
        assert!(
            !sitemap.contains(left_out),
            "{left_out} is noindex:\n{sitemap}"
        );
    }
    // A rebuild that reuses the version pages writes the same sitemap.
    regelwerk::build(&options).unwrap();
    assert_eq!(read(&site.path().join("public/sitemap.xml")), sitemap);
}

#[test]
fn the_cached_log_follows_new_commits_and_notices_rewritten_history() {
    let (site, _) = repository();
    let dir = site.path();
    let options = regelwerk::BuildOptions::new(dir);
    regelwerk::build(&options).unwrap();
    assert!(
        dir.join(regelwerk::history::git::CACHE_DIR)
            .join("log.bin")
            .is_file()
    );

    // A new commit on top: read incrementally, its Stand appears.
    edit(
        dir,
        "content/leitlinien/grundsaetze.md",
        "Diese Regel gilt für alle Ämter und Eigenbetriebe.",
        "Diese Regel gilt für alle Ämter und den Eigenbetrieb Abfall.",
    );
    let cache = dir.join(regelwerk::history::git::CACHE_DIR);
    let log_file = std::fs::read(cache.join("log.bin")).unwrap();
    // Before it a commit outside the content: the first of the range read, it changes no document.
    let notes = dir.join("notizen.txt");
    std::fs::write(&notes, "Nur eine Notiz.\n").unwrap();
    git(dir, &["add", "notizen.txt"]);
    git(dir, &["commit", "--quiet", "-m", "Notiz"]);
    let outside = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    let added = commit_all(dir, "Eigenbetrieb genannt", T0 + 11 * DAY);
    regelwerk::build(&options).unwrap();
    assert!(
        !dir.join("public/leitlinien/grundsaetze/stand")
            .join(short(&outside))
            .exists()
    );
    let stand = |commit: &str| {
        dir.join("public/leitlinien/grundsaetze/stand")
            .join(short(commit))
            .join("index.html")
    };
    assert!(read(&stand(&added)).contains("Eigenbetrieb Abfall"));
    // Only the new commit was written, into the tail; the next build reads the log through it.
    assert_eq!(std::fs::read(cache.join("log.bin")).unwrap(), log_file);
    let tail = cache.join(regelwerk::history::git::CACHE_TAIL);
    assert!(tail.is_file());
    std::fs::remove_dir_all(dir.join("public")).unwrap();
    regelwerk::build(&options).unwrap();
    assert!(read(&stand(&added)).contains("Eigenbetrieb Abfall"));

    // The commit is amended: the cached log no longer describes the branch and is read anew.
    edit(
        dir,
        "content/leitlinien/grundsaetze.md",
        "den Eigenbetrieb Abfall",
        "die Eigenbetriebe Abfall und Verkehr",
    );
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "--amend", "--no-edit"]);
    let amended = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    regelwerk::build(&options).unwrap();
    assert!(read(&stand(&amended)).contains("Eigenbetriebe Abfall und Verkehr"));
    assert!(
        !stand(&added).exists(),
        "the Stand of the replaced commit is gone"
    );
    assert!(
        !tail.exists(),
        "the whole log was written again, without a tail"
    );

    // A damaged cache is read anew as well.
    std::fs::write(
        dir.join(regelwerk::history::git::CACHE_DIR).join("blobs"),
        "kaputt",
    )
    .unwrap();
    regelwerk::build(&options).unwrap();
    assert!(read(&stand(&amended)).contains("Eigenbetriebe Abfall und Verkehr"));
}

/// The valid site, then: a register entry and a matrix changed (authors mapped to a role), a register entry
/// that breaks today's rules, and its repair with a new summary.
fn register_repository() -> (tempfile::TempDir, Vec<String>) {
    let site = valid_site();
    let dir = site.path();
    let mut commits = vec![git(dir, &["rev-parse", "HEAD"]).trim().to_string()];

    // 2: one field of an entry; one letter and one task of the matrix.
    edit(
        dir,
        "content/register/antragsassistent.toml",
        "org_unit = \"Bürgerservice\"",
        "org_unit = \"Bürgerservice und Bürgerbüro\"",
    );
    edit(
        dir,
        "content/raci/einfuehrung.csv",
        "Betrieb;I;;A;R;C;",
        "Betrieb;I;C;A;R;C;\nAußerbetriebnahme;I;;AR;R;;",
    );
    commits.push(commit_all(dir, "Register und Matrix", T0 + DAY));

    // 3: an entry with a key today's schema does not know (S2): the build of this commit failed, but its
    // Stand must still be shown, as source.
    edit(
        dir,
        "content/register/bescheidentwurf.toml",
        "status = \"planned\"",
        "status = \"planned\"\nveraltet = \"<ja>\"",
    );
    commits.push(commit_all(dir, "Veraltetes Feld", T0 + 2 * DAY));

    // 4: repaired, with a new summary.
    edit(
        dir,
        "content/register/bescheidentwurf.toml",
        "status = \"planned\"\nveraltet = \"<ja>\"",
        "status = \"planned\"",
    );
    edit(
        dir,
        "content/register/bescheidentwurf.toml",
        "die Sachbearbeitung entscheidet.",
        "die Sachbearbeitung entscheidet allein.",
    );
    commits.push(commit_all(dir, "Repariert", T0 + 3 * DAY));

    // The authors' role, outside content (not a Stand).
    let config = dir.join("regelwerk.toml");
    let text = read(&config);
    std::fs::write(
        &config,
        format!(
            "{text}\n[verlauf.autoren]\n\"redaktion@testkreis.example\" = \"ki-beauftragte\"\n"
        ),
    )
    .unwrap();
    commit_all(dir, "Autorenrolle", T0 + 4 * DAY);
    (site, commits)
}

fn build_site(site: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let build = build_into(site, out.path(), &[]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    out
}

#[test]
fn register_and_matrix_stands_with_their_changes() {
    let (site, commits) = register_repository();
    let out = build_site(site.path());
    let public = out.path();

    // A Stand page per commit that changed the entry, with the changed field labelled from the schema.
    let r = public.join("register/antragsassistent");
    let stand = read(&r.join(format!("stand/{}/index.html", short(&commits[1]))));
    assert!(stand.contains("Organisationseinheit"), "{stand}");
    assert!(
        stand.contains("<del>Bürgerservice</del>")
            && stand.contains("<ins>Bürgerservice und Bürgerbüro</ins>"),
        "old → new: {stand}"
    );
    assert!(stand.contains("geändert durch: KI-Beauftragte"), "{stand}");
    assert!(!stand.contains("redaktion@"), "no author address");
    assert!(stand.contains("Sie lesen den Stand vom"));
    let first = read(&r.join(format!("stand/{}/index.html", short(&commits[0]))));
    assert!(first.contains("Erster veröffentlichter Stand."));
    assert!(first.contains("Es gibt einen neueren Stand."));
    let list = read(&r.join("staende/index.html"));
    assert!(list.contains(short(&commits[0])) && list.contains(short(&commits[1])));
    assert!(read(&r.join("index.html")).contains("/register/antragsassistent/staende/"));

    // The Stand that breaks today's rules is shown as escaped source, and the build did not fail.
    let b = public.join("register/bescheidentwurf");
    let broken = read(&b.join(format!("stand/{}/index.html", short(&commits[2]))));
    assert!(
        broken.contains("entspricht nicht mehr den heutigen Regeln"),
        "{broken}"
    );
    assert!(
        broken.contains("veraltet = &quot;&lt;ja&gt;&quot;"),
        "{broken}"
    );
    let repaired = read(&b.join(format!("stand/{}/index.html", short(&commits[3]))));
    assert!(repaired.contains("<code class=\"history-table__key\">veraltet</code>"));
    assert!(repaired.contains("Kurzbeschreibung"));

    // The matrix: the changed letter, the new task, and the author's role.
    let m = public.join("verantwortung/einfuehrung");
    let matrix = read(&m.join(format!("stand/{}/index.html", short(&commits[1]))));
    assert!(
        matrix.contains(
            "<th scope=\"row\">Betrieb</th>\n      <td>Datenschutzbeauftragte</td>\n      <td><span class=\"history-table__none\">nicht beteiligt</span></td>\n      <td><ins>C</ins></td>"
        ),
        "{matrix}"
    );
    assert!(matrix.contains("Neue Aufgaben: Außerbetriebnahme"));
    assert!(matrix.contains("geändert durch: KI-Beauftragte"));
    assert!(read(&m.join("index.html")).contains("/verantwortung/einfuehrung/staende/"));
    assert!(m.join("staende/index.html").is_file());

    // The changes page and the feed list register and matrix Stände.
    let changes = read(&public.join("aenderungen/index.html"));
    assert!(changes.contains(&format!(
        "/register/bescheidentwurf/stand/{}/",
        short(&commits[3])
    )));
    assert!(changes.contains(&format!(
        "/verantwortung/einfuehrung/stand/{}/",
        short(&commits[1])
    )));
    let feed = read(&public.join("aenderungen.atom"));
    assert!(feed.contains("Registereintrag geändert") && feed.contains("Zuständigkeiten geändert"));
    assert!(!feed.contains("@testkreis"));

    // The change log: one row per entry and Stand.
    let csv = std::fs::read(public.join("register/register-aenderungen.csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&csv[3..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "name", "stand", "datum", "permalink", "felder"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let row = |id: &str, commit: &str| {
        rows.iter()
            .find(|r| r[0] == id && r[2] == short(commit))
            .unwrap_or_else(|| panic!("no row {id} {commit}: {rows:?}"))
            .clone()
    };
    assert_eq!(rows.len(), 2 + 3, "{rows:?}");
    let changed = row("antragsassistent", &commits[1]);
    assert_eq!(changed[1], "Antragsassistent im Bürgerservice");
    assert_eq!(changed[3], "2026-05-29");
    assert_eq!(
        changed[4],
        format!(
            "https://ki.testkreis.example/register/antragsassistent/stand/{}/",
            short(&commits[1])
        )
    );
    assert_eq!(changed[5], "org_unit");
    assert_eq!(row("bescheidentwurf", &commits[3])[5], "summary;veraltet");
    assert!(read(&public.join("register/index.html")).contains("register-aenderungen.csv"));
}

#[test]
fn diff_lists_register_fields_and_matrix_letters() {
    let (site, commits) = register_repository();
    let root = site.path().to_str().unwrap();
    let out = regelwerk(&[
        "diff",
        &commits[0],
        &commits[3],
        "--root",
        root,
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["documents"], serde_json::json!([]));
    let register = json["register"].as_array().unwrap();
    assert_eq!(register.len(), 2, "{register:?}");
    assert_eq!(register[0]["id"], "antragsassistent");
    assert_eq!(register[0]["change"], "geändert");
    assert_eq!(
        register[0]["fields"],
        serde_json::json!([{"field": "org_unit", "old": "Bürgerservice", "new": "Bürgerservice und Bürgerbüro"}])
    );
    assert_eq!(register[1]["fields"][0]["field"], "summary");
    let matrix = &json["matrices"][0];
    assert_eq!(matrix["id"], "einfuehrung");
    assert_eq!(
        matrix["changes"]["cells"],
        serde_json::json!([{"task": "Betrieb", "role": "datenschutz", "old": null, "new": "C"}])
    );
    assert_eq!(
        matrix["changes"]["tasks_added"],
        serde_json::json!(["Außerbetriebnahme"])
    );

    let markdown = regelwerk(&["diff", &commits[0], &commits[3], "--root", root]);
    let text = String::from_utf8_lossy(&markdown.stdout);
    assert!(text.contains("#### KI-Register"), "{text}");
    assert!(
        text.contains("  - `org_unit`: „Bürgerservice“ → „Bürgerservice und Bürgerbüro“"),
        "{text}"
    );
    assert!(
        text.contains("  | Betrieb | `datenschutz` | – | C |"),
        "{text}"
    );
    assert!(
        text.contains("  - Aufgaben hinzugefügt: Außerbetriebnahme"),
        "{text}"
    );
}

#[test]
fn removed_documents_keep_their_permalinks_and_say_since_when_they_are_gone() {
    let (site, mut commits) = repository();
    let dir = site.path();
    let before = build_site(dir);
    let register_stands = std::fs::read_dir(before.path().join("register/bescheidentwurf/stand"))
        .unwrap()
        .count();
    // 6: the data protection guideline, one register entry and the matrix are deleted.
    edit(
        dir,
        "content/leitlinien/grundsaetze.md",
        "[Datenschutz-Leitlinie](dsgvo.md#dsfa)",
        "Datenschutz-Leitlinie",
    );
    edit(
        dir,
        "content/leitlinien/grundsaetze.md",
        "Diese Regel gilt",
        "Diese Regel gilt {#geltung umsetzt=M6}",
    );
    for file in [
        "content/leitlinien/dsgvo.md",
        "content/register/bescheidentwurf.toml",
        "content/raci/einfuehrung.csv",
        "content/raci/einfuehrung.toml",
    ] {
        git(dir, &["rm", "-q", file]);
    }
    // On 2026-10-25, after its Fassung came into force (2026-10-01).
    commits.push(commit_all(dir, "Entfernt", T0 + 150 * DAY));
    let out = build_site(dir);
    let public = out.path();

    // Every permalink published before is still there.
    let before_files: Vec<String> = tree(before.path())
        .into_keys()
        .filter(|p| p.contains("/stand/") || p.contains("/fassung/") || p.contains("/synopse/"))
        .filter(|p| !p.contains("/aktuell/"))
        .collect();
    assert!(before_files.len() > 10, "{before_files:?}");
    for path in &before_files {
        assert!(public.join(path).is_file(), "{path} is gone");
    }
    assert!(
        public
            .join("leitlinien/datenschutz/fassungen/index.html")
            .is_file()
    );
    assert!(
        public
            .join("leitlinien/datenschutz/versions.json")
            .is_file()
    );
    assert_eq!(
        std::fs::read_dir(public.join("register/bescheidentwurf/stand"))
            .unwrap()
            .count(),
        register_stands
    );

    // The guideline's address says that it is gone, since which commit, and links its last Stand.
    let notice = read(&public.join("leitlinien/datenschutz/index.html"));
    assert!(notice.contains("Nicht mehr veröffentlicht"), "{notice}");
    assert!(notice.contains(short(&commits[5])), "the removing commit");
    assert!(
        notice.contains(&format!(
            "leitlinien/datenschutz/stand/{}/",
            short(&commits[4])
        )),
        "the last Stand"
    );
    assert!(notice.contains("leitlinien/datenschutz/fassungen/"));
    assert!(notice.contains("noindex"));
    let last = read(&public.join(format!(
        "leitlinien/datenschutz/stand/{}/index.html",
        short(&commits[4])
    )));
    assert!(last.contains("Dieses Dokument wird nicht mehr veröffentlicht."));
    assert!(last.contains("Zum Hinweis auf die Entfernung"));
    assert!(!last.contains("Das ist der aktuelle Stand."));
    // Nothing is compared with a today's text it no longer has.
    assert!(
        !public
            .join("leitlinien/datenschutz/synopse")
            .join(short(&commits[3]))
            .join("aktuell")
            .exists()
    );
    // Its decision stays on the decisions page; the guideline lists and the sitemap leave it out.
    let decisions = read(&public.join("beschluesse/index.html"));
    assert!(decisions.contains("leitlinien/datenschutz/fassung/2026-09-24/"));
    assert!(!read(&public.join("leitlinien/index.html")).contains("leitlinien/datenschutz/"));
    // On the point-in-time page its Fassung was in force until the day before its removal, not today.
    let point_in_time = read(&public.join("stichtag/index.html"));
    let (_, section) = point_in_time
        .split_once("href=\"/leitlinien/datenschutz/\"")
        .expect("the removed guideline is on the point-in-time page");
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains("data-von=\"2026-10-01\" data-bis=\"2026-10-24\""),
        "{section}"
    );
    assert!(!section.contains("badge"), "not in force: {section}");
    assert!(!read(&public.join("sitemap.xml")).contains("leitlinien/datenschutz/</loc>"));

    // The register entry and the matrix as well.
    for (address, list) in [
        (
            "register/bescheidentwurf/",
            "register/bescheidentwurf/staende/",
        ),
        (
            "verantwortung/einfuehrung/",
            "verantwortung/einfuehrung/staende/",
        ),
    ] {
        let notice = read(&public.join(address).join("index.html"));
        assert!(notice.contains("Nicht mehr veröffentlicht"), "{address}");
        assert!(
            notice.contains(short(&commits[5])),
            "{address}: the removing commit"
        );
        assert!(notice.contains(list), "{address}: the list of Stände");
        let list = read(&public.join(list).join("index.html"));
        assert!(list.contains("Dieses Dokument wird nicht mehr veröffentlicht."));
    }
    // The changes page and the feed say what was removed, when.
    let changes = read(&public.join("aenderungen/index.html"));
    for address in [
        "/leitlinien/datenschutz/",
        "/register/bescheidentwurf/",
        "/verantwortung/einfuehrung/",
    ] {
        let item = changes
            .split("<li class=\"changes__item\">")
            .find(|item| item.contains(&format!("<a href=\"{address}\">")))
            .unwrap_or_else(|| panic!("{address} is not on the changes page:\n{changes}"));
        assert!(item.contains(">entfernt</span>"), "{item}");
        assert!(item.contains("2026-10-25"), "{item}");
    }
    let feed = read(&public.join("aenderungen.atom"));
    check_atom(&feed);
    assert!(
        feed.contains("Datenschutz beim Einsatz von KI: nicht mehr veröffentlicht"),
        "{feed}"
    );
    let changelog = read(&public.join("register/register-aenderungen.csv"));
    assert!(changelog.contains("bescheidentwurf"), "{changelog}");
}
