//! The history stage: from git revisions to the versions of each document.
//!
//! - A **Stand** is every first-parent commit that changed a document: each was published, so each gets a
//!   permanent page.
//! - A **Fassung** is a Stand in which the document's `beschluss` block appears or changes: the text a council
//!   body adopted. Fassungen are reviewable in the pull request that adds the decision, unlike git tags.
//!
//! A document keeps its history across renames through its stable `id` (not its file name).
//!
//! Register entries ([`register`]) and responsibility matrices ([`raci`]) have Stände too, but no Fassungen:
//! they are not adopted by a council body.

pub mod fronts;
pub mod raci;
pub mod register;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::CONFIG_FILE;
use crate::content::guideline::{Beschluss, GuidelineMeta};
use crate::diagnostics::{Diagnostic, Rule, SourceText};
use crate::history::blobs::Blobs;
use crate::history::{Commit, Completeness, Log};
use raci::RaciStand;
use register::RegisterStand;

/// Folder whose files are versioned as guidelines.
const GUIDELINES_PREFIX: &str = "content/leitlinien/";

/// One published state of a document.
///
/// Only its front matter is read when the history is built; the text is read from the history's blob
/// store when a page of this Stand is rendered.
#[derive(Debug, Clone)]
pub struct Stand {
    pub commit: Commit,
    /// The file's path at that commit.
    pub path: String,
    /// The git blob id of the file as the commit left it: a hash of its text.
    pub blob: String,
    blobs: Arc<Blobs>,
    pub body_start: usize,
    /// BLAKE3 of the text (see [`Stand::has_text_hash`]).
    text_hash: [u8; 32],
    /// What the history uses of the front matter, if it is valid under today's rules.
    pub meta: Option<Arc<StandMeta>>,
    /// Whether the decision block appeared or changed here: this Stand is a Fassung.
    pub fassung: bool,
}

impl Stand {
    /// The adopted decision of this Stand, if any.
    pub fn beschluss(&self) -> Option<&Beschluss> {
        self.meta.as_ref().and_then(|m| m.beschluss.as_ref())
    }

    /// The title at that time (the file name if the front matter no longer parses).
    pub fn title(&self) -> String {
        self.meta
            .as_ref()
            .map_or_else(|| self.path.clone(), |m| m.title.clone())
    }

    /// The file's text (empty only if a damaged history cache holds bytes that are not text there: the
    /// front matter was read from the same blob, so it is never missing).
    pub fn text(&self) -> &str {
        self.blobs.get(&self.blob).unwrap_or_default()
    }

    /// Whether the file's text is the one whose BLAKE3 is `hash` (such as [`crate::content::Doc::text_hash`]),
    /// without reading the version's text.
    pub fn has_text_hash(&self, hash: &[u8; 32]) -> bool {
        self.text_hash == *hash
    }

    /// The file's text with its path, for rendering.
    pub fn source(&self) -> SourceText {
        SourceText::new(self.path.clone(), self.text())
    }

    /// The Markdown body.
    pub fn body(&self) -> &str {
        self.text().get(self.body_start..).unwrap_or_default()
    }

    /// The date the text is in force from, when it was adopted.
    pub fn in_force_from(&self) -> Option<NaiveDate> {
        let meta = self.meta.as_ref()?;
        meta.gueltig_ab.or(meta.beschluss.as_ref().map(|b| b.datum))
    }
}

/// What the history uses of a version's front matter: its identity, title and decision. The rest is
/// read from the version's text when a page needs it; the front matter of every version in the history
/// is kept (and cached between builds), so it is kept lean.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StandMeta {
    /// The document's stable id (see [`GuidelineMeta::id`]).
    pub id: String,
    pub title: String,
    pub gueltig_ab: Option<NaiveDate>,
    pub beschluss: Option<Beschluss>,
}

impl From<GuidelineMeta> for StandMeta {
    fn from(meta: GuidelineMeta) -> Self {
        StandMeta {
            id: meta.id.value,
            title: meta.title,
            gueltig_ab: meta.gueltig_ab,
            beschluss: meta.beschluss,
        }
    }
}

/// All Stände of one document, oldest first.
#[derive(Debug, Clone, Default)]
pub struct DocHistory {
    pub stands: Vec<Stand>,
}

