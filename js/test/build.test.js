// The bundle anywidget loads, and the source rules that keep data out of markup.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import * as esbuild from "esbuild";

const SRC = new URL("../src/", import.meta.url);

function sources(dir = SRC) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(new URL(`${entry.name}/`, dir))
      : entry.name.endsWith(".js")
        ? [new URL(entry.name, dir)]
        : [],
  );
}

test("the bundle is one self-contained anywidget module: a default export of initialize and render", async () => {
  const result = await esbuild.build({
    entryPoints: [new URL("index.js", SRC).pathname],
    bundle: true,
    format: "esm",
    target: "es2020",
    // As build.mjs bundles it: without comments (JSDoc types such as `import("./x.js").T` go).
    legalComments: "none",
    minifySyntax: true,
    minifyWhitespace: true,
    write: false,
  });
  const code = result.outputFiles[0].text;
  assert.ok(!/^\s*import\s/m.test(code), "no import left (a blob URL cannot resolve one)");
  assert.ok(!/\bimport\(/.test(code), "no dynamic import");
  const module = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  assert.equal(typeof module.default.initialize, "function");
  assert.equal(typeof module.default.render, "function");
  // anywidget takes a module with a named `render` for its old form and never calls initialize.
  assert.equal(module.render, undefined);
  assert.equal(module.initialize, undefined);
});

test("no source puts data into markup, URLs or code", () => {
  const forbidden =
    /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|\.href\s*=|\.src\s*=|setAttribute\(\s*["'](href|src|on)/;
  for (const file of sources()) {
    const lines = readFileSync(file, "utf-8").split("\n");
    lines.forEach((line, n) => {
      if (line.trim().startsWith("//")) return;
      assert.ok(!forbidden.test(line), `${file.pathname.split("/src/")[1]}:${n + 1}: ${line.trim()}`);
    });
  }
});
