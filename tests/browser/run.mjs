// Browser tests for the site regelwerk builds: accessibility (axe), 320 px reflow,
// no third-party requests, no cookies or storage, no console errors (CSP), navigation.
//
//   REGELWERK_URL=http://127.0.0.1:1199/ node --test tests/browser/run.mjs
//
// scripts/test builds the repo's own site, serves it and runs this file.
// The browser is Debian's Chromium (/usr/bin/chromium); never one downloaded by npm.

// Pages every check runs on. Add new page types here (register, RACI, search, …).
// path: relative to REGELWERK_URL; status: expected HTTP status, or null to only load the page.
export const PAGES = process.env.REGELWERK_PAGES
  // REGELWERK_PAGES=/a/,/b/ replaces the list (scripts/test tests a second site, one with version history).
  ? process.env.REGELWERK_PAGES.split(',').filter(Boolean).map((path) => ({ name: path, path, status: 200 }))
  : [
    { name: 'home', path: '/', status: 200 },
    { name: 'guideline index', path: '/leitlinien/', status: 200 },
    { name: 'guideline', path: '/leitlinien/governance/', status: 200 },
    { name: 'generic page', path: '/seiten/impressum/', status: 200 },
    { name: 'motion page', path: '/antrag/', status: 200 },
    { name: 'responsibility index', path: '/verantwortung/', status: 200 },
    { name: 'responsibility matrix', path: '/verantwortung/ki-lebenszyklus/', status: 200 },
    { name: 'role page', path: '/rollen/ki-beauftragte/', status: 200 },
    { name: 'register index', path: '/register/', status: 200 },
    { name: 'register facet', path: '/register/status/planned/', status: 200 },
    { name: 'register entry', path: '/register/llmoin/', status: 200 },
    { name: 'search page', path: '/suche/', status: 200 },
    { name: 'changes', path: '/aenderungen/', status: 200 },
    { name: 'versions of a guideline', path: '/leitlinien/governance/fassungen/', status: 200 },
    { name: '404 page', path: '/404.html', status: null },
  ];

// REGELWERK_ALL_PAGES=1 adds every page listed in the site's sitemap.xml (slower; for a full sweep).
if (process.env.REGELWERK_ALL_PAGES === '1' && process.env.REGELWERK_URL) {
  const base = new URL(process.env.REGELWERK_URL);
  const xml = await fetch(new URL('sitemap.xml', base)).then((r) => r.text());
  for (const [, loc] of xml.matchAll(/<loc>([^<]+)<\/loc>/g)) {
    const decoded = loc
      .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(Number(d)))
      .replace(/&amp;/g, '&');
    const path = new URL(decoded).pathname.slice(base.pathname.length - 1);
    if (!PAGES.some((p) => p.path === path)) PAGES.push({ name: path, path, status: 200 });
  }
}

// Links the footer of every page must carry (DOMAIN.md §7): matched on link text or address.
const LEGAL_LINKS = [
  { name: 'Impressum', pattern: /impressum/i },
  { name: 'Datenschutz', pattern: /datenschutz/i },
  { name: 'Barrierefreiheit', pattern: /barrierefreiheit/i },
];

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

