// What every view of the explorer shares: the one call to /graphql, hash routes and
// which route is current, topic names and styles, and small HTML helpers.

// GraphQL texts of this module: the topics every view names and colours.
const TOPICS_QUERY = "{ topics { key name spellings articleCount fileCount } }";

export const PAGE = 20;

const status = () => document.getElementById("status");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- GraphQL

let pending = 0;

function showPending() {
  status().textContent = pending > 0 ? "Loading…" : "";
}

/** POST one operation to /graphql; resolve to its data, reject with its errors. */
export async function gql(query, variables = {}) {
  pending += 1;
  showPending();
  try {
    for (let attempt = 0; ; attempt += 1) {
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (response.status === 503 && attempt < 120) {
        // The graph is still loading: the server says when to retry.
        status().textContent = "The graph is loading…";
        await sleep(1000 * Number(response.headers.get("retry-after") || 1));
        continue;
      }
      if (body && Array.isArray(body.errors) && body.errors.length) {
        throw new Error(body.errors.map((e) => e.message).join("; "));
      }
      if (!response.ok || !body) {
        throw new Error(`the server answered ${response.status} ${response.statusText}`);
      }
      return body.data;
    }
  } finally {
    pending -= 1;
    showPending();
  }
}

// ---------------------------------------------------------------- routes

/**
 * Which route the page shows: ``token`` grows with every route, so a view that
 * awaited an answer draws only while its route is still current; ``shown`` says
 * what the view on the page holds, so that a view can redraw a part only;
 * ``restoring`` is the scroll a history entry had when it was left (Back, Forward),
 * or undefined for a new entry.
 */
export const current = { token: 0, shown: { view: null }, restoring: undefined };

/** Whether ``route`` is still the one the page shows. */
export const isCurrent = (route) => route.token === current.token;

/** A hash route: link(["article", 1], {depth: 2}) → "#/article/1?depth=2". */
export function link(parts, params = {}) {
  const path = parts.map((p) => encodeURIComponent(String(p))).join("/");
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) {
      query.set(key, String(value));
    }
  }
  const qs = query.toString();
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

/** The route of the address: its parts and parameters. */
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  return { parts, params };
}

/** Put a view's frame on the page, named ``name`` for the tabs and ``title`` for the window. */
export function setView(name, title, html) {
  document.title = title ? `${title} · kgraph explorer` : "kgraph explorer";
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  main.innerHTML = html;
  main.dataset.view = name;
  // A new entry starts at its top as soon as its view replaces the one before, not once
  // its answers are drawn (its parts are ready one by one, while the page would still
  // show the old scroll); an entry gone back to is scrolled once it is drawn (main.js).
  if (current.restoring === undefined) window.scrollTo(0, 0);
  // The drawings of the view before stop drawing (Cytoscape's loop and listeners).
  loadedDrawing?.release();
}

// ---------------------------------------------------------------- libraries, when a view needs them

// Cytoscape.js and KaTeX are most of the bundle: loaded by the views that draw or show
// an answer, so that the search and curator views start without parsing them (the
// curator's first report after a cold start had 140 ms of script to parse first).
let loadedDrawing = null;

/** The drawing module (web/explorer/drawing.js, Cytoscape.js), loaded once. */
export async function loadDrawing() {
  loadedDrawing ??= await import("./drawing.js");
  return loadedDrawing;
}

/** The maths module (web/explorer/maths.js, KaTeX), loaded once. */
export const loadMaths = () => import("./maths.js");

// ---------------------------------------------------------------- topics and their styles

const topicNames = new Map();
let topicsPromise = null;

// Colours told apart easily; neighbours in the list differ too, as a taken colour gives way to the next.
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#393b79", "#e7ba52", "#74c476", "#ffd92f", "#6baed6", "#7b4173", "#fd8d3c",
  "#0f8a7e", "#de9ed6", "#637939", "#3b2f8f", "#ad494a", "#9c9ede", "#555555", "#c49c94",
];
// Shapes Cytoscape.js draws (and the legend's dots copy): a topic whose colour an
// earlier topic holds takes the next shape, so 40 topics need only two.
const SHAPES = ["ellipse", "diamond", "round-rectangle", "triangle", "hexagon", "star"];
const colours = new Map();
const shapes = new Map();

