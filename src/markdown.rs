//! Markdown → HTML with pulldown-cmark: stable heading ids, a table of contents, the links and motion
//! references a page contains (for validation), highlighted code, escaped or sanitized raw HTML, and the
//! `[[ergänzen: …]]` marker for facts only the county can supply.

use std::collections::BTreeSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::diagnostics::{Diagnostic, Rule, SourceText};
use crate::highlight;
use crate::text::Text;

/// The heading attribute that declares which motion points a section implements: `{#id umsetzt=M1,M9}`.
pub const IMPLEMENTS_ATTRIBUTE: &str = "umsetzt";

/// The marker editors write for a fact the county must still supply: `[[ergänzen: Anschrift]]`.
const TODO_OPEN: &str = "[[ergänzen:";
const TODO_CLOSE: &str = "]]";

/// Settings for turning one Markdown body into HTML.
pub struct MarkdownOptions<'a> {
    /// Keep raw HTML (sanitized) instead of escaping it.
    pub allow_html: bool,
    /// Words the HTML needs, from the theme's translations.
    pub labels: &'a Labels,
    /// Resolves a link destination written in the Markdown to a target.
    pub resolve: &'a dyn Fn(&str) -> LinkTarget,
    /// Path prefix of every internal link (`/` or `/sub/`).
    pub base_path: &'a str,
}

/// Words the rendered Markdown shows, taken from the theme's translations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// Shown before a `[[ergänzen: …]]` marker (`todo_label`).
    pub todo: String,
    /// Accessible name of a ticked task-list box (`task_done`).
    pub task_done: String,
    /// Accessible name of an open task-list box (`task_open`).
    pub task_open: String,
    /// Introduces the motion points a section implements (`implements_label`).
    pub implements: String,
    /// Accessible name of the scrollable region around a table (`table_region`).
    pub table_region: String,
}

/// Ids the theme uses on every page: headings must not take them.
const RESERVED_IDS: &[&str] = &["inhalt"];

/// One entry of a page's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// What a link in the Markdown points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkTarget {
    /// Outside the site (http, mailto, …): not checked.
    External,
    /// A page of the site: its site-relative path (e.g. `leitlinien/governance/`) and an optional anchor.
    Internal {
        path: String,
        fragment: Option<String>,
    },
    /// An anchor on the same page.
    SamePage(String),
    /// A `.md` file that does not exist (the resolved source path).
    MissingSource(String),
}

/// A link found in the Markdown, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub dest: String,
    pub target: LinkTarget,
    /// File offsets of the link.
    pub span: Range<usize>,
}

/// A section that declares it implements motion points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Implements {
    pub heading_id: String,
    pub heading_title: String,
    pub points: Vec<String>,
    pub span: Range<usize>,
}

/// A rendered Markdown body and what validation needs to know about it. Serialized without its HTML:
/// the content cache keeps that in a file of its own and maps it in ([`Text::mapped`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rendered {
    #[serde(skip)]
    pub html: Text,
    /// BLAKE3 of `html`: what a page's key takes of its body (hashing every page's HTML again on each
    /// build was a tenth of a one-page rebuild's render stage at 10,000 pages).
    pub html_hash: [u8; 32],
    pub toc: Vec<TocEntry>,
    /// Every id a link may point to on this page (headings and footnotes).
    pub anchors: BTreeSet<String>,
    pub links: Vec<Link>,
    pub implements: Vec<Implements>,
    pub diagnostics: Vec<Diagnostic>,
}

fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders the Markdown body that starts at byte `body_offset` of `source`.
pub fn render(source: &SourceText, body_offset: usize, options: &MarkdownOptions) -> Rendered {
    let body = &source.text[body_offset..];
    let file_span = |r: Range<usize>| r.start + body_offset..r.end + body_offset;
    let events: Vec<(Event, Range<usize>)> = Parser::new_ext(body, parser_options())
        .into_offset_iter()
        .collect();

    let mut out = Rendered::default();
    let mut used_ids: BTreeSet<String> = RESERVED_IDS.iter().map(|s| s.to_string()).collect();
    let mut explicit_ids: BTreeSet<String> = BTreeSet::new();
    let mut html_events: Vec<Event> = Vec::with_capacity(events.len());
    // Motion points of the heading being rendered, shown as links right after it.
    let mut pending_points: Option<Vec<String>> = None;
    // Names of the table regions on this page: each must be unique.
    let mut table_labels: BTreeSet<String> = BTreeSet::new();
    let mut i = 0;
    while i < events.len() {
        let (event, range) = &events[i];
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let end = find_end(&events, i, |e| matches!(e, Event::End(TagEnd::Heading(_))));
                let title = plain_text(&events[i + 1..end]);
                let id = match id {
                    Some(explicit)
                        if RESERVED_IDS.contains(&explicit.as_ref())
                            || explicit.starts_with("rw-") =>
                    {
                        out.diagnostics.push(Diagnostic::at(
                            source,
                            file_span(range.clone()),
                            Rule::M2,
                            format!(
                                "Die Überschriften-ID „{explicit}“ ist für die Seitenstruktur reserviert \
                                 (ebenso alle IDs, die mit „rw-“ beginnen). Wählen Sie eine andere ID."
                            ),
                        ));
                        unique_id(&slugify(&title), &mut used_ids)
                    }
                    Some(explicit) => {
                        if !explicit_ids.insert(explicit.to_string()) {
                            out.diagnostics.push(Diagnostic::at(
                                source,
                                file_span(range.clone()),
                                Rule::M2,
                                format!(
                                    "Die Überschriften-ID „{explicit}“ kommt auf dieser Seite mehrfach vor. \
                                     Vergeben Sie eindeutige IDs, sonst führen Links ins Leere."
                                ),
                            ));
                        }
                        used_ids.insert(explicit.to_string());
                        explicit.to_string()
                    }
                    None => unique_id(&slugify(&title), &mut used_ids),
                };
                let mut kept_attrs = Vec::new();
                for (key, value) in attrs {
                    if key.as_ref() == IMPLEMENTS_ATTRIBUTE {
                        let points: Vec<String> = value
                            .as_deref()
                            .unwrap_or("")
                            .split(',')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .collect();
                        pending_points = Some(points.clone());
                        out.implements.push(Implements {
                            heading_id: id.clone(),
                            heading_title: title.clone(),
                            points,
                            span: file_span(range.clone()),
                        });
                    } else {
                        kept_attrs.push((key.clone(), value.clone()));
                    }
                }
                if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                    out.toc.push(TocEntry {
                        level: *level as u8,
                        id: id.clone(),
                        title: title.clone(),
                    });
                }
                out.anchors.insert(id.clone());
                html_events.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: kept_attrs,
                }));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let target = (options.resolve)(dest_url);
                let href = match &target {
                    LinkTarget::Internal { .. }
                    | LinkTarget::MissingSource(_)
                    | LinkTarget::SamePage(_) => href_for(&target, dest_url, options.base_path),
                    LinkTarget::External => dest_url.to_string(),
                };
                out.links.push(Link {
                    dest: dest_url.to_string(),
                    target,
                    span: file_span(range.clone()),
                });
                html_events.push(Event::Start(Tag::Link {
                    link_type: *link_type,
                    dest_url: CowStr::from(href),
                    title: title.clone(),
                    id: id.clone(),
                }));
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let end = find_end(&events, i, |e| matches!(e, Event::End(TagEnd::CodeBlock)));
                let code: String = events[i + 1..end]
                    .iter()
                    .filter_map(|(e, _)| match e {
                        Event::Text(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or(""),
                    CodeBlockKind::Indented => "",
                };
                html_events.push(Event::Html(CowStr::from(highlight::code_block(
                    &code, lang,
                ))));
                i = end;
            }
            Event::Start(Tag::HtmlBlock) => {
                let end = find_end(&events, i, |e| matches!(e, Event::End(TagEnd::HtmlBlock)));
                let raw: String = events[i + 1..end]
                    .iter()
                    .filter_map(|(e, _)| match e {
                        Event::Html(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                if !is_comment(&raw) {
                    if options.allow_html {
                        html_events.push(Event::Html(CowStr::from(raw)));
                    } else {
                        out.diagnostics
                            .push(raw_html_warning(source, file_span(range.clone())));
                        html_events.push(Event::Start(Tag::Paragraph));
                        html_events.push(Event::Text(CowStr::from(raw.trim_end().to_string())));
                        html_events.push(Event::End(TagEnd::Paragraph));
                    }
                }
                i = end;
            }
            Event::InlineHtml(raw) => {
                if !is_comment(raw) {
                    if options.allow_html {
                        html_events.push(Event::InlineHtml(raw.clone()));
                    } else {
                        out.diagnostics
                            .push(raw_html_warning(source, file_span(range.clone())));
                        html_events.push(Event::Text(raw.clone()));
                    }
                }
            }
            Event::Start(Tag::Table(alignments)) => {
                // A focusable region named after its column headers: keyboard users can scroll a wide
                // table (WCAG 2.1.1), and several tables on one page stay distinguishable.
                let head_end = find_end(&events, i, |e| matches!(e, Event::End(TagEnd::TableHead)));
                let columns: Vec<String> = events[i + 1..head_end]
                    .split(|(e, _)| matches!(e, Event::End(TagEnd::TableCell)))
                    .map(plain_text)
                    .filter(|t| !t.is_empty())
                    .collect();
                let base = if columns.is_empty() {
                    options.labels.table_region.clone()
                } else {
                    format!("{}: {}", options.labels.table_region, columns.join(", "))
                };
                let mut label = base.clone();
                let mut n = 2;
                while !table_labels.insert(label.clone()) {
                    label = format!("{base} ({n})");
                    n += 1;
                }
                html_events.push(Event::Html(CowStr::from(format!(
                    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{}\">",
                    escape(&label)
                ))));
                // Column alignment would be written as inline styles, which the CSP forbids: tables align left.
                let plain = vec![pulldown_cmark::Alignment::None; alignments.len()];
                html_events.push(Event::Start(Tag::Table(plain)));
            }
            Event::End(TagEnd::Heading(level)) => {
                html_events.push(Event::End(TagEnd::Heading(*level)));
                if let Some(points) = pending_points.take() {
                    html_events.push(Event::Html(CowStr::from(implements_line(
                        &points,
                        &options.labels.implements,
                        options.base_path,
                    ))));
                }
            }
            Event::End(TagEnd::Table) => {
                html_events.push(Event::End(TagEnd::Table));
                html_events.push(Event::Html(CowStr::from("</div>")));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let id = footnote_id(label);
                out.anchors.insert(id.clone());
                html_events.push(Event::Start(Tag::FootnoteDefinition(CowStr::from(id))));
            }
            Event::FootnoteReference(label) => {
                html_events.push(Event::FootnoteReference(CowStr::from(footnote_id(label))));
            }
            Event::Text(_) => {
                // Text may arrive in several pieces (pulldown splits at brackets): join the run first.
                let end = events[i..]
                    .iter()
                    .position(|(e, _)| !matches!(e, Event::Text(_)))
                    .map_or(events.len(), |n| i + n);
                let text: String = events[i..end]
                    .iter()
                    .filter_map(|(e, _)| match e {
                        Event::Text(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                push_text_with_markers(&text, &options.labels.todo, &mut html_events);
                i = end;
                continue;
            }
            Event::TaskListMarker(done) => {
                // A labelled, disabled checkbox: screen readers announce the state, axe finds a name.
                let (label, checked) = if *done {
                    (&options.labels.task_done, " checked")
                } else {
                    (&options.labels.task_open, "")
                };
                html_events.push(Event::Html(CowStr::from(format!(
                    "<input type=\"checkbox\" class=\"task\" disabled{checked} aria-label=\"{}\"> ",
                    escape(label)
                ))));
            }
            Event::SoftBreak | Event::HardBreak => {
                html_events.push(event.clone());
            }
            _ => html_events.push(event.clone()),
        }
        i += 1;
    }

    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, html_events.into_iter());
    let html = if options.allow_html {
        sanitize(&html)
    } else {
        html
    };
    out.html_hash = *blake3::hash(html.as_bytes()).as_bytes();
    out.html = Text::from(html);
    out
}

/// Index of the event closing the element opened at `start`.
fn find_end(
    events: &[(Event, Range<usize>)],
    start: usize,
    is_end: impl Fn(&Event) -> bool,
) -> usize {
    events[start + 1..]
        .iter()
        .position(|(e, _)| is_end(e))
        .map_or(events.len() - 1, |n| start + 1 + n)
}

fn plain_text(events: &[(Event, Range<usize>)]) -> String {
    let mut title = String::new();
    for (event, _) in events {
        match event {
            Event::Text(t) | Event::Code(t) => title.push_str(t),
            Event::End(TagEnd::Heading(_)) => break,
            _ => {}
        }
    }
    title.trim().to_string()
}

fn is_comment(raw: &str) -> bool {
    let raw = raw.trim();
    raw.starts_with("<!--") && raw.ends_with("-->")
}

fn raw_html_warning(source: &SourceText, span: Range<usize>) -> Diagnostic {
    Diagnostic::at(
        source,
        span,
        Rule::M1,
        "Roh-HTML wird als Text angezeigt, weil die Website kein HTML in Markdown erlaubt. \
         Verwenden Sie Markdown oder setzen Sie [markdown] allow_html = true in regelwerk.toml.",
    )
}

/// The line under a heading that names the motion points its section implements, linked to the motion page.
fn implements_line(points: &[String], label: &str, base_path: &str) -> String {
    let links: Vec<String> = points
        .iter()
        .map(|p| {
            format!(
                "<a href=\"{base_path}antrag/#{}\">{}</a>",
                escape(&p.to_ascii_lowercase()),
                escape(p)
            )
        })
        .collect();
    format!(
        "<p class=\"implements\"><span class=\"implements__label\">{}</span> {}</p>\n",
        escape(label),
        links.join(", ")
    )
}

fn footnote_id(label: &str) -> String {
    format!("fn-{}", slugify(label))
}

/// The href written into the HTML for an internal link. Paths are made absolute by the caller's resolver.
fn href_for(target: &LinkTarget, dest: &str, base_path: &str) -> String {
    match target {
        LinkTarget::Internal { path, fragment } => match fragment {
            Some(f) => format!("{base_path}{path}#{f}"),
            None => format!("{base_path}{path}"),
        },
        LinkTarget::SamePage(anchor) => format!("#{anchor}"),
        _ => dest.to_string(),
    }
}

/// Emits text, turning `[[ergänzen: …]]` markers into visible `<mark class="todo">` elements.
fn push_text_with_markers<'a>(text: &str, label: &str, out: &mut Vec<Event<'a>>) {
    let mut rest = text;
    while let Some(start) = rest.find(TODO_OPEN) {
        let Some(len) = rest[start..].find(TODO_CLOSE) else {
            break;
        };
        let inner = rest[start + TODO_OPEN.len()..start + len].trim();
        if start > 0 {
            out.push(Event::Text(CowStr::from(rest[..start].to_string())));
        }
        out.push(Event::Html(CowStr::from(format!(
            "<mark class=\"todo\"><span class=\"todo__label\">{}:</span> {}</mark>",
            escape(label),
            escape(inner)
        ))));
        rest = &rest[start + len + TODO_CLOSE.len()..];
    }
    if !rest.is_empty() {
        out.push(Event::Text(CowStr::from(rest.to_string())));
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    crate::theme::escape_html_minimal(text)
}

/// Sanitizes HTML when the site allows raw HTML: scripts, event handlers and foreign styles are removed;
/// the ids and classes regelwerk itself writes are kept.
fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .add_generic_attributes(["id", "class"])
        .add_tags(["mark", "details", "summary"])
        .link_rel(None)
        .clean(html)
        .to_string()
}

/// A stable URL fragment from a heading: German letters folded (ä → ae, ß → ss), lower case,
/// everything else a single hyphen.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut pending_hyphen = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let folded: &str = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            'é' | 'è' | 'ê' => "e",
            'á' | 'à' | 'â' => "a",
            'ó' | 'ò' | 'ô' => "o",
            _ => "",
        };
        if !folded.is_empty() || c.is_ascii_alphanumeric() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            if folded.is_empty() {
                slug.push(c);
            } else {
                slug.push_str(folded);
            }
        } else {
            pending_hyphen = true;
        }
    }
    if slug.is_empty() {
        slug.push_str("abschnitt");
    }
    slug
}

