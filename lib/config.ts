import fs from "node:fs";
import os from "node:os";
import { z } from "zod";
import { PluginsConfig } from "../sensors/plugins-config.js";
import { alertingSections } from "../alerts/config.js";
import { Duration } from "./duration.js";
import { FetchConfig, RemotesConfig } from "../remote/config.js";
import { BackupsConfig } from "../backups/config.js";
import { RetentionConfig } from "../storage/retention-config.js";
import { LogsConfig } from "./log-config.js";
import { ServerName } from "./server-name.js";
import { GraphsConfig } from "../graphs/config.js";
import { WebConfig } from "../web/config.js";

const SensorsConfig = z.strictObject({
  cert: z
    .strictObject({
      feeds: z
        .array(z.url({ protocol: /^https?$/ }))
        .min(1)
        .default(["https://www.cert.ssi.gouv.fr/alerte/feed/", "https://www.cert.ssi.gouv.fr/avis/feed/"]),
      timeout: Duration.default(10),
    })
    .prefault({}),
  disk: z
    .strictObject({
      // A dead NFS mount can block statfs forever: each mount gets this long.
      timeout: Duration.default(5),
      exclude_mounts: z.array(z.string()).default([]),
    })
    .prefault({}),
  plugins: PluginsConfig,
});

export const ConfigSchema = z.strictObject({
  server_id: ServerName.default(() => os.hostname().split(".")[0] || "localhost"),
  sensors: SensorsConfig.prefault({}),
  remotes: RemotesConfig,
  fetch: FetchConfig,
  retention: RetentionConfig,
  backups: BackupsConfig,
  logs: LogsConfig,
  ...alertingSections,
  graphs: GraphsConfig,
  web: WebConfig,
});

export type Config = z.infer<typeof ConfigSchema>;

/** A configuration problem, reported with the file and the key at fault. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** "alerts.rules.x.for: expected …", or one "<key>: unknown key" per unknown key. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${where ? `${where}.` : ""}${key}: unknown key`).join("; ");
  }
  // A record key that fails its own schema: say why (e.g. the rule-name pattern), not just "Invalid key".
  const message =
    issue.code === "invalid_key" && issue.issues.length > 0
      ? issue.issues.map((i) => i.message).join("; ")
      : issue.message;
  return `${where || "(top level)"}: ${message}`;
}

/** Validates a parsed configuration object; `source` names it in errors. */
export function parseConfig(raw: unknown, source: string): Config {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`${source}: ${result.error.issues.map(describeIssue).join("; ")}`);
  }
  return result.data;
}

/** Loads AMS_HOME/ams.config.json; a missing file means every default. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return parseConfig({}, file);
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(raw, file);
}
