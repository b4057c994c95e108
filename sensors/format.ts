import { formatValue } from "../storage/format-value.js";
import type { Sample } from "../storage/sample.js";

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
