// The topic views: every topic, and one topic's graph (Cytoscape.js) and reading order.
import { articleLink, current, errorBox, esc, gql, isCurrent, link, loadDrawing, loadTopics, neighbours, nextPaint, plural, recordRender, setView, topicDot, topicName, topicStyle } from "./shared.js";

// GraphQL texts of this module. Articles are asked `id: articleId` (the numeric id the page
// keys them by); the drawing's SubgraphNode ids are numeric already.
const TOPIC_QUERY = `query T($key: String!) { topic(key: $key) { key name articleCount fileCount spellings } }`;
const TOPIC_GRAPH_QUERY = `query TopicGraph($key: String!, $start: Int, $limit: Int!) {
  topicGraph(key: $key, limit: $limit, layout: SPRING) { nodes { id label topic inDegree outDegree wanted x y } edges { id source target rank } truncated omittedNodes }
  readingPlan(topic: $key, start: $start, first: 50) { totalCount nodes { article { id: articleId title level inDegree outDegree } via after { id: articleId title } score nearDuplicates { id: articleId title } } } }`;

export async function topicsView(route) {
  current.shown = { view: "topics" };
  setView("topics", "Topics", `<section class="card"><h1>Topics</h1><div id="topic-list" class="loading">Loading</div></section>`);
  try {
    const topics = await loadTopics();
    if (!isCurrent(route)) return;
    document.getElementById("topic-list").outerHTML =
      `<ul class="topic-grid" id="topic-list">${topics
        .map(
          (t) =>
            `<li data-topic="${esc(t.key)}"><a class="card" href="${link(["topic", t.key])}"><span class="name">${topicDot(t.key)}${esc(t.name)}</span>` +
            `<span class="muted small">${plural(t.articleCount, "article")} · ${plural(t.fileCount, "file")} · <span class="mono">${esc(t.key)}</span></span>` +
            (t.spellings.length > 1 ? `<br><span class="small badge warn">spelled ${t.spellings.length} ways</span>` : "") +
            `</a></li>`,
        )
        .join("")}</ul>`;
  } catch (error) {
    if (isCurrent(route)) document.getElementById("topic-list").outerHTML = errorBox(error);
  }
}

export async function topicView(route) {
  const key = route.parts[1];
  if (!key) return topicsView(route);
  const start = route.params.get("start") ? Number(route.params.get("start")) : null;
  const limit = [100, 300, 1000].includes(Number(route.params.get("limit"))) ? Number(route.params.get("limit")) : 300;
  current.shown = { view: "topic", key };
  setView(
    "topics",
    `Topic ${key}`,
    `<div class="split"><div class="stack"><section class="card" id="topic-head"><h1>${esc(topicName(key))}</h1><p class="loading">Loading</p></section>
      <section class="card"><h2>Reading order</h2><p class="small muted" id="reading-note"></p><div id="reading" class="loading">Loading</div></section></div>
      <div class="stack sticky"><section class="card"><div class="graph-head"><h2>Topic graph</h2>
        <form class="controls" id="topic-controls"><label>Most linked <select name="limit">${[100, 300, 1000].map((l) => `<option value="${l}"${l === limit ? " selected" : ""}>${l}</option>`).join("")}</select></label></form></div>
        <div class="graph" id="topic-graph" data-state="loading"></div><div class="graph-foot"><div id="legend"></div><span id="graph-note"></span></div>
        <p class="small muted" id="topic-help">Click an article to select it, double-click it (or press Open) to open it; Expand draws the selected article's neighbours, of any topic, around it, up to 2,000 articles. Drag to pan, wheel or +/− to zoom: labels appear as you zoom in. Press a topic below to hide or show its articles; Tab to the drawing, then arrow keys move between articles, Enter opens one and E expands it.</p></section></div></div>`,
  );
  document.getElementById("topic-controls").addEventListener("change", (event) => {
    location.hash = link(["topic", key], { start, limit: event.target.value === "300" ? "" : event.target.value });
  });
  try {
    const head = await gql(TOPIC_QUERY, { key });
    if (!isCurrent(route)) return;
    const topic = head.topic;
    if (!topic) {
      document.getElementById("topic-head").innerHTML = `<h1>No topic “${esc(key)}”</h1><p><a href="#/topics">All topics</a></p>`;
      document.getElementById("reading").innerHTML = "";
      document.getElementById("topic-graph").innerHTML = "";
      return;
    }
    document.title = `${topic.name} · kgraph explorer`;
    document.getElementById("topic-head").innerHTML =
      `<h1>${topicDot(topic.key, ";width:1rem;height:1rem")} ${esc(topic.name)}</h1>` +
      `<p class="muted">${plural(topic.articleCount, "article")} in ${plural(topic.fileCount, "file")}` +
      (topic.spellings.length > 1 ? ` · subject spelled ${topic.spellings.map((s) => `“${esc(s)}”`).join(", ")}` : "") +
      `</p><div class="row"><a class="button quiet" href="${link(["curation"], { topic: topic.key })}">Curator reports for this topic</a></div>`;
    const started = performance.now();
    const [data, { drawGraph }] = await Promise.all([
      gql(TOPIC_GRAPH_QUERY, { key, start, limit }),
      loadDrawing(),
      loadTopics().catch(() => null),
    ]);
    if (!isCurrent(route)) return;
    const plan = data.readingPlan.nodes;
    const order = plan.map((step) => step.article);
    document.getElementById("reading-note").textContent = start !== null
      ? `From #${start}: foundations first, each next article linked or closely related to one read; other tellings of a question are listed under it. The first ${plan.length} of ${data.readingPlan.totalCount.toLocaleString("en")} steps.`
      : `From the topic's most foundational article: foundations first, each next article linked or closely related to one read; other tellings of a question are listed under it. The first ${plan.length} of ${data.readingPlan.totalCount.toLocaleString("en")} steps.`;
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
      topicStyle,
      centers: new Set(start !== null ? [start] : order.slice(0, 1).map((a) => a.id)),
      legend: document.getElementById("legend"),
      onOpen: (id) => {
        location.hash = link(["article", id]);
      },
      onExpand: neighbours,
      onGrow: ({ nodes, edges }) => {
        document.getElementById("graph-note").textContent = `${plural(nodes, "node")}, ${plural(edges, "link")} · expanded in place`;
      },
    });
    await nextPaint();
    if (!isCurrent(route)) return;
    const ms = recordRender("topic", started, host);
    const cut = sub.truncated ? ` · the ${sub.nodes.length} most linked of ${topic.articleCount}` : "";
    document.getElementById("graph-note").textContent = `${plural(sub.nodes.length, "node")}, ${plural(sub.edges.length, "link")}${cut} · drawn in ${Math.round(ms)} ms`;
  } catch (error) {
    if (isCurrent(route)) document.getElementById("topic-head").insertAdjacentHTML("beforeend", errorBox(error));
  }
}

