//! The content stage: find the site's source files, read their front matter and data, render their Markdown.
//!
//! Reading is parallel (rayon) and deterministic (sorted walks). Every file is read, even after a problem in
//! another, so that one run reports everything; documents whose front matter is broken still have their
//! Markdown checked, they just are not published.

pub mod fields;
pub mod frontmatter;
pub mod guideline;
pub mod motion;
pub mod page;
pub mod raci;
pub mod register;
pub mod roles;
pub mod training;
pub mod vocab;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::diagnostics::{Diagnostic, Rule, SourceText};
use crate::markdown::{self, LinkTarget, MarkdownOptions, Rendered};
use crate::text::Text;
pub use guideline::{GuidelineMeta, Status};
pub use page::PageMeta;
pub use raci::{Letter, Matrix};
pub use roles::{Role, Roles};
pub use training::Training;
pub use vocab::Vocabularies;

/// Folder of guidelines, relative to the site root.
pub const GUIDELINES_DIR: &str = "content/leitlinien";
/// Folder of generic pages, relative to the site root.
pub const PAGES_DIR: &str = "content/seiten";
/// The home page text.
pub const HOME_FILE: &str = "content/_index.md";

/// A Markdown document: its source, where it is published, its front matter if valid, and its rendered body.
#[derive(Debug, Clone)]
pub struct Doc<M> {
    pub source: SourceText,
    /// The document's id: a guideline's `id`, a page's file name.
    pub id: String,
    /// Site-relative URL path, e.g. `leitlinien/governance/` (the home page: empty).
    pub url_path: String,
    /// `None` when the front matter has errors: the document is checked but never published.
    pub meta: Option<M>,
    /// Shared with the next build of the same process when the text does not change (see [`Bodies`]).
    pub body: Arc<Rendered>,
    /// BLAKE3 of `source.text`, hashed once when the file is read.
    pub text_hash: [u8; 32],
}

/// Everything the content stage read, ready for validation.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub home: Option<Doc<PageMeta>>,
    /// Sorted by `order`, then title.
    pub guidelines: Vec<Doc<GuidelineMeta>>,
    /// Sorted by `order`, then title.
    pub pages: Vec<Doc<PageMeta>>,
    pub roles: Roles,
    /// The council motion the guidelines implement, if the site has one.
    pub motion: Option<motion::Motion>,
    /// Where each Markdown source file is published (source path → site path): links resolve through it.
    pub published: BTreeMap<String, String>,
    /// Responsibility matrices, sorted by id.
    pub raci: Vec<Matrix>,
    /// Vocabularies of the register: built-in, with the site's additions.
    pub vocabularies: Vocabularies,
    /// Training modules (`content/daten/schulungen.toml`).
    pub training: Training,
    /// The KI-Register, sorted by id; entries with errors are kept for checking but not published.
    pub register: Vec<register::Entry>,
    /// The rendered Markdown bodies, for the next build of the same process.
    pub bodies: Bodies,
}

/// What the content stage made of each Markdown file — its front matter and its rendered body — for the
/// next run: a file whose text is the same is not parsed again, and its body is not rendered again while
/// the settings and the site's links (where each file is published) are the same too. `serve` hands it
/// to its next build in memory; `build` and `publish` keep it in the cache folder ([`Bodies::load`],
/// [`Bodies::save`]), the files' texts and the bodies' HTML in files of their own that are mapped, not
/// read: a build reads the text only of what it uses (see [`crate::text`]).
#[derive(Debug, Clone, Default)]
pub struct Bodies {
    /// Source path → what was made of it.
    entries: HashMap<String, Arc<Parsed>>,
    /// The paths whose entries came from the file of recent entries ([`Bodies::load`]).
    recent: Vec<String>,
    /// The cache's files of texts that entries read their texts and HTML from.
    files: Vec<Arc<crate::cache::MappedFile>>,
}

/// One file of the content cache as written: the tag of its file of texts and, per source path, what
/// was made of it and where the file's text and its body's HTML are in that file.
#[derive(Serialize, Deserialize)]
struct Part<S, P> {
    tag: [u8; crate::cache::TAG],
    entries: Vec<(S, P, Range<u64>, Range<u64>)>,
}

/// One Markdown file as the content stage made it.
#[derive(Debug, Serialize, Deserialize)]
struct Parsed {
    /// blake3 of the file's text.
    text: [u8; 32],
    /// The file's text (kept in the cache's file of texts, like the body's HTML).
    #[serde(skip)]
    source: Text,
    /// The file's size, times and inode when it was read, and when that was: while they stay the same,
    /// the file is not read again ([`FileStat::trusted`]).
    stat: Option<FileStat>,
    front: Front,
    /// What the body depends on besides the text (see [`body_inputs`]).
    inputs: [u8; 32],
    body: Arc<Rendered>,
}

/// What the file system says about a file, enough to tell that it has not changed without reading it
/// (as git's index does): size, modification and change time, inode; and when it was seen so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileStat {
    len: u64,
    modified: i128,
    changed: i128,
    inode: u64,
    /// When the file was read, in nanoseconds since 1970.
    seen: i128,
}

/// How much older than the moment it was read a file's last change must be for its size and times to
/// be trusted later: a change within the same moment as the read could keep both (git's „racily clean“).
const RACY_NANOS: i128 = 2_000_000_000;

impl FileStat {
    /// The file's size, times and inode, seen now; `None` where the platform does not give them.
    fn of(path: &Path) -> Option<FileStat> {
        let seen = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Self::with_seen(&std::fs::metadata(path).ok()?, i128::try_from(seen).ok()?)
    }

