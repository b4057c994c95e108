import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { failRunWith } from "../lib/run-outcome.js";
import { replaceWithFile } from "../lib/atomic-write.js";
import type { Logger } from "../lib/log.js";
import type { Paths } from "../lib/paths.js";
import { mapWithLimit } from "../lib/concurrency.js";
import { remoteCopy } from "../storage/fleet.js";
import { appendRecordLines } from "../storage/locked-file.js";
import { readPullStatus, writePullStatus, type PullStatus, type PullStatuses } from "../storage/pull-status.js";
import {
  checkCopy,
  noteKeptCopy,
  readCopyNotes,
  writeCopyNotes,
  type CopyCounts,
  type CopyNote,
  type CopyNotes,
} from "./checked-copy.js";
import type { FetchSettings, Remote } from "./config.js";
import {
  closeSharedConnection,
  closeSharedConnections,
  openSharing,
  sharingOptions,
  socketPath,
  type Sharing,
} from "./shared-connection.js";

/**
 * Pulls each remote's store with the system scp into a temporary file next to its last good copy,
 * validates it (checked-copy.ts), and only then renames it over `storage/remote/<name>_logs.json`.
 * A failed pull (unreachable, timed out, too large, not AMS records) leaves the last good copy
 * alone. The ssh connections stay open for the next run (shared-connection.ts).
 */

/** The counts are those of the new copy. */
export interface PullOutcome extends Partial<CopyCounts> {
  remote: string;
  ok: boolean;
  startedAt: Date;
  durationSeconds: number;
  error?: string;
  /** The note of the copy now kept, for the next pull's check; absent when it must be checked whole. */
  note?: CopyNote;
}

export interface FetchContext {
  paths: Paths;
  fetch: FetchSettings;
  log: Logger;
  /** Accept a host key seen for the first time, for this run (overrides fetch.accept_new_host). */
  acceptNewHost?: boolean;
  now?: () => Date;
  /** The run's shared ssh connections; absent: a new connection for each pull. */
  sharing?: Sharing;
}

const acceptsNewHosts = (ctx: Pick<FetchContext, "fetch" | "acceptNewHost">) =>
  ctx.acceptNewHost ?? ctx.fetch.accept_new_host;
const knownHostsFile = (ctx: Pick<FetchContext, "fetch" | "paths">) =>
  ctx.fetch.known_hosts && path.resolve(ctx.paths.home, ctx.fetch.known_hosts);
const identityFile = (remote: Remote, ctx: Pick<FetchContext, "paths">) =>
  remote.identity && path.resolve(ctx.paths.home, remote.identity);

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
  ctx: Pick<FetchContext, "paths" | "fetch" | "acceptNewHost" | "sharing">,
  target: string,
): { file: string; args: string[] } {
  const { fetch, sharing } = ctx;
  const acceptNew = acceptsNewHosts(ctx);
  const identity = identityFile(remote, ctx);
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
  if (fetch.known_hosts) args.push("-o", `UserKnownHostsFile=${knownHostsFile(ctx)}`);
  if (sharing) for (const option of sharingOptions(sharing, socketPath(sharing, remote, identity))) args.push(option);
  args.push("-P", String(remote.port));
  if (identity) args.push("-i", identity, "-o", "IdentitiesOnly=yes");
  args.push("--", remoteSpec(remote), target);
  return { file: "prlimit", args };
}

/** The first lines ssh and scp wrote to `file`, on one line (at most 64 KiB of them are read). */
async function errorLines(file: string): Promise<string> {
  const handle = await fs.open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    return buffer
      .subarray(0, bytesRead)
      .toString("utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .join("; ");
  } finally {
    await handle.close();
  }
}

/**
 * Copies the store into `temp`; throws saying why when scp did not bring a whole file. scp's errors
 * go to a file, not a pipe: a shared connection holds the stderr of each session it carries until
 * the server closes it, and waiting for a pipe's end would wait on a stalled server too.
 */
