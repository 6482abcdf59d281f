//! Version pages: a permanent page per Stand, the Fassungen of each guideline, Synopse comparisons,
//! `versions.json`, the site-wide decisions, point-in-time view and change feed.
//!
//! URL scheme (permanent once published):
//! - `leitlinien/<id>/stand/<commit12>/` — the text as that commit published it
//! - `leitlinien/<id>/fassung/<beschlussdatum>/` — an adopted text
//! - `leitlinien/<id>/fassungen/` — the document's Fassungen and Stände, and the comparison picker
//! - `leitlinien/<id>/synopse/<a>/<b>/` — comparison; `a`, `b` are commit12 ids or `aktuell` (today's text)
//! - `leitlinien/<id>/versions.json` — the same as data, for the picker
//! - `beschluesse/`, `stichtag/`, `aenderungen/`, `aenderungen.atom`
//!
//! A guideline that is no longer published keeps all of these; its own address (`leitlinien/<id>/`) then
//! says since when it is gone and links its last Stand (see [`crate::versions::Removals`]).
//!
//! What is precomputed grows linearly with the history: each Stand vs its predecessor, each Fassung vs the
//! previous Fassung and vs today's text, and every pair of Fassungen while a document has at most
//! [`ALL_PAIRS_LIMIT`] of them.

use hashbrown::HashMap;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::compare::{self, Block, DiffLabels, Row, Summary};
use crate::content::{Content, Doc, GuidelineMeta, RenderSettings, render_body};
use crate::diagnostics::SourceText;
use crate::render::history::{self, Change, Crumb, Removal, StandLink, changed_by};
use crate::render::{
    DateContext, OutputFile, PageJob, Previous, Shared, TocContext, VersionJob, output_path, toc,
};
use crate::reuse::{DocumentKey, DocumentPages, Hash, StoredDocument, StoredFile, VersionPages};
use crate::versions::{DocHistory, Stand, Versions};

/// Up to this many Fassungen, every pair of them is compared.
pub const ALL_PAIRS_LIMIT: usize = 30;
/// The key of today's text in comparisons.
pub const CURRENT: &str = "aktuell";
/// How many Stände the change feed lists.
const FEED_LENGTH: usize = 50;
/// Unchanged rows beyond this many in a row are collapsed.
const COLLAPSE_AFTER: usize = 2;

/// Site paths this module generates besides per-document pages.
pub(crate) const GENERATED: &[&str] = &[
    "beschluesse/",
    "stichtag/",
    "aenderungen/",
    "aenderungen.atom",
];

/// The document a history belongs to: today's guideline, or one that is no longer published.
pub(crate) struct Subject<'a> {
    id: &'a str,
    /// Today's title, or the last Stand's.
    title: String,
    /// Today's page, or the page saying that the guideline was removed (both at `leitlinien/<id>/`).
    url_path: String,
    /// Today's file; `None` when removed.
    today: Option<&'a Doc<GuidelineMeta>>,
    removed: Option<Removal>,
    /// The first day it was no longer published: the removing commit's date (today if that is unknown).
    removed_on: Option<chrono::NaiveDate>,
}

/// Every guideline with Stände, with its history: today's (in their order), then the removed ones.
pub(crate) fn subjects<'a>(
    shared: &Shared,
    content: &'a Content,
    versions: &'a Versions,
) -> Vec<(Subject<'a>, &'a DocHistory)> {
    let mut out: Vec<(Subject, &DocHistory)> = content
        .valid_guidelines()
        .filter_map(|(doc, meta)| {
            let history = versions.guidelines.get(&meta.id.value)?;
            let subject = Subject {
                id: meta.id.value.as_str(),
                title: meta.title.clone(),
                url_path: doc.url_path.clone(),
                today: Some(doc),
                removed: None,
                removed_on: None,
            };
            (!history.stands.is_empty()).then_some((subject, history))
        })
        .collect();
    let today: std::collections::HashSet<&str> = out.iter().map(|(s, _)| s.id).collect();
    let removed: Vec<(Subject, &DocHistory)> = versions
        .guidelines
        .iter()
        .filter(|(id, history)| !history.stands.is_empty() && !today.contains(id.as_str()))
        .map(|(id, history)| {
            let removing = versions.removals.guidelines.get(id);
            let subject = Subject {
                id: id.as_str(),
                title: history.stands[history.stands.len() - 1].title(),
                url_path: base(id),
                today: None,
                removed: Some(Removal::new(shared, removing)),
                removed_on: Some(removing.map_or(shared.today, |c| c.date())),
            };
            (subject, history)
        })
        .collect();
    out.extend(removed);
    out
}

/// The removals of guidelines, for the changes page and the feed.
pub(crate) fn removals(
    shared: &Shared,
    versions: &Versions,
    subjects: &[(Subject, &DocHistory)],
) -> Vec<Change> {
    subjects
        .iter()
        .filter(|(subject, _)| subject.removed.is_some())
        .filter_map(|(subject, _)| {
            history::removal_change(
                shared,
                versions.removals.guidelines.get(subject.id),
                &subject.url_path,
                subject.title.clone(),
                shared.text("search_type_guideline"),
            )
        })
        .collect()
}

/// One version of a document as comparisons see it: a Stand, or today's text.
struct Version<'a> {
    key: String,
    label: String,
    date: Option<DateContext>,
    url: String,
    /// The file's path.
    path: &'a str,
    /// Where its text is: read (from the history's store) only when a comparison needs it.
    text: VersionText<'a>,
    /// What the text is, for page keys: the blob id of a Stand, a hash of today's text.
    identity: String,
}

