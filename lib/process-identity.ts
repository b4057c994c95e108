import fs from "node:fs";

/**
 * A process as it can be recognised later, from another process: a PID alone may be reused after
 * the process ends, its start time and the boot it ran in may not.
 */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  start: string;
  /** /proc/sys/kernel/random/boot_id of the boot it ran in. */
  boot: string;
}

const readText = (file: string) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): [0] is field 3. */
function statFields(pid: number | "self"): string[] | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
}

const bootId = () => readText("/proc/sys/kernel/random/boot_id")?.trim() ?? "";

/** The process's identity, or undefined when it no longer exists. */
export function processIdentity(pid: number | "self"): ProcessIdentity | undefined {
  const start = statFields(pid)?.[19];
  return start ? { pid: pid === "self" ? process.pid : pid, start, boot: bootId() } : undefined;
}

/**
 * True while that very process still runs. A zombie has ended: its parent, or whoever inherited
 * it, has only not collected its exit status yet.
 */
export function stillRunning(identity: ProcessIdentity): boolean {
  const fields = statFields(identity.pid);
  return fields !== undefined && fields[0] !== "Z" && fields[19] === identity.start && identity.boot === bootId();
}

/**
 * Whether a process of this PID exists, for a PID recorded without its start time (utmp, a
 * temporary file's name). EPERM: it does, owned by another user.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
