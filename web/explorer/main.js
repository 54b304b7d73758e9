// kgraph explorer: one page, hash routes, and nothing but the public GraphQL API.
// esbuild bundles this module and those it imports into /static/dist/explorer.js (make web).
//
// Routes (shareable):
//   #/                                  search and entry points            search.js
//   #/search?q=WORDS                    search results                     search.js
//   #/article/ID?depth=1&direction=BOTH article and its neighbourhood      article.js
//   #/path/FROM/TO?bridges=1&alt=2      learning paths and alternatives    path.js
//   #/topics, #/topic/KEY?start=ID      topics, a topic's graph and order  graph.js
//   #/curation/REPORT?topic=KEY&after=  curator summary and one report     curator.js
// KaTeX's style sheet, in /static/dist/explorer.css: its script comes when an answer does.
import "katex/dist/katex.css";
import { articleView } from "./article.js";
import { curationView } from "./curator.js";
import { topicView, topicsView } from "./graph.js";
import { pathView } from "./path.js";
import { homeView, searchView } from "./search.js";
import { current, link, loadTopics, notFound, parseHash } from "./shared.js";

const VIEWS = {
  "": homeView,
  search: searchView,
  article: articleView,
  path: pathView,
  topics: topicsView,
  topic: topicView,
  curation: curationView,
};

// ---------------------------------------------------------------- scroll kept in history
//
// Every view is drawn after its answers come, long after the browser would restore
// the scroll of a history entry: the page keeps each entry's scroll in its history
// state and restores it once the view is drawn.
history.scrollRestoration = "manual";

function keepScroll() {
  history.replaceState({ ...(history.state ?? {}), scrollY: Math.round(window.scrollY) }, "");
}

let scrollTimer = null;
window.addEventListener("scroll", () => {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(keepScroll, 120);
}, { passive: true });
// A link followed within the scroll's pause above still leaves its entry's scroll behind.
document.addEventListener("click", keepScroll, true);

// ---------------------------------------------------------------- router

async function route() {
  clearTimeout(scrollTimer);
  const { parts, params } = parseHash();
  const view = VIEWS[parts[0] ?? ""] ?? notFound;
  const token = ++current.token;
  // The scroll this entry had when it was left (Back, Forward), or none: a new entry.
  const scrollY = history.state?.scrollY;
  current.restoring = scrollY;
  if (view !== articleView && view !== pathView) current.shown = { view: null };
  if (view !== searchView) document.getElementById("search-input").value = "";
  // Topic names and colours first (fetched once), so that every view shows them alike.
  await loadTopics().catch(() => null);
  if (token !== current.token) return;
  // Which route the view shows (set as it starts drawing): a "ready" state below belongs to it.
  const main = document.getElementById("main");
  main.dataset.route = location.hash || "#/";
  await view({ parts, params, token });
  if (token !== current.token) return;
  // A new entry was put at its top by setView (unless the view only redrew a part of
  // the page); one gone back to gets its scroll now that it is drawn.
  if (scrollY !== undefined) window.scrollTo(0, scrollY);
  main.dataset.scrolled = String(Math.round(window.scrollY));
}

// ---------------------------------------------------------------- the header's views on a phone

const header = document.querySelector("header.top");
const menu = document.getElementById("views-menu");

function showViews(open) {
  header.dataset.menu = open ? "open" : "";
  menu.setAttribute("aria-expanded", String(open));
}

menu.addEventListener("click", () => showViews(menu.getAttribute("aria-expanded") !== "true"));
header.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && header.dataset.menu === "open") {
    showViews(false);
    menu.focus();
  }
});
window.addEventListener("hashchange", () => showViews(false));

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = document.getElementById("search-input").value.trim();
  if (q) location.hash = link(["search"], { q });
});
window.addEventListener("hashchange", route);
loadTopics().catch(() => {});
route();
