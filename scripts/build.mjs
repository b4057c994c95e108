// Compiles every CLI ahead of time into one file of its own under dist/ (DESIGN.md: no TypeScript
// at run time). npm packages stay external: they load from node_modules as usual.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";

const ENTRIES = {
  "ams-sensor": "sensors/cli.ts",
  "ams-graphs": "graphs/cli.ts",
  "ams-web": "web/cli.ts",
};

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
for (const name of Object.keys(pkg.bin)) {
  if (!ENTRIES[name]) throw new Error(`package.json bin "${name}" has no entry in scripts/build.mjs`);
}

await build({
  entryPoints: Object.entries(ENTRIES).map(([out, src]) => ({ in: src, out })),
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
