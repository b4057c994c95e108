import path from "node:path";
import { installDir } from "../lib/paths.js";
import {
  builtinImports,
  bundledModules,
  bundledPackages,
  bundleFiles,
  staticallyLoaded,
} from "../scripts/bundle-contents.js";

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

/** The packages a command loads before it runs: in its entry file and the chunks that file imports statically. */
function startupPackagesOf(bin: string): Set<string> {
  const { main } = bundleFiles(dist, bin);
  return new Set([main, ...staticallyLoaded(main)].flatMap((file) => [...bundledPackages(file)]));
}

/** The project's own source files in all of a command's files. */
function sourcesOf(bin: string): string[] {
  const { main, chunks } = bundleFiles(dist, bin);
  return [main, ...chunks].flatMap((file) => bundledModules(file).filter((m) => !m.startsWith("node_modules/")));
}

describe("heavy packages stay in the commands that use them", () => {
  test("ams-alert and ams-sensor load nodemailer and fast-xml-parser on demand (the check sees them)", () => {
    const alert = packagesOf("ams-alert");
    expect(alert.entry.has("nodemailer")).toBe(false);
    expect(alert.all.has("nodemailer")).toBe(true);
    expect(sourcesOf("ams-alert")).toEqual(expect.arrayContaining(["alerts/channels/email.ts", "alerts/queue.ts"]));
    const sensor = packagesOf("ams-sensor");
    expect(sensor.entry.has("fast-xml-parser")).toBe(false);
    expect(sensor.all.has("fast-xml-parser")).toBe(true);
  });

  test.each(["ams-cleanup", "ams-web", "ams-sensor"])(
    "%s has no nodemailer, no notification channel, no queue",
    (bin) => {
      const { all } = packagesOf(bin);
      expect(all.has("commander")).toBe(true);
      expect(all.has("nodemailer")).toBe(false);
      expect(sourcesOf(bin).filter((s) => /^alerts\/(channels\/|queue\.ts|check\.ts)/.test(s))).toEqual([]);
    },
  );

  // ams-graphs reads the metric catalogue, which the sensors declare: the CERT parser comes along only
  // as the cert sensor's on-demand chunk, which nothing in ams-graphs loads.
  test("ams-graphs does not load fast-xml-parser", () => {
    const { entry } = packagesOf("ams-graphs");
    expect(entry.has("commander")).toBe(true);
    expect(entry.has("fast-xml-parser")).toBe(false);
  });
});

describe("what a cron job loads before it starts working", () => {
  // Their config comes validated from a cache (lib/job-config.ts): the schemas load only when it is stale.
  test.each(["ams-sensor", "ams-fetch-remote", "ams-backup"])(
    "%s loads zod only on demand (the check sees it)",
    (bin) => {
      expect(startupPackagesOf(bin).has("zod")).toBe(false);
      expect(packagesOf(bin).all.has("zod")).toBe(true);
    },
  );

  // Cron starts ams-sensor 36 times an hour with plain command lines (lib/plain-args.ts): commander
  // comes only for --help and mistakes, node:child_process only for the disk sensor's probes, and
  // node:crypto not at all.
  test("ams-sensor starts without commander, node:crypto or node:child_process (the check sees them)", () => {
    const { main } = bundleFiles(dist, "ams-sensor");
    const startup = [main, ...staticallyLoaded(main)];
    expect(startupPackagesOf("ams-sensor").has("commander")).toBe(false);
    expect(packagesOf("ams-sensor").all.has("commander")).toBe(true);
    const builtins = new Set(startup.flatMap((file) => [...builtinImports(file)]));
    expect(builtins.has("fs/promises")).toBe(true);
    for (const name of ["crypto", "child_process"]) expect(builtins.has(name)).toBe(false);
    expect(startupPackagesOf("ams-fetch-remote").has("commander")).toBe(true);
  });

  // The store lock is lib/dir-lock.ts: proper-lockfile and graceful-fs (which patches all of fs) cost more to load than a sensor's measurement.
  test.each(["ams-sensor", "ams-fetch-remote", "ams-cleanup", "ams-backup", "ams-alert", "ams-graphs", "ams-web"])(
    "%s bundles no proper-lockfile, graceful-fs or retry",
    (bin) => {
      const { all } = packagesOf(bin);
      for (const name of ["proper-lockfile", "graceful-fs", "retry"]) expect(all.has(name)).toBe(false);
      expect(sourcesOf(bin)).toContain("lib/dir-lock.ts");
    },
  );
});
