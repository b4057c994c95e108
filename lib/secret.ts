import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "./config.js";

/**
 * A secret (a password, a token, a URL holding one) never sits in the config: the config names an
 * environment variable or a file readable by its owner only. `key` is the config key errors name,
 * e.g. "email.password" for email.password_env / email.password_file.
 */
export interface SecretSource {
  key: string;
  env?: string;
  /** Relative to `home`. */
  file?: string;
}

export function readSecret(
  source: SecretSource,
  options: { home?: string; env?: NodeJS.ProcessEnv } = {},
): string | undefined {
  const env = options.env ?? process.env;
  if (source.env) {
    const value = env[source.env];
    if (!value) throw new ConfigError(`${source.key}_env: the environment variable ${source.env} is not set`);
    return value;
  }
  if (source.file) {
    const file = path.resolve(options.home ?? ".", source.file);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (err) {
      throw new ConfigError(`${source.key}_file: cannot read ${file}: ${(err as Error).message}`);
    }
    if ((stat.mode & 0o077) !== 0) {
      throw new ConfigError(
        `${source.key}_file: ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    return fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
  }
  return undefined;
}
