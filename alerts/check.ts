import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Config } from "../config/ams-config.js";
import type { Logger } from "../lib/log.js";
import type { Paths } from "../lib/paths.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { failRunWith } from "../lib/run-outcome.js";
import { fileStamp, isoLocal } from "../lib/time.js";
import { appendAlertHistory } from "../storage/alert-history.js";
import { neverReported, readPullStatus } from "../storage/pull-status.js";
import { certNotices } from "./cert.js";
import { mailOf, outboxNotifier } from "./channels/email.js";
import type { OpenChannel } from "./channels/registry.js";
import { EMAIL_CHANNEL } from "./config.js";
import { maintenanceMuter } from "./maintenance.js";
import { deliverAll, enqueue, type Delivery, type QueuedNotification } from "./queue.js";
import { judgedAlready, readFleetSince, readReadCursor, writeReadCursor, type FleetRead } from "./read-cursor.js";
import { rebootNotices } from "./reboot.js";
import { channelsFor, repeatFor } from "./routes.js";
import { evaluateRules, ruleStillApplies, SILENT_RULE } from "./rules.js";
import {
  readAlertRunState,
  updateAlertRunState,
  withAlertRunState,
  writeAlertRunState,
  type AlertRunState,
} from "./run-state.js";
import { keptSilences, muteSilenced, silenceMuter, type Muted, type Muter } from "./silences.js";
import { advanceAlerts, noticeOf, type Notice } from "./state.js";
import type { MailTemplate } from "./template.js";

/** The longest gap a pending condition survives when the silent rule is off (30 min). */
const DEFAULT_MAX_GAP_SECONDS = 1800;

export interface CheckOptions {
  paths: Paths;
  config: Config;
  log: Logger;
  now: Date;
  template: MailTemplate;
  /** Needed unless dryRun: a dry run opens none, so it needs no secret. */
  channels?: ReadonlyMap<string, OpenChannel>;
  /** Evaluate only: send, queue and store nothing. */
  dryRun?: boolean;
}

export interface CheckResult {
  /** Every event of the run, those a silence held back marked `silenced`. */
  events: Notice[];
  state: AlertRunState;
  deliveries: Delivery[];
  /** Sources whose samples could not be read: their servers were not judged this run (a failed run). */
  unreadable: string[];
}

/** The fleet and its conditions (stage 1), each store read from where the last run stopped when that gives the same. */
async function readAndJudge({ paths, config, log, now }: CheckOptions, previous: AlertRunState, maintenance: Muter) {
  const cursor = await readReadCursor(paths.stateDir, (message) => log.warn(message));
  const pulls = await readPullStatus(paths);
  const conditionsOf = (fleet: FleetRead) => {
    const unreported = neverReported(
      config.remotes.map((r) => r.name),
      fleet.sources,
      pulls,
    );
    const servers = new Set([config.server_id, ...unreported.keys(), ...fleet.samples.map((s) => s.server_id)]);
    // A server in maintenance is not judged silent at all, even one that never reported: its planned reboot leaves no event.
    const conditions = evaluateRules(fleet.samples, config.alerts, [...servers], now, unreported).filter(
      (c) => c.rule !== SILENT_RULE || maintenance(c) === undefined,
    );
    return { fleet, servers, conditions };
  };
  const fromCursor = conditionsOf(await readFleetSince(paths, config, cursor));
  if (judgedAlready(previous.alerts, fromCursor.conditions, fromCursor.fleet.carriedUntil)) return fromCursor;
  return conditionsOf(await readFleetSince(paths, config, cursor, "the alert state had not judged the samples before"));
}

/** Stages 1 and 2 over every server's samples: what changes since the saved state. */
async function evaluate(options: CheckOptions, previous: AlertRunState, maintenance: Muter) {
  const { config, log, now } = options;
  const { fleet, servers, conditions } = await readAndJudge(options, previous, maintenance);
  const unreadable: string[] = [];
  for (const source of fleet.sources) {
    if (source.error) {
      unreadable.push(source.name);
      log.error(`cannot read ${source.name} samples, its servers are not judged this run: ${source.error}`);
    } else if (source.skipped > 0) log.warn(`${source.file}: ${source.skipped} unreadable record(s) skipped`);
  }
  const { routes, repeat } = config.alerts;
  const { alerts, events } = advanceAlerts(previous.alerts, conditions, now, {
    repeatSeconds: (a) => repeatFor(a, routes, repeat),
    // The silent rule's line: a series quiet that long was not seen to hold its condition.
    maxGapSeconds: config.alerts.silent_after > 0 ? config.alerts.silent_after : DEFAULT_MAX_GAP_SECONDS,
    // A server no longer in the fleet (its remote taken out of the config) has nothing left to alert on;
    // one that may be in a source that could not be read keeps its state until the source reads again.
    stillApplies: (a) => (servers.has(a.server_id) || unreadable.length > 0) && ruleStillApplies(config.alerts, a),
  });
  // Off: forget the advisories (reboots) seen, so switching it on again starts from what is stored then.
  const cert = config.alerts.cert_advisories ? certNotices(fleet.samples, previous.cert_seen, now) : undefined;
  const reboot = config.alerts.reboot_notices ? rebootNotices(fleet.samples, previous.reboot_seen, now) : undefined;
  return {
    alerts,
    events: [...events, ...(reboot?.notices ?? []), ...(cert?.notices ?? [])],
    cert_seen: cert?.seen,
    reboot_seen: reboot?.seen,
    unreadable,
    cursor: fleet.cursor,
  };
}

/**
 * Stage "route": each channel's notices of this run. A channel that wants every firing alert on
 * every run (Alertmanager) gets those routed to it that no silence holds, and this run's resolutions.
 */
