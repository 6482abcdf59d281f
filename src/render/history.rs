//! What the Stand pages of register entries and responsibility matrices share: their addresses, the banner
//! (date, commit, current version, neighbours, the author's role), the list of Stände and the entries of the
//! changes page and feed; and what all three kinds of documents show once removed (see
//! [`crate::versions::Removals`]): their Stand pages stay, and their address says since when they are gone.
//!
//! URL scheme (permanent once published), after the guidelines' `leitlinien/<id>/stand/<commit12>/`:
//! - `register/<id>/stand/<commit12>/`, `register/<id>/staende/`
//! - `verantwortung/<id>/stand/<commit12>/`, `verantwortung/<id>/staende/`

use std::collections::BTreeMap;

use serde::Serialize;

use crate::content::Content;
use crate::history::Commit;
use crate::render::{DateContext, Shared};

/// The address of a Stand under a document's base path (`register/x/`).
pub(crate) fn stand_path(base: &str, commit: &Commit) -> String {
    format!("{base}stand/{}/", commit.short())
}

/// The address of the list of a document's Stände.
pub(crate) fn list_path(base: &str) -> String {
    format!("{base}staende/")
}

/// „geändert durch“: the role the author's address is mapped to in `[verlauf.autoren]`, else nothing.
pub(crate) fn changed_by(shared: &Shared, content: &Content, commit: &Commit) -> Option<String> {
    let role = shared.config.history.role_of(&commit.author_email)?;
    Some(
        content
            .roles
            .get(role)
            .map_or_else(|| role.to_string(), |r| r.title.clone()),
    )
}

/// A neighbouring Stand.
#[derive(Serialize, Clone)]
pub(crate) struct StandLink {
    pub key: String,
    pub date: DateContext,
    pub url: String,
}

/// A link up the breadcrumb.
#[derive(Serialize, Clone)]
pub(crate) struct Crumb {
    pub title: String,
    pub url: String,
}

/// The banner of a Stand page.
#[derive(Serialize)]
pub(crate) struct Banner {
    pub key: String,
    pub date: DateContext,
    pub current_url: String,
    pub list_url: String,
    pub previous: Option<StandLink>,
    pub next: Option<StandLink>,
    pub is_latest: bool,
    pub changed_by: Option<String>,
    /// Set when the document is no longer published.
    pub removed: Option<Removal>,
}

/// That a document is no longer published, and by which commit, if known.
#[derive(Serialize, Clone)]
pub(crate) struct Removal {
    /// The commit that deleted it (`None`: deleted but not committed, or its id changed).
    pub commit: Option<CommitRef>,
}

/// A commit as pages name it: its short id and date.
#[derive(Serialize, Clone)]
pub(crate) struct CommitRef {
    pub key: String,
    pub date: DateContext,
}

impl Removal {
    /// The removal of a document that is not published today, deleted by `commit` if known.
    pub fn new(shared: &Shared, commit: Option<&Commit>) -> Self {
        Removal {
            commit: commit.map(|c| CommitRef {
                key: c.short().to_string(),
                date: shared.date(c.date()),
            }),
        }
    }
}

/// The page at a removed document's address (`removed.html`).
#[derive(Serialize)]
pub(crate) struct RemovedPage {
    pub title: String,
    pub section: Crumb,
    pub removal: Removal,
    /// The last Stand before the removal.
    pub last_stand: StandLink,
    /// The list of Stände (guidelines: the Fassungen and Stände).
    pub history_url: String,
}

/// The Stände of one document, oldest first, as links.
pub(crate) fn stand_links<'c>(
    shared: &Shared,
    base: &str,
    commits: impl Iterator<Item = &'c Commit>,
) -> Vec<StandLink> {
    commits
        .map(|c| StandLink {
            key: c.short().to_string(),
            date: shared.date(c.date()),
            url: shared.url(&stand_path(base, c)),
        })
        .collect()
}

/// A Stand of a register entry or a matrix: what the shared history pages need of it.
pub(crate) trait HasCommit {
    fn commit(&self) -> &Commit;
}

impl HasCommit for crate::versions::register::RegisterStand {
    fn commit(&self) -> &Commit {
        &self.commit
    }
}

impl HasCommit for crate::versions::raci::RaciStand {
    fn commit(&self) -> &Commit {
        &self.commit
    }
}

