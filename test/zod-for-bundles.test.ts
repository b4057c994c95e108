import fs from "node:fs";
import path from "node:path";
import { installDir } from "../lib/paths.js";
import { z } from "../scripts/zod-for-bundles.js";

// Type-level members: they never reach the bundles.
const TYPE_ONLY = new Set(["infer", "input", "output", "core", "RefinementCtx", "ZodType"]);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === "node_modules" ||
        entry.name.startsWith(".") ||
        entry.name === "dist" ||
        entry.name === "dist-builds" ||
        entry.name === "test"
        ? []
        : sources(file);
    return entry.name.endsWith(".ts") ? [file] : [];
  });
}

test("the bundles' zod has every member of z that the code uses", () => {
  const used = new Set<string>();
  for (const file of sources(installDir)) {
    for (const match of fs.readFileSync(file, "utf8").matchAll(/\bz\.([A-Za-z_$][\w$]*)/g)) used.add(match[1]!);
  }
  expect(used.has("strictObject")).toBe(true); // the scan found the schemas
  const missing = [...used].filter((name) => !TYPE_ONLY.has(name) && !(name in z));
  expect(missing).toEqual([]);
});
