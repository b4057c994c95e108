import { z } from "zod";
import { appendJsonArray, readJsonArray } from "./locked-file.js";

/**
 * One entry of storage/alerts_log.json: an alert that fired, was reminded or resolved. The
 * dashboard shows them; the cleanup job bounds them.
 */
export const AlertEventSchema = z.looseObject({
  /** The alert's identity: rule + server + series, stable across runs. */
  key: z.string().min(1),
  rule: z.string().min(1),
  server_id: z.string().min(1),
  metric_type: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
  severity: z.enum(["warning", "critical"]),
  event: z.enum(["fired", "reminded", "resolved"]),
  /** When the event was recorded (ISO 8601). */
  at: z.iso.datetime({ offset: true }),
  /** When the condition started (ISO 8601). */
  since: z.iso.datetime({ offset: true }),
  value: z.number().optional(),
  threshold: z.number().optional(),
  message: z.string(),
  /** Held back by a silence or a maintenance window: tracked, not notified (on the pages: a "silenced" mark). */
  silenced: z.boolean().optional(),
});

export type AlertEvent = z.infer<typeof AlertEventSchema>;

/** The history, oldest first; entries that do not validate are skipped and counted. */
export async function readAlertHistory(file: string): Promise<{ events: AlertEvent[]; skipped: number }> {
  const events: AlertEvent[] = [];
  let skipped = 0;
  for (const raw of await readJsonArray(file)) {
    const parsed = AlertEventSchema.safeParse(raw);
    if (parsed.success) events.push(parsed.data);
    else skipped++;
  }
  return { events, skipped };
}

export async function appendAlertHistory(file: string, events: readonly AlertEvent[]) {
  for (const event of events) AlertEventSchema.parse(event);
  return appendJsonArray(file, () => events);
}
