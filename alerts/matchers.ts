import { z } from "zod";

/**
 * What routes, silences and maintenance windows select alerts by, in Alertmanager's terms: a list
 * of matchers on `server`, `rule`, `severity` or a series label, each an equality (`=`) or a regex
 * (`=~`, anchored at both ends); an alert is selected when every matcher holds.
 */

export interface Matcher {
  name: string;
  op: "=" | "=~";
  value: string;
}

/** What a matcher looks at in an alert. */
export interface MatchSubject {
  server_id: string;
  rule: string;
  severity: string;
  labels?: Record<string, string>;
}

const FIELDS = ["server", "rule", "severity"] as const;

function valueOf(subject: MatchSubject, name: string): string {
  if (name === "server") return subject.server_id;
  if (name === "rule") return subject.rule;
  if (name === "severity") return subject.severity;
  return subject.labels?.[name] ?? "";
}

export function matchesAll(matchers: readonly Matcher[], subject: MatchSubject): boolean {
  return matchers.every((m) => {
    const value = valueOf(subject, m.name);
    return m.op === "=" ? value === m.value : new RegExp(`^(?:${m.value})$`).test(value);
  });
}

function checkRegex(value: string): string | undefined {
  try {
    new RegExp(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const MATCHER_TEXT = /^([A-Za-z_][A-Za-z0-9_.]*)(=~|=)(.*)$/;

/** "server=web-1", "rule=~cpu_.*", "mount=/" → a matcher, or the reason it is not one. */
export function parseMatcher(text: string): Matcher | string {
  const m = MATCHER_TEXT.exec(text);
  if (!m) return `expected NAME=VALUE or NAME=~REGEX, got ${JSON.stringify(text)}`;
  const matcher: Matcher = { name: m[1]!, op: m[2] as Matcher["op"], value: m[3]! };
  const problem = matcher.op === "=~" ? checkRegex(matcher.value) : undefined;
  return problem ? `${text}: not a valid regex: ${problem}` : matcher;
}

export function matcherText(m: Matcher): string {
  return `${m.name}${m.op}${m.value}`;
}

/** A value in a config `match`: a string to equal, or { "regex": "..." }. */
const MatchValue = z.union([
  z.string(),
  z.strictObject({ regex: z.string().refine((r) => checkRegex(r) === undefined, "not a valid regex") }),
]);

/** `match` in a route or a maintenance window: { server, rule, severity, labels }, all optional. */
export const MatchConfig = z
  .strictObject({
    server: MatchValue.optional(),
    rule: MatchValue.optional(),
    severity: MatchValue.optional(),
    labels: z.record(z.string(), MatchValue).optional(),
  })
  .default({})
  .transform((match): Matcher[] => {
    const toMatcher = (name: string, v: z.infer<typeof MatchValue>): Matcher =>
      typeof v === "string" ? { name, op: "=", value: v } : { name, op: "=~", value: v.regex };
    return [
      ...FIELDS.flatMap((f) => (match[f] === undefined ? [] : [toMatcher(f, match[f])])),
      ...Object.entries(match.labels ?? {}).map(([k, v]) => toMatcher(k, v)),
    ];
  });
