// KaTeX for the explorer: typesets the maths that Article.answerHtml marks
// (<span class="math inline">, <div class="math block">, TeX as text).
import katex from "katex";
import "katex/dist/katex.css";

/** Typeset every maths element below `root` that is not typeset yet. */
function typeset(root) {
  for (const element of root.querySelectorAll(".math.inline, .math.block")) {
    if (element.dataset.typeset) continue;
    const tex = element.textContent;
    katex.render(tex, element, {
      displayMode: element.classList.contains("block"),
      // A formula KaTeX cannot read shows as its source, in red, with the reason
      // as a tooltip: the rest of the answer still renders.
      throwOnError: false,
      // \href and \url could link anywhere; the corpus needs neither.
      trust: false,
      output: "htmlAndMathml",
    });
    element.dataset.typeset = "true";
    element.setAttribute("data-tex", tex);
  }
}

window.kgraphMaths = { typeset };
