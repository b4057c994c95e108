import fs from "node:fs";
import path from "node:path";
import { installDir } from "../lib/paths.js";

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** Folders without the project's code: packages, build output, tests, runtime logs and pages. */
const SKIPPED = new Set(["node_modules", "dist", "dist-builds", "test", "test-artifacts", "logs", "public"]);

/** Every `something.md` or `something.md#anchor` named in the project's code, with where it is named. */
function documentReferences(): { where: string; doc: string; anchor?: string }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(installDir, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !SKIPPED.has(rel) && !entry.name.startsWith(".")) walk(rel);
      else if (entry.isFile() && /\.(ts|mjs|js|cjs)$/.test(entry.name)) files.push(rel);
    }
  };
  walk("");
  return files.flatMap((file) =>
    fs
      .readFileSync(path.join(installDir, file), "utf8")
      .split("\n")
      .flatMap((line, i) =>
        [...line.matchAll(/([\w./-]+\.md)(?:#([\w-]+))?/g)].map((m) => ({
          where: `${file}:${i + 1}`,
          doc: m[1]!,
          anchor: m[2],
        })),
      ),
  );
}

describe("documents named in the code", () => {
  test("each is a file of the project, and each anchor a heading of it", () => {
    const refs = documentReferences();
    expect(refs.length).toBeGreaterThan(0);
    const broken = refs.filter(({ doc, anchor }) => {
      const file = path.join(installDir, doc);
      return !fs.existsSync(file) || (anchor !== undefined && !anchorsOf(file).has(anchor));
    });
    expect(broken).toEqual([]);
  });

  test("anchors are computed as GitHub does", () => {
    expect(anchorOf("The CERT-FR feeds")).toBe("the-cert-fr-feeds");
    expect(anchorOf("Why not systeminformation and pidusage")).toBe("why-not-systeminformation-and-pidusage");
  });
});
