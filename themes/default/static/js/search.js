// regelwerk: the search page (suche/). Without this script the page says that the search needs
// JavaScript and links to the overviews.
//
// The index lies in pagefind/, one Pagefind index per section of the site (pagefind/indexes.json lists
// them); the first is opened, the others are merged (Pagefind's mergeIndex), so the browser loads
// Pagefind's WebAssembly once. It runs on the page's thread (CSP: 'wasm-unsafe-eval'). The build adds
// index-only terms to each section (compound parts, glossary forms). regelwerk's own index puts them at
// the position of the word they come from, so a hit on one marks that word. With Pagefind's indexer
// (`[search] backend = "pagefind"`) they are text at the end of the section between two "⁂" marks:
// excerpts are then cut from the visible text only, and a hit on such a term highlights the visible
// word it came from. Queries spelled with ae/oe/ue are also searched with ä/ö/ü.
const MARK = "\u2042";
const PAGE_SIZE = 10;
const EXCERPT_WORDS = 30;
const FILTER_ORDER = ["typ", "status", "risikoklasse", "hosting", "lizenz"];

const form = document.getElementById("rw-suche");
if (form) {
  start(form).catch(() => {
    const status = document.getElementById("rw-suche-status");
    if (status) status.textContent = form.dataset.statusError;
  });
}

async function start(form) {
  const input = form.elements.q;
  const status = document.getElementById("rw-suche-status");
  const list = document.getElementById("rw-suche-liste");
  const more = document.getElementById("rw-suche-mehr");
  const filterBox = document.getElementById("rw-suche-filter");
  const groups = document.getElementById("rw-suche-filtergruppen");
  document.getElementById("rw-suche-ohne-js").hidden = true;
  document.getElementById("rw-suche-ergebnisse").hidden = false;

  const params = new URLSearchParams(window.location.search);
  input.value = params.get("q") || "";
  status.textContent = form.dataset.statusLoading;

  const base = form.dataset.index;
  const manifest = await (await fetch(base + "indexes.json", { credentials: "same-origin" })).json();
  if (!manifest.indexes.length) {
    status.textContent = form.dataset.statusNone;
    return;
  }
  const pagefind = await import(base + "pagefind.js");
  // No web worker: the search is light, and the worker would be one more script to download.
  const search = pagefind.createInstance({ basePath: base + manifest.indexes[0], noWorker: true });
  await Promise.all(manifest.indexes.slice(1).map((index) => search.mergeIndex(base + index)));

  const totals = await search.filters();
  buildFilters(groups, totals, params);
  filterBox.hidden = Object.keys(totals).length === 0;

  let results = [];
  let shown = 0;
  let current = 0;

  async function run() {
    const id = ++current;
    const query = input.value.trim();
    const filters = selectedFilters(groups);
    if (!query && Object.keys(filters).length === 0) {
      list.replaceChildren();
      more.hidden = true;
      updateCounts(groups, totals);
      status.textContent = form.dataset.statusEmpty;
      form.dataset.searches = String(id);
      return;
    }
    const response = await searchVariants(search, query || null, filters);
    if (id !== current) return;
    results = response.results;
    shown = 0;
    list.replaceChildren();
    updateCounts(groups, response.filters);
    await showMore(query, false);
    const n = results.length;
    status.textContent =
      n === 0 ? form.dataset.statusNone : n === 1 ? form.dataset.statusOne : `${n} ${form.dataset.statusMany}`;
    form.dataset.searches = String(id);
  }

  async function showMore(query, focus) {
    const next = results.slice(shown, shown + PAGE_SIZE);
    const data = await Promise.all(next.map((r) => r.data()));
    const items = data.map((d) => resultItem(d, query, form.dataset.inPage));
    list.append(...items);
    shown += next.length;
    more.hidden = shown >= results.length;
    if (focus && items[0]) items[0].querySelector("a").focus();
  }

  function remember() {
    const url = new URL(window.location.href);
    url.search = new URLSearchParams(new FormData(form)).toString();
    window.history.replaceState(null, "", url);
  }

  let timer = 0;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      remember();
      run();
    }, 300);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    remember();
    run();
  });
  groups.addEventListener("change", () => {
    remember();
    run();
  });
  more.addEventListener("click", () => showMore(input.value.trim(), true));
  await run();
}

/// Searches the query and, when it is spelled with ae/oe/ue, its umlaut spelling; merges the results.
async function searchVariants(search, query, filters) {
  const variant = query && umlauts(query);
  const responses = await Promise.all(
    [query, variant].filter((q, i) => i === 0 || (q && q !== query)).map((q) => search.search(q, { filters })),
  );
  if (responses.length === 1) return responses[0];
  const byId = new Map();
  for (const response of responses) {
    for (const result of response.results) {
      const seen = byId.get(result.id);
      if (!seen || seen.score < result.score) byId.set(result.id, result);
    }
  }
  const counts = {};
  for (const response of responses) {
    for (const [name, values] of Object.entries(response.filters || {})) {
      counts[name] = counts[name] || {};
      for (const [value, n] of Object.entries(values)) {
        counts[name][value] = Math.max(counts[name][value] || 0, n);
      }
    }
  }
  return { results: [...byId.values()].sort((a, b) => b.score - a.score), filters: counts };
}

function umlauts(text) {
  return text
    .replace(/ae/g, "ä")
    .replace(/oe/g, "ö")
    .replace(/ue/g, "ü")
    .replace(/A[eE]/g, "Ä")
    .replace(/O[eE]/g, "Ö")
    .replace(/U[eE]/g, "Ü");
}

