import fs from "node:fs";
import path from "node:path";
import { publishFiles, removeStale } from "../graphs/publish.js";
import { tempDir } from "./helpers.js";

const tree = (dir: string) =>
  (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join("/")).sort();

describe("publishFiles", () => {
  test("writes every file, making its folders, and leaves no temporary file behind", async () => {
    const publicDir = tempDir("ams-public-");
    publishFiles(publicDir, [
      ["charts/servers/web-1/CPU-24h.svg", "<svg/>"],
      ["servers/web-1.html", "<p>web-1</p>"],
      ["index.html", "<p>index</p>"],
    ]);
    expect(tree(publicDir)).toEqual([
      "charts",
      "charts/servers",
      "charts/servers/web-1",
      "charts/servers/web-1/CPU-24h.svg",
      "index.html",
      "servers",
      "servers/web-1.html",
    ]);
    expect(fs.readFileSync(path.join(publicDir, "servers", "web-1.html"), "utf8")).toBe("<p>web-1</p>");
  });

  test("replaces an old file by rename: a reader holding the old one still reads it whole", async () => {
    const publicDir = tempDir("ams-public-");
    const file = path.join(publicDir, "index.html");
    fs.writeFileSync(file, "old page");
    const reader = fs.openSync(file, "r");
    const oldInode = fs.fstatSync(reader).ino;
    publishFiles(publicDir, [["index.html", "new page"]]);
    expect(fs.statSync(file).ino).not.toBe(oldInode);
    expect(fs.readFileSync(reader, "utf8")).toBe("old page");
    fs.closeSync(reader);
    expect(fs.readFileSync(file, "utf8")).toBe("new page");
    expect(tree(publicDir)).toEqual(["index.html"]);
  });
});

describe("removeStale", () => {
  test("removes the files of a folder this run did not write, then the folders left empty", async () => {
    const publicDir = tempDir("ams-public-");
    publishFiles(publicDir, [
      ["charts/servers/web-1/CPU-24h.svg", "<svg/>"],
      ["charts/servers/gone/CPU-24h.svg", "<svg/>"],
      ["charts/servers/gone/disk/root.svg", "<svg/>"],
      ["charts/fleet/CPU-24h.svg", "<svg/>"],
      ["index.html", "<p>index</p>"],
    ]);
    const keep = new Set(["charts/servers/web-1/CPU-24h.svg"].map((f) => f.split("/").join(path.sep)));
    expect(await removeStale(publicDir, path.join("charts", "servers"), keep)).toBe(2);
    expect(tree(publicDir)).toEqual([
      "charts",
      "charts/fleet",
      "charts/fleet/CPU-24h.svg",
      "charts/servers",
      "charts/servers/web-1",
      "charts/servers/web-1/CPU-24h.svg",
      "index.html",
    ]);
  });

  test("a folder that does not exist yet has nothing to remove", async () => {
    expect(await removeStale(tempDir("ams-public-"), "servers", new Set())).toBe(0);
  });
});
