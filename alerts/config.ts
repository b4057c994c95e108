import { z } from "zod";
import { durationUpTo } from "../lib/duration.js";
import { NAME_PATTERN } from "../lib/server-name.js";
import { builtinEntry, defaultRules } from "../sensors/catalogue.js";
import { MatchConfig } from "./matchers.js";
import { Operator, Severity } from "../storage/alert-state.js";

/**
 * The `alerts` and `email` sections of ams.config.json. Every key has a default, so an install
 * with no config alerts on the default rules below and writes its mails to logs/outbox/.
 */

// Declared with the saved alert state, which keeps them; the rules below choose among them.
export { Operator, Severity } from "../storage/alert-state.js";

/** How long a rule's condition must hold, or a server stay silent: compared with sample times, up to 30 days. */
const Span = durationUpTo(30 * 86400);

const Threshold = z.number().min(0, "must be 0 or more");

/** What a rule may change for one server. */
const RuleOverride = z.strictObject({
  enabled: z.boolean().optional(),
  threshold: Threshold.optional(),
  clear: Threshold.optional(),
  for: Span.optional(),
  severity: Severity.optional(),
});

export const RuleConfig = z.strictObject({
  /** A built-in metric type, a plugin's name, or `<plugin>_status` (checked against sensors.d when a job opens). */
  metric: z.string().min(1),
  /** Only series whose labels include these, e.g. { "mount": "/" }. */
  labels: z.record(z.string(), z.string()).optional(),
  op: Operator.default(">"),
  threshold: Threshold,
  /** Hysteresis: once firing, the alert ends only when the value crosses back past this (default: the threshold). */
  clear: Threshold.optional(),
  for: Span.default(0),
  severity: Severity.default("warning"),
  enabled: z.boolean().default(true),
  /** Per-server changes, keyed by server_id. */
  servers: z.record(z.string(), RuleOverride).default({}),
});
export type RuleConfig = z.infer<typeof RuleConfig>;

/** The rules of a config that sets none: each built-in metric's default rules (its catalogue entry). */
export const DEFAULT_RULES: Record<string, z.input<typeof RuleConfig>> = defaultRules();

/** The built-in rules' names (SILENT_RULE in rules.ts, CERT_RULE in cert.ts, REBOOT_RULE in reboot.ts): a configured rule by that name would share their alert keys. */
const RESERVED_RULE_NAMES = ["server_silent", "cert_advisory", "rebooted"];

const RuleName = z
  .string()
  .regex(NAME_PATTERN, "rule names are letters, digits, '-', '_' or '.'")
  .refine((name) => !RESERVED_RULE_NAMES.includes(name), {
    message: `reserved for a built-in rule (${RESERVED_RULE_NAMES.join(", ")})`,
  });

type EffectiveRule = Omit<RuleConfig, "servers" | "enabled">;

function withOverride(rule: RuleConfig, o: z.infer<typeof RuleOverride> | undefined): EffectiveRule {
  return {
    metric: rule.metric,
    labels: rule.labels,
    op: rule.op,
    threshold: o?.threshold ?? rule.threshold,
    // A server-specific threshold without its own clear clears at that threshold, not at the global clear.
    clear: o?.clear ?? (o?.threshold === undefined ? rule.clear : undefined),
    for: o?.for ?? rule.for,
    severity: o?.severity ?? rule.severity,
  };
}

/** True when `labels` include every label a rule asks for. */
export function labelsMatch(
  labels: Record<string, string> | undefined,
  wanted: Record<string, string> | undefined,
): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** The rule as it applies to one server; undefined when that server turns it off. */
export function ruleForServer(rule: RuleConfig, server: string): EffectiveRule | undefined {
  const o = rule.servers[server];
  return (o?.enabled ?? rule.enabled) ? withOverride(rule, o) : undefined;
}

function checkRule(rule: RuleConfig, ctx: z.RefinementCtx): void {
  const above = rule.op === ">" || rule.op === ">=";
  const check = (where: (string | number)[], threshold: number, clear: number | undefined) => {
    // Percent metrics cannot exceed 100: a threshold of 150 would silently never fire.
    if (builtinEntry(rule.metric)?.kind === "percent" && threshold > 100) {
      ctx.addIssue({
        code: "custom",
        path: [...where, "threshold"],
        message: `${rule.metric} is a percentage: at most 100`,
      });
    }
    if (clear !== undefined && (above ? clear > threshold : clear < threshold)) {
      ctx.addIssue({
        code: "custom",
        path: [...where, "clear"],
        message: `must be ${above ? "at most" : "at least"} the threshold (${threshold}) for "${rule.op}"`,
      });
    }
  };
  check([], rule.threshold, rule.clear);
  for (const [server, o] of Object.entries(rule.servers)) {
    const effective = withOverride(rule, o);
    check(["servers", server], effective.threshold, effective.clear);
  }
}

/** The channel every config has, configured by the `email` section. */
export const EMAIL_CHANNEL = "email";

const ChannelName = z
  .string()
  .regex(NAME_PATTERN, "channel names are letters, digits, '-', '_' or '.'")
  .refine((name) => name !== EMAIL_CHANNEL, { message: `"${EMAIL_CHANNEL}" is configured by the email section` });

