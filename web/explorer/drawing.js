// The explorer's graph drawings by Cytoscape.js: an article's neighbourhood, a
// topic's graph and a learning path. Cytoscape draws on a canvas, with labels that
// appear as one zooms in (its min-zoomed-font-size) or points at a node; this
// module adds what the explorer asks of a drawing: the server's layout as the
// starting positions, a legend that hides and shows topics, a search that lights
// the matching labels, fullscreen, and one Tab stop whose arrow keys move between
// the nodes and whose Enter opens one. A click selects a node (as the keyboard's
// focus does), a double click opens it, and a neighbourhood or topic drawing grows
// in place: "Expand" (or the key E) adds the selected node's neighbours around it.
import cytoscape from "cytoscape";

const EDGE = "#9aa3b2";
const ACCENT = "#2f5bd3";
const INK = "#1d2433";
const PAD = 26;
/** The most articles a drawing holds: expanding stops there. */
const MAX_NODES = 2000;

// Drawings live until their host leaves the page (the next route replaces it).
const drawings = new Set();

/** Destroy the drawings no longer on the page. */
function release() {
  for (const drawing of drawings) {
    if (!drawing.host.isConnected) {
      drawing.cy.destroy();
      drawings.delete(drawing);
    }
  }
}

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const truncate = (text, length) => {
  const s = String(text ?? "");
  return s.length > length ? `${s.slice(0, length - 1)}…` : s;
};
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);

function nodeSize(node, scale, center) {
  const r = node.wanted ? 5 * scale + 1 : (4 + 1.4 * Math.sqrt(Math.min(node.inDegree ?? 0, 80))) * scale + (center ? 3 : 0);
  return Math.round(2 * r * 10) / 10;
}

/**
 * Label sizes, in the drawing's units (pixels at zoom 1), for ``n`` nodes. Cytoscape
 * draws a label once it would be at least ``MIN_FONT`` pixels high on screen, so a
 * small graph (up to 40 nodes) shows every label, and a big one shows them as one
 * zooms in: the denser the drawing, the more zoom (over 300 nodes: 2.5 times).
 */
const MIN_FONT = 9;
const labelSize = (n) => (n <= 12 ? 11 : n <= 40 ? 9 : n <= 120 ? 7 : n <= 300 ? 5.5 : 3.6);

// A node as every drawing shows it: sized, shaped and coloured by its data, labelled.
const NODE = {
  width: "data(size)",
  height: "data(size)",
  shape: "data(shape)",
  "background-color": "data(colour)",
  "border-width": 1.5,
  "border-color": "#fff",
  label: "data(label)",
  color: INK,
  "overlay-opacity": 0,
};

function stylesheet({ n }) {
  const font = labelSize(n);
  const dense = n > 120;
  return [
    {
      selector: "node",
      style: {
        ...NODE,
        "font-size": font,
        "min-zoomed-font-size": MIN_FONT,
        "text-valign": "center",
        "text-halign": "right",
        "text-margin-x": 3,
        "text-outline-width": 2,
        "text-outline-color": "#fff",
        "text-outline-opacity": 0.9,
      },
    },
    // Labels face the middle, so that those near the right edge stay inside the drawing.
    { selector: "node.left", style: { "text-halign": "left", "text-margin-x": -3 } },
    { selector: "node.wanted", style: { "background-color": "#fff", "border-color": "#8a93a3", "border-width": 2, "border-style": "dashed" } },
    { selector: "node.center", style: { "border-color": INK, "border-width": 3, "font-size": 12, "font-weight": "bold", "min-zoomed-font-size": 0, "z-index": 20 } },
    { selector: "node.hover, node.focus", style: { "border-color": INK, "border-width": 2.5, "font-size": Math.max(font, 11), "min-zoomed-font-size": 0, "z-index": 30 } },
    { selector: "node.focus", style: { "underlay-color": ACCENT, "underlay-opacity": 0.3, "underlay-padding": 5 } },
    { selector: "node.match", style: { "border-color": ACCENT, "border-width": 3, "font-size": Math.max(font, 10), "min-zoomed-font-size": 0, color: ACCENT, "z-index": 25 } },
    { selector: "node.faded", style: { opacity: 0.25 } },
    { selector: ".filtered", style: { display: "none" } },
    {
      selector: "edge",
      style: {
        width: 1,
        "line-color": EDGE,
        "line-opacity": dense ? 0.45 : 1,
        // Arcs keep links both ways apart; straight lines cost less where there are many.
        "curve-style": dense ? "straight" : "bezier",
        "target-arrow-shape": "triangle",
        "target-arrow-color": EDGE,
        "arrow-scale": dense ? 0.5 : 0.7,
        "overlay-opacity": 0,
      },
    },
    { selector: "edge.hl", style: { width: 2, "line-color": ACCENT, "target-arrow-color": ACCENT, "line-opacity": 1, "z-index": 10 } },
    { selector: "edge.faded", style: { opacity: 0.15 } },
  ];
}

