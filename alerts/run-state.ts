import fs from "node:fs/promises";
import { readState, stateFile, writeState } from "../lib/state.js";
import { withFileLock } from "../storage/locked-file.js";
import type { MailContent } from "./mail.js";
import type { Queues } from "./queue.js";
import type { Silence } from "./silences.js";
import type { AlertState, AlertStates } from "./state.js";

/**
 * What ams-alert keeps between runs in storage/state/alerts.json, saved together under one lock:
 * alert states, the notification queues, the silences. The one place that reads and guards it.
 */
export interface AlertRunState {
  alerts: AlertStates;
  /** Per channel (alerts/queue.ts). */
  queue: Queues;
  /** CERT advisory links already notified; absent until alerts.cert_advisories is first on. */
  cert_seen?: string[];
  /** Made by `ams-alert silence add`, kept a while after they end (alerts/silences.ts). */
  silences: Silence[];
}

const STATE_NAME = "alerts";

export const alertStateFile = (stateDir: string) => stateFile(stateDir, STATE_NAME);

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
    STATE_NAME,
  );
  return {
    alerts: saved?.alerts ?? {},
    queue: queuesOf(saved?.queue),
    ...(saved?.cert_seen ? { cert_seen: saved.cert_seen } : {}),
    silences: saved?.silences ?? [],
  };
}

export function writeAlertRunState(stateDir: string, state: AlertRunState): Promise<void> {
  return writeState(stateDir, STATE_NAME, state);
}

/** Runs `fn` on the saved state under its lock (two overlapping runs would both notify the same new alert). */
export async function withAlertRunState<T>(stateDir: string, fn: (state: AlertRunState) => Promise<T>): Promise<T> {
  await fs.mkdir(stateDir, { recursive: true });
  return withFileLock(alertStateFile(stateDir), async () => fn(await readAlertRunState(stateDir)));
}

/** The alerts firing now, as the last ams-alert run left them (for /metrics, the pages and history pruning). */
export async function firingAlerts(stateDir: string): Promise<AlertState[]> {
  const { alerts } = await readAlertRunState(stateDir);
  return Object.values(alerts).filter((a) => a.status === "firing");
}

/** Keys of the alerts firing now, which history pruning must keep (ams-cleanup alerts). */
export async function firingAlertKeys(stateDir: string): Promise<string[]> {
  return (await firingAlerts(stateDir)).map((a) => a.key);
}
