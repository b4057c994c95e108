import { z } from "zod";
import { durationUpTo } from "../lib/duration.js";

/** `ams-web hash-password` output: scrypt$N$r$p$salt$hash (base64). */
export const PASSWORD_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

/** The `web` section of ams.config.json. */
export const WebConfig = z
  .strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(5050),
    /** HTTP basic authentication; off when absent. */
    auth: z
      .strictObject({
        user: z
          .string()
          .min(1)
          .regex(/^[^:]+$/, "a user name cannot hold ':'"),
        password_hash: z.string().regex(PASSWORD_HASH, "expected the output of `ams-web hash-password`"),
      })
      .optional(),
    /**
     * Draw the pages when one is requested and its data changed since the last drawing (so cron
     * need not run ams-graphs); off when another web server serves public/ and cron draws them.
     */
    draw_on_request: z.boolean().default(true),
    /** Open connections at most, well under the process's file limit (ulimit -n, often 1024). */
    max_connections: z.number().int().min(1).max(10000).default(256),
    /** Open connections of one client address at most: one client cannot take every slot. */
    max_connections_per_client: z.number().int().min(1).max(10000).default(32),
    /** A client must have sent its request headers within this; a half-sent request is dropped after it. */
    headers_timeout: durationUpTo(600, { above: true }).default(10),
    /** A client must have sent its whole request within this. */
    request_timeout: durationUpTo(3600, { above: true }).default(30),
    /** An idle kept-alive connection is closed after this. */
    keep_alive_timeout: durationUpTo(600, { above: true }).default(5),
  })
  .superRefine((web, ctx) => {
    if (web.headers_timeout > web.request_timeout)
      ctx.addIssue({ code: "custom", path: ["headers_timeout"], message: "must be at most request_timeout" });
    if (web.max_connections_per_client > web.max_connections)
      ctx.addIssue({
        code: "custom",
        path: ["max_connections_per_client"],
        message: "must be at most max_connections",
      });
  })
  .prefault({});

export type WebSettings = z.infer<typeof WebConfig>;