/// A document with Stände, published today or removed.
pub(crate) struct WithStands<'v, S> {
    pub id: &'v str,
    /// Oldest first, never empty.
    pub stands: &'v [S],
    pub links: Vec<StandLink>,
    /// Set when the document is not published today.
    pub removed: Option<Removal>,
}

/// The documents with Stände in `all`: those published today (`ids`, in their order), then the removed
/// ones (by id), with the commits that deleted them from `removals`; `base` gives a document's base path.
pub(crate) fn with_stands<'v, 'i, S: HasCommit>(
    shared: &Shared,
    all: &'v BTreeMap<String, Vec<S>>,
    ids: impl Iterator<Item = &'i str>,
    removals: &BTreeMap<String, Commit>,
    base: fn(&str) -> String,
) -> Vec<WithStands<'v, S>> {
    let order: Vec<&str> = ids.collect();
    let today: std::collections::HashSet<&str> = order.iter().copied().collect();
    let document = |(id, stands): (&'v String, &'v Vec<S>), removed: Option<Removal>| {
        let links = stand_links(shared, &base(id), stands.iter().map(HasCommit::commit));
        (!stands.is_empty()).then_some(WithStands {
            id: id.as_str(),
            stands: stands.as_slice(),
            links,
            removed,
        })
    };
    let mut out: Vec<WithStands<'v, S>> = Vec::new();
    out.extend(
        order
            .into_iter()
            .filter_map(|id| all.get_key_value(id))
            .filter_map(|entry| document(entry, None)),
    );
    out.extend(
        all.iter()
            .filter(|(id, _)| !today.contains(id.as_str()))
            .filter_map(|entry| {
                let removal = Removal::new(shared, removals.get(entry.0));
                document(entry, Some(removal))
            }),
    );
    out
}

/// The page at the address of a removed document (`base`), whose last Stand is `links`' last and whose
/// Stände are listed at `history_path`.
pub(crate) fn removed_page(
    shared: &Shared,
    base: &str,
    history_path: &str,
    title: String,
    section: Crumb,
    links: &[StandLink],
    removal: &Removal,
) -> Option<crate::render::PageJob> {
    let page = RemovedPage {
        title,
        section,
        removal: removal.clone(),
        last_stand: links.last()?.clone(),
        history_url: shared.url(history_path),
    };
    Some(shared.job("removed.html", base, |c| c.insert("page", &page)))
}

/// The list of a document's Stände at `base` + `staende/`, newest first, each with `summary` of what it
/// changed (given the Stand and whether it is the first); for a removed document also the page at `base`.
/// The breadcrumb leads to the section at `section_path`, named by the translation `section_key`.
pub(crate) fn list_jobs<S: HasCommit>(
    shared: &Shared,
    content: &Content,
    base: &str,
    title: String,
    (section_key, section_path): (&str, &str),
    document: WithStands<'_, S>,
    summary: impl Fn(&S, bool) -> String,
) -> Vec<crate::render::PageJob> {
    let section = Crumb {
        title: shared.text(section_key),
        url: shared.url(section_path),
    };
    let mut jobs = Vec::new();
    if let Some(removal) = &document.removed {
        jobs.extend(removed_page(
            shared,
            base,
            &list_path(base),
            title.clone(),
            section.clone(),
            &document.links,
            removal,
        ));
    }
    let page = ListPage {
        title,
        current_url: shared.url(base),
        section,
        stands: document
            .stands
            .iter()
            .zip(&document.links)
            .enumerate()
            .rev()
            .map(|(i, (stand, link))| ListRow {
                link: link.clone(),
                summary: summary(stand, i == 0),
                changed_by: changed_by(shared, content, stand.commit()),
            })
            .collect(),
        removed: document.removed,
    };
    jobs.push(shared.job("staende.html", &list_path(base), |c| {
        c.insert("page", &page)
    }));
    jobs
}

/// The history link for today's page of document `id` with base path `base`, if it has Stände in `all`.
pub(crate) fn link<S: HasCommit>(
    shared: &Shared,
    all: &BTreeMap<String, Vec<S>>,
    id: &str,
    base: &str,
) -> Option<HistoryLink> {
    let stands = all.get(id)?;
    let links = stand_links(shared, base, stands.iter().map(HasCommit::commit));
    history_link(shared, base, &links)
}