impl DocHistory {
    /// The Stände that are Fassungen, oldest first.
    pub fn fassungen(&self) -> impl Iterator<Item = (usize, &Stand)> {
        self.stands.iter().enumerate().filter(|(_, s)| s.fassung)
    }

    /// The Stand at a commit (by its 12-digit short id).
    pub fn by_short(&self, short: &str) -> Option<(usize, &Stand)> {
        self.stands
            .iter()
            .enumerate()
            .find(|(_, s)| s.commit.short() == short)
    }
}

/// The versions of every document, and how complete the history behind them is.
#[derive(Debug, Clone)]
pub struct Versions {
    pub completeness: Completeness,
    /// Guideline id → its history.
    pub guidelines: BTreeMap<String, DocHistory>,
    /// Register entry id → its Stände, oldest first.
    pub register: BTreeMap<String, Vec<RegisterStand>>,
    /// Matrix id → its Stände, oldest first.
    pub raci: BTreeMap<String, Vec<RaciStand>>,
    /// The commits that deleted documents (see [`Removals`]).
    pub removals: Removals,
}

/// Which commit deleted a document, for each kind by id: the first commit after which no file held it any
/// more (a rename is not a deletion). A document published again later is no longer in here.
///
/// A document that has Stände but is not published today is *removed*: its Stand pages stay (permalinks
/// never change once published) and its address says since when it is gone. The commit is missing if the
/// file was deleted but not committed yet, or its id changed inside the file.
#[derive(Debug, Clone, Default)]
pub struct Removals {
    pub guidelines: BTreeMap<String, Commit>,
    pub register: BTreeMap<String, Commit>,
    pub raci: BTreeMap<String, Commit>,
}

/// Which document each file holds while the revisions are read, to tell deletions from renames. Paths
/// and ids are borrowed from the log and the front matter where they can be: the revisions touch
/// thousands of files.
#[derive(Default)]
struct Owners<'a> {
    /// Path → id of the document it holds.
    by_path: HashMap<&'a str, Cow<'a, str>>,
    /// Id → how many files hold it.
    files: HashMap<Cow<'a, str>, usize>,
    /// Ids whose file this commit deleted.
    deleted: Vec<Cow<'a, str>>,
}

impl<'a> Owners<'a> {
    fn holds(&mut self, path: &'a str, id: Cow<'a, str>, removed: &mut BTreeMap<String, Commit>) {
        removed.remove(id.as_ref());
        if let Some(before) = self.by_path.insert(path, id.clone()) {
            self.release(&before);
        }
        *self.files.entry(id).or_default() += 1;
    }

    fn delete(&mut self, path: &str) {
        if let Some(id) = self.by_path.remove(path) {
            self.release(&id);
            self.deleted.push(id);
        }
    }

    fn release(&mut self, id: &str) {
        if let Some(count) = self.files.get_mut(id) {
            *count = count.saturating_sub(1);
        }
    }

    /// After a commit: the documents it deleted and no other file holds now.
    fn commit(&mut self, commit: &Commit, removed: &mut BTreeMap<String, Commit>) {
        for id in std::mem::take(&mut self.deleted) {
            if self.files.get(id.as_ref()).is_none_or(|&count| count == 0) {
                removed.insert(id.into_owned(), commit.clone());
            }
        }
    }
}

impl Versions {
    /// No history at all.
    pub fn none(reason: impl Into<String>) -> Self {
        Versions {
            completeness: Completeness::None(reason.into()),
            guidelines: BTreeMap::new(),
            register: BTreeMap::new(),
            raci: BTreeMap::new(),
            removals: Removals::default(),
        }
    }
}