/** The buttons over a drawing, the canvas that is its one Tab stop, a tip and a voice. */
function frame(host, { label, search = true, expand = false }) {
  host.innerHTML =
    `<div class="graph-tools">` +
    (search
      ? `<label class="graph-find"><span class="sr-only">Find in the drawing</span><input type="search" placeholder="Find in the drawing" autocomplete="off"></label><span class="graph-found muted small" aria-live="polite"></span>`
      : "") +
    // What to do with the selected node: open it, or (expand) draw its neighbours around it.
    `<span class="zoom graph-acts"><button type="button" data-act="open" disabled>Open</button>` +
    (expand ? `<button type="button" data-act="expand" disabled>Expand</button>` : "") +
    `</span>` +
    `<span class="zoom"><button type="button" data-zoom="in" aria-label="Zoom in">+</button><button type="button" data-zoom="out" aria-label="Zoom out">−</button>` +
    `<button type="button" data-zoom="fit" aria-label="Fit the whole graph">⤢</button><button type="button" data-zoom="full" aria-pressed="false">Full screen</button></span></div>` +
    `<div class="graph-canvas" tabindex="0" role="application" aria-roledescription="graph" aria-label="${esc(label)}"></div>` +
    `<div class="graph-tip" aria-hidden="true" hidden></div><p class="sr-only graph-voice" aria-live="polite"></p>`;
  return {
    canvas: host.querySelector(".graph-canvas"),
    tip: host.querySelector(".graph-tip"),
    voice: host.querySelector(".graph-voice"),
    find: host.querySelector(".graph-find input"),
    found: host.querySelector(".graph-found"),
    openButton: host.querySelector('[data-act="open"]'),
    expandButton: host.querySelector('[data-act="expand"]'),
  };
}

/**
 * The controls every drawing shares: zoom buttons, fullscreen, hover tips, a click
 * that selects a node (lit and read out, as the keyboard's focus does), a double
 * click, Enter or "Open" that opens its article, arrow keys between nodes, and where
 * the drawing can grow (``onExpand(node)``) "Expand" or E that draws its neighbours.
 * Returns ``refresh()``, which sets the buttons again as the selected node allows.
 */
