import { z } from "zod";
import { readState, type ResetReport } from "../lib/state.js";
import { AlertEventSchema, readAlertHistory, type AlertEvent } from "./alert-history.js";

/** The name of ams-alert's run state in storage/state/ (alert states, notification queues and silences, saved together). */
export const ALERT_STATE = "alerts";

export const Severity = z.enum(["warning", "critical"]);
export type Severity = z.infer<typeof Severity>;

export const Operator = z.enum([">", ">=", "<", "<="]);
export type Operator = z.infer<typeof Operator>;

/** What an alert is about and the rule it is judged by, shared by conditions and saved alert states. */
export interface AlertRuleFacts {
  /** Stable identity of the alert: rule/server{labels}. */
  key: string;
  rule: string;
  server_id: string;
  metric_type: string;
  labels?: Record<string, string>;
  unit: string;
  op: Operator;
  threshold: number;
  /** Seconds the condition must hold before the alert fires. */
  for: number;
  severity: Severity;
}

/** One alert as ams-alert saves it in storage/state/alerts.json; alerts/state.ts advances it. */
export interface StoredAlert extends AlertRuleFacts {
  status: "ok" | "pending" | "firing";
  /** The latest observation judged (ISO); older ones are never replayed. */
  last_at: string;
  /** The latest observed value. */
  value: number;
  /** When the condition began (pending and firing). */
  since?: string;
  /** The last fired or reminded event (firing). */
  notified_at?: string;
  /** `ams-alert ack`: no reminders until it resolves. */
  acked?: { at: string; by: string; comment?: string };
  /** A silence or maintenance window holds its notifications (as of the last ams-alert run). */
  silenced?: true;
  /** It fired while silenced and nobody was told: told when the silence ends, if it still fires. */
  unannounced?: true;
}

const isoTime = z.iso.datetime({ offset: true });

/** One saved alert, checked whenever alerts.json is read: a field added to StoredAlert is added here. */
const StoredAlertSchema: z.ZodType<StoredAlert> = z.looseObject({
  key: z.string().min(1),
  rule: z.string().min(1),
  server_id: z.string().min(1),
  metric_type: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
  unit: z.string(),
  op: Operator,
  threshold: z.number(),
  for: z.number(),
  severity: Severity,
  status: z.enum(["ok", "pending", "firing"]),
  last_at: isoTime,
  value: z.number(),
  since: isoTime.optional(),
  notified_at: isoTime.optional(),
  acked: z.strictObject({ at: isoTime, by: z.string(), comment: z.string().optional() }).optional(),
  silenced: z.literal(true).optional(),
  unannounced: z.literal(true).optional(),
});

/** A rendered mail: what the old queue held, and what a notification queued by it still carries. */
const MailSchema = z.looseObject({ subject: z.string(), text: z.string(), html: z.string() });

const Attempts = { attempts: z.number().int().min(0), last_error: z.string().optional() };

/** One queued notification (alerts/queue.ts): a run's alert events, as a channel gets them. */
const QueuedNotificationSchema = z.looseObject({
  id: z.string().min(1),
  created_at: z.string(),
  notices: z.array(AlertEventSchema.extend({ unit: z.string(), op: z.string(), link: z.string().optional() })),
  mail: MailSchema.optional(),
  ...Attempts,
});

/** The queue as saved before notification channels: rendered mails, all for the e-mail; converted when read. */
const MailQueueSchema = z.array(MailSchema.extend({ id: z.string().min(1), created_at: z.string(), ...Attempts }));

const Matcher = z.strictObject({ name: z.string().min(1), op: z.enum(["=", "=~"]), value: z.string() });

/** One silence (alerts/silences.ts), made by `ams-alert silence add`. */
const SilenceSchema = z.looseObject({
  id: z.string().min(1),
  matchers: z.array(Matcher),
  starts_at: isoTime,
  ends_at: isoTime,
  created_by: z.string(),
  comment: z.string(),
});

/**
 * The whole of alerts.json as it is checked when read: the alerts, each channel's queue (or the
 * older single mail queue), the CERT and reboot notices seen, the silences.
 */
