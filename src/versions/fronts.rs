//! What the history uses of the front matter of every guideline version ([`StandMeta`]): parsed once per
//! blob, in parallel, and kept between builds by blob id in the history cache ([`FILE`], plus
//! [`RECENT_FILE`] for the versions added since). A git blob id is the hash of the text, so an entry never goes stale; the files are stamped with
//! the program that parsed them (rules may change).
//!
//! A build after one more commit parses only the front matter of the versions that commit added, instead
//! of every version in the history.

use hashbrown::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cache;
use crate::content::frontmatter;
use crate::content::guideline;
use crate::diagnostics::SourceText;
use crate::history::Log;
use crate::versions::StandMeta;

/// The cache file, in the history cache folder.
pub const FILE: &str = "fronts.bin";
/// Versions added since [`FILE`] was written: a small file written after each commit, so that the large
/// one is not rewritten every time.
pub const RECENT_FILE: &str = "fronts-neu.bin";
/// Raised when the files' layout changes.
const FORMAT: u32 = 4;
/// How many versions [`RECENT_FILE`] collects before everything is written to [`FILE`] again.
const MAX_RECENT: usize = 500;

/// The front matter of a guideline version.
#[derive(Debug, Clone)]
pub struct Front {
    /// `None` when the front matter is not valid under today's rules.
    pub meta: Option<Arc<StandMeta>>,
    /// Byte offset of the body in the text.
    pub body_start: usize,
    /// BLAKE3 of the whole text: compared with today's text without reading the version's text.
    pub text_hash: [u8; 32],
}

/// What a cache file holds: each distinct front matter once — the versions of a document mostly share
/// theirs, as a title or a decision changes seldom — and per blob id the position of its front matter
/// (`None`: not valid), the body offset and the text hash. Every build decodes the whole file, and the
/// versions built from it share the front matter they had in common.
#[derive(Debug, Serialize, Deserialize)]
struct File<M, B> {
    metas: Vec<M>,
    entries: Vec<(B, Option<u32>, usize, [u8; 32])>,
}

impl<M, B> File<M, B> {
    fn empty() -> Self {
        File {
            metas: Vec::new(),
            entries: Vec::new(),
        }
    }
}

/// A cache file as read.
type Cached = File<StandMeta, String>;
/// The same, borrowed for writing.
type CachedRef<'a> = File<&'a StandMeta, &'a str>;

/// The front matter kept by the last build, read by [`Cache::load`] (on another thread while the build does
/// other work, as `lib.rs` does) and used by [`read`].
#[derive(Debug, Default)]
pub struct Cache {
    dir: Option<PathBuf>,
    fronts: HashMap<String, Front>,
    /// The blob ids of [`RECENT_FILE`].
    recent: Vec<String>,
}

impl Cache {
    /// The cache in the history cache folder `dir`; empty where its files are missing, damaged or were
    /// written by another program.
    pub fn load(dir: &Path) -> Cache {
        let stamp = cache::program_stamp(FORMAT);
        let load =
            |name: &str| cache::read::<Cached>(&dir.join(name), &stamp).unwrap_or_else(File::empty);
        let (all, recent) = rayon::join(|| load(FILE), || load(RECENT_FILE));
        let recent_ids = recent
            .entries
            .iter()
            .map(|(blob, ..)| blob.clone())
            .collect();
        let mut fronts = HashMap::with_capacity(all.entries.len() + recent.entries.len());
        for file in [all, recent] {
            let metas: Vec<Arc<StandMeta>> = file.metas.into_iter().map(Arc::new).collect();
            for (blob, meta, body_start, text_hash) in file.entries {
                let meta = match meta {
                    None => None,
                    Some(at) => match metas.get(at as usize) {
                        Some(meta) => Some(Arc::clone(meta)),
                        // Not written by this program: the version is parsed again.
                        None => continue,
                    },
                };
                let front = Front {
                    meta,
                    body_start,
                    text_hash,
                };
                fronts.insert(blob, front);
            }
        }
        Cache {
            dir: Some(dir.to_path_buf()),
            recent: recent_ids,
            fronts,
        }
    }
}

/// The front matter of the guideline versions a log references, by blob id ([`read`]).
#[derive(Debug, Default)]
pub struct Fronts<'a> {
    /// From the cache (with entries the log no longer references, which are never asked for).
    cached: HashMap<String, Front>,
    /// Parsed in this build.
    parsed: HashMap<&'a str, Front>,
}

impl Fronts<'_> {
    /// The front matter of the version whose blob id is `blob`.
    pub fn get(&self, blob: &str) -> Option<&Front> {
        // The cache holds all but the handful parsed now (the two never share a version): looked up
        // first, almost every id is hashed once.
        self.cached.get(blob).or_else(|| self.parsed.get(blob))
    }
}