/// Builds the documents' versions from the site's revisions, with the front matter the last build parsed
/// (see [`fronts`]).
pub fn build(log: &Log, fronts: fronts::Cache) -> Versions {
    // Looked up for every change: hashed while the log is followed, sorted once at the end.
    let mut guidelines: HashMap<String, DocHistory> = HashMap::new();
    let mut register: BTreeMap<String, Vec<RegisterStand>> = BTreeMap::new();
    let mut raci: BTreeMap<String, Vec<RaciStand>> = BTreeMap::new();
    // The matrix files as the revisions so far left them: path → text.
    let mut matrix_files: BTreeMap<String, String> = BTreeMap::new();
    let mut removals = Removals::default();
    let guideline_blobs = log
        .revisions
        .iter()
        .flat_map(|r| &r.changes)
        .filter(|c| is_guideline_path(&c.path))
        .filter_map(|c| c.blob.as_deref());
    let fronts = fronts::read(log, guideline_blobs, fronts);
    let (mut guideline_owners, mut entry_owners) = (Owners::default(), Owners::default());
    // Every version of a register entry parsed once, side by side (the loop below needs each one up to
    // three times: its identity, and as the newer and the older side of a comparison).
    let entry_blobs: HashSet<&str> = log
        .revisions
        .iter()
        .flat_map(|r| &r.changes)
        .filter(|c| register::is_entry_path(&c.path))
        .filter_map(|c| c.blob.as_deref())
        .collect();
    let entry_tables: HashMap<&str, Option<toml::Table>> = entry_blobs
        .into_par_iter()
        .map(|blob| (blob, log.blobs.get(blob).and_then(register::parse)))
        .collect();
    // Per entry id, the blob of its last Stand.
    let mut last_entry_blob: HashMap<String, &str> = HashMap::new();
    for revision in &log.revisions {
        let mut touched_matrices: Vec<String> = Vec::new();
        for change in &revision.changes {
            let text = || change.blob.as_ref().and_then(|b| log.blobs.get(b));
            if register::is_entry_path(&change.path) {
                match change.blob.as_deref().zip(text()) {
                    Some((blob, text)) => {
                        let version = EntryVersion {
                            path: &change.path,
                            text,
                            table: entry_tables.get(blob).and_then(Option::as_ref),
                        };
                        let id =
                            add_register_stand(&mut register, &revision.commit, version, |id| {
                                last_entry_blob
                                    .get(id)
                                    .map(|b| entry_tables.get(b).and_then(Option::as_ref))
                            });
                        entry_owners.holds(
                            &change.path,
                            Cow::Owned(id.clone()),
                            &mut removals.register,
                        );
                        last_entry_blob.insert(id, blob);
                    }
                    None => entry_owners.delete(&change.path),
                }
                continue;
            }
            if let Some(id) = raci::matrix_id(&change.path) {
                match text() {
                    Some(text) => matrix_files.insert(change.path.clone(), text.to_string()),
                    None => matrix_files.remove(&change.path),
                };
                if !touched_matrices.iter().any(|t| t == id) {
                    touched_matrices.push(id.to_string());
                }
                continue;
            }
            if !is_guideline_path(&change.path) {
                continue;
            }
            let Some(blob) = &change.blob else {
                guideline_owners.delete(&change.path);
                continue;
            };
            let Some(front) = fronts.get(blob.as_str()) else {
                continue;
            };
            let id = match &front.meta {
                Some(meta) => Cow::Borrowed(meta.id.as_str()),
                None => Cow::Owned(file_stem(&change.path)),
            };
            let history = guidelines.entry_ref(id.as_ref()).or_default();
            guideline_owners.holds(&change.path, id, &mut removals.guidelines);
            let last = history.stands.last();
            if last.is_some_and(|last| last.blob == *blob) {
                // A rename without a change of text is not a new Stand.
                continue;
            }
            let previous = last.and_then(Stand::beschluss);
            let beschluss = front.meta.as_ref().and_then(|m| m.beschluss.as_ref());
            let stand = Stand {
                commit: revision.commit.clone(),
                path: change.path.clone(),
                blob: blob.clone(),
                blobs: Arc::clone(&log.blobs),
                body_start: front.body_start,
                text_hash: front.text_hash,
                meta: front.meta.clone(),
                fassung: beschluss.is_some() && beschluss != previous,
            };
            history.stands.push(stand);
        }
        for id in touched_matrices {
            if matrix_files.contains_key(&format!("{}{id}.csv", raci::PREFIX)) {
                removals.raci.remove(&id);
                add_raci_stand(&mut raci, &matrix_files, &revision.commit, &id);
            } else if raci.contains_key(&id) {
                removals.raci.insert(id, revision.commit.clone());
            }
        }
        guideline_owners.commit(&revision.commit, &mut removals.guidelines);
        entry_owners.commit(&revision.commit, &mut removals.register);
    }
    Versions {
        completeness: log.completeness.clone(),
        guidelines: guidelines.into_iter().collect(),
        register,
        raci,
        removals,
    }
}

