// Live reload of `regelwerk serve` in a real browser: a saved text shows in the open page by itself. The
// page of the saved document reloads once (shown ahead of the rebuild), not again when the rebuild writes
// it as shown; a page the rebuild does not change does not reload; a new title reloads every page that
// shows it.
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

/** Resolves once `page` has loaded anew (its marker, set by `mark`, is gone), or rejects after `ms`. */
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
const isMarked = (page) => page.evaluate(() => window.__regelwerkTest === true);

/** A page that counts the server's generations: its socket names no page, so it hears of every one. */
async function generations(context, base) {
  const page = await context.newPage();
  await page.goto(new URL('404.html', base).href);
  await page.evaluate((url) => {
    window.__generations = [];
    const socket = new WebSocket(url);
    socket.addEventListener('message', (event) => window.__generations.push(String(event.data)));
  }, new URL('__regelwerk/livereload', base).href.replace(/^http/, 'ws'));
  await page.waitForFunction(() => window.__generations.length > 0, null, { timeout: 10_000 });
  return {
    /** Waits until the server has announced generation `n` or a later one (announcements may skip some). */
    waitFor: (n) => page.waitForFunction(
      (target) => window.__generations.some((m) => Number(m.split(' ')[1]) >= target),
      n,
      { timeout: TIMEOUT / 2 },
    ),
  };
}

/** The generation a page was served from (its live reload script's `build`). */
const servedFrom = (page) => page.evaluate(() =>
  Number(new URL(document.querySelector('script[src*="livereload.js"]').src).searchParams.get('build')));

test('a save reloads exactly the open pages it changes', { timeout: TIMEOUT * 3 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const base = new URL(setting('REGELWERK_URL'));
  const file = join(setting('REGELWERK_SITE'), GUIDELINE);
  const original = readFileSync(file, 'utf8');
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch(LAUNCH_OPTIONS);
  const context = await browser.newContext();
  const server = await generations(context, base);
  const guideline = await context.newPage();
  const index = await context.newPage();
  const errors = [];
  for (const page of [guideline, index]) page.on('pageerror', (e) => errors.push(e.message));
  await guideline.goto(new URL('leitlinien/grundsaetze/', base).href, { waitUntil: 'load' });
  await index.goto(new URL('leitlinien/', base).href, { waitUntil: 'load' });
  // The pages' live reload sockets are open once their scripts have run and connected.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await mark(guideline);
  await mark(index);

  const sentence = `Ein Satz für den Live-Reload-Test ${Date.now()}.`;
  try {
    // The text alone: shown ahead (one generation), then the rebuild (the next).
    writeFileSync(file, `${original.trimEnd()}\n\n${sentence}\n`);
    await reloaded(guideline, TIMEOUT / 2);
    await guideline.waitForFunction((s) => document.body.innerText.includes(s), sentence, { timeout: 10_000 });
    await mark(guideline);
    await server.waitFor((await servedFrom(guideline)) + 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await isMarked(guideline), true, 'the page shown ahead reloaded again after the rebuild');
    assert.equal(await isMarked(index), true, 'the guideline index reloaded, though the rebuild did not change it');
    assert.ok((await guideline.innerText('main')).includes(sentence));

    // A new title: both pages show it, both reload after the rebuild.
    writeFileSync(file, readFileSync(file, 'utf8').replace('title = "Grundsätze"', 'title = "Grundsätze (neu)"'));
    await reloaded(guideline, TIMEOUT / 2);
    await reloaded(index, TIMEOUT / 2);
    assert.ok((await index.innerText('main')).includes('Grundsätze (neu)'));
  } finally {
    writeFileSync(file, original);
  }
  await guideline.waitForFunction((s) => !document.body.innerText.includes(s), sentence, { timeout: TIMEOUT / 2 });
  assert.deepEqual(errors, []);
});