/// Where a [`Version`]'s text comes from.
#[derive(Clone, Copy)]
enum VersionText<'a> {
    Stand(&'a Stand),
    Today(&'a Doc<GuidelineMeta>),
}

impl<'a> VersionText<'a> {
    /// The Markdown body, without the front matter.
    fn body(self) -> &'a str {
        match self {
            VersionText::Stand(stand) => stand.body(),
            VersionText::Today(doc) => doc.source.text.get(body_offset(doc)..).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, Clone)]
struct VersionRef {
    key: String,
    label: String,
    date: Option<DateContext>,
    url: String,
}

#[derive(Serialize, Clone)]
struct FassungContext {
    datum: DateContext,
    gremium: String,
    vorlage: String,
    vorlage_url: String,
    von: Option<DateContext>,
    bis: Option<DateContext>,
    url: String,
    stand_key: String,
    compare_previous_url: String,
    compare_current_url: String,
    in_force: bool,
}

#[derive(Serialize, Clone)]
struct StandRow {
    key: String,
    date: DateContext,
    url: String,
    fassung: bool,
    compare_previous_url: String,
}

#[derive(Serialize)]
struct StandPage {
    id: String,
    title: String,
    current_url: String,
    fassungen_url: String,
    key: String,
    date: DateContext,
    fassung: Option<FassungContext>,
    previous: Option<VersionRef>,
    next: Option<VersionRef>,
    compare_previous_url: String,
    is_latest: bool,
    /// The author's role, when `[verlauf.autoren]` maps the author.
    changed_by: Option<String>,
    /// Set when the guideline is no longer published.
    removed: Option<Removal>,
    toc: Vec<TocContext>,
    content: String,
}

#[derive(Serialize)]
struct FassungenPage {
    id: String,
    title: String,
    current_url: String,
    fassungen: Vec<FassungContext>,
    stands: Vec<StandRow>,
    versions: Vec<VersionRef>,
    comparisons: Vec<ComparisonRef>,
    json_url: String,
    /// Set when the guideline is no longer published.
    removed: Option<Removal>,
}

#[derive(Serialize, Clone)]
struct ComparisonRef {
    from: String,
    to: String,
    label: String,
    url: String,
}

#[derive(Serialize)]
struct RowContext {
    kind: &'static str,
    old_html: String,
    new_html: String,
    old_anchor: String,
    new_anchor: String,
    /// For moves: the anchor of the other place.
    link: String,
}

#[derive(Serialize)]
struct RowGroup {
    collapsed: bool,
    rows: Vec<RowContext>,
}

#[derive(Serialize)]
struct SynopsePage {
    id: String,
    title: String,
    current_url: String,
    fassungen_url: String,
    old: VersionRef,
    new: VersionRef,
    summary: Summary,
    groups: Vec<RowGroup>,
}

/// What the guideline page shows about its versions.
#[derive(Serialize, Clone)]
pub(crate) struct VersionsSummary {
    pub fassungen_url: String,
    pub stand_count: usize,
    pub fassung_count: usize,
    /// The Fassung in force today, if any.
    pub in_force: Option<FassungLink>,
    /// Whether today's text is exactly that Fassung (otherwise it is a newer draft).
    pub current_is_in_force: bool,
    pub compare_in_force_url: String,
    pub latest_stand_url: String,
}

#[derive(Serialize, Clone)]
pub(crate) struct FassungLink {
    pub datum: DateContext,
    pub gremium: String,
    pub url: String,
}

fn base(id: &str) -> String {
    format!("leitlinien/{id}/")
}

fn stand_path(id: &str, stand: &Stand) -> String {
    format!("{}stand/{}/", base(id), stand.commit.short())
}

/// Fassung paths by Stand index: the decision date, with `-2`, `-3` if a document has two on one day.
fn fassung_paths(id: &str, history: &DocHistory) -> BTreeMap<usize, String> {
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut paths = BTreeMap::new();
    for (i, stand) in history.fassungen() {
        let date = stand
            .beschluss()
            .map(|b| b.datum.to_string())
            .unwrap_or_default();
        let mut slug = date.clone();
        let mut n = 2;
        while !used.insert(slug.clone()) {
            slug = format!("{date}-{n}");
            n += 1;
        }
        paths.insert(i, format!("{}fassung/{slug}/", base(id)));
    }
    paths
}

/// Whether a version page at `path` may be indexed by search engines: Stand, Fassung and Synopse pages
/// are `noindex` (they would compete with today's text), the Fassungen overview is not.
/// The folder of a version page at output path `path` that a sitemap lists: an `index.html`'s, if it
/// is not a Stand, a Fassung or a Synopse ([`is_indexable`]).
pub(crate) fn listed_folder(path: &str) -> Option<&str> {
    path.strip_suffix("index.html")
        .filter(|dir| dir.is_empty() || dir.ends_with('/'))
        .filter(|dir| is_indexable(dir))
}

pub(crate) fn is_indexable(path: &str) -> bool {
    !["/stand/", "/fassung/", "/synopse/"]
        .iter()
        .any(|part| path.contains(part))
}

fn synopse_path(id: &str, a: &str, b: &str) -> String {
    format!("{}synopse/{a}/{b}/", base(id))
}

/// The pairs (old key, new key) precomputed for one document.
/// With `has_current` false (a removed guideline), nothing is compared with today's text.
fn pairs(history: &DocHistory, current_differs: bool, has_current: bool) -> Vec<(String, String)> {
    let key = |i: usize| history.stands[i].commit.short().to_string();
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for i in 1..history.stands.len() {
        pairs.insert((i - 1, i));
    }
    let fassungen: Vec<usize> = history.fassungen().map(|(i, _)| i).collect();
    for w in fassungen.windows(2) {
        pairs.insert((w[0], w[1]));
    }
    if fassungen.len() <= ALL_PAIRS_LIMIT {
        for (x, &a) in fassungen.iter().enumerate() {
            for &b in &fassungen[x + 1..] {
                pairs.insert((a, b));
            }
        }
    }
    out.extend(pairs.into_iter().map(|(a, b)| (key(a), key(b))));
    let last = history.stands.len().checked_sub(1);
    if !has_current {
        out.sort();
        return out;
    }
    for &f in &fassungen {
        if current_differs || Some(f) != last {
            out.push((key(f), CURRENT.to_string()));
        }
    }
    if current_differs && let Some(last) = last {
        out.push((key(last), CURRENT.to_string()));
    }
    out.sort();
    out.dedup();
    out
}

/// The versions summary for the guideline page.
pub(crate) fn summary_for(
    shared: &Shared,
    versions: &Versions,
    doc: &Doc<GuidelineMeta>,
) -> Option<VersionsSummary> {
    let id = doc.meta.as_ref()?.id.value.as_str();
    let history = versions.guidelines.get(id)?;
    let last = history.stands.last()?;
    let fassung_paths = fassung_paths(id, history);
    let in_force = in_force_index(history, shared.today);
    let current_differs = !last.has_text_hash(&doc.text_hash);
    let current_is_in_force =
        in_force.is_some_and(|i| i + 1 == history.stands.len() && !current_differs);
    Some(VersionsSummary {
        fassungen_url: shared.url(&format!("{}fassungen/", base(id))),
        stand_count: history.stands.len(),
        fassung_count: fassung_paths.len(),
        in_force: in_force.map(|i| {
            let stand = &history.stands[i];
            let beschluss = stand.beschluss().expect("a Fassung has a decision");
            FassungLink {
                datum: shared.date(beschluss.datum),
                gremium: beschluss.gremium.clone(),
                url: shared.url(&fassung_paths[&i]),
            }
        }),
        current_is_in_force,
        compare_in_force_url: in_force
            .filter(|_| !current_is_in_force)
            .map(|i| shared.url(&synopse_path(id, history.stands[i].commit.short(), CURRENT)))
            .unwrap_or_default(),
        latest_stand_url: shared.url(&stand_path(id, last)),
    })
}

/// One row of a Fassungen table: decision, validity and address; comparisons left empty. A Fassung is
/// valid until the next one begins, or until the day before the guideline was removed (`removed_on`).
fn fassung_row(
    shared: &Shared,
    history: &DocHistory,
    fassung_paths: &BTreeMap<usize, String>,
    i: usize,
    removed_on: Option<chrono::NaiveDate>,
) -> FassungContext {
    let stand = &history.stands[i];
    let beschluss = stand.beschluss().expect("a Fassung has a decision");
    let next_from = history
        .fassungen()
        .find(|(j, _)| *j > i)
        .and_then(|(_, s)| s.in_force_from())
        .or(removed_on);
    let removed = removed_on.is_some_and(|day| day <= shared.today);
    FassungContext {
        datum: shared.date(beschluss.datum),
        gremium: beschluss.gremium.clone(),
        vorlage: beschluss.vorlage.clone(),
        vorlage_url: beschluss.url.clone().unwrap_or_default(),
        von: stand.in_force_from().map(|d| shared.date(d)),
        bis: next_from.and_then(|d| d.pred_opt()).map(|d| shared.date(d)),
        url: shared.url(&fassung_paths[&i]),
        stand_key: stand.commit.short().to_string(),
        compare_previous_url: String::new(),
        compare_current_url: String::new(),
        in_force: !removed && in_force_index(history, shared.today) == Some(i),
    }
}

/// The Fassung in force on `date`: the latest one whose validity has begun.
fn in_force_index(history: &DocHistory, date: chrono::NaiveDate) -> Option<usize> {
    history
        .fassungen()
        .filter(|(_, s)| s.in_force_from().is_some_and(|from| from <= date))
        .map(|(i, _)| i)
        .last()
}

/// All version pages and files of all guidelines.
///
/// A document whose version pages an earlier build rendered from the same inputs ([`document_key`]) is not
/// rendered again: its files come from `previous` (see [`crate::reuse`]).
pub(crate) fn render(
    shared: &Shared,
    content: &Content,
    versions: &Versions,
    subjects: &[(Subject, &DocHistory)],
    settings: &RenderSettings,
    others: &[Change],
    previous: Option<&Previous>,
) -> (Vec<VersionJob>, Vec<OutputFile>, VersionPages) {
    let published = historical_published(content, versions);
    let build = previous.map(|p| {
        let mut key = DocumentKey::new(&p.fingerprint);
        for (from, to) in &published {
            key.add(from).add(to);
        }
        blake3::Hash::from_bytes(key.finish())
    });
    let per_doc: Vec<(Vec<VersionJob>, Vec<OutputFile>, DocumentPages)> = subjects
        .par_iter()
        .map(|(subject, history)| {
            let key = build
                .as_ref()
                .map(|build| document_key(build, shared, content, subject, history))
                .unwrap_or_default();
            let address = subject.url_path.clone();
            let stored = previous.and_then(|p| p.index.document(&address));
            if let Some(stored) = stored.filter(|stored| stored.key == key) {
                let stored = stored.clone();
                return (
                    Vec::new(),
                    Vec::new(),
                    DocumentPages::Reused { address, stored },
                );
            }
            // Single pages may come from what the store holds of the document's earlier pages.
            let stored_pages = stored.map(StoredDocument::pages).unwrap_or_default();
            let reuse = build
                .as_ref()
                .filter(|_| previous.is_some())
                .map(|build| PageReuse {
                    build,
                    stored: &stored_pages,
                });
            let out = document(
                shared, content, &published, settings, subject, history, reuse,
            );
            let paths: Vec<String> = out
                .jobs
                .iter()
                .map(VersionJob::output_path)
                .chain(out.files.iter().map(|f| f.path.clone()))
                .collect();
            let listed = paths
                .iter()
                .chain(out.reused.iter().map(|f| &f.path))
                .filter_map(|path| listed_folder(path))
                .map(str::to_string)
                .collect();
            let pages = DocumentPages::Rendered {
                address,
                key,
                paths,
                reused: out.reused,
                page_keys: out.page_keys,
                listed,
            };
            (out.jobs, out.files, pages)
        })
        .collect();
    let mut jobs = Vec::new();
    let mut files = Vec::new();
    let mut pages = VersionPages::default();
    for (j, f, p) in per_doc {
        jobs.extend(j);
        files.extend(f);
        pages.documents.push(p);
    }
    files.push(feed(shared, subjects, others));
    (jobs, files, pages)
}

/// The key of a document's version pages: the build-wide inputs and the links of all documents (in
/// `build`), today's text of the document (or its removal), every Stand (commit, path, text, Fassung or
/// not, the role shown as its author) and which Fassung is in force today.
fn document_key(
    build: &blake3::Hash,
    shared: &Shared,
    content: &Content,
    subject: &Subject,
    history: &DocHistory,
) -> Hash {
    let mut key = DocumentKey::new(build);
    key.add(&subject.url_path);
    match (subject.today, &subject.removed) {
        (Some(doc), _) => key.add(&doc.source.path).add(doc.text_hash),
        (None, removed) => key
            .add("entfernt")
            .add(
                removed
                    .as_ref()
                    .and_then(|r| r.commit.as_ref())
                    .map_or("", |s| s.key.as_str()),
            )
            .add(format!("{:?}", subject.removed_on)),
    };
    key.add(format!("{:?}", in_force_index(history, shared.today)));
    for stand in &history.stands {
        let role = changed_by(shared, content, &stand.commit);
        key.add(stand.commit.id.as_bytes())
            .add(stand.commit.time.to_le_bytes())
            .add(&stand.path)
            .add(&stand.blob)
            .add([u8::from(stand.fassung), u8::from(role.is_some())])
            .add(role.unwrap_or_default());
    }
    key.finish()
}

/// Where links in earlier versions lead: today's files, plus every earlier path of a guideline to where that
/// guideline is published now (a link to `datenschutz.md` still works after the file became `dsgvo.md`).
fn historical_published(content: &Content, versions: &Versions) -> BTreeMap<String, String> {
    let mut published = content.published.clone();
    for (id, history) in &versions.guidelines {
        for stand in &history.stands {
            if !published.contains_key(&stand.path) {
                published.insert(stand.path.clone(), base(id));
            }
        }
    }
    published
}

fn version_ref(v: &Version) -> VersionRef {
    VersionRef {
        key: v.key.clone(),
        label: v.label.clone(),
        date: v.date.clone(),
        url: v.url.clone(),
    }
}

/// The version pages of one document that changed since the last build. Single pages whose inputs did
/// not change (most Stände, most comparisons) are still taken from the store, by page key.
#[allow(clippy::too_many_arguments)]
fn document(
    shared: &Shared,
    content: &Content,
    published: &BTreeMap<String, String>,
    settings: &RenderSettings,
    subject: &Subject,
    history: &DocHistory,
    reuse: Option<PageReuse>,
) -> DocumentOutput {
    let mut out = DocumentOutput::default();
    let id = subject.id;
    let url_path = subject.url_path.as_str();
    let current_url = shared.url(url_path);
    let fassungen_url = shared.url(&format!("{}fassungen/", base(id)));
    let fassung_paths = fassung_paths(id, history);
    let last = history.stands.len() - 1;
    let current_differs = subject
        .today
        .is_some_and(|doc| !history.stands[last].has_text_hash(&doc.text_hash));

    let stand_label = shared.text("versions_stand_of");
    let mut versions: Vec<Version> = history
        .stands
        .iter()
        .map(|s| Version {
            key: s.commit.short().to_string(),
            label: format!("{stand_label} {}", shared.date(s.commit.date()).display),
            date: Some(shared.date(s.commit.date())),
            url: shared.url(&stand_path(id, s)),
            path: &s.path,
            text: VersionText::Stand(s),
            identity: s.blob.clone(),
        })
        .collect();
    if let Some(doc) = subject.today {
        versions.push(Version {
            key: CURRENT.to_string(),
            label: shared.text("versions_current"),
            date: None,
            url: current_url.clone(),
            path: &doc.source.path,
            text: VersionText::Today(doc),
            identity: blake3::Hash::from_bytes(doc.text_hash).to_hex().to_string(),
        });
    }
    let by_key: BTreeMap<&str, &Version> = versions.iter().map(|v| (v.key.as_str(), v)).collect();

    let pairs = pairs(history, current_differs, subject.today.is_some());
    let compare_url = |a: &str, b: &str| {
        if pairs.iter().any(|(x, y)| x == a && y == b) {
            shared.url(&synopse_path(id, a, b))
        } else {
            String::new()
        }
    };

    let fassung_context = |i: usize| -> FassungContext {
        let stand = &history.stands[i];
        let previous = history.fassungen().filter(|(j, _)| *j < i).last();
        FassungContext {
            compare_previous_url: previous
                .map(|(_, p)| compare_url(p.commit.short(), stand.commit.short()))
                .unwrap_or_default(),
            compare_current_url: compare_url(stand.commit.short(), CURRENT),
            ..fassung_row(shared, history, &fassung_paths, i, subject.removed_on)
        }
    };

    // One page per Stand; a Fassung also under its decision date.
    for (i, stand) in history.stands.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| version_ref(&versions[p]));
        let mut page = StandPage {
            id: id.to_string(),
            title: stand.title(),
            current_url: current_url.clone(),
            fassungen_url: fassungen_url.clone(),
            key: stand.commit.short().to_string(),
            date: shared.date(stand.commit.date()),
            fassung: stand.fassung.then(|| fassung_context(i)),
            previous,
            next: (i < last).then(|| version_ref(&versions[i + 1])),
            compare_previous_url: i
                .checked_sub(1)
                .map(|p| compare_url(history.stands[p].commit.short(), stand.commit.short()))
                .unwrap_or_default(),
            is_latest: i == last && !current_differs && subject.today.is_some(),
            changed_by: changed_by(shared, content, &stand.commit),
            removed: subject.removed.clone(),
            toc: Vec::new(),
            content: String::new(),
        };
        let stand_path = stand_path(id, stand);
        let paths: Vec<&str> = fassung_paths
            .get(&i)
            .map(String::as_str)
            .into_iter()
            .chain([stand_path.as_str()])
            .collect();
        // The key covers the page without its body, and the text the body is rendered from.
        let inputs = [
            serde_json::to_vec(&page).unwrap_or_default(),
            stand.blob.clone().into_bytes(),
            url_path.as_bytes().to_vec(),
        ];
        let missing: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|path| !out.stored(reuse.as_ref(), "stand.html", path, &inputs))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let rendered = render_body(
            &stand.source(),
            stand.body_start,
            url_path,
            published,
            settings,
        );
        page.toc = toc(&rendered.toc);
        page.content = rendered.html.into_string();
        for path in missing {
            out.jobs.push(shared.version_job("stand.html", path, |c| {
                c.insert("page", &page);
                if path != stand_path {
                    c.insert("canonical", &format!("{}{}", shared.config.base_url, path));
                }
            }));
        }
    }

    // Comparisons.
    let labels = DiffLabels {
        deleted: &shared.text("synopse_deleted"),
        inserted: &shared.text("synopse_inserted"),
    };
    let mut blocks: BTreeMap<&str, Vec<Block>> = BTreeMap::new();
    let mut comparisons = Vec::new();
    for (a, b) in &pairs {
        let (old, new) = (by_key[a.as_str()], by_key[b.as_str()]);
        let path = synopse_path(id, a, b);
        comparisons.push(ComparisonRef {
            from: a.clone(),
            to: b.clone(),
            label: format!("{} → {}", old.label, new.label),
            url: shared.url(&path),
        });
        let mut page = SynopsePage {
            id: id.to_string(),
            title: subject.title.clone(),
            current_url: current_url.clone(),
            fassungen_url: fassungen_url.clone(),
            old: version_ref(old),
            new: version_ref(new),
            summary: Summary::default(),
            groups: Vec::new(),
        };
        // The key covers the page without its rows, and the two texts they are computed from.
        let inputs = [
            serde_json::to_vec(&page).unwrap_or_default(),
            old.identity.clone().into_bytes(),
            new.identity.clone().into_bytes(),
            url_path.as_bytes().to_vec(),
        ];
        if out.stored(reuse.as_ref(), "synopse.html", &path, &inputs) {
            continue;
        }
        for v in [old, new] {
            blocks
                .entry(v.key.as_str())
                .or_insert_with(|| version_blocks(v, url_path, published, settings));
        }
        let synopsis = compare::compare(&blocks[a.as_str()], &blocks[b.as_str()], &labels);
        page.summary = synopsis.summary;
        page.groups = groups(
            &synopsis.rows,
            &blocks[a.as_str()],
            &blocks[b.as_str()],
            (&shared.text("synopse_old"), &shared.text("synopse_new")),
        );
        out.jobs
            .push(shared.version_job("synopse.html", &path, |c| c.insert("page", &page)));
    }

    // The overview of Fassungen and Stände, with the picker.
    let page = FassungenPage {
        id: id.to_string(),
        title: subject.title.clone(),
        current_url: current_url.clone(),
        fassungen: history
            .fassungen()
            .map(|(i, _)| fassung_context(i))
            .collect(),
        stands: history
            .stands
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| StandRow {
                key: s.commit.short().to_string(),
                date: shared.date(s.commit.date()),
                url: shared.url(&stand_path(id, s)),
                fassung: s.fassung,
                compare_previous_url: i
                    .checked_sub(1)
                    .map(|p| compare_url(history.stands[p].commit.short(), s.commit.short()))
                    .unwrap_or_default(),
            })
            .collect(),
        versions: versions.iter().rev().map(version_ref).collect(),
        comparisons: comparisons.clone(),
        json_url: shared.url(&format!("{}versions.json", base(id))),
        removed: subject.removed.clone(),
    };
    out.jobs.push(
        shared.version_job("fassungen.html", &format!("{}fassungen/", base(id)), |c| {
            c.insert("page", &page)
        }),
    );

    let json = versions_json(
        shared,
        id,
        &subject.title,
        history,
        &versions,
        &fassung_paths,
        &comparisons,
    );
    out.files.push(OutputFile::new(
        format!("{}versions.json", base(id)),
        json.into_bytes(),
    ));
    out
}

