import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { startSshd, type TestSshd } from "./sshd.js";

/**
 * A real network filesystem that stops answering, like a dead NFS server: an sshfs mount of a
 * folder served by a test sshd on 127.0.0.1. `freeze()` stops the sshd session serving it
 * (SIGSTOP): from then on statfs on the mount blocks in the kernel and no signal ends it.
 * `thaw()` lets it answer again. `remove()` thaws, unmounts (lazily if need be) and stops sshd;
 * call it in afterAll, whatever happened.
 *
 * The mount exists only in a mount namespace of its own (`unshare --mount`): commands that should
 * see it run there through `run()`; every other process of the machine, other tests included,
 * never sees it, and removing a folder never walks into it.
 */
export interface DeadMount {
  mountPoint: string;
  /** Runs a command where the mount is visible; never throws. */
  run(command: string, args: string[], options?: { timeout?: number }): ReturnType<typeof execa<{ reject: false }>>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  remove(): Promise<void>;
}

/** The processes below `pid`, children first then theirs. */
async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  let level = [pid];
  while (level.length > 0) {
    const next: number[] = [];
    for (const parent of level) {
      const r = await execa("pgrep", ["-P", String(parent)], { reject: false });
      next.push(...r.stdout.split("\n").filter(Boolean).map(Number));
    }
    found.push(...next);
    level = next;
  }
  return found;
}

/** A process holding a new mount namespace, private (mounts made in it stay in it). */
async function mountNamespace() {
  const holder = execa("unshare", ["--mount", "--propagation", "private", "sleep", "infinity"], { reject: false });
  const ours = fs.readlinkSync("/proc/self/ns/mnt");
  for (let i = 0; i < 100; i++) {
    let theirs: string | undefined;
    try {
      theirs = fs.readlinkSync(`/proc/${holder.pid}/ns/mnt`);
    } catch {
      // not started yet
    }
    // Not the process itself: an async function would wait for it (a thenable) to end.
    if (theirs && theirs !== ours)
      return {
        pid: holder.pid!,
        stop: async () => {
          holder.kill();
          await holder;
        },
      };
    await new Promise((r) => setTimeout(r, 20));
  }
  holder.kill();
  throw new Error("unshare --mount did not give a mount namespace of its own");
}

export async function mountSshfs(): Promise<DeadMount> {
  const namespace = await mountNamespace();
  const run = (command: string, args: string[], options: { timeout?: number } = {}) =>
    execa("nsenter", [`--target=${namespace.pid}`, "--mount", "--", command, ...args], {
      reject: false,
      timeout: options.timeout ?? 60_000,
    });
  const sshd: TestSshd = await startSshd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ams-sshfs-"));
  const exported = path.join(dir, "export");
  const mountPoint = path.join(dir, "mnt");
  fs.mkdirSync(exported);
  fs.mkdirSync(mountPoint);
  fs.writeFileSync(path.join(exported, "file"), "x".repeat(100_000));
  const mounted = await run("sshfs", [
    "-o",
    [
      `port=${sshd.port}`,
      `IdentityFile=${sshd.identity}`,
      `UserKnownHostsFile=${sshd.knownHosts}`,
      "StrictHostKeyChecking=yes",
      "BatchMode=yes",
    ].join(","),
    `${sshd.user}@${sshd.host}:${exported}`,
    mountPoint,
  ]);
  if (mounted.exitCode !== 0) {
    await namespace.stop();
    await sshd.stop();
    throw new Error(`sshfs failed: ${mounted.stderr}`);
  }
  const listener = Number(fs.readFileSync(path.join(sshd.dir, "sshd.pid"), "utf8"));
  let frozen: number[] = [];
  const signal = async (name: string, pids: number[]) => {
    if (pids.length > 0) await execa("kill", [`-${name}`, ...pids.map(String)], { reject: false });
  };
  const thaw = async () => {
    await signal("CONT", frozen);
    frozen = [];
  };
  return {
    mountPoint,
    run,
    async freeze() {
      frozen = await descendants(listener);
      if (frozen.length === 0) throw new Error("no sshd session serves the sshfs mount");
      await signal("STOP", frozen);
    },
    thaw,
    async remove() {
      await thaw();
      const unmount = await run("fusermount", ["-u", mountPoint], { timeout: 10_000 });
      if (unmount.exitCode !== 0) await run("umount", ["-l", mountPoint], { timeout: 10_000 });
      await namespace.stop();
      await sshd.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