    #[cfg(unix)]
    fn with_seen(meta: &std::fs::Metadata, seen: i128) -> Option<FileStat> {
        use std::os::unix::fs::MetadataExt;
        Some(FileStat {
            len: meta.len(),
            modified: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            changed: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            inode: meta.ino(),
            seen,
        })
    }

    #[cfg(not(unix))]
    fn with_seen(_meta: &std::fs::Metadata, _seen: i128) -> Option<FileStat> {
        None
    }

    /// Whether `now` (the file as it is) shows the same file as this earlier read, and that read was
    /// long enough after the file's last change that a later change would show.
    fn trusted(&self, now: &FileStat) -> bool {
        self.len == now.len
            && self.modified == now.modified
            && self.changed == now.changed
            && self.inode == now.inode
            && self.modified + RACY_NANOS <= self.seen
    }
}

/// The front matter of a Markdown file, read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Front {
    id: String,
    /// Where the body starts; `None` without a complete front matter block.
    body_start: Option<usize>,
    guideline: Option<GuidelineMeta>,
    page: Option<PageMeta>,
    diagnostics: Vec<Diagnostic>,
}

/// The folder of the content cache inside the cache folder.
pub const CACHE_DIR: &str = "inhalt";
/// The entries as of the last full write, in [`CACHE_PARTS`] files (`inhalt-<n>.bin`, by a hash of the
/// path), read in parallel.
const CACHE_FILE: &str = "inhalt";
const CACHE_PARTS: usize = 8;
/// Entries changed since (a small file, so that one edit does not rewrite every body).
const RECENT_FILE: &str = "inhalt-neu.bin";
/// Changed entries kept in [`RECENT_FILE`] before everything is written again.
const MAX_RECENT: usize = 200;
/// Raised when the layout of the cache changes.
const CACHE_FORMAT: u32 = 3;

/// The file of one part of the content cache; part [`CACHE_PARTS`] holds the recent entries.
fn part_path(dir: &Path, part: usize) -> PathBuf {
    if part == CACHE_PARTS {
        dir.join(RECENT_FILE)
    } else {
        dir.join(format!("{CACHE_FILE}-{part}.bin"))
    }
}

/// The file of texts of the part at `path` (`.text` beside `.bin`): each file's text and its body's HTML.
fn text_path(part: &Path) -> PathBuf {
    part.with_extension("text")
}

/// The entries of one part of the content cache, read, and the file their texts are mapped from.
type ReadPart = (Vec<(String, Arc<Parsed>)>, Arc<crate::cache::MappedFile>);