/// Where single pages of a changed document may come from.
#[derive(Clone, Copy)]
struct PageReuse<'a> {
    /// The build-wide inputs, as for document keys.
    build: &'a blake3::Hash,
    /// Page key → file hash of the document's pages in the store ([`StoredDocument::pages`]).
    stored: &'a HashMap<Hash, Hash>,
}

/// The version pages of a changed document: pages to render, files, pages taken from the store, and the
/// key of every page (for the next build).
#[derive(Default)]
struct DocumentOutput {
    jobs: Vec<VersionJob>,
    files: Vec<OutputFile>,
    reused: Vec<StoredFile>,
    page_keys: Vec<(String, Hash)>,
}

impl DocumentOutput {
    /// Records the key of the page at site path `path` (made from `template` and `inputs`) and whether an
    /// earlier build stored a page of that key: then it is taken from the store and need not be rendered.
    fn stored(
        &mut self,
        reuse: Option<&PageReuse>,
        template: &str,
        path: &str,
        inputs: &[Vec<u8>],
    ) -> bool {
        let Some(reuse) = reuse else { return false };
        let path = output_path(path);
        let path = path.as_str();
        let mut key = DocumentKey::new(reuse.build);
        key.add(template).add(path);
        for input in inputs {
            key.add(input);
        }
        let key = key.finish();
        let found = reuse.stored.get(&key);
        if let Some(hash) = found {
            self.reused.push(StoredFile {
                path: path.to_string(),
                hash: *hash,
                key: Some(key),
                search: None,
            });
        }
        self.page_keys.push((path.to_string(), key));
        found.is_some()
    }
}

