import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { Paths } from "../lib/paths.js";
import type { Remote } from "./config.js";

/**
 * One ssh connection per remote kept open between runs (OpenSSH connection sharing: ControlMaster,
 * ControlPath, ControlPersist), so that most pulls skip the key exchange and the login.
 *
 * A session over an open connection skips the host key check: that check was made when the
 * connection opened, and the connection can only reach the server that passed it (SSH's transport
 * is encrypted and authenticated: someone who takes the host's address over later can cut the
 * connection, never speak in it; a cut connection is opened anew, with the check). What sharing
 * could still defeat is a decision taken since: a key removed from known_hosts, a stricter setting,
 * a server whose key changed (re-installed, or its key rotated after a leak). So the socket's name
 * is a hash of everything the check depends on (the remote's name, user, host, port and key, the content
 * of every known_hosts file ssh reads, whether new keys are accepted) and of the current hour:
 * any change to the trust opens a new connection that checks the key again, and no connection is
 * used for more than MAX_AGE_SECONDS, after which a server whose key changed is refused like
 * without sharing. A pull that fails closes its remote's connection, so a broken one is never
 * used twice. The sockets live in a folder of this user alone (0700): anyone who could put a
 * socket there could answer in the server's name.
 */

/** Longest path ssh can bind: sun_path's 108 bytes less its NUL and the ".<16 random>" ssh adds while it creates the socket. */
const MAX_SOCKET_PATH = 90;
const NAME_LENGTH = 20;
/** A connection is used for one clock hour at most, then a new one checks the host key again. */
export const MAX_AGE_SECONDS = 3600;

const hash = (text: string) => createHash("sha256").update(text).digest("hex");

/** The sockets' folder: storage/state/ssh, or /tmp/ams-<uid>-<hash of the data home> when that path is too long for a socket. */
export function sharedConnectionsDir(paths: Paths): string {
  const inHome = path.join(paths.stateDir, "ssh");
  if (inHome.length + 1 + NAME_LENGTH <= MAX_SOCKET_PATH) return inHome;
  return path.join("/tmp", `ams-${os.userInfo().uid}-${hash(paths.home).slice(0, 12)}`);
}

/**
 * Makes the folder if missing (its parents as usual); throws unless it is a real folder of this user
 * that no one else could have written to (a socket put there could answer in a server's name).
 */
async function privateFolder(dir: string): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  });
  const stat = await fs.lstat(dir);
  const { uid } = os.userInfo();
  if (!stat.isDirectory() || stat.uid !== uid) throw new Error(`${dir} is not a folder of user ${uid}`);
  if ((stat.mode & 0o022) !== 0)
    throw new Error(`${dir} is writable by other users (mode ${(stat.mode & 0o777).toString(8)})`);
  if ((stat.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}

/** The known_hosts files ssh reads: the configured one (else the user's own two) and the system's. */
function knownHostsFiles(configured: string | undefined): string[] {
  const home = os.userInfo().homedir;
  const user = configured
    ? [configured]
    : [path.join(home, ".ssh", "known_hosts"), path.join(home, ".ssh", "known_hosts2")];
  return [...user, "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];
}

/** What this run's host key checks depend on; a hash. */
export async function hostKeyTrust(knownHosts: string | undefined, acceptNew: boolean): Promise<string> {
  const digest = createHash("sha256").update(acceptNew ? "accept-new\n" : "yes\n");
  for (const file of knownHostsFiles(knownHosts)) {
    const content = await fs.readFile(file).catch(() => undefined);
    digest.update(`${file}\n${content ? hash(content.toString("latin1")) : "-"}\n`);
  }
  return digest.digest("hex");
}

export interface Sharing {
  dir: string;
  /** hostKeyTrust's hash. */
  trust: string;
  /** Seconds an unused connection stays open (ControlPersist). */
  keepSeconds: number;
  now: Date;
}

/** The socket of `remote`'s shared connection. */
export function socketPath(sharing: Sharing, remote: Remote, identity: string | undefined): string {
  const hour = Math.floor(sharing.now.getTime() / 1000 / MAX_AGE_SECONDS);
  // One connection per remote, even for two remotes on one host: closing one never cuts the other's pull.
  const key = JSON.stringify([
    sharing.trust,
    remote.name,
    remote.user,
    remote.host,
    remote.port,
    identity ?? null,
    hour,
  ]);
  return path.join(sharing.dir, hash(key).slice(0, NAME_LENGTH));
}

/** The ssh options that open, or use, the shared connection at `socket`. */
export function sharingOptions(sharing: Sharing, socket: string): string[] {
  return [
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${socket}`,
    "-o",
    `ControlPersist=${Math.max(1, Math.round(sharing.keepSeconds))}`,
    // A connection whose link died between runs is noticed and closed, not found hung by the next pull.
    "-o",
    "ServerAliveInterval=30",
    "-o",
    "ServerAliveCountMax=3",
  ];
}

/** Sets sharing up for a run: undefined when switched off (keepSeconds 0). */
export async function openSharing(
  paths: Paths,
  options: { keepSeconds: number; knownHosts: string | undefined; acceptNew: boolean; now: Date },
): Promise<Sharing | undefined> {
  if (options.keepSeconds <= 0) return undefined;
  const dir = sharedConnectionsDir(paths);
  await privateFolder(dir);
  return {
    dir,
    trust: await hostKeyTrust(options.knownHosts, options.acceptNew),
    keepSeconds: options.keepSeconds,
    now: options.now,
  };
}

/** Closes the shared connection at `socket` (`ssh -O exit`), if one is open, and removes the socket. */
export async function closeSharedConnection(socket: string): Promise<void> {
  const stat = await fs.lstat(socket).catch(() => undefined);
  if (!stat?.isSocket()) return;
  // The destination is not used: ssh reaches the connection by the literal ControlPath.
  await execa("ssh", ["-o", `ControlPath=${socket}`, "-O", "exit", "shared-connection"], {
    reject: false,
    stdin: "ignore",
    timeout: 5000,
  });
  await fs.rm(socket, { force: true });
}

/** Closes every shared connection of the data home except those at `keep` (the current remotes' and settings'). */
export async function closeSharedConnections(paths: Paths, keep: ReadonlySet<string> = new Set()): Promise<void> {
  const dir = sharedConnectionsDir(paths);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .map((name) => path.join(dir, name))
      .filter((socket) => !keep.has(socket))
      .map(closeSharedConnection),
  );
}
