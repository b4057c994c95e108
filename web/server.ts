import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import serveStatic from "serve-static";
import type { Logger } from "../lib/log.js";
import { basicAuthGate, type AuthGateOptions } from "./auth.js";
import { WebConfig, type WebSettings } from "./config.js";
import { healthzRoute, type Route } from "./routes.js";

export type ConnectionLimits = Pick<
  WebSettings,
  "max_connections" | "max_connections_per_client" | "headers_timeout" | "request_timeout" | "keep_alive_timeout"
>;

export interface WebServerOptions {
  publicDir: string;
  log: Logger;
  auth?: { user: string; password_hash: string };
  /** Tests count the password checks through this. */
  authOptions?: AuthGateOptions;
  routes?: readonly Route[];
  /** Default: the config's defaults. */
  limits?: ConnectionLimits;
  /** Awaited before a file of public/ is served (pages-on-request.ts draws stale pages there). */
  beforeFile?: (pathname: string) => Promise<void>;
}

/**
 * The client a request or connection comes from, for the per-client caps: an IPv4 address, or the
 * /64 network of an IPv6 one (one host usually holds a whole /64, so single addresses cost nothing).
 */
export function clientOf(address: string | undefined): string {
  if (!address) return "?";
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  const [head = "", tail] = address.split("%", 1)[0]!.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** No script anywhere: the pages are static HTML, CSS and SVG images. */
const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
};

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/**
 * Why a request path is refused, or undefined when it may be looked up in public/. Checked on the
 * raw request line, before any library normalises it: "..", encoded or not, and dot-files
 * (.git, the publisher's temporaries) never reach the file system.
 */
export function refusePath(rawUrl: string): { status: number; reason: string } | undefined {
  if (!rawUrl.startsWith("/")) return { status: 400, reason: "bad request target" };
  const pathname = rawUrl.split(/[?#]/, 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, reason: "bad encoding" };
  }
  if (/[\0\\]/.test(decoded)) return { status: 400, reason: "bad path" };
  const segments = decoded.split("/");
  if (segments.includes("..")) return { status: 400, reason: "path traversal" };
  if (segments.some((s) => s.startsWith("."))) return { status: 404, reason: "not found" };
  return undefined;
}

/** ams-web's request handler as an http.Server: the routes table, then the files of public/. */
export function createWebServer(options: WebServerOptions): http.Server {
  const routes = options.routes ?? [healthzRoute];
  const checkAuth = options.auth ? basicAuthGate(options.auth, options.authOptions) : undefined;
  const limits = options.limits ?? WebConfig.parse({});
  const files = serveStatic(options.publicDir, {
    dotfiles: "ignore",
    index: ["index.html"],
    redirect: false,
    fallthrough: true,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url = req.url ?? "/";
    const refused = refusePath(url);
    if (refused) {
      sendText(res, refused.status, refused.reason);
      return;
    }
    const method = req.method === "HEAD" ? "GET" : req.method;
    const pathname = url.split(/[?#]/, 1)[0]!;
    const route = routes.find((r) => r.path === pathname && r.method === method);
    if (checkAuth && !route?.public) {
      const verdict = await checkAuth(req.headers.authorization, clientOf(req.socket.remoteAddress));
      if (!verdict.ok && verdict.status === 401) {
        sendText(res, 401, "authentication required", { "WWW-Authenticate": 'Basic realm="AMS", charset="UTF-8"' });
        return;
      }
      if (!verdict.ok) {
        const text = verdict.status === 429 ? "too many failed logins: retry later" : "busy: retry later";
        sendText(res, verdict.status, text, { "Retry-After": String(verdict.retryAfterSeconds) });
        return;
      }
    }
    if (route) return route.handler(req, res);
    if (method !== "GET") {
      sendText(res, 405, "method not allowed", { Allow: "GET, HEAD" });
      return;
    }
    await options.beforeFile?.(pathname);
    files(req, res, (err?: unknown) => {
      if (err) {
        const status = (err as { statusCode?: number }).statusCode ?? 500;
        sendText(res, status, status === 500 ? "internal error" : "not found");
      } else sendText(res, 404, "not found");
    });
  }

  // Half-sent and idle connections are reaped within a second of their timeout (Node's default
  // check runs every 30 s), so a client cannot hold connections open for free.
  const server = http.createServer(
    {
      headersTimeout: limits.headers_timeout * 1000,
      requestTimeout: limits.request_timeout * 1000,
      keepAliveTimeout: limits.keep_alive_timeout * 1000,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      const started = performance.now();
      res.on("finish", () => {
        // The URL is quoted: a request line cannot write lines of its own into the log.
        options.log.info(
          `${req.socket.remoteAddress ?? "?"} ${req.method} ${JSON.stringify(req.url)} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
        );
      });
      handle(req, res).catch((err: unknown) => {
        options.log.error(`${req.method} ${JSON.stringify(req.url)}: ${(err as Error).message}`);
        if (!res.headersSent) sendText(res, 500, "internal error");
        else res.destroy();
      });
    },
  );
  // Connections past the total cap are closed by Node before any byte is read; past one client's
  // own cap, here. Both stay far below the file limit, so the server can always accept.
  server.maxConnections = limits.max_connections;
  const perClient = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const client = clientOf(socket.remoteAddress);
    const open = (perClient.get(client) ?? 0) + 1;
    if (open > limits.max_connections_per_client) {
      socket.destroy();
      return;
    }
    perClient.set(client, open);
    socket.once("close", () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    });
  });
  return server;
}
