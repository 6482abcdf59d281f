//! History: the published revisions of the site's content, read from git.
//!
//! Every first-parent commit of the branch was published, so every commit that changed a document is a
//! *Stand* of it. The [`History`] trait hides where revisions come from; [`git::GitCli`] reads them with the
//! `git` program (`git log --first-parent --raw -z` plus one `git cat-file --batch`), which measured faster
//! than gix and git2 on a 2,000-commit repository (see ARCHITECTURE.md).

pub mod blobs;
pub mod git;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A first-parent commit that changed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The full commit id (40 hex digits). Shared: every Stand a commit made holds it.
    pub id: Arc<str>,
    /// Commit time, seconds since 1970 (UTC).
    pub time: i64,
    /// The author's e-mail address, only to look up a role in `[verlauf.autoren]`; never published.
    pub author_email: Arc<str>,
}

impl Commit {
    /// The first 12 hex digits: the commit's part of permalinks.
    pub fn short(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }

    /// The commit's calendar date (UTC).
    pub fn date(&self) -> NaiveDate {
        DateTime::<Utc>::from_timestamp(self.time, 0)
            .map(|dt| dt.date_naive())
            .unwrap_or_default()
    }

    /// The commit time as RFC 3339, for feeds.
    pub fn rfc3339(&self) -> String {
        DateTime::<Utc>::from_timestamp(self.time, 0)
            .map(|dt| dt.to_rfc3339())
            .unwrap_or_default()
    }
}

/// One file as a commit left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Path relative to the site root, with `/`.
    pub path: String,
    /// The blob id of the new content; `None` when the commit deleted the file.
    pub blob: Option<String>,
}

/// A commit and the content files it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub commit: Commit,
    pub changes: Vec<FileChange>,
}

/// How complete the history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Every first-parent commit is available.
    Full,
    /// A shallow clone: older commits are missing.
    Shallow,
    /// The site is not in a git repository (or git is not installed): no history at all.
    None(String),
}

/// The revisions of a site, oldest first, and the contents of the file versions they reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub completeness: Completeness,
    /// Oldest first.
    pub revisions: Vec<Revision>,
    /// The contents of every blob the revisions reference, read on demand.
    pub blobs: Arc<blobs::Blobs>,
}

impl Log {
    /// A log without any revision (no repository).
    pub fn empty(reason: impl Into<String>) -> Self {
        Log {
            completeness: Completeness::None(reason.into()),
            revisions: Vec::new(),
            blobs: Arc::default(),
        }
    }
}

/// A source of revisions.
pub trait History {
    /// The revisions that changed files under `dirs` (site-relative folders), oldest first, with contents.
    fn log(&self, dirs: &[&str]) -> Log;
}

/// Where history comes from for a site root: git when the root is inside a repository, with the log
/// kept in [`git::CACHE_DIR`] so that a build reads only the commits since the last one.
pub fn for_site(root: &std::path::Path) -> git::GitCli {
    git::GitCli::new(root).with_cache(root.join(git::CACHE_DIR))
}
