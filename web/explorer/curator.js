// The curator view: the corpus's figures and one report at a time, paged, sortable,
// with fixes to copy and downloads as `kgraph check --format json` lists them.
import { PAGE, articleLink, current, errorBox, esc, gql, isCurrent, link, loadTopics, notFound, pager, plural, setView, topicChip } from "./shared.js";

// GraphQL texts of this module: the rows each report asks for (REPORTS), the figures (FIGURES).
// The page keys articles (and wanted ones) by their numeric id, asked as `id: articleId`; the
// global `id` is for client caches. DuplicateArticle.id is the numeric id already.
const ARTICLE_ROWS = `totalCount pageInfo { hasNextPage endCursor } nodes { id: articleId title inDegree outDegree topics { key name } copies { path } }`;
const FINDING_ROWS = `totalCount pageInfo { hasNextPage endCursor } nodes { kind article { id: articleId title } copyPath rank ranks statedId statedUrl target { id: articleId title } wanted { id: articleId title suggestions { id: articleId title } } fix }`;
// A download asks for what `kgraph check --format json` lists, where the table shows less.
const ISLAND_EXPORT_ROWS = `totalCount pageInfo { hasNextPage endCursor } edges { cursor } nodes { size articles(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { id: articleId } } }`;
const ISLAND_ARTICLES_QUERY = `query IslandArticles($topic: String, $island: String, $after: String) { curation(topic: $topic) { islands(first: 1, after: $island) { nodes { articles(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id: articleId } } } } } }`;
const SUGGESTION_EXPORT_ROWS = `totalCount pageInfo { hasNextPage endCursor } nodes { article { id: articleId } suggested { article { id: articleId } score sharedKeywords reasons { sharedTerms commonNeighbours { id: articleId } } } }`;
// A wanted article's referrers: twenty a row (a hundred rows of a hundred would pass the cost
// limit), the rest a hundred a request, as islands' articles are.
const WANTED_EXPORT_ROWS = `totalCount pageInfo { hasNextPage endCursor } edges { cursor } nodes { id: articleId title subject url referrers(first: 20) { pageInfo { hasNextPage endCursor } nodes { id: articleId } } suggestions { id: articleId } }`;
const WANTED_REFERRERS_QUERY = `query WantedReferrers($topic: String, $wanted: String, $after: String) { curation(topic: $topic) { wantedArticles(first: 1, after: $wanted) { nodes { referrers(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id: articleId } } } } } }`;
const EXPORT_QUERY = (report) =>
  `query Export($topic: String, $after: String) { curation(topic: $topic) { ${report.key}(first: ${report.exportFirst ?? 100}, after: $after) { ${report.exportRows ?? report.rows} } } }`;