function interact(host, cy, parts, { onOpen, tipOf, first, onExpand }) {
  const { canvas, tip, voice, openButton, expandButton } = parts;
  const openable = (node) => Boolean(node && !node.hasClass("wanted") && onOpen);
  const expandable = (node) => Boolean(node && !node.hasClass("wanted") && onExpand);
  const open = (node) => {
    if (openable(node)) onOpen(Number(node.id()));
  };
  const showTip = (node) => {
    if (!node) {
      tip.hidden = true;
      return;
    }
    const at = node.renderedPosition();
    tip.textContent = tipOf(node);
    tip.hidden = false;
    tip.style.left = `${Math.round(at.x + node.renderedWidth() / 2 + 8)}px`;
    tip.style.top = `${Math.round(at.y + canvas.offsetTop + 8)}px`;
  };
  const light = (node, on) => {
    node.toggleClass("hover", on);
    node.connectedEdges().toggleClass("hl", on);
  };
  cy.on("mouseover", "node", (event) => {
    light(event.target, true);
    showTip(event.target);
    canvas.style.cursor = "pointer";
  });
  cy.on("mouseout", "node", (event) => {
    light(event.target, false);
    showTip(null);
    canvas.style.cursor = "";
  });
  // A click selects, two open: the first click of a double one selects on its way.
  // Cytoscape keeps a click from focusing the canvas: the click gives it the keyboard.
  cy.on("tap", "node", (event) => {
    focus(event.target);
    if (document.activeElement !== canvas) canvas.focus({ preventScroll: true });
  });
  cy.on("dbltap", "node", (event) => open(event.target));
  // Leaving the canvas straight from a node sends Cytoscape no mouseout.
  canvas.addEventListener("mouseleave", () => {
    cy.nodes(".hover").forEach((node) => light(node, false));
    showTip(null);
    canvas.style.cursor = "";
  });
  cy.on("viewport", () => {
    tip.hidden = true;
  });

  // One Tab stop: the canvas. Arrow keys move the focus to the nearest node that
  // way, Enter opens it, E expands it; the focused node is lit and read out. It
  // stays selected while the focus is elsewhere, for the buttons to act on it.
  let focused = null;
  const focus = (node) => {
    if (focused) {
      focused.removeClass("focus");
      focused.connectedEdges().removeClass("hl");
    }
    focused = node;
    if (openButton) openButton.disabled = !openable(node);
    if (expandButton) expandButton.disabled = !expandable(node);
    if (!node) {
      delete host.dataset.focus;
      return;
    }
    node.addClass("focus");
    node.connectedEdges().addClass("hl");
    const at = node.renderedPosition();
    if (at.x < 0 || at.y < 0 || at.x > cy.width() || at.y > cy.height()) cy.center(node);
    showTip(node);
    voice.textContent = tipOf(node);
    host.dataset.focus = node.id();
  };
  const visible = () => cy.nodes().filter((node) => node.visible());
  canvas.addEventListener("focus", () => {
    if (!focused || !focused.visible()) focus(first() ?? visible()[0] ?? null);
  });
  canvas.addEventListener("blur", () => showTip(null));
  const MOVES = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  canvas.addEventListener("keydown", (event) => {
    const move = MOVES[event.key];
    if (move && focused) {
      event.preventDefault();
      const from = focused.position();
      let best = null;
      let bestScore = Infinity;
      for (const node of visible()) {
        if (node === focused) continue;
        const to = node.position();
        const along = (to.x - from.x) * move[0] + (to.y - from.y) * move[1];
        if (along <= 0) continue;
        const across = Math.abs((to.x - from.x) * move[1] - (to.y - from.y) * move[0]);
        // Straight ahead beats a little nearer but off to the side.
        const score = along + 2 * across;
        if (score < bestScore) {
          best = node;
          bestScore = score;
        }
      }
      if (best) focus(best);
    } else if ((event.key === "Enter" || event.key === " ") && focused) {
      event.preventDefault();
      open(focused);
    } else if ((event.key === "e" || event.key === "E") && onExpand && focused) {
      event.preventDefault();
      onExpand(focused);
    } else if (event.key === "Home") {
      event.preventDefault();
      focus(first() ?? visible()[0] ?? null);
    } else if (event.key === "+" || event.key === "=") zoomBy(1.25);
    else if (event.key === "-") zoomBy(0.8);
  });

  openButton?.addEventListener("click", () => open(focused));
  expandButton?.addEventListener("click", () => {
    if (focused) onExpand(focused);
  });

  const zoomBy = (k) => cy.zoom({ level: cy.zoom() * k, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  host.querySelector(".graph-tools").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-zoom]");
    const which = button?.dataset.zoom;
    if (which === "in") zoomBy(1.25);
    else if (which === "out") zoomBy(0.8);
    else if (which === "fit") cy.fit(cy.elements(":visible"), PAD);
    else if (which === "full") {
      if (document.fullscreenElement === host) document.exitFullscreen();
      else host.requestFullscreen?.().catch(() => {});
    }
  });
  host.addEventListener("fullscreenchange", () => {
    host.querySelector('[data-zoom="full"]').setAttribute("aria-pressed", String(document.fullscreenElement === host));
    cy.resize();
    cy.fit(cy.elements(":visible"), PAD);
  });
  return {
    refresh: () => {
      if (openButton) openButton.disabled = !openable(focused);
      if (expandButton) expandButton.disabled = !expandable(focused);
    },
  };
}

