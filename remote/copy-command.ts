import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import type { Paths } from "../lib/paths.js";
import { readRange } from "../lib/read-range.js";
import type { FetchSettings, Remote } from "./config.js";
import { sharingOptions, socketPath, type Sharing } from "./shared-connection.js";

/**
 * The system's scp and sftp as a pull runs them: the same ssh options for both (host key checked
 * strictly, no prompt, the shared connection), a cap on the file they may write, a timeout, and
 * their errors in a file. Always a program and an argument array, never a shell string.
 */

export interface CopyContext {
  paths: Paths;
  fetch: FetchSettings;
  /** Accept a host key seen for the first time, for this run (overrides fetch.accept_new_host). */
  acceptNewHost?: boolean;
  /** The run's shared ssh connections; absent: a new connection for each pull. */
  sharing?: Sharing;
  /** When (performance.now()) the pull of this remote must end, all its copies together; absent: fetch.timeout for each. */
  deadline?: number;
}

export const acceptsNewHosts = (ctx: Pick<CopyContext, "fetch" | "acceptNewHost">) =>
  ctx.acceptNewHost ?? ctx.fetch.accept_new_host;
export const knownHostsFile = (ctx: Pick<CopyContext, "fetch" | "paths">) =>
  ctx.fetch.known_hosts && path.resolve(ctx.paths.home, ctx.fetch.known_hosts);
export const identityFile = (remote: Remote, ctx: Pick<CopyContext, "paths">) =>
  remote.identity && path.resolve(ctx.paths.home, remote.identity);

/** `user@host`, with IPv6 addresses in brackets as scp and sftp want them. */
const userAtHost = (remote: Remote) => `${remote.user}@${remote.host.includes(":") ? `[${remote.host}]` : remote.host}`;

/**
 * The options scp and sftp share, after the program's name: prlimit caps the file it may write, so
 * an oversized store is cut off by the kernel (SIGXFSZ) instead of filling the disk first; one byte
 * over the cap tells "too large" apart.
 */
function commonArgs(program: "scp" | "sftp", remote: Remote, ctx: CopyContext): string[] {
  const { fetch, sharing } = ctx;
  const identity = identityFile(remote, ctx);
  const args = [
    `--fsize=${fetch.max_bytes + 1}`,
    program,
    // scp's -B is its batch mode; sftp's -B would be a buffer size (its -b batch file sets BatchMode).
    ...(program === "scp" ? ["-B"] : []),
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${Math.max(1, Math.ceil(fetch.connect_timeout))}`,
    "-o",
    `StrictHostKeyChecking=${acceptsNewHosts(ctx) ? "accept-new" : "yes"}`,
    // Errors only: keeps "Permanently added ..." out of the job's stderr without hiding failures.
    "-o",
    "LogLevel=ERROR",
  ];
  if (fetch.known_hosts) args.push("-o", `UserKnownHostsFile=${knownHostsFile(ctx)}`);
  if (sharing) for (const option of sharingOptions(sharing, socketPath(sharing, remote, identity))) args.push(option);
  args.push("-P", String(remote.port));
  if (identity) args.push("-i", identity, "-o", "IdentitiesOnly=yes");
  return args;
}

/** The command that copies one remote's whole store to `target`. */
export function scpCommand(remote: Remote, ctx: CopyContext, target: string): { file: string; args: string[] } {
  return {
    file: "prlimit",
    args: [...commonArgs("scp", remote, ctx), "--", `${userAtHost(remote)}:${remote.path}`, target],
  };
}

/** The command that runs an sftp session with `remote`, its commands read from standard input. */
export function sftpCommand(remote: Remote, ctx: CopyContext): { file: string; args: string[] } {
  return { file: "prlimit", args: [...commonArgs("sftp", remote, ctx), "-b", "-", "--", userAtHost(remote)] };
}

/** A copy that failed as any other way of copying would (timed out, too large, no ssh session): not worth another try. */
export class FinalCopyError extends Error {}

export const tooLarge = (ctx: Pick<CopyContext, "fetch">) =>
  new FinalCopyError(`larger than fetch.max_bytes (${ctx.fetch.max_bytes} bytes)`);

/** The first lines ssh, scp or sftp wrote to `file`, on one line (at most 64 KiB of them are read). */
async function errorLines(file: string): Promise<string> {
  return (await readRange(file, 0, 64 * 1024))
    .toString("utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join("; ");
}

/**
 * Runs `command` (scpCommand's or sftpCommand's, the latter with its commands as `input`) that
 * writes `target`; throws saying why when it failed. Its errors go to a file, not a pipe: a shared
 * connection holds the stderr of each session it carries until the server closes it, and waiting
 * for a pipe's end would wait on a stalled server too.
 */
export async function runCopy(
  command: { file: string; args: string[] },
  ctx: Pick<CopyContext, "fetch" | "deadline">,
  target: string,
  input?: string,
): Promise<void> {
  const errors = `${target}.errors`;
  const errorsFile = await fs.open(errors, "w");
  const program = command.args[1];
  try {
    const result = await execa(command.file, command.args, {
      reject: false,
      ...(input === undefined ? { stdin: "ignore" as const } : { input }),
      stdout: "ignore",
      // The descriptor itself, handed to the program as is (execa's own `{ file }` copies through a
      // pipe it waits on); execa's types list only descriptors 3 to 9, and any open one works.
      stderr: errorsFile.fd as 3,
      timeout: ctx.deadline === undefined ? ctx.fetch.timeout * 1000 : Math.max(1, ctx.deadline - performance.now()),
      forceKillAfterDelay: 2000,
    });
    if (result.timedOut) throw new FinalCopyError(`timed out after ${ctx.fetch.timeout} s`);
    if (result.signal === "SIGXFSZ") throw tooLarge(ctx);
    if (result.exitCode !== 0) {
      const reason = (await errorLines(errors)) || result.shortMessage;
      // 255: ssh itself failed (no connection, no login, no sftp on the server), as scp would.
      const Failure = result.exitCode === 255 ? FinalCopyError : Error;
      throw new Failure(`${program} failed (${result.signal ?? `exit ${result.exitCode}`}): ${reason}`);
    }
  } finally {
    await errorsFile.close();
    await fs.rm(errors, { force: true });
  }
}
