import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/ams-config.js";
import type { Logger } from "../lib/log.js";
import type { Paths } from "../lib/paths.js";
import { failRunWith } from "../lib/cli.js";
import { stateFile, writeState, type ResetReport } from "../lib/state.js";
import { fileStamp, isoLocal } from "../lib/time.js";
import { appendAlertHistory } from "../storage/alert-history.js";
import { ALERT_STATE, readStoredAlerts, type AlertFiles } from "../storage/alert-state.js";
import { readFleet } from "../storage/fleet.js";
import { withFileLock } from "../storage/locked-file.js";
import { neverReported, readPullStatus } from "../storage/pull-status.js";
import { certNotices } from "./cert.js";
import { rebootNotices } from "./reboot.js";
import { renderMail } from "./mail.js";
import { outboxNotifier, type Notifier } from "./notify.js";
import { deliverQueue, type Delivery, type QueuedMail } from "./queue.js";
import { evaluateRules, ruleStillApplies } from "./rules.js";
import { advanceAlerts, type AlertStates, type Notice } from "./state.js";
import type { MailTemplate } from "./template.js";

/** What ams-alert keeps between runs in storage/state/alerts.json: alert states and the mail queue, saved together. */
export interface AlertRunState {
  alerts: AlertStates;
  queue: QueuedMail[];
  /** CERT advisory links already mailed; absent until alerts.cert_advisories is first on. */
  cert_seen?: string[];
  /** Reboots already mailed; absent until alerts.reboot_notices is first on. */
  reboot_seen?: string[];
}

/** The longest gap a pending condition survives when the silent rule is off (30 min). */
const DEFAULT_MAX_GAP_SECONDS = 1800;

/**
 * The saved run state, checked (storage/alert-state.ts). When there is none, or it is unusable
 * (moved aside and reported through `onReset` when given), the firing alerts are rebuilt from the
 * alert history; mails still queued in a lost file are lost.
 */
export async function readAlertRunState(files: AlertFiles, onReset?: ResetReport): Promise<AlertRunState> {
  const { saved, alerts } = await readStoredAlerts(files, onReset);
  return {
    alerts,
    queue: saved?.queue ?? [],
    ...(saved?.cert_seen ? { cert_seen: saved.cert_seen } : {}),
    ...(saved?.reboot_seen ? { reboot_seen: saved.reboot_seen } : {}),
  };
}

export interface CheckOptions {
  paths: Paths;
  config: Config;
  log: Logger;
  now: Date;
  template: MailTemplate;
  /** Needed unless dryRun: a dry run never builds one, so it needs no SMTP password. */
  notifier?: Notifier;
  /** Evaluate only: send, queue and store nothing. */
  dryRun?: boolean;
}

export interface CheckResult {
  events: Notice[];
  state: AlertRunState;
  delivery?: Delivery;
  /** Sources whose samples could not be read: their servers were not judged this run (a failed run). */
  unreadable: string[];
}

/** Stages 1 and 2 over every server's samples: what changes since the saved state. */
async function evaluate({ paths, config, log, now }: CheckOptions, previous: AlertRunState) {
  const fleet = await readFleet(paths, config);
  const unreadable: string[] = [];
  for (const source of fleet.sources) {
    if (source.error) {
      unreadable.push(source.name);
      log.error(`cannot read ${source.name} samples, its servers are not judged this run: ${source.error}`);
    } else if (source.skipped > 0) log.warn(`${source.file}: ${source.skipped} unreadable record(s) skipped`);
  }
  const unreported = neverReported(
    config.remotes.map((r) => r.name),
    fleet.sources,
    await readPullStatus(paths),
  );
  const servers = new Set([config.server_id, ...unreported.keys(), ...fleet.samples.map((s) => s.server_id)]);
  const conditions = evaluateRules(fleet.samples, config.alerts, [...servers], now, unreported);
  const { alerts, events } = advanceAlerts(previous.alerts, conditions, now, {
    repeatSeconds: config.alerts.repeat,
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
  };
}

/** One ams-alert run: evaluate → advance → queue one mail → record history → deliver the queue. */
export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const { paths, config, log, now, template, notifier } = options;
  if (options.dryRun) {
    const previous = await readAlertRunState(paths);
    const { events, unreadable } = await evaluate(options, previous);
    return { events, state: previous, unreadable };
  }
  if (!notifier) throw new Error("runCheck: a notifier is needed unless dryRun");
  // Two overlapping runs would both see the same new alert and mail it twice.
  await fs.mkdir(paths.stateDir, { recursive: true });
  return withFileLock(stateFile(paths.stateDir, ALERT_STATE), async () => {
    const previous = await readAlertRunState(paths, failRunWith(log));
    const { alerts, events, cert_seen, reboot_seen, unreadable } = await evaluate(options, previous);

    const queue = [...previous.queue];
    if (events.length > 0) {
      const mail = renderMail(template, events, { dashboardUrl: config.alerts.dashboard_url, now });
      queue.push({
        id: `${fileStamp(now)}.${randomBytes(6).toString("hex")}`,
        created_at: isoLocal(now),
        ...mail,
        attempts: 0,
      });
    }
    // State and queue in one atomic write: a crash cannot leave an alert advanced without its mail.
    let state: AlertRunState = {
      alerts,
      queue,
      ...(cert_seen ? { cert_seen } : {}),
      ...(reboot_seen ? { reboot_seen } : {}),
    };
    await writeState(paths.stateDir, ALERT_STATE, state);
    if (events.length > 0) {
      await appendAlertHistory(paths.alertsLog, events);
      for (const e of events) log.info(`${e.event} ${e.key}: ${e.message}`);
    }
    const undeliverable = outboxNotifier(config.email, path.join(paths.outbox, "undeliverable"));
    const delivery = await deliverQueue(queue, notifier, {
      save: async (rest) => {
        state = { ...state, queue: rest };
        await writeState(paths.stateDir, ALERT_STATE, state);
      },
      setAside: (mail) => undeliverable.send(mail),
    });
    for (const s of delivery.sent) log.info(`mail ${s.id} "${s.subject}" via ${notifier.target}: ${s.answer}`);
    for (const r of delivery.rejected)
      log.error(
        `mail ${r.id} "${r.subject}" refused by ${notifier.target} for good, not retried (${r.savedAs}): ${r.error}`,
      );
    if (delivery.failed)
      log.error(
        `mail ${delivery.failed.id} via ${notifier.target} failed, kept in the queue for the next run: ${delivery.failed.error}`,
      );
    return { events, state, delivery, unreadable };
  });
}
