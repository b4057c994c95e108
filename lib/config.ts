import os from "node:os";
import type { ZodType, z } from "zod";
import { readFileIfExistsSync } from "./if-exists.js";
import { LogsConfig } from "./log-config.js";
import { DeadlinesConfig } from "./deadlines-config.js";
import { ServerName } from "./server-name-config.js";

/**
 * Reading and validating ams.config.json, for any schema: each feature owns its section, and the
 * whole file's schema is composed above the features (config/ams-config.ts).
 */

/** The keys every job reads, whatever its feature: the server's name, its log rotation and its deadline. */
export const coreSections = {
  server_id: ServerName.default(() => os.hostname().split(".")[0] || "localhost"),
  logs: LogsConfig,
  deadlines: DeadlinesConfig,
};

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
  // A value of none of a union's forms: say what is wrong in the form it comes closest to (fewest
  // problems), e.g. a maintenance schedule's `duration`, not just "Invalid input".
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const sizes = issue.errors.map((e) => e.length);
    const fewest = sizes.reduce((a, b) => Math.min(a, b));
    if (fewest > 0 && sizes.indexOf(fewest) === sizes.lastIndexOf(fewest)) {
      const closest = issue.errors[sizes.indexOf(fewest)]!;
      return closest.map((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] })).join("; ");
    }
  }
  // A record key that fails its own schema: say why (e.g. the rule-name pattern), not just "Invalid key".
  const message =
    issue.code === "invalid_key" && issue.issues.length > 0
      ? issue.issues.map((i) => i.message).join("; ")
      : issue.message;
  return `${where || "(top level)"}: ${message}`;
}

/** Validates a parsed configuration object against `schema`; `source` names it in errors. */
export function validateConfig<S extends ZodType>(schema: S, raw: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`${source}: ${result.error.issues.map(describeIssue).join("; ")}`);
  }
  return result.data;
}

/** Reads and validates a config file against `schema`; a missing file means every default. */
export function readConfigFile<S extends ZodType>(schema: S, file: string): z.infer<S> {
  let text: string | undefined;
  try {
    text = readFileIfExistsSync(file);
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) return validateConfig(schema, {}, file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return validateConfig(schema, raw, file);
}
