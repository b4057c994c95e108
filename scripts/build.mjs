// Compiles every CLI ahead of time into its own entry point under dist/ (no TypeScript at run time,
// docs/ARCHITECTURE.md#commands). Cron starts these many times an hour, so start-up is what counts:
// each CLI is bundled on its own with its npm packages (one file loads faster than many), code a run
// may not need (the plugin runner, the CERT parser) goes into chunks loaded on demand, and a few
// heavy packages stay external.
//
// Cron starts these from dist/ at any moment, so dist/ is never half built: each build goes into a
// folder of its own, dist-builds/<build id>/, and dist is a symbolic link to the current one,
// replaced in one rename once the new build is complete. A job already running keeps loading its
// chunks from the build it started from, so a replaced build is kept for an hour (longer than any
// job's default deadline, lib/deadlines.ts) before a later build removes it.
import { build } from "esbuild";
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, utimes } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ENTRIES = {
  "ams-sensor": "sensors/cli.ts",
  "ams-fetch-remote": "remote/cli.ts",
  "ams-cleanup": "storage/cleanup-cli.ts",
  "ams-backup": "backups/cli.ts",
  "install-crontab": "scripts/install-crontab.ts",
  "ams-alert": "alerts/cli.ts",
  "ams-graphs": "graphs/cli.ts",
  "ams-web": "web/cli.ts",
};

// "zod" (exactly: not "zod/v4", which the replacement itself imports) → scripts/zod-for-bundles.ts.
const zodForBundles = {
  name: "zod-for-bundles",
  setup(build) {
    build.onResolve({ filter: /^zod$/ }, () => ({
      path: fileURLToPath(new URL("zod-for-bundles.ts", import.meta.url)),
    }));
  },
};

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
for (const name of Object.keys(pkg.bin)) {
  if (!ENTRIES[name]) throw new Error(`package.json bin "${name}" has no entry in scripts/build.mjs`);
}

// One value per build: lets a job reuse the config it validated in an earlier run (lib/job-config.ts).
const id = `${Date.now()}-${process.pid}`;
const buildId = JSON.stringify(id);

const root = fileURLToPath(new URL("..", import.meta.url));
const DIST = path.join(root, "dist");
const BUILDS = path.join(root, "dist-builds");
const outdir = path.join(BUILDS, id);
const KEEP_REPLACED_MS = 3600_000;

await mkdir(BUILDS, { recursive: true });
await Promise.all(
  Object.entries(ENTRIES).map(([out, src]) =>
    build({
      entryPoints: [{ in: src, out }],
      outdir,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      splitting: true,
      chunkNames: `chunks/${out}/[name]-[hash]`,
      // Bundled CommonJS packages (nodemailer, cross-spawn) call require().
      banner: {
        js: "import { createRequire as __amsCreateRequire } from 'node:module'; const require = __amsCreateRequire(import.meta.url);",
      },
      plugins: [zodForBundles],
      define: { AMS_BUILD_ID: buildId },
      // d3 (ams-graphs' only, loaded with import()) stays in node_modules like any large package a
      // single job loads.
      external: ["d3", "playwright-core"],
      sourcemap: "linked",
      logLevel: "warning",
    }),
  ),
);

// dist → dist-builds/<id>, switched in one rename (rename replaces a symbolic link atomically).
const current = await readlink(DIST).catch(() => undefined);
const legacy = current === undefined && (await lstat(DIST).catch(() => undefined))?.isDirectory();
// A dist/ folder of an older layout: moved aside once, the one moment dist is missing.
const replaced = legacy ? path.join(BUILDS, `replaced-${id}`) : current && path.resolve(root, current);
if (legacy) await rename(DIST, replaced);
const link = `${DIST}.${process.pid}.new`;
await rm(link, { force: true });
await symlink(path.join("dist-builds", id), link);
await rename(link, DIST);
if (replaced) {
  // Marks when it was replaced: jobs started from it may still be running.
  const now = new Date();
  await utimes(replaced, now, now).catch(() => undefined);
}

const inUse = path.resolve(root, await readlink(DIST));
for (const name of await readdir(BUILDS)) {
  const dir = path.join(BUILDS, name);
  if (dir === inUse || dir === outdir) continue;
  const { mtimeMs } = await stat(dir);
  if (Date.now() - mtimeMs > KEEP_REPLACED_MS) await rm(dir, { recursive: true, force: true });
}
