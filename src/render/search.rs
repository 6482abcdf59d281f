//! The search page (`suche/`). It has no content of its own: `static/js/search.js` queries the index
//! the search stage writes to `pagefind/` (see [`crate::search`]).

use crate::render::{PageJob, Shared};

/// The search page's site path.
pub(crate) const PAGE: &str = "suche/";

/// Site paths this module generates.
pub(crate) const GENERATED: &[&str] = &[PAGE];

pub(crate) fn jobs(shared: &Shared) -> Vec<PageJob> {
    vec![shared.job("search.html", PAGE, |_| {})]
}