/// A version of a register entry file: its path, text and the text parsed (`None`: not valid TOML).
struct EntryVersion<'a> {
    path: &'a str,
    text: &'a str,
    table: Option<&'a toml::Table>,
}

/// A new Stand of a register entry, unless only the file name changed; returns the entry's id.
/// `parsed_before` gives the parsed last Stand of an entry id.
fn add_register_stand<'a>(
    register: &mut BTreeMap<String, Vec<RegisterStand>>,
    commit: &Commit,
    version: EntryVersion,
    parsed_before: impl Fn(&str) -> Option<Option<&'a toml::Table>>,
) -> String {
    let (id, name) = register::identity_and_name_of(version.path, version.table);
    let stands = register.entry(id.clone()).or_default();
    let previous = stands.last().map(|s| s.source.text.as_str());
    if previous == Some(version.text) {
        return id;
    }
    let changes = match previous {
        None => register::field_changes_of(None, version.table),
        // The previous Stand as parsed, or parsed here if it is not known by its blob.
        Some(text) => match parsed_before(&id) {
            Some(before) => register::field_changes_of(Some(before), version.table),
            None => register::field_changes(Some(text), version.text),
        },
    };
    stands.push(RegisterStand::new(
        commit.clone(),
        version.path,
        version.text,
        name,
        changes,
    ));
    id
}

/// A new Stand of a matrix whose CSV file or sidecar this commit changed (none while the CSV file is missing).
fn add_raci_stand(
    raci: &mut BTreeMap<String, Vec<RaciStand>>,
    files: &BTreeMap<String, String>,
    commit: &Commit,
    id: &str,
) {
    let csv_path = format!("{}{id}.csv", raci::PREFIX);
    let sidecar_path = format!("{}{id}.toml", raci::PREFIX);
    let Some(csv) = files.get(&csv_path) else {
        return;
    };
    let csv = SourceText::new(csv_path, csv.as_str());
    let sidecar = files
        .get(&sidecar_path)
        .map(|text| SourceText::new(sidecar_path, text.as_str()));
    let stands = raci.entry(id.to_string()).or_default();
    let changes = match stands.last() {
        Some(last) if last.csv.text == csv.text && last.sidecar == sidecar => return,
        Some(last) => raci::changes(&last.csv, last.sidecar.as_ref(), &csv, sidecar.as_ref()),
        None => None,
    };
    stands.push(RaciStand {
        commit: commit.clone(),
        csv,
        sidecar,
        changes,
    });
}

fn is_guideline_path(path: &str) -> bool {
    path.strip_prefix(GUIDELINES_PREFIX)
        .is_some_and(|rest| !rest.contains('/') && rest.ends_with(".md"))
}

fn file_stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".md").unwrap_or(name).to_string()
}