/// Where the Markdown body of today's document starts.
fn body_offset(doc: &Doc<GuidelineMeta>) -> usize {
    crate::content::frontmatter::split(&doc.source).map_or(0, |s| s.body_start)
}

fn version_blocks(
    v: &Version,
    own_path: &str,
    published: &BTreeMap<String, String>,
    settings: &RenderSettings,
) -> Vec<Block> {
    let body = v.text.body();
    compare::split_blocks(body)
        .into_iter()
        .map(|range| {
            let markdown = body[range].to_string();
            let source = SourceText::new(v.path, markdown.clone());
            let html = render_body(&source, 0, own_path, published, settings).html;
            Block {
                markdown,
                html: html.into_string(),
            }
        })
        .collect()
}

/// Names the regions (scrollable tables) of one column after that column, so both columns' copies of a
/// table stay distinguishable landmarks.
fn name_regions(html: &str, column: &str) -> String {
    html.replace(
        "role=\"region\" aria-label=\"",
        &format!("role=\"region\" aria-label=\"{column}: "),
    )
}

/// Rows for the template, with long unchanged runs collapsed.
fn groups(rows: &[Row], old: &[Block], new: &[Block], columns: (&str, &str)) -> Vec<RowGroup> {
    let mut groups = groups_unnamed(rows, old, new);
    for row in groups.iter_mut().flat_map(|g| g.rows.iter_mut()) {
        row.old_html = name_regions(&row.old_html, columns.0);
        row.new_html = name_regions(&row.new_html, columns.1);
    }
    groups
}