/** Light the nodes whose label holds ``text``, fade the rest; Enter in the box zooms to them. */
function searchable(cy, { find, found }) {
  const run = () => {
    const q = find.value.trim().toLowerCase();
    let matches = cy.collection();
    cy.batch(() => {
      cy.elements().removeClass("match faded");
      if (!q) return;
      matches = cy.nodes().filter((node) => node.data("title").toLowerCase().includes(q));
      cy.elements().not(matches).addClass("faded");
      matches.addClass("match");
    });
    found.textContent = q ? `${matches.length} found` : "";
    return matches;
  };
  find.addEventListener("input", run);
  find.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const matches = run().filter((node) => node.visible());
    if (matches.length) cy.fit(matches, 80);
  });
  return run;
}

/**
 * Where ``count`` new nodes go around ``at``: on rings about it, ``gap`` apart along
 * each ring, the inner rings filled first; the nodes already drawn stay where they are.
 */
function ringsAround(at, count, gap) {
  const places = [];
  let radius = Math.max(3 * gap, 70);
  for (let ring = 0; places.length < count; ring += 1) {
    const fits = Math.max(6, Math.floor((2 * Math.PI * radius) / gap));
    const here = Math.min(fits, count - places.length);
    const turn = ring % 2 ? Math.PI / here : 0;
    for (let k = 0; k < here; k += 1) {
      const angle = turn + (2 * Math.PI * k) / here - Math.PI / 2;
      places.push({ x: at.x + radius * Math.cos(angle), y: at.y + radius * Math.sin(angle) });
    }
    radius += 1.6 * gap;
  }
  return places;
}

/**
 * Draw a subgraph (the API's nodes and edges, x and y in [0, 1]) into ``host``:
 * the server's layout scaled to the host's pixels, nodes coloured and shaped by
 * topic, wanted ones hollow, links as arrows. A click selects an article; a double
 * click, Enter on the focused one or "Open" calls ``onOpen(id)``. The legend, when
 * given, lists the topics most nodes first, each a button that hides or shows its nodes.
 *
 * With ``onExpand(id)`` (a promise of the subgraph around article ``id``) the drawing
 * grows in place: "Expand" or E adds the selected article's neighbours not drawn yet
 * on rings around it, and the links among them, up to ``MAX_NODES`` articles.
 *
 * Options: ``centers`` (ids drawn bold and always labelled), ``topicStyle(key)``
 * giving ``{name, colour, shape}``, ``legend`` (an element), ``onOpen``, ``onExpand``,
 * ``onGrow({nodes, edges})`` (told the new counts after an expansion), ``height``.
 */