async function copyRemote(remote: Remote, ctx: FetchContext, temp: string): Promise<void> {
  const { file, args } = scpCommand(remote, ctx, temp);
  const errors = `${temp}.errors`;
  const errorsFile = await fs.open(errors, "w");
  try {
    const result = await execa(file, args, {
      reject: false,
      stdin: "ignore",
      stdout: "ignore",
      // The descriptor itself, handed to scp as is (execa's own `{ file }` copies through a pipe it
      // waits on); execa's types list only descriptors 3 to 9, and any open one works.
      stderr: errorsFile.fd as 3,
      timeout: ctx.fetch.timeout * 1000,
      forceKillAfterDelay: 2000,
    });
    if (result.timedOut) throw new Error(`timed out after ${ctx.fetch.timeout} s`);
    if (result.signal === "SIGXFSZ") throw new Error(`larger than fetch.max_bytes (${ctx.fetch.max_bytes} bytes)`);
    if (result.exitCode !== 0) {
      const reason = (await errorLines(errors)) || result.shortMessage;
      throw new Error(`scp failed (${result.signal ?? `exit ${result.exitCode}`}): ${reason}`);
    }
  } finally {
    await errorsFile.close();
    await fs.rm(errors, { force: true });
  }
}

/** One remote: copy, validate, replace; never throws, the outcome says what happened. `note`: the last good copy's. */
export async function pullRemote(remote: Remote, ctx: FetchContext, note?: CopyNote): Promise<PullOutcome> {
  const startedAt = (ctx.now ?? (() => new Date()))();
  const start = performance.now();
  const dest = remoteCopy(ctx.paths, remote.name);
  // Per-process name: two overlapping runs never write into each other's copy.
  const temp = `${dest}.part-${process.pid}`;
  const elapsed = () => Math.round(performance.now() - start) / 1000;
  try {
    await fs.mkdir(ctx.paths.remoteDir, { recursive: true });
    await copyRemote(remote, ctx, temp);
    const { size } = await fs.stat(temp);
    if (size > ctx.fetch.max_bytes) throw new Error(`larger than fetch.max_bytes (${ctx.fetch.max_bytes} bytes)`);
    const checked = await checkCopy(remote, temp, dest, note);
    // The same bytes as the last good copy: left as it is, so readers see no change. Only records
    // added: appended in place, so readers (ams-alert) read only those.
    const appended = checked.appended !== undefined && (await appendRecordLines(dest, checked.appended));
    if (checked.checked !== "nothing" && !appended) await replaceWithFile(temp, dest);
    const kept = await noteKeptCopy(dest, checked);
    return {
      remote: remote.name,
      ok: true,
      startedAt,
      durationSeconds: elapsed(),
      ...checked.counts,
      ...(kept ? { note: kept } : {}),
    };
  } catch (err) {
    // A broken shared connection is never used again: the next pull opens a new one, with its checks.
    if (ctx.sharing) await closeSharedConnection(socketPath(ctx.sharing, remote, identityFile(remote, ctx)));
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

/** Shared connections for this run; none (with a warning) when their folder cannot be made private. */
async function runSharing(ctx: FetchContext): Promise<Sharing | undefined> {
  try {
    return await openSharing(ctx.paths, {
      keepSeconds: ctx.fetch.keep_connections,
      knownHosts: knownHostsFile(ctx),
      acceptNew: acceptsNewHosts(ctx),
      now: (ctx.now ?? (() => new Date()))(),
    });
  } catch (err) {
    ctx.log.warn(`ssh connections not shared this run: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Pulls every remote, `fetch.concurrency` at a time, logs each outcome and saves the pull status
 * (only configured remotes are kept in it), then closes the shared connections no remote uses any
 * more (older hours, changed settings, removed remotes). Returns the outcomes in the order of `remotes`.
 */
export async function fetchRemotes(remotes: readonly Remote[], context: FetchContext): Promise<PullOutcome[]> {
  const ctx = { ...context, sharing: context.sharing ?? (await runSharing(context)) };
  const previous = await readPullStatus(ctx.paths, failRunWith(ctx.log));
  const notes = await readCopyNotes(ctx.paths, failRunWith(ctx.log));
  const outcomes = await mapWithLimit(remotes, ctx.fetch.concurrency, async (remote) => {
    const outcome = await pullRemote(remote, ctx, Object.hasOwn(notes, remote.name) ? notes[remote.name] : undefined);
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
  const nextNotes: CopyNotes = {};
  for (const outcome of outcomes) {
    // A failed pull left the last good copy, and so its note, as they were.
    const note = outcome.ok ? outcome.note : Object.hasOwn(notes, outcome.remote) ? notes[outcome.remote] : undefined;
    if (note) nextNotes[outcome.remote] = note;
  }
  await writeCopyNotes(ctx.paths, nextNotes);
  const { sharing } = ctx;
  if (sharing)
    await closeSharedConnections(ctx.paths, new Set(remotes.map((r) => socketPath(sharing, r, identityFile(r, ctx)))));
  return outcomes;
}