fn groups_unnamed(rows: &[Row], old: &[Block], new: &[Block]) -> Vec<RowGroup> {
    let mut groups: Vec<RowGroup> = Vec::new();
    let mut run: Vec<RowContext> = Vec::new();
    let flush = |run: &mut Vec<RowContext>, groups: &mut Vec<RowGroup>| {
        if run.is_empty() {
            return;
        }
        let collapsed = run.len() > COLLAPSE_AFTER;
        groups.push(RowGroup {
            collapsed,
            rows: std::mem::take(run),
        });
    };
    for row in rows {
        let context = match row {
            Row::Same { old: o, new: n } => {
                run.push(RowContext {
                    kind: "same",
                    old_html: old[*o].html.clone(),
                    new_html: new[*n].html.clone(),
                    old_anchor: format!("a-{o}"),
                    new_anchor: format!("b-{n}"),
                    link: String::new(),
                });
                continue;
            }
            Row::Changed {
                old: o,
                new: n,
                old_html,
                new_html,
            } => RowContext {
                kind: "changed",
                old_html: old_html.clone(),
                new_html: new_html.clone(),
                old_anchor: format!("a-{o}"),
                new_anchor: format!("b-{n}"),
                link: String::new(),
            },
            Row::Deleted { old: o } => RowContext {
                kind: "deleted",
                old_html: old[*o].html.clone(),
                new_html: String::new(),
                old_anchor: format!("a-{o}"),
                new_anchor: String::new(),
                link: String::new(),
            },
            Row::Inserted { new: n } => RowContext {
                kind: "inserted",
                old_html: String::new(),
                new_html: new[*n].html.clone(),
                old_anchor: String::new(),
                new_anchor: format!("b-{n}"),
                link: String::new(),
            },
            Row::MovedAway { old: o, new: n } => RowContext {
                kind: "moved_away",
                old_html: old[*o].html.clone(),
                new_html: String::new(),
                old_anchor: format!("a-{o}"),
                new_anchor: String::new(),
                link: format!("b-{n}"),
            },
            Row::MovedHere {
                old: o,
                new: n,
                old_html: _,
                new_html,
            } => RowContext {
                kind: "moved_here",
                old_html: String::new(),
                new_html: new_html.clone(),
                old_anchor: String::new(),
                new_anchor: format!("b-{n}"),
                link: format!("a-{o}"),
            },
        };
        flush(&mut run, &mut groups);
        groups.push(RowGroup {
            collapsed: false,
            rows: vec![context],
        });
    }
    flush(&mut run, &mut groups);
    groups
}

