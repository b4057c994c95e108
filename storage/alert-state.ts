import { readState } from "../lib/state.js";

/** The name of ams-alert's run state in storage/state/ (alert states, notification queues and silences, saved together). */
export const ALERT_STATE = "alerts";

/** What other jobs may read of an alert saved by ams-alert: its identity, its status and whether it is silenced. */
export interface StoredAlert {
  /** Stable identity of the alert: rule/server{labels}. */
  key: string;
  rule: string;
  server_id: string;
  labels?: Record<string, string>;
  severity: "warning" | "critical";
  status: "ok" | "pending" | "firing";
  /** A silence or maintenance window holds its notifications (as of the last ams-alert run). */
  silenced?: true;
}

/**
 * The alerts firing now, as the last ams-alert run left them (for /metrics, the pages and history pruning).
 * Read without the alert job's lock: the state file is replaced whole, never written in place.
 */
export async function readFiringAlerts(stateDir: string): Promise<StoredAlert[]> {
  const saved = await readState<{ alerts?: Record<string, StoredAlert> }>(stateDir, ALERT_STATE);
  return Object.values(saved?.alerts ?? {}).filter((a) => a.status === "firing");
}
