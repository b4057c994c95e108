import { valueProblem, type Sample } from "../storage/sample.js";

/**
 * Reading what a plugin printed (pure, no I/O). Two formats:
 * - the Nagios plugin protocol: exit code 0-3, `TEXT | perfdata` on the first line, long text on
 *   the next lines, more perfdata after a `|` on a later line;
 * - plain lines `name value [unit]` or Munin's `name.value N`, when every line has that form.
 */

/** A record before it is stamped with a server and a time. */
export type PluginRecord = Pick<Sample, "metric_type" | "value" | "unit" | "labels" | "details">;

/** How a plugin run ended, as the adapter saw it. */
export interface PluginRun {
  stdout: Uint8Array | string;
  /** Undefined when the plugin did not exit by itself (killed, never started). */
  exitCode?: number;
  /** Why the run cannot be trusted: timed out, killed, could not start, output cut. */
  failure?: string;
  /** The output was cut at the size limit: its last line may be incomplete. */
  truncated?: boolean;
}

export interface PluginReading {
  records: PluginRecord[];
  /** Set when the status record is UNKNOWN because of the run or its output, not the plugin's verdict. */
  problem?: string;
}

export const STATUS_NAMES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
const UNKNOWN = 3;

// Long texts go into every record of every run: keep the store small.
const MAX_TEXT = 1024;
const MAX_LONG_TEXT = 4096;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?`;
const VALUE_RE = new RegExp(`^(${NUMBER}|U)([A-Za-z%/]{0,32})$`);
const NUMBER_RE = new RegExp(`^${NUMBER}$`);
// Nagios thresholds are ranges: "10", "10:", "~:10", "10:20", "@10:20".
const RANGE_RE = new RegExp(`^@?(?:(?:${NUMBER}|~):)?(?:${NUMBER})?$`);
// One perfdata item: a label (quoted, with '' for a quote, or bare) "=" the value fields.
const ITEM_RE = /\s*(?:'((?:[^']|'')*)'|([^\s'=]+))=(\S*)/y;
const TOKEN_RE = /\s*\S+/y;
const REST_IS_BLANK_RE = /\s*$/y;

export interface PerfItem {
  label: string;
  /** Undefined for "U", the protocol's "could not measure". */
  value?: number;
  unit: string;
  warn?: number | string;
  crit?: number | string;
  min?: number;
  max?: number;
}

/** A threshold as a number when it is one, else the range text as the plugin wrote it. */
const threshold = (text: string) => (NUMBER_RE.test(text) ? Number(text) : text);

function parseItem(label: string, fields: string): PerfItem | undefined {
  const [valueField = "", warn = "", crit = "", min = "", max = "", ...rest] = fields.split(";");
  const m = VALUE_RE.exec(valueField);
  if (!m || label === "" || rest.some((r) => r !== "")) return undefined;
  if (
    ![warn, crit].every((r) => r === "" || RANGE_RE.test(r)) ||
    ![min, max].every((n) => n === "" || NUMBER_RE.test(n))
  )
    return undefined;
  const value = m[1] === "U" ? undefined : Number(m[1]);
  if (value !== undefined && !Number.isFinite(value)) return undefined;
  return {
    label,
    value,
    unit: m[2] ?? "",
    ...(warn !== "" ? { warn: threshold(warn) } : {}),
    ...(crit !== "" ? { crit: threshold(crit) } : {}),
    ...(min !== "" ? { min: Number(min) } : {}),
    ...(max !== "" ? { max: Number(max) } : {}),
  };
}

/** The items of a perfdata text, and the pieces that are not items. */
export function parsePerfdata(text: string): { items: PerfItem[]; malformed: string[] } {
  const items: PerfItem[] = [];
  const malformed: string[] = [];
  let at = 0;
  for (;;) {
    REST_IS_BLANK_RE.lastIndex = at;
    if (REST_IS_BLANK_RE.test(text)) break;
    ITEM_RE.lastIndex = at;
    const m = ITEM_RE.exec(text);
    const item = m ? parseItem(m[1] !== undefined ? m[1].replaceAll("''", "'") : (m[2] ?? ""), m[3] ?? "") : undefined;
    if (item) {
      items.push(item);
      at = ITEM_RE.lastIndex;
      continue;
    }
    // Skip the bad piece only, so that one bad item does not hide the good ones after it.
    if (!m) {
      TOKEN_RE.lastIndex = at;
      TOKEN_RE.exec(text);
    }
    const end = m ? ITEM_RE.lastIndex : TOKEN_RE.lastIndex;
    malformed.push(clip(text.slice(at, end).trim(), 80));
    at = end;
  }
  return { items, malformed };
}

interface NagiosOutput {
  text: string;
  longText: string;
  perfdata: string;
}

/** Splits Nagios output into the first line's text, the long text, and all the perfdata. */
export function splitNagiosOutput(lines: string[]): NagiosOutput {
  const [first = "", ...later] = lines;
  const bar = first.indexOf("|");
  const text = (bar < 0 ? first : first.slice(0, bar)).trim();
  const perf = bar < 0 ? [] : [first.slice(bar + 1)];
  const longLines: string[] = [];
  let inPerf = false;
  for (const line of later) {
    if (inPerf) {
      perf.push(line);
      continue;
    }
    const laterBar = line.indexOf("|");
    if (laterBar < 0) {
      longLines.push(line);
      continue;
    }
    // From the first "|" of the long text on, everything is perfdata (the protocol's rule).
    longLines.push(line.slice(0, laterBar));
    perf.push(line.slice(laterBar + 1));
    inPerf = true;
  }
  return { text, longText: longLines.join("\n").trim(), perfdata: perf.join(" ") };
}

// `name value [unit]`, or Munin's `name.value N` (Munin writes "U" for "no value").
const PLAIN_RE = new RegExp(`^\\s*([A-Za-z0-9_][\\w.:/-]{0,199})\\s+(${NUMBER})(?:\\s+([^\\s|=]{1,32}))?\\s*$`);
const MUNIN_RE = new RegExp(`^\\s*([A-Za-z0-9_][\\w-]{0,199})\\.value\\s+(${NUMBER}|U)\\s*$`);

interface PlainLine {
  name: string;
  value?: number;
  unit: string;
}

/** The lines as plain records, or undefined when some line has another form. */
export function parsePlainLines(lines: string[]): PlainLine[] | undefined {
  const parsed: PlainLine[] = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    const munin = MUNIN_RE.exec(line);
    if (munin) {
      parsed.push({ name: munin[1]!, value: munin[2] === "U" ? undefined : Number(munin[2]), unit: "" });
      continue;
    }
    const plain = PLAIN_RE.exec(line);
    if (!plain || !Number.isFinite(Number(plain[2]))) return undefined;
    parsed.push({ name: plain[1]!, value: Number(plain[2]), unit: plain[3] ?? "" });
  }
  return parsed.length > 0 ? parsed : undefined;
}

/** Output as text, or undefined when it is not text (invalid UTF-8, control characters). */
function decodeText(stdout: Uint8Array | string): string | undefined {
  let text: string;
  try {
    text = typeof stdout === "string" ? stdout : new TextDecoder("utf-8", { fatal: true }).decode(stdout);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

function statusRecord(plugin: string, status: number, details: Record<string, unknown>): PluginRecord {
  return {
    metric_type: `${plugin}_status`,
    value: status,
    unit: "state",
    details: { status: STATUS_NAMES[status], ...details },
  };
}

/** One record per value (metric_type = plugin name, labels.label), plus the `<plugin>_status` record. */
export function readPluginOutput(plugin: string, run: PluginRun): PluginReading {
  const problems: string[] = [];
  if (run.failure) problems.push(run.failure);
  const exitCode = run.exitCode;
  const verdict = exitCode !== undefined && exitCode >= 0 && exitCode <= 3 ? exitCode : undefined;
  if (exitCode !== undefined && verdict === undefined)
    problems.push(`exit code ${exitCode} is not a plugin status (0-3)`);

  // A killed plugin's partial output is not trusted (only its status record is kept); a cut one is
  // read without its last, partial line rather than store a truncated number.
  const usable = run.failure === undefined || run.truncated === true;
  const decoded = usable ? decodeText(run.stdout) : "";
  if (decoded === undefined) problems.push("output is not text");
  const lines = (decoded ?? "").split(/\r?\n/);
  if (run.truncated) lines.pop();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  if (usable && decoded !== undefined && lines.length === 0) problems.push("no output");

  const records: PluginRecord[] = [];
  const statusDetails: Record<string, unknown> = {};
  const skipped: string[] = [];
  const seen = new Set<string>();
  // "U" (no value), values the store would refuse (a percentage past 100) and repeated labels are
  // left out: one record per series and run.
  const add = (label: string, value: number | undefined, unit: string, details?: Record<string, unknown>) => {
    if (value === undefined || valueProblem(value, unit) || seen.has(label)) {
      skipped.push(label);
      return;
    }
    seen.add(label);
    records.push({ metric_type: plugin, value, unit, labels: { label }, ...(details ? { details } : {}) });
  };

  const plain = parsePlainLines(lines);
  if (plain) {
    for (const line of plain) add(line.name, line.value, line.unit);
  } else if (lines.length > 0) {
    const { text, longText, perfdata } = splitNagiosOutput(lines);
    const { items, malformed } = parsePerfdata(perfdata);
    if (malformed.length > 0) {
      problems.push(`malformed performance data: ${malformed.join(" ")}`);
      statusDetails.malformed = malformed;
    }
    const clipped = clip(text, MAX_TEXT);
    for (const { label, value, unit, ...limits } of items) add(label, value, unit, { ...limits, text: clipped });
    statusDetails.text = clipped;
    if (longText) statusDetails.long_text = clip(longText, MAX_LONG_TEXT);
  }
  if (skipped.length > 0) statusDetails.skipped = skipped;

  const problem = problems.length > 0 ? problems.join("; ") : undefined;
  if (problem) {
    statusDetails.reason = problem;
    if (verdict !== undefined) statusDetails.plugin_status = STATUS_NAMES[verdict];
  }
  if (exitCode !== undefined) statusDetails.exit_code = exitCode;
  records.push(statusRecord(plugin, problem ? UNKNOWN : (verdict ?? UNKNOWN), statusDetails));
  return { records, problem };
}
