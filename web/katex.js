// KaTeX for the explorer: typesets the maths of Article.answerHtml, elements of
// class "math", "inline" or "display", that hold their TeX as text.
import katex from "katex";
import "katex/dist/katex.css";

/** Typeset every maths element below `root` that is not typeset yet. */
function typeset(root) {
  for (const element of root.querySelectorAll(".math")) {
    if (element.dataset.tex !== undefined) continue;
    const tex = element.textContent;
    element.dataset.tex = tex;
    katex.render(tex, element, {
      displayMode: element.classList.contains("display"),
      // A formula KaTeX cannot read shows as its source, in red, with the reason
      // as a tooltip: the rest of the answer still renders.
      throwOnError: false,
      // No \href, \url or \includegraphics from a corpus: they could link anywhere.
      trust: false,
      // TeX as written elsewhere (\newcommand in one formula) stays in that formula.
      globalGroup: false,
    });
  }
}

window.kgraphMaths = { typeset };