function drawGraph(host, subgraph, { centers = new Set(), topicStyle, legend, onOpen, onExpand, onGrow, height } = {}) {
  release();
  const width = Math.max(320, Math.round(host.clientWidth || 800));
  const h = height || Math.round(Math.min(660, Math.max(380, width * 0.66)));
  const n = subgraph.nodes.length;
  const scale = n > 250 ? 0.65 : n > 80 ? 0.8 : 1;
  // Topics whose articles the legend hides: added articles of theirs come hidden too.
  const hidden = new Set();
  const toElement = (node, position, left) => {
    const topic = node.topic ?? "";
    const style = topicStyle(topic);
    const center = centers.has(node.id);
    const classes = [node.wanted ? "wanted" : "", center ? "center" : "", left ? "left" : "", !node.wanted && hidden.has(topic) ? "filtered" : ""];
    return {
      group: "nodes",
      data: {
        id: String(node.id),
        // Cut here rather than by Cytoscape's text-wrap "ellipsis", which measures
        // each label again and again.
        label: truncate(node.label, center ? 48 : 36),
        title: node.label,
        topic,
        topicName: style.name,
        wanted: Boolean(node.wanted),
        colour: node.wanted ? "#fff" : style.colour,
        shape: node.wanted ? "ellipse" : style.shape,
        size: nodeSize(node, scale, center),
        inDegree: node.inDegree,
        outDegree: node.outDegree,
      },
      position,
      classes: classes.filter(Boolean).join(" "),
    };
  };
  const toEdge = (edge) => ({ group: "edges", data: { id: `e${edge.id}`, source: String(edge.source), target: String(edge.target), rank: edge.rank } });
  const elements = [];
  for (const node of subgraph.nodes) {
    const position = { x: PAD + (node.x ?? 0.5) * (width - 2 * PAD), y: PAD + (node.y ?? 0.5) * (h - 2 * PAD) };
    elements.push(toElement(node, position, (node.x ?? 0.5) > 0.55));
  }
  for (const edge of subgraph.edges) {
    if (edge.source !== edge.target) elements.push(toEdge(edge));
  }
  const hint = `arrow keys move between articles, Enter opens one${onExpand ? ", E draws its neighbours around it" : ""}, + and − zoom`;
  const labelOf = (nodes, links) => `A drawing of ${nodes} articles and ${links} links: ${hint}`;
  const parts = frame(host, { label: labelOf(n, elements.length - n), expand: Boolean(onExpand) });
  parts.canvas.style.height = `${h}px`;
  const cy = cytoscape({
    container: parts.canvas,
    elements,
    style: stylesheet({ n }),
    layout: { name: "preset", fit: false },
    minZoom: 0.2,
    maxZoom: 8,
    boxSelectionEnabled: false,
    autoungrabify: true,
    autounselectify: true,
    // Big drawings pan and zoom without their edges, drawn again once still.
    hideEdgesOnViewport: n > 300,
  });
  const drawing = { host, cy };
  drawings.add(drawing);
  // The drawing's Cytoscape instance, for scripts in the page and the browser tests:
  // a canvas holds no element to query.
  host.cy = cy;
  const tipOf = (node) =>
    node.hasClass("wanted")
      ? `Missing: ${node.data("title")} (wanted article ${node.id()}, linked from ${node.data("inDegree")} articles)`
      : `${node.data("title")} · ${node.data("topicName")} · ${node.data("inDegree")} in · ${node.data("outDegree")} out`;
  const firstCenter = () => cy.nodes(".center").filter((node) => node.visible())[0] ?? null;
  const counted = () => {
    const counts = new Map();
    for (const node of cy.nodes()) {
      if (!node.data("wanted")) counts.set(node.data("topic"), (counts.get(node.data("topic")) ?? 0) + 1);
    }
    return [...counts.entries()].sort((p, q) => q[1] - p[1] || p[0].localeCompare(q[0]));
  };
  const say = (text) => {
    parts.voice.textContent = text;
  };

  let expanding = null;
  /** Draw the neighbours of ``node`` not drawn yet around it, with their links. */
  const expand = async (node) => {
    if (expanding) return;
    const title = node.data("title");
    if (node.hasClass("wanted")) {
      say(`${title} is missing: it has no links of its own to follow.`);
      return;
    }
    const room = MAX_NODES - cy.nodes().length;
    if (room <= 0) {
      say(`Not expanded: a drawing holds at most ${MAX_NODES.toLocaleString("en")} articles, and this one is full. Open an article to draw its own neighbourhood.`);
      return;
    }
    expanding = node;
    host.dataset.expanding = node.id();
    host.setAttribute("aria-busy", "true");
    if (parts.expandButton) parts.expandButton.disabled = true;
    say(`Expanding ${title}…`);
    let sub;
    try {
      sub = await onExpand(Number(node.id()));
    } catch (error) {
      if (!cy.destroyed()) say(`Not expanded: ${error.message || error}`);
      return;
    } finally {
      expanding = null;
      delete host.dataset.expanding;
      host.removeAttribute("aria-busy");
      controls.refresh();
    }
    // Another view may have replaced the drawing meanwhile.
    if (cy.destroyed() || !host.isConnected || node.removed()) return;
    const fresh = sub.nodes.filter((other) => cy.getElementById(String(other.id)).empty());
    const added = fresh.slice(0, room);
    const at = node.position();
    const places = ringsAround(at, added.length, Math.max(26, 34 * scale));
    const adding = added.map((other, k) => toElement(other, places[k], places[k].x < at.x - 1));
    const ids = new Set([...cy.nodes().map((other) => other.id()), ...adding.map((e) => e.data.id)]);
    const links = sub.edges
      .filter((edge) => edge.source !== edge.target && ids.has(String(edge.source)) && ids.has(String(edge.target)))
      .filter((edge) => cy.getElementById(`e${edge.id}`).empty())
      .map(toEdge);
    const drawn = cy.add([...adding, ...links]);
    node.data("expanded", true);
    const total = cy.nodes().length;
    parts.canvas.setAttribute("aria-label", labelOf(total, cy.edges().length));
    if (legend) showLegend(legend, cy, counted(), topicStyle, cy.nodes().some((other) => other.data("wanted")), hidden);
    if (parts.find?.value.trim()) rerun();
    // Bring the new articles into view, keeping the zoom if they are in it already.
    const box = drawn.boundingBox();
    const view = cy.extent();
    if (box.x1 < view.x1 || box.y1 < view.y1 || box.x2 > view.x2 || box.y2 > view.y2) cy.fit(cy.elements(":visible"), PAD);
    const left = fresh.length - added.length;
    const neighbours = sub.nodes.length - 1;
    say(
      added.length
        ? `${title} expanded: ${added.length} new ${added.length === 1 ? "article" : "articles"} and ${links.length} ${links.length === 1 ? "link" : "links"} drawn around it, ${total.toLocaleString("en")} articles in all.` +
            (left ? ` ${left.toLocaleString("en")} more not drawn: a drawing holds at most ${MAX_NODES.toLocaleString("en")} articles.` : "") +
            (sub.truncated ? ` Only its ${neighbours.toLocaleString("en")} nearest neighbours were asked for; ${sub.omittedNodes.toLocaleString("en")} more are not drawn.` : "")
        : `${title} expanded: all its ${neighbours} ${neighbours === 1 ? "neighbour is" : "neighbours are"} drawn already${links.length ? `; ${links.length} more ${links.length === 1 ? "link" : "links"} drawn` : ""}.`,
    );
    onGrow?.({ nodes: total, edges: cy.edges().length });
  };
  const controls = interact(host, cy, parts, { onOpen, tipOf, first: firstCenter, onExpand: onExpand ? expand : null });
  const rerun = searchable(cy, parts);
  const topics = counted();
  if (legend) showLegend(legend, cy, topics, topicStyle, subgraph.nodes.some((node) => node.wanted), hidden);
  return { cy, topics };
}

