// What each built command carries: its files under dist/ and the npm packages bundled in them.
// Read by the bundle benchmark and by the test that keeps heavy packages out of the bundles.
import fs from "node:fs";
import path from "node:path";

/**
 * A command's bundle, dist/<bin>.bundle.js (which the launcher dist/<bin>.js starts), and the chunks
 * it may load, which scripts/build.mjs puts under dist/chunks/<bin>/.
 */
export function bundleFiles(distDir: string, bin: string): { main: string; chunks: string[] } {
  const chunkDir = path.join(distDir, "chunks", bin);
  const chunks = fs.existsSync(chunkDir)
    ? fs
        .readdirSync(chunkDir)
        .filter((name) => name.endsWith(".js"))
        .map((name) => path.join(chunkDir, name))
    : [];
  return { main: path.join(distDir, `${bin}.bundle.js`), chunks };
}

/** A built file as dist/bundles.json describes it (written by scripts/build.mjs from esbuild's metafile). */
interface BundleEntry {
  /** The sources bundled in it: project files and node_modules/…, relative to the install folder. */
  inputs: string[];
  /**
   * What it loads: chunks (relative to the build) and external modules (built-ins, d3), at start
   * (kind "import-statement", as esbuild names it) or on demand ("dynamic-import").
   */
  imports: { path: string; kind: string; external: boolean }[];
}

/** The build folder holding a built file: the nearest folder above it with a bundles.json. */
function buildOf(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "bundles.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`${file}: no bundles.json above it; run npm run build`);
  }
}

/** Each build's bundles.json, read once. */
const described = new Map<string, Record<string, BundleEntry>>();

function entryOf(file: string): BundleEntry {
  const build = buildOf(file);
  let entries = described.get(build);
  if (!entries) {
    entries = JSON.parse(fs.readFileSync(path.join(build, "bundles.json"), "utf8")) as Record<string, BundleEntry>;
    described.set(build, entries);
  }
  const entry = entries[path.relative(build, file)];
  if (!entry) throw new Error(`${file}: not in ${path.join(build, "bundles.json")}`);
  return entry;
}

/** The files bundled in a file: project sources and node_modules/…. */
export function bundledModules(file: string): string[] {
  return entryOf(file).inputs;
}

/** The npm packages bundled in a file. */
export function bundledPackages(file: string): Set<string> {
  const found = new Set<string>();
  for (const module of bundledModules(file)) {
    const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(module);
    if (match) found.add(match[1]!);
  }
  return found;
}

const atStart = (entry: BundleEntry) => entry.imports.filter((i) => i.kind === "import-statement");

/** The node built-in modules a file loads as it starts ("node:crypto" → "crypto"). */
export function builtinImports(file: string): Set<string> {
  return new Set(
    atStart(entryOf(file)).flatMap((i) => (i.external && i.path.startsWith("node:") ? [i.path.slice(5)] : [])),
  );
}

/**
 * The chunks a file loads as soon as it starts, transitively: those it requires at start, not those
 * it loads on demand.
 */
export function staticallyLoaded(file: string): string[] {
  const build = buildOf(file);
  const found = new Set<string>();
  const visit = (from: string) => {
    for (const { path: target, external } of atStart(entryOf(from))) {
      if (external) continue;
      const chunk = path.join(build, target);
      if (!found.has(chunk)) {
        found.add(chunk);
        visit(chunk);
      }
    }
  };
  visit(file);
  return [...found];
}
