import path from "node:path";
import { installDir } from "../lib/paths.js";
import { bundledPackages, bundleFiles } from "../scripts/bundle-contents.js";

// Reads dist/, which `npm test` builds before jest starts.
const dist = path.join(installDir, "dist");

/** The packages in a command's entry file, and in all its files (entry and on-demand chunks). */
function packagesOf(bin: string): { entry: Set<string>; all: Set<string> } {
  const { main, chunks } = bundleFiles(dist, bin);
  const entry = bundledPackages(main);
  const all = new Set(entry);
  for (const chunk of chunks) for (const name of bundledPackages(chunk)) all.add(name);
  return { entry, all };
}

describe("heavy packages stay in the commands that use them", () => {
  test("ams-alert bundles nodemailer and ams-sensor loads fast-xml-parser on demand (the check sees them)", () => {
    expect(packagesOf("ams-alert").entry.has("nodemailer")).toBe(true);
    const sensor = packagesOf("ams-sensor");
    expect(sensor.entry.has("fast-xml-parser")).toBe(false);
    expect(sensor.all.has("fast-xml-parser")).toBe(true);
  });

  test.each(["ams-cleanup", "ams-web"])("%s has no nodemailer", (bin) => {
    const { all } = packagesOf(bin);
    expect(all.has("commander")).toBe(true);
    expect(all.has("nodemailer")).toBe(false);
  });

  test("ams-graphs has no fast-xml-parser", () => {
    const { all } = packagesOf("ams-graphs");
    expect(all.has("commander")).toBe(true);
    expect(all.has("fast-xml-parser")).toBe(false);
  });
});
