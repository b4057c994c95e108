import http from "node:http";
import type { AddressInfo } from "node:net";

/** A request a test receiver got: the raw body as sent, and parsed when it is JSON. */
export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  json: unknown;
}

/** An HTTP server on loopback standing in for a chat service or a webhook receiver. */
export interface TestReceiver {
  port: number;
  url: (path: string) => string;
  received: Received[];
  /** What it answers: a status per request (default 200). */
  answer: (request: Received) => number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<TestReceiver> {
  const receiver: TestReceiver = {
    port: 0,
    url: (p) => `http://127.0.0.1:${receiver.port}${p}`,
    received: [],
    answer: () => 200,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      const request: Received = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw, json };
      const status = receiver.answer(request);
      if (status < 300) receiver.received.push(request);
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(status < 300 ? { ok: true } : { ok: false, error_code: status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.port = (server.address() as AddressInfo).port;
  return receiver;
}
