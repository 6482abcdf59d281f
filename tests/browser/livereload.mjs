// Live reload of `regelwerk serve` in a real browser: a saved text shows in the open page by itself; the
// page of the saved document reloads once (shown ahead of the rebuild), another open page reloads after
// the rebuild, and neither reloads again for nothing.
//
//   REGELWERK_URL=http://127.0.0.1:PORT/ REGELWERK_SITE=DIR node --test tests/browser/livereload.mjs
//
// DIR is the site `regelwerk serve` serves at REGELWERK_URL; the test edits one of its guidelines and
// restores it. scripts/test runs it against the fixture site with git history.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, LAUNCH_OPTIONS } from './run.mjs';

const TIMEOUT = 60_000;
const GUIDELINE = 'content/leitlinien/grundsaetze.md';

function setting(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/test sets it)`);
  return value;
}

let browser;
after(async () => {
  if (browser) await browser.close();
});

/** Resolves once `page` has loaded anew (its marker, set now, is gone), or rejects after `ms`. */
async function reloaded(page, ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const marked = await page.evaluate(() => window.__regelwerkTest === true).catch(() => true);
    if (!marked) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${page.url()} did not reload within ${ms} ms`);
}

const mark = (page) => page.evaluate(() => { window.__regelwerkTest = true; });

test('a save reloads the open page of the document once, other pages after the rebuild', { timeout: TIMEOUT * 2 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const base = new URL(setting('REGELWERK_URL'));
  const file = join(setting('REGELWERK_SITE'), GUIDELINE);
  const original = readFileSync(file, 'utf8');
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch(LAUNCH_OPTIONS);
  const context = await browser.newContext();
  const guideline = await context.newPage();
  const index = await context.newPage();
  const errors = [];
  for (const page of [guideline, index]) page.on('pageerror', (e) => errors.push(e.message));
  await guideline.goto(new URL('leitlinien/grundsaetze/', base).href, { waitUntil: 'load' });
  await index.goto(new URL('leitlinien/', base).href, { waitUntil: 'load' });
  // The live reload socket is open once the page has loaded its script and connected.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await mark(guideline);
  await mark(index);

  const sentence = `Ein Satz für den Live-Reload-Test ${Date.now()}.`;
  try {
    writeFileSync(file, `${original.trimEnd()}\n\n${sentence}\n`);
    await reloaded(guideline, TIMEOUT / 2);
    await guideline.waitForFunction((s) => document.body.innerText.includes(s), sentence, { timeout: 10_000 });
    await mark(guideline);
    // The guideline index waits for the rebuild, then reloads.
    await reloaded(index, TIMEOUT / 2);
    // The rebuild wrote the page as it was shown ahead: no second reload.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(
      await guideline.evaluate(() => window.__regelwerkTest === true),
      true,
      'the page shown ahead reloaded again after the rebuild',
    );
    assert.ok((await guideline.innerText('main')).includes(sentence));
  } finally {
    writeFileSync(file, original);
  }
  await reloaded(guideline, TIMEOUT / 2);
  await guideline.waitForFunction((s) => !document.body.innerText.includes(s), sentence, { timeout: 10_000 });
  assert.deepEqual(errors, []);
});