/// Reads one part of the content cache, its texts mapped from its file of texts.
fn read_part(path: &Path, stamp: &[u8]) -> Option<ReadPart> {
    let part: Part<String, Arc<Parsed>> = crate::cache::read(path, stamp)?;
    let file = Arc::new(crate::cache::MappedFile::open(&text_path(path), &part.tag)?);
    let range = |r: Range<u64>| Some(usize::try_from(r.start).ok()?..usize::try_from(r.end).ok()?);
    let entries = part
        .entries
        .into_iter()
        .map(|(path, mut parsed, source, html)| {
            // Just read: nothing else holds these.
            let entry = Arc::get_mut(&mut parsed)?;
            entry.source = Text::mapped(Arc::clone(&file), range(source)?, entry.text);
            let body = Arc::get_mut(&mut entry.body)?;
            body.html = Text::mapped(Arc::clone(&file), range(html)?, body.html_hash);
            Some((path, parsed))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((entries, file))
}

/// Writes one part of the content cache: its file of texts first, then the part that points into it.
/// Fails without writing the part when a text cannot be read (a damaged cache).
fn write_part<'a>(
    path: &Path,
    stamp: &[u8],
    entries: impl Iterator<Item = (&'a String, &'a Arc<Parsed>)>,
) -> std::io::Result<()> {
    let tag = crate::cache::new_tag();
    let mut texts: Vec<u8> = tag.to_vec();
    let mut append = |text: &Text| -> std::io::Result<Range<u64>> {
        let text = text
            .checked()
            .ok_or_else(|| std::io::Error::other("a cached text could not be read"))?;
        let start = (texts.len() - crate::cache::TAG) as u64;
        texts.extend_from_slice(text.as_bytes());
        Ok(start..(texts.len() - crate::cache::TAG) as u64)
    };
    let mut listed: Vec<(&str, &Parsed, Range<u64>, Range<u64>)> = Vec::new();
    for (source, parsed) in entries {
        let text = append(&parsed.source)?;
        let html = append(&parsed.body.html)?;
        listed.push((source.as_str(), &**parsed, text, html));
    }
    crate::cache::write_bytes(&text_path(path), &texts)?;
    crate::cache::write(
        path,
        stamp,
        &Part {
            tag,
            entries: listed,
        },
    )
}

impl Bodies {
    /// The cache `build` left in the cache folder `cache`; empty if there is none or it cannot be read.
    pub fn load(cache: &Path) -> Bodies {
        let dir = cache.join(CACHE_DIR);
        let stamp = crate::cache::program_stamp(CACHE_FORMAT);
        let parts: Vec<_> = (0..=CACHE_PARTS)
            .into_par_iter()
            .map(|part| read_part(&part_path(&dir, part), &stamp))
            .collect();
        // Parts of different writes may meet (a write that stopped half-way): that is harmless, an entry
        // is only used for the same text and inputs.
        let mut bodies = Bodies::default();
        // The recent entries (the last part) come last and replace those of the full write.
        for (part, read) in parts.into_iter().enumerate() {
            let Some((entries, file)) = read else {
                continue;
            };
            if part == CACHE_PARTS {
                bodies.recent = entries.iter().map(|(path, _)| path.clone()).collect();
            }
            bodies.entries.extend(entries);
            bodies.files.push(file);
        }
        bodies
    }

    /// Whether a text read from the cache (a file's, a body's HTML) was not what it should be (see
    /// [`crate::text`]): a build that used these entries must be made again without the cache.
    pub fn damaged(&self) -> bool {
        self.files.iter().any(|file| file.damaged())
    }

    /// Keeps these entries in the cache folder `cache` for the next run, which read `before` from it:
    /// only entries that changed since are written, into a small second file, until there are more than
    /// `MAX_RECENT` of them or many entries are gone; then all are written anew.
    pub fn save(&self, cache: &Path, before: &Bodies) -> std::io::Result<()> {
        let changed: HashMap<String, Arc<Parsed>> = self
            .entries
            .iter()
            .filter(|(path, entry)| {
                before
                    .entries
                    .get(*path)
                    .is_none_or(|old| !Arc::ptr_eq(old, entry))
            })
            .map(|(path, entry)| (path.clone(), Arc::clone(entry)))
            .collect();
        let gone = before
            .entries
            .keys()
            .filter(|path| !self.entries.contains_key(*path))
            .count();
        if changed.is_empty() && gone == 0 {
            return Ok(());
        }
        let dir = cache.join(CACHE_DIR);
        std::fs::create_dir_all(&dir)?;
        let stamp = crate::cache::program_stamp(CACHE_FORMAT);
        let recent_path = part_path(&dir, CACHE_PARTS);
        let mut kept: HashMap<String, Arc<Parsed>> = before
            .recent
            .iter()
            .filter_map(|path| Some((path.clone(), Arc::clone(self.entries.get(path)?))))
            .collect();
        kept.extend(changed);
        let written = (0..CACHE_PARTS).all(|part| part_path(&dir, part).exists());
        if written && kept.len() <= MAX_RECENT && gone * 4 <= self.entries.len() {
            let mut kept: Vec<(&String, &Arc<Parsed>)> = kept.iter().collect();
            kept.sort_unstable_by_key(|(path, _)| *path);
            return write_part(&recent_path, &stamp, kept.into_iter());
        }
        let mut parts: Vec<Vec<(&String, &Arc<Parsed>)>> = vec![Vec::new(); CACHE_PARTS];
        for (path, entry) in &self.entries {
            let part = blake3::hash(path.as_bytes()).as_bytes()[0] as usize % CACHE_PARTS;
            parts[part].push((path, entry));
        }
        match std::fs::remove_file(&recent_path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
        parts
            .into_par_iter()
            .enumerate()
            .try_for_each(|(part, mut entries)| {
                entries.sort_unstable_by_key(|(path, _)| *path);
                write_part(&part_path(&dir, part), &stamp, entries.into_iter())
            })
    }

    /// What was made of `source` before, if its text is the same.
    fn get(&self, source: &SourceText, text: &[u8; 32]) -> Option<&Arc<Parsed>> {
        self.entries.get(&source.path).filter(|e| e.text == *text)
    }
}

impl Content {
    /// All Markdown documents, for checks that apply to every kind.
    pub fn documents(&self) -> impl Iterator<Item = (&SourceText, &str, &Rendered)> {
        let home = self
            .home
            .iter()
            .map(|d| (&d.source, d.url_path.as_str(), &*d.body));
        let guidelines = self
            .guidelines
            .iter()
            .map(|d| (&d.source, d.url_path.as_str(), &*d.body));
        let pages = self
            .pages
            .iter()
            .map(|d| (&d.source, d.url_path.as_str(), &*d.body));
        home.chain(guidelines).chain(pages)
    }

    /// Guidelines whose front matter is valid.
    pub fn valid_guidelines(&self) -> impl Iterator<Item = (&Doc<GuidelineMeta>, &GuidelineMeta)> {
        self.guidelines
            .iter()
            .filter_map(|d| d.meta.as_ref().map(|m| (d, m)))
    }

    /// Register entries without errors: the ones that are published.
    pub fn valid_register(&self) -> impl Iterator<Item = &register::Entry> {
        self.register.iter().filter(|e| e.valid)
    }

    /// Generic pages whose front matter is valid.
    pub fn valid_pages(&self) -> impl Iterator<Item = (&Doc<PageMeta>, &PageMeta)> {
        self.pages
            .iter()
            .filter_map(|d| d.meta.as_ref().map(|m| (d, m)))
    }
}

/// A document read again after a save that changed only its own page: what `serve` shows before the
/// rebuild (see [`Content::reread`]).
#[derive(Debug, Clone)]
pub enum Edited {
    Home(Doc<PageMeta>),
    Guideline(Doc<GuidelineMeta>),
    Page(Doc<PageMeta>),
    /// A register entry, still to be checked against the rest of the site
    /// ([`crate::validate::register_entry`]).
    Entry(register::Entry),
}

impl Content {
    /// The published document at `rel` (a source path) read again, when the save changed nothing but
    /// what its own page shows: the same front matter, byte for byte; a body that renders without a
    /// problem, keeps every anchor other pages may link to, links only where it linked before (or out
    /// of the site) and implements the same motion points. Then no other page changes, except those
    /// that show today's text beside its history and the search index.
    ///
    /// A published register entry read again is accepted when its fields have no problem (its `id` is then
    /// its file name, the one it had): lists show its name and facets, but no other page depends on the
    /// rest, so its own page can be shown while they are rebuilt.
    ///
    /// `None` when the file cannot be read or anything else may have changed: only a whole build can
    /// tell what.
    pub fn reread(&self, root: &Path, rel: &str, settings: &RenderSettings) -> Option<Edited> {
        if let Some(before) = self
            .register
            .iter()
            .find(|e| e.valid && e.source.path == rel)
        {
            // Without problems its id is its file name, so it is the entry it was.
            let (entry, diagnostics) =
                register::read_file(root, &before.source.path, &self.vocabularies);
            return (diagnostics.is_empty() && entry.valid).then_some(Edited::Entry(entry));
        }
        let text = std::fs::read_to_string(root.join(rel)).ok()?;
        let source = SourceText::new(rel, text);
        let published = &self.published;
        if let Some(home) = self.home.as_ref().filter(|d| d.source.path == rel) {
            return edited(home, source, published, settings).map(Edited::Home);
        }
        if let Some(doc) = self.guidelines.iter().find(|d| d.source.path == rel) {
            return edited(doc, source, published, settings).map(Edited::Guideline);
        }
        let doc = self.pages.iter().find(|d| d.source.path == rel)?;
        edited(doc, source, published, settings).map(Edited::Page)
    }
}

/// `doc` with `source` as its text, if that changed only its body, and harmlessly (see
/// [`Content::reread`]).
fn edited<M: Clone>(
    doc: &Doc<M>,
    source: SourceText,
    published: &BTreeMap<String, String>,
    settings: &RenderSettings,
) -> Option<Doc<M>> {
    doc.meta.as_ref()?;
    let front = frontmatter::head(source.text.as_bytes())?;
    if Some(front) != frontmatter::head(doc.source.text.as_bytes()) {
        return None;
    }
    let start = frontmatter::locate(&source.text)?.body_start;
    let body = render_body(&source, start, &doc.url_path, published, settings);
    let linked: std::collections::HashSet<&str> =
        doc.body.links.iter().map(|l| l.dest.as_str()).collect();
    let harmless = body.diagnostics.is_empty()
        && doc.body.anchors.is_subset(&body.anchors)
        && body
            .links
            .iter()
            .all(|l| l.target == LinkTarget::External || linked.contains(l.dest.as_str()))
        && body
            .implements
            .iter()
            .map(|i| (&i.heading_id, &i.heading_title, &i.points))
            .eq(doc
                .body
                .implements
                .iter()
                .map(|i| (&i.heading_id, &i.heading_title, &i.points)));
    harmless.then(|| Doc {
        text_hash: *blake3::hash(source.text.as_bytes()).as_bytes(),
        source,
        id: doc.id.clone(),
        url_path: doc.url_path.clone(),
        meta: doc.meta.clone(),
        body: Arc::new(body),
    })
}

/// What the Markdown renderer needs from config and theme.
pub struct RenderSettings<'a> {
    pub allow_html: bool,
    pub labels: &'a markdown::Labels,
    pub base_path: &'a str,
}

impl<'a> RenderSettings<'a> {
    /// The settings of a site with `config` and the theme's Markdown `labels`.
    pub fn new(config: &'a crate::config::Config, labels: &'a markdown::Labels) -> Self {
        RenderSettings {
            allow_html: config.markdown.allow_html,
            labels,
            base_path: &config.base_path,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Home,
    Guideline,
    Page,
}

/// A Markdown file after reading and front matter, before its body is rendered.
struct Prepared {
    kind: Kind,
    source: SourceText,
    /// blake3 of the text.
    text: [u8; 32],
    /// The file's size and times before it was read (`None`: unknown, or the file was not read).
    stat: Option<FileStat>,
    front: Front,
    /// What an earlier run made of the same text, if anything.
    earlier: Option<Arc<Parsed>>,
}

/// Reads all content under `root`, taking the bodies of unchanged files from `previous` (see [`Bodies`]).
pub fn load(
    root: &Path,
    settings: &RenderSettings,
    previous: Option<&Bodies>,
) -> (Content, Vec<Diagnostic>) {
    let mut files: Vec<(Kind, String)> = Vec::new();
    if root.join(HOME_FILE).is_file() {
        files.push((Kind::Home, HOME_FILE.to_string()));
    }
    files.extend(
        markdown_files(root, GUIDELINES_DIR)
            .into_iter()
            .map(|p| (Kind::Guideline, p)),
    );
    files.extend(
        markdown_files(root, PAGES_DIR)
            .into_iter()
            .map(|p| (Kind::Page, p)),
    );

    let prepared: Vec<Prepared> = files
        .par_iter()
        .map(|(kind, rel)| prepare(root, *kind, rel, previous))
        .collect();

    // Where each source file is published: relative `.md` links resolve through this map.
    let published: BTreeMap<String, String> = prepared
        .iter()
        .map(|p| (p.source.path.clone(), url_path(p.kind, &p.front.id)))
        .collect();

    let inputs = *body_inputs(settings, &published).as_bytes();
    let parsed: Vec<(Prepared, Arc<Parsed>)> = prepared
        .into_par_iter()
        .map(|mut p| {
            let entry = match p.earlier.take() {
                // Read again (its size or times changed, or were not to be trusted) with the same
                // text: the entry is the same but for what the file system said.
                Some(earlier) if earlier.inputs == inputs && p.stat.is_some() => Arc::new(Parsed {
                    text: earlier.text,
                    source: earlier.source.clone(),
                    stat: p.stat,
                    front: earlier.front.clone(),
                    inputs,
                    body: Arc::clone(&earlier.body),
                }),
                Some(earlier) if earlier.inputs == inputs => earlier,
                _ => {
                    let body = match p.front.body_start {
                        Some(start) => Arc::new(render_body(
                            &p.source,
                            start,
                            &url_path(p.kind, &p.front.id),
                            &published,
                            settings,
                        )),
                        None => Arc::default(),
                    };
                    Arc::new(Parsed {
                        text: p.text,
                        source: p.source.text.clone(),
                        stat: p.stat,
                        front: p.front.clone(),
                        inputs,
                        body,
                    })
                }
            };
            (p, entry)
        })
        .collect();
    let bodies = Bodies {
        entries: parsed
            .iter()
            .map(|(p, entry)| (p.source.path.clone(), Arc::clone(entry)))
            .collect(),
        recent: Vec::new(),
        files: previous.map(|p| p.files.clone()).unwrap_or_default(),
    };

    let ((roles, mut diagnostics), (raci, mut raci_diagnostics)) =
        rayon::join(|| roles::load(root), || raci::load(root));
    diagnostics.append(&mut raci_diagnostics);
    let (motion, motion_diagnostics) = motion::load(root);
    diagnostics.extend(motion_diagnostics);
    let (vocabularies, vocab_diagnostics) = vocab::load(root);
    diagnostics.extend(vocab_diagnostics);
    let (training, training_diagnostics) = training::load(root);
    diagnostics.extend(training_diagnostics);
    let (register, register_diagnostics) = register::load(root, &vocabularies);
    diagnostics.extend(register_diagnostics);
    let mut content = Content {
        roles,
        raci,
        motion,
        published,
        vocabularies,
        training,
        register,
        bodies,
        ..Content::default()
    };
    for (p, entry) in parsed {
        let Prepared {
            kind,
            source,
            front,
            text: text_hash,
            ..
        } = p;
        let body = Arc::clone(&entry.body);
        diagnostics.extend(front.diagnostics);
        diagnostics.extend(body.diagnostics.iter().cloned());
        let url_path = url_path(kind, &front.id);
        match kind {
            Kind::Guideline => content.guidelines.push(Doc {
                source,
                id: front.id,
                url_path,
                meta: front.guideline,
                body,
                text_hash,
            }),
            Kind::Page => content.pages.push(Doc {
                source,
                id: front.id,
                url_path,
                meta: front.page,
                body,
                text_hash,
            }),
            Kind::Home => {
                content.home = Some(Doc {
                    source,
                    id: String::new(),
                    url_path,
                    meta: front.page,
                    body,
                    text_hash,
                })
            }
        }
    }
    // Keys borrowed, not cloned: a sort compares each document about log₂(n) times.
    content
        .guidelines
        .par_sort_unstable_by(|a, b| sort_key_guideline(a).cmp(&sort_key_guideline(b)));
    content
        .pages
        .par_sort_unstable_by(|a, b| sort_key_page(a).cmp(&sort_key_page(b)));
    (content, diagnostics)
}

/// Guidelines in the order of their `order`, then title, then source path (unique: a stable order).
fn sort_key_guideline(d: &Doc<GuidelineMeta>) -> (i64, &str, &str) {
    let meta = d.meta.as_ref();
    (
        meta.and_then(|m| m.order).unwrap_or(i64::MAX),
        meta.map_or("", |m| m.title.as_str()),
        d.source.path.as_str(),
    )
}

/// Pages in the order of their `order`, then title, then source path.
fn sort_key_page(d: &Doc<PageMeta>) -> (i64, &str, &str) {
    let meta = d.meta.as_ref();
    (
        meta.and_then(|m| m.order).unwrap_or(i64::MAX),
        meta.map_or("", |m| m.title.as_str()),
        d.source.path.as_str(),
    )
}

/// A hash of what every Markdown body depends on besides its text.
fn body_inputs(settings: &RenderSettings, published: &BTreeMap<String, String>) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(
        format!(
            "{:?}",
            (settings.allow_html, settings.labels, settings.base_path)
        )
        .as_bytes(),
    );
    for (source, path) in published {
        for part in [source, path] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher.finalize()
}

/// Renders a Markdown body published at `own_path`, resolving links through `published`.
/// Also used for earlier versions of a document, whose links resolve against today's site.
pub fn render_body(
    source: &SourceText,
    body_start: usize,
    own_path: &str,
    published: &BTreeMap<String, String>,
    settings: &RenderSettings,
) -> Rendered {
    let resolve = |dest: &str| resolve_link(dest, &source.path, own_path, published);
    markdown::render(
        source,
        body_start,
        &MarkdownOptions {
            allow_html: settings.allow_html,
            labels: settings.labels,
            resolve: &resolve,
            base_path: settings.base_path,
        },
    )
}

/// Site-relative URL path of a document.
fn url_path(kind: Kind, id: &str) -> String {
    match kind {
        Kind::Home => String::new(),
        Kind::Guideline => format!("leitlinien/{id}/"),
        Kind::Page => format!("seiten/{id}/"),
    }
}

/// The `.md` files directly in `dir` (a site-relative path with `/`), sorted, as site-relative paths
/// with `/`. One directory listing, sorted once as strings: walking it sorted by file name compared
/// paths component by component, ≈ 10 ms of every build at 10,000 guidelines.
fn markdown_files(root: &Path, dir: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            Path::new(name.as_ref())
                .extension()
                .is_some_and(|x| x == "md")
                .then(|| format!("{dir}/{name}"))
        })
        .collect();
    files.sort_unstable();
    files
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel: PathBuf = path.strip_prefix(root).ok()?.to_path_buf();
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Reads a Markdown file and its front matter, or takes the front matter from `previous` if the text is
/// the same.
fn prepare(root: &Path, kind: Kind, rel: &str, previous: Option<&Bodies>) -> Prepared {
    let mut prepared = Prepared {
        kind,
        source: SourceText::new(rel, String::new()),
        text: *blake3::hash(b"").as_bytes(),
        stat: None,
        front: Front::default(),
        earlier: None,
    };
    let path = root.join(rel);
    let stat = FileStat::of(&path);
    // A file whose size, times and inode are those of an earlier read is not read again.
    if let Some(earlier) = previous.and_then(|bodies| bodies.entries.get(rel))
        && let (Some(then), Some(now)) = (&earlier.stat, &stat)
        && then.trusted(now)
    {
        prepared.source = SourceText::with_text(rel, earlier.source.clone());
        prepared.text = earlier.text;
        prepared.front = earlier.front.clone();
        prepared.earlier = Some(Arc::clone(earlier));
        return prepared;
    }
    prepared.stat = stat;
    let text = match std::fs::read(&path).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            prepared.front = front(kind, rel, None);
            prepared.front.diagnostics.push(Diagnostic::file(
                rel,
                Rule::S1,
                "Die Datei ist nicht in UTF-8 gespeichert. Speichern Sie sie als UTF-8 (ohne Umwandlung der Umlaute).",
            ));
            return prepared;
        }
        Err(err) => {
            prepared.front = front(kind, rel, None);
            prepared.front.diagnostics.push(Diagnostic::file(
                rel,
                Rule::S1,
                format!("Die Datei kann nicht gelesen werden: {err}."),
            ));
            return prepared;
        }
    };
    prepared.source = SourceText::new(rel, text);
    prepared.text = *blake3::hash(prepared.source.text.as_bytes()).as_bytes();
    match previous.and_then(|bodies| bodies.get(&prepared.source, &prepared.text)) {
        Some(earlier) => {
            prepared.front = earlier.front.clone();
            prepared.earlier = Some(Arc::clone(earlier));
        }
        None => prepared.front = front(kind, rel, Some(&prepared.source)),
    }
    prepared
}