export const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_OPTIONS = {
  executablePath: CHROMIUM,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

import { test as nodeTest, describe as nodeDescribe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// Other test files (search.mjs) import PAGES and LAUNCH_OPTIONS from here: the tests of this file are
// registered only when it is the file node runs.
const IS_MAIN = Boolean(process.argv[1]) && import.meta.url === pathToFileURL(process.argv[1]).href;
const test = IS_MAIN ? nodeTest : () => {};
const describe = IS_MAIN ? nodeDescribe : () => {};

const require = createRequire(import.meta.url);
const TEST_TIMEOUT = 60_000;
const NAV_TIMEOUT = 30_000;

// ---------------------------------------------------------------------------------------------
// Set-up shared by all tests. Failures here surface in every test that needs them, never as skips.

function baseUrl() {
  const raw = process.env.REGELWERK_URL;
  if (!raw) {
    throw new Error('REGELWERK_URL is not set: start `regelwerk serve` and set REGELWERK_URL=http://127.0.0.1:PORT/ (scripts/test does both)');
  }
  const url = new URL(raw);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function pageUrl(path) {
  return new URL(path.replace(/^\//, ''), baseUrl()).href;
}

function chromiumMissingMessage() {
  const how = 'install it with `apt-get install -y chromium` (scripts/test does this)';
  return process.env.CI === 'true'
    ? `Chromium not found at ${CHROMIUM} on CI: the CI run must install it first; ${how}`
    : `Chromium not found at ${CHROMIUM}: ${how}`;
}

let browserPromise;
async function browser() {
  if (!existsSync(CHROMIUM)) throw new Error(chromiumMissingMessage());
  if (!browserPromise) {
    const { chromium } = await import('playwright-core');
    browserPromise = chromium.launch(LAUNCH_OPTIONS);
  }
  return browserPromise;
}

(IS_MAIN ? after : () => {})(async () => {
  if (browserPromise) {
    const b = await browserPromise.catch(() => null);
    if (b) await b.close();
  }
});

function memo(fn) {
  let p;
  return () => (p ??= fn());
}

// Loads a page in a normal context (CSP enforced) and records everything the tests look at.
async function visit(path, { width = 1280, height = 900 } = {}) {
  const b = await browser();
  const context = await b.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultNavigationTimeout(NAV_TIMEOUT);
  const url = pageUrl(path);
  const record = { url, requests: [], setCookies: [], consoleErrors: [], pageErrors: [] };
  const pending = [];
  page.on('request', (req) => record.requests.push(req.url()));
  page.on('response', (res) => {
    pending.push(
      res.headersArray().then((headers) => {
        for (const h of headers) {
          if (h.name.toLowerCase() === 'set-cookie') record.setCookies.push(`${res.url()}: ${h.value}`);
        }
      }).catch(() => {}),
    );
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      record.consoleErrors.push({ text: msg.text(), url: loc && loc.url });
    }
  });
  page.on('pageerror', (err) => record.pageErrors.push(String(err)));
  try {
    const response = await page.goto(url, { waitUntil: 'load' });
    record.status = response ? response.status() : null;
    await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
    await Promise.all(pending);
    record.documentCookie = await page.evaluate(() => document.cookie);
    record.storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
    record.contextCookies = await context.cookies();
    record.footerLinks = await page.$$eval('footer a[href]', (as) =>
      as.map((a) => ({ text: a.textContent.replace(/\s+/g, ' ').trim(), href: a.href })));
    record.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    record.overflowing = await page.evaluate((w) => {
      // The outermost elements that stick out on the right, for a readable failure message.
      const out = [];
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > w + 0.5 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > w + 0.5)) {
          const id = el.id ? `#${el.id}` : '';
          const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
          out.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)} px): ${el.textContent.trim().slice(0, 60)}`);
        }
        if (out.length >= 10) break;
      }
      return out;
    }, width);
  } finally {
    await context.close();
  }
  return record;
}

// Runs axe-core in a context that bypasses the page's CSP, only so that axe can be injected.
async function runAxe(path) {
  const b = await browser();
  const context = await b.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    page.setDefaultNavigationTimeout(NAV_TIMEOUT);
    await page.goto(pageUrl(path), { waitUntil: 'load' });
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    return await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      AXE_TAGS,
    );
  } finally {
    await context.close();
  }
}

function formatViolations(violations) {
  return violations.map((v) => {
    const nodes = v.nodes.slice(0, 8).map((n) => {
      const summary = (n.failureSummary || '').split('\n').map((l) => `        ${l}`).join('\n');
      return `    - ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n${summary}`;
    }).join('\n');
    const more = v.nodes.length > 8 ? `\n    … and ${v.nodes.length - 8} more` : '';
    return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}${more}`;
  }).join('\n\n');
}

function isSameHost(requestUrl) {
  const u = new URL(requestUrl);
  if (['data:', 'blob:', 'about:'].includes(u.protocol)) return true;
  return u.host === baseUrl().host;
}

// ---------------------------------------------------------------------------------------------

test('Chromium is installed at /usr/bin/chromium', () => {
  assert.ok(existsSync(CHROMIUM), chromiumMissingMessage());
});

for (const p of PAGES) {
  describe(`${p.name} (${p.path})`, { timeout: TEST_TIMEOUT * 4 }, () => {
    const desktop = memo(() => visit(p.path));
    const narrow = memo(() => visit(p.path, { width: 320, height: 640 }));
    const both = async () => [await desktop(), await narrow()];

    test(p.status === null ? 'loads' : `loads with HTTP ${p.status}`, { timeout: TEST_TIMEOUT }, async () => {
      const r = await desktop();
      if (p.status !== null) assert.equal(r.status, p.status, `${r.url} answered HTTP ${r.status}`);
      else assert.ok(r.status !== null, `${r.url} gave no response`);
    });

    test('has no axe violations (WCAG 2.2 AA, best practice)', { timeout: TEST_TIMEOUT }, async () => {
      const result = await runAxe(p.path);
      const v = result.violations;
      if (v.length) console.log(`\naxe violations on ${pageUrl(p.path)}:\n${formatViolations(v)}\n`);
      assert.equal(v.length, 0, `${v.length} axe violation(s) on ${pageUrl(p.path)}:\n${formatViolations(v)}`);
    });

    test('footer links to Impressum, Datenschutz and Barrierefreiheit', { timeout: TEST_TIMEOUT }, async () => {
      const r = await desktop();
      for (const want of LEGAL_LINKS) {
        const found = r.footerLinks.find((l) => want.pattern.test(l.text) || want.pattern.test(l.href));
        assert.ok(found, `no ${want.name} link in the footer of ${r.url}; footer links: ${JSON.stringify(r.footerLinks)}`);
        assert.ok(isSameHost(found.href), `${want.name} link points off-site: ${found.href}`);
      }
    });

    test('no horizontal overflow at 320 px width', { timeout: TEST_TIMEOUT }, async () => {
      const r = await narrow();
      assert.ok(
        r.scrollWidth <= 320,
        `document is ${r.scrollWidth} px wide at a 320 px viewport on ${r.url}; sticking out:\n  ${r.overflowing.join('\n  ')}`,
      );
    });

    test('makes requests only to its own host, sets no cookies, stores nothing', { timeout: TEST_TIMEOUT }, async () => {
      for (const r of await both()) {
        const foreign = r.requests.filter((u) => !isSameHost(u));
        assert.deepEqual(foreign, [], `requests to other hosts than ${baseUrl().host} from ${r.url}`);
        assert.deepEqual(r.setCookies, [], `Set-Cookie in responses for ${r.url}`);
        assert.equal(r.documentCookie, '', `document.cookie is not empty on ${r.url}`);
        assert.deepEqual(r.contextCookies, [], `the browser holds cookies after visiting ${r.url}`);
        assert.deepEqual(r.storage, { local: 0, session: 0 }, `localStorage/sessionStorage used on ${r.url}`);
      }
    });

    test('logs no console errors (including CSP violations) and throws no page errors', { timeout: TEST_TIMEOUT }, async () => {
      for (const r of await both()) {
        // A page loaded without a status check (the 404 page) may itself answer 404; Chromium logs that.
        const errors = r.consoleErrors.filter((e) =>
          !(p.status === null && e.url === r.url && /Failed to load resource/.test(e.text)));
        assert.deepEqual(errors.map((e) => `${e.text}${e.url ? ` (${e.url})` : ''}`), [], `console errors on ${r.url}`);
        assert.deepEqual(r.pageErrors, [], `uncaught page errors on ${r.url}`);
      }
    });
  });
}

describe('navigation', { timeout: TEST_TIMEOUT * 3 }, () => {
  test('home → guideline index → guideline via links; the h1 matches the link text', { timeout: TEST_TIMEOUT }, async () => {
    const b = await browser();
    const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(NAV_TIMEOUT);
      await page.goto(pageUrl('/'));
      const indexHref = pageUrl('/leitlinien/');

      // The main navigation is the header nav; find its link to the guideline index.
      const navLinks = page.locator('header nav a[href]');
      const hrefs = await navLinks.evaluateAll((as) => as.map((a) => a.href));
      const i = hrefs.indexOf(indexHref);
      assert.ok(i >= 0, `no link to ${indexHref} in the header navigation; found ${JSON.stringify(hrefs)}`);
      const navLink = navLinks.nth(i);
      const navText = (await navLink.innerText()).trim();
      await Promise.all([page.waitForURL(indexHref), navLink.click()]);
      assert.equal(page.url(), indexHref);
      assert.equal(
        await page.locator('header nav a[aria-current]').first().innerText().then((s) => s.trim()).catch(() => null),
        navText,
        'the active navigation entry is not marked with aria-current on the guideline index',
      );

      // First link in main to a guideline page (/leitlinien/<id>/).
      const guidelinePattern = new RegExp(`^${indexHref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^/]+/$`);
      const mainLinks = page.locator('main a[href]');
      const mainHrefs = await mainLinks.evaluateAll((as) => as.map((a) => a.href));
      const j = mainHrefs.findIndex((h) => guidelinePattern.test(h));
      assert.ok(j >= 0, `no link to a guideline in main on ${indexHref}; links: ${JSON.stringify(mainHrefs)}`);
      const link = mainLinks.nth(j);
      const linkText = (await link.innerText()).replace(/\s+/g, ' ').trim();
      const target = mainHrefs[j];
      await Promise.all([page.waitForURL(target), link.click()]);
      const h1 = (await page.locator('h1').first().innerText()).replace(/\s+/g, ' ').trim();
      assert.equal(h1, linkText, `h1 on ${target} does not match the link text`);
    } finally {
      await context.close();
    }
  });

  test('keyboard: the first Tab focuses the skip link, Enter moves focus to main', { timeout: TEST_TIMEOUT }, async () => {
    const b = await browser();
    const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(NAV_TIMEOUT);
      await page.goto(pageUrl('/'));
      await page.keyboard.press('Tab');
      // Give a show-on-focus transition a moment to finish before measuring.
      await page.waitForFunction(() => {
        const r = document.activeElement.getBoundingClientRect();
        return r.width > 1 && r.height > 1 && r.bottom > 0 && r.top < window.innerHeight;
      }, null, { timeout: 1_000 }).catch(() => {});
      const first = await page.evaluate(() => {
        const el = document.activeElement;
        const r = el.getBoundingClientRect();
        return {
          tag: el.tagName.toLowerCase(),
          href: el.getAttribute('href'),
          text: el.textContent.trim(),
          visible: r.width > 1 && r.height > 1 && r.bottom > 0 && r.top < window.innerHeight,
        };
      });
      assert.equal(first.tag, 'a', `first Tab focused <${first.tag}>, not the skip link`);
      assert.equal(first.href, '#inhalt', `first Tab focused a link to ${first.href}, not the skip link to #inhalt`);
      assert.ok(first.visible, 'the skip link is not visible when focused');

      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'inhalt', null, { timeout: 5_000 })
        .catch(() => {});
      const focused = await page.evaluate(() => ({ tag: document.activeElement.tagName.toLowerCase(), id: document.activeElement.id }));
      assert.deepEqual(focused, { tag: 'main', id: 'inhalt' }, 'Enter on the skip link did not move focus to <main id="inhalt">');
    } finally {
      await context.close();
    }
  });
});

