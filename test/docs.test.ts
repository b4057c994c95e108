import { execFileSync } from "node:child_process";
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

/** The project's own code: what git tracks or would (build output, packages and runtime data are ignored), less the tests. */
function codeFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: installDir,
    encoding: "utf8",
  });
  return listed.split("\n").filter((file) => /\.(ts|mjs|js|cjs)$/.test(file) && !file.startsWith("test/"));
}

/** Every `something.md` or `something.md#anchor` named in the project's code, with where it is named. */
function documentReferences(): { where: string; doc: string; anchor?: string }[] {
  const files = codeFiles().filter((file) => fs.existsSync(path.join(installDir, file)));
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