const AlertRunStateSchema = z.looseObject({
  alerts: z.record(z.string(), StoredAlertSchema).optional(),
  queue: z.union([z.record(z.string(), z.array(QueuedNotificationSchema)), MailQueueSchema]).optional(),
  cert_seen: z.array(z.string()).optional(),
  reboot_seen: z.array(z.string()).optional(),
  silences: z.array(SilenceSchema).optional(),
});
export type SavedAlertRunState = z.infer<typeof AlertRunStateSchema>;

/** Why a saved alerts.json is unusable ("field: problem"), or undefined when it is usable. */
export function alertRunStateProblem(value: unknown): string | undefined {
  const issue = AlertRunStateSchema.safeParse(value).error?.issues[0];
  return issue && `${issue.path.join(".") || "(file)"}: ${issue.message}`;
}

/** Where the alert state and the history it is rebuilt from live. */
export interface AlertFiles {
  stateDir: string;
  alertsLog: string;
}

/**
 * The firing alerts as the history tells them, for when the saved state is lost: an alert whose
 * last event is "fired" or "reminded" is firing, notified then, so it is neither mailed again nor
 * reminded early, and its resolution is still mailed. Pending alerts are not in the history: they
 * start over. `events` oldest first, as storage/alerts_log.json keeps them.
 */
export function alertsFromHistory(events: readonly AlertEvent[]): Record<string, StoredAlert> {
  const last = new Map<string, AlertEvent>();
  for (const e of events) last.set(e.key, e);
  const alerts: Record<string, StoredAlert> = {};
  for (const e of last.values()) {
    if (e.event === "resolved") continue;
    alerts[e.key] = {
      key: e.key,
      rule: e.rule,
      server_id: e.server_id,
      metric_type: e.metric_type,
      ...(e.labels ? { labels: e.labels } : {}),
      // Rule facts a history entry may lack are taken from the rule again at the next evaluation.
      unit: typeof e.unit === "string" ? e.unit : "",
      op: Operator.safeParse(e.op).data ?? ">",
      threshold: e.threshold ?? 0,
      for: 0,
      severity: e.severity,
      status: "firing",
      last_at: e.at,
      value: e.value ?? 0,
      since: e.since,
      notified_at: e.at,
      // Fired while silenced: nobody was told yet, so it is told when the silence ends.
      ...(e.event === "fired" && e.silenced ? { silenced: true, unannounced: true } : {}),
    };
  }
  return alerts;
}

/**
 * The saved alerts. When there are none, or the file is unusable (ams-alert, given `onReset`, moves
 * it aside and reports it; other readers leave it be), the firing alerts are rebuilt from the alert
 * history, so no alert already mailed is mailed again.
 */
export async function readStoredAlerts(files: AlertFiles, onReset?: ResetReport) {
  const saved = await readState<SavedAlertRunState>(
    files.stateDir,
    ALERT_STATE,
    alertRunStateProblem,
    onReset ?? (() => {}),
    onReset !== undefined,
  );
  if (saved) return { saved, alerts: saved.alerts ?? {} };
  const history = await readAlertHistory(files.alertsLog).catch(() => ({ events: [] }));
  return { saved: undefined, alerts: alertsFromHistory(history.events) };
}

/**
 * The alerts firing now, as the last ams-alert run left them (for /metrics and history pruning).
 * Read without the alert job's lock: the state file is replaced whole, never written in place.
 */
export async function readFiringAlerts(files: AlertFiles): Promise<StoredAlert[]> {
  return (await readActiveAlerts(files)).filter((a) => a.status === "firing");
}

/** An alert firing or pending: what `ams-alert list`, /metrics and the pages show. */
export type ActiveAlert = StoredAlert & { status: "pending" | "firing" };

/**
 * The alerts firing or pending, as the last ams-alert run left them (rebuilt from the history when
 * the state is lost, as readStoredAlerts does for every reader).
 */
export async function readActiveAlerts(files: AlertFiles): Promise<ActiveAlert[]> {
  const { alerts } = await readStoredAlerts(files);
  return Object.values(alerts).filter((a): a is ActiveAlert => a.status !== "ok");
}
