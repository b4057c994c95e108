import type { Paths } from "../lib/paths.js";
import { readState, writeState } from "../lib/state.js";

/** What the last pulls of one remote did (storage/state/remote-pulls.json), for the dashboard and /metrics. */
export interface PullStatus {
  /** ISO time of the first pull: a remote that never answers counts as silent from then on. */
  first_attempt?: string;
  /** ISO time the last pull started. */
  last_attempt: string;
  /** ISO time of the last pull whose copy was kept; absent until one succeeds. */
  last_success?: string;
  /** Why the last pull failed; absent when it succeeded. */
  last_error?: string;
  /** Seconds the last pull took. */
  duration_seconds: number;
  /** Readable records in the copy now kept (the last good one). */
  records?: number;
}

export type PullStatuses = Record<string, PullStatus>;

const STATE_NAME = "remote-pulls";

/** Every remote's pull status by name; {} before the first pull. */
export async function readPullStatus(paths: Paths): Promise<PullStatuses> {
  return (await readState<PullStatuses>(paths.stateDir, STATE_NAME)) ?? {};
}

export async function writePullStatus(paths: Paths, statuses: PullStatuses): Promise<void> {
  await writeState(paths.stateDir, STATE_NAME, statuses);
}

/**
 * The remotes that never reported: configured, no pull of theirs ever succeeded and their copy
 * holds no sample. Each with the time (ms) of its first pull attempt, from which it counts as
 * silent (alerts/rules.ts, the pages); a remote never attempted has nothing to count from yet.
 */
export function neverReported(
  remotes: readonly string[],
  sources: readonly { name: string; samples: number }[],
  statuses: PullStatuses,
): Map<string, number> {
  const found = new Map<string, number>();
  for (const name of remotes) {
    const status = Object.hasOwn(statuses, name) ? statuses[name] : undefined;
    const hasSamples = sources.some((s) => s.name === name && s.samples > 0);
    if (!status || status.last_success || hasSamples) continue;
    // Statuses saved before first_attempt existed: the earliest time known.
    found.set(name, Date.parse(status.first_attempt ?? status.last_attempt));
  }
  return found;
}
