// Bundles the explorer's front-end libraries into kgraph/web/dist/, which the
// app serves under /static/dist/ and the wheel ships: `npm ci && npm run build`
// (what `make web` runs). Nothing here is fetched at run time.
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";

const outdir = "kgraph/web/dist";
rmSync(outdir, { recursive: true, force: true });

const common = {
  outdir,
  bundle: true,
  minify: true,
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  // KaTeX's fonts, referenced by its CSS: copied beside it, under stable names.
  loader: { ".woff2": "file", ".woff": "file", ".ttf": "file" },
  assetNames: "fonts/[name]",
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
};
const builds = await Promise.all([
  // The explorer (web/explorer/main.js and the views it imports), an ES module whose
  // Cytoscape.js and KaTeX come in chunks of their own when a view first needs them.
  esbuild.build({
    ...common,
    entryPoints: { explorer: "web/explorer/main.js" },
    format: "esm",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  }),
  // GraphiQL, one classic script.
  esbuild.build({ ...common, entryPoints: { graphiql: "web/graphiql.jsx" }, format: "iife" }),
]);
const inputs = Object.assign({}, ...builds.map((build) => build.metafile.inputs));

// The licence of every package that went into a bundle, in one file beside them.
const packages = new Set();
for (const input of Object.keys(inputs)) {
  const found = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  if (found) packages.add(found[1]);
}
const notices = [...packages].sort().map((folder) => {
  const about = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((name) => /^licen[cs]e/i.test(name));
  const text = file ? readFileSync(join(folder, file), "utf8").trim() : `${about.license}`;
  return `${about.name} ${about.version}\n\n${text}\n`;
});
writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), notices.join(`\n${"-".repeat(72)}\n\n`));
