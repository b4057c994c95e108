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

/** The npm packages bundled in a file, from the `// node_modules/<package>/…` line esbuild writes before each module. */
export function bundledPackages(file: string): Set<string> {
  const found = new Set<string>();
  for (const match of fs.readFileSync(file, "utf8").matchAll(/^\/\/ node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//gm))
    found.add(match[1]!);
  return found;
}
