// The search view: the home page (search, topics, the most linked articles) and search results.
import { PAGE, articleLink, current, errorBox, esc, gql, isCurrent, link, loadTopics, pager, plural, setView, topicChip } from "./shared.js";

// GraphQL texts of this module. The page keys articles by their numeric id (`articleId`,
// asked as `id`); the global `id` is for client caches.
const ARTICLE_SUMMARY = "id: articleId title description inDegree outDegree topics { key name }";
const HOME_QUERY = `{ stats { articles links topics files version } curation { overLinked(first: 8) { nodes { inDegree article { ${ARTICLE_SUMMARY} } } } } }`;
const SEARCH_QUERY = `query Search($q: String!, $first: Int!, $after: String) { articles(filter: { search: $q }, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${ARTICLE_SUMMARY} } } }`;

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

// Home: search, topics and the most linked articles.
export async function homeView(route) {
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
      gql(HOME_QUERY),
      loadTopics(),
    ]);
    if (!isCurrent(route)) return;
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
    if (isCurrent(route)) document.getElementById("home-linked").outerHTML = errorBox(error);
  }
}

export async function searchView(route) {
  const q = (route.params.get("q") || "").trim();
  document.getElementById("search-input").value = q;
  if (!q) return homeView(route);
  const after = route.params.get("after") || null;
  const openId = /^-?\d+$/.test(q) ? `<p class="notice">Open article <a href="${link(["article", q])}">#${esc(q)}</a></p>` : "";
  setView("home", `Search: ${q}`, `<section class="card" id="search-results"><h1>Search: “${esc(q)}”</h1>${openId}<div class="loading">Searching</div></section>`);
  try {
    const data = await gql(
      SEARCH_QUERY,
      { q, first: PAGE, after },
    );
    if (!isCurrent(route)) return;
    const found = data.articles;
    const section = document.getElementById("search-results");
    section.innerHTML =
      `<div class="spread"><h1>Search: “${esc(q)}”</h1><span class="muted">${plural(found.totalCount, "article")}</span></div>${openId}` +
      resultsList(found.nodes) +
      (found.totalCount > found.nodes.length ? pager(["search"], route.params, found.pageInfo, found.totalCount, found.nodes.length) : "");
    section.dataset.state = "ready";
  } catch (error) {
    if (isCurrent(route)) document.getElementById("search-results").innerHTML = errorBox(error);
  }
}
