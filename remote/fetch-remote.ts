import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { failRunWith } from "../lib/run-outcome.js";
import { replaceWithFile } from "../lib/atomic-write.js";
import type { Logger } from "../lib/log.js";
import { mapWithLimit } from "../lib/concurrency.js";
import { processAlive } from "../lib/process-identity.js";
import { remoteCopy } from "../storage/fleet.js";
import { appendRecordLines } from "../storage/locked-file.js";
import { readPullStatus, writePullStatus, type PullStatus, type PullStatuses } from "../storage/pull-status.js";
import {
  checkCopy,
  noteKeptCopy,
  type CheckedCopy,
  readCopyNotes,
  writeCopyNotes,
  type CopyCounts,
  type CopyNote,
  type CopyNotes,
} from "./checked-copy.js";
import type { Remote } from "./config.js";
import {
  acceptsNewHosts,
  identityFile,
  knownHostsFile,
  runCopy,
  scpCommand,
  tooLarge,
  type CopyContext,
} from "./copy-command.js";
import {
  closeSharedConnection,
  closeSharedConnections,
  openSharing,
  socketPath,
  type Sharing,
} from "./shared-connection.js";
import { pullTail } from "./tail-pull.js";

/**
 * Pulls each remote's store: only what it appended since the last good copy when it was only
 * appended to (tail-pull.ts, by sftp), which then grows in place; else the whole store with the
 * system scp into a temporary file next to its last good copy, validated (checked-copy.ts) before
 * it replaces `storage/remote/<name>_logs.json`. A failed pull (unreachable, timed out, too large,
 * not AMS records) leaves the last good copy alone. The ssh connections stay open for the next run
 * (shared-connection.ts).
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
  /** Why the whole store was copied, when its tail was not enough. */
  wholeCopy?: string;
  /** Bytes fetched when only the tail was (from a little before the last good copy's end). */
  tailBytes?: number;
  /** A failed pull whose tail showed the store changed: its note is dropped, so the next pull copies it whole. */
  forgetNote?: boolean;
}

export interface FetchContext extends CopyContext {
  log: Logger;
  now?: () => Date;
}

/**
 * Keeps the last good copy `dest` as the store now is, when `checked` says that is the copy itself
 * (nothing to do) or the copy plus records appended in place (written past its closing line).
 * False when the copy must be replaced.
 */
async function keepInPlace(dest: string, checked: CheckedCopy): Promise<boolean> {
  if (checked.checked === "nothing") return true;
  return checked.appended !== undefined && (await appendRecordLines(dest, checked.appended));
}

/**
 * A whole copy at least every hour. A tail pull compares only the bytes just before where the last
 * copy's records end: an edit further back that keeps the store's length (by hand, a restore) would
 * otherwise go unseen until the remote's next cleanup rewrite. A whole copy compares every byte.
 */
const WHOLE_COPY_EVERY_MS = 3600_000;

/** Why this pull copies the store whole though its last good copy could be extended; undefined when it need not. */
function wholeCopyDue(note: CopyNote, now: Date): string | undefined {
  const at = note.whole_at === undefined ? NaN : Date.parse(note.whole_at);
  const age = now.getTime() - at;
  // A clock set back counts as due too.
  return age >= 0 && age < WHOLE_COPY_EVERY_MS ? undefined : "compared whole once an hour";
}