const REPORTS = [
  { key: "orphans", title: "Orphans", about: "Articles no other article links to.", rows: ARTICLE_ROWS, kind: "articles" },
  { key: "deadEnds", title: "Dead ends", about: "Articles linking nowhere, most linked-to first.", rows: ARTICLE_ROWS, kind: "articles" },
  { key: "isolated", title: "Isolated", about: "Articles with no link in or out.", rows: ARTICLE_ROWS, kind: "articles" },
  { key: "wantedArticles", title: "Wanted articles", about: "Missing articles that related entries name, most referred first, with the existing articles they most likely meant.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { id: articleId title subject url referrers(first: 20) { totalCount nodes { id: articleId title } } suggestions { id: articleId title } }`, kind: "wanted", exportRows: WANTED_EXPORT_ROWS },
  { key: "brokenLinks", title: "Broken links", about: "Entries naming an article that exists nowhere.", rows: FINDING_ROWS, kind: "findings" },
  { key: "staleLinks", title: "Stale links", about: "Entries with an outdated id, resolved by their url: the fix says what to write.", rows: FINDING_ROWS, kind: "findings" },
  { key: "urlMismatches", title: "Url mismatches", about: "Entries whose url is not a url of the article their id names.", rows: FINDING_ROWS, kind: "findings" },
  { key: "duplicateLinks", title: "Duplicate links", about: "Entries repeating an earlier entry of the same file.", rows: FINDING_ROWS, kind: "findings" },
  { key: "selfLinks", title: "Self links", about: "Entries naming their own article.", rows: FINDING_ROWS, kind: "findings" },
  { key: "duplicateArticles", title: "Duplicate articles", about: "Article ids held by several files, most copies first.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { id article { id: articleId title } copies { path subject url } relatedListsDiffer }`, kind: "duplicates" },
  { key: "islands", title: "Islands", about: "Pieces of the link graph other than the largest, largest first.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { size articles(first: 8) { totalCount nodes { id: articleId title } } }`, kind: "islands", exportRows: ISLAND_EXPORT_ROWS, exportFirst: 20 },
  { key: "linkSuggestions", title: "Link suggestions", about: "For each orphan, then each dead end, then each island article: the most related articles it does not link to yet.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { article { id: articleId title copies { path } } suggested { article { id: articleId title } score sharedKeywords linked } }`, kind: "suggestions", exportRows: SUGGESTION_EXPORT_ROWS },
  { key: "overLinked", title: "Most linked", about: "The most linked-to articles, by in-degree.", rows: `totalCount pageInfo { hasNextPage endCursor } nodes { article { id: articleId title topics { key name } copies { path } } inDegree zScore share }`, kind: "ranked" },
  { key: "subjectSpellings", title: "Subject spellings", about: "Topics whose subject is spelled more than one way.", rows: `key name spellings { spelling files }`, kind: "spellings", whole: true },
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

export async function curationView(route) {
  const reportKey = route.parts[1] || "";
  const report = REPORTS.find((r) => r.key === reportKey) ?? null;
  if (reportKey && !report) return notFound(route);
  const topic = route.params.get("topic") || "";
  const first = Math.min(100, Math.max(1, Number(route.params.get("first")) || PAGE));
  const after = route.params.get("after") || null;
  current.shown = { view: "curation" };
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
  // Every report is a connection, paged, but the subject spellings: a list, shown whole.
  const fields = report ? (report.whole ? `${report.key} { ${report.rows} }` : `${report.key}(first: $first, after: $after) { ${report.rows} }`) : "";
  const variables = report && !report.whole ? "$first: Int!, $after: String" : "";
  const query = `query Curation($topic: String${variables ? `, ${variables}` : ""}) { curation(topic: $topic) { summary { ${FIGURES.map((x) => x[0]).join(" ")} } ${fields} } }`;
  try {
    const data = await gql(query, { topic: topic || null, ...(report && !report.whole ? { first, after } : {}) });
    if (!isCurrent(route)) return;
    const summary = data.curation.summary;
    document.getElementById("figures").innerHTML = FIGURES.map(([name, label, target, href]) => {
      const n = summary[name];
      const bad = PROBLEMS.has(name) && n > 0 ? " bad" : "";
      const body = `<span class="n">${n.toLocaleString("en")}</span><span class="what">${label}</span>`;
      const to = target ? link(["curation", target], keep) : href;
      return `<li>${to ? `<a class="figure${bad}" href="${to}" data-figure="${name}">${body}</a>` : `<div class="figure" data-figure="${name}">${body}</div>`}</li>`;
    }).join("");
    if (report) showReport(route, report, data.curation[report.key]);
  } catch (error) {
    if (isCurrent(route)) document.getElementById("report-body").innerHTML = errorBox(error);
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
  islands: { name: "islands", row: (i) => ({ size: i.size, articles: ids(i.articles.nodes) }) },
  linkSuggestions: {
    name: "link_suggestions",
    row: (s) => ({
      article: s.article.id,
      suggested: s.suggested.map((x) => ({
        id: x.article.id,
        score: Math.round(x.score * 1e4) / 1e4,
        shared_keywords: x.sharedKeywords,
        shared_terms: x.reasons.sharedTerms,
        common_neighbours: ids(x.reasons.commonNeighbours),
      })),
    }),
    // A CSV row a suggestion: the article, the one suggested, its score and shared keywords.
    csvRows: (row) => row.suggested.map((x) => ({ article: row.article, suggested: x.id, score: x.score, shared_keywords: x.shared_keywords })),
  },
  overLinked: {
    name: "over_linked",
    row: (r) => ({ id: r.article.id, in_degree: r.inDegree, z_score: Math.round(r.zScore * 1e3) / 1e3, share: Math.round(r.share * 1e6) / 1e6 }),
  },
  subjectSpellings: {
    name: "subject_spellings",
    row: (t) => ({ topic: t.key, spellings: Object.fromEntries(t.spellings.map((x) => [x.spelling, x.files])) }),
    csvRows: (row) => Object.entries(row.spellings).map(([spelling, files]) => ({ topic: row.topic, spelling, files })),
  },
};

/** Every row of a report (a hundred a request; twenty islands, each of up to a hundred articles), as its download asks for them. */
async function wholeReport(report, topic, progress) {
  const rows = [];
  let after = null;
  for (;;) {
    const data = await gql(EXPORT_QUERY(report), { topic: topic || null, after });
    const page = data.curation[report.key];
    if (report.key === "islands") await wholeIslands(page, topic, after);
    if (report.key === "wantedArticles") await wholeReferrers(page, topic, after);
    rows.push(...page.nodes);
    progress(rows.length, page.totalCount);
    if (!page.pageInfo.hasNextPage) return rows;
    after = page.pageInfo.endCursor;
  }
}

/** The articles of the islands of ``page`` past their first hundred. */
async function wholeIslands(page, topic, after) {
  for (const [k, island] of page.nodes.entries()) {
    let more = island.articles.pageInfo;
    while (more.hasNextPage) {
      const before = k === 0 ? after : page.edges[k - 1].cursor;
      const data = await gql(ISLAND_ARTICLES_QUERY, { topic: topic || null, island: before, after: more.endCursor });
      const next = data.curation.islands.nodes[0].articles;
      island.articles.nodes.push(...next.nodes);
      more = next.pageInfo;
    }
  }
}

/** The referrers of the wanted articles of ``page`` past their first twenty. */
async function wholeReferrers(page, topic, after) {
  for (const [k, wanted] of page.nodes.entries()) {
    let more = wanted.referrers.pageInfo;
    while (more.hasNextPage) {
      const before = k === 0 ? after : page.edges[k - 1].cursor;
      const data = await gql(WANTED_REFERRERS_QUERY, { topic: topic || null, wanted: before, after: more.endCursor });
      const next = data.curation.wantedArticles.nodes[0].referrers;
      wanted.referrers.nodes.push(...next.nodes);
      more = next.pageInfo;
    }
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
    const progress = (done, total) => {
      button.textContent = `Preparing… ${done.toLocaleString("en")} of ${total.toLocaleString("en")}`;
    };
    const rows = (report.whole ? shown : await wholeReport(report, topic, progress)).map(about.row);
    const name = `${about.name}${topic ? `-${topic}` : ""}.${format}`;
    if (format === "csv") download(name, "text/csv", toCsv(about.csvRows ? rows.flatMap(about.csvRows) : rows));
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
    // text, shown whole (with its file), so that Ctrl+C copies it.
    const shown = button.previousElementSibling;
    shown.textContent = text;
    const range = document.createRange();
    range.selectNodeContents(shown);
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

// An article in a report: its title, cut to one line (whole in its tooltip), opening it.
const articleCell = (a) => (a ? `${articleLink(a, ` title="${esc(a.title)}"`)} <span class="muted small">#${a.id}</span>` : "—");
// Where an article is written: its first file, as kgraph check names it.
const fileCell = (path) => (path ? `<td class="file" title="${esc(path)}">${esc(path)}</td>` : `<td class="file">—</td>`);
const firstPath = (a) => a.copies?.[0]?.path ?? "";

// A fix as the row shows it: without the file it starts with, which the File column
// shows (its button copies it whole).
const fixShown = (x) => (x.fix.startsWith(`in ${x.copyPath}, `) ? x.fix.slice(x.copyPath.length + 5) : x.fix);

// Columns of figures, narrow; a heading ending ":wide" takes a third of the table.
const NARROW = new Set(["Rank", "In", "Out", "Links in", "z-score", "Share of links", "Size", "Line", "Related lists"]);

function headCell(heading) {
  const [name, width] = heading.split(":");
  const kind = width === "wide" ? "wide" : NARROW.has(name) ? "num" : "";
  return `<th scope="col"${kind ? ` class="${kind}"` : ""}><button type="button" class="sort" title="Sort the rows shown by this column">${name}</button></th>`;
}

/** A tooltip with the whole text on every cell its column cuts. */
function titleCutCells(table) {
  for (const cell of table.querySelectorAll("td")) {
    if (!cell.title && cell.scrollWidth > cell.clientWidth + 1) cell.title = cell.textContent.trim().replace(/\s+/g, " ");
  }
}

function showReport(route, report, result) {
  const body = document.getElementById("report-body");
  const rows = report.whole ? result : result.nodes;
  const total = report.whole ? rows.length : result.totalCount;
  const [head, row] = REPORT_TABLES[report.kind](report);
  const table = rows.length
    ? `<div class="table-wrap"><table class="report" id="report-table"><thead><tr>${head.map(headCell).join("")}</tr></thead><tbody>${rows.map(row).join("")}</tbody></table></div>`
    : `<p class="notice">Nothing to report.</p>`;
  const paging = !report.whole && total > 0 ? pager(["curation", report.key], route.params, result.pageInfo, total, rows.length) : "";
  const exports = EXPORTS[report.key] && total > 0
    ? `<div class="row report-export"><span class="muted small">All ${plural(total, "row")}, as <code>kgraph check --format json</code> lists them:</span>` +
      `<button type="button" class="quiet" data-export="csv">Download CSV</button><button type="button" class="quiet" data-export="json">Download JSON</button></div>`
    : "";
  body.innerHTML =
    `<div class="spread"><h2>${esc(report.title)}</h2><span class="muted">${report.whole ? plural(total, "row") : plural(total, "finding")}</span></div>` +
    `<p class="muted small">${esc(report.about)}</p>${exports}${table}${paging}`;
  const shownTable = body.querySelector("#report-table");
  if (shownTable) titleCutCells(shownTable);
  body.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.dataset.export) exportReport(report, route.params.get("topic") || "", target.dataset.export, target, rows);
    else if (target.classList.contains("sort")) sortBy(body.querySelector("#report-table"), target.closest("th"));
    else if (target.dataset.copy !== undefined) copyText(target);
  });
  body.dataset.state = "ready";
}

// A few articles on one line, the rest counted (``total`` of them, when the row holds a page only):
// a row stays one or two lines high.
const SHOWN_IN_A_CELL = 3;
const suggestionsCell = (articles, total = articles?.length ?? 0) => {
  if (!articles || !articles.length) return `<span class="muted">none</span>`;
  const more = total - SHOWN_IN_A_CELL;
  return (
    `<ul class="inline">${articles.slice(0, SHOWN_IN_A_CELL).map((a) => `<li>${articleCell(a)}</li>`).join("")}</ul>` +
    (more > 0 ? ` <span class="muted small" title="${esc(articles.slice(SHOWN_IN_A_CELL).map((a) => a.title).join("; "))}">and ${more} more</span>` : "")
  );
};

const REPORT_TABLES = {
  articles: () => [
    ["Article", "File", "Topics", "In", "Out"],
    (a) => `<tr data-id="${a.id}"><td>${articleCell(a)}</td>${fileCell(firstPath(a))}<td>${a.topics.map(topicChip).join(" ")}</td><td class="num">${a.inDegree}</td><td class="num">${a.outDegree}</td></tr>`,
  ],
  wanted: () => [
    ["Missing article", "Url", "Linked from", "Did they mean"],
    (w) =>
      `<tr data-wanted="${w.id}"><td><strong>${esc(w.title ?? "untitled")}</strong> <span class="muted small">#${w.id}${w.subject ? ` · ${esc(w.subject)}` : ""}</span></td>` +
      `<td class="file" title="${esc(w.url ?? "")}">${esc(w.url ?? "—")}</td><td>${suggestionsCell(w.referrers.nodes, w.referrers.totalCount)}</td><td class="suggestions">${suggestionsCell(w.suggestions)}</td></tr>`,
  ],
  findings: (report) => [
    ["Article", "File", "Rank", "Entry states", report.key === "brokenLinks" ? "Missing · did they mean" : "Resolves to", "Fix:wide"],
    (x) => {
      const stated = [x.statedId !== null ? `id ${x.statedId}` : "", x.statedUrl ? `<span class="mono small">${esc(x.statedUrl)}</span>` : ""].filter(Boolean).join(" · ");
      const target = x.target
        ? articleCell(x.target)
        : x.wanted
          ? `missing: ${esc(x.wanted.title ?? `#${x.wanted.id}`)} <span class="muted small">#${x.wanted.id}</span>${x.wanted.suggestions.length ? suggestionsCell(x.wanted.suggestions) : ""}`
          : "—";
      return (
        `<tr data-id="${x.article.id}"${x.wanted ? ` data-wanted="${x.wanted.id}"` : ""} data-kind="${x.kind}"><td>${articleCell(x.article)}</td>${fileCell(x.copyPath)}` +
        `<td class="num">${x.ranks.join(" → ")}</td><td>${stated || "—"}</td><td>${target}</td><td class="fix-cell"><div class="fix-line"><span class="fix" title="${esc(x.fix)}">${esc(fixShown(x))}</span><button type="button" class="quiet copy" data-copy="${esc(x.fix)}" aria-label="Copy the fix">Copy</button></div></td></tr>`
      );
    },
  ],
  duplicates: () => [
    ["Article", "Copies", "Related lists"],
    (d) =>
      `<tr data-id="${d.id}"><td>${articleCell({ id: d.id, title: d.article.title })}</td><td><ul class="inline">${d.copies.map((c) => `<li class="mono small">${esc(c.path)} <span class="muted">(${esc(c.subject)})</span></li>`).join("")}</ul></td>` +
      `<td>${d.relatedListsDiffer ? `<span class="badge warn">differ</span>` : `<span class="badge ok">same</span>`}</td></tr>`,
  ],
  islands: () => [
    ["Size", "Articles:wide"],
    (island) => {
      const more = island.articles.totalCount - island.articles.nodes.length;
      return `<tr><td class="num">${island.size}</td><td><ul class="inline">${island.articles.nodes.map((a) => `<li>${articleCell(a)}</li>`).join("")}</ul>${more > 0 ? ` <span class="muted">and ${more} more</span>` : ""}</td></tr>`;
    },
  ],
  suggestions: () => [
    ["Article", "File", "Could link to (similarity · shared keywords):wide"],
    (s) =>
      `<tr data-id="${s.article.id}"><td>${articleCell(s.article)}</td>${fileCell(firstPath(s.article))}<td><ul class="inline">${s.suggested
        .map((x) => `<li>${articleLink(x.article, ` title="${esc(x.article.title)}"`)} <span class="muted small">${Math.round(x.score * 100)}%${x.sharedKeywords.length ? ` · ${x.sharedKeywords.map(esc).join(", ")}` : ""}</span></li>`)
        .join("")}</ul></td></tr>`,
  ],
  ranked: () => [
    ["Article", "File", "Topics", "Links in", "z-score", "Share of links"],
    (r) =>
      `<tr data-id="${r.article.id}"><td>${articleCell(r.article)}</td>${fileCell(firstPath(r.article))}<td>${r.article.topics.map(topicChip).join(" ")}</td><td class="num">${r.inDegree}</td><td class="num">${r.zScore.toFixed(2)}</td><td class="num">${(r.share * 100).toFixed(2)}%</td></tr>`,
  ],
  spellings: () => [
    ["Topic", "Spellings (files)"],
    (t) => `<tr data-topic="${esc(t.key)}"><td>${topicChip({ key: t.key, name: t.name })}</td><td>${t.spellings.map((s) => `“${esc(s.spelling)}” × ${s.files}`).join(", ")}</td></tr>`,
  ],
  diagnostics: () => [
    ["File", "Line", "Why:wide"],
    (d) => `<tr>${fileCell(d.path)}<td class="num">${d.line ?? "—"}</td><td>${esc(d.message)}</td></tr>`,
  ],
};

