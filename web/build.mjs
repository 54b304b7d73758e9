// Bundles the explorer's front-end libraries into kgraph/web/dist/, which the
// app serves under /static/dist/ and the wheel ships: `npm ci && npm run build`
// (what `make web` runs). Nothing here is fetched at run time.
import { rmSync } from "node:fs";
import * as esbuild from "esbuild";

const outdir = "kgraph/web/dist";
rmSync(outdir, { recursive: true, force: true });

await esbuild.build({
  entryPoints: { katex: "web/katex.js", graphiql: "web/graphiql.jsx" },
  outdir,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  // KaTeX's fonts, referenced by its CSS: copied beside it, under stable names.
  loader: { ".woff2": "file", ".woff": "file", ".ttf": "file" },
  assetNames: "fonts/[name]",
  // The libraries' licence notices, gathered in one file per bundle.
  legalComments: "linked",
  logLevel: "warning",
});
