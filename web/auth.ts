import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

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

/**
 * A checker of `Authorization: Basic` headers against one user. A header that passed once is
 * remembered (by its SHA-256, in memory) so that a page showing thirty charts costs one scrypt.
 */
export function basicAuthChecker(auth: {
  user: string;
  password_hash: string;
}): (header: string | undefined) => Promise<boolean> {
  const accepted = new Set<string>();
  const userDigest = digest(auth.user);
  return async (header) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
    if (!match) return false;
    const key = digest(match[1]!).toString("hex");
    if (accepted.has(key)) return true;
    const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), userDigest);
    const passwordOk = await verifyPassword(decoded.slice(colon + 1), auth.password_hash);
    if (!userOk || !passwordOk) return false;
    if (accepted.size > 100) accepted.clear();
    accepted.add(key);
    return true;
  };
}
