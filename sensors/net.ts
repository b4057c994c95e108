import fs from "node:fs/promises";
import { metricEntry } from "../storage/metric-catalogue.js";
import { countersOverInterval } from "./counter-rates.js";
import { makeSample, PartialFailure, round1, type Sensor } from "./sensor.js";

export interface InterfaceCounters {
  name: string;
  rxBytes: number;
  txBytes: number;
  /** Errors and drops, received and sent. */
  faults: number;
}

/** /proc/net/dev: one line per interface after two header lines, `name: 8 receive fields, 8 transmit fields`. */
export function parseNetDev(text: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = [];
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || f.some((v) => !Number.isFinite(v))) continue;
    // Receive: bytes packets errs drop …; transmit (from field 8): bytes packets errs drop …
    interfaces.push({
      name: line.slice(0, colon).trim(),
      rxBytes: f[0]!,
      txBytes: f[8]!,
      faults: f[2]! + f[3]! + f[10]! + f[11]!,
    });
  }
  return interfaces;
}

// Loopback and the virtual plumbing of containers (veth ends, docker and libvirt bridges, ifb):
// their traffic is counted again on a real interface.
const VIRTUAL = /^(lo$|veth|docker|br-|virbr|ifb)/;

/** The interfaces to measure: the configured ones, else every one but loopback and container plumbing. */
export function watchedInterface(name: string, configured: readonly string[]): boolean {
  return configured.length > 0 ? configured.includes(name) : !VIRTUAL.test(name);
}

const STATE = "net";

const traffic = (metric_type: string, done: string, direction: "receive" | "transmit", order: number) =>
  metricEntry({
    metric_type,
    title: `Network ${done}`,
    kind: "bytes_per_second",
    help: `Bytes ${done} per second per interface since the previous sample.`,
    labels: ["interface"],
    prometheus: { name: `ams_network_${direction}_bytes_per_second`, type: "gauge" },
    chart: { order, floor: 0 },
  });

export const net: Sensor = {
  name: "net",
  description: "Per interface: bytes received and sent per second, errors and drops per second (as sar -n DEV)",
  metrics: [
    traffic("NetRx", "received", "receive", 60),
    traffic("NetTx", "sent", "transmit", 61),
    metricEntry({
      metric_type: "NetErrors",
      title: "Network errors and drops",
      kind: "per_second",
      help: "Packets in error or dropped per second per interface (both directions) since the previous sample.",
      labels: ["interface"],
      prometheus: { name: "ams_network_errors_per_second", type: "gauge" },
      chart: { order: 62, floor: 0 },
    }),
  ],
  async collect(ctx) {
    const configured = ctx.config.sensors.net.interfaces;
    const { rates, seconds, reset } = await countersOverInterval(ctx, STATE, async () =>
      Object.fromEntries(
        parseNetDev(await fs.readFile("/proc/net/dev", "utf8"))
          .filter((i) => watchedInterface(i.name, configured))
          .map((i) => [i.name, [i.rxBytes, i.txBytes, i.faults]]),
      ),
    );
    const details = { interval_seconds: round1(seconds) };
    const samples = [...rates].flatMap(([name, [rx, tx, faults]]) => {
      const labels = { interface: name };
      return [
        makeSample(ctx, "NetRx", Math.round(rx!), "B/s", { labels, details }),
        makeSample(ctx, "NetTx", Math.round(tx!), "B/s", { labels, details }),
        makeSample(ctx, "NetErrors", Math.round(faults! * 100) / 100, "/s", { labels, details }),
      ];
    });
    // Measured over a fresh baseline and stored, but this run fails so that the reset is seen once.
    if (reset) throw new PartialFailure(samples, reset);
    return samples;
  },
};
