import fs from "node:fs";
import os from "node:os";
import { buildId } from "./build-id.js";
import { ifExistsSync } from "./if-exists.js";
import type { Paths } from "./paths.js";
import { readState, writeState } from "./state.js";

const STATE = "config";

interface CachedConfig<C> {
  key: string;
  config: C;
}

/**
 * What makes a validated config still valid: this build, the file as it is on disk, and the host
 * name (the default server_id). Undefined when running from the sources, where nothing is cached.
 */
function cacheKey(file: string): string | undefined {
  if (buildId === undefined) return undefined;
  const stat = ifExistsSync(() => fs.statSync(file), undefined);
  // The ctime too: cp -p, tar or rsync can set the mtime back, nothing sets the ctime.
  return JSON.stringify([buildId, os.hostname(), stat ? [stat.ino, stat.size, stat.mtimeMs, stat.ctimeMs] : "none"]);
}

/** storage/state/config.json as loadJobConfig writes it. */
const cacheProblem = (value: unknown) => {
  const cached = value as Partial<CachedConfig<unknown>> | null;
  return typeof cached?.key === "string" && typeof cached.config === "object" && cached.config !== null
    ? undefined
    : "expected { key, config }";
};

/**
 * The data home's config, validated by `load`. Validation builds every section's schema, which costs
 * a cron job more than the measurement itself; so the validated result is kept in storage/state/
 * and reused while neither the file nor the build changes, and `load` (which should import the
 * schema lazily) is not called at all. A config that fails validation is never cached: every run
 * reports it again.
 */
export async function loadJobConfig<C>(paths: Paths, load: (file: string) => Promise<C>): Promise<C> {
  const key = cacheKey(paths.config);
  if (key !== undefined) {
    // A cache: an unusable one is not kept aside or reported, just written over below.
    const cached = await readState<CachedConfig<C>>(paths.stateDir, STATE, cacheProblem, () => {}, false).catch(
      () => undefined,
    );
    if (cached?.key === key) return cached.config;
  }
  const config = await load(paths.config);
  // The config may hold a password hash: the cache is readable by its owner only, like the config should be.
  if (key !== undefined)
    await writeState(paths.stateDir, STATE, { key, config } satisfies CachedConfig<C>, 0o600).catch(() => undefined);
  return config;
}