/// The warning for a site whose history is missing or incomplete (W8).
pub fn diagnostics(versions: &Versions) -> Vec<Diagnostic> {
    let message = match &versions.completeness {
        Completeness::Full => return Vec::new(),
        Completeness::Shallow => "Die Versionsgeschichte ist unvollständig (flacher Klon): ältere Stände und \
                                  Fassungen fehlen auf der Website. Holen Sie die ganze Geschichte mit \
                                  „git fetch --unshallow“ bzw. in CI mit fetch-depth: 0 (GitHub) oder \
                                  GIT_DEPTH: 0 (GitLab)."
            .to_string(),
        Completeness::None(reason) => format!(
            "Keine Versionsgeschichte: {reason}. Die Website wird ohne Stände, Fassungen und Synopsen gebaut. \
             Legen Sie die Website in ein git-Repository („git init“, „git add .“, „git commit“), damit jede \
             veröffentlichte Änderung eine dauerhafte Adresse erhält."
        ),
    };
    vec![Diagnostic::file(CONFIG_FILE, Rule::W8, message)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{FileChange, Revision};

    fn doc(id: &str, beschluss: Option<&str>, body: &str) -> String {
        let mut text = format!(
            "+++\nid = \"{id}\"\ntitle = \"T\"\nsummary = \"S\"\nstatus = \"{}\"\nowner = \"ki\"\n",
            if beschluss.is_some() {
                "beschlossen"
            } else {
                "entwurf"
            }
        );
        if let Some(date) = beschluss {
            text.push_str(&format!(
                "gueltig_ab = {date}\n[beschluss]\ngremium = \"Kreistag\"\ndatum = {date}\nvorlage = \"2026/1\"\n"
            ));
        }
        text.push_str("+++\n");
        text.push_str(body);
        text
    }

    #[test]
    fn stands_follow_the_id_across_renames_and_fassungen_follow_the_decision() {
        let texts = [
            ("b1", doc("regel", None, "Entwurf.\n")),
            ("b2", doc("regel", Some("2026-03-01"), "Beschlossen.\n")),
            (
                "b4",
                doc("regel", Some("2026-03-01"), "Redaktionell geändert.\n"),
            ),
            ("b5", doc("regel", Some("2026-09-01"), "Neu beschlossen.\n")),
        ];
        let blobs: std::collections::HashMap<String, String> = texts
            .iter()
            .map(|(b, t)| (b.to_string(), t.clone()))
            .collect();
        let rev = |id: &str, time: i64, changes: Vec<(&str, Option<&str>)>| Revision {
            commit: Commit {
                id: format!("{id:0<40}").into(),
                time,
                author_email: "".into(),
            },
            changes: changes
                .into_iter()
                .map(|(p, b)| FileChange {
                    path: p.into(),
                    blob: b.map(str::to_string),
                })
                .collect(),
        };
        let log = Log {
            completeness: Completeness::Full,
            revisions: vec![
                rev("a", 1, vec![("content/leitlinien/alt.md", Some("b1"))]),
                rev("b", 2, vec![("content/leitlinien/alt.md", Some("b2"))]),
                // Renamed without change (the same blob): no new Stand.
                rev(
                    "c",
                    3,
                    vec![
                        ("content/leitlinien/alt.md", None),
                        ("content/leitlinien/neu.md", Some("b2")),
                    ],
                ),
                rev("d", 4, vec![("content/leitlinien/neu.md", Some("b4"))]),
                rev(
                    "e",
                    5,
                    vec![
                        ("content/leitlinien/neu.md", Some("b5")),
                        ("content/seiten/x.md", Some("b1")),
                    ],
                ),
            ],
            blobs: Arc::new(Blobs::from_texts(blobs)),
        };
        let versions = build(&log, fronts::Cache::default());
        let history = &versions.guidelines["regel"];
        let fassung: Vec<bool> = history.stands.iter().map(|s| s.fassung).collect();
        assert_eq!(fassung, [false, true, false, true]);
        assert_eq!(history.stands[2].path, "content/leitlinien/neu.md");
        assert!(diagnostics(&versions).is_empty());
        // The rename in "c" deleted a file, not the guideline.
        assert!(versions.removals.guidelines.is_empty());

        // Deleted in "f", published again in "g", deleted for good in "h".
        let mut log = log;
        let mut texts = blobs_of(&texts);
        texts.insert("e1".into(), "id = \"eintrag\"\nname = \"E\"\n".into());
        log.blobs = Arc::new(Blobs::from_texts(texts));
        log.revisions.extend([
            rev("f", 6, vec![("content/leitlinien/neu.md", None)]),
            rev(
                "g",
                7,
                vec![
                    ("content/leitlinien/wieder.md", Some("b4")),
                    ("content/register/e.toml", Some("e1")),
                ],
            ),
            rev(
                "h",
                8,
                vec![
                    ("content/leitlinien/wieder.md", None),
                    ("content/register/e.toml", None),
                    ("content/register/umbenannt.toml", Some("e1")),
                ],
            ),
        ]);
        let versions = build(&log, fronts::Cache::default());
        let removed = |map: &BTreeMap<String, Commit>| -> Vec<(String, String)> {
            map.iter()
                .map(|(id, c)| (id.clone(), c.id[..1].to_string()))
                .collect()
        };
        assert_eq!(
            removed(&versions.removals.guidelines),
            [("regel".to_string(), "h".to_string())]
        );
        // The entry moved to another file in the same commit: not removed.
        assert!(versions.removals.register.is_empty());
    }

    fn blobs_of(texts: &[(&str, String)]) -> std::collections::HashMap<String, String> {
        texts
            .iter()
            .map(|(b, t)| (b.to_string(), t.clone()))
            .collect()
    }
}
