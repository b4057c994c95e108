import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseConfig } from "../config/ams-config.js";
import { amsPaths } from "../lib/paths.js";
import { amsRoutes, healthzRoute, type Route } from "../web/routes.js";
import { tempHome } from "./helpers.js";

/** Answers every request with the route's handler; resolves with the status, type and body of one GET. */
async function get(route: Route): Promise<{ status: number; type: string | null; body: string }> {
  const server = http.createServer((req, res) => void route.handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${route.path}`);
    return { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("routes of ams-web", () => {
  test("/healthz answers ok, without authentication", async () => {
    expect(healthzRoute).toMatchObject({ method: "GET", path: "/healthz", public: true });
    expect(await get(healthzRoute)).toEqual({ status: 200, type: "text/plain; charset=utf-8", body: "ok\n" });
  });

  test("a data home's table: the health check, and /metrics behind authentication", async () => {
    const home = tempHome();
    const routes = amsRoutes(amsPaths(home), parseConfig({ server_id: "web-1" }, "c.json"));
    expect(routes.map((r) => [r.method, r.path, r.public ?? false])).toEqual([
      ["GET", "/healthz", true],
      ["GET", "/metrics", false],
    ]);
    // A fresh data home: no sample, no alert state yet; only its store, readable (though empty), and
    // the one read of it that this scrape made.
    const metrics = await get(routes[1]!);
    expect(metrics).toMatchObject({ status: 200, type: "text/plain; version=0.0.4; charset=utf-8" });
    expect(metrics.body.split("\n").filter((line) => line !== "" && !line.startsWith("#"))).toEqual([
      'ams_source_readable{server="web-1"} 1',
      "ams_web_store_reads_total 1",
    ]);
  });
});
