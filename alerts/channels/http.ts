import { createHmac } from "node:crypto";
import { z } from "zod";
import { ConfigError } from "../../lib/config.js";
import { durationUpTo } from "../../lib/duration.js";
import { readSecret } from "../../lib/secret.js";
import { EnvName } from "../config.js";
import type { Channel, ChannelContext, Notification } from "./channel.js";

/** What the HTTP channels share: the receiver's URL (or its secret form), a timeout, POSTing JSON and judging the answer. */

/** A receiver's answer other than 2xx. The message names the status only, never the URL (it may hold a token). */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    text: string,
  ) {
    super(`HTTP ${status}${text ? `: ${text}` : ""}`);
  }
}

/** Worth retrying: no answer at all (down, timeout), 408, 429 (rate limited) or 5xx. Any other 4xx would be refused again. */
export function httpRetryable(err: unknown): boolean {
  if (!(err instanceof HttpError)) return true;
  return err.status === 408 || err.status === 429 || err.status >= 500;
}

/** POSTs a JSON text; resolves to the status and the start of the answer, throws HttpError on a non-2xx one. */
export async function postJson(
  url: string,
  text: string,
  options: { timeoutSeconds: number; headers?: Record<string, string> },
): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "AMS", ...options.headers },
      body: text,
      signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
      redirect: "error",
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    throw new Error(cause?.message ? `${(err as Error).message}: ${cause.message}` : (err as Error).message, {
      cause: err,
    });
  }
  const answer = (await response.text()).replace(/\s+/g, " ").trim().slice(0, 200);
  if (!response.ok) throw new HttpError(response.status, answer);
  return `HTTP ${response.status}${answer ? ` ${answer}` : ""}`;
}

/** `sha256=<hex>` of the body with the secret, as the X-AMS-Signature header carries it. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

const HttpUrl = z.url({ protocol: /^https?$/ });

/** The receiver's URL in the config, or (when it holds a token) in an environment variable or an owner-only file. */
export const urlKeys = {
  url: HttpUrl.optional(),
  url_env: EnvName.optional(),
  url_file: z.string().min(1).optional(),
  timeout: durationUpTo(600, { above: true }).default(10),
};

export function oneUrl(c: { url?: string; url_env?: string; url_file?: string }, ctx: z.RefinementCtx): void {
  const given = [c.url, c.url_env, c.url_file].filter((v) => v !== undefined).length;
  if (given !== 1)
    ctx.addIssue({ code: "custom", path: ["url"], message: "set exactly one of url, url_env, url_file" });
}

/** The check that an optional secret is given as `<key>_env` or as `<key>_file`, not both: `.refine(...notBoth(key))`. */
export function notBoth(key: string): [(c: Record<string, unknown>) => boolean, { path: string[]; message: string }] {
  return [
    (c) => !(c[`${key}_env`] && c[`${key}_file`]),
    { path: [`${key}_file`], message: `set ${key}_env or ${key}_file, not both` },
  ];
}

/** A secret from `<key>_env` / `<key>_file` of a channel's config. */
export function channelSecret(
  context: ChannelContext,
  key: string,
  c: { env?: string; file?: string },
): string | undefined {
  return readSecret({ key: `alerts.channels.${context.name}.${key}`, env: c.env, file: c.file }, context);
}

export function channelUrl(context: ChannelContext, c: { url?: string; url_env?: string; url_file?: string }): URL {
  const text = c.url ?? channelSecret(context, "url", { env: c.url_env, file: c.url_file })!;
  const parsed = HttpUrl.safeParse(text.trim());
  if (!parsed.success)
    throw new ConfigError(`alerts.channels.${context.name}.url: not an http(s) URL (from ${c.url_env ?? c.url_file})`);
  return new URL(parsed.data);
}

/**
 * A channel that POSTs `body(notification)` as JSON to `url`; `headers` may depend on the exact
 * text sent (a signature). Its target names the service and the host, never the path (it may hold a token).
 */
export function postingChannel(
  service: string,
  url: URL,
  timeoutSeconds: number,
  body: (n: Notification) => unknown,
  headers?: (text: string) => Record<string, string> | undefined,
): Channel {
  return {
    target: `${service} ${url.host}`,
    deliver: (n) => {
      const text = JSON.stringify(body(n));
      return postJson(url.href, text, { timeoutSeconds, headers: headers?.(text) });
    },
  };
}