/**
 * A notification channel: `type` picks the file in alerts/channels/; the other keys are that
 * type's, checked against its schema when ams-alert starts (the other jobs never load channels).
 */
const ChannelEntry = z.looseObject({ type: z.string().min(1) });

/** Where notifications go: the first routes whose `match` holds, then the e-mail (see alerts/routes.ts). */
const Route = z.strictObject({
  match: MatchConfig,
  channels: z.array(z.string().min(1)).min(1),
  /** Keep looking at the routes below (and at last the e-mail) after this one matched. */
  continue: z.boolean().default(false),
  /** Reminders of the alerts this route takes, instead of alerts.repeat. */
  repeat: Span.optional(),
});
export type Route = z.infer<typeof Route>;

const Timestamp = z.iso.datetime({ offset: true });

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** One interval, or a recurring one: a cron expression (checked by alerts/maintenance.ts) starting a window of `duration`. */
const Schedule = z.union([
  z
    .strictObject({ start: Timestamp, end: Timestamp })
    .refine((s) => Date.parse(s.end) > Date.parse(s.start), { path: ["end"], message: "must be after start" }),
  z.strictObject({
    cron: z.string().min(1),
    duration: durationUpTo(30 * 86400, { above: true }),
    timezone: z.string().refine(isTimeZone, "not an IANA time zone (e.g. Europe/Paris)").default("UTC"),
  }),
]);

const MaintenanceWindow = z.strictObject({
  name: z.string().min(1),
  match: MatchConfig,
  schedule: Schedule,
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

export const AlertsConfig = z
  .strictObject({
    rules: z
      .record(RuleName, RuleConfig.superRefine(checkRule))
      .default(() => z.record(z.string(), RuleConfig).parse(DEFAULT_RULES)),
    /** A server with no sample for this long is "silent" (critical); 0 turns the rule off. */
    silent_after: Span.default(1800),
    /** While an alert fires, a reminder goes out this often. */
    repeat: Span.default(14400),
    /** Mail each new CERT advisory once. */
    cert_advisories: z.boolean().default(false),
    /** Mail once when a server rebooted (the uptime sensor's Reboot events). */
    reboot_notices: z.boolean().default(true),
    history: z
      .strictObject({
        max_days: z.number().int().positive().default(30),
        max_entries: z.number().int().positive().default(1000),
      })
      .prefault({}),
    /** The mail template; empty means the one shipped in alerts/alert-mail.template. Relative to the data home. */
    template: z.string().default(""),
    /** Linked from every mail; a server's page is <dashboard_url> + serverPage(server) (graphs/file-names.ts). */
    dashboard_url: z.url({ protocol: /^https?$/ }).default("http://localhost:5050/"),
    channels: z.record(ChannelName, ChannelEntry).default({}),
    routes: z.array(Route).default([]),
    maintenance: z.array(MaintenanceWindow).default([]),
  })
  .superRefine((alerts, ctx) => {
    alerts.routes.forEach((route, i) =>
      route.channels.forEach((name, j) => {
        if (name !== EMAIL_CHANNEL && !Object.hasOwn(alerts.channels, name))
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "channels", j],
            message: `no channel named ${JSON.stringify(name)} in alerts.channels`,
          });
      }),
    );
  })
  .prefault({});
export type AlertsConfig = z.infer<typeof AlertsConfig>;

const Address = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/, "expected an e-mail address");
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name");

export const EmailConfig = z
  .strictObject({
    /** Empty: mails are written as .eml files in logs/outbox/ instead of being sent. */
    host: z.string().default(""),
    /** 587 for submission with STARTTLS; 465 with `secure`. */
    port: z.number().int().min(1).max(65535).default(587),
    /** Implicit TLS from the first byte (usually port 465). */
    secure: z.boolean().default(false),
    /** Without `secure`: true insists on STARTTLS, false never tries it. */
    starttls: z.boolean().default(true),
    /** Empty: no authentication. */
    user: z.string().default(""),
    /** The password is never in the config: it comes from this environment variable... */
    password_env: EnvName.or(z.literal("")).default(""),
    /** ...or from this file (relative to the data home), which must be readable by its owner only. */
    password_file: z.string().default(""),
    timeout: durationUpTo(600, { above: true }).default(30),
    from: Address.default("AMS <ams@localhost>"),
    to: z.array(Address).default([]),
  })
  .superRefine((email, ctx) => {
    if (email.password_env && email.password_file) {
      ctx.addIssue({ code: "custom", path: ["password_file"], message: "set password_env or password_file, not both" });
    }
    if (email.user && !email.password_env && !email.password_file) {
      ctx.addIssue({ code: "custom", path: ["user"], message: "needs password_env or password_file" });
    }
    if (!email.user && (email.password_env || email.password_file)) {
      ctx.addIssue({ code: "custom", path: ["user"], message: "required when a password is configured" });
    }
    if (email.host && email.to.length === 0) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "at least one recipient is needed when host is set" });
    }
  })
  .prefault({});
export type EmailConfig = z.infer<typeof EmailConfig>;

/** The config sections this module owns, spread into ConfigSchema. */
export const alertingSections = { alerts: AlertsConfig, email: EmailConfig };