/// The front matter of every guideline version `log` references, taken from `cache` where it has them
/// and parsed otherwise. New versions go to [`RECENT_FILE`]; when it has collected `MAX_RECENT` or a
/// quarter of the cached versions are no longer referenced, [`FILE`] is written anew. Versions whose
/// text is missing are left out.
pub fn read<'a>(log: &'a Log, blobs: impl Iterator<Item = &'a str>, cache: Cache) -> Fronts<'a> {
    let wanted: HashSet<&str> = blobs.collect();
    let Cache {
        dir: cache_dir,
        fronts: cached,
        recent: recent_ids,
    } = cache;
    let stamp = cache::program_stamp(FORMAT);
    // The cached entries stay where they are: moving thousands of them into a map of their own took
    // milliseconds of every build.
    let (found, missing): (Vec<&str>, Vec<&str>) =
        wanted.iter().partition(|blob| cached.contains_key(**blob));
    let unused = cached.len() - found.len();
    let parsed: HashMap<&str, Front> = missing
        .into_par_iter()
        .filter_map(|blob| Some((blob, parse(log.blobs.bytes(blob)?)?)))
        .collect();
    let new: Vec<&str> = parsed.keys().copied().collect();
    let fronts = Fronts { cached, parsed };

    // A cache that cannot be written only costs the next build time.
    let Some(dir) = cache_dir else { return fronts };
    let available = found.len() + new.len();
    if unused * 4 > available || recent_ids.len() + new.len() > MAX_RECENT {
        let all = entries(&fronts, found.iter().chain(&new).copied());
        if cache::write(&dir.join(FILE), &stamp, &all).is_ok() {
            let _ = std::fs::remove_file(dir.join(RECENT_FILE));
        }
    } else if !new.is_empty() {
        let recent = entries(&fronts, recent_ids.iter().map(String::as_str).chain(new));
        let _ = cache::write(&dir.join(RECENT_FILE), &stamp, &recent);
    }
    fronts
}

/// What the cache files hold of the versions `blobs`, as written.
fn entries<'b>(fronts: &'b Fronts, blobs: impl Iterator<Item = &'b str>) -> CachedRef<'b> {
    let mut file = File::empty();
    let mut positions: HashMap<&StandMeta, u32> = HashMap::new();
    for (blob, front) in blobs.filter_map(|blob| Some((blob, fronts.get(blob)?))) {
        let meta = front.meta.as_deref().map(|meta| {
            *positions.entry(meta).or_insert_with(|| {
                file.metas.push(meta);
                u32::try_from(file.metas.len() - 1).unwrap_or(u32::MAX)
            })
        });
        file.entries
            .push((blob, meta, front.body_start, front.text_hash));
    }
    file
}

