//! The front matter of every guideline version in the history: parsed once per blob, in parallel, and kept
//! between builds by blob id in the history cache ([`FILE`]). A git blob id is the hash of the text, so an
//! entry never goes stale; the file is stamped with the program that parsed it (rules may change).
//!
//! A build after one more commit parses only the front matter of the versions that commit added, instead
//! of every version in the history.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache;
use crate::content::frontmatter;
use crate::content::guideline::{self, GuidelineMeta};
use crate::diagnostics::SourceText;
use crate::history::Log;

/// The cache file, in the history cache folder.
pub const FILE: &str = "fronts.bin";
/// Raised when the file's layout changes.
const FORMAT: u32 = 1;

/// The front matter of a guideline version.
#[derive(Debug, Clone)]
pub struct Front {
    /// `None` when the front matter is not valid under today's rules.
    pub meta: Option<Arc<GuidelineMeta>>,
    /// Byte offset of the body in the text.
    pub body_start: usize,
}

/// What the cache file holds: blob id, front matter, body offset.
type Cached = Vec<(String, Option<GuidelineMeta>, usize)>;

/// The front matter of every guideline version `log` references (blob id → front), taken from the cache
/// in `cache_dir` where it has them and parsed otherwise; the cache is rewritten when it lacked some or
/// held others. Versions whose text is missing are left out.
pub fn read<'a>(
    log: &'a Log,
    blobs: impl Iterator<Item = &'a str>,
    cache_dir: Option<&Path>,
) -> HashMap<&'a str, Front> {
    let wanted: std::collections::HashSet<&str> = blobs.collect();
    let mut cached: HashMap<String, Front> = cache_dir
        .and_then(|dir| cache::read::<Cached>(&dir.join(FILE), &cache::program_stamp(FORMAT)))
        .unwrap_or_default()
        .into_iter()
        .map(|(blob, meta, body_start)| {
            let front = Front {
                meta: meta.map(Arc::new),
                body_start,
            };
            (blob, front)
        })
        .collect();
    let stale = cached.len();
    let mut fronts: HashMap<&str, Front> = HashMap::with_capacity(wanted.len());
    let mut missing: Vec<&str> = Vec::new();
    for blob in wanted {
        match cached.remove(blob) {
            Some(front) => {
                fronts.insert(blob, front);
            }
            None => missing.push(blob),
        }
    }
    let unused = stale - fronts.len();
    let parsed: Vec<(&str, Front)> = missing
        .into_par_iter()
        .filter_map(|blob| Some((blob, parse(log.blobs.bytes(blob)?)?)))
        .collect();
    let changed = !parsed.is_empty() || unused > 0;
    fronts.extend(parsed);
    if changed && let Some(dir) = cache_dir {
        let entries: Cached = fronts
            .iter()
            .map(|(blob, front)| {
                let meta = front.meta.as_deref().cloned();
                (blob.to_string(), meta, front.body_start)
            })
            .collect();
        // A cache that cannot be written only costs the next build time.
        let _ = cache::write(&dir.join(FILE), &cache::program_stamp(FORMAT), &entries);
    }
    fronts
}

/// The front matter of one version's text; `None` if it has none.
fn parse(bytes: &[u8]) -> Option<Front> {
    let head = frontmatter::head(bytes)?;
    let split = frontmatter::locate(head)?;
    // The path is only for diagnostics, which are not reported for earlier versions.
    let front = SourceText::new("", head);
    let (meta, _) = guideline::read_meta(&front, split.toml, split.opening);
    Some(Front {
        meta: meta.map(Arc::new),
        body_start: split.body_start,
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

    fn title(fronts: &HashMap<&str, Front>, blob: &str) -> Option<String> {
        fronts.get(blob)?.meta.as_ref().map(|m| m.title.clone())
    }

    #[test]
    fn parses_each_version_once_and_keeps_it_by_blob_id() {
        let dir = tempfile::tempdir().unwrap();
        let full = log(&[("b1", text("Erste")), ("b2", text("Zweite"))]);
        let fronts = read(&full, ["b1", "b2"].into_iter(), Some(dir.path()));
        assert_eq!(title(&fronts, "b2").as_deref(), Some("Zweite"));
        assert_eq!(
            fronts["b2"].body_start,
            text("Zweite").find("Text.").unwrap()
        );

        // A log without the texts: the fronts can only come from the cache.
        let empty = log(&[]);
        let fronts = read(&empty, ["b1", "b2"].into_iter(), Some(dir.path()));
        assert_eq!(title(&fronts, "b1").as_deref(), Some("Erste"));
        assert_eq!(title(&fronts, "b2").as_deref(), Some("Zweite"));
        // Without a cache folder nothing is kept.
        assert!(read(&empty, ["b1"].into_iter(), None).is_empty());
    }

    #[test]
    fn versions_no_longer_referenced_leave_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let full = log(&[("b1", text("Erste")), ("b2", text("Zweite"))]);
        read(&full, ["b1", "b2"].into_iter(), Some(dir.path()));
        read(&full, ["b1"].into_iter(), Some(dir.path()));
        let empty = log(&[]);
        let fronts = read(&empty, ["b1", "b2"].into_iter(), Some(dir.path()));
        assert_eq!(title(&fronts, "b1").as_deref(), Some("Erste"));
        assert!(!fronts.contains_key("b2"));
    }

    #[test]
    fn a_damaged_cache_is_parsed_again() {
        let dir = tempfile::tempdir().unwrap();
        let full = log(&[("b1", text("Erste"))]);
        read(&full, ["b1"].into_iter(), Some(dir.path()));
        let file = dir.path().join(FILE);
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&file, bytes).unwrap();
        assert!(read(&log(&[]), ["b1"].into_iter(), Some(dir.path())).is_empty());
        let fronts = read(&full, ["b1"].into_iter(), Some(dir.path()));
        assert_eq!(title(&fronts, "b1").as_deref(), Some("Erste"));
    }
}
