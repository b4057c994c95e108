// What each built command carries: its files under dist/ and the npm packages bundled in them.
// Read by the bundle benchmark and by the test that keeps heavy packages out of the bundles.
import fs from "node:fs";
import path from "node:path";

/** dist/<bin>.js and the chunks it may load, which scripts/build.mjs puts under dist/chunks/<bin>/. */
export function bundleFiles(distDir: string, bin: string): { main: string; chunks: string[] } {
  const chunkDir = path.join(distDir, "chunks", bin);
  const chunks = fs.existsSync(chunkDir)
    ? fs
        .readdirSync(chunkDir)
        .filter((name) => name.endsWith(".js"))
        .map((name) => path.join(chunkDir, name))
    : [];
  return { main: path.join(distDir, `${bin}.js`), chunks };
}

/** The files bundled in a file, from the `// <path>` line esbuild writes before each module: project sources and node_modules/…. */
export function bundledModules(file: string): string[] {
  return Array.from(fs.readFileSync(file, "utf8").matchAll(/^\/\/ ([\w@./-]+\.(?:[cm]?[jt]s|json))$/gm), (m) => m[1]!);
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

/** The node built-in modules a file imports statically ("node:crypto" → "crypto"). */
export function builtinImports(file: string): Set<string> {
  const text = fs.readFileSync(file, "utf8");
  return new Set(Array.from(text.matchAll(/^import\b[^;]*?\bfrom\s*"node:([\w/]+)";/gm), (m) => m[1]!));
}

/**
 * The chunks a file loads as soon as it starts, transitively: those it imports statically, not
 * those it loads on demand with import().
 */
export function staticallyLoaded(file: string): string[] {
  const found = new Set<string>();
  const visit = (from: string) => {
    const text = fs.readFileSync(from, "utf8");
    for (const match of text.matchAll(
      /^(?:import|export)\b[^;]*?\bfrom\s*"(\.\.?\/[^"]+)";|^import\s*"(\.\.?\/[^"]+)";/gm,
    )) {
      const chunk = path.resolve(path.dirname(from), (match[1] ?? match[2])!);
      if (!found.has(chunk)) {
        found.add(chunk);
        visit(chunk);
      }
    }
  };
  visit(file);
  return [...found];
}