/// The banner of Stand `i` of `links`.
pub(crate) fn banner(
    shared: &Shared,
    base: &str,
    links: &[StandLink],
    i: usize,
    is_latest: bool,
    changed_by: Option<String>,
    removed: Option<Removal>,
) -> Banner {
    Banner {
        key: links[i].key.clone(),
        date: links[i].date.clone(),
        current_url: shared.url(base),
        list_url: shared.url(&list_path(base)),
        previous: i.checked_sub(1).map(|p| links[p].clone()),
        next: links.get(i + 1).cloned(),
        is_latest,
        changed_by,
        removed,
    }
}

/// One row of the list of Stände.
#[derive(Serialize)]
struct ListRow {
    #[serde(flatten)]
    pub link: StandLink,
    /// What changed, in a few words.
    pub summary: String,
    pub changed_by: Option<String>,
}

/// The list page of a document's Stände.
#[derive(Serialize)]
struct ListPage {
    pub title: String,
    pub current_url: String,
    pub section: Crumb,
    /// Newest first.
    pub stands: Vec<ListRow>,
    /// Set when the document is no longer published.
    pub removed: Option<Removal>,
}

/// What the current page shows about its Stände.
#[derive(Serialize)]
pub(crate) struct HistoryLink {
    pub url: String,
    pub count: usize,
    pub latest_url: String,
}

/// The history link of a document with `links` (oldest first), if it has any Stand.
pub(crate) fn history_link(
    shared: &Shared,
    base: &str,
    links: &[StandLink],
) -> Option<HistoryLink> {
    Some(HistoryLink {
        url: shared.url(&list_path(base)),
        count: links.len(),
        latest_url: links.last()?.url.clone(),
    })
}

/// One Stand of a register entry or matrix for the changes page and the feed.
pub(crate) struct Change {
    /// Commit time, for ordering.
    pub time: i64,
    /// Tie-breaker: the document's base path.
    pub base: String,
    pub commit: Commit,
    pub title: String,
    /// „Register“, „Verantwortung“ (the search filter's words).
    pub kind: String,
    /// Site path of the Stand page.
    pub path: String,
    /// Site path of the current page.
    pub current_path: String,
    /// The feed entry's title.
    pub feed_title: String,
    /// The commit removed the document (`path` is then the page saying so).
    pub removed: bool,
}

/// Every Stand of `documents` as a change for the changes page and the feed, and the removal of each
/// removed one (its commit from `removals`): `title` names a document at a Stand, `base` gives its base
/// path, `kind` and `feed` are the translation keys of its type and of what a Stand is in the feed.
pub(crate) fn changes<S: HasCommit>(
    shared: &Shared,
    documents: Vec<WithStands<S>>,
    removals: &BTreeMap<String, Commit>,
    base: impl Fn(&str) -> String,
    title: impl Fn(&S, &str) -> String,
    (kind, feed): (&str, &str),
) -> Vec<Change> {
    let mut out = Vec::new();
    for WithStands {
        id,
        stands,
        removed,
        ..
    } in documents
    {
        let base = base(id);
        if removed.is_some() {
            out.extend(removal_change(
                shared,
                removals.get(id),
                &base,
                title(&stands[stands.len() - 1], id),
                shared.text(kind),
            ));
        }
        for stand in stands {
            let title = title(stand, id);
            out.push(Change {
                time: stand.commit().time,
                base: base.clone(),
                commit: stand.commit().clone(),
                feed_title: format!("{title}: {}", shared.text(feed)),
                title,
                kind: shared.text(kind),
                path: stand_path(&base, stand.commit()),
                current_path: base.clone(),
                removed: false,
            });
        }
    }
    out
}

/// The removal of a document, for the changes page and the feed (none if the removing commit is unknown).
pub(crate) fn removal_change(
    shared: &Shared,
    commit: Option<&Commit>,
    base: &str,
    title: String,
    kind: String,
) -> Option<Change> {
    let commit = commit?;
    Some(Change {
        time: commit.time,
        base: base.to_string(),
        commit: commit.clone(),
        feed_title: format!("{title}: {}", shared.text("feed_removed")),
        title,
        kind,
        path: base.to_string(),
        current_path: base.to_string(),
        removed: true,
    })
}
