import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { failRunWith } from "../lib/cli.js";
import { replaceWithFile } from "../lib/atomic-write.js";
import type { Logger } from "../lib/log.js";
import type { Paths } from "../lib/paths.js";
import { mapWithLimit } from "../lib/concurrency.js";
import { remoteCopy } from "../storage/fleet.js";
import { readPullStatus, writePullStatus, type PullStatus, type PullStatuses } from "../storage/pull-status.js";
import { ownSamples } from "../storage/speaks-for.js";
import { readSamples } from "../storage/store.js";
import type { FetchSettings, Remote } from "./config.js";

/**
 * Pulls each remote's store with the system scp into a temporary file next to its last good copy,
 * validates it, and only then renames it over `storage/remote/<name>_logs.json`. A failed pull
 * (unreachable, timed out, too large, not AMS records) leaves the last good copy alone.
 */

export interface PullOutcome {
  remote: string;
  ok: boolean;
  startedAt: Date;
  durationSeconds: number;
  /** Readable records of the new copy. */
  records?: number;
  /** Records of the new copy that fit no known form. */
  skipped?: number;
  /** Records of the new copy naming a server this remote may not speak for (skipped), and the first few names. */
  foreign?: number;
  foreignServers?: string[];
  error?: string;
}

export interface FetchContext {
  paths: Paths;
  fetch: FetchSettings;
  log: Logger;
  /** Accept a host key seen for the first time, for this run (overrides fetch.accept_new_host). */
  acceptNewHost?: boolean;
  now?: () => Date;
}

/** `user@host:path`, with IPv6 addresses in brackets as scp wants them. */
function remoteSpec(remote: Remote): string {
  const host = remote.host.includes(":") ? `[${remote.host}]` : remote.host;
  return `${remote.user}@${host}:${remote.path}`;
}

/**
 * The command that copies one remote's store to `target`, as a program and an argument array (never
 * a shell string). prlimit caps the file scp may write, so an oversized store is cut off by the
 * kernel (SIGXFSZ) instead of filling the disk first; one byte over the cap tells "too large" apart.
 */