fn versions_json(
    shared: &Shared,
    id: &str,
    title: &str,
    history: &DocHistory,
    versions: &[Version],
    fassung_paths: &BTreeMap<usize, String>,
    comparisons: &[ComparisonRef],
) -> String {
    #[derive(Serialize)]
    struct Beschluss<'a> {
        gremium: &'a str,
        datum: String,
        vorlage: &'a str,
        url: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Entry<'a> {
        key: &'a str,
        commit: Option<&'a str>,
        date: Option<String>,
        label: &'a str,
        url: &'a str,
        fassung_url: Option<String>,
        beschluss: Option<Beschluss<'a>>,
    }
    #[derive(Serialize)]
    struct Json<'a> {
        id: &'a str,
        title: &'a str,
        current_url: String,
        versions: Vec<Entry<'a>>,
        comparisons: &'a [ComparisonRef],
    }
    let entries = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let stand = history.stands.get(i);
            Entry {
                key: &v.key,
                commit: stand.map(|s| &*s.commit.id),
                date: v.date.as_ref().map(|d| d.iso.clone()),
                label: &v.label,
                url: &v.url,
                fassung_url: fassung_paths.get(&i).map(|p| shared.url(p)),
                beschluss: stand.and_then(|s| s.beschluss()).map(|b| Beschluss {
                    gremium: &b.gremium,
                    datum: b.datum.to_string(),
                    vorlage: &b.vorlage,
                    url: b.url.as_deref(),
                }),
            }
        })
        .collect();
    let json = Json {
        id,
        title,
        current_url: shared.url(&base(id)),
        versions: entries,
        comparisons,
    };
    serde_json::to_string_pretty(&json).expect("versions serialize")
}

