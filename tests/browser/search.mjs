// Browser tests of the site search (suche/) against the built Lüneburg site: German queries, filters,
// accessibility, 320 px, and the search box in every page's header.
//
//   REGELWERK_URL=http://127.0.0.1:1199/ node --test tests/browser/search.mjs
//
// scripts/test runs it after run.mjs. Same browser and launch options as run.mjs.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CHROMIUM, LAUNCH_OPTIONS, PAGES } from './run.mjs';

const require = createRequire(import.meta.url);
const TIMEOUT = 60_000;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

// Each query and the page it must find: first (within: 1) or among the first three (within: 3).
// `mark`: a word the result's excerpts must highlight (shows that the hit came from the expansion and
// that the excerpt points at the visible word). `section`: a heading id a hit must jump to.
const QUERIES = [
  // Hyphenated compound: Pagefind's own splitting.
  { query: 'Folgenabschätzung', page: '/leitlinien/datenschutz-ki-vo/', within: 1, section: 'dsfa' },
  // Closed compound split by the decompounder: „Risikoklassifizierung“ in sicherer-einsatz.
  { query: 'Klassifizierung', page: '/leitlinien/sicherer-einsatz/', within: 3, mark: /Risikoklassifizierung/ },
  // Closed compound: „Drittlandübermittlungen“; and the umlaut spelling with ue.
  { query: 'Uebermittlung', page: '/leitlinien/datenschutz-ki-vo/', within: 1, mark: /Übermittlung/ },
  // Glossary: „Risiko“ finds „Risiken“ (the stem of the singular does not reach the plural).
  { query: 'Risiko', page: '/leitlinien/grundsaetze/', within: 3, mark: /^Risiken/ },
  { query: 'Haftung', page: '/leitlinien/verantwortung-haftung/', within: 1 },
  { query: 'Drittland', page: '/leitlinien/datenschutz-ki-vo/', within: 1 },
  { query: 'Schulung', page: '/leitlinien/schulung/', within: 1 },
  { query: 'Impressum', page: '/seiten/impressum/', within: 3 },
  // Register entries and responsibility pages are searchable too.
  { query: 'LLMoin', page: '/register/llmoin/', within: 1 },
  { query: 'BärGPT', page: '/register/baergpt/', within: 1 },
];

