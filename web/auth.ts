import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { concurrencyLimit } from "../lib/concurrency.js";

// scrypt cost: about 50 ms and 16 MiB per check on a small server.
const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** The config's `web.auth.password_hash` for a password: scrypt$N$r$p$salt$hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P }, KEY_LENGTH);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const options = { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 };
  const key = await derive(password, Buffer.from(salt, "base64"), options, expected.length);
  return timingSafeEqual(key, expected);
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** What ams-web answers a request for a protected page. */
export type AuthVerdict =
  | { ok: true }
  | { ok: false; status: 401 }
  /** 429: this client failed too often and must wait; 503: too many checks already queued. */
  | { ok: false; status: 429 | 503; retryAfterSeconds: number };

export interface AuthGateOptions {
  /** The password check; tests wrap the real one to count its runs. */
  verify?: (password: string, stored: string) => Promise<boolean>;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

// A client may fail this many logins freely; then it waits a minute, twice as long after each
// further failure, up to an hour. A human who mistyped waits a minute; a guesser gets ~30 tries a day.
const FREE_FAILURES = 5;
const FIRST_WAIT_MS = 60_000;
const MAX_WAIT_MS = 3_600_000;
/** A client's failures are forgotten this long after its last one. */
const FORGET_MS = 24 * 3_600_000;
/** Clients whose failures are remembered (in memory): the oldest is forgotten first. */
const TRACKED_CLIENTS = 10_000;
/** Credentials remembered as verified (by SHA-256 of the header). */
const REMEMBERED = 100;
/** Password checks waiting their turn at most; more are answered 503 without running scrypt. */
const MAX_WAITING_CHECKS = 8;

interface Failures {
  count: number;
  last: number;
  until: number;
}

/**
 * A checker of `Authorization: Basic` headers against one user, safe to expose:
 * - a header that passed once is remembered (by its SHA-256, in memory), so a page showing thirty
 *   charts, or a logged-in user while someone guesses, costs no scrypt at all;
 * - a client (by address) that failed too often is answered 429 without running scrypt;
 * - scrypt (~50 ms, 16 MiB, on libuv's pool of four threads) runs one check at a time, so guesses
 *   from many addresses leave the pool's other threads to file serving; past MAX_WAITING_CHECKS
 *   queued, the answer is 503 without a check.
 */
export function basicAuthGate(
  auth: { user: string; password_hash: string },
  options: AuthGateOptions = {},
): (header: string | undefined, client: string) => Promise<AuthVerdict> {
  const verify = options.verify ?? verifyPassword;
  const now = options.now ?? Date.now;
  const accepted = new Set<string>();
  const failures = new Map<string, Failures>();
  const oneAtATime = concurrencyLimit(1);
  let queued = 0;
  const userDigest = digest(auth.user);

  const check = async (encoded: string): Promise<boolean> => {
    const decoded = Buffer.from(encoded, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), userDigest);
    const passwordOk = await verify(decoded.slice(colon + 1), auth.password_hash);
    return userOk && passwordOk;
  };

  const fail = (client: string, at: number): void => {
    const seen = failures.get(client);
    const count = seen && at - seen.last < FORGET_MS ? seen.count + 1 : 1;
    failures.delete(client); // re-inserted last: the map stays in order of last failure
    if (failures.size >= TRACKED_CLIENTS) failures.delete(failures.keys().next().value!);
    const wait = count < FREE_FAILURES ? 0 : Math.min(FIRST_WAIT_MS * 2 ** (count - FREE_FAILURES), MAX_WAIT_MS);
    failures.set(client, { count, last: at, until: at + wait });
  };

  return async (header, client) => {
    if (header === undefined) return { ok: false, status: 401 };
    const key = digest(header).toString("hex");
    if (accepted.has(key)) return { ok: true };
    const started = now();
    const locked = failures.get(client);
    if (locked && started < locked.until)
      return { ok: false, status: 429, retryAfterSeconds: Math.ceil((locked.until - started) / 1000) };
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) {
      fail(client, started);
      return { ok: false, status: 401 };
    }
    if (queued >= MAX_WAITING_CHECKS) return { ok: false, status: 503, retryAfterSeconds: 1 };
    queued++;
    let ok: boolean;
    try {
      ok = await oneAtATime(() => check(match[1]!));
    } finally {
      queued--;
    }
    if (!ok) {
      fail(client, now());
      return { ok: false, status: 401 };
    }
    failures.delete(client);
    if (accepted.size >= REMEMBERED) accepted.clear();
    accepted.add(key);
    return { ok: true };
  };
}