#[derive(Serialize)]
struct DecisionContext {
    gremium: String,
    datum: DateContext,
    vorlage: String,
    url: String,
    documents: Vec<DecisionDocument>,
}

#[derive(Serialize)]
struct DecisionDocument {
    title: String,
    fassung_url: String,
    current_url: String,
}

#[derive(Serialize)]
struct ChangeContext {
    /// What was changed: guideline, register entry, matrix (the search filter's words).
    kind: String,
    title: String,
    date: DateContext,
    key: String,
    url: String,
    fassung: bool,
    compare_url: String,
    current_url: String,
    /// The change removed the document.
    removed: bool,
}

#[derive(Serialize)]
struct PointInTimeDoc {
    title: String,
    current_url: String,
    fassungen: Vec<FassungContext>,
}

/// The site-wide pages: decisions, point in time, recent changes.
pub(crate) fn site_pages(
    shared: &Shared,
    subjects: &[(Subject, &DocHistory)],
    others: &[Change],
) -> Vec<PageJob> {
    let mut decisions: BTreeMap<(chrono::NaiveDate, String, String), DecisionContext> =
        BTreeMap::new();
    let mut recent: Vec<(i64, Recent)> = Vec::new();
    let mut point_in_time: Vec<PointInTimeDoc> = Vec::new();
    let mut removed_pages: Vec<PageJob> = Vec::new();
    for (subject, history) in subjects {
        let id = subject.id;
        let fassung_paths = fassung_paths(id, history);
        let current_url = shared.url(&subject.url_path);
        if let Some(removal) = &subject.removed {
            // `leitlinien/<id>/stand/<commit12>/`, as for register entries and matrices.
            let links: Vec<StandLink> =
                history::stand_links(shared, &base(id), history.stands.iter().map(|s| &s.commit));
            removed_pages.extend(history::removed_page(
                shared,
                &subject.url_path,
                &format!("{}fassungen/", base(id)),
                subject.title.clone(),
                Crumb {
                    title: shared.text("nav_leitlinien"),
                    url: shared.url("leitlinien/"),
                },
                &links,
                removal,
            ));
        }
        let mut fassungen = Vec::new();
        for (i, stand) in history.fassungen() {
            let beschluss = stand.beschluss().expect("a Fassung has a decision");
            let key = (
                beschluss.datum,
                beschluss.gremium.clone(),
                beschluss.vorlage.clone(),
            );
            let entry = decisions.entry(key).or_insert_with(|| DecisionContext {
                gremium: beschluss.gremium.clone(),
                datum: shared.date(beschluss.datum),
                vorlage: beschluss.vorlage.clone(),
                url: beschluss.url.clone().unwrap_or_default(),
                documents: Vec::new(),
            });
            entry.documents.push(DecisionDocument {
                title: stand.title(),
                fassung_url: shared.url(&fassung_paths[&i]),
                current_url: current_url.clone(),
            });
            fassungen.push(fassung_row(
                shared,
                history,
                &fassung_paths,
                i,
                subject.removed_on,
            ));
        }
        // A removed guideline that never had a Fassung was never in force.
        if subject.today.is_some() || !fassungen.is_empty() {
            point_in_time.push(PointInTimeDoc {
                title: subject.title.clone(),
                current_url: current_url.clone(),
                fassungen,
            });
        }
        for (i, stand) in history.stands.iter().enumerate() {
            recent.push((
                stand.commit.time,
                Recent::Stand(id, history, i, &subject.url_path),
            ));
        }
    }
    recent.extend(others.iter().map(|o| (o.time, Recent::Other(o))));
    let mut changes: Vec<(i64, String, ChangeContext)> = newest(recent, FEED_LENGTH)
        .into_iter()
        .map(|(time, recent)| match recent {
            Recent::Stand(id, history, i, current_path) => {
                let stand = &history.stands[i];
                let context = ChangeContext {
                    kind: shared.text("search_type_guideline"),
                    title: stand.title(),
                    date: shared.date(stand.commit.date()),
                    key: stand.commit.short().to_string(),
                    url: shared.url(&stand_path(id, stand)),
                    fassung: stand.fassung,
                    compare_url: i
                        .checked_sub(1)
                        .map(|p| {
                            shared.url(&synopse_path(
                                id,
                                history.stands[p].commit.short(),
                                stand.commit.short(),
                            ))
                        })
                        .unwrap_or_default(),
                    current_url: shared.url(current_path),
                    removed: false,
                };
                (time, id.to_string(), context)
            }
            Recent::Other(other) => {
                let context = ChangeContext {
                    kind: other.kind.clone(),
                    title: other.title.clone(),
                    date: shared.date(other.commit.date()),
                    key: other.commit.short().to_string(),
                    url: shared.url(&other.path),
                    fassung: false,
                    compare_url: String::new(),
                    current_url: shared.url(&other.current_path),
                    removed: other.removed,
                };
                (time, other.base.clone(), context)
            }
        })
        .collect();
    changes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let changes: Vec<ChangeContext> = changes
        .into_iter()
        .take(FEED_LENGTH)
        .map(|(_, _, c)| c)
        .collect();
    let decisions: Vec<DecisionContext> = decisions.into_values().rev().collect();
    removed_pages.extend([
        shared.job("decisions.html", "beschluesse/", |c| {
            c.insert("decisions", &decisions)
        }),
        shared.job("point_in_time.html", "stichtag/", |c| {
            c.insert("documents", &point_in_time)
        }),
        shared.job("changes.html", "aenderungen/", |c| {
            c.insert("changes", &changes);
            c.insert("feed_url", &shared.url("aenderungen.atom"));
        }),
    ]);
    removed_pages
}