/// The front matter of the file at `rel` with `source` as its text (`None`: it could not be read).
fn front(kind: Kind, rel: &str, source: Option<&SourceText>) -> Front {
    let stem = rel
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".md"))
        .unwrap_or(rel)
        .to_string();
    let mut front = Front {
        id: stem.clone(),
        ..Front::default()
    };
    let Some(source) = source else {
        return front;
    };
    let split = match frontmatter::split(source) {
        Ok(split) => split,
        Err(diagnostic) => {
            front.diagnostics.push(diagnostic);
            return front;
        }
    };
    front.body_start = Some(split.body_start);
    match kind {
        Kind::Guideline => {
            let (meta, diags) = guideline::read_meta(source, split.toml, split.opening);
            if let Some(meta) = &meta {
                front.id = meta.id.value.clone();
            }
            front.guideline = meta;
            front.diagnostics = diags;
        }
        Kind::Page | Kind::Home => {
            if kind == Kind::Page && !fields::is_slug(&stem) {
                front.diagnostics.push(Diagnostic::file(
                    rel,
                    Rule::E9,
                    format!(
                        "Der Dateiname „{stem}.md“ ergibt keine gültige Adresse. Benennen Sie die Datei mit \
                         Kleinbuchstaben, Ziffern und Bindestrichen, z. B. „barrierefreiheit.md“."
                    ),
                ));
            }
            let (meta, diags) = page::read_meta(source, split.toml, split.opening);
            front.page = meta;
            front.diagnostics.extend(diags);
        }
    }
    front
}

