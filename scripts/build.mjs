// Compiles every CLI ahead of time into its own entry point under dist/ (no TypeScript at run time,
// docs/ARCHITECTURE.md#commands). Cron starts these many times an hour, so start-up is what counts:
// each CLI is bundled on its own with its npm packages (one file loads faster than many), code a run
// may not need (the plugin runner, the CERT parser) goes into chunks loaded on demand, and a few
// heavy packages stay external.
//
// Each dist/<command>.js only starts its bundle, <command>.bundle.js, through scripts/code-cache.ts,
// which compiles it with V8's code cache: most of a short job's own CPU time is otherwise spent
// compiling the same code again at every start.
//
// The bundles are CommonJS. Node's ES module loader costs about 7 ms of CPU at every start, and
// importing node:fs through it loads the stream modules (another 3 ms): together more than a sensor's
// whole measurement. esbuild splits code into chunks only for ES modules, so each CLI is bundled as
// an ES module first, then every file is converted to CommonJS. dist/package.json says so to Node.
//
// Cron starts these from dist/ at any moment, so dist/ is never half built: each build goes into a
// folder of its own, dist-builds/<build id>/, and dist is a symbolic link to the current one,
// replaced in one rename once the new build is complete. A job already running keeps loading its
// chunks from the build it started from, so a replaced build is kept for an hour (longer than any
// job's default deadline, lib/deadlines.ts) before a later build removes it.
import { build, transform } from "esbuild";
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
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

// import() of a chunk or a built-in becomes require(): import() would start the ES module loader.
const LOCAL_IMPORT = /(?<![\w$.])import\(("(?:\.\.?\/|node:)[^"]*")\)/g;
// The other import() calls, of packages, become calls of a function the code cache loader gives each
// file: Node 20 runs import() in code compiled by node:vm only behind an experimental flag.
const PACKAGE_IMPORT = /(?<![\w$.])import\((?="(?!\.|node:))/g;
const IMPORT_PACKAGE = "__amsImport";
// import.meta.url (lib/paths.ts) has no CommonJS counterpart but the file's own name.
const MODULE_URL = "__amsModuleUrl";
const MODULE_URL_BANNER = `const ${MODULE_URL} = require("node:url").pathToFileURL(__filename).href;`;
// esbuild gives a default import of a built-in (`import fs from "node:fs"`) the shape of an ES module
// by copying every export into a new object (__toESM): about 4 ms of a sensor's start for the ~40
// built-in imports of its files. The module itself, as `default` and behind it, has the same shape.
const BUILTIN_TO_ESM = /__toESM\(require\(("node:[\w/]+")\)\)/g;
const BUILTIN_AS_ESM = "{ __proto__: require($1), default: require($1) }";

// A bundle's hashbang: the launcher has it, and the code cache loader wraps the bundle in a function,
// where it would not parse. Emptied rather than removed, so that the source map's lines still match.
const HASHBANG = /^#!.*/;

/** The launcher of a command: Node runs it, and it runs the bundle with the code cache. */
const launcher = (name) =>
  `#!/usr/bin/env node\nrequire("./code-cache.js").run(\`\${__dirname}/${name}.bundle.js\`, require);\n`;

/**
 * Fails the build unless the text rewrites above match the file's import() calls as esbuild
 * recorded them (`imports`, from its metafile): one in a string or a comment must not be rewritten.
 */
function checkDynamicImports(file, esm, imports) {
  const dynamic = imports.filter((i) => i.kind === "dynamic-import");
  const packages = dynamic.filter((i) => i.external && !i.path.startsWith("node:")).length;
  const found = { local: esm.match(LOCAL_IMPORT)?.length ?? 0, package: esm.match(PACKAGE_IMPORT)?.length ?? 0 };
  if (found.local !== dynamic.length - packages || found.package !== packages)
    throw new Error(
      `${file}: esbuild recorded ${dynamic.length - packages} import() of chunks and built-ins and ${packages} of packages, the rewrites found ${found.local} and ${found.package}`,
    );
}

/** One bundled ES module file (with its source map inline) as a CommonJS file and its linked map. */
async function toCommonJs(file, esm, imports) {
  checkDynamicImports(file, esm, imports);
  const usesUrl = esm.includes("import.meta.url");
  const code = esm
    .replace(HASHBANG, "")
    .replace(LOCAL_IMPORT, "Promise.resolve().then(() => require($1))")
    .replace(PACKAGE_IMPORT, `${IMPORT_PACKAGE}(`);
  const { code: cjsCode, map } = await transform(code, {
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcefile: path.basename(file),
    sourcemap: "external",
    define: usesUrl ? { "import.meta.url": MODULE_URL } : {},
    banner: usesUrl ? MODULE_URL_BANNER : "",
    logLevel: "warning",
  });
  await mkdir(path.dirname(file), { recursive: true });
  const cjs = cjsCode.replace(BUILTIN_TO_ESM, BUILTIN_AS_ESM);
  await writeFile(file, `${cjs}//# sourceMappingURL=${path.basename(file)}.map\n`);
  await writeFile(`${file}.map`, map);
}

await mkdir(BUILDS, { recursive: true });
const bundles = await Promise.all(
  Object.entries(ENTRIES).map(([out, src]) =>
    build({
      entryPoints: [{ in: src, out: `${out}.bundle` }],
      outdir,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      splitting: true,
      chunkNames: `chunks/${out}/[name]-[hash]`,
      plugins: [zodForBundles],
      define: { AMS_BUILD_ID: buildId },
      // d3 (ams-graphs' only, loaded with import()) stays in node_modules like any large package a
      // single job loads.
      external: ["d3", "playwright-core"],
      sourcemap: "inline",
      metafile: true,
      absWorkingDir: root,
      write: false,
      logLevel: "warning",
    }),
  ),
);
// What each file holds and loads, for scripts/bundle-contents.ts (paths relative to the build).
const inBuild = (file) => path.relative(outdir, path.resolve(root, file));
const outputs = Object.fromEntries(
  bundles.flatMap(({ metafile }) =>
    Object.entries(metafile.outputs).map(([file, output]) => [
      inBuild(file),
      {
        inputs: Object.keys(output.inputs),
        imports: output.imports.map(({ path: target, kind, external = false }) => ({
          path: external ? target : inBuild(target),
          kind,
          external,
        })),
      },
    ]),
  ),
);
await Promise.all(
  bundles.flatMap(({ outputFiles }) =>
    outputFiles.map((f) => toCommonJs(f.path, f.text, outputs[inBuild(f.path)].imports)),
  ),
);
await Promise.all(Object.keys(ENTRIES).map((name) => writeFile(path.join(outdir, `${name}.js`), launcher(name))));
await build({
  entryPoints: ["scripts/code-cache.ts"],
  outfile: path.join(outdir, "code-cache.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  define: { IMPORT_PACKAGE: JSON.stringify(IMPORT_PACKAGE) },
  absWorkingDir: root,
  logLevel: "warning",
});
await writeFile(path.join(outdir, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
await writeFile(path.join(outdir, "bundles.json"), `${JSON.stringify(outputs, null, 1)}\n`);

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
