import { z } from "zod";

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
  })
  .prefault({});