/// Decides what a link destination written in `from` (a source path) points to.
///
/// - `https://…`, `mailto:…`: external, not checked;
/// - `#anker`: an anchor on the same page;
/// - `andere.md#anker`, `../seiten/impressum.md`: another source file, resolved to where it is published;
/// - `/leitlinien/x/#anker`: a site path (the base path is added when writing the HTML);
/// - anything else relative: relative to the page's own URL.
fn resolve_link(
    dest: &str,
    from: &str,
    own_path: &str,
    published: &BTreeMap<String, String>,
) -> LinkTarget {
    if dest.is_empty() {
        return LinkTarget::SamePage(String::new());
    }
    if let Some(anchor) = dest.strip_prefix('#') {
        return LinkTarget::SamePage(anchor.to_string());
    }
    if dest.starts_with("//") || has_scheme(dest) {
        return LinkTarget::External;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string())),
        None => (dest, None),
    };
    if let Some(site_path) = path.strip_prefix('/') {
        return LinkTarget::Internal {
            path: site_path.to_string(),
            fragment,
        };
    }
    if path.ends_with(".md") {
        let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
        let joined = normalize(&format!("{dir}/{path}"));
        return match published.get(&joined) {
            Some(url) => LinkTarget::Internal {
                path: url.clone(),
                fragment,
            },
            None => LinkTarget::MissingSource(joined),
        };
    }
    LinkTarget::Internal {
        path: normalize(&format!("{own_path}{path}")),
        fragment,
    }
}

