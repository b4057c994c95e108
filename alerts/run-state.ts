import fs from "node:fs/promises";
import { stateFile, writeState, type ResetReport } from "../lib/state.js";
import { ALERT_STATE, readStoredAlerts, type AlertFiles, type SavedAlertRunState } from "../storage/alert-state.js";
import { withFileLock } from "../storage/locked-file.js";
import type { Queues } from "./queue.js";
import type { Silence } from "./silences.js";
import type { AlertStates } from "./state.js";

/**
 * What ams-alert keeps between runs in storage/state/alerts.json, saved together under one lock:
 * alert states, the notification queues, the silences. The one place that writes and guards it;
 * the file's shape and its check are declared in storage/alert-state.ts, where other jobs read
 * the firing alerts.
 */
export interface AlertRunState {
  alerts: AlertStates;
  /** Per channel (alerts/queue.ts). */
  queue: Queues;
  /** CERT advisory links already notified; absent until alerts.cert_advisories is first on. */
  cert_seen?: string[];
  /** Reboots already notified; absent until alerts.reboot_notices is first on. */
  reboot_seen?: string[];
  /** Made by `ams-alert silence add`, kept a while after they end (alerts/silences.ts). */
  silences: Silence[];
}

/** A queue saved by an AMS from before channels is a list of rendered mails, all for the e-mail channel. */
function queuesOf(saved: SavedAlertRunState["queue"]): Queues {
  if (!Array.isArray(saved)) return saved ?? {};
  return {
    email: saved.map(({ subject, text, html, ...rest }) => ({ ...rest, notices: [], mail: { subject, text, html } })),
  };
}

/**
 * The saved run state, checked (storage/alert-state.ts). When there is none, or it is unusable
 * (moved aside and reported through `onReset` when given), the firing alerts are rebuilt from the
 * alert history; notifications still queued in a lost file are lost.
 */
export async function readAlertRunState(files: AlertFiles, onReset?: ResetReport): Promise<AlertRunState> {
  const { saved, alerts } = await readStoredAlerts(files, onReset);
  return {
    alerts,
    queue: queuesOf(saved?.queue),
    ...(saved?.cert_seen ? { cert_seen: saved.cert_seen } : {}),
    ...(saved?.reboot_seen ? { reboot_seen: saved.reboot_seen } : {}),
    silences: saved?.silences ?? [],
  };
}

export function writeAlertRunState(stateDir: string, state: AlertRunState): Promise<void> {
  return writeState(stateDir, ALERT_STATE, state);
}

/**
 * Runs `fn` on the saved state under its lock (two overlapping runs would both notify the same new
 * alert). An unusable state file is moved aside and reported through `onReset`.
 */
export async function withAlertRunState<T>(
  files: AlertFiles,
  onReset: ResetReport,
  fn: (state: AlertRunState) => Promise<T>,
): Promise<T> {
  await fs.mkdir(files.stateDir, { recursive: true });
  return withFileLock(stateFile(files.stateDir, ALERT_STATE), async () => fn(await readAlertRunState(files, onReset)));
}

/**
 * Changes the saved state under its lock and returns it: `change` gets the state as it is now, so
 * what others changed meanwhile (a silence added during a delivery) is kept.
 */
export function updateAlertRunState(
  files: AlertFiles,
  onReset: ResetReport,
  change: (state: AlertRunState) => AlertRunState,
): Promise<AlertRunState> {
  return withAlertRunState(files, onReset, async (state) => {
    const next = change(state);
    await writeAlertRunState(files.stateDir, next);
    return next;
  });
}
