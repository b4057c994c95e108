import { ESLint } from "eslint";
import { installDir } from "../lib/paths.js";

// Only the layer rules, without type information: they judge import paths, nothing else
// (no-restricted-syntax catches lazy import() calls, and also bans spread arguments).
const LAYER_RULES = ["@typescript-eslint/no-restricted-imports", "no-restricted-syntax"];
const eslint = new ESLint({
  cwd: installDir,
  ruleFilter: ({ ruleId }) => LAYER_RULES.includes(ruleId),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The layer rule's complaints about `code` placed at `file`, one per offending line. */
async function complaints(file: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((m) => {
    expect(LAYER_RULES).toContain(m.ruleId);
    return m.line;
  });
}

describe("imports point down: CLI → feature → storage → lib", () => {
  test.each([
    ["lib/planted.ts", 'import { runCheck } from "../alerts/check.js";'],
    ["lib/planted.ts", 'import { readFleet } from "../storage/fleet.js";'],
    ["lib/planted.ts", 'import type { Config } from "../config/ams-config.js";'],
    ["storage/planted.ts", 'import { renderSite } from "../graphs/render.js";'],
    ["storage/planted.ts", 'import type { AlertState } from "../alerts/state.js";'],
    ["storage/planted.ts", 'import { loadConfig } from "../config/ams-config.js";'],
    ["web/planted.ts", 'import { runCheck } from "../alerts/check.js";'],
    ["graphs/planted.ts", 'import { parseCertFeed } from "../sensors/cert-feed.js";'],
    ["graphs/planted.ts", 'import { loadConfig } from "../config/ams-config.js";'],
    ["alerts/planted.ts", 'import "../graphs/cli.js";'],
    ["alerts/planted.ts", 'import "./cli.js";'],
    ["config/planted.ts", 'import "../storage/cleanup-cli.js";'],
    ["lib/planted.ts", 'export const later = () => import("../alerts/check.js");'],
    ["storage/planted.ts", 'export const later = () => import("../config/ams-config.js");'],
    ["graphs/planted.ts", 'export const later = () => import("../sensors/cert-feed.js");'],
  ])("%s may not: %s", async (file, line) => {
    const lines = await complaints(file, `${line}\n`);
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines)).toEqual(new Set([1]));
  });

  test("what the layers allow passes", async () => {
    const code = [
      'import { fileStamp } from "../lib/time.js";',
      'import { readFleet } from "../storage/fleet.js";',
      'import type { Config } from "../config/ams-config.js";',
      'import { ruleForServer } from "../alerts/config.js";',
      'import { BUILTIN_CATALOGUE } from "../sensors/catalogue.js";',
      'import { html } from "./html.js";',
      'export const later = () => import("./chart.js");',
    ].join("\n");
    expect(await complaints("graphs/planted.ts", code)).toEqual([]);
    // A command-line entry point sits above every feature.
    expect(
      await complaints("storage/cleanup-cli.ts", 'import { pruneAlertHistory } from "../alerts/prune.js";\n'),
    ).toEqual([]);
    expect(await complaints("alerts/cli.ts", 'import { pluginNames } from "../sensors/registry.js";\n')).toEqual([]);
    expect(await complaints("alerts/planted.ts", 'import { serverPage } from "../graphs/file-names.js";\n')).toEqual(
      [],
    );
    // lib/cli.ts is the plumbing every command shares, not an entry point.
    expect(await complaints("lib/planted.ts", 'import { amsProgram } from "./cli.js";\n')).toEqual([]);
    expect(await complaints("web/planted.ts", 'import { amsProgram } from "../lib/cli.js";\n')).toEqual([]);
  });

  test("the tree has no upward import", async () => {
    const results = await eslint.lintFiles(["."]);
    expect(results.length).toBeGreaterThan(50);
    const found = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(found).toEqual([]);
  });
});