fn has_scheme(dest: &str) -> bool {
    dest.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && !scheme.contains('/')
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// Resolves `.` and `..` segments of a `/`-separated relative path, keeping a trailing `/`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = parts.join("/");
    if path.ends_with('/') && !out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guideline(id: &str, body: &str) -> String {
        format!(
            "+++\nid = \"{id}\"\ntitle = \"T\"\nsummary = \"S\"\nstatus = \"entwurf\"\nowner = \"ki\"\n+++\n{body}"
        )
    }

    fn labels() -> markdown::Labels {
        markdown::Labels {
            todo: "Zu ergänzen".into(),
            task_done: "erledigt".into(),
            task_open: "offen".into(),
            implements: "Setzt um".into(),
            table_region: "Tabelle".into(),
        }
    }

    fn settings(labels: &markdown::Labels) -> RenderSettings<'_> {
        RenderSettings {
            allow_html: false,
            labels,
            base_path: "/",
        }
    }

    #[test]
    fn bodies_of_unchanged_files_are_reused_until_text_or_links_change() {
        let (site, dir) = site_with_guidelines();
        std::fs::write(dir.join("a.md"), guideline("a", "Siehe [B](b.md).\n")).unwrap();
        std::fs::write(dir.join("b.md"), guideline("b", "Text B.\n")).unwrap();
        let labels = labels();
        let settings = settings(&labels);
        let body = |content: &Content, id: &str| {
            let doc = content.guidelines.iter().find(|d| d.id == id).unwrap();
            Arc::clone(&doc.body)
        };

        let (first, _) = load(site.path(), &settings, None);
        assert!(body(&first, "a").html.contains("href=\"/leitlinien/b/\""));
        std::fs::write(dir.join("b.md"), guideline("b", "Text B, geändert.\n")).unwrap();
        let (second, _) = load(site.path(), &settings, Some(&first.bodies));
        assert!(
            Arc::ptr_eq(&body(&first, "a"), &body(&second, "a")),
            "a is unchanged"
        );
        assert!(!Arc::ptr_eq(&body(&first, "b"), &body(&second, "b")));
        assert!(body(&second, "b").html.contains("geändert"));

        // b is published elsewhere now: a's link changes, so nothing is reused.
        std::fs::write(dir.join("b.md"), guideline("neu", "Text B, geändert.\n")).unwrap();
        let (third, _) = load(site.path(), &settings, Some(&second.bodies));
        assert!(!Arc::ptr_eq(&body(&second, "a"), &body(&third, "a")));
        assert!(body(&third, "a").html.contains("href=\"/leitlinien/neu/\""));
        // Other settings: nothing is reused either.
        let other = RenderSettings {
            base_path: "/ki/",
            ..settings
        };
        let (fourth, _) = load(site.path(), &other, Some(&third.bodies));
        assert!(
            body(&fourth, "a")
                .html
                .contains("href=\"/ki/leitlinien/neu/\"")
        );
    }

    /// Writes `text` to `path` as last changed an hour ago: a file changed just before it is read is
    /// read again next time ([`FileStat::trusted`]).
    fn write_old(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        set_modified(
            path,
            std::time::SystemTime::now() - std::time::Duration::from_secs(3600),
        );
    }

    fn set_modified(path: &Path, time: std::time::SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    /// An empty site with its guidelines folder: the site and the folder.
    fn site_with_guidelines() -> (tempfile::TempDir, std::path::PathBuf) {
        let site = tempfile::tempdir().unwrap();
        let dir = site.path().join(GUIDELINES_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        (site, dir)
    }

    #[test]
    fn a_file_is_read_again_when_its_size_times_or_inode_change_or_were_racy() {
        let (site, dir) = site_with_guidelines();
        let cache = site.path().join(crate::CACHE_DIR);
        let file = dir.join("g.md");
        write_old(&file, &guideline("g", "Alter Text.\n"));
        let labels = labels();
        let settings = settings(&labels);
        let cached = |content: &Content| {
            content.bodies.save(&cache, &Bodies::default()).unwrap();
            Bodies::load(&cache)
        };
        let (first, _) = load(site.path(), &settings, None);
        let loaded = cached(&first);
        let (second, _) = load(site.path(), &settings, Some(&loaded));
        assert!(second.guidelines[0].source.text.is_mapped(), "not read");

        // The same size, other text, the modification time set back: the change time tells.
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, guideline("g", "Neuer Text.\n")).unwrap();
        set_modified(&file, modified);
        let (third, _) = load(site.path(), &settings, Some(&loaded));
        assert!(!third.guidelines[0].source.text.is_mapped(), "read");
        assert!(third.guidelines[0].body.html.contains("Neuer Text"));

        // Changed just now: read again next time too, though nothing changed since.
        std::fs::write(&file, guideline("g", "Dritter Text.\n")).unwrap();
        let (fourth, _) = load(site.path(), &settings, Some(&loaded));
        let loaded = cached(&fourth);
        let (fifth, _) = load(site.path(), &settings, Some(&loaded));
        assert!(!fifth.guidelines[0].source.text.is_mapped(), "read again");
        assert!(fifth.guidelines[0].body.html.contains("Dritter Text"));
    }

    #[test]
    fn the_cache_on_disk_keeps_front_matter_problems_and_writes_only_what_changed() {
        let (site, dir) = site_with_guidelines();
        let cache = site.path().join(crate::CACHE_DIR);
        for i in 0..5 {
            write_old(
                &dir.join(format!("g{i}.md")),
                &guideline(&format!("g{i}"), "Text.\n"),
            );
        }
        // A front matter with an unknown key: a problem that must be reported from the cache too.
        write_old(
            &dir.join("kaputt.md"),
            "+++\nid = \"kaputt\"\nunbekannt = 1\n+++\nText.\n",
        );
        let labels = labels();
        let settings = settings(&labels);
        let codes = |diagnostics: &[Diagnostic]| -> Vec<(String, Rule, usize)> {
            let mut codes: Vec<_> = diagnostics
                .iter()
                .map(|d| (d.path.clone(), d.rule, d.line))
                .collect();
            codes.sort();
            codes
        };

        let (first, first_problems) = load(site.path(), &settings, None);
        assert!(!first_problems.is_empty());
        first.bodies.save(&cache, &Bodies::default()).unwrap();
        let loaded = Bodies::load(&cache);
        assert_eq!(loaded.entries.len(), 6);
        let (second, second_problems) = load(site.path(), &settings, Some(&loaded));
        assert_eq!(codes(&second_problems), codes(&first_problems));
        for (path, entry) in &second.bodies.entries {
            assert!(
                Arc::ptr_eq(entry, &loaded.entries[path]),
                "{path} is reused"
            );
        }
        let html = |content: &Content| -> Vec<String> {
            content
                .guidelines
                .iter()
                .map(|d| d.body.html.to_string())
                .collect()
        };
        assert_eq!(html(&second), html(&first));
        // The loaded bodies' HTML is mapped from the cache's file of texts, not read; so are the texts
        // of the files, which were not read again (their size, times and inode are the same).
        assert!(loaded.entries.values().all(|e| e.body.html.is_mapped()));
        assert!(second.guidelines.iter().all(|d| d.source.text.is_mapped()));
        assert!(
            second
                .guidelines
                .iter()
                .all(|d| d.source.text.contains("Text."))
        );

        // One file edited: only it is written, into the small file of recent entries.
        write_old(&dir.join("g3.md"), &guideline("g3", "Neuer Text.\n"));
        let (third, _) = load(site.path(), &settings, Some(&loaded));
        let parts = |dir: &Path| -> Vec<(PathBuf, std::time::SystemTime)> {
            (0..CACHE_PARTS)
                .map(|part| part_path(dir, part))
                .filter(|p| p.exists())
                .map(|p| {
                    (
                        p.clone(),
                        std::fs::metadata(&p).unwrap().modified().unwrap(),
                    )
                })
                .collect()
        };
        let before = parts(&cache.join(CACHE_DIR));
        third.bodies.save(&cache, &loaded).unwrap();
        assert_eq!(
            parts(&cache.join(CACHE_DIR)),
            before,
            "the full write is kept"
        );
        let recent = Bodies::load(&cache);
        let entry = &recent.entries["content/leitlinien/g3.md"];
        assert!(entry.body.html.contains("Neuer Text"));
        assert_eq!(recent.entries.len(), 6);
        // A second edit keeps the first one's entry among the recent ones.
        write_old(&dir.join("g4.md"), &guideline("g4", "Auch neu.\n"));
        let (next, _) = load(site.path(), &settings, Some(&recent));
        next.bodies.save(&cache, &recent).unwrap();
        assert_eq!(
            parts(&cache.join(CACHE_DIR)),
            before,
            "the full write is kept"
        );
        let recent = Bodies::load(&cache);
        let mut paths = recent.recent.clone();
        paths.sort();
        assert_eq!(
            paths,
            ["content/leitlinien/g3.md", "content/leitlinien/g4.md"]
        );
        assert!(
            recent.entries["content/leitlinien/g3.md"]
                .body
                .html
                .contains("Neuer Text")
        );
        // A damaged part reads as absent: its files are made again, the rest is reused.
        let damaged = part_path(&cache.join(CACHE_DIR), 0);
        if damaged.exists() {
            std::fs::write(&damaged, b"kaputt").unwrap();
        }
        let (fourth, fourth_problems) = load(site.path(), &settings, Some(&Bodies::load(&cache)));
        assert_eq!(codes(&fourth_problems), codes(&first_problems));
        assert_eq!(html(&fourth), html(&next));
    }

    #[test]
    fn markdown_files_are_the_md_files_directly_in_the_folder_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("content/leitlinien");
        std::fs::create_dir_all(dir.join("unter.md")).unwrap();
        std::fs::write(dir.join("unter.md/tiefer.md"), "").unwrap();
        for name in [
            "b.md",
            "a-2.md",
            "a.md",
            "notiz.txt",
            ".md",
            "c.md~",
            "Ä.md",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        assert_eq!(
            markdown_files(tmp.path(), GUIDELINES_DIR),
            [
                "content/leitlinien/a-2.md",
                "content/leitlinien/a.md",
                "content/leitlinien/b.md",
                "content/leitlinien/Ä.md",
            ]
        );
        assert!(markdown_files(tmp.path(), PAGES_DIR).is_empty());
    }

    #[test]
    fn links_resolve_through_published_paths() {
        let published: BTreeMap<String, String> = [
            (
                "content/leitlinien/a.md".to_string(),
                "leitlinien/alpha/".to_string(),
            ),
            (
                "content/seiten/impressum.md".to_string(),
                "seiten/impressum/".to_string(),
            ),
        ]
        .into();
        let from = "content/leitlinien/b.md";
        let own = "leitlinien/b/";
        let r = |d: &str| resolve_link(d, from, own, &published);
        assert_eq!(
            r("a.md#x"),
            LinkTarget::Internal {
                path: "leitlinien/alpha/".into(),
                fragment: Some("x".into())
            }
        );
        assert_eq!(
            r("../seiten/impressum.md"),
            LinkTarget::Internal {
                path: "seiten/impressum/".into(),
                fragment: None
            }
        );
        assert_eq!(
            r("fehlt.md"),
            LinkTarget::MissingSource("content/leitlinien/fehlt.md".into())
        );
        assert_eq!(r("https://eur-lex.europa.eu/"), LinkTarget::External);
        assert_eq!(r("mailto:ki@example.org"), LinkTarget::External);
        assert_eq!(r("#oben"), LinkTarget::SamePage("oben".into()));
        assert_eq!(
            r("/leitlinien/"),
            LinkTarget::Internal {
                path: "leitlinien/".into(),
                fragment: None
            }
        );
        assert_eq!(
            r("../"),
            LinkTarget::Internal {
                path: "leitlinien/".into(),
                fragment: None
            }
        );
    }
}