function keyHash(key) {
  let h = 2166136261;
  for (const ch of String(key)) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * Give each topic of the corpus its colour and shape: the colour its key hashes
 * to, or, when an earlier key (in key order) holds it, the next free one; once
 * every colour is held by a circle, the next shape's colours. So a topic keeps its
 * style from page to page and run to run, and no two share one.
 */
function assignColours(keys) {
  const taken = new Set();
  colours.clear();
  shapes.clear();
  for (const key of [...keys].sort()) {
    const start = keyHash(key) % PALETTE.length;
    for (let slot = 0; slot < PALETTE.length * SHAPES.length; slot += 1) {
      const shape = Math.floor(slot / PALETTE.length);
      const colour = (start + slot) % PALETTE.length;
      if (taken.has(`${shape}:${colour}`)) continue;
      taken.add(`${shape}:${colour}`);
      colours.set(key, PALETTE[colour]);
      shapes.set(key, SHAPES[shape]);
      break;
    }
  }
}

/** The corpus's topics, fetched once; their names and styles are known once it resolves. */
export function loadTopics() {
  if (!topicsPromise) {
    topicsPromise = gql(TOPICS_QUERY).then(
      (data) => {
        for (const topic of data.topics) topicNames.set(topic.key, topic.name);
        assignColours(data.topics.map((topic) => topic.key));
        return data.topics;
      },
      (error) => {
        topicsPromise = null;
        throw error;
      },
    );
  }
  return topicsPromise;
}

export const topicName = (key) => topicNames.get(key) ?? key;

export function topicShape(key) {
  return shapes.get(key) ?? "ellipse";
}

export function topicColour(key) {
  if (!key) return "#8a93a3";
  return colours.get(key) ?? PALETTE[keyHash(key) % PALETTE.length];
}

/** A topic as the drawings show it: its name, colour and shape. */
export function topicStyle(key) {
  return { name: topicName(key), colour: topicColour(key), shape: topicShape(key) };
}

/** A topic's dot: its colour and shape. */
export const topicDot = (key, style = "") =>
  `<span class="dot" data-shape="${topicShape(key)}" style="background:${topicColour(key)}${style}"></span>`;

// ---------------------------------------------------------------- HTML

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for HTML content and attribute values. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

export function errorBox(error) {
  return `<p class="error" role="alert">${esc(error.message || error)}</p>`;
}

export function articleLink(article, extra = "") {
  return `<a href="${link(["article", article.id])}" data-id="${esc(article.id)}"${extra}>${esc(article.title)}</a>`;
}

export function topicChip(topic) {
  const key = topic.key ?? topic;
  const name = topic.name ?? topicName(key);
  return `<a class="chip" href="${link(["topic", key])}">${topicDot(key)}${esc(name)}</a>`;
}

/** Pages of a connection: ``after`` is this page's cursor, ``back`` the cursors of the pages before. */
export function pager(parts, params, pageInfo, totalCount, shownCount) {
  const back = params.get("back") ? params.get("back").split(",") : [];
  const after = params.get("after") || "";
  const first = Number(params.get("first")) || PAGE;
  const base = Object.fromEntries(params.entries());
  const from = back.length * first + (shownCount ? 1 : 0);
  const to = back.length * first + shownCount;
  // "-" stands for the first page, which has no cursor.
  const prev = back.length
    ? link(parts, { ...base, after: back[back.length - 1].replace(/^-$/, ""), back: back.slice(0, -1).join(",") })
    : null;
  const next = pageInfo.hasNextPage
    ? link(parts, { ...base, after: pageInfo.endCursor, back: [...back, after || "-"].join(",") })
    : null;
  return (
    `<nav class="pager" aria-label="Pages">` +
    `<span class="muted">${from.toLocaleString("en")}–${to.toLocaleString("en")} of ${totalCount.toLocaleString("en")}</span>` +
    (prev ? `<a class="button quiet" href="${prev}" rel="prev" data-page="prev">← Previous</a>` : `<button class="quiet" disabled>← Previous</button>`) +
    (next ? `<a class="button quiet" href="${next}" rel="next" data-page="next">Next →</a>` : `<button class="quiet" disabled>Next →</button>`) +
    `</nav>`
  );
}

// ---------------------------------------------------------------- timing

export const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

// An article's neighbours both ways, one link away, and the links among them: what
// expanding a node of a drawing adds (SubgraphNode ids are the numeric article ids).
const NEIGHBOURS_QUERY = `query Neighbours($id: Int!, $limit: Int!) {
  subgraph(center: [$id], depth: 1, direction: BOTH, limit: $limit) {
    nodes { id label topic inDegree outDegree wanted } edges { id source target rank } truncated omittedNodes } }`;

/**
 * The subgraph of article ``id`` and its nearest 999 neighbours, for a drawing to grow
 * by (1,000 nodes keep the query under the server's cost limit).
 */
export async function neighbours(id) {
  const data = await gql(NEIGHBOURS_QUERY, { id, limit: 1000 });
  return data.subgraph;
}

/** Remember a render's time where the page and tests can read it. */
export function recordRender(view, started, host) {
  const ms = performance.now() - started;
  document.body.dataset.renderMs = ms.toFixed(1);
  document.body.dataset.renderView = view;
  if (host) {
    host.dataset.renderMs = ms.toFixed(1);
    host.dataset.state = "ready";
  }
  return ms;
}

/** The view of an address that names nothing. */
export function notFound() {
  current.shown = { view: null };
  setView("", "Not found", `<section class="card"><h1>Nothing here</h1><p><a href="#/">Back to the start</a></p></section>`);
}