function baseUrl() {
  const raw = process.env.REGELWERK_URL;
  if (!raw) throw new Error('REGELWERK_URL is not set: start `regelwerk serve` and set REGELWERK_URL (scripts/test does both)');
  const url = new URL(raw);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

const pageUrl = (path) => new URL(path.replace(/^\//, ''), baseUrl()).href;

let browserPromise;
async function browser() {
  if (!browserPromise) {
    const { chromium } = await import('playwright-core');
    browserPromise = chromium.launch(LAUNCH_OPTIONS);
  }
  return browserPromise;
}

after(async () => {
  if (browserPromise) {
    const b = await browserPromise.catch(() => null);
    if (b) await b.close();
  }
});

async function withPage(options, fn) {
  const b = await browser();
  const context = await b.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  page.on('pageerror', (err) => errors.push(String(err)));
  try {
    return await fn(page, errors);
  } finally {
    await context.close();
  }
}

// Waits until the search page has answered more than `after` searches (search.js counts them in
// data-searches when the results and the live region are updated).
async function waitForResults(page, after = 0) {
  await page.waitForFunction(
    (n) => Number(document.getElementById('rw-suche')?.dataset.searches || 0) > n,
    after,
  );
  return page.evaluate(() => ({
    status: document.getElementById('rw-suche-status').textContent.trim(),
    results: [...document.querySelectorAll('#rw-suche-liste > li')].map((li) => ({
      href: li.querySelector('h3 a').href,
      title: li.querySelector('h3 a').textContent.trim(),
      marks: [...li.querySelectorAll('mark')].map((m) => m.textContent.trim()),
      sections: [...li.querySelectorAll('.search-result__sections a')].map((a) => a.href),
    })),
  }));
}

async function search(page, query, filters = {}) {
  const params = new URLSearchParams(query ? { q: query } : {});
  for (const [name, value] of Object.entries(filters)) params.append(name, value);
  await page.goto(pageUrl(`/suche/?${params}`));
  return waitForResults(page);
}

const describeResults = (results) => results.map((r, i) => `${i + 1}. ${r.href} [${r.marks.join(', ')}]`).join('\n  ');

describe('German queries find their pages', { timeout: TIMEOUT * QUERIES.length }, () => {
  for (const q of QUERIES) {
    test(`„${q.query}“ finds ${q.page} ${q.within === 1 ? 'first' : `within the top ${q.within}`}`, { timeout: TIMEOUT }, async () => {
      await withPage({}, async (page, errors) => {
        const { results } = await search(page, q.query);
        const want = pageUrl(q.page);
        const rank = results.findIndex((r) => r.href === want);
        assert.ok(rank >= 0 && rank < q.within, `${want} is not within the top ${q.within} for „${q.query}“:\n  ${describeResults(results)}`);
        const hit = results[rank];
        if (q.mark) {
          assert.ok(hit.marks.some((m) => q.mark.test(m)), `no highlighted word matching ${q.mark} for „${q.query}“ on ${want}: ${JSON.stringify(hit.marks)}`);
        } else {
          assert.ok(hit.marks.length > 0, `no highlighted word for „${q.query}“ on ${want}`);
        }
        if (q.section) {
          assert.ok(hit.sections.includes(`${want}#${q.section}`), `no link to the section #${q.section}: ${JSON.stringify(hit.sections)}`);
        }
        assert.deepEqual(errors, [], 'console errors on the search page');
      });
    });
  }
});

describe('filters', { timeout: TIMEOUT * 3 }, () => {
  test('an empty query with the type filter „Leitlinie“ lists every guideline', { timeout: TIMEOUT }, async () => {
    await withPage({}, async (page) => {
      await page.goto(pageUrl('/leitlinien/'));
      const guidelines = await page.$$eval('main a[href]', (as) =>
        [...new Set(as.map((a) => a.href).filter((h) => /\/leitlinien\/[^/]+\/$/.test(new URL(h).pathname)))]);
      assert.ok(guidelines.length >= 5, `the guideline index lists only ${guidelines.length} guidelines`);

      const { status, results } = await search(page, '', { typ: 'Leitlinie' });
      assert.deepEqual(results.map((r) => r.href).sort(), guidelines.sort(), 'the filter does not list exactly the guidelines');
      assert.match(status, new RegExp(`^${guidelines.length} `), `the live region does not announce ${guidelines.length} results`);
      const label = await page.locator('#rw-suche-filter label', { hasText: 'Leitlinie' }).innerText();
      assert.match(label, new RegExp(`\\(${guidelines.length}\\)`), `the filter does not show the count: ${label}`);
      assert.ok(await page.locator('#rw-suche-filter input[value="Leitlinie"]').isChecked());
    });
  });

  test('register filters: type „Register“ and hosting „Öffentlich-rechtlicher IT-Dienstleister“', { timeout: TIMEOUT }, async () => {
    await withPage({}, async (page) => {
      const all = await search(page, '', { typ: 'Register' });
      const entries = all.results.map((r) => new URL(r.href).pathname).sort();
      assert.deepEqual(entries, ['/register/baergpt/', '/register/f13/', '/register/kipitz/', '/register/llmoin/'],
        `the type filter „Register“ lists: ${entries.join(', ')}`);
      const narrowed = await search(page, '', { typ: 'Register', hosting: 'Öffentlich-rechtlicher IT-Dienstleister' });
      const paths = narrowed.results.map((r) => new URL(r.href).pathname);
      assert.ok(paths.length >= 1 && paths.length < entries.length, `hosting narrows the register: ${paths.join(', ')}`);
      assert.ok(paths.every((p) => p.startsWith('/register/')), `only register entries: ${paths.join(', ')}`);
      const label = await page.locator('#rw-suche-filter label', { hasText: 'Öffentlich-rechtlicher IT-Dienstleister' }).innerText();
      assert.match(label, /\(\d+\)/, `the hosting filter shows no count: ${label}`);
    });
  });

  test('keyboard only: type, Enter, then narrow with a filter checkbox and Space', { timeout: TIMEOUT }, async () => {
    await withPage({}, async (page) => {
      await page.goto(pageUrl('/suche/'));
      await waitForResults(page);
      const searches = () => page.evaluate(() => Number(document.getElementById('rw-suche').dataset.searches));
      await page.locator('#rw-suche-q').focus();
      await page.keyboard.type('Datenschutz');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('#rw-suche-liste > li').length > 0);
      const all = await waitForResults(page, 0);
      assert.ok(all.results.length > 1, `„Datenschutz“ found ${all.results.length} results`);
      assert.ok(new URL(page.url()).searchParams.get('q') === 'Datenschutz', `the address does not keep the query: ${page.url()}`);

      await page.locator('#rw-suche-filter input[value="Seite"]').focus();
      const before = await searches();
      await page.keyboard.press('Space');
      const pages = await waitForResults(page, before);
      assert.ok(pages.results.length > 0, 'no generic page for „Datenschutz“');
      for (const r of pages.results) {
        assert.ok(!/\/leitlinien\//.test(r.href), `the filter „Seite“ lets a guideline through: ${r.href}`);
      }
      assert.match(pages.status, /Treffer/);
      assert.equal(await page.getAttribute('#rw-suche-status', 'role'), 'status');
    });
  });
});

describe('the search page', { timeout: TIMEOUT * 4 }, () => {
  test('has no axe violations with results and filters shown', { timeout: TIMEOUT }, async () => {
    await withPage({ bypassCSP: true }, async (page) => {
      await search(page, 'Datenschutz-Folgenabschätzung');
      await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
      const result = await page.evaluate(
        (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
        AXE_TAGS,
      );
      const summary = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(summary, [], 'axe violations on the search page with results');
    });
  });

  test('no horizontal overflow at 320 px with results', { timeout: TIMEOUT }, async () => {
    await withPage({ viewport: { width: 320, height: 640 } }, async (page) => {
      await search(page, 'Risikoklassifizierung');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 320, `the search page is ${width} px wide at 320 px`);
    });
  });

  test('without JavaScript it says so and links to the overviews', { timeout: TIMEOUT }, async () => {
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await page.goto(pageUrl('/suche/?q=Haftung'));
      const note = page.locator('#rw-suche-ohne-js');
      assert.ok(await note.isVisible(), 'the note for browsers without JavaScript is not shown');
      assert.match(await note.innerText(), /JavaScript/);
      const links = await note.locator('a').evaluateAll((as) => as.map((a) => a.href));
      assert.ok(links.includes(pageUrl('/leitlinien/')), `no link to the guideline index: ${JSON.stringify(links)}`);
    });
  });

  test('loads the index from its own host only, and Pagefind\'s WebAssembly once', { timeout: TIMEOUT }, async () => {
    await withPage({}, async (page) => {
      const requests = [];
      page.on('request', (r) => requests.push(r.url()));
      await search(page, 'Haftung');
      const foreign = requests.filter((u) => new URL(u).host !== baseUrl().host);
      assert.deepEqual(foreign, []);
      assert.equal(requests.filter((u) => /\.pagefind(\?|$)/.test(u) && /wasm\./.test(u)).length, 1, requests.join('\n'));
    });
  });
});

describe('the header search box', { timeout: TIMEOUT * PAGES.length }, () => {
  for (const p of PAGES.filter((p) => p.status === 200 && p.path !== '/suche/')) {
    test(`on ${p.name} (${p.path}) submits to the search page`, { timeout: TIMEOUT }, async () => {
      await withPage({}, async (page) => {
        await page.goto(pageUrl(p.path));
        const input = page.locator('header form[role="search"] input[name="q"]');
        assert.equal(await input.count(), 1, 'no search box in the header');
        const label = await page.locator('header form[role="search"] label').innerText();
        assert.ok(label.trim().length > 0, 'the header search box has no visible label');
        await input.focus();
        await page.keyboard.type('Haftung');
        await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/suche/')), page.keyboard.press('Enter')]);
        assert.equal(new URL(page.url()).searchParams.get('q'), 'Haftung');
        const { results } = await waitForResults(page);
        assert.ok(results.length > 0, 'the search page shows no results for the header query');
      });
    });
  }
});

test('Chromium is the one run.mjs uses', () => {
  assert.equal(LAUNCH_OPTIONS.executablePath, CHROMIUM);
});
