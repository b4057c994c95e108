import { compareAdvisories, type Advisory } from "../storage/advisory.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, type Sensor } from "./sensor.js";

// A CERT-FR feed is some tens of KiB: anything far larger is not a feed, and is not read whole.
export const MAX_FEED_BYTES = 4 * 1024 * 1024;

/** The body as text, refused past `max` bytes without reading the rest. */
async function boundedText(response: Response, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let part = await reader?.read(); part && !part.done; part = await reader!.read()) {
    size += part.value.byteLength;
    if (size > max) {
      await reader!.cancel();
      throw new Error(`the answer is larger than ${max} bytes: not a feed`);
    }
    chunks.push(part.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function fetchFeed(url: string, timeoutSeconds: number): Promise<Advisory[]> {
  let body: string;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
      headers: { "user-agent": "ams-sensor" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    body = await boundedText(response, MAX_FEED_BYTES);
  } catch (err) {
    const reason =
      (err as Error).name === "TimeoutError"
        ? `no answer within ${timeoutSeconds} s`
        : ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
    throw new Error(`${url}: cannot fetch: ${reason}`, { cause: err });
  }
  // The XML parser is loaded here, not at start-up: the other sensors never need it.
  const { parseCertFeed } = await import("./cert-feed.js");
  try {
    return parseCertFeed(body);
  } catch (err) {
    throw new Error(`${url}: ${(err as Error).message}`, { cause: err });
  }
}

export const cert: Sensor = {
  name: "cert",
  description: "New CERT-FR security advisories from the configured RSS feeds",
  metrics: [
    // An advisory is an event, not a measurement: no chart, no /metrics family.
    metricEntry({
      metric_type: "CERT",
      title: "CERT",
      kind: "event",
      unit: "advisory",
      help: "A new CERT-FR advisory.",
      labels: [],
      prometheus: null,
      chart: null,
    }),
  ],
  async collect(ctx) {
    const { feeds, timeout } = ctx.config.sensors.cert;
    const { feedName } = await import("./cert-feed.js");
    // All feeds or nothing: a half-read set of feeds would store a misleading "latest".
    const lists = await Promise.all(
      feeds.map(async (url) => ({ feed: feedName(url), advisories: await fetchFeed(url, timeout) })),
    );
    const advisories = lists.flatMap(({ feed, advisories }) => advisories.map((a) => ({ ...a, feed })));
    advisories.sort(compareAdvisories);
    return advisories.map((a) => makeSample(ctx, "CERT", 1, "advisory", { details: { ...a } }));
  },
  dedupeKey: (sample) => (typeof sample.details?.link === "string" ? sample.details.link : undefined),
};