function route(
  muted: Muted,
  channels: ReadonlyMap<string, OpenChannel>,
  config: Config,
  now: Date,
): Map<string, { notices: Notice[]; everyRun: boolean }> {
  const routes = config.alerts.routes;
  const to = (name: string) => (n: Notice) => channelsFor(n, routes).includes(name);
  const routed = new Map<string, { notices: Notice[]; everyRun: boolean }>();
  for (const [name, channel] of channels) {
    let notices = muted.notify.filter(to(name));
    if (channel.everyRun) {
      const told = new Set(notices.map((n) => n.key));
      const firing = Object.values(muted.alerts)
        .filter((a) => a.status === "firing" && !a.silenced && !a.unannounced && !told.has(a.key))
        .map((a) => noticeOf(a, "reminded", isoLocal(now)))
        .filter(to(name));
      notices = [...notices, ...firing];
    }
    routed.set(name, { notices, everyRun: channel.everyRun });
  }
  return routed;
}

/** Stages "evaluate" to "mute": what this run changes, and what of it is notified. */
async function judge(options: CheckOptions, previous: AlertRunState) {
  const { config, now } = options;
  const maintenance = maintenanceMuter(config.alerts.maintenance, now);
  const silences = keptSilences(previous.silences, now);
  const { alerts, events, cert_seen, reboot_seen, unreadable, cursor } = await evaluate(options, previous, maintenance);
  const bySilence = silenceMuter(silences, now);
  const muted = muteSilenced(alerts, events, (s) => bySilence(s) ?? maintenance(s), now);
  return { muted, cert_seen, reboot_seen, silences, unreadable, cursor };
}

/** One ams-alert run: evaluate → advance → mute → route → queue → record history → deliver every channel's queue. */
export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const { paths, config, log, now, channels } = options;
  if (options.dryRun) {
    const previous = await readAlertRunState(paths);
    const { muted, unreadable } = await judge(options, previous);
    return { events: muted.recorded, state: previous, deliveries: [], unreadable };
  }
  if (!channels) throw new Error("runCheck: channels are needed unless dryRun");
  const onReset = failRunWith(log);
  // Judged and queued under the state's lock; delivered without it (below).
  const judged = await withAlertRunState(paths, onReset, async (previous) => {
    const { muted, cert_seen, reboot_seen, silences, unreadable, cursor } = await judge(options, previous);
    const queue = enqueue(previous.queue, route(muted, channels, config, now), {
      id: () => `${fileStamp(now)}.${randomBytes(6).toString("hex")}`,
      created_at: isoLocal(now),
    });
    for (const [name, queued] of Object.entries(queue)) {
      if (channels.has(name) || queued.length === 0) continue;
      log.warn(`channel ${name} is no longer configured: ${queued.length} queued notification(s) dropped`);
      delete queue[name];
    }
    // State and queue in one atomic write: a crash cannot leave an alert advanced without its notification.
    const state: AlertRunState = {
      alerts: muted.alerts,
      queue,
      ...(cert_seen ? { cert_seen } : {}),
      ...(reboot_seen ? { reboot_seen } : {}),
      silences,
    };
    await writeAlertRunState(paths.stateDir, state);
    // Whichever of the two a crash leaves older, judgedAlready tells whether the cursor still fits the state.
    await writeReadCursor(paths.stateDir, cursor);
    if (muted.recorded.length > 0) {
      await appendAlertHistory(paths.alertsLog, muted.recorded);
      for (const e of muted.recorded)
        log.info(`${e.event} ${e.key}: ${e.message}${e.silenced ? " (silenced, not notified)" : ""}`);
    }
    return { state, events: muted.recorded, unreadable };
  });
  const { events, unreadable } = judged;
  let state = judged.state;
  // A slow receiver must not hold `silence` and `ack` back: delivery runs without the state's lock.
  // Only a check changes the queues, and the run lock lets one check run at a time, so each save
  // takes the lock again and replaces that channel's queue in the state as it is then, keeping
  // the silences and acks made meanwhile. Channels deliver at once; their saves take turns.
  let saving = Promise.resolve();
  const undeliverable = path.join(paths.outbox, "undeliverable");
  const deliveries = await deliverAll(state.queue, channels, {
    save: (name, rest) => {
      saving = saving.then(async () => {
        state = await updateAlertRunState(paths, onReset, (saved) => ({
          ...saved,
          queue: { ...saved.queue, [name]: rest },
        }));
      });
      return saving;
    },
    setAside: (name, n) => setAside(name, n, { options, undeliverable }),
  });
  for (const d of deliveries) {
    for (const s of d.sent) log.info(`${d.channel} ${s.id} via ${d.target}: ${s.answer}`);
    for (const r of d.rejected)
      log.error(`${d.channel} ${r.id} refused by ${d.target} for good, not retried (${r.savedAs}): ${r.error}`);
    if (d.failed)
      log.error(
        `${d.channel} ${d.failed.id} via ${d.target} failed, kept in the queue for the next run: ${d.failed.error}`,
      );
  }
  return { events, state, deliveries, unreadable };
}

/** A refused mail as an .eml file, any other refused notification as JSON, in logs/outbox/undeliverable/. */
async function setAside(
  channel: string,
  n: QueuedNotification,
  { options, undeliverable }: { options: CheckOptions; undeliverable: string },
): Promise<string> {
  if (channel === EMAIL_CHANNEL) {
    const mail = mailOf(n, { template: options.template, dashboardUrl: options.config.alerts.dashboard_url });
    return outboxNotifier(options.config.email, undeliverable).send(mail);
  }
  const file = path.join(undeliverable, `${channel}.${n.id}.json`);
  await writeFileAtomic(file, JSON.stringify({ channel, ...n }, null, 2) + "\n");
  return `written to ${file}`;
}
