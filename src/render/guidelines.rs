//! Pages of the guidelines part: home, guideline index, one page per guideline, generic pages, 404.

use rayon::prelude::*;
use serde::Serialize;

use crate::content::{Content, Doc, Edited, GuidelineMeta, PageMeta, Status};
use crate::render::versions::{VersionsSummary, summary_for};
use crate::render::{DateContext, PageJob, Shared, TocContext, toc};
use crate::versions::Versions;

/// Site paths this module generates besides one page per document.
pub(crate) const GENERATED: &[&str] = &["leitlinien/", "404.html"];

#[derive(Serialize, Clone)]
pub(crate) struct GuidelineSummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub url: String,
    pub status: &'static str,
    pub status_label: String,
    pub gueltig_ab: Option<DateContext>,
}

#[derive(Serialize)]
struct OwnerContext {
    id: String,
    title: String,
    /// The role's page.
    url: String,
}

#[derive(Serialize)]
struct BeschlussContext {
    gremium: String,
    datum: DateContext,
    vorlage: String,
    url: String,
}

#[derive(Serialize)]
struct ReviewContext {
    last: DateContext,
    interval_months: u32,
    next: DateContext,
    overdue: bool,
}

#[derive(Serialize)]
struct GuidelineContext {
    #[serde(flatten)]
    summary: GuidelineSummary,
    owner: OwnerContext,
    beschluss: Option<BeschlussContext>,
    review: Option<ReviewContext>,
    toc: Vec<TocContext>,
    source_path: String,
    /// Stände and Fassungen, when the site has a history.
    versions: Option<VersionsSummary>,
}

#[derive(Serialize)]
struct PageContext {
    title: String,
    description: String,
    toc: Vec<TocContext>,
    url: String,
}

#[derive(Serialize)]
struct GroupContext {
    status: &'static str,
    label: String,
    guidelines: Vec<GuidelineSummary>,
}

/// The summary of a guideline as lists show it.
pub(crate) fn summary(
    shared: &Shared,
    doc: &Doc<GuidelineMeta>,
    meta: &GuidelineMeta,
) -> GuidelineSummary {
    GuidelineSummary {
        id: meta.id.value.clone(),
        title: meta.title.clone(),
        summary: meta.summary.clone(),
        url: shared.url(&doc.url_path),
        status: meta.status.as_str(),
        status_label: shared.text(&format!("status_{}", meta.status.as_str())),
        gueltig_ab: meta.gueltig_ab.map(|d| shared.date(d)),
    }
}

pub(crate) fn jobs(shared: &Shared, content: &Content, versions: &Versions) -> Vec<PageJob> {
    let summaries: Vec<GuidelineSummary> = content
        .valid_guidelines()
        .map(|(d, m)| summary(shared, d, m))
        .collect();
    let mut jobs = vec![home_job(shared, content.home.as_ref(), &summaries)];

    jobs.push(shared.job("guideline_index.html", "leitlinien/", |c| {
        let groups: Vec<GroupContext> = Status::ALL
            .into_iter()
            .map(|status| GroupContext {
                status: status.as_str(),
                label: shared.text(&format!("status_{}", status.as_str())),
                guidelines: summaries
                    .iter()
                    .filter(|s| s.status == status.as_str())
                    .cloned()
                    .collect(),
            })
            .filter(|g| !g.guidelines.is_empty())
            .collect();
        c.insert("groups", &groups);
    }));

    jobs.push(shared.job("404.html", "404.html", |_| {}));

    let guidelines: Vec<(&Doc<GuidelineMeta>, &GuidelineMeta)> =
        content.valid_guidelines().collect();
    jobs.par_extend(
        guidelines
            .par_iter()
            .map(|&(doc, meta)| guideline_job(shared, content, versions, doc, meta)),
    );
    jobs.extend(
        content
            .valid_pages()
            .map(|(doc, meta)| page_job(shared, doc, meta)),
    );
    jobs
}

/// The page of a document read again after a save ([`Content::reread`]): the job the whole build makes for
/// it, with the rest of the site as `content` has it.
pub(crate) fn edited_job(
    shared: &Shared,
    content: &Content,
    versions: &Versions,
    edited: &Edited,
) -> Option<PageJob> {
    match edited {
        Edited::Home(doc) => {
            let summaries: Vec<GuidelineSummary> = content
                .valid_guidelines()
                .map(|(d, m)| summary(shared, d, m))
                .collect();
            Some(home_job(shared, Some(doc), &summaries))
        }
        Edited::Guideline(doc) => {
            let meta = doc.meta.as_ref()?;
            Some(guideline_job(shared, content, versions, doc, meta))
        }
        Edited::Page(doc) => Some(page_job(shared, doc, doc.meta.as_ref()?)),
        Edited::Entry(_) => None,
    }
}

/// The home page: its own text (`home`) and every guideline.
fn home_job(
    shared: &Shared,
    home: Option<&Doc<PageMeta>>,
    summaries: &[GuidelineSummary],
) -> PageJob {
    shared.job("home.html", "", |c| {
        let (intro_title, intro_html) = home
            .map(|home| {
                let title = home
                    .meta
                    .as_ref()
                    .map(|m| m.title.clone())
                    .unwrap_or_default();
                (title, home.body.html.clone())
            })
            .unwrap_or_default();
        c.insert("intro_title", &intro_title);
        c.insert("intro_html", &intro_html);
        c.insert("guidelines", summaries);
    })
}

/// The page of one guideline.
fn guideline_job(
    shared: &Shared,
    content: &Content,
    versions: &Versions,
    doc: &Doc<GuidelineMeta>,
    meta: &GuidelineMeta,
) -> PageJob {
    shared.job_with_body("guideline.html", &doc.url_path, &doc.body, |c| {
        let owner = OwnerContext {
            id: meta.owner.value.clone(),
            title: content
                .roles
                .get(&meta.owner.value)
                .map_or_else(|| meta.owner.value.clone(), |r| r.title.clone()),
            url: shared.url(&format!("rollen/{}/", meta.owner.value)),
        };
        let page = GuidelineContext {
            summary: summary(shared, doc, meta),
            owner,
            beschluss: meta.beschluss.as_ref().map(|b| BeschlussContext {
                gremium: b.gremium.clone(),
                datum: shared.date(b.datum),
                vorlage: b.vorlage.clone(),
                url: b.url.clone().unwrap_or_default(),
            }),
            review: meta.review.as_ref().map(|r| ReviewContext {
                last: shared.date(r.value.last),
                interval_months: r.value.interval_months,
                next: shared.date(r.value.next()),
                overdue: r.value.next() < shared.today,
            }),
            toc: toc(&doc.body.toc),
            source_path: doc.source.path.clone(),
            versions: summary_for(shared, versions, doc),
        };
        c.insert("page", &page);
    })
}

/// The page of one generic page (imprint, privacy, …).
fn page_job(shared: &Shared, doc: &Doc<PageMeta>, meta: &PageMeta) -> PageJob {
    shared.job_with_body("page.html", &doc.url_path, &doc.body, |c| {
        let page = PageContext {
            title: meta.title.clone(),
            description: meta.description.clone(),
            toc: toc(&doc.body.toc),
            url: shared.url(&doc.url_path),
        };
        c.insert("page", &page);
    })
}
