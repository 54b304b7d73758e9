// The learning path view: two article pickers, the paths found, one drawn with its steps.
import { articleLink, current, loadDrawing, errorBox, esc, gql, isCurrent, link, nextPaint, plural, recordRender, setView, topicChip, topicStyle } from "./shared.js";

// GraphQL texts of this module. The page keys articles by their numeric id (`articleId`,
// asked as `id`); the global `id` is for client caches.
const TITLE_QUERY = `query Title($id: Int!) { article(id: $id) { id: articleId title } }`;
const PICK_QUERY = `query Pick($q: String!) { articles(filter: { search: $q }, first: 8) { nodes { id: articleId title topics { key } } } }`;
const BEST_MATCH_QUERY = `query Pick($q: String!) { articles(filter: { search: $q }, first: 1) { nodes { id: articleId } } }`;
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
          const data = await gql(TITLE_QUERY, { id: Number(q) });
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
          PICK_QUERY,
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
  const data = await gql(BEST_MATCH_QUERY, { q });
  const hit = data.articles.nodes[0];
  if (!hit) throw new Error(`no article matches “${q}”`);
  return hit.id;
}

export async function pathView(route) {
  const from = route.parts[1] !== undefined ? Number(route.parts[1]) : null;
  const to = route.parts[2] !== undefined ? Number(route.parts[2]) : null;
  const options = pathOptions(route.params);
  const alt = Math.max(0, (Number(route.params.get("alt")) || 1) - 1);
  const key = JSON.stringify([from, to, options]);
  if (current.shown.view === "path" && current.shown.key === key && pathCache.key === key && pathCache.data) {
    return showPaths(route, pathCache.data, alt);
  }
  current.shown = { view: "path", key };
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
    gql(TITLE_QUERY, { id })
      .then((data) => {
        if (isCurrent(route) && data.article && input.dataset.id === String(id)) input.value = data.article.title;
      })
      .catch(() => {});
  }
  if (from === null || to === null || !Number.isInteger(from) || !Number.isInteger(to)) return;
  try {
    const started = performance.now();
    const data = await gql(PATHS_QUERY, { from, to, k: 5, options });
    if (!isCurrent(route)) return;
    pathCache = { key, data };
    if (data.start) form.from.value = data.start.title;
    if (data.goal) form.to.value = data.goal.title;
    showPaths(route, data, alt, started);
  } catch (error) {
    if (isCurrent(route)) document.getElementById("path-result").innerHTML = errorBox(error);
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
  const { drawPath } = await loadDrawing();
  if (!isCurrent(route)) return;
  drawPath(host, path.steps, {
    topicStyle,
    onOpen: (id) => {
      location.hash = link(["article", id]);
    },
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

