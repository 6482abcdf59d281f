//! What a shard's native index was made of in the last build, kept beside its pack so that the next
//! build can update the index ([`super::update`]) instead of writing it anew: every page of the shard
//! in order with the key of its read data and whether it is in the index, and the index's
//! [`Layout`]. One checksummed file per shard; a damaged, foreign or outdated file is ignored.

use std::path::Path;

use super::codec::{decode_filters, decode_map, encode_filters, encode_map};
use super::write::{ChunkSummary, Layout, PageSummary};
use crate::search::store::{Decoder, Encoder, Key};

/// The first line of a state file; the version changes whenever the encoding does.
const MAGIC: &[u8] = b"regelwerk search index state 1\n";

/// A page of the shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePage {
    pub url: String,
    /// The key of the page's read data in the shard's store.
    pub key: Key,
    /// The page has `data-pagefind-body`.
    pub custom_body: bool,
    /// The page is in the index (it has words, and a body where any page has one).
    pub indexed: bool,
}

/// A shard's pages and its index's layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardState {
    /// What the index was made with (backend version and language): a state of another is not used.
    pub version: String,
    pub pages: Vec<StatePage>,
    pub layout: Layout,
}

impl ShardState {
    /// The state saved at `path`, if it is whole and of `version`.
    pub fn load(path: &Path, version: &str) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        let (sum, body) = bytes.strip_prefix(MAGIC)?.split_at_checked(32)?;
        if blake3::hash(body).as_bytes() != sum {
            return None;
        }
        let state = decode(body)?;
        (state.version == version).then_some(state)
    }

    /// Saves the state at `path` (a temporary file renamed into place).
    pub fn save(self, path: &Path, writes: &crate::cache::Writes) -> std::io::Result<()> {
        // Deferred (publish), it is encoded after the switch.
        writes.encoded(path, move || {
            let body = encode(&self);
            let mut bytes = Vec::with_capacity(MAGIC.len() + 32 + body.len());
            bytes.extend_from_slice(MAGIC);
            bytes.extend_from_slice(blake3::hash(&body).as_bytes());
            bytes.extend_from_slice(&body);
            Ok(bytes)
        })
    }
}

fn encode(state: &ShardState) -> Vec<u8> {
    let mut e = Encoder(Vec::with_capacity(state.pages.len() * 160 + 4096));
    e.str(&state.version);
    e.uint(state.pages.len() as u64);
    for page in &state.pages {
        e.str(&page.url);
        e.0.extend_from_slice(&page.key);
        e.bool(page.custom_body);
        e.bool(page.indexed);
    }
    let layout = &state.layout;
    e.uint(layout.pages.len() as u64);
    for page in &layout.pages {
        e.str(&page.fragment);
        e.0.extend_from_slice(&page.content);
        e.uint(page.word_count as u64);
        encode_filters(&mut e, &page.filters);
        encode_map(&mut e, &page.sort);
    }
    e.uint(layout.meta_fields.len() as u64);
    for field in &layout.meta_fields {
        e.str(field);
    }
    e.uint(layout.chunks.len() as u64);
    for chunk in &layout.chunks {
        e.str(&chunk.first);
        e.str(&chunk.last);
        e.str(&chunk.hash);
        e.0.extend_from_slice(&chunk.content);
    }
    e.0
}

fn key(d: &mut Decoder) -> Option<Key> {
    d.take(32)?.try_into().ok()
}

fn decode(bytes: &[u8]) -> Option<ShardState> {
    let mut d = Decoder::new(bytes);
    let version = d.str()?.to_string();
    let pages = (0..d.length()?)
        .map(|_| {
            Some(StatePage {
                url: d.str()?.to_string(),
                key: key(&mut d)?,
                custom_body: d.bool()?,
                indexed: d.bool()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let summaries = (0..d.length()?)
        .map(|_| {
            let fragment = d.str()?.to_string();
            let content = key(&mut d)?;
            let word_count = usize::try_from(d.uint()?).ok()?;
            let filters = decode_filters(&mut d)?;
            let sort = decode_map(&mut d)?;
            Some(PageSummary {
                fragment,
                content,
                word_count,
                filters,
                sort,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let meta_fields = (0..d.length()?)
        .map(|_| d.str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    let chunks = (0..d.length()?)
        .map(|_| {
            Some(ChunkSummary {
                first: d.str()?.to_string(),
                last: d.str()?.to_string(),
                hash: d.str()?.to_string(),
                content: key(&mut d)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let indexed = pages.iter().filter(|p| p.indexed).count();
    (d.is_empty() && indexed == summaries.len()).then_some(ShardState {
        version,
        pages,
        layout: Layout {
            pages: summaries,
            meta_fields,
            chunks,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_state_round_trips_and_damage_is_ignored() {
        let state = ShardState {
            version: "v1 de".into(),
            pages: vec![
                StatePage {
                    url: "/a/".into(),
                    key: [1; 32],
                    custom_body: true,
                    indexed: true,
                },
                StatePage {
                    url: "/b/".into(),
                    key: [2; 32],
                    custom_body: false,
                    indexed: false,
                },
            ],
            layout: Layout {
                pages: vec![PageSummary {
                    fragment: "de_abc".into(),
                    content: [3; 32],
                    word_count: 7,
                    filters: BTreeMap::from([("typ".into(), vec!["Leitlinie".into()])]),
                    sort: BTreeMap::from([("n".into(), "3".into())]),
                }],
                meta_fields: vec!["title".into()],
                chunks: vec![ChunkSummary {
                    first: "a".into(),
                    last: "z".into(),
                    hash: "de_123".into(),
                    content: [4; 32],
                }],
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.state");
        state
            .clone()
            .save(&path, &crate::cache::Writes::immediate())
            .unwrap();
        assert_eq!(ShardState::load(&path, "v1 de"), Some(state));
        assert_eq!(ShardState::load(&path, "v2 de"), None);
        let bytes = std::fs::read(&path).unwrap();
        for i in [0, MAGIC.len() + 3, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x20;
            std::fs::write(&path, &damaged).unwrap();
            assert_eq!(ShardState::load(&path, "v1 de"), None);
        }
        let body = &bytes[MAGIC.len() + 32..];
        assert!(decode(body).is_some());
        for cut in 0..body.len() {
            assert_eq!(decode(&body[..cut]), None);
        }
    }
}
