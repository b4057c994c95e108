import type { Sample } from "./sample.js";

/**
 * A stored value with its unit as people read it, the same in pages, mails, `ams-alert list` and
 * the CLI: "23.4 %", "1.5 MiB/s", "3 d 4 h", "45.0 °C", "CRITICAL". One table of units, one formatter.
 */

const NAGIOS_STATES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** At most `decimals` decimals, trailing zeros dropped: 0.5, 12, 3.14. */
function plain(value: number, decimals = 2): string {
  const factor = 10 ** decimals;
  // A value too large to scale (1e308) is shown as it is, never as "Infinity".
  return Number.isFinite(value * factor) ? String(Math.round(value * factor) / factor) : String(value);
}

/** 1536 → "1.5 KiB", as `free -h` and `df -h` print sizes. */
function bytes(value: number): string {
  let scaled = value;
  let step = 0;
  while (Math.abs(scaled) >= 1024 && step < IEC.length - 1) {
    scaled /= 1024;
    step++;
  }
  return `${step === 0 ? plain(scaled, 0) : plain(scaled, 1)} ${IEC[step]}`;
}

/** 273600 → "3 d 4 h", 125 → "2 min 5 s": the two largest parts, as uptime reads. */
function duration(seconds: number): string {
  if (Math.abs(seconds) < 60) return `${plain(seconds, 1)} s`;
  const parts: [number, string][] = [
    [Math.floor(seconds / 86400), "d"],
    [Math.floor((seconds % 86400) / 3600), "h"],
    [Math.floor((seconds % 3600) / 60), "min"],
    [Math.floor(seconds % 60), "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n} ${u}`)
    .join(" ");
}

const FORMATS: Record<string, (value: number) => string> = {
  "%": (v) => `${plain(v, 1)} %`,
  count: (v) => plain(v),
  "": (v) => plain(v),
  B: bytes,
  "B/s": (v) => `${bytes(v)}/s`,
  "/s": (v) => `${plain(v)} /s`,
  s: duration,
  "°C": (v) => `${v.toFixed(1)} °C`,
  state: (v) => NAGIOS_STATES[v] ?? plain(v),
  event: () => "",
};

/** The value with its unit; an unknown unit (a plugin's own) is printed after the number. */
export function formatValue(value: number, unit: string): string {
  const format = Object.hasOwn(FORMATS, unit) ? FORMATS[unit]! : (v: number) => `${plain(v)} ${unit}`;
  return format(value);
}

/** One readable line per sample: "CPU 23.4 % on web-1", "Disk / 24 % on web-1". */
export function formatSample(sample: Sample): string {
  if (sample.metric_type === "CERT") {
    const { title, link } = sample.details ?? {};
    return `CERT ${String(title)} <${String(link)}> on ${sample.server_id}`;
  }
  const labels = Object.values(sample.labels ?? {});
  const value = formatValue(sample.value, sample.unit);
  return `${[sample.metric_type, ...labels].join(" ")}${value ? ` ${value}` : ""} on ${sample.server_id}`;
}