/// A change for the list of recent changes and the feed, before its text is made.
enum Recent<'a> {
    /// A guideline's Stand: id, history, index of the Stand, site path of today's page.
    Stand(&'a str, &'a DocHistory, usize, &'a str),
    /// A Stand of a register entry or a matrix.
    Other(&'a Change),
}

/// The changes at least as new as the `n`-th newest (ties at the edge are all kept, so that sorting them
/// afterwards gives the same first `n` as sorting everything): only these are made into text.
fn newest(mut items: Vec<(i64, Recent)>, n: usize) -> Vec<(i64, Recent)> {
    if n == 0 {
        return Vec::new();
    }
    if items.len() > n {
        let mut times: Vec<i64> = items.iter().map(|(time, _)| *time).collect();
        let (_, &mut edge, _) = times.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
        items.retain(|(time, _)| *time >= edge);
    }
    items
}

/// The Atom feed of the most recent Stände (valid Atom 1.0; times from the commits, never from the build).
fn feed(shared: &Shared, subjects: &[(Subject, &DocHistory)], others: &[Change]) -> OutputFile {
    use crate::theme::escape_html_minimal as esc;
    let mut recent: Vec<(i64, Recent)> = Vec::new();
    for (subject, history) in subjects {
        let id = subject.id;
        recent.extend((0..history.stands.len()).map(|i| {
            (
                history.stands[i].commit.time,
                Recent::Stand(id, history, i, ""),
            )
        }));
    }
    recent.extend(others.iter().map(|o| (o.time, Recent::Other(o))));
    // time, id url, title, rfc3339
    let mut entries: Vec<(i64, String, String, String)> = newest(recent, FEED_LENGTH)
        .into_iter()
        .map(|(time, recent)| match recent {
            Recent::Stand(id, history, i, _) => {
                let stand = &history.stands[i];
                let kind = if stand.fassung {
                    shared.text("feed_fassung")
                } else {
                    shared.text("feed_stand")
                };
                (
                    time,
                    format!("{}{}", shared.config.base_url, stand_path(id, stand)),
                    format!("{}: {kind}", stand.title()),
                    stand.commit.rfc3339(),
                )
            }
            Recent::Other(other) => (
                time,
                format!("{}{}", shared.config.base_url, other.path),
                other.feed_title.clone(),
                other.commit.rfc3339(),
            ),
        })
        .collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    entries.truncate(FEED_LENGTH);
    let updated = entries
        .first()
        .map_or_else(|| "1970-01-01T00:00:00+00:00".to_string(), |e| e.3.clone());
    let self_url = format!("{}aenderungen.atom", shared.config.base_url);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n\
         <title>{}: {}</title>\n<id>{}</id>\n<link rel=\"self\" href=\"{}\"/>\n<link href=\"{}aenderungen/\"/>\n\
         <updated>{}</updated>\n<author><name>{}</name></author>\n",
        esc(&shared.config.language),
        esc(&shared.config.title),
        esc(&shared.text("changes_title")),
        esc(&self_url),
        esc(&self_url),
        esc(&shared.config.base_url),
        updated,
        esc(&shared.config.title),
    );
    for (_, url, title, time) in &entries {
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{}</id>\n<link href=\"{}\"/>\n<updated>{}</updated>\n</entry>\n",
            esc(title),
            esc(url),
            esc(url),
            time
        ));
    }
    xml.push_str("</feed>\n");
    OutputFile::new("aenderungen.atom", xml.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_keeps_every_change_as_new_as_the_nth_and_no_older_one() {
        let history = DocHistory::default();
        let items = |times: &[i64]| -> Vec<(i64, Recent)> {
            times
                .iter()
                .enumerate()
                .map(|(i, &t)| (t, Recent::Stand("a", &history, i, "")))
                .collect()
        };
        let times =
            |kept: Vec<(i64, Recent)>| -> Vec<i64> { kept.iter().map(|(t, _)| *t).collect() };
        // Ties at the edge are all kept: sorting them decides which come first.
        assert_eq!(times(newest(items(&[3, 5, 1, 3, 3]), 2)), [3, 5, 3, 3]);
        assert_eq!(times(newest(items(&[3, 5, 1]), 1)), [5]);
        assert_eq!(times(newest(items(&[3, 5, 1]), 5)), [3, 5, 1]);
        assert!(newest(items(&[3]), 0).is_empty());
    }
}