// The version picker and the point-in-time view: defined when REGELWERK_PICKER names a Fassungen page
// (scripts/test runs this file a second time against a site with history).
if (process.env.REGELWERK_PICKER) {
  describe('versions', { timeout: TEST_TIMEOUT * 3 }, () => {
    test('the picker opens the comparison of two chosen versions', { timeout: TEST_TIMEOUT }, async () => {
      const b = await browser();
      const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(NAV_TIMEOUT);
        await page.goto(pageUrl(process.env.REGELWERK_PICKER));
        const options = await page.locator('#rw-picker-a option').evaluateAll((os) => os.map((o) => o.value));
        assert.ok(options.length >= 3, `the picker offers ${options.length} versions`);
        // The same version twice: a message in the live region, no navigation.
        await page.selectOption('#rw-picker-a', options[1]);
        await page.selectOption('#rw-picker-b', options[1]);
        await page.getByRole('button', { name: /Vergleichen|Compare/ }).click();
        await page.waitForFunction(() => document.querySelector('.picker__message').textContent.trim() !== '');
        assert.match(page.url(), /fassungen\/$/);
        // The oldest Stand against the one after it: a precomputed Synopse.
        const oldest = options[options.length - 1];
        const next = options[options.length - 2];
        await page.selectOption('#rw-picker-a', oldest);
        await page.selectOption('#rw-picker-b', next);
        await Promise.all([
          page.waitForURL(new RegExp(`/synopse/${oldest}/${next}/$`)),
          page.getByRole('button', { name: /Vergleichen|Compare/ }).click(),
        ]);
        const summary = await page.locator('.synopse__summary').innerText();
        assert.match(summary, /geändert|changed/);
        assert.ok(await page.locator('.synopse__row--moved_here').count() >= 1, 'the moved block is marked');
        assert.ok(await page.locator('.synopse ins').count() >= 1, 'inserted words are marked');
      } finally {
        await context.close();
      }
    });

    test('?stichtag= marks the Fassung in force on that day', { timeout: TEST_TIMEOUT }, async () => {
      const b = await browser();
      const context = await b.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(NAV_TIMEOUT);
        await page.goto(pageUrl('/stichtag/?stichtag=2026-11-15'));
        await page.waitForFunction(() => document.querySelector('.pit-form__message').textContent.trim() !== '');
        const marked = await page.locator('tr.is-in-force-on-date').count();
        assert.ok(marked >= 1, 'no row is marked as in force on 2026-11-15');
        await page.goto(pageUrl('/stichtag/?stichtag=2001-01-01'));
        await page.waitForFunction(() => document.querySelector('.pit-form__message').textContent.trim() !== '');
        assert.equal(await page.locator('tr.is-in-force-on-date').count(), 0);
      } finally {
        await context.close();
      }
    });
  });
}
