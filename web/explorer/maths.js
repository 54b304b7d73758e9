// KaTeX for the explorer: typesets the maths of Article.answerHtml, elements of
// class "math", "inline" or "display", that hold their TeX as text.
import katex from "katex";
// \ce and \pu for chemistry: 38 of the 45 formulas of the dev corpus that KaTeX
// alone could not read (31,433 formulas in all; 7 left, all malformed TeX).
import "katex/contrib/mhchem";

/** Typeset every maths element below `root` that is not typeset yet. */
export function typeset(root) {
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
      // What LaTeX would refuse but KaTeX reads (Unicode letters in maths, \\ in a
      // display) is typeset without a console warning for each.
      strict: false,
      // A \newcommand or \def holds within its own formula only.
      globalGroup: false,
    });
  }
}
