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
 * The mount lives outside the test run's temporary folder, so that removing that folder never
 * walks into a frozen mount.
 */
export interface DeadMount {
  mountPoint: string;
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

export async function mountSshfs(): Promise<DeadMount> {
  const sshd: TestSshd = await startSshd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ams-sshfs-"));
  const exported = path.join(dir, "export");
  const mountPoint = path.join(dir, "mnt");
  fs.mkdirSync(exported);
  fs.mkdirSync(mountPoint);
  fs.writeFileSync(path.join(exported, "file"), "x".repeat(100_000));
  await execa("sshfs", [
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
    async freeze() {
      frozen = await descendants(listener);
      if (frozen.length === 0) throw new Error("no sshd session serves the sshfs mount");
      await signal("STOP", frozen);
    },
    thaw,
    async remove() {
      await thaw();
      const unmount = await execa("fusermount", ["-u", mountPoint], { reject: false, timeout: 10_000 });
      if (unmount.exitCode !== 0) await execa("umount", ["-l", mountPoint], { reject: false, timeout: 10_000 });
      await sshd.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
