//! The [`SearchIndex`] implementation with Pagefind's library API (`pagefind::api::PagefindIndex`).
//!
//! Pagefind is asynchronous; each index runs on its own small current-thread tokio runtime, so indexes of
//! different shards can be built on different threads. Pagefind ships its browser runtime (JS, WASM)
//! inside the crate: nothing is downloaded, at build time or in the browser.

use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;

use crate::search::{Backend, IndexFile, SearchError, SearchIndex};

/// Pagefind's version: part of every cache key, so an upgrade reindexes everything.
pub const VERSION: &str = "pagefind-1.6.0";

/// Builds Pagefind indexes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pagefind;

impl Backend for Pagefind {
    fn id(&self) -> &str {
        VERSION
    }

    fn new_index(&self, language: &str) -> Result<Box<dyn SearchIndex>, SearchError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| SearchError(format!("tokio: {e}")))?;
        let options = PagefindServiceConfig::builder()
            .force_language(language.to_string())
            .keep_index_url(false)
            .build();
        let index = PagefindIndex::new(Some(options)).map_err(|e| SearchError(e.to_string()))?;
        Ok(Box::new(PagefindShard { runtime, index }))
    }
}

struct PagefindShard {
    runtime: tokio::runtime::Runtime,
    index: PagefindIndex,
}

impl SearchIndex for PagefindShard {
    fn add_page(&mut self, url: &str, html: String) -> Result<(), SearchError> {
        self.runtime
            .block_on(self.index.add_html_file(None, Some(url.to_string()), html))
            .map(|_| ())
            .map_err(|e| SearchError(format!("{url}: {e}")))
    }

    fn files(mut self: Box<Self>) -> Result<Vec<IndexFile>, SearchError> {
        let files = self
            .runtime
            .block_on(self.index.get_files())
            .map_err(|e| SearchError(e.to_string()))?;
        // Paths are inside Pagefind's bundle folder; the entry file sits at its top.
        let bundle = files
            .iter()
            .find(|f| f.filename.ends_with("pagefind-entry.json"))
            .and_then(|f| f.filename.parent().map(|p| p.to_path_buf()))
            .ok_or_else(|| SearchError("Pagefind wrote no pagefind-entry.json".into()))?;
        let mut out: Vec<IndexFile> = files
            .into_iter()
            .filter_map(|f| {
                let relative = f.filename.strip_prefix(&bundle).ok()?;
                let path = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                Some(IndexFile::new(path, f.contents))
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}
