import { createHash } from "node:crypto";
import { z } from "zod";
import { durationUpTo } from "../../lib/duration.js";
import { alertValues } from "../mail.js";
import type { Notice } from "../state.js";
import type { ChannelType, Notification } from "./channel.js";
import { channelUrl, httpRetryable, oneUrl, postingChannel, urlKeys } from "./http.js";

/**
 * Prometheus Alertmanager (POST /api/v2/alerts): every firing alert routed here is posted on every
 * run, as Prometheus does, so Alertmanager keeps it active and takes over deduplication, grouping,
 * silences and routing; a resolved alert is posted once more with the time it ended as endsAt.
 */

export const schema = z
  .strictObject({
    type: z.literal("alertmanager"),
    ...urlKeys,
    /**
     * A firing alert is posted with an endsAt this long after the run, as Prometheus does: if AMS
     * stops posting it (ams-alert no longer runs), Alertmanager resolves it then. Well above the
     * time between two runs.
     */
    ends_after: durationUpTo(7 * 86400, { above: true }).default(900),
  })
  .superRefine(oneUrl);

/** Alertmanager's label names: [a-zA-Z_][a-zA-Z0-9_]*. */
const labelName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=[0-9])/, "_");

/** alertname, server, severity and the series' labels. */
export function alertLabels(n: Notice): Record<string, string> {
  const own = Object.entries(n.labels ?? {}).map(([k, v]) => [labelName(k), v] as const);
  return { ...Object.fromEntries(own), alertname: n.rule, server: n.server_id, severity: n.severity };
}

export function alertAnnotations(n: Notice, dashboardUrl: string): Record<string, string> {
  const v = alertValues(n, dashboardUrl);
  return {
    summary: `${v.server}: ${v.metric}${v.value ? ` ${v.value}` : ""}`,
    description: n.message,
    ...(v.value ? { value: v.value } : {}),
    ...(v.threshold ? { threshold: v.threshold } : {}),
  };
}

/** Stable per alert, like Alertmanager's own fingerprint of a label set. */
export const fingerprint = (n: Notice) => createHash("sha256").update(n.key).digest("hex").slice(0, 16);

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

export function render(notification: Notification, dashboardUrl: string, endsAfterSeconds: number): PostableAlert[] {
  const stillFiringUntil = new Date(Date.parse(notification.created_at) + endsAfterSeconds * 1000).toISOString();
  return notification.notices.map((n) => ({
    labels: alertLabels(n),
    annotations: alertAnnotations(n, dashboardUrl),
    startsAt: n.since,
    endsAt: n.event === "resolved" ? n.at : stillFiringUntil,
    generatorURL: alertValues(n, dashboardUrl).link,
  }));
}

export const alertmanager: ChannelType<typeof schema> = {
  schema,
  everyRun: true,
  retryable: httpRetryable,
  open(config, context) {
    const url = new URL("api/v2/alerts", channelUrl(context, config).href.replace(/\/?$/, "/"));
    return postingChannel("alertmanager", url, config.timeout, (n) =>
      render(n, context.dashboardUrl, config.ends_after),
    );
  },
};
