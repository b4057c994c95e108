import { z } from "zod";
import { ServerName } from "../lib/server-name-config.js";
import { durationUpTo } from "../lib/duration.js";

/**
 * The `remotes` and `fetch` config sections: which servers ams-fetch-remote pulls and how.
 * Every value that ends up on scp's command line is restricted to characters that can be read
 * neither as an option (no leading "-") nor as a shell word (no spaces, quotes, `;`, `$`, ...),
 * because the remote side of scp may still hand the path to a shell (legacy protocol).
 */

/** Where the remote's store is, relative to the remote user's home: an AMS install cloned as ~/AMS. */
export const DEFAULT_REMOTE_PATH = "AMS/storage/system_logs.json";

const word = (what: string, pattern: RegExp) =>
  z.string().regex(pattern, `expected ${what}, not starting with '-' (no spaces, quotes or shell characters)`);

/** A DNS name, an IPv4 address or an IPv6 address (without brackets). */
const Host = z.union([word("a host name or address", /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/), z.ipv6()], {
  error: "expected a host name or address, not starting with '-' (no spaces, quotes or shell characters)",
});

const User = word("a user name", /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/);

const RemotePath = word(
  "a file path of letters, digits and '/', '.', '_', '+', '-', '~'",
  /^[A-Za-z0-9_./~+][A-Za-z0-9_./~+-]{0,1023}$/,
);

/** A local file given to ssh as an option value: whitespace would split it into several files. */
const LocalFile = z.string().regex(/^[^\s"'\\]+$/, "expected a file path without spaces, quotes or backslashes");

export const RemoteConfig = z.strictObject({
  /** The server's name in AMS: its copy is storage/remote/<name>_logs.json. */
  name: ServerName,
  host: Host,
  user: User,
  port: z.number().int().min(1).max(65535).default(22),
  path: RemotePath.default(DEFAULT_REMOTE_PATH),
  /** Private key file; relative to AMS_HOME. Default: ssh's own keys. */
  identity: LocalFile.optional(),
  /**
   * Servers whose records this remote may relay besides its own (a remote that pulls others). Any
   * other record naming a server is skipped: a remote cannot speak for the hub or for its peers.
   */
  may_speak_for: z.array(ServerName).max(1000).default([]),
});

export type Remote = z.infer<typeof RemoteConfig>;

export const RemotesConfig = z
  .array(RemoteConfig)
  .default([])
  .superRefine((remotes, ctx) => {
    const seen = new Set<string>();
    remotes.forEach((remote, index) => {
      if (seen.has(remote.name))
        ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate remote name "${remote.name}"` });
      seen.add(remote.name);
    });
  });

export const FetchConfig = z
  .strictObject({
    /** Remotes pulled at the same time. */
    concurrency: z.number().int().min(1).max(64).default(8),
    /** ssh's ConnectTimeout: TCP connect and the SSH banner. */
    connect_timeout: durationUpTo(600, { above: true }).default(10),
    /** Whole copy of one server; the copy is killed after it. */
    timeout: durationUpTo(3600, { above: true }).default(60),
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /** known_hosts file, relative to AMS_HOME. Default: ssh's own (~/.ssh/known_hosts). */
    known_hosts: LocalFile.optional(),
    /** Trust and remember the key of a host seen for the first time (StrictHostKeyChecking=accept-new). */
    accept_new_host: z.boolean().default(false),
    /**
     * How long an unused ssh connection stays open for the next run (ControlPersist, shared-connection.ts):
     * a little longer than the fetch period; 0 opens a new connection for every pull.
     */
    keep_connections: durationUpTo(3600).default(300),
  })
  .prefault({});

export type FetchSettings = z.infer<typeof FetchConfig>;
