//! The render stage: validated content + theme → the files of the site, rendered in parallel.
//!
//! Templates receive typed contexts (the structs below, serialized for Tera); every URL in a context is
//! already a full path including the site's base path. The output is deterministic: no build timestamps,
//! files sorted by path.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::content::{Content, Doc, GuidelineMeta, PageMeta, Status};
use crate::diagnostics::{Diagnostic, Rule};
use crate::markdown::TocEntry;
use crate::theme::{Theme, error_chain};

/// One file of the built site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path inside the output directory, with `/`.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Site paths the render stage generates besides one page per document (for link checking).
pub fn generated_paths(theme: &Theme) -> BTreeSet<String> {
    let mut paths: BTreeSet<String> = ["", "leitlinien/", "sitemap.xml", "robots.txt", "404.html"]
        .into_iter()
        .map(String::from)
        .collect();
    paths.extend(theme.static_files.keys().cloned());
    paths
}

#[derive(Serialize)]
struct SiteContext<'a> {
    title: &'a str,
    description: &'a str,
    language: &'a str,
    base_url: &'a str,
    base_path: &'a str,
}

#[derive(Serialize, Clone)]
struct NavItem {
    title: String,
    url: String,
    active: bool,
}

#[derive(Serialize, Clone)]
struct LinkItem {
    title: String,
    url: String,
}

#[derive(Serialize)]
struct Assets {
    css: String,
}

/// A date for templates: machine-readable and as the reader's language writes it.
#[derive(Serialize, Clone)]
struct DateContext {
    iso: String,
    display: String,
}

#[derive(Serialize, Clone)]
struct GuidelineSummary {
    id: String,
    title: String,
    summary: String,
    url: String,
    status: &'static str,
    status_label: String,
    gueltig_ab: Option<DateContext>,
}

#[derive(Serialize)]
struct OwnerContext {
    id: String,
    title: String,
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
    content: String,
    source_path: String,
}

#[derive(Serialize)]
struct PageContext {
    title: String,
    description: String,
    toc: Vec<TocContext>,
    content: String,
    url: String,
}

#[derive(Serialize)]
struct TocContext {
    level: u8,
    id: String,
    title: String,
}

#[derive(Serialize)]
struct GroupContext {
    status: &'static str,
    label: String,
    guidelines: Vec<GuidelineSummary>,
}

/// Everything shared by all pages of one build.
struct Shared<'a> {
    config: &'a Config,
    theme: &'a Theme,
    today: NaiveDate,
    base: tera::Context,
}

impl Shared<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_path, path)
    }

    fn date(&self, date: NaiveDate) -> DateContext {
        let month = self.theme.text(&format!("month_{}", date.month()));
        let display = match self.config.language.as_str() {
            "de" => format!("{}. {} {}", date.day(), month, date.year()),
            _ => format!("{} {} {}", date.day(), month, date.year()),
        };
        DateContext {
            iso: date.format("%Y-%m-%d").to_string(),
            display,
        }
    }

    /// The context every template gets, for the page at `path`.
    fn context(&self, path: &str) -> tera::Context {
        let mut context = self.base.clone();
        let current = self.url(path);
        let nav: Vec<NavItem> = [("", "nav_home"), ("leitlinien/", "nav_leitlinien")]
            .into_iter()
            .map(|(target, key)| NavItem {
                title: self.theme.text(key),
                url: self.url(target),
                active: if target.is_empty() {
                    path.is_empty()
                } else {
                    path.starts_with(target)
                },
            })
            .collect();
        context.insert("nav", &nav);
        context.insert("canonical", &format!("{}{}", self.config.base_url, path));
        context.insert("current_url", &current);
        context
    }

    fn summary(&self, doc: &Doc<GuidelineMeta>, meta: &GuidelineMeta) -> GuidelineSummary {
        GuidelineSummary {
            id: meta.id.value.clone(),
            title: meta.title.clone(),
            summary: meta.summary.clone(),
            url: self.url(&doc.url_path),
            status: meta.status.as_str(),
            status_label: self.theme.text(&format!("status_{}", meta.status.as_str())),
            gueltig_ab: meta.gueltig_ab.map(|d| self.date(d)),
        }
    }

    fn render(
        &self,
        template: &str,
        context: &tera::Context,
        path: &str,
    ) -> Result<OutputFile, Diagnostic> {
        self.theme
            .templates
            .render(template, context)
            .map(|html| OutputFile {
                path: path.to_string(),
                bytes: html.into_bytes(),
            })
            .map_err(|err| {
                Diagnostic::file(
                    format!("themes/{}/templates/{template}", self.config.theme),
                    Rule::T1,
                    format!(
                        "Die Vorlage kann für {path} nicht angewendet werden: {}",
                        error_chain(&err)
                    ),
                )
            })
    }
}

fn toc(entries: &[TocEntry]) -> Vec<TocContext> {
    entries
        .iter()
        .map(|e| TocContext {
            level: e.level,
            id: e.id.clone(),
            title: e.title.clone(),
        })
        .collect()
}

/// A page to render: which template, where, with which extra context.
enum Job<'c> {
    Home,
    GuidelineIndex,
    Guideline(&'c Doc<GuidelineMeta>, &'c GuidelineMeta),
    Page(&'c Doc<PageMeta>, &'c PageMeta),
    NotFound,
}

