import type { IncomingMessage, ServerResponse } from "node:http";
import { firingAlerts } from "../alerts/run-state.js";
import type { Config } from "../lib/config.js";
import type { Paths } from "../lib/paths.js";
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
  const firing = async () =>
    (await firingAlerts(paths.stateDir)).map((a) => ({
      rule: a.rule,
      server: a.server_id,
      severity: a.severity,
      labels: a.labels,
      silenced: a.silenced === true,
    }));
  return [
    healthzRoute,
    { method: "GET", path: "/metrics", handler: metricsHandler(paths, config, { firingAlerts: firing }) },
  ];
}