/** One remote: copy, validate, replace; never throws, the outcome says what happened. `note`: the last good copy's. */
export async function pullRemote(remote: Remote, context: FetchContext, note?: CopyNote): Promise<PullOutcome> {
  const startedAt = (context.now ?? (() => new Date()))();
  const start = performance.now();
  // fetch.timeout bounds the pull, a tail pull and a whole copy after it together.
  const ctx = { ...context, deadline: start + context.fetch.timeout * 1000 };
  const dest = remoteCopy(ctx.paths, remote.name);
  // Per-process name: two overlapping runs never write into each other's copy.
  const temp = `${dest}.part-${process.pid}`;
  const elapsed = () => Math.round(performance.now() - start) / 1000;
  let forgetNote = false;
  try {
    await fs.mkdir(ctx.paths.remoteDir, { recursive: true });
    const wholeDue = note && wholeCopyDue(note, startedAt);
    const tail = !note
      ? { reason: "no last good copy to extend" }
      : wholeDue
        ? { reason: wholeDue }
        : await pullTail(remote, ctx, dest, temp, note);
    let checked: CheckedCopy;
    let wholeCopy: string | undefined;
    if ("checked" in tail && (await keepInPlace(dest, tail.checked))) checked = tail.checked;
    else {
      wholeCopy = "reason" in tail ? tail.reason : "the last good copy does not end with its closing line";
      // The tail showed the store changed: should the whole copy fail (it had only the time the
      // tail left), the next pull copies it whole at once rather than fetching that tail again.
      if (note && !wholeDue) forgetNote = true;
      await fs.rm(temp, { force: true });
      await runCopy(scpCommand(remote, ctx, temp), ctx, temp);
      const { size } = await fs.stat(temp);
      if (size > ctx.fetch.max_bytes) throw tooLarge(ctx);
      checked = await checkCopy(remote, temp, dest, note);
      // The same bytes as the last good copy: left as it is, so readers see no change. Only records
      // added: appended in place, so readers (ams-alert) read only those.
      if (!(await keepInPlace(dest, checked))) await replaceWithFile(temp, dest);
    }
    const kept = await noteKeptCopy(dest, checked, wholeCopy ? startedAt.toISOString() : note?.whole_at);
    return {
      remote: remote.name,
      ok: true,
      startedAt,
      durationSeconds: elapsed(),
      ...checked.counts,
      ...(kept ? { note: kept } : {}),
      ...(wholeCopy ? { wholeCopy } : "bytes" in tail ? { tailBytes: tail.bytes } : {}),
    };
  } catch (err) {
    // A broken shared connection is never used again: the next pull opens a new one, with its checks.
    if (ctx.sharing) await closeSharedConnection(socketPath(ctx.sharing, remote, identityFile(remote, ctx)));
    // A local failure too (disk full, storage/remote not writable) is this remote's outcome: the
    // others are still pulled and every status is saved.
    return {
      remote: remote.name,
      ok: false,
      startedAt,
      durationSeconds: elapsed(),
      error: (err as Error).message,
      ...(forgetNote ? { forgetNote } : {}),
    };
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
 * Temporary files of runs stopped before they could remove them (`<copy>.part-<pid>` and its
 * `.errors`: a run killed at its deadline, a crash), whose process is gone: removed, so that they
 * cannot pile up in storage/remote/.
 */
async function removeDeadPullsTemps(remoteDir: string): Promise<void> {
  const names = await fs.readdir(remoteDir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = /\.part-(\d+)(?:\.errors)?$/.exec(name)?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await fs.rm(path.join(remoteDir, name), { force: true });
  }
}

/**
 * Pulls every remote, `fetch.concurrency` at a time, logs each outcome and saves the pull status
 * (only configured remotes are kept in it), then closes the shared connections no remote uses any
 * more (older hours, changed settings, removed remotes). Returns the outcomes in the order of `remotes`.
 */
export async function fetchRemotes(remotes: readonly Remote[], context: FetchContext): Promise<PullOutcome[]> {
  await removeDeadPullsTemps(context.paths.remoteDir);
  const ctx = { ...context, sharing: context.sharing ?? (await runSharing(context)) };
  const previous = await readPullStatus(ctx.paths, failRunWith(ctx.log));
  const notes = await readCopyNotes(ctx.paths, failRunWith(ctx.log));
  const outcomes = await mapWithLimit(remotes, ctx.fetch.concurrency, async (remote) => {
    const outcome = await pullRemote(remote, ctx, Object.hasOwn(notes, remote.name) ? notes[remote.name] : undefined);
    if (outcome.ok) {
      const skipped = outcome.skipped ? `, ${outcome.skipped} unreadable skipped` : "";
      const how = outcome.wholeCopy
        ? `whole copy: ${outcome.wholeCopy}`
        : `only the new bytes: ${outcome.tailBytes} fetched`;
      const message = `${remote.name}: pulled ${outcome.records} records in ${outcome.durationSeconds} s (${how})${skipped}`;
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
    // A failed pull left the last good copy, and so its note, as they were (unless told to forget it).
    const kept = !outcome.forgetNote && Object.hasOwn(notes, outcome.remote) ? notes[outcome.remote] : undefined;
    const note = outcome.ok ? outcome.note : kept;
    if (note) nextNotes[outcome.remote] = note;
  }
  await writeCopyNotes(ctx.paths, nextNotes);
  const { sharing } = ctx;
  if (sharing)
    await closeSharedConnections(ctx.paths, new Set(remotes.map((r) => socketPath(sharing, r, identityFile(r, ctx)))));
  return outcomes;
}
