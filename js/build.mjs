// Bundle the front-end into ../streamviz/static/: widget.js (one self-contained ES module, as
// anywidget loads it from a blob URL where relative imports cannot resolve) and widget.css.
// `node build.mjs --watch` rebuilds on change (with ANYWIDGET_HMR=1 the notebook reloads it).

import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const outdir = here("../streamviz/static/");
const watch = process.argv.includes("--watch");

mkdirSync(outdir, { recursive: true });

const common = {
  bundle: true,
  target: "es2020",
  logLevel: "info",
  legalComments: "none",
  minifySyntax: true,
  minifyWhitespace: !watch,
};

const builds = [
  { ...common, entryPoints: [here("src/index.js")], outfile: `${outdir}widget.js`, format: "esm" },
  { ...common, entryPoints: [here("src/style.css")], outfile: `${outdir}widget.css` },
];

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
