// Loads a built command's files with V8's code cache (docs/ARCHITECTURE.md#commands). Compiling
// the JavaScript a run needs is the largest part of a short job's own CPU time, paid again at each
// of the dozens of cron starts an hour; V8 can instead take the compiled code from a cache of an
// earlier run. Node 20 has no such cache for files (module.enableCompileCache is Node 22), so each
// dist/<command>.js only hands its bundle to this loader, which Node's own loader runs.
//
// The cache of a file is `<file>.<node version>-<arch>.v8-cache`, beside it in the build folder,
// written when a run ends (so that it holds every function the run compiled) by a run that found
// none or found it refused. Only the owner of the build folder writes there: whoever can write the
// cache can write the code. V8 refuses a cache made with other flags, and this loader one older
// than its file; a refused cache costs a normal compile. V8 checks the cache's header, not its
// contents, so a cache is written as carefully as the code it stands for: flushed to disk and
// renamed into place, never written over.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Script } from "node:vm";

/** The launcher's own require, which loads what is not part of the build: Node's built-ins, npm packages. */
type Require = (id: string) => unknown;

interface CommonJsModule {
  exports: unknown;
}

/** The name a bundle's import() of a package (d3, an ES module, which require() cannot load) takes in the bundle; set by scripts/build.mjs. */
declare const IMPORT_PACKAGE: string;

type ImportPackage = (specifier: string) => Promise<unknown>;

type ModuleFunction = (
  exports: unknown,
  require: Require,
  module: CommonJsModule,
  filename: string,
  dirname: string,
  importPackage: ImportPackage,
) => void;

const loaded = new Map<string, CommonJsModule>();
/** Files compiled without a usable cache: theirs is written as the process exits. */
const uncached: { file: string; script: Script }[] = [];

// One per node binary: two installed side by side do not refuse, and rewrite, each other's.
const cacheOf = (file: string) => `${file}.${process.version}-${process.arch}.v8-cache`;

/** The file's cache, unless it is missing or older than the file (V8 checks only the source's length). */
function readCache(file: string): Buffer | undefined {
  try {
    if (statSync(cacheOf(file)).mtimeMs < statSync(file).mtimeMs) return undefined;
    return readFileSync(cacheOf(file));
  } catch {
    return undefined;
  }
}

// Here, in a file Node loaded, import() works as in any CommonJS file. In code compiled by node:vm,
// Node 20 runs it only with --experimental-vm-modules or an experimental option that warns.
const importPackage: ImportPackage = (specifier) => import(specifier);

function load(file: string, outside: Require): unknown {
  const known = loaded.get(file);
  if (known) return known.exports;
  const module: CommonJsModule = { exports: {} };
  // Known before it runs, for the chunks it requires that require it back.
  loaded.set(file, module);
  try {
    const source = readFileSync(file, "utf8");
    const cachedData = readCache(file);
    const script = new Script(
      `(function (exports, require, module, __filename, __dirname, ${IMPORT_PACKAGE}) { ${source}\n})`,
      { filename: file, cachedData },
    );
    if (!cachedData || script.cachedDataRejected) uncached.push({ file, script });
    const dir = dirname(file);
    const required: Require = (id) => (id.startsWith(".") ? load(resolve(dir, id), outside) : outside(id));
    const body = script.runInThisContext() as ModuleFunction;
    body.call(module.exports, module.exports, required, module, file, dir, importPackage);
  } catch (err) {
    // As Node's loader does: a file that failed to load is loaded again when next required (ams-web
    // loads chunks for as long as it runs), not taken for its half-made exports.
    loaded.delete(file);
    throw err;
  }
  return module.exports;
}

function writeCaches(buildDir: string): void {
  if (uncached.length === 0) return;
  try {
    if (statSync(buildDir).uid !== process.getuid?.()) return;
  } catch {
    return;
  }
  for (const { file, script } of uncached) {
    // A name no other writer has (jobs in other PID namespaces may share the folder), created
    // afresh, flushed, then renamed into place: a job starting meanwhile, or after a power cut,
    // reads a whole cache or none.
    const temp = `${cacheOf(file)}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    try {
      const fd = openSync(temp, "wx", 0o644);
      try {
        const data = script.createCachedData();
        for (let written = 0; written < data.length;) written += writeSync(fd, data, written);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, cacheOf(file));
    } catch {
      // A cache is only a saving: a full disk or a removed build costs the next run a compile.
      try {
        unlinkSync(temp);
      } catch {
        // Not written at all.
      }
    }
  }
}

/** Runs a command's bundle, `main`, which lies at the top of its build folder. */
export function run(main: string, outside: Require): void {
  process.once("exit", () => writeCaches(dirname(main)));
  load(main, outside);
}