/// The front matter of one version's text; `None` if it has none.
fn parse(bytes: &[u8]) -> Option<Front> {
    let head = frontmatter::head(bytes)?;
    let split = frontmatter::locate(head)?;
    // The path is only for diagnostics, which are not reported for earlier versions.
    let front = SourceText::new("", head);
    let (meta, _) = guideline::read_meta(&front, split.toml, split.opening);
    Some(Front {
        meta: meta.map(|meta| Arc::new(StandMeta::from(meta))),
        body_start: split.body_start,
        text_hash: *blake3::hash(bytes).as_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::blobs::Blobs;
    use crate::history::{Completeness, Log};

    fn text(title: &str) -> String {
        format!(
            "+++\nid = \"regel\"\ntitle = \"{title}\"\nsummary = \"S\"\nstatus = \"entwurf\"\nowner = \"ki\"\n+++\nText.\n"
        )
    }

    /// A log whose blob store holds `texts` (blob id → text); the revisions do not matter here.
    fn log(texts: &[(&str, String)]) -> Log {
        Log {
            completeness: Completeness::Full,
            revisions: Vec::new(),
            blobs: Arc::new(Blobs::from_texts(
                texts
                    .iter()
                    .map(|(blob, text)| (blob.to_string(), text.clone()))
                    .collect(),
            )),
        }
    }

    fn title(fronts: &Fronts, blob: &str) -> Option<String> {
        fronts.get(blob)?.meta.as_ref().map(|m| m.title.clone())
    }

    #[test]
    fn parses_each_version_once_and_keeps_it_by_blob_id() {
        let dir = tempfile::tempdir().unwrap();
        let full = log(&[("b1", text("Erste")), ("b2", text("Zweite"))]);
        let fronts = read(&full, ["b1", "b2"].into_iter(), Cache::load(dir.path()));
        assert_eq!(title(&fronts, "b2").as_deref(), Some("Zweite"));
        assert_eq!(
            fronts.get("b2").unwrap().body_start,
            text("Zweite").find("Text.").unwrap()
        );

        // A log without the texts: the fronts can only come from the cache.
        let empty = log(&[]);
        let fronts = read(&empty, ["b1", "b2"].into_iter(), Cache::load(dir.path()));
        assert_eq!(title(&fronts, "b1").as_deref(), Some("Erste"));
        assert_eq!(title(&fronts, "b2").as_deref(), Some("Zweite"));
        // Without a cache folder nothing is kept.
        assert!(
            read(&empty, ["b1"].into_iter(), Cache::default())
                .get("b1")
                .is_none()
        );
    }

    #[test]
    fn versions_no_longer_referenced_leave_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let full = log(&[("b1", text("Erste")), ("b2", text("Zweite"))]);
        read(&full, ["b1", "b2"].into_iter(), Cache::load(dir.path()));
        read(&full, ["b1"].into_iter(), Cache::load(dir.path()));
        let empty = log(&[]);
        let fronts = read(&empty, ["b1", "b2"].into_iter(), Cache::load(dir.path()));
        assert_eq!(title(&fronts, "b1").as_deref(), Some("Erste"));
        assert!(fronts.get("b2").is_none());
    }

    #[test]
    fn versions_with_the_same_front_matter_share_it_in_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        // Two versions of one document whose text differs below the front matter, and another title.
        let same = text("Gleich");
        let full = log(&[
            ("b1", same.clone()),
            ("b2", format!("{same}Mehr Text.\n")),
            ("b3", text("Anders")),
        ]);
        read(
            &full,
            ["b1", "b2", "b3"].into_iter(),
            Cache::load(dir.path()),
        );
        let cached: Cached =
            cache::read(&dir.path().join(RECENT_FILE), &cache::program_stamp(FORMAT)).unwrap();
        assert_eq!(cached.metas.len(), 2, "one front matter per distinct value");
        assert_eq!(cached.entries.len(), 3);

        let empty = log(&[]);
        let fronts = read(
            &empty,
            ["b1", "b2", "b3"].into_iter(),
            Cache::load(dir.path()),
        );
        let meta = |blob| fronts.get(blob).unwrap().meta.clone().unwrap();
        assert!(Arc::ptr_eq(&meta("b1"), &meta("b2")));
        assert_eq!(meta("b3").title, "Anders");
        assert_ne!(
            fronts.get("b1").unwrap().text_hash,
            fronts.get("b2").unwrap().text_hash
        );
    }

    #[test]
    fn a_damaged_cache_is_parsed_again() {
        let dir = tempfile::tempdir().unwrap();
        let full = log(&[("b1", text("Erste"))]);
        read(&full, ["b1"].into_iter(), Cache::load(dir.path()));
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let file = file.unwrap().path();
            let mut bytes = std::fs::read(&file).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            std::fs::write(&file, bytes).unwrap();
        }
        assert!(
            read(&log(&[]), ["b1"].into_iter(), Cache::load(dir.path()))
                .get("b1")
                .is_none()
        );
        let fronts = read(&full, ["b1"].into_iter(), Cache::load(dir.path()));
        assert_eq!(title(&fronts, "b1").as_deref(), Some("Erste"));
    }

    #[test]
    fn new_versions_go_to_the_small_file_until_it_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = (0..=MAX_RECENT + 1).map(|i| format!("b{i}")).collect();
        let texts: Vec<(&str, String)> = ids
            .iter()
            .map(|id| (id.as_str(), text(&format!("Titel {id}"))))
            .collect();
        let full = log(&texts);
        let (first, last) = ids.split_at(MAX_RECENT + 1);
        read(
            &full,
            first.iter().map(String::as_str),
            Cache::load(dir.path()),
        );
        let all = std::fs::read(dir.path().join(FILE)).unwrap();
        assert!(!dir.path().join(RECENT_FILE).exists());

        // One more version: only the small file is written.
        read(
            &full,
            ids.iter().map(String::as_str),
            Cache::load(dir.path()),
        );
        assert_eq!(std::fs::read(dir.path().join(FILE)).unwrap(), all);
        assert!(dir.path().join(RECENT_FILE).is_file());
        let empty = log(&[]);
        let fronts = read(
            &empty,
            ids.iter().map(String::as_str),
            Cache::load(dir.path()),
        );
        assert!(
            ids.iter().all(|id| fronts.get(id).is_some()),
            "both files are read"
        );
        let newest = last[0].as_str();
        assert_eq!(title(&fronts, newest), Some(format!("Titel {newest}")));
    }
}