function buildFilters(groups, totals, params) {
  const names = Object.keys(totals).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, "de"));
  for (const name of names) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "search-filters__group";
    const legend = document.createElement("legend");
    legend.textContent = form.dataset["filter" + name.charAt(0).toUpperCase() + name.slice(1)] || name;
    fieldset.append(legend);
    const values = Object.keys(totals[name]).sort((a, b) => a.localeCompare(b, "de"));
    for (const value of values) {
      const label = document.createElement("label");
      label.className = "search-filters__option";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = value;
      box.checked = params.getAll(name).includes(value);
      const text = document.createElement("span");
      text.dataset.value = value;
      label.append(box, " ", text);
      fieldset.append(label);
    }
    groups.append(fieldset);
  }
  updateCounts(groups, totals);
}

function rank(name) {
  const i = FILTER_ORDER.indexOf(name);
  return i < 0 ? FILTER_ORDER.length : i;
}

function updateCounts(groups, counts) {
  for (const box of groups.querySelectorAll("input[type=checkbox]")) {
    const n = (counts[box.name] && counts[box.name][box.value]) || 0;
    box.nextElementSibling.textContent = `${box.value} (${n})`;
  }
}

function selectedFilters(groups) {
  const filters = {};
  for (const box of groups.querySelectorAll("input[type=checkbox]:checked")) {
    filters[box.name] = filters[box.name] || { any: [] };
    filters[box.name].any.push(box.value);
  }
  return filters;
}

/// One result: the page title, an excerpt, and the sections with hits.
function resultItem(data, query, inPageLabel) {
  const words = data.content.split(/[\r\n\s]+/g);
  const hidden = hiddenWords(words);
  const sections = sectionRanges(data, words.length);
  const item = document.createElement("li");
  item.className = "search-result";
  const heading = document.createElement("h3");
  heading.className = "search-result__title";
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = (data.meta && data.meta.title) || data.url;
  heading.append(link);
  item.append(heading);

  const subs = query ? (data.sub_results || []).filter((s) => s.locations && s.locations.length) : [];
  const best = subs[0];
  const range = best ? rangeOf(sections, best.url) : [0, words.length];
  item.append(excerpt(words, hidden, best ? best.locations : data.locations || [], range));

  const anchored = subs.filter((s) => s.url.includes("#")).slice(0, 3);
  if (anchored.length) {
    const nav = document.createElement("ul");
    nav.className = "search-result__sections";
    nav.setAttribute("aria-label", `${inPageLabel}: ${link.textContent}`);
    for (const sub of anchored) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = sub.url;
      a.textContent = sub.title;
      li.append(a);
      if (sub !== best) li.append(excerpt(words, hidden, sub.locations, rangeOf(sections, sub.url)));
      nav.append(li);
    }
    item.append(nav);
  }
  return item;
}

/// Which words are index-only terms: those between two marks.
function hiddenWords(words) {
  const hidden = new Uint8Array(words.length);
  let inside = false;
  words.forEach((word, i) => {
    if (word === MARK) {
      hidden[i] = 1;
      inside = !inside;
    } else if (inside) {
      hidden[i] = 1;
    }
  });
  return hidden;
}

/// The word range of each section, keyed by heading id: from its heading to the next.
function sectionRanges(data, length) {
  const anchors = (data.anchors || [])
    .filter((a) => /^h[1-6]$/.test(a.element) && a.id)
    .sort((a, b) => a.location - b.location);
  const ranges = new Map();
  anchors.forEach((a, i) => ranges.set(a.id, [a.location, i + 1 < anchors.length ? anchors[i + 1].location : length]));
  ranges.set("", [0, anchors.length ? anchors[0].location : length]);
  return ranges;
}

function rangeOf(sections, url) {
  const hash = url.includes("#") ? decodeURIComponent(url.slice(url.indexOf("#") + 1)) : "";
  return sections.get(hash) || sections.get("");
}

/// An excerpt of visible words around the first hit, hits in <mark>.
function excerpt(words, hidden, locations, [from, to]) {
  const hits = new Set();
  for (const location of locations) {
    if (location < from || location >= to) continue;
    if (!hidden[location]) {
      hits.add(location);
      continue;
    }
    // A hit on an index-only term: highlight the visible words of the section it stands for.
    const term = fold(words[location]);
    for (let i = from; i < to; i++) {
      if (!hidden[i] && stands_for(fold(words[i]), term)) hits.add(i);
    }
  }
  const visible = [];
  for (let i = from; i < to; i++) if (!hidden[i]) visible.push(i);
  const first = visible.findIndex((i) => hits.has(i));
  const start = Math.max(0, first - 8);
  const shown = visible.slice(start, start + EXCERPT_WORDS);
  const p = document.createElement("p");
  p.className = "search-result__excerpt";
  if (start > 0) p.append("… ");
  shown.forEach((i, n) => {
    if (n > 0) p.append(" ");
    if (hits.has(i)) {
      // Punctuation around the word stays outside the mark.
      const [, before, core, after] = words[i].match(/^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u);
      const mark = document.createElement("mark");
      mark.textContent = core;
      p.append(before, mark, after);
    } else {
      p.append(words[i]);
    }
  });
  if (start + EXCERPT_WORDS < visible.length) p.append(" …");
  return p;
}

function fold(word) {
  return word
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "")
    .replace(/ä/g, "ae")
    .replace(/ö/g, "oe")
    .replace(/ü/g, "ue")
    .replace(/ß/g, "ss");
}

/// Whether a visible word is the source of an index-only term: it contains the term (a compound and
/// its part) or shares all but its last letters with it (Risiken – Risiko).
function stands_for(word, term) {
  if (!word || !term) return false;
  if (word.includes(term)) return true;
  let common = 0;
  while (common < word.length && common < term.length && word[common] === term[common]) common++;
  return common >= 4 && common >= term.length - 2;
}