/** The legend: one button a topic, pressed while its nodes are shown (``hidden`` holds the others). */
function showLegend(legend, cy, topics, topicStyle, wanted, hidden) {
  const items = topics.map(([key, count]) => {
    const style = topicStyle(key);
    return (
      `<li><button type="button" class="legend-topic" data-topic="${esc(key)}" aria-pressed="${!hidden.has(key)}" title="Hide or show these articles">` +
      `<span class="dot" data-shape="${esc(style.shape)}" style="background:${esc(style.colour)}"></span>${esc(style.name || key || "no topic")} <span class="muted">${count}</span></button></li>`
    );
  });
  if (wanted) items.push(`<li><span class="dot hollow"></span>missing (wanted) article</li>`);
  legend.innerHTML = `<ul class="legend" aria-label="Topics of the drawn articles: press one to hide or show its articles">${items.join("")}</ul>`;
  legend.querySelector(".legend").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-topic]");
    if (!button) return;
    const shown = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(shown));
    const key = button.dataset.topic;
    if (shown) hidden.delete(key);
    else hidden.add(key);
    cy.nodes().filter((node) => node.data("topic") === key && !node.data("wanted")).toggleClass("filtered", !shown);
  });
}

/**
 * A learning path drawn left to right: one node per step, numbered and titled,
 * each link labelled with its reason (and "topic change" where the topic changes).
 */
