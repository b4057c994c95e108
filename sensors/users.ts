import fs from "node:fs/promises";
import { processAlive } from "../lib/process-identity.js";
import { ifExists } from "../lib/if-exists.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, type Sensor } from "./sensor.js";

export interface Session {
  user: string;
  line: string;
  host: string;
  pid: number;
  since: string;
}

// glibc's struct utmp on Linux (64- and 32-bit alike): 384 bytes, fields at fixed offsets.
const RECORD_SIZE = 384;
const USER_PROCESS = 7;

const cString = (buf: Buffer, start: number, length: number) => {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString("utf8");
};

/** The login sessions (USER_PROCESS entries) of a utmp file's bytes. */
export function parseUtmp(buf: Buffer): Session[] {
  const sessions: Session[] = [];
  for (let offset = 0; offset + RECORD_SIZE <= buf.length; offset += RECORD_SIZE) {
    if (buf.readInt16LE(offset) !== USER_PROCESS) continue;
    const user = cString(buf, offset + 44, 32);
    if (!user) continue;
    sessions.push({
      user,
      pid: buf.readInt32LE(offset + 4),
      line: cString(buf, offset + 8, 32),
      host: cString(buf, offset + 76, 256),
      since: new Date(buf.readInt32LE(offset + 340) * 1000).toISOString(),
    });
  }
  return sessions;
}

export const UTMP_FILES = ["/run/utmp", "/var/run/utmp"];

async function readUtmp(): Promise<Buffer> {
  for (const file of UTMP_FILES) {
    const data = await ifExists(() => fs.readFile(file), undefined);
    if (data) return data;
  }
  return Buffer.alloc(0); // no utmp: nobody is logged in, as `who` reports it
}

export const users: Sensor = {
  name: "users",
  description: "Logged-in sessions (as who counts them) and the distinct user names",
  metrics: [
    metricEntry({
      metric_type: "Users",
      title: "Users",
      kind: "count",
      help: "Number of logged-in user sessions, latest sample.",
      labels: [],
      prometheus: { name: "ams_users", type: "gauge" },
      chart: { order: 90, floor: 0 },
    }),
  ],
  async collect(ctx) {
    // Like `who`: a session whose process is gone (a crash left it in utmp) is not counted.
    const sessions = parseUtmp(await readUtmp()).filter((s) => s.pid <= 0 || processAlive(s.pid));
    return [
      makeSample(ctx, "Users", sessions.length, "count", {
        details: {
          names: [...new Set(sessions.map((s) => s.user))].sort(),
          sessions: sessions.map(({ user, line, host, since }) => ({ user, line, host, since })),
        },
      }),
    ];
  },
};
