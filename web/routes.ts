import type { IncomingMessage, ServerResponse } from "node:http";

/** A dynamic endpoint of ams-web; everything else is a file of public/. */
export interface Route {
  method: "GET";
  path: string;
  handler(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** Answered without authentication (a health check reveals nothing). */
  public?: boolean;
}

function healthz(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 3 });
  res.end("ok\n");
}

/**
 * The endpoints ams-web answers itself. Adding one is one line here, e.g.
 * `{ method: "GET", path: "/metrics", handler: prometheusMetrics }`.
 */
export const routes: Route[] = [{ method: "GET", path: "/healthz", handler: healthz, public: true }];