function drawPath(host, steps, { topicStyle, onOpen }) {
  release();
  const room = host.clientWidth || 600;
  const gap = Math.round(Math.max(124, Math.min(170, (room - 40) / steps.length)));
  const height = 170;
  const elements = steps.map((step, k) => {
    const style = topicStyle(step.article.topics[0]?.key ?? "");
    return {
      group: "nodes",
      data: { id: String(step.article.id), step: k, label: `${k + 1}. ${step.article.title}`, colour: style.colour, shape: style.shape, size: 30 },
      position: { x: gap * k, y: 0 },
    };
  });
  steps.forEach((step, k) => {
    if (k === 0) return;
    const reason = step.via === "RELATED" ? `related ${step.score.toFixed(2)}` : step.via === "START" ? "" : `${step.via.toLowerCase()} rank ${step.rank}`;
    elements.push({
      group: "edges",
      data: { id: `s${k}`, source: String(steps[k - 1].article.id), target: String(step.article.id), label: reason, change: Boolean(step.topicChange) },
      classes: [step.via === "RELATED" ? "bridge" : "", step.topicChange ? "change" : ""].filter(Boolean).join(" "),
    });
  });
  const parts = frame(host, { label: `A learning path of ${steps.length} articles: arrow keys move between them, Enter opens one`, search: false });
  parts.canvas.style.height = `${height}px`;
  const cy = cytoscape({
    container: parts.canvas,
    elements,
    style: [
      {
        selector: "node",
        style: { ...NODE, "font-size": 12, "text-valign": "bottom", "text-margin-y": 5, "text-wrap": "wrap", "text-max-width": gap - 14 },
      },
      { selector: "node.hover, node.focus", style: { "border-color": INK, "border-width": 2.5 } },
      { selector: "node.focus", style: { "underlay-color": ACCENT, "underlay-opacity": 0.3, "underlay-padding": 5 } },
      {
        selector: "edge",
        style: {
          width: 2,
          "line-color": EDGE,
          "curve-style": "straight",
          "target-arrow-shape": "triangle",
          "target-arrow-color": EDGE,
          label: "data(label)",
          "font-size": 11,
          color: "#5b6475",
          "text-margin-y": -10,
          "overlay-opacity": 0,
        },
      },
      { selector: "edge.bridge", style: { "line-style": "dashed" } },
      { selector: "edge.change", style: { "source-label": "topic change", "source-text-offset": 60, "source-text-margin-y": 12, "font-weight": "bold" } },
      { selector: "edge.hl", style: { "line-color": ACCENT, "target-arrow-color": ACCENT } },
    ],
    layout: { name: "preset", fit: false },
    userZoomingEnabled: false,
    boxSelectionEnabled: false,
    autoungrabify: true,
    autounselectify: true,
  });
  // A short path sits in the middle at full size; a long one shrinks to fit.
  cy.fit(undefined, 40);
  if (cy.zoom() > 1) {
    cy.zoom(1);
    cy.center();
  }
  const drawing = { host, cy };
  drawings.add(drawing);
  host.cy = cy;
  interact(host, cy, parts, { onOpen, tipOf: (node) => node.data("label"), first: () => cy.nodes()[0] });
  return { cy };
}

export { drawGraph, drawPath, release };
