// Compiles every CLI ahead of time into its own entry point under dist/ (no TypeScript at run time,
// docs/ARCHITECTURE.md#commands). Cron starts these many times an hour, so start-up is what counts:
// each CLI is bundled on its own with its npm packages (one file loads faster than many), code a run
// may not need (the plugin runner, the CERT parser) goes into chunks loaded on demand, and a few
// heavy packages stay external.
import { build } from "esbuild";
import { readFile, rm } from "node:fs/promises";
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
const buildId = JSON.stringify(`${Date.now()}-${process.pid}`);

await rm(new URL("../dist", import.meta.url), { recursive: true, force: true });
await Promise.all(
  Object.entries(ENTRIES).map(([out, src]) =>
    build({
      entryPoints: [{ in: src, out }],
      outdir: "dist",
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      splitting: true,
      chunkNames: `chunks/${out}/[name]-[hash]`,
      // Bundled CommonJS packages (proper-lockfile, nodemailer) call require().
      banner: {
        js: "import { createRequire as __amsCreateRequire } from 'node:module'; const require = __amsCreateRequire(import.meta.url);",
      },
      plugins: [zodForBundles],
      define: { AMS_BUILD_ID: buildId },
      // jsdom (under d3-node) reads files beside its own sources at run time; they stay in node_modules.
      external: ["d3-node", "jsdom", "playwright-core"],
      sourcemap: "linked",
      logLevel: "warning",
    }),
  ),
);
