// The size of each built command: its entry file (read at every start) and the chunks it loads
// only when needed. Run with `node --import tsx scripts/bench-bundles.ts` after `npm run build`.
import fs from "node:fs";
import path from "node:path";
import { installDir } from "../lib/paths.js";
import { printTable } from "./bench-measure.js";
import { bundleFiles } from "./bundle-contents.js";

const pkg = JSON.parse(fs.readFileSync(path.join(installDir, "package.json"), "utf8")) as {
  bin: Record<string, string>;
};
const distDir = path.join(installDir, "dist");
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const size = (file: string) => fs.statSync(file).size;

const rows = [...Object.keys(pkg.bin), "install-crontab"].map((bin) => {
  const { main, chunks } = bundleFiles(distDir, bin);
  const chunkBytes = chunks.reduce((sum, file) => sum + size(file), 0);
  return [bin, kib(size(main)), kib(chunkBytes), chunks.length, kib(size(main) + chunkBytes)];
});
printTable("Bundle sizes (KiB; chunks are loaded on demand)", ["command", "entry", "chunks", "files", "total"], rows);
