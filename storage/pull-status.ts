import type { Paths } from "../lib/paths.js";
import { readState, writeState, type ResetReport } from "../lib/state.js";

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
  /** Records of that copy naming a server the remote may not speak for (skipped), and the first few names. */
  foreign_records?: number;
  foreign_servers?: string[];
}

export type PullStatuses = Record<string, PullStatus>;

export const PULL_STATUS_STATE = "remote-pulls";

const isTime = (v: unknown) => typeof v === "string" && !Number.isNaN(Date.parse(v));

/** remote-pulls.json as ams-fetch-remote writes it. */
function pullStatusesProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected an object";
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    const s = entry as Partial<Record<keyof PullStatus, unknown>> | null;
    const ok =
      typeof s === "object" &&
      s !== null &&
      (s.first_attempt === undefined || isTime(s.first_attempt)) &&
      isTime(s.last_attempt) &&
      (s.last_success === undefined || isTime(s.last_success)) &&
      (s.last_error === undefined || typeof s.last_error === "string") &&
      typeof s.duration_seconds === "number" &&
      (s.records === undefined || typeof s.records === "number") &&
      (s.foreign_records === undefined || typeof s.foreign_records === "number") &&
      (s.foreign_servers === undefined ||
        (Array.isArray(s.foreign_servers) && s.foreign_servers.every((n) => typeof n === "string")));
    if (!ok)
      return `${name}: expected { first_attempt?, last_attempt, last_success?, last_error?, duration_seconds, records?, foreign_records?, foreign_servers? }`;
  }
  return undefined;
}

/**
 * Every remote's pull status by name; {} before the first pull. An unusable file reads as {} (each
 * remote's next pull writes its status again); a job given `onReset` moves it aside and reports it,
 * a reader given none (the web server) leaves it alone.
 */
export async function readPullStatus(paths: Paths, onReset?: ResetReport): Promise<PullStatuses> {
  const read = readState<PullStatuses>(
    paths.stateDir,
    PULL_STATUS_STATE,
    pullStatusesProblem,
    onReset ?? (() => {}),
    !!onReset,
  );
  return (await read) ?? {};
}

export async function writePullStatus(paths: Paths, statuses: PullStatuses): Promise<void> {
  await writeState(paths.stateDir, PULL_STATUS_STATE, statuses);
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
