import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config/ams-config.js";
import type { Paths } from "../lib/paths.js";
import { readFiringAlerts } from "../storage/alert-state.js";
import { metricsHandler } from "./metrics.js";

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

export const healthzRoute: Route = { method: "GET", path: "/healthz", handler: healthz, public: true };

/** The endpoints ams-web answers itself for a data home; adding one is one line here. */
export function amsRoutes(paths: Paths, config: Config): Route[] {
  const firingAlerts = () => readFiringAlerts(paths);
  return [healthzRoute, { method: "GET", path: "/metrics", handler: metricsHandler(paths, config, { firingAlerts }) }];
}
