import { readState } from "../lib/state.js";

/** The name of ams-alert's run state in storage/state/ (alert states and the mail queue, saved together). */
export const ALERT_STATE = "alerts";

/** What other jobs may read of an alert saved by ams-alert: its identity and its status. */
export interface StoredAlert {
  /** Stable identity of the alert: rule/server{labels}. */
  key: string;
  rule: string;
  server_id: string;
  labels?: Record<string, string>;
  severity: "warning" | "critical";
  status: "ok" | "pending" | "firing";
}

/** An alert firing or pending, with what a page says of it (saved by ams-alert with its rule's facts). */
export interface ActiveAlert extends StoredAlert {
  status: "pending" | "firing";
  metric_type: string;
  unit: string;
  op: string;
  threshold: number;
  /** Seconds the condition must hold before the alert fires. */
  for: number;
  /** The latest observed value. */
  value: number;
  /** When the condition began (ISO). */
  since?: string;
}

/**
 * The alerts firing or pending, as the last ams-alert run left them: what `ams-alert list`,
 * /metrics and the pages show. Read without the alert job's lock: the state file is replaced whole.
 */
export async function readActiveAlerts(stateDir: string): Promise<ActiveAlert[]> {
  const saved = await readState<{ alerts?: Record<string, StoredAlert> }>(stateDir, ALERT_STATE);
  return Object.values(saved?.alerts ?? {}).filter((a): a is ActiveAlert => a.status !== "ok");
}

/**
 * The alerts firing now, as the last ams-alert run left them (for /metrics and history pruning).
 * Read without the alert job's lock: the state file is replaced whole, never written in place.
 */
export async function readFiringAlerts(stateDir: string): Promise<StoredAlert[]> {
  return (await readActiveAlerts(stateDir)).filter((a) => a.status === "firing");
}