/// Renders every page of the site. Fails with diagnostics if a template cannot be applied.
pub fn render(
    config: &Config,
    content: &Content,
    theme: &Theme,
    today: NaiveDate,
) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
    let css_hash = theme
        .static_files
        .get("css/regelwerk.css")
        .map(|bytes| blake3::hash(bytes).to_hex()[..10].to_string())
        .unwrap_or_default();
    let mut base = tera::Context::new();
    base.insert(
        "site",
        &SiteContext {
            title: &config.title,
            description: &config.description,
            language: &config.language,
            base_url: &config.base_url,
            base_path: &config.base_path,
        },
    );
    base.insert("t", &theme.translations);
    base.insert(
        "assets",
        &Assets {
            css: format!("{}css/regelwerk.css?v={css_hash}", config.base_path),
        },
    );
    let legal: Vec<LinkItem> = [
        &config.legal.impressum,
        &config.legal.datenschutz,
        &config.legal.barrierefreiheit,
    ]
    .into_iter()
    .filter_map(|id| content.valid_pages().find(|(doc, _)| &doc.id == id))
    .map(|(doc, meta)| LinkItem {
        title: meta.title.clone(),
        url: format!("{}{}", config.base_path, doc.url_path),
    })
    .collect();
    base.insert("legal", &legal);
    let shared = Shared {
        config,
        theme,
        today,
        base,
    };

    let mut jobs = vec![Job::Home, Job::GuidelineIndex, Job::NotFound];
    jobs.extend(
        content
            .valid_guidelines()
            .map(|(d, m)| Job::Guideline(d, m)),
    );
    jobs.extend(content.valid_pages().map(|(d, m)| Job::Page(d, m)));

    let results: Vec<Result<OutputFile, Diagnostic>> = jobs
        .par_iter()
        .map(|job| render_job(&shared, content, job))
        .collect();
    let mut files = Vec::with_capacity(results.len() + theme.static_files.len() + 2);
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(file) => files.push(file),
            Err(diagnostic) => errors.push(diagnostic),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    files.push(sitemap(config, content));
    files.push(OutputFile {
        path: "robots.txt".into(),
        bytes: format!(
            "User-agent: *\nAllow: /\nSitemap: {}sitemap.xml\n",
            config.base_url
        )
        .into_bytes(),
    });
    files.extend(theme.static_files.iter().map(|(path, bytes)| OutputFile {
        path: path.clone(),
        bytes: bytes.clone(),
    }));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn render_job(shared: &Shared, content: &Content, job: &Job) -> Result<OutputFile, Diagnostic> {
    match job {
        Job::Home => {
            let mut context = shared.context("");
            let (intro_title, intro_html) = content
                .home
                .as_ref()
                .map(|home| {
                    let title = home
                        .meta
                        .as_ref()
                        .map(|m| m.title.clone())
                        .unwrap_or_default();
                    (title, home.body.html.clone())
                })
                .unwrap_or_default();
            context.insert("intro_title", &intro_title);
            context.insert("intro_html", &intro_html);
            let guidelines: Vec<GuidelineSummary> = content
                .valid_guidelines()
                .map(|(d, m)| shared.summary(d, m))
                .collect();
            context.insert("guidelines", &guidelines);
            shared.render("home.html", &context, "index.html")
        }
        Job::GuidelineIndex => {
            let mut context = shared.context("leitlinien/");
            let groups: Vec<GroupContext> = Status::ALL
                .into_iter()
                .map(|status| GroupContext {
                    status: status.as_str(),
                    label: shared.theme.text(&format!("status_{}", status.as_str())),
                    guidelines: content
                        .valid_guidelines()
                        .filter(|(_, m)| m.status == status)
                        .map(|(d, m)| shared.summary(d, m))
                        .collect(),
                })
                .filter(|g| !g.guidelines.is_empty())
                .collect();
            context.insert("groups", &groups);
            shared.render("guideline_index.html", &context, "leitlinien/index.html")
        }
        Job::Guideline(doc, meta) => {
            let mut context = shared.context(&doc.url_path);
            let owner = OwnerContext {
                id: meta.owner.value.clone(),
                title: content
                    .roles
                    .get(&meta.owner.value)
                    .map_or_else(|| meta.owner.value.clone(), |r| r.title.clone()),
            };
            let page = GuidelineContext {
                summary: shared.summary(doc, meta),
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
                content: doc.body.html.clone(),
                source_path: doc.source.path.clone(),
            };
            context.insert("page", &page);
            shared.render(
                "guideline.html",
                &context,
                &format!("{}index.html", doc.url_path),
            )
        }
        Job::Page(doc, meta) => {
            let mut context = shared.context(&doc.url_path);
            let page = PageContext {
                title: meta.title.clone(),
                description: meta.description.clone(),
                toc: toc(&doc.body.toc),
                content: doc.body.html.clone(),
                url: shared.url(&doc.url_path),
            };
            context.insert("page", &page);
            shared.render(
                "page.html",
                &context,
                &format!("{}index.html", doc.url_path),
            )
        }
        Job::NotFound => {
            let context = shared.context("404.html");
            shared.render("404.html", &context, "404.html")
        }
    }
}

/// `sitemap.xml` with every public page, sorted.
fn sitemap(config: &Config, content: &Content) -> OutputFile {
    let mut paths: Vec<&str> = vec!["", "leitlinien/"];
    paths.extend(content.valid_guidelines().map(|(d, _)| d.url_path.as_str()));
    paths.extend(content.valid_pages().map(|(d, _)| d.url_path.as_str()));
    paths.sort_unstable();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for path in paths {
        xml.push_str("  <url><loc>");
        xml.push_str(&tera::escape_html(&format!("{}{}", config.base_url, path)));
        xml.push_str("</loc></url>\n");
    }
    xml.push_str("</urlset>\n");
    OutputFile {
        path: "sitemap.xml".into(),
        bytes: xml.into_bytes(),
    }
}
