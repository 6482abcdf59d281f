// Measures what a browser downloads for a first search query (BENCHMARKS.md, "Search"): the bytes of
// every response under the index folder, from opening the search until ten results are shown.
// Not part of the test suite.
//
//   node tests/browser/bench-search.mjs <page URL> [<page URL> …]
//
// Each URL is a page that searches on load: regelwerk's /suche/?q=…, or a harness page for an index
// built by the Pagefind CLI (see BENCHMARKS.md). Prints one JSON line per URL.

import { LAUNCH_OPTIONS } from './run.mjs';

const { chromium } = await import('playwright-core');
const browser = await chromium.launch(LAUNCH_OPTIONS);
try {
  for (const url of process.argv.slice(2)) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const responses = [];
    page.on('response', (r) => responses.push(r));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.searchDone === '1' ||
      (document.getElementById('rw-suche-status') && /\d|Keine/.test(document.getElementById('rw-suche-status').textContent)),
    null, { timeout: 60_000 });
    await page.waitForLoadState('networkidle');
    let bytes = 0;
    let requests = 0;
    const byKind = {};
    for (const r of responses) {
      const path = new URL(r.url()).pathname;
      if (!/\/pagefind/.test(path)) continue;
      const body = await r.body().catch(() => Buffer.alloc(0));
      bytes += body.length;
      requests += 1;
      const kind = path.match(/\.(pf_\w+|pagefind|js|json)$/)?.[1] ?? 'other';
      byKind[kind] = (byKind[kind] ?? 0) + body.length;
    }
    const results = await page.evaluate(() => document.querySelectorAll('#rw-suche-liste > li, #results > li').length);
    console.log(JSON.stringify({ url, requests, bytes, byKind, results }));
    await context.close();
  }
} finally {
  await browser.close();
}
