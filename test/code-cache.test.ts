import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";
import { bundleFiles, staticallyLoaded } from "../scripts/bundle-contents.js";
import { tempDir, tempHome } from "./helpers.js";

// scripts/code-cache.ts, on a copy of the build `npm test` made: the tests write caches into it.
function copyOfBuild(): string {
  const root = tempDir("ams-code-cache-");
  fs.copyFileSync(path.join(installDir, "package.json"), path.join(root, "package.json"));
  const build = path.join(root, "dist-builds", "copy");
  fs.cpSync(fs.realpathSync(path.join(installDir, "dist")), build, {
    recursive: true,
    filter: (source) => !source.includes(".v8-cache"),
  });
  return build;
}

const cacheOf = (file: string) => `${file}.${process.version}-${process.arch}.v8-cache`;
/** Each cache's inode: a cache written again (renamed into place) gets a new one. */
const inodes = (files: string[]) => files.map((file) => fs.statSync(cacheOf(file)).ino);

async function sensor(build: string, home: string) {
  const run = await execa(process.execPath, [path.join(build, "ams-sensor.js"), "cpu", "--home", home], {
    reject: false,
  });
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toMatch(/^CPU \d+(\.\d)? % on /);
}

describe("dist/<command>.js runs its bundle with V8's code cache", () => {
  test("a run writes the cache of each file it loaded, and the next runs use it as it is", async () => {
    const build = copyOfBuild();
    const home = tempHome();
    const { main, chunks } = bundleFiles(build, "ams-sensor");
    const startup = [main, ...staticallyLoaded(main)];
    await sensor(build, home);
    for (const file of startup) expect(fs.existsSync(cacheOf(file))).toBe(true);
    // commander loads only for --help and mistakes: its chunk was not compiled, so it has no cache.
    const commander = chunks.filter((chunk) => path.basename(chunk).startsWith("cli-"));
    expect(commander).toHaveLength(1);
    expect(fs.existsSync(cacheOf(commander[0]!))).toBe(false);
    // A cache V8 refused would be written again.
    const written = inodes(startup);
    await sensor(build, home);
    await sensor(build, home);
    expect(inodes(startup)).toEqual(written);
  });

  test("a cache V8 refuses, or one older than its file, costs a compile and is written again", async () => {
    const build = copyOfBuild();
    const home = tempHome();
    const { main } = bundleFiles(build, "ams-sensor");
    const chunk = staticallyLoaded(main)[0]!;
    await sensor(build, home);
    const [mainCache, chunkCache] = inodes([main, chunk]);
    // Garbage of the same length.
    fs.writeFileSync(cacheOf(main), Buffer.alloc(fs.statSync(cacheOf(main)).size, 0x5a));
    // The file changed after its cache was written (V8 checks only the source's length).
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(cacheOf(chunk), hourAgo, hourAgo);
    await sensor(build, home);
    const [mainAgain, chunkAgain] = inodes([main, chunk]);
    expect(mainAgain).not.toBe(mainCache);
    expect(chunkAgain).not.toBe(chunkCache);
    expect(fs.readFileSync(cacheOf(main)).every((byte) => byte === 0x5a)).toBe(false);
    await sensor(build, home);
    expect(inodes([main, chunk])).toEqual([mainAgain, chunkAgain]);
  });

  // ams-web runs for days and loads chunks on demand; Node's own loader loads a failed file again.
  test("a file that failed to load is loaded again when next required, not taken for its half-made exports", async () => {
    const build = tempDir("ams-code-cache-");
    fs.writeFileSync(
      path.join(build, "main.bundle.js"),
      `let first;
      try { require("./chunk.js"); } catch (err) { first = err.message; }
      process.stdout.write(JSON.stringify({ first, again: require("./chunk.js").value }));`,
    );
    fs.writeFileSync(
      path.join(build, "chunk.js"),
      `globalThis.attempts = (globalThis.attempts ?? 0) + 1;
      exports.partial = true;
      if (globalThis.attempts === 1) throw new Error("the first load fails");
      exports.value = 42;`,
    );
    const loader = path.join(fs.realpathSync(path.join(installDir, "dist")), "code-cache.js");
    const run = await execa(process.execPath, [
      "-e",
      `require(${JSON.stringify(loader)}).run(${JSON.stringify(path.join(build, "main.bundle.js"))}, require)`,
    ]);
    expect(JSON.parse(run.stdout)).toEqual({ first: "the first load fails", again: 42 });
  });

  // Whoever can write the cache can write the code: only the build folder's owner writes it.
  const asRoot = process.getuid?.() === 0 ? test : test.skip;
  asRoot("a job run by another user than the build's owner writes no cache, and runs", async () => {
    const build = copyOfBuild();
    await execa("chown", ["-R", "65534:65534", build]);
    await sensor(build, tempHome());
    const caches = fs.readdirSync(build, { recursive: true }).filter((name) => String(name).includes(".v8-cache"));
    expect(caches).toEqual([]);
  });
});
