import { z } from "zod";
import { NAME_PATTERN } from "./server-name.js";

// Apart from lib/server-name.ts so that the jobs that only read records (ams-sensor, ams-fetch-remote) load no zod.

/** A server's name in the config: server_id, a remote's name and the servers it may speak for. */
export const ServerName = z
  .string()
  .regex(NAME_PATTERN, "expected letters, digits, '-', '_' or '.', not starting with '-' or '.'");
