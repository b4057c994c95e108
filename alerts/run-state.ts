import fs from "node:fs/promises";
import { readState, stateFile, writeState } from "../lib/state.js";
import { ALERT_STATE } from "../storage/alert-state.js";
import { withFileLock } from "../storage/locked-file.js";
import type { MailContent } from "./mail.js";
import type { Queues } from "./queue.js";
import type { Silence } from "./silences.js";
import type { AlertStates } from "./state.js";

/**
 * What ams-alert keeps between runs in storage/state/alerts.json, saved together under one lock:
 * alert states, the notification queues, the silences. The one place that writes and guards it;
 * other jobs read the firing alerts through storage/alert-state.ts.
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

/** A queue saved by an AMS from before channels: a list of rendered mails, all for the e-mail channel. */
type LegacyMail = MailContent & { id: string; created_at: string; attempts: number; last_error?: string };

function queuesOf(saved: Queues | LegacyMail[] | undefined): Queues {
  if (!Array.isArray(saved)) return saved ?? {};
  return {
    email: saved.map(({ subject, text, html, ...rest }) => ({ ...rest, notices: [], mail: { subject, text, html } })),
  };
}

export async function readAlertRunState(stateDir: string): Promise<AlertRunState> {
  const saved = await readState<Partial<Omit<AlertRunState, "queue">> & { queue?: Queues | LegacyMail[] }>(
    stateDir,
    ALERT_STATE,
  );
  return {
    alerts: saved?.alerts ?? {},
    queue: queuesOf(saved?.queue),
    ...(saved?.cert_seen ? { cert_seen: saved.cert_seen } : {}),
    ...(saved?.reboot_seen ? { reboot_seen: saved.reboot_seen } : {}),
    silences: saved?.silences ?? [],
  };
}

export function writeAlertRunState(stateDir: string, state: AlertRunState): Promise<void> {
  return writeState(stateDir, ALERT_STATE, state);
}

/** Runs `fn` on the saved state under its lock (two overlapping runs would both notify the same new alert). */
export async function withAlertRunState<T>(stateDir: string, fn: (state: AlertRunState) => Promise<T>): Promise<T> {
  await fs.mkdir(stateDir, { recursive: true });
  return withFileLock(stateFile(stateDir, ALERT_STATE), async () => fn(await readAlertRunState(stateDir)));
}