fn unique_id(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_str(md: &str, allow_html: bool) -> Rendered {
        let source = SourceText::new("content/leitlinien/t.md", md);
        let resolve = |dest: &str| {
            if dest.starts_with("http") {
                LinkTarget::External
            } else if let Some(anchor) = dest.strip_prefix('#') {
                LinkTarget::SamePage(anchor.to_string())
            } else {
                LinkTarget::MissingSource(dest.to_string())
            }
        };
        render(
            &source,
            0,
            &MarkdownOptions {
                allow_html,
                labels: &Labels {
                    todo: "vom Landkreis zu ergänzen".into(),
                    task_done: "erledigt".into(),
                    task_open: "offen".into(),
                    implements: "Setzt um:".into(),
                    table_region: "Tabelle".into(),
                },
                resolve: &resolve,
                base_path: "/",
            },
        )
    }

    #[test]
    fn headings_get_stable_ids_and_declare_motion_points() {
        let r = render_str(
            "## Öffentliche Übermittlung\n\n## Haftung {#haftung umsetzt=M1,M9}\n\n### Öffentliche Übermittlung\n",
            false,
        );
        let ids: Vec<_> = r.toc.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "oeffentliche-uebermittlung",
                "haftung",
                "oeffentliche-uebermittlung-2"
            ]
        );
        assert_eq!(r.implements.len(), 1);
        assert_eq!(r.implements[0].points, ["M1", "M9"]);
        assert!(
            r.html.contains("<h2 id=\"haftung\">Haftung</h2>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("umsetzt"));
    }

    #[test]
    fn raw_html_is_escaped_by_default_and_sanitized_when_allowed() {
        let escaped = render_str(
            "Text <b onclick=\"x()\">fett</b>\n\n<script>alert(1)</script>\n",
            false,
        );
        assert!(escaped.html.contains("&lt;b onclick"));
        assert!(escaped.html.contains("&lt;script&gt;"));
        assert_eq!(
            escaped
                .diagnostics
                .iter()
                .filter(|d| d.rule == Rule::M1)
                .count(),
            3
        );
        let allowed = render_str(
            "Text <b onclick=\"x()\">fett</b>\n\n<script>alert(1)</script>\n",
            true,
        );
        assert!(allowed.html.contains("<b>fett</b>"), "{}", allowed.html);
        assert!(!allowed.html.contains("script"));
        assert!(allowed.diagnostics.is_empty());
    }

    #[test]
    fn comments_are_dropped_silently() {
        let r = render_str("A <!-- intern --> B\n\n<!--\nNotiz\n-->\n", false);
        assert!(!r.html.contains("intern") && !r.html.contains("Notiz"));
        assert!(r.diagnostics.is_empty());
    }

    #[test]
    fn todo_markers_become_visible_marks() {
        let r = render_str("Anschrift: [[ergänzen: Straße und Hausnummer]].\n", false);
        assert!(
            r.html.contains(
                "<mark class=\"todo\"><span class=\"todo__label\">vom Landkreis zu ergänzen:</span> Straße und Hausnummer</mark>."
            ),
            "{}",
            r.html
        );
    }

    #[test]
    fn links_are_collected_with_their_position() {
        let r = render_str(
            "Zeile\n\nSiehe [dort](fehlt.md#x) und [hier](#oben).\n",
            false,
        );
        assert_eq!(r.links.len(), 2);
        assert_eq!(
            r.links[0].target,
            LinkTarget::MissingSource("fehlt.md#x".into())
        );
        let src = SourceText::new(
            "x",
            "Zeile\n\nSiehe [dort](fehlt.md#x) und [hier](#oben).\n",
        );
        assert_eq!(src.line_col(r.links[0].span.start), (3, 7));
    }

    #[test]
    fn task_list_boxes_have_an_accessible_name() {
        let r = render_str("- [x] fertig\n- [ ] offen\n", false);
        assert!(
            r.html.contains(
                "<input type=\"checkbox\" class=\"task\" disabled checked aria-label=\"erledigt\">"
            ),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("disabled aria-label=\"offen\">"),
            "{}",
            r.html
        );
    }

    #[test]
    fn tables_scroll_in_their_own_wrapper() {
        let r = render_str("| a | b |\n|---|---|\n| 1 | 2 |\n", false);
        assert!(
            r.html.starts_with(
                "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Tabelle: a, b\"><table>"
            ),
            "{}",
            r.html
        );
        let aligned = render_str(
            "| a | b |\n|:-:|--:|\n| 1 | 2 |\n\n| a | b |\n|---|---|\n",
            false,
        );
        assert!(
            !aligned.html.contains("style="),
            "no inline styles: {}",
            aligned.html
        );
        assert!(
            aligned.html.contains("aria-label=\"Tabelle: a, b (2)\""),
            "unique names: {}",
            aligned.html
        );
    }

    #[test]
    fn headings_never_take_the_ids_of_the_page_structure() {
        let r = render_str("## Inhalt\n\n## Andere {#rw-toc-titel}\n", false);
        assert_eq!(r.toc[0].id, "inhalt-2");
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].rule, Rule::M2);
    }

    #[test]
    fn slugs_fold_german_letters() {
        assert_eq!(
            slugify("Größe & Maß: Übersicht (2026)"),
            "groesse-mass-uebersicht-2026"
        );
        assert_eq!(slugify("!!!"), "abschnitt");
    }
}
