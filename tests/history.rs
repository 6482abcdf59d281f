//! Versions from git, end to end: a fixture repository with several commits, a rename, a decision and a
//! moved paragraph; the Stand and Fassung pages, the Synopse, versions.json, the Atom feed; shallow clones and
//! sites outside git.

mod support;

use std::path::Path;

use support::{commit_all, git, regelwerk, valid_site};

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
    let build = regelwerk(&[
        "build",
        "--root",
        site.path().to_str().unwrap(),
        "--output",
        public.to_str().unwrap(),
    ]);
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
