import { z } from "zod";
import { EnvName } from "../config.js";
import { alertValues } from "../mail.js";
import type { ChannelType, Notification } from "./channel.js";
import { alertAnnotations, alertLabels, fingerprint } from "./alertmanager.js";
import {
  channelSecret,
  channelUrl,
  httpRetryable,
  notBoth,
  oneUrl,
  postingChannel,
  signature,
  urlKeys,
} from "./http.js";

/**
 * A generic webhook: POST of Alertmanager's webhook body (version "4"), so receivers written for
 * Alertmanager understand it, plus AMS's own `ams` block per alert (event, value, threshold). With
 * a secret, the header X-AMS-Signature carries "sha256=" and the HMAC-SHA256 of the raw body.
 */

export const schema = z
  .strictObject({
    type: z.literal("webhook"),
    ...urlKeys,
    secret_env: EnvName.optional(),
    secret_file: z.string().min(1).optional(),
  })
  .superRefine(oneUrl)
  .refine(...notBoth("secret"));

export const SIGNATURE_HEADER = "X-AMS-Signature";

export function render(notification: Notification, receiver: string, dashboardUrl: string) {
  const alerts = notification.notices.map((n) => {
    const v = alertValues(n, dashboardUrl);
    return {
      status: n.event === "resolved" ? "resolved" : "firing",
      labels: alertLabels(n),
      annotations: alertAnnotations(n, dashboardUrl),
      startsAt: n.since,
      // Alertmanager's "not ended" value.
      endsAt: n.event === "resolved" ? n.at : "0001-01-01T00:00:00Z",
      generatorURL: v.link,
      fingerprint: fingerprint(n),
      ams: {
        key: n.key,
        event: n.event,
        at: n.at,
        ...(n.value !== undefined ? { value: n.value } : {}),
        ...(n.threshold !== undefined ? { threshold: n.threshold, op: n.op } : {}),
        unit: n.unit,
      },
    };
  });
  const labelSets = alerts.map((a) => a.labels);
  const commonLabels = Object.fromEntries(
    Object.entries(labelSets[0] ?? {}).filter(([k, v]) => labelSets.every((l) => l[k] === v)),
  );
  return {
    version: "4",
    groupKey: `ams:${notification.id}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    receiver,
    groupLabels: {},
    commonLabels,
    commonAnnotations: {},
    externalURL: dashboardUrl,
    alerts,
  };
}

export const webhook: ChannelType<typeof schema> = {
  schema,
  retryable: httpRetryable,
  open(config, context) {
    const secret = channelSecret(context, "secret", { env: config.secret_env, file: config.secret_file });
    return postingChannel(
      "webhook",
      channelUrl(context, config),
      config.timeout,
      (n) => render(n, context.name, context.dashboardUrl),
      (text) => (secret ? { [SIGNATURE_HEADER]: signature(secret, text) } : undefined),
    );
  },
};