export function scpCommand(
  remote: Remote,
  ctx: Pick<FetchContext, "paths" | "fetch" | "acceptNewHost">,
  target: string,
): { file: string; args: string[] } {
  const { fetch, paths } = ctx;
  const acceptNew = ctx.acceptNewHost ?? fetch.accept_new_host;
  const args = [
    `--fsize=${fetch.max_bytes + 1}`,
    "scp",
    "-B",
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${Math.max(1, Math.ceil(fetch.connect_timeout))}`,
    "-o",
    `StrictHostKeyChecking=${acceptNew ? "accept-new" : "yes"}`,
    // Errors only: keeps "Permanently added ..." out of the job's stderr without hiding failures.
    "-o",
    "LogLevel=ERROR",
  ];
  if (fetch.known_hosts) args.push("-o", `UserKnownHostsFile=${path.resolve(paths.home, fetch.known_hosts)}`);
  args.push("-P", String(remote.port));
  if (remote.identity) args.push("-i", path.resolve(paths.home, remote.identity), "-o", "IdentitiesOnly=yes");
  args.push("--", remoteSpec(remote), target);
  return { file: "prlimit", args };
}

/** Copies the store into `temp`; throws saying why when scp did not bring a whole file. */
async function copyRemote(remote: Remote, ctx: FetchContext, temp: string): Promise<void> {
  const { file, args } = scpCommand(remote, ctx, temp);
  const result = await execa(file, args, {
    reject: false,
    stdin: "ignore",
    timeout: ctx.fetch.timeout * 1000,
    forceKillAfterDelay: 2000,
  });
  if (result.timedOut) throw new Error(`timed out after ${ctx.fetch.timeout} s`);
  if (result.signal === "SIGXFSZ") throw new Error(`larger than fetch.max_bytes (${ctx.fetch.max_bytes} bytes)`);
  if (result.exitCode !== 0) {
    const reason =
      result.stderr
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .join("; ") || result.shortMessage;
    throw new Error(`scp failed (${result.signal ?? `exit ${result.exitCode}`}): ${reason}`);
  }
}

/** Checks the copy is an AMS store (current or original form) with records of its own, and counts them. */
async function validateCopy(
  remote: Remote,
  ctx: FetchContext,
  temp: string,
): Promise<Pick<PullOutcome, "records" | "skipped" | "foreign" | "foreignServers">> {
  const { size } = await fs.stat(temp);
  if (size > ctx.fetch.max_bytes) throw new Error(`larger than fetch.max_bytes (${ctx.fetch.max_bytes} bytes)`);
  let result;
  try {
    result = await readSamples(temp, remote.name);
  } catch (err) {
    throw new Error(`${remote.path}: ${(err as Error).message.replace(`${temp}: `, "")}`, { cause: err });
  }
  if (result.samples.length === 0) {
    throw new Error(`${remote.path}: no valid AMS records (${result.skipped} unreadable)`);
  }
  const own = ownSamples(result.samples, remote);
  if (own.samples.length === 0) {
    throw new Error(
      `${remote.path}: every record names another server (${own.foreignServers.join(", ")}); a remote speaks for ${remote.name} only, unless may_speak_for lists the others`,
    );
  }
  return {
    records: own.samples.length,
    skipped: result.skipped,
    ...(own.foreign > 0 ? { foreign: own.foreign, foreignServers: own.foreignServers } : {}),
  };
}

/** One remote: copy, validate, replace; never throws, the outcome says what happened. */
export async function pullRemote(remote: Remote, ctx: FetchContext): Promise<PullOutcome> {
  const startedAt = (ctx.now ?? (() => new Date()))();
  const start = performance.now();
  const dest = remoteCopy(ctx.paths, remote.name);
  // Per-process name: two overlapping runs never write into each other's copy.
  const temp = `${dest}.part-${process.pid}`;
  const elapsed = () => Math.round(performance.now() - start) / 1000;
  try {
    await fs.mkdir(ctx.paths.remoteDir, { recursive: true });
    await copyRemote(remote, ctx, temp);
    const counts = await validateCopy(remote, ctx, temp);
    await replaceWithFile(temp, dest);
    return { remote: remote.name, ok: true, startedAt, durationSeconds: elapsed(), ...counts };
  } catch (err) {
    // A local failure too (disk full, storage/remote not writable) is this remote's outcome: the
    // others are still pulled and every status is saved.
    return { remote: remote.name, ok: false, startedAt, durationSeconds: elapsed(), error: (err as Error).message };
  } finally {
    await fs.rm(temp, { force: true }).catch(() => {});
  }
}

/** The new status of a remote after `outcome`; a failure keeps the last success and its record count. */
export function nextPullStatus(previous: PullStatus | undefined, outcome: PullOutcome): PullStatus {
  const base = {
    first_attempt: previous?.first_attempt ?? outcome.startedAt.toISOString(),
    last_attempt: outcome.startedAt.toISOString(),
    duration_seconds: outcome.durationSeconds,
  };
  if (outcome.ok) {
    const foreign = outcome.foreign
      ? { foreign_records: outcome.foreign, foreign_servers: outcome.foreignServers }
      : {};
    return { ...base, last_success: outcome.startedAt.toISOString(), records: outcome.records, ...foreign };
  }
  // The last good copy is still the one read: its counts stay.
  const { records, foreign_records, foreign_servers } = previous ?? {};
  return {
    ...base,
    last_success: previous?.last_success,
    last_error: outcome.error,
    records,
    foreign_records,
    foreign_servers,
  };
}

/**
 * Pulls every remote, `fetch.concurrency` at a time, logs each outcome and saves the pull status
 * (only configured remotes are kept in it). Returns the outcomes in the order of `remotes`.
 */
export async function fetchRemotes(remotes: readonly Remote[], ctx: FetchContext): Promise<PullOutcome[]> {
  const previous = await readPullStatus(ctx.paths, failRunWith(ctx.log));
  const outcomes = await mapWithLimit(remotes, ctx.fetch.concurrency, async (remote) => {
    const outcome = await pullRemote(remote, ctx);
    if (outcome.ok) {
      const skipped = outcome.skipped ? `, ${outcome.skipped} unreadable skipped` : "";
      const message = `${remote.name}: pulled ${outcome.records} records in ${outcome.durationSeconds} s${skipped}`;
      if (outcome.foreign) {
        ctx.log.warn(
          `${message}, ${outcome.foreign} naming other servers skipped (${outcome.foreignServers!.join(", ")}): it may speak for ${remote.name} only, unless may_speak_for lists them`,
        );
      } else ctx.log.info(message);
    } else {
      const lastGood = previous[remote.name]?.last_success;
      const kept = lastGood ? `keeping the last good copy (pulled ${lastGood})` : "no copy pulled yet";
      ctx.log.error(`${remote.name}: pull failed after ${outcome.durationSeconds} s, ${kept}: ${outcome.error}`);
    }
    return outcome;
  });
  const statuses: PullStatuses = {};
  for (const remote of remotes) {
    const outcome = outcomes.find((o) => o.remote === remote.name);
    const status = outcome ? nextPullStatus(previous[remote.name], outcome) : previous[remote.name];
    if (status) statuses[remote.name] = status;
  }
  await writePullStatus(ctx.paths, statuses);
  return outcomes;
}
