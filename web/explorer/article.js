// The article view: an article's answer, links, backlinks and related articles, and its
// neighbourhood drawn by Cytoscape.js.
import { articleLink, current, errorBox, esc, gql, isCurrent, link, loadDrawing, loadMaths, loadTopics, neighbours, nextPaint, notFound, plural, recordRender, setView, topicChip, topicStyle } from "./shared.js";

// ---------------------------------------------------------------- answers

/**
 * Show an answer: the server renders it (Article.answerHtml: Markdown by
 * markdown-it-py, raw HTML escaped), KaTeX typesets its maths in the page,
 * and its links open apart from the explorer.
 */
async function showAnswer(box, html) {
  box.innerHTML = html;
  for (const a of box.querySelectorAll("a[href]")) {
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
  }
  const { typeset } = await loadMaths();
  typeset(box);
}


// GraphQL texts of this module. The page keys articles by their numeric id (`articleId`,
// asked as `id`); the global `id` is for client caches.
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

export async function articleView(route) {
  const id = Number(route.parts[1]);
  if (!Number.isInteger(id)) return notFound(route);
  const options = graphOptions(route.params);
  if (current.shown.view === "article" && current.shown.id === id) {
    // Same article, other graph options: redraw the neighbourhood only.
    syncGraphControls(options);
    return drawNeighbourhood(route, id, options);
  }
  current.shown = { view: "article", id };
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
      <p class="small muted" id="hood-help">Click an article to select it, double-click it (or press Open) to open it; Expand draws the selected article's neighbours around it, up to 2,000 articles. Hollow circles are missing (wanted) articles. Drag to pan, wheel or +/− to zoom: labels appear as you zoom in. Press a topic below to hide or show its articles; Tab to the drawing, then arrow keys move between articles, Enter opens one and E expands it.</p>
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
  // KaTeX, fetched while the article is.
  loadMaths().catch(() => null);
  try {
    const data = await gql(ARTICLE_QUERY, { id });
    if (!isCurrent(route)) return;
    await showArticle(id, data.article);
    if (data.article) showRelated(data.similar);
  } catch (error) {
    if (isCurrent(route)) document.getElementById("article").innerHTML = errorBox(error);
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

async function showArticle(id, article) {
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
  const answer = showAnswer(document.getElementById("answer"), article.answerHtml);
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
  await answer;
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
    const [data, { drawGraph }] = await Promise.all([
      gql(SUBGRAPH_QUERY, { center: [id], depth, direction, limit }),
      loadDrawing(),
      loadTopics().catch(() => null),
    ]);
    if (!isCurrent(route)) return;
    const sub = data.subgraph;
    drawGraph(host, sub, {
      topicStyle,
      centers: new Set([id]),
      legend: document.getElementById("legend"),
      onOpen: (target) => {
        location.hash = link(["article", target], Object.fromEntries(route.params.entries()));
      },
      onExpand: neighbours,
      onGrow: ({ nodes, edges }) => {
        document.getElementById("graph-note").textContent = `${plural(nodes, "node")}, ${plural(edges, "link")} · expanded in place`;
      },
    });
    await nextPaint();
    if (!isCurrent(route)) return;
    const ms = recordRender("neighbourhood", started, host);
    host.removeAttribute("aria-busy");
    const cut = sub.truncated ? ` · ${plural(sub.omittedNodes, "more article")} not drawn (raise “at most”)` : "";
    document.getElementById("graph-note").textContent =
      `${plural(sub.nodes.length, "node")}, ${plural(sub.edges.length, "link")}${cut} · drawn in ${Math.round(ms)} ms`;
  } catch (error) {
    if (!isCurrent(route)) return;
    host.dataset.state = "error";
    host.innerHTML = errorBox(error);
  }
}

