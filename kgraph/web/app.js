// kgraph explorer: one page, hash routes, and nothing but the public GraphQL API.
//
// Routes (shareable):
//   #/                                  search and entry points
//   #/search?q=WORDS                    search results
//   #/article/ID?depth=1&direction=BOTH article and its neighbourhood
//   #/path/FROM/TO?bridges=1&alt=2      learning paths and their alternatives
//   #/topics, #/topic/KEY?start=ID      topics, one topic's graph and reading order
//   #/curation/REPORT?topic=KEY&after=  curator summary and one report, paged
"use strict";

(() => {
  const main = document.getElementById("main");
  const status = document.getElementById("status");
  const PAGE = 20;

  // ---------------------------------------------------------------- GraphQL

  let pending = 0;

  function showPending() {
    status.textContent = pending > 0 ? "Loading…" : "";
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** POST one operation to /graphql; resolve to its data, reject with its errors. */
  async function gql(query, variables = {}) {
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
          status.textContent = "The graph is loading…";
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

  // Topic names for legends and chips: fetched once, used when they have come.
  const topicNames = new Map();
  let topicsPromise = null;

  function loadTopics() {
    if (!topicsPromise) {
      topicsPromise = gql("{ topics { key name spellings articleCount fileCount } }").then(
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

  // ---------------------------------------------------------------- HTML helpers

  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  /** Text made safe for HTML content and attribute values. */
  function esc(value) {
    return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
  }

  function plural(n, one, many = `${one}s`) {
    return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
  }

  function errorBox(error) {
    return `<p class="error" role="alert">${esc(error.message || error)}</p>`;
  }

  /** A hash route: link(["article", 1], {depth: 2}) → "#/article/1?depth=2". */
  function link(parts, params = {}) {
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

  function articleLink(article, extra = "") {
    return `<a href="${link(["article", article.id])}" data-id="${esc(article.id)}"${extra}>${esc(article.title)}</a>`;
  }

  function topicChip(topic) {
    const key = topic.key ?? topic;
    const name = topic.name ?? topicNames.get(key) ?? key;
    return `<a class="chip" href="${link(["topic", key])}"><span class="dot" data-shape="${topicShape(key)}" style="background:${topicColour(key)}"></span>${esc(name)}</a>`;
  }

  // ---------------------------------------------------------------- answers

  /**
   * Show an answer: the server renders it (Article.answerHtml: Markdown by
   * markdown-it-py, raw HTML escaped), KaTeX typesets its maths in the page,
   * and its links open apart from the explorer.
   */
  function showAnswer(box, html) {
    box.innerHTML = html;
    for (const a of box.querySelectorAll("a[href]")) {
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
    }
    // The bundle of KaTeX (/static/dist/katex.js), built from the npm package by make web.
    if (window.kgraphMaths) window.kgraphMaths.typeset(box);
  }

  // ---------------------------------------------------------------- colours

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

  function topicShape(key) {
    return shapes.get(key) ?? "ellipse";
  }

  function topicColour(key) {
    if (!key) return "#8a93a3";
    return colours.get(key) ?? PALETTE[keyHash(key) % PALETTE.length];
  }

  // ---------------------------------------------------------------- graph drawing

  const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  /** Remember a render's time where the page and tests can read it. */
  function recordRender(view, started, host) {
    const ms = performance.now() - started;
    document.body.dataset.renderMs = ms.toFixed(1);
    document.body.dataset.renderView = view;
    if (host) {
      host.dataset.renderMs = ms.toFixed(1);
      host.dataset.state = "ready";
    }
    return ms;
  }

  /** A topic as the drawings show it: its name, colour and shape. */
  function topicStyle(key) {
    return { name: topicNames.get(key) ?? key, colour: topicColour(key), shape: topicShape(key) };
  }

  // The bundle of Cytoscape.js (/static/dist/graph.js, web/graph.js), built by make web.
  function drawGraph(host, subgraph, options) {
    return window.kgraphGraph.drawGraph(host, subgraph, { topicStyle, ...options });
  }

  function drawPath(host, steps, onOpen) {
    return window.kgraphGraph.drawPath(host, steps, { topicStyle, onOpen });
  }

  // ---------------------------------------------------------------- views

  let routeToken = 0;
  let shown = { view: null };

  function setView(name, title, html) {
    document.title = title ? `${title} · kgraph explorer` : "kgraph explorer";
    for (const a of document.querySelectorAll("[data-nav]")) {
      if (a.dataset.nav === name) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    main.innerHTML = html;
    main.dataset.view = name;
    // The drawings of the view before stop drawing (Cytoscape's loop and listeners).
    window.kgraphGraph?.release();
  }

  // The page keys articles by their numeric id (`articleId`); the global `id` is for client caches.
  const ARTICLE_SUMMARY = "id: articleId title description inDegree outDegree topics { key name }";

  function resultsList(nodes) {
    if (!nodes.length) return `<p class="muted">No article matches.</p>`;
    return `<ul class="results">${nodes
      .map(
        (a) =>
          `<li data-id="${a.id}"><div class="spread"><span class="title">${articleLink(a)}</span>` +
          `<span class="muted small">#${a.id} · ${a.inDegree} in · ${a.outDegree} out</span></div>` +
          (a.description ? `<p>${esc(a.description)}</p>` : "") +
          `<div class="row">${a.topics.map(topicChip).join("")}</div></li>`,
      )
      .join("")}</ul>`;
  }

  /** Pages of a connection: ``after`` is this page's cursor, ``back`` the cursors of the pages before. */
  function pager(parts, params, pageInfo, totalCount, shownCount) {
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

  // Home: search, topics and the most linked articles.
  async function homeView(route) {
    setView(
      "home",
      "",
      `<div class="split"><div class="stack">
        <section class="card"><h1>Explore the knowledge graph</h1>
          <p class="muted">Search the articles, open one to see what it links to and what links to it,
          follow a learning path from one article to another, read a topic in order, or work through the curator's reports.</p>
          <form class="search" id="home-search" role="search"><label for="home-q" class="sr-only">Search articles</label>
          <input id="home-q" type="search" placeholder="e.g. ATP pump, binary search, divergence" autocomplete="off">
          <button type="submit">Search</button></form>
          <p class="small muted" id="home-stats"></p></section>
        <section class="card"><h2>Most linked articles</h2><div id="home-linked" class="loading">Loading</div></section>
      </div><div class="stack"><section class="card"><div class="spread"><h2>Topics</h2><a href="#/topics">All topics</a></div><div id="home-topics" class="loading">Loading</div></section>
      <section class="card"><h2>Learning paths</h2><p class="muted">Pick a start and a goal: the explorer finds the shortest ways through the links.</p><a class="button" href="#/path">Find a learning path</a></section></div></div>`,
    );
    document.getElementById("home-search").addEventListener("submit", (event) => {
      event.preventDefault();
      const q = document.getElementById("home-q").value.trim();
      if (q) location.hash = link(["search"], { q });
    });
    try {
      const [data, topics] = await Promise.all([
        gql(`{ stats { articles links topics files version } curation { overLinked(first: 8) { nodes { inDegree article { ${ARTICLE_SUMMARY} } } } } }`),
        loadTopics(),
      ]);
      if (route.token !== routeToken) return;
      const s = data.stats;
      document.getElementById("home-stats").textContent =
        `${plural(s.articles, "article")}, ${plural(s.links, "link")}, ${plural(s.topics, "topic")} in ${plural(s.files, "file")} · kgraph ${s.version}`;
      const linked = document.getElementById("home-linked");
      linked.classList.remove("loading");
      linked.innerHTML = resultsList(data.curation.overLinked.nodes.map((r) => r.article));
      const grid = document.getElementById("home-topics");
      grid.classList.remove("loading");
      grid.innerHTML = `<div class="row">${topics.map((t) => topicChip(t)).join("")}</div>`;
    } catch (error) {
      if (route.token === routeToken) document.getElementById("home-linked").outerHTML = errorBox(error);
    }
  }

  async function searchView(route) {
    const q = (route.params.get("q") || "").trim();
    document.getElementById("search-input").value = q;
    if (!q) return homeView(route);
    const after = route.params.get("after") || null;
    const openId = /^-?\d+$/.test(q) ? `<p class="notice">Open article <a href="${link(["article", q])}">#${esc(q)}</a></p>` : "";
    setView("home", `Search: ${q}`, `<section class="card" id="search-results"><h1>Search: “${esc(q)}”</h1>${openId}<div class="loading">Searching</div></section>`);
    try {
      const data = await gql(
        `query Search($q: String!, $first: Int!, $after: String) { articles(filter: { search: $q }, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${ARTICLE_SUMMARY} } } }`,
        { q, first: PAGE, after },
      );
      if (route.token !== routeToken) return;
      const found = data.articles;
      const section = document.getElementById("search-results");
      section.innerHTML =
        `<div class="spread"><h1>Search: “${esc(q)}”</h1><span class="muted">${plural(found.totalCount, "article")}</span></div>${openId}` +
        resultsList(found.nodes) +
        (found.totalCount > found.nodes.length ? pager(["search"], route.params, found.pageInfo, found.totalCount, found.nodes.length) : "");
      section.dataset.state = "ready";
    } catch (error) {
      if (route.token === routeToken) document.getElementById("search-results").innerHTML = errorBox(error);
    }
  }

  const BACKLINK_ROWS = "totalCount pageInfo { hasNextPage endCursor } nodes { id: articleId title }";
  const BACKLINKS_QUERY = `query Backlinks($id: Int!, $after: String) { article(id: $id) { backlinks(first: 100, after: $after) { ${BACKLINK_ROWS} } } }`;

  const ARTICLE_QUERY = `query Article($id: Int!) { article(id: $id) {
    id: articleId title question answerHtml description keywords subject url date score noIndex inDegree outDegree
    topics { key name } copies { path url subject }
    links { rank target { id: articleId title topics { key } } wanted { id: articleId title url } }
    backlinks(first: 50) { ${BACKLINK_ROWS} } }
    similar(id: $id, first: 8) { nodes { article { id: articleId title topics { key } } score linked
      reasons { sharedKeywords sharedTerms commonNeighbours { id: articleId title } linkDistance } } } }`;

  const SUBGRAPH_QUERY = `query Neighbourhood($center: [Int!]!, $depth: Int!, $direction: Direction!, $limit: Int!) {
    subgraph(center: $center, depth: $depth, direction: $direction, limit: $limit, layout: SPRING) {
      nodes { id label topic inDegree outDegree wanted x y } edges { id source target rank } truncated omittedNodes } }`;

  const DIRECTIONS = { OUT: "links out", IN: "links in", BOTH: "both ways" };

  function graphOptions(params) {
    const depth = Math.min(3, Math.max(1, Number(params.get("depth")) || 1));
    const direction = DIRECTIONS[params.get("direction")] ? params.get("direction") : "BOTH";
    const limit = [100, 250, 500, 1000, 2000].includes(Number(params.get("limit"))) ? Number(params.get("limit")) : 500;
    return { depth, direction, limit };
  }

  async function articleView(route) {
    const id = Number(route.parts[1]);
    if (!Number.isInteger(id)) return notFound(route);
    const options = graphOptions(route.params);
    if (shown.view === "article" && shown.id === id) {
      // Same article, other graph options: redraw the neighbourhood only.
      syncGraphControls(options);
      return drawNeighbourhood(route, id, options);
    }
    shown = { view: "article", id };
    setView(
      "article",
      `Article ${id}`,
      `<div class="split"><article class="card" id="article" aria-busy="true"><p class="loading">Loading article ${id}</p></article>
      <div class="stack sticky"><section class="card" aria-labelledby="hood-title">
        <div class="graph-head"><h2 id="hood-title">Neighbourhood</h2>
          <form class="controls" id="graph-controls">
            <label>Depth <select name="depth" id="depth">${[1, 2, 3].map((d) => `<option value="${d}">${d}</option>`).join("")}</select></label>
            <label>Direction <select name="direction" id="direction">${Object.entries(DIRECTIONS).map(([k, v]) => `<option value="${k}">${k} · ${v}</option>`).join("")}</select></label>
            <label>At most <select name="limit" id="limit">${[100, 250, 500, 1000, 2000].map((l) => `<option value="${l}">${l}</option>`).join("")}</select></label>
          </form></div>
        <div class="graph" id="neighbourhood" data-state="loading"></div>
        <div class="graph-foot"><div id="legend"></div><span id="graph-note"></span></div>
        <p class="small muted">Click an article to open it; hollow circles are missing (wanted) articles. Drag to pan, wheel or +/− to zoom: labels appear as you zoom in. Press a topic below to hide or show its articles; Tab to the drawing, then arrow keys move between articles and Enter opens one.</p>
      </section>
      <section class="card"><h2>Links <span class="muted small">(rank order)</span></h2><div id="links" class="loading">Loading</div></section>
      <section class="card"><h2>Backlinks <span class="muted small">(strongest first)</span></h2><div id="backlinks" class="loading">Loading</div></section>
      <section class="card"><h2>Related <span class="muted small">(by text and links, best first)</span></h2><div id="related" class="loading">Loading</div></section>
      </div></div>`,
    );
    syncGraphControls(options);
    document.getElementById("graph-controls").addEventListener("change", () => {
      const form = document.getElementById("graph-controls");
      location.hash = link(["article", id], {
        depth: form.depth.value,
        direction: form.direction.value,
        limit: form.limit.value === "500" ? "" : form.limit.value,
      });
    });
    const graph = drawNeighbourhood(route, id, options);
    try {
      const data = await gql(ARTICLE_QUERY, { id });
      if (route.token !== routeToken) return;
      showArticle(id, data.article);
      if (data.article) showRelated(data.similar);
    } catch (error) {
      if (route.token === routeToken) document.getElementById("article").innerHTML = errorBox(error);
    }
    await graph;
  }

  function syncGraphControls({ depth, direction, limit }) {
    const form = document.getElementById("graph-controls");
    if (!form) return;
    form.depth.value = String(depth);
    form.direction.value = direction;
    form.limit.value = String(limit);
  }

  function showArticle(id, article) {
    const box = document.getElementById("article");
    box.removeAttribute("aria-busy");
    for (const name of ["links", "backlinks", "related"]) document.getElementById(name).classList.remove("loading");
    if (!article) {
      box.innerHTML = `<h1>No article ${id}</h1><p class="muted">No file of the corpus holds an article with this id.</p>`;
      for (const name of ["links", "backlinks", "related"]) document.getElementById(name).innerHTML = "";
      return;
    }
    document.title = `${article.title} · kgraph explorer`;
    const meta = [
      `<span>#${article.id}</span>`,
      article.date ? `<span>${esc(article.date)}</span>` : "",
      `<span>${esc(article.subject)}</span>`,
      `<span>${article.inDegree} in · ${article.outDegree} out</span>`,
      article.noIndex ? `<span class="badge warn">withdrawn (no_index)</span>` : "",
      article.copies.length > 1 ? `<span class="badge accent">${article.copies.length} copies</span>` : "",
    ].join("");
    const question = article.question && article.question !== article.title ? `<p class="muted"><strong>Question:</strong> ${esc(article.question)}</p>` : "";
    const keywords = article.keywords.length
      ? `<p class="small muted">Keywords: ${article.keywords.map((k) => `<a href="${link(["search"], { q: k })}">${esc(k)}</a>`).join(", ")}</p>`
      : "";
    box.innerHTML =
      `<h1 id="article-title">${esc(article.title)}</h1><div class="row">${article.topics.map(topicChip).join("")}</div>` +
      `<div class="meta">${meta}</div>${question}<div class="answer" id="answer"></div>${keywords}` +
      `<p class="small muted">Files: ${article.copies.map((c) => `<span class="mono">${esc(c.path)}</span>`).join(", ")}</p>` +
      `<div class="row"><a class="button quiet" href="${link(["path", article.id])}">Learning path from here</a>` +
      `<a class="button quiet" href="${link(["topic", article.topics[0]?.key ?? ""], { start: article.id })}">Read its topic from here</a></div>`;
    showAnswer(document.getElementById("answer"), article.answerHtml);
    document.getElementById("links").innerHTML = article.links.length
      ? `<ol class="links" id="link-list">${article.links
          .map((l) =>
            l.target
              ? `<li value="${l.rank}" data-id="${l.target.id}" data-rank="${l.rank}">${articleLink(l.target)}</li>`
              : `<li value="${l.rank}" class="missing" data-wanted="${l.wanted?.id ?? ""}" data-rank="${l.rank}">missing: ${esc(l.wanted?.title ?? "an unknown article")} <span class="muted">(#${esc(l.wanted?.id ?? "?")}, wanted)</span></li>`,
          )
          .join("")}</ol>`
      : `<p class="muted">This article links nowhere (a dead end).</p>`;
    showBacklinks(article.id, article.backlinks);
  }

  /** What links here, a page at a time: "Show more" fetches the next hundred. */
  function showBacklinks(id, page) {
    const box = document.getElementById("backlinks");
    if (!page.totalCount) {
      box.innerHTML = `<p class="muted">No article links here (an orphan).</p>`;
      return;
    }
    box.innerHTML = `<ul class="links" id="backlink-list"></ul><p class="small muted" id="backlink-more"></p>`;
    const list = box.querySelector("#backlink-list");
    const more = box.querySelector("#backlink-more");
    const add = (result) => {
      list.insertAdjacentHTML("beforeend", result.nodes.map((a) => `<li data-id="${a.id}">${articleLink(a)}</li>`).join(""));
      const left = result.totalCount - list.children.length;
      more.innerHTML = result.pageInfo.hasNextPage
        ? `<button type="button" class="quiet" id="backlinks-next" data-after="${esc(result.pageInfo.endCursor)}">Show ${Math.min(100, left)} more of ${left.toLocaleString("en")}</button>`
        : result.totalCount > 50 ? `All ${plural(result.totalCount, "article")} linking here.` : "";
    };
    add(page);
    more.addEventListener("click", async (event) => {
      const button = event.target.closest("#backlinks-next");
      if (!button) return;
      button.disabled = true;
      try {
        const data = await gql(BACKLINKS_QUERY, { id, after: button.dataset.after });
        if (document.getElementById("backlink-list") === list) add(data.article.backlinks);
      } catch (error) {
        more.innerHTML = errorBox(error);
      }
    });
  }

  /** Why two articles are related, in a few words: what they share. */
  function relatedReason(reasons) {
    if (reasons.sharedKeywords.length) return `keywords ${reasons.sharedKeywords.slice(0, 3).map(esc).join(", ")}`;
    if (reasons.commonNeighbours.length) return `both linked with ${reasons.commonNeighbours.slice(0, 2).map((a) => articleLink(a)).join(", ")}`;
    if (reasons.sharedTerms.length) return `words ${reasons.sharedTerms.slice(0, 3).map(esc).join(", ")}`;
    return "similar wording";
  }

  function showRelated(similar) {
    const box = document.getElementById("related");
    box.innerHTML = similar.nodes.length
      ? `<ol class="links" id="related-list">${similar.nodes
          .map(
            (r) =>
              `<li data-id="${r.article.id}" data-score="${r.score}">${articleLink(r.article)} <span class="badge" title="relatedness, 0 to 1">${r.score.toFixed(2)}</span>` +
              `${r.linked ? "" : ` <span class="badge accent" title="no link joins them yet">not linked</span>`}` +
              `<div class="small muted">${relatedReason(r.reasons)}</div></li>`,
          )
          .join("")}</ol>`
      : `<p class="muted">Nothing in the corpus is related to it.</p>`;
  }

  async function drawNeighbourhood(route, id, { depth, direction, limit }) {
    const host = document.getElementById("neighbourhood");
    const started = performance.now();
    host.dataset.state = "loading";
    host.setAttribute("aria-busy", "true");
    try {
      // Topic names and colours come with the topics; they are usually in already.
      const [data] = await Promise.all([
        gql(SUBGRAPH_QUERY, { center: [id], depth, direction, limit }),
        loadTopics().catch(() => null),
      ]);
      if (route.token !== routeToken) return;
      const sub = data.subgraph;
      drawGraph(host, sub, {
        centers: new Set([id]),
        legend: document.getElementById("legend"),
        onOpen: (target) => {
          location.hash = link(["article", target], Object.fromEntries(route.params.entries()));
        },
      });
      await nextPaint();
      if (route.token !== routeToken) return;
      const ms = recordRender("neighbourhood", started, host);
      host.removeAttribute("aria-busy");
      const cut = sub.truncated ? ` · ${plural(sub.omittedNodes, "more article")} not drawn (raise “at most”)` : "";
      document.getElementById("graph-note").textContent =
        `${plural(sub.nodes.length, "node")}, ${plural(sub.edges.length, "link")}${cut} · drawn in ${Math.round(ms)} ms`;
    } catch (error) {
      if (route.token !== routeToken) return;
      host.dataset.state = "error";
      host.innerHTML = errorBox(error);
    }
  }

  // Learning paths.
  const PATHS_QUERY = `query Paths($from: Int!, $to: Int!, $k: Int!, $options: PathOptions) {
    start: article(id: $from) { id: articleId title } goal: article(id: $to) { id: articleId title }
    learningPathSearch(from: $from, to: $to, k: $k, options: $options) { shortfall explanation paths {
      hops cost bridges strength steps { article { id: articleId title topics { key name } } via rank score sharedKeywords sharedTerms topicChange } } } }`;

  let pathCache = { key: null, data: null };

  function pathOptions(params) {
    return {
      bridges: params.get("bridges") === "1",
      directed: params.get("directed") !== "0",
      sameTopic: params.get("sameTopic") === "1",
      weight: params.get("weight") === "RANK" ? "RANK" : "HOPS",
    };
  }

  function pickerHtml(name, label, id, title) {
    const value = title ? title : id ?? "";
    const chosen = id !== undefined && id !== null && id !== "" ? `#${esc(id)}` : "";
    return `<div class="picker" data-picker="${name}">
      <label for="pick-${name}">${label}</label>
      <input id="pick-${name}" name="${name}" type="text" autocomplete="off" placeholder="an id or words of its title" value="${esc(value)}" data-id="${esc(id ?? "")}" aria-describedby="pick-${name}-chosen" aria-autocomplete="list" aria-controls="pick-${name}-list">
      <div class="chosen" id="pick-${name}-chosen">${chosen}</div>
      <ul class="suggest" id="pick-${name}-list" hidden></ul></div>`;
  }

  function wirePicker(root) {
    const input = root.querySelector("input");
    const list = root.querySelector(".suggest");
    const chosen = root.querySelector(".chosen");
    let timer = null;
    let asked = 0;
    const close = () => {
      list.hidden = true;
      list.innerHTML = "";
    };
    input.addEventListener("input", () => {
      const q = input.value.trim();
      input.dataset.id = /^-?\d+$/.test(q) ? q : "";
      chosen.textContent = input.dataset.id ? `#${q}` : "";
      clearTimeout(timer);
      if (input.dataset.id) {
        // An id typed: say which article it is.
        close();
        const mine = ++asked;
        timer = setTimeout(async () => {
          try {
            const data = await gql(`query Title($id: Int!) { article(id: $id) { id: articleId title } }`, { id: Number(q) });
            if (mine === asked) chosen.textContent = data.article ? `#${q} · ${data.article.title}` : `#${q}: no such article`;
          } catch {
            // the id stays as typed; finding the path says what is wrong
          }
        }, 180);
        return;
      }
      if (!q) return close();
      timer = setTimeout(async () => {
        const mine = ++asked;
        try {
          const data = await gql(
            `query Pick($q: String!) { articles(filter: { search: $q }, first: 8) { nodes { id: articleId title topics { key } } } }`,
            { q },
          );
          if (mine !== asked) return;
          const nodes = data.articles.nodes;
          list.innerHTML = nodes.length
            ? nodes.map((a) => `<li><button type="button" data-id="${a.id}" data-title="${esc(a.title)}">${esc(a.title)} <span class="muted small">#${a.id}</span></button></li>`).join("")
            : `<li class="muted small" style="padding:0.3rem 0.7rem">No article matches</li>`;
          list.hidden = false;
        } catch {
          close();
        }
      }, 180);
    });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-id]");
      if (!button) return;
      input.value = button.dataset.title;
      input.dataset.id = button.dataset.id;
      chosen.textContent = `#${button.dataset.id}`;
      asked += 1;
      close();
      input.focus();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
      if (event.key === "ArrowDown" && !list.hidden) {
        event.preventDefault();
        list.querySelector("button")?.focus();
      }
    });
    root.addEventListener("focusout", (event) => {
      if (!root.contains(event.relatedTarget)) setTimeout(close, 150);
    });
  }

  /** The id a picker holds: chosen, typed, or the best search match of its words. */
  async function resolvePicker(input) {
    if (input.dataset.id) return Number(input.dataset.id);
    const q = input.value.trim();
    if (!q) throw new Error(`choose the ${input.name === "from" ? "start" : "goal"} article`);
    const data = await gql(`query Pick($q: String!) { articles(filter: { search: $q }, first: 1) { nodes { id: articleId } } }`, { q });
    const hit = data.articles.nodes[0];
    if (!hit) throw new Error(`no article matches “${q}”`);
    return hit.id;
  }

  async function pathView(route) {
    const from = route.parts[1] !== undefined ? Number(route.parts[1]) : null;
    const to = route.parts[2] !== undefined ? Number(route.parts[2]) : null;
    const options = pathOptions(route.params);
    const alt = Math.max(0, (Number(route.params.get("alt")) || 1) - 1);
    const key = JSON.stringify([from, to, options]);
    if (shown.view === "path" && shown.key === key && pathCache.key === key && pathCache.data) {
      return showPaths(route, pathCache.data, alt);
    }
    shown = { view: "path", key };
    const check = (name, label, on) => `<label><input type="checkbox" name="${name}"${on ? " checked" : ""}> ${label}</label>`;
    setView(
      "path",
      "Learning path",
      `<section class="card"><h1>Learning path</h1>
        <form id="path-form" aria-label="Find a learning path">
          <div class="pickers">${pickerHtml("from", "Start article", from, null)}${pickerHtml("to", "Goal article", to, null)}
            <div><button type="submit" id="find-path">Find paths</button></div></div>
          <div class="options">
            ${check("directed", "follow links forwards only (directed)", options.directed)}
            ${check("bridges", "bridges between related articles where links do not reach", options.bridges)}
            ${check("sameTopic", "stay in the start's topics", options.sameTopic)}
            <label>Shortest by <select name="weight"><option value="HOPS">fewest links</option><option value="RANK"${options.weight === "RANK" ? " selected" : ""}>strongest links (rank)</option></select></label>
          </div><div id="path-form-error"></div></form></section>
      <section class="card" id="path-result" ${from !== null && to !== null ? "" : "hidden"}><p class="loading">Finding paths</p></section>`,
    );
    const form = document.getElementById("path-form");
    for (const picker of form.querySelectorAll(".picker")) wirePicker(picker);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("path-form-error");
      error.innerHTML = "";
      try {
        const [a, b] = await Promise.all([resolvePicker(form.from), resolvePicker(form.to)]);
        location.hash = link(["path", a, b], {
          directed: form.directed.checked ? "" : "0",
          bridges: form.bridges.checked ? "1" : "",
          sameTopic: form.sameTopic.checked ? "1" : "",
          weight: form.weight.value === "RANK" ? "RANK" : "",
        });
      } catch (err) {
        error.innerHTML = errorBox(err);
      }
    });
    // The articles the address names, by title at once: the paths may take a while.
    for (const [input, id] of [[form.from, from], [form.to, to]]) {
      if (id === null || !Number.isInteger(id)) continue;
      gql(`query Title($id: Int!) { article(id: $id) { title } }`, { id })
        .then((data) => {
          if (route.token === routeToken && data.article && input.dataset.id === String(id)) input.value = data.article.title;
        })
        .catch(() => {});
    }
    if (from === null || to === null || !Number.isInteger(from) || !Number.isInteger(to)) return;
    try {
      const started = performance.now();
      const data = await gql(PATHS_QUERY, { from, to, k: 5, options });
      if (route.token !== routeToken) return;
      pathCache = { key, data };
      if (data.start) form.from.value = data.start.title;
      if (data.goal) form.to.value = data.goal.title;
      showPaths(route, data, alt, started);
    } catch (error) {
      if (route.token === routeToken) document.getElementById("path-result").innerHTML = errorBox(error);
    }
  }

  async function showPaths(route, data, alt, started = performance.now()) {
    const box = document.getElementById("path-result");
    box.hidden = false;
    const from = Number(route.parts[1]);
    const to = Number(route.parts[2]);
    if (!data.start || !data.goal) {
      const missing = [!data.start ? from : null, !data.goal ? to : null].filter((x) => x !== null);
      box.innerHTML = `<p class="error">No article ${missing.map((m) => `#${m}`).join(" or ")}.</p>`;
      return;
    }
    const search = data.learningPathSearch;
    const paths = search.paths;
    const heading = `<h2>From ${articleLink(data.start)} to ${articleLink(data.goal)}</h2>`;
    if (!paths.length) {
      const options = pathOptions(route.params);
      const untried = [
        options.bridges ? null : "bridges between related articles (tick “bridges”)",
        options.directed ? "following links both ways (untick “directed”)" : null,
      ].filter(Boolean);
      box.innerHTML = `${heading}<p class="notice" id="no-path">No learning path with these options${untried.length ? `. Try ${untried.join(", or ")}` : ` (${esc(search.explanation ?? "")})`}.</p>`;
      box.dataset.state = "ready";
      return;
    }
    // Fewer than asked for: why (every path within the limits listed, or the time bound).
    const fewer = search.shortfall
      ? `<p class="small muted" id="path-shortfall" data-shortfall="${search.shortfall}">${plural(paths.length, "path")}, not 5: ${esc(search.explanation)}.</p>`
      : "";
    const chosen = Math.min(alt, paths.length - 1);
    const path = paths[chosen];
    const base = Object.fromEntries(route.params.entries());
    const tabs = paths
      .map(
        (p, k) =>
          `<button type="button" aria-pressed="${k === chosen}" data-alt="${k + 1}">${k === 0 ? "Best" : `Alternative ${k}`} · ${plural(p.hops, "hop")}${p.bridges ? ` · ${plural(p.bridges, "bridge")}` : ""}</button>`,
      )
      .join("");
    box.innerHTML =
      `${heading}<div class="alternatives" role="group" aria-label="Paths found">${tabs}</div>${fewer}` +
      `<p class="small muted">${plural(path.hops, "hop")} · ${plural(path.bridges, "bridge")}${path.strength === null ? "" : ` · weakest step ${path.strength.toFixed(2)}`} · cost ${path.cost} <span title="a link costs 1, a bridge of score s costs 1/s">(in links)</span></p>` +
      `<div class="graph path-row" id="path-graph" data-state="loading"></div>` +
      `<h3 style="margin-top:1rem">Steps</h3><ol class="steps" id="path-steps">${path.steps.map(stepHtml).join("")}</ol>`;
    box.querySelector(".alternatives").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-alt]");
      if (button) location.hash = link(["path", from, to], { ...base, alt: button.dataset.alt === "1" ? "" : button.dataset.alt });
    });
    const host = document.getElementById("path-graph");
    drawPath(host, path.steps, (id) => {
      location.hash = link(["article", id]);
    });
    await nextPaint();
    recordRender("path", started, host);
    box.dataset.state = "ready";
  }

  function stepHtml(step) {
    const shared = step.sharedKeywords.map(esc).join(", ");
    let reason;
    if (step.via === "START") reason = `<span class="badge accent">START</span> where the path begins`;
    else if (step.via === "LINK" || step.via === "BACKLINK")
      reason = `<span class="badge">${step.via}</span> ${step.via === "LINK" ? "link" : "linked from here"}, rank ${step.rank} · related ${step.score.toFixed(2)}${shared ? ` <span class="muted">· shares ${shared}</span>` : ""}`;
    else {
      const terms = step.sharedTerms.map(esc).join(", ");
      reason = `<span class="badge warn">RELATED</span> related ${step.score.toFixed(2)}, no link: ${shared ? `shares ${shared}` : `words ${terms || "—"}`}`;
    }
    const change = step.topicChange ? ` <span class="badge warn">topic change</span>` : "";
    return (
      `<li data-id="${step.article.id}" data-via="${step.via}"${step.rank ? ` data-rank="${step.rank}"` : ""}><div>` +
      `<div class="spread"><span>${articleLink(step.article)}</span><span class="row">${step.article.topics.map(topicChip).join("")}</span></div>` +
      `<div class="reason">${reason}${change}</div></div></li>`
    );
  }

  // Topics.
  async function topicsView(route) {
    shown = { view: "topics" };
    setView("topics", "Topics", `<section class="card"><h1>Topics</h1><div id="topic-list" class="loading">Loading</div></section>`);
    try {
      const topics = await loadTopics();
      if (route.token !== routeToken) return;
      document.getElementById("topic-list").outerHTML =
        `<ul class="topic-grid" id="topic-list">${topics
          .map(
            (t) =>
              `<li data-topic="${esc(t.key)}"><a class="card" href="${link(["topic", t.key])}"><span class="name"><span class="dot" data-shape="${topicShape(t.key)}" style="background:${topicColour(t.key)}"></span>${esc(t.name)}</span>` +
              `<span class="muted small">${plural(t.articleCount, "article")} · ${plural(t.fileCount, "file")} · <span class="mono">${esc(t.key)}</span></span>` +
              (t.spellings.length > 1 ? `<br><span class="small badge warn">spelled ${t.spellings.length} ways</span>` : "") +
              `</a></li>`,
          )
          .join("")}</ul>`;
    } catch (error) {
      if (route.token === routeToken) document.getElementById("topic-list").outerHTML = errorBox(error);
    }
  }

  async function topicView(route) {
    const key = route.parts[1];
    if (!key) return topicsView(route);
    const start = route.params.get("start") ? Number(route.params.get("start")) : null;
    const limit = [100, 300, 1000].includes(Number(route.params.get("limit"))) ? Number(route.params.get("limit")) : 300;
    shown = { view: "topic", key };
    setView(
      "topics",
      `Topic ${key}`,
      `<div class="split"><div class="stack"><section class="card" id="topic-head"><h1>${esc(topicNames.get(key) ?? key)}</h1><p class="loading">Loading</p></section>
        <section class="card"><h2>Reading order</h2><p class="small muted" id="reading-note"></p><div id="reading" class="loading">Loading</div></section></div>
        <div class="stack sticky"><section class="card"><div class="graph-head"><h2>Topic graph</h2>
          <form class="controls" id="topic-controls"><label>Most linked <select name="limit">${[100, 300, 1000].map((l) => `<option value="${l}"${l === limit ? " selected" : ""}>${l}</option>`).join("")}</select></label></form></div>
          <div class="graph" id="topic-graph" data-state="loading"></div><div class="graph-foot"><div id="legend"></div><span id="graph-note"></span></div></section></div></div>`,
    );
    document.getElementById("topic-controls").addEventListener("change", (event) => {
      location.hash = link(["topic", key], { start, limit: event.target.value === "300" ? "" : event.target.value });
    });
    try {
      const head = await gql(`query T($key: String!) { topic(key: $key) { key name articleCount fileCount spellings } }`, { key });
      if (route.token !== routeToken) return;
      const topic = head.topic;
      if (!topic) {
        document.getElementById("topic-head").innerHTML = `<h1>No topic “${esc(key)}”</h1><p><a href="#/topics">All topics</a></p>`;
        document.getElementById("reading").innerHTML = "";
        document.getElementById("topic-graph").innerHTML = "";
        return;
      }
      document.title = `${topic.name} · kgraph explorer`;
      document.getElementById("topic-head").innerHTML =
        `<h1><span class="dot" data-shape="${topicShape(topic.key)}" style="background:${topicColour(topic.key)};width:1rem;height:1rem"></span> ${esc(topic.name)}</h1>` +
        `<p class="muted">${plural(topic.articleCount, "article")} in ${plural(topic.fileCount, "file")}` +
        (topic.spellings.length > 1 ? ` · subject spelled ${topic.spellings.map((s) => `“${esc(s)}”`).join(", ")}` : "") +
        `</p><div class="row"><a class="button quiet" href="${link(["curation"], { topic: topic.key })}">Curator reports for this topic</a></div>`;
      const started = performance.now();
      await loadTopics().catch(() => null);
      const data = await gql(
        `query TopicGraph($key: String!, $start: Int, $limit: Int!) {
          topicGraph(key: $key, limit: $limit, layout: SPRING) { nodes { id label topic inDegree outDegree wanted x y } edges { id source target rank } truncated omittedNodes }
          readingPlan(topic: $key, start: $start, first: 50) { article { id: articleId title level inDegree outDegree } via after { id: articleId title } score nearDuplicates { id: articleId title } } }`,
        { key, start, limit },
      );
      if (route.token !== routeToken) return;
      const plan = data.readingPlan;
      const order = plan.map((step) => step.article);
      document.getElementById("reading-note").textContent = start !== null
        ? `From #${start}: foundations first, each next article linked or closely related to one read; other tellings of a question are listed under it.`
        : "From the topic's most foundational article: foundations first, each next article linked or closely related to one read; other tellings of a question are listed under it.";
      const reading = document.getElementById("reading");
      reading.classList.remove("loading");
      const why = (step) => {
        if (step.via === "START") return "a new start";
        const short = step.after.title.length > 48 ? `${step.after.title.slice(0, 46)}…` : step.after.title;
        const from = `<a href="${link(["article", step.after.id])}" title="${esc(step.after.title)}">“${esc(short)}”</a>`;
        if (step.via === "LINK") return `linked from ${from}`;
        if (step.via === "BACKLINK") return `links to ${from}`;
        return `related to ${from} (${step.score.toFixed(2)})`;
      };
      const copies = (step) =>
        step.nearDuplicates.length
          ? `<details class="copies"><summary class="small muted">also asked ${plural(step.nearDuplicates.length, "other way")}</summary><ul>${step.nearDuplicates
              .map((d) => `<li data-id="${d.id}">${articleLink(d)}</li>`)
              .join("")}</ul></details>`
          : "";
      reading.innerHTML = `<ol class="reading" id="reading-order">${plan
        .map(({ article: a, ...step }) =>
            `<li data-id="${a.id}" data-level="${a.level}" data-via="${step.via}">${articleLink(a)} <span class="muted small">${a.level.toLowerCase()} · <span class="why">${why(step)}</span> · <a href="${link(["topic", key], { start: a.id, limit: limit === 300 ? "" : limit })}" aria-label="Read the topic from ${esc(a.title)}">start here</a></span>${copies(step)}</li>`,
        )
        .join("")}</ol>${topic.articleCount > order.length ? `<p class="small muted">The first ${order.length} of ${topic.articleCount}.</p>` : ""}`;
      const host = document.getElementById("topic-graph");
      const sub = data.topicGraph;
      drawGraph(host, sub, {
        centers: new Set(start !== null ? [start] : order.slice(0, 1).map((a) => a.id)),
        legend: document.getElementById("legend"),
        onOpen: (id) => {
          location.hash = link(["article", id]);
        },
      });
      await nextPaint();
      if (route.token !== routeToken) return;
      const ms = recordRender("topic", started, host);
      const cut = sub.truncated ? ` · the ${sub.nodes.length} most linked of ${topic.articleCount}` : "";
      document.getElementById("graph-note").textContent = `${plural(sub.nodes.length, "node")}, ${plural(sub.edges.length, "link")}${cut} · drawn in ${Math.round(ms)} ms`;
    } catch (error) {
      if (route.token === routeToken) document.getElementById("topic-head").insertAdjacentHTML("beforeend", errorBox(error));
    }
  }

  // Curator.
  const ARTICLE_ROWS = `totalCount pageInfo { hasNextPage endCursor } nodes { id: articleId title inDegree outDegree topics { key name } }`;
  const FINDING_ROWS = `totalCount pageInfo { hasNextPage endCursor } nodes { kind article { id: articleId title } copyPath rank ranks statedId statedUrl target { id: articleId title } wanted { id: articleId title suggestions { id: articleId title } } fix }`;
  const REPORTS = [
    { key: "orphans", title: "Orphans", about: "Articles no other article links to.", rows: ARTICLE_ROWS, kind: "articles" },
    { key: "deadEnds", title: "Dead ends", about: "Articles linking nowhere, most linked-to first.", rows: ARTICLE_ROWS, kind: "articles" },
    { key: "isolated", title: "Isolated", about: "Articles with no link in or out.", rows: ARTICLE_ROWS, kind: "articles" },
    { key: "wantedArticles", title: "Wanted articles", about: "Missing articles that related entries name, most referred first, with the existing articles they most likely meant.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { id: articleId title subject url referrers(first: 20) { nodes { id: articleId title } } suggestions { id: articleId title } }`, kind: "wanted" },
    { key: "brokenLinks", title: "Broken links", about: "Entries naming an article that exists nowhere.", rows: FINDING_ROWS, kind: "findings" },
    { key: "staleLinks", title: "Stale links", about: "Entries with an outdated id, resolved by their url: the fix says what to write.", rows: FINDING_ROWS, kind: "findings" },
    { key: "urlMismatches", title: "Url mismatches", about: "Entries whose url is not a url of the article their id names.", rows: FINDING_ROWS, kind: "findings" },
    { key: "duplicateLinks", title: "Duplicate links", about: "Entries repeating an earlier entry of the same file.", rows: FINDING_ROWS, kind: "findings" },
    { key: "selfLinks", title: "Self links", about: "Entries naming their own article.", rows: FINDING_ROWS, kind: "findings" },
    { key: "duplicateArticles", title: "Duplicate articles", about: "Article ids held by several files, most copies first.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { id article { id: articleId title } copies { path subject url } relatedListsDiffer }`, kind: "duplicates" },
    { key: "islands", title: "Islands", about: "Pieces of the link graph other than the largest, largest first.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { size articles(first: 8) { totalCount nodes { id: articleId title } } }`, kind: "islands" },
    { key: "linkSuggestions", title: "Link suggestions", about: "For each orphan, then each dead end, then each island article: the most related articles it does not link to yet.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { article { id: articleId title } suggested { article { id: articleId title } score sharedKeywords linked } }`, kind: "suggestions" },
    { key: "overLinked", title: "Most linked", about: "The most linked-to articles, by in-degree.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { article { id: articleId title topics { key name } } inDegree zScore share }`, kind: "ranked" },
    { key: "subjectSpellings", title: "Subject spellings", about: "Topics whose subject is spelled more than one way.", rows: `key name spellings { spelling files }`, kind: "spellings", list: true, whole: true },
    { key: "parseErrors", title: "Parse errors", about: "Files that could not be read, with where and why.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { path line message }`, kind: "diagnostics" },
  ];
  const FIGURES = [
    ["articles", "articles"], ["files", "files"], ["links", "links"], ["references", "related entries"],
    ["topics", "topics", null, "#/topics"], ["orphans", "orphans", "orphans"], ["deadEnds", "dead ends", "deadEnds"],
    ["isolated", "isolated", "isolated"], ["wantedArticles", "wanted articles", "wantedArticles"],
    ["brokenLinks", "broken links", "brokenLinks"], ["staleLinks", "stale links", "staleLinks"],
    ["urlMismatches", "url mismatches", "urlMismatches"], ["duplicateLinks", "duplicate links", "duplicateLinks"],
    ["selfLinks", "self links", "selfLinks"], ["duplicateArticles", "duplicate articles", "duplicateArticles"],
    ["parseErrors", "parse errors", "parseErrors"], ["components", "components", "islands"],
    ["largestComponent", "in the largest component"], ["maxInDegree", "most links in", "overLinked"],
  ];
  const PROBLEMS = new Set(["orphans", "deadEnds", "isolated", "wantedArticles", "brokenLinks", "staleLinks", "urlMismatches", "duplicateLinks", "selfLinks", "duplicateArticles", "parseErrors"]);

  async function curationView(route) {
    const reportKey = route.parts[1] || "";
    const report = REPORTS.find((r) => r.key === reportKey) ?? null;
    if (reportKey && !report) return notFound(route);
    const topic = route.params.get("topic") || "";
    const first = Math.min(100, Math.max(1, Number(route.params.get("first")) || PAGE));
    const after = route.params.get("after") || null;
    shown = { view: "curation" };
    const keep = topic ? { topic } : {};
    setView(
      "curation",
      report ? `${report.title} · curator` : "Curator",
      `<section class="card"><div class="spread"><h1>Curator</h1>
        <label class="row">Topic <select id="curation-topic"><option value="">All topics</option></select></label></div>
        <ul class="figures" id="figures"><li class="loading">Loading</li></ul></section>
      <section class="card" id="report" data-report="${esc(reportKey)}">
        <nav class="report-tabs" aria-label="Reports">${REPORTS.map((r) => `<a href="${link(["curation", r.key], keep)}" data-report="${r.key}"${r.key === reportKey ? ' aria-current="page"' : ""}>${r.title}</a>`).join("")}</nav>
        <div id="report-body">${report ? `<p class="loading">Loading ${esc(report.title.toLowerCase())}</p>` : `<p class="muted">Choose a report. Each lists its findings worst first; the topic narrows every report.</p>`}</div></section>`,
    );
    const select = document.getElementById("curation-topic");
    loadTopics()
      .then((topics) => {
        select.insertAdjacentHTML("beforeend", topics.map((t) => `<option value="${esc(t.key)}">${esc(t.name)}</option>`).join(""));
        select.value = topic;
      })
      .catch(() => {});
    select.addEventListener("change", () => {
      location.hash = link(["curation", ...(reportKey ? [reportKey] : [])], { topic: select.value });
    });
    const fields = report
      ? report.whole
        ? `${report.key} { ${report.rows} }`
        : report.list
          ? `${report.key}(first: $first) { ${report.rows} }`
          : `${report.key}(first: $first, after: $after) { ${report.rows} }`
      : "";
    const variables = report && !report.whole ? (report.list ? "$first: Int!" : "$first: Int!, $after: String") : "";
    const query = `query Curation($topic: String${variables ? `, ${variables}` : ""}) { curation(topic: $topic) { summary { ${FIGURES.map((x) => x[0]).join(" ")} } ${fields} } }`;
    try {
      const data = await gql(query, { topic: topic || null, ...(report && !report.whole ? { first } : {}), ...(report && !report.list ? { after } : {}) });
      if (route.token !== routeToken) return;
      const summary = data.curation.summary;
      document.getElementById("figures").innerHTML = FIGURES.map(([name, label, target, href]) => {
        const n = summary[name];
        const bad = PROBLEMS.has(name) && n > 0 ? " bad" : "";
        const body = `<span class="n">${n.toLocaleString("en")}</span><span class="what">${label}</span>`;
        const to = target ? link(["curation", target], keep) : href;
        return `<li>${to ? `<a class="figure${bad}" href="${to}" data-figure="${name}">${body}</a>` : `<div class="figure" data-figure="${name}">${body}</div>`}</li>`;
      }).join("");
      if (report) showReport(route, report, data.curation[report.key], first);
    } catch (error) {
      if (route.token === routeToken) document.getElementById("report-body").innerHTML = errorBox(error);
    }
  }

  // A report's rows as `kgraph check --format json` lists them, for its downloads.
  const ids = (articles) => articles.map((a) => a.id);
  const findingRow = (x, extra = {}) => ({
    article: x.article.id,
    path: x.copyPath,
    rank: x.rank,
    stated_id: x.statedId,
    stated_url: x.statedUrl,
    target: x.target ? x.target.id : null,
    ...extra,
    fix: x.fix,
  });
  const EXPORTS = {
    orphans: { name: "orphans", row: (a) => ({ id: a.id }) },
    deadEnds: { name: "dead_ends", row: (a) => ({ id: a.id }) },
    isolated: { name: "isolated", row: (a) => ({ id: a.id }) },
    brokenLinks: { name: "broken_links", row: (x) => findingRow(x, { suggestions: x.wanted ? ids(x.wanted.suggestions) : [] }) },
    staleLinks: { name: "stale_links", row: (x) => findingRow(x) },
    urlMismatches: { name: "url_mismatches", row: (x) => findingRow(x) },
    duplicateLinks: { name: "duplicate_links", row: (x) => findingRow(x, { first_rank: x.ranks[0] }) },
    selfLinks: { name: "self_links", row: (x) => findingRow(x) },
    wantedArticles: {
      name: "wanted_articles",
      row: (w) => ({ id: w.id, title: w.title, subject: w.subject, url: w.url, referrers: ids(w.referrers.nodes), suggestions: ids(w.suggestions) }),
    },
    parseErrors: { name: "parse_errors", row: (d) => ({ path: d.path, line: d.line, message: d.message }) },
    duplicateArticles: {
      name: "duplicate_articles",
      row: (d) => ({ id: d.id, paths: d.copies.map((c) => c.path), related_lists_differ: d.relatedListsDiffer }),
    },
  };

  /** Every row of a paged report, a hundred a request. */
  async function wholeReport(report, topic) {
    const rows = [];
    let after = null;
    for (;;) {
      const data = await gql(
        `query Export($topic: String, $after: String) { curation(topic: $topic) { ${report.key}(first: 100, after: $after) { ${report.rows} } } }`,
        { topic: topic || null, after },
      );
      const page = data.curation[report.key];
      rows.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) return rows;
      after = page.pageInfo.endCursor;
    }
  }

  /** A CSV cell: lists joined by spaces, null empty, quoted where it must be. */
  function csvCell(value) {
    const text = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(" ") : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function toCsv(rows) {
    if (!rows.length) return "";
    const columns = Object.keys(rows[0]);
    return [columns.join(","), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(","))].join("\r\n") + "\r\n";
  }

  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** Download a report whole; ``shown`` holds its rows when the page shows them all. */
  async function exportReport(report, topic, format, button, shown) {
    const about = EXPORTS[report.key];
    const label = button.textContent;
    button.disabled = true;
    button.textContent = "Preparing…";
    try {
      const rows = (report.whole ? shown : await wholeReport(report, topic)).map(about.row);
      const name = `${about.name}${topic ? `-${topic}` : ""}.${format}`;
      if (format === "csv") download(name, "text/csv", toCsv(rows));
      else download(name, "application/json", `${JSON.stringify(rows, null, 2)}\n`);
    } catch (error) {
      button.insertAdjacentHTML("afterend", errorBox(error));
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  /** Sort a report's shown rows by the column whose heading was pressed, again to reverse. */
  function sortBy(table, th) {
    const column = [...th.parentNode.children].indexOf(th);
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const key = (tr) => {
      const cell = tr.children[column];
      const text = (cell?.textContent ?? "").trim();
      const number = cell?.classList.contains("num") ? Number.parseFloat(text.replace(/[^\d.-]/g, "")) : Number.NaN;
      return Number.isNaN(number) ? text.toLowerCase() : number;
    };
    const body = table.tBodies[0];
    const rows = [...body.rows].map((tr, index) => ({ tr, index, key: key(tr) }));
    rows.sort((p, q) => {
      const order = typeof p.key === "number" && typeof q.key === "number" ? p.key - q.key : String(p.key).localeCompare(String(q.key));
      return (ascending ? order : -order) || p.index - q.index;
    });
    body.append(...rows.map((r) => r.tr));
  }

  async function copyText(button) {
    const text = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (an insecure origin, a headless browser): select the
      // text so that Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(button.previousElementSibling);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
      return;
    }
    button.textContent = "Copied";
    setTimeout(() => {
      button.textContent = "Copy";
    }, 2000);
  }

  const articleCell = (a) => (a ? `${articleLink(a)} <span class="muted small">#${a.id}</span>` : "—");

  function showReport(route, report, result, first) {
    const body = document.getElementById("report-body");
    const rows = report.list ? result : result.nodes;
    const total = report.list ? rows.length : result.totalCount;
    const [head, row] = REPORT_TABLES[report.kind](report);
    const table = rows.length
      ? `<div class="table-wrap"><table class="report" id="report-table"><thead><tr>${head.map((h) => `<th scope="col"><button type="button" class="sort" title="Sort the rows shown by this column">${h}</button></th>`).join("")}</tr></thead><tbody>${rows.map(row).join("")}</tbody></table></div>`
      : `<p class="notice">Nothing to report.</p>`;
    let paging = "";
    if (!report.list && total > 0) paging = pager(["curation", report.key], route.params, result.pageInfo, total, rows.length);
    else if (report.list && !report.whole && rows.length >= first && first < 100) {
      const more = link(["curation", report.key], { ...Object.fromEntries(route.params.entries()), first: Math.min(100, first + PAGE) });
      paging = `<nav class="pager"><a class="button quiet" href="${more}">Show more</a></nav>`;
    }
    const exports = EXPORTS[report.key] && total > 0
      ? `<div class="row report-export"><span class="muted small">All ${plural(total, "row")}, as <code>kgraph check --format json</code> lists them:</span>` +
        `<button type="button" class="quiet" data-export="csv">Download CSV</button><button type="button" class="quiet" data-export="json">Download JSON</button></div>`
      : "";
    body.innerHTML =
      `<div class="spread"><h2>${esc(report.title)}</h2><span class="muted">${report.list ? plural(total, "row") : plural(total, "finding")}</span></div>` +
      `<p class="muted small">${esc(report.about)}</p>${exports}${table}${paging}`;
    body.addEventListener("click", (event) => {
      const target = event.target.closest("button");
      if (!target) return;
      if (target.dataset.export) exportReport(report, route.params.get("topic") || "", target.dataset.export, target, rows);
      else if (target.classList.contains("sort")) sortBy(body.querySelector("#report-table"), target.closest("th"));
      else if (target.dataset.copy !== undefined) copyText(target);
    });
    body.dataset.state = "ready";
  }

  const suggestionsCell = (articles) =>
    articles && articles.length ? `<ul>${articles.map((a) => `<li>${articleLink(a)} <span class="muted small">#${a.id}</span></li>`).join("")}</ul>` : `<span class="muted">none</span>`;

  const REPORT_TABLES = {
    articles: () => [
      ["Article", "Topics", "In", "Out"],
      (a) => `<tr data-id="${a.id}"><td>${articleCell(a)}</td><td>${a.topics.map(topicChip).join(" ")}</td><td class="num">${a.inDegree}</td><td class="num">${a.outDegree}</td></tr>`,
    ],
    wanted: () => [
      ["Missing article", "Url", "Linked from", "Did they mean"],
      (w) =>
        `<tr data-wanted="${w.id}"><td><strong>${esc(w.title ?? "untitled")}</strong> <span class="muted small">#${w.id}${w.subject ? ` · ${esc(w.subject)}` : ""}</span></td>` +
        `<td class="mono small">${esc(w.url ?? "—")}</td><td>${suggestionsCell(w.referrers.nodes)}</td><td class="suggestions">${suggestionsCell(w.suggestions)}</td></tr>`,
    ],
    findings: (report) => [
      ["Article", "File", "Rank", "Entry states", report.key === "brokenLinks" ? "Missing · did they mean" : "Resolves to", "Fix"],
      (x) => {
        const stated = [x.statedId !== null ? `id ${x.statedId}` : "", x.statedUrl ? `<span class="mono small">${esc(x.statedUrl)}</span>` : ""].filter(Boolean).join("<br>");
        const target = x.target
          ? articleCell(x.target)
          : x.wanted
            ? `missing: ${esc(x.wanted.title ?? `#${x.wanted.id}`)} <span class="muted small">#${x.wanted.id}</span>${x.wanted.suggestions.length ? suggestionsCell(x.wanted.suggestions) : ""}`
            : "—";
        return (
          `<tr data-id="${x.article.id}"${x.wanted ? ` data-wanted="${x.wanted.id}"` : ""} data-kind="${x.kind}"><td>${articleCell(x.article)}</td><td class="mono small">${esc(x.copyPath)}</td>` +
          `<td class="num">${x.ranks.join(" → ")}</td><td>${stated || "—"}</td><td>${target}</td><td><span class="fix">${esc(x.fix)}</span> <button type="button" class="quiet copy" data-copy="${esc(x.fix)}" aria-label="Copy the fix">Copy</button></td></tr>`
        );
      },
    ],
    duplicates: () => [
      ["Article", "Copies", "Related lists"],
      (d) =>
        `<tr data-id="${d.id}"><td>${articleCell({ id: d.id, title: d.article.title })}</td><td><ul>${d.copies.map((c) => `<li class="mono small">${esc(c.path)} <span class="muted">(${esc(c.subject)})</span></li>`).join("")}</ul></td>` +
        `<td>${d.relatedListsDiffer ? `<span class="badge warn">differ</span>` : `<span class="badge ok">same</span>`}</td></tr>`,
    ],
    islands: () => [
      ["Size", "Articles"],
      (island) => {
        const more = island.articles.totalCount - island.articles.nodes.length;
        return `<tr><td class="num">${island.size}</td><td>${island.articles.nodes.map((a) => articleLink(a)).join(" · ")}${more > 0 ? ` <span class="muted">and ${more} more</span>` : ""}</td></tr>`;
      },
    ],
    suggestions: () => [
      ["Article", "Could link to (similarity · shared keywords)"],
      (s) =>
        `<tr data-id="${s.article.id}"><td>${articleCell(s.article)}</td><td><ul>${s.suggested
          .map((x) => `<li>${articleLink(x.article)} <span class="muted small">${Math.round(x.score * 100)}% · ${x.sharedKeywords.map(esc).join(", ")}</span></li>`)
          .join("")}</ul></td></tr>`,
    ],
    ranked: () => [
      ["Article", "Topics", "Links in", "z-score", "Share of links"],
      (r) =>
        `<tr data-id="${r.article.id}"><td>${articleCell(r.article)}</td><td>${r.article.topics.map(topicChip).join(" ")}</td><td class="num">${r.inDegree}</td><td class="num">${r.zScore.toFixed(2)}</td><td class="num">${(r.share * 100).toFixed(2)}%</td></tr>`,
    ],
    spellings: () => [
      ["Topic", "Spellings (files)"],
      (t) => `<tr data-topic="${esc(t.key)}"><td>${topicChip({ key: t.key, name: t.name })}</td><td>${t.spellings.map((s) => `“${esc(s.spelling)}” × ${s.files}`).join(", ")}</td></tr>`,
    ],
    diagnostics: () => [
      ["File", "Line", "Why"],
      (d) => `<tr><td class="mono small">${esc(d.path)}</td><td class="num">${d.line ?? "—"}</td><td>${esc(d.message)}</td></tr>`,
    ],
  };

  function notFound() {
    shown = { view: null };
    setView("", "Not found", `<section class="card"><h1>Nothing here</h1><p><a href="#/">Back to the start</a></p></section>`);
  }

  // ---------------------------------------------------------------- router

  const VIEWS = {
    "": homeView,
    search: searchView,
    article: articleView,
    path: pathView,
    topics: topicsView,
    topic: topicView,
    curation: curationView,
  };

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
    const parts = path.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
    return { parts, params };
  }

  async function route() {
    const { parts, params } = parseHash();
    const view = VIEWS[parts[0] ?? ""] ?? notFound;
    const token = ++routeToken;
    if (view !== articleView && view !== pathView) shown = { view: null };
    if (view !== searchView) document.getElementById("search-input").value = "";
    // Topic names and colours first (fetched once), so that every view shows them alike.
    await loadTopics().catch(() => null);
    if (token !== routeToken) return;
    // Which route the view shows (set as it starts drawing): a "ready" state below belongs to it.
    main.dataset.route = location.hash || "#/";
    await view({ parts, params, token });
  }

  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    if (q) location.hash = link(["search"], { q });
  });
  window.addEventListener("hashchange", route);
  loadTopics().catch(() => {});
  route();
})();
