import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { jest } from "@jest/globals";
import { execa } from "execa";
import { loadConfig } from "../config/ams-config.js";
import { amsPaths } from "../lib/paths.js";
import { readFleet } from "../storage/fleet.js";
import { closeSharedConnections, sharedConnectionsDir } from "../remote/shared-connection.js";
import { appendJsonArray, formatJsonArray, updateJsonArray } from "../storage/locked-file.js";
import { checkCopy, noteKeptCopy } from "../remote/checked-copy.js";
import { RemoteConfig } from "../remote/config.js";
import { pullTail } from "../remote/tail-pull.js";
import { readStoreSince } from "../storage/store-tail.js";
import { readPullStatus } from "../storage/pull-status.js";
import { fixture, runCli, tempHome, writeConfig } from "./helpers.js";
import { startSshd, type TestSshd } from "./support/sshd.js";

// ams-fetch-remote against a real sshd on loopback serving remote AMS stores. Each test runs the
// CLI a few times, each run a few scp logins: allow for a loaded machine.
jest.setTimeout(90_000);

const record = (server_id: string | undefined, metric_type: string, value: number, minute: number) => ({
  ...(server_id ? { server_id } : {}),
  metric_type,
  timestamp: `2026-11-25T14:${String(minute).padStart(2, "0")}:00.000+01:00`,
  value,
  unit: metric_type === "Processes" ? "count" : "%",
});

let sshd: TestSshd;
let stores: string;
/** Every data home a test made: their shared ssh connections are closed at the end. */
const homes: string[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  stores = path.join(sshd.dir, "stores");
  fs.mkdirSync(stores);
});

afterAll(async () => {
  for (const home of homes) await closeSharedConnections(amsPaths(home));
  await sshd?.stop();
});

/** Puts a store on the "remote" server and returns its path there. */
function serve(name: string, content: unknown): string {
  const file = path.join(stores, `${name}.json`);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

function remote(name: string, remotePath: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    host: sshd.host,
    user: sshd.user,
    port: sshd.port,
    path: remotePath,
    identity: sshd.identity,
    ...extra,
  };
}

function homeWith(remotes: unknown[], fetch: Record<string, unknown> = {}): string {
  const home = tempHome();
  homes.push(home);
  writeConfig(home, {
    server_id: "hub",
    remotes,
    fetch: { known_hosts: sshd.knownHosts, connect_timeout: 2, timeout: 10, ...fetch },
  });
  return home;
}

const copyOf = (home: string, name: string) => path.join(home, "storage", "remote", `${name}_logs.json`);

async function fleetOf(home: string) {
  const paths = amsPaths(home);
  return readFleet(paths, loadConfig(paths.config));
}

interface TcpFake {
  port: number;
  close(): Promise<void>;
}

/** A loopback TCP server on a free port; `onConnection` registers every socket it opens so close() ends them all. */
async function tcpFake(onConnection: (socket: net.Socket, track: (s: net.Socket) => void) => void): Promise<TcpFake> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => void sockets.add(socket);
  const server = net.createServer((socket) => {
    track(socket);
    onConnection(socket, track);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return { port, close };
}

/** A TCP port that accepts connections and never says anything, like a firewalled or hung sshd. */
const silentPort = () => tcpFake(() => undefined);

/**
 * A TCP proxy to the test sshd that stops passing the server's bytes after `limit` of them: the
 * login completes, then the copy of a larger file hangs, like a link that dies mid-transfer.
 */
const stallingProxy = (target: number, limit: number) =>
  tcpFake((client, track) => {
    const upstream = net.connect(target, "127.0.0.1");
    track(upstream);
    let passed = 0;
    client.on("data", (data) => upstream.write(data));
    upstream.on("data", (data) => {
      const room = Math.max(0, limit - passed);
      passed += data.length;
      if (room > 0) client.write(data.subarray(0, room));
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });

/** A loopback TCP proxy to the port `target()` names when a connection opens: a host whose address may lead elsewhere. */
const forwardingProxy = (target: () => number) =>
  tcpFake((client, track) => {
    const upstream = net.connect(target(), "127.0.0.1");
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });

/** Logins the server accepted so far. */
const logins = (server: TestSshd) =>
  (fs.readFileSync(path.join(server.dir, "sshd.log"), "utf8").match(/Accepted publickey/g) ?? []).length;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("ams-fetch-remote", () => {
  test("a pull brings every remote's records in, tagged with the remote's name when they lack one", async () => {
    const web2 = serve("web-2", [record("web-2", "CPU", 10, 0), record("web-2", "RAM", 20, 0)]);
    const web3 = serve("web-3", [record(undefined, "CPU", 30, 1), record("", "Processes", 99, 1), { junk: true }]);
    const home = homeWith([remote("web-2", web2), remote("web-3", web3)]);

    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("web-2: 2 records");
    expect(result.stdout).toContain("web-3: 2 records");

    const fleet = await fleetOf(home);
    expect(fleet.samples.map((s) => `${s.server_id} ${s.metric_type} ${s.value}`).sort()).toEqual([
      "web-2 CPU 10",
      "web-2 RAM 20",
      "web-3 CPU 30",
      "web-3 Processes 99",
    ]);
    expect(fleet.sources.map((s) => s.name)).toEqual(["local", "web-2", "web-3"]);

    const status = await readPullStatus(amsPaths(home));
    expect(status["web-2"]).toMatchObject({ records: 2 });
    expect(status["web-2"]!.last_success).toBe(status["web-2"]!.last_attempt);
    expect(status["web-2"]!.last_error).toBeUndefined();
    expect(fs.readFileSync(path.join(home, "logs", "fetch-remote.log"), "utf8")).toMatch(
      /INFO web-3: pulled 2 records .*1 unreadable skipped/,
    );
    expect(fs.readdirSync(path.join(home, "storage", "remote")).sort()).toEqual(["web-2_logs.json", "web-3_logs.json"]);
  });

  test("a copy that is truncated, not JSON, not an array, has no valid record or is too large keeps the last good copy", async () => {
    // No server_id: each copy's records are its remote's (a remote speaks for itself only).
    const good = [record(undefined, "CPU", 1, 0), record(undefined, "RAM", 2, 0), record(undefined, "Disk", 3, 0)];
    const names = ["truncated", "html", "object", "foreign", "huge"];
    const files = Object.fromEntries(names.map((n) => [n, serve(n, good)]));
    const home = homeWith(
      names.map((n) => remote(n, files[n]!)),
      { max_bytes: 4096 },
    );
    expect((await runCli("ams-fetch-remote", ["--home", home])).exitCode).toBe(0);
    const before = Object.fromEntries(names.map((n) => [n, fs.readFileSync(copyOf(home, n), "utf8")]));
    const firstStatus = await readPullStatus(amsPaths(home));

    const full = JSON.stringify(Array.from({ length: 20 }, (_, i) => record("x", "CPU", i, i)));
    serve("truncated", full.slice(0, Math.floor(full.length / 2))); // a copy cut short mid-record
    serve("html", "<html><body>502 Bad Gateway</body></html>");
    serve("object", { server_id: "x", metric_type: "CPU" });
    serve("foreign", [{ hello: "world" }, 42]);
    serve("huge", JSON.stringify(Array.from({ length: 200 }, (_, i) => record("x", "CPU", i, i % 60))));

    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.exitCode).toBe(1);
    for (const n of names) expect(fs.readFileSync(copyOf(home, n), "utf8")).toBe(before[n]);

    const status = await readPullStatus(amsPaths(home));
    expect(status.truncated!.last_error).toMatch(/not valid JSON/);
    expect(status.html!.last_error).toMatch(/not valid JSON/);
    expect(status.object!.last_error).toMatch(/not a JSON array/);
    expect(status.foreign!.last_error).toMatch(/no valid AMS records \(2 unreadable\)/);
    expect(status.huge!.last_error).toMatch(/larger than fetch.max_bytes \(4096 bytes\)/);
    for (const n of names) {
      expect(status[n]!.last_success).toBe(firstStatus[n]!.last_success);
      expect(status[n]!.records).toBe(3);
      expect(result.stderr).toContain(`${n}: pull failed`);
    }
    expect(fs.readFileSync(path.join(home, "logs", "fetch-remote.log"), "utf8")).toMatch(
      /ERROR truncated: pull failed .*keeping the last good copy/,
    );
    expect(fs.readdirSync(path.join(home, "storage", "remote")).filter((f) => f.includes(".part"))).toEqual([]);
    expect((await fleetOf(home)).samples).toHaveLength(15);

    // The dashboard still draws the last good copies, and says which pulls failed and why.
    expect(
      (await runCli("ams-graphs", ["--home", home], { env: { AMS_NOW: "2026-11-25T15:00:00+01:00" } })).exitCode,
    ).toBe(0);
    const index = fs.readFileSync(path.join(home, "public", "index.html"), "utf8");
    const row = /<tr><td><bdi>truncated<\/bdi><\/td>.*?<\/tr>/.exec(index)?.[0];
    expect(row).toMatch(/not valid JSON/);
    expect(row).toMatch(/<time datetime="[^"]+">/); // last good copy
    expect(fs.readdirSync(path.join(home, "public", "data", "truncated"))).toContain("CPU-24h.csv");
  });

  test("a remote on a dead or silent port, or stalling mid-copy, fails within its own timeout while the others are pulled", async () => {
    const silent = await silentPort();
    // The login (a few KB) gets through, the 1 MB store does not.
    const proxy = await stallingProxy(sshd.port, 256 * 1024);
    const big = serve(
      "big",
      Array.from({ length: 10_000 }, (_, i) => record("big", "CPU", i, i % 60)),
    );
    try {
      const store = serve("alive", [record(undefined, "CPU", 5, 0)]);
      const home = homeWith(
        [
          remote("refused", store, { port: await closedPort() }),
          remote("hung", store, { port: silent.port }),
          remote("stalled", big, { port: proxy.port }),
          remote("alive", store),
          remote("alive-2", store),
        ],
        { connect_timeout: 3, timeout: 8, concurrency: 2, known_hosts: "known_hosts" },
      );
      const proxyLine = sshd.knownHostsLine.replace(`:${sshd.port} `, `:${proxy.port} `);
      fs.writeFileSync(path.join(home, "known_hosts"), `${sshd.knownHostsLine}\n${proxyLine}\n`);
      const result = await runCli("ams-fetch-remote", ["--home", home]);
      expect(result.exitCode).toBe(1);
      const status = await readPullStatus(amsPaths(home));
      expect(status.refused!.last_error).toMatch(/Connection refused/);
      expect(status.hung!.last_error).toMatch(/timed out/);
      expect(status.stalled!.last_error).toBe("timed out after 8 s");
      expect(status.refused!.last_success).toBeUndefined();
      expect(status.alive!.last_error).toBeUndefined();
      expect(status["alive-2"]!.records).toBe(1);
      expect(result.stdout).toMatch(
        /^refused: FAILED .*\nhung: FAILED .*\nstalled: FAILED .*\nalive: 1 records .*\nalive-2: 1 records/,
      );
      expect(fs.existsSync(copyOf(home, "refused"))).toBe(false);
    } finally {
      await proxy.close();
      await silent.close();
    }
  });

  test("an unknown host key is refused unless --accept-new-host, which remembers it", async () => {
    const store = serve("newhost", [record("newhost", "CPU", 5, 0)]);
    const home = homeWith([remote("newhost", store)], { known_hosts: "known_hosts" });
    const knownHosts = path.join(home, "known_hosts");
    fs.writeFileSync(knownHosts, "");

    const refused = await runCli("ams-fetch-remote", ["--home", home]);
    expect(refused.exitCode).toBe(1);
    expect((await readPullStatus(amsPaths(home))).newhost!.last_error).toMatch(/Host key verification failed/);

    const accepted = await runCli("ams-fetch-remote", ["--home", home, "--accept-new-host"]);
    expect(accepted.exitCode).toBe(0);
    // ssh may hash the names it adds (Debian's HashKnownHosts yes): look the host up as ssh does.
    expect(
      (await execa("ssh-keygen", ["-F", `[127.0.0.1]:${sshd.port}`, "-f", knownHosts], { reject: false })).exitCode,
    ).toBe(0);
    // Remembered: the next run checks strictly again and passes.
    expect((await runCli("ams-fetch-remote", ["--home", home])).exitCode).toBe(0);

    // A host whose key changed is refused even with --accept-new-host, though a connection checked
    // against the earlier known_hosts is still open.
    expect(fs.readdirSync(sharedConnectionsDir(amsPaths(home)))).toHaveLength(1);
    fs.writeFileSync(
      knownHosts,
      sshd.knownHostsLine.replace(
        /ssh-ed25519 \S+/,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
      ),
    );
    const changed = await runCli("ams-fetch-remote", ["--home", home, "--accept-new-host"]);
    expect(changed.exitCode).toBe(1);
    expect((await readPullStatus(amsPaths(home))).newhost!.last_error).toMatch(/Host key verification failed/);
  });

  test("later runs reuse the open ssh connection; a copy like the last is left alone, one that grew is kept", async () => {
    const served = serve("grows", formatJsonArray([record("grows", "CPU", 1, 0), record("grows", "RAM", 2, 0)]));
    const home = homeWith([remote("grows", served)]);
    const pull = () => runCli("ams-fetch-remote", ["--home", home]);
    expect((await pull()).exitCode).toBe(0);
    const loginsBefore = logins(sshd);

    // The remote's sensors append (the second time in place, the closing "]" turned into ",").
    await appendJsonArray(served, [record("grows", "CPU", 3, 2)]);
    await appendJsonArray(served, [record("grows", "CPU", 4, 4), record("grows", "RAM", 5, 4)]);
    const grown = await pull();
    expect(grown.exitCode).toBe(0);
    expect(grown.stdout).toContain("grows: 5 records");
    expect(fs.readFileSync(copyOf(home, "grows"), "utf8")).toBe(fs.readFileSync(served, "utf8"));
    expect((await fleetOf(home)).samples.map((s) => s.value)).toEqual([1, 2, 3, 4, 5]);
    const marked = (await readStoreSince(copyOf(home, "grows"), undefined)).mark;

    // Grown again in place: the copy is extended in place too, byte for byte, so its readers read only what was added.
    const grownCopy = fs.statSync(copyOf(home, "grows"));
    await appendJsonArray(served, [record("grows", "CPU", 6, 6)]);
    expect((await pull()).stdout).toContain("grows: 6 records");
    expect(fs.readFileSync(copyOf(home, "grows"), "utf8")).toBe(fs.readFileSync(served, "utf8"));
    expect(fs.statSync(copyOf(home, "grows")).ino).toBe(grownCopy.ino);
    const read = await readStoreSince(copyOf(home, "grows"), marked);
    expect(read).toMatchObject({ from: "tail", records: [record("grows", "CPU", 6, 6)] });
    expect((await fleetOf(home)).samples.map((s) => s.value)).toEqual([1, 2, 3, 4, 5, 6]);

    const before = fs.statSync(copyOf(home, "grows"));
    const same = await pull();
    expect(same.stdout).toContain("grows: 6 records");
    const after = fs.statSync(copyOf(home, "grows"));
    expect([after.ino, after.mtimeMs, after.ctimeMs]).toEqual([before.ino, before.mtimeMs, before.ctimeMs]);
    expect((await readPullStatus(amsPaths(home))).grows).toMatchObject({ records: 6 });
    expect(logins(sshd)).toBe(loginsBefore);

    // Switched off: every pull logs in, and no connection is left open.
    const off = homeWith([remote("grows", served)], { keep_connections: 0 });
    for (let i = 0; i < 2; i++) expect((await runCli("ams-fetch-remote", ["--home", off])).exitCode).toBe(0);
    expect(logins(sshd)).toBe(loginsBefore + 2);
    expect(fs.existsSync(sharedConnectionsDir(amsPaths(off)))).toBe(false);
  });

  test("a sockets folder other users could write to is not used: the pull goes on unshared, with a warning", async () => {
    const home = homeWith([remote("open-dir", serve("open-dir", [record(undefined, "CPU", 1, 0)]))]);
    const dir = sharedConnectionsDir(amsPaths(home));
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o777);
    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/ssh connections not shared this run: .* is writable by other users \(mode 777\)/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("a host whose address leads to another server: the open connection still reaches the checked one, the next hour's is refused", async () => {
    const other = await startSshd(); // its own host key
    let target = sshd.port;
    const proxy = await forwardingProxy(() => target);
    try {
      const home = homeWith([remote("moved", serve("moved", [record(undefined, "CPU", 5, 0)]), { port: proxy.port })], {
        known_hosts: "known_hosts",
      });
      fs.writeFileSync(
        path.join(home, "known_hosts"),
        `${sshd.knownHostsLine.replace(`:${sshd.port} `, `:${proxy.port} `)}\n`,
      );
      const at = (hour: number) => ({ env: { AMS_NOW: `2026-11-25T${10 + hour}:30:00Z` } });
      expect((await runCli("ams-fetch-remote", ["--home", home], at(0))).exitCode).toBe(0);

      // From now on the address leads to another server (a re-installed host, or someone who took the address).
      target = other.port;
      const sameHour = await runCli("ams-fetch-remote", ["--home", home], at(0));
      expect(sameHour.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(other.dir, "sshd.log"), "utf8")).not.toContain("Connection from");

      // No connection serves for more than its hour: the next one checks the key, which is not the known one.
      const nextHour = await runCli("ams-fetch-remote", ["--home", home], at(1));
      expect(nextHour.exitCode).toBe(1);
      expect((await readPullStatus(amsPaths(home))).moved!.last_error).toMatch(/Host key verification failed/);
      expect(fs.readFileSync(path.join(other.dir, "sshd.log"), "utf8")).toContain("Connection from");
      expect(fs.readdirSync(sharedConnectionsDir(amsPaths(home)))).toEqual([]);
    } finally {
      await proxy.close();
      await other.stop();
    }
  });

  test("a remote that never answered: no copy claimed, counted from its first attempt, listed on the pages, silent after silent_after", async () => {
    const store = serve("answers", [record("answers", "CPU", 5, 0)]);
    const home = homeWith([remote("never", store, { port: await closedPort() }), remote("answers", store)]);
    const first = await runCli("ams-fetch-remote", ["--home", home]);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toMatch(
      /^ams-fetch-remote: never: pull failed after [\d.]+ s, no copy pulled yet: .*Connection refused/,
    );
    expect(first.stderr).not.toContain("last good copy");
    const firstAttempt = (await readPullStatus(amsPaths(home))).never!.first_attempt!;
    await runCli("ams-fetch-remote", ["--home", home]);
    const status = (await readPullStatus(amsPaths(home))).never!;
    expect(status.first_attempt).toBe(firstAttempt);
    expect(status.last_attempt > firstAttempt).toBe(true);
    expect(status.last_success).toBeUndefined();

    const at = (minutes: number) => ({ AMS_NOW: new Date(Date.parse(firstAttempt) + minutes * 60_000).toISOString() });
    const serversRow = () => {
      const index = fs.readFileSync(path.join(home, "public", "index.html"), "utf8");
      return /<article class="card[^"]*"><h3><a href="servers\/never\.html">.*?<\/article>/.exec(index)?.[0];
    };
    expect((await runCli("ams-graphs", ["--home", home], { env: at(10) })).exitCode).toBe(0);
    expect(serversRow()).toMatch(/status-waiting">waiting<.*No copy received yet\..*Last pull: /);
    expect((await runCli("ams-graphs", ["--home", home], { env: at(31) })).exitCode).toBe(0);
    expect(serversRow()).toMatch(/status-never">never reported<.*No copy received yet\./);

    const alertAt = async (minutes: number) =>
      (await runCli("ams-alert", ["--home", home, "check"], { env: at(minutes) })).stdout;
    expect(await alertAt(29)).not.toContain("server_silent/never");
    expect(await alertAt(31)).toContain("FIRED [critical] server_silent/never: never silent for 31 min");
  });

  test("temporary files of a run stopped before it could remove them are removed by the next run; a running one's are not", async () => {
    const store = serve("leftover", [record("leftover", "CPU", 5, 0)]);
    const home = homeWith([remote("leftover", store)]);
    const remoteDir = path.join(home, "storage", "remote");
    fs.mkdirSync(remoteDir, { recursive: true });
    const exited = execa("true");
    const dead = exited.pid!;
    await exited;
    const names = [
      `leftover_logs.json.part-${dead}`,
      `leftover_logs.json.part-${dead}.errors`,
      `gone_logs.json.part-${dead}`,
      `leftover_logs.json.part-${process.pid}`,
    ];
    for (const name of names) fs.writeFileSync(path.join(remoteDir, name), "x");
    expect((await runCli("ams-fetch-remote", ["--home", home])).exitCode).toBe(0);
    expect(fs.readdirSync(remoteDir).sort()).toEqual(["leftover_logs.json", `leftover_logs.json.part-${process.pid}`]);
  });

  test("a local failure (storage/remote not a folder) is each remote's error, and every status is saved", async () => {
    const store = serve("local-fail", [record("local-fail", "CPU", 5, 0)]);
    const home = homeWith([remote("one", store), remote("two", store)]);
    fs.mkdirSync(path.join(home, "storage"), { recursive: true });
    fs.writeFileSync(path.join(home, "storage", "remote"), "not a folder");
    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^one: FAILED .*EEXIST.*\ntwo: FAILED /);
    const status = await readPullStatus(amsPaths(home));
    expect(Object.keys(status).sort()).toEqual(["one", "two"]);
    expect(status.one!.last_error).toMatch(/EEXIST/);
  });

  test("bad remotes in the config stop the command, naming the key", async () => {
    const home = homeWith([remote("ok", "/x"), remote("ok", "/y")]);
    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('remotes.1.name: duplicate remote name "ok"');
  });
});

describe("ams-fetch-remote pulls only what a remote appended", () => {
  /** `count` CPU records of `name`, one a minute from the `first`th minute of the day. */
  const minutely = (name: string, first: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      ...record(name, "CPU", (first + i) % 100, 0),
      timestamp: new Date(Date.UTC(2026, 10, 25) + (first + i) * 60_000).toISOString(),
    }));

  /** A store of `count` records, as the remote's own writer leaves it after appending once (so its next append is in place). */
  async function grownStore(name: string, count: number): Promise<string> {
    const served = serve(name, formatJsonArray([record(name, "CPU", 0, 0)]));
    await appendJsonArray(served, minutely(name, 1, count - 1));
    return served;
  }

  /** A loopback proxy to the test sshd that hands `pass` each chunk the server sends (to write to the client). */
  const serverProxy = (pass: (data: Buffer, client: net.Socket, upstream: net.Socket) => void) =>
    tcpFake((client, track) => {
      const upstream = net.connect(sshd.port, "127.0.0.1");
      track(upstream);
      client.pipe(upstream);
      upstream.on("data", (data: Buffer) => pass(data, client, upstream));
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });

  /** A proxy to the test sshd counting the bytes the server sends, and a known_hosts file naming it. */
  let proxy: TcpFake & { sent: number };
  let proxyKnownHosts: string;
  beforeAll(async () => {
    let sent = 0;
    const fake = await serverProxy((data, client) => {
      sent += data.length;
      client.write(data);
    });
    proxy = Object.defineProperty(fake, "sent", { get: () => sent }) as TcpFake & { sent: number };
    proxyKnownHosts = path.join(sshd.dir, "proxy_known_hosts");
    fs.writeFileSync(proxyKnownHosts, `${sshd.knownHostsLine.replace(`:${sshd.port} `, `:${proxy.port} `)}\n`);
  });
  afterAll(() => proxy?.close());

  /** What `action` gave, and the bytes the server sent meanwhile. */
  async function sentDuring<T>(action: () => Promise<T>): Promise<[T, number]> {
    const before = proxy.sent;
    const result = await action();
    return [result, proxy.sent - before];
  }

  /** The last line the job logged about `name`'s pull. */
  const pullLine = (home: string, name: string) =>
    fs
      .readFileSync(path.join(home, "logs", "fetch-remote.log"), "utf8")
      .split("\n")
      .filter((line) => line.includes(` ${name}: `))
      .at(-1);

  /** Pulls once: `name` is pulled whole for `reason`, with `records` records, its copy then the remote's very bytes. */
  async function pullsWhole(home: string, name: string, served: string, records: number, reason: string) {
    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`${name}: ${records} records`);
    expect(pullLine(home, name)).toContain(`(whole copy: ${reason})`);
    expect(fs.readFileSync(copyOf(home, name))).toEqual(fs.readFileSync(served));
  }

  test("a store appended to is pulled by its tail and the copy grows in place; unchanged, the copy is left alone", async () => {
    const served = await grownStore("tail", 2000);
    const size = fs.statSync(served).size;
    expect(size).toBeGreaterThan(200_000);
    const home = homeWith([remote("tail", served, { port: proxy.port })], { known_hosts: proxyKnownHosts });
    const pull = () => runCli("ams-fetch-remote", ["--home", home]);
    const [first, firstSent] = await sentDuring(pull);
    expect(first.exitCode).toBe(0);
    expect(firstSent).toBeGreaterThan(size);
    expect(pullLine(home, "tail")).toContain("(whole copy: no last good copy to extend)");
    const copy = fs.statSync(copyOf(home, "tail"));

    const added = minutely("tail", 2000, 2);
    await appendJsonArray(served, added);
    // The overlap of 4 KiB before the last copy's closing line, the new lines, the session's own bytes.
    const [grown, grownSent] = await sentDuring(pull);
    expect(grownSent).toBeLessThan(16_384);
    expect(grown.exitCode).toBe(0);
    expect(grown.stdout).toContain("tail: 2002 records");
    // "\n,\n", the new lines and "\n]\n": one byte more than the same lines as a whole array.
    const tailBytes = 4096 + Buffer.byteLength(formatJsonArray(added)) + 1;
    expect(pullLine(home, "tail")).toContain(`(only the new bytes: ${tailBytes} fetched)`);
    expect(fs.readFileSync(copyOf(home, "tail"))).toEqual(fs.readFileSync(served));
    expect(fs.statSync(copyOf(home, "tail")).ino).toBe(copy.ino);
    expect((await fleetOf(home)).samples.slice(-2).map((s) => s.value)).toEqual([0, 1]);
    expect(fs.readdirSync(path.dirname(copyOf(home, "tail"))).filter((name) => name.includes(".part-"))).toEqual([]);

    const before = fs.statSync(copyOf(home, "tail"));
    const [same, sameSent] = await sentDuring(pull);
    expect(sameSent).toBeLessThan(16_384);
    expect(same.stdout).toContain("tail: 2002 records");
    expect(pullLine(home, "tail")).toContain(`(only the new bytes: ${4096 + 3} fetched)`);
    const after = fs.statSync(copyOf(home, "tail"));
    expect([after.ino, after.mtimeMs, after.ctimeMs]).toEqual([before.ino, before.mtimeMs, before.ctimeMs]);
  });

  test("a store rewritten since (smaller, or as large with other bytes before the last copy's end) is copied whole", async () => {
    const served = await grownStore("rewritten", 500);
    const home = homeWith([remote("rewritten", served)]);
    const pull = () => runCli("ams-fetch-remote", ["--home", home]);
    expect((await pull()).exitCode).toBe(0);

    // Cleanup drops the older records and rewrites the store, smaller than the part the tail would skip.
    await updateJsonArray(served, (records) => records.slice(400));
    await pullsWhole(home, "rewritten", served, 100, "shorter than the last copy");

    // The same size, one value changed just before the closing line: only the overlap tells.
    const bytes = fs.readFileSync(served);
    const at = bytes.lastIndexOf('"value":');
    const edited = Buffer.from(bytes);
    edited[at + 8] = edited[at + 8] === 0x39 ? 0x38 : edited[at + 8]! + 1;
    fs.writeFileSync(served, edited);
    await pullsWhole(home, "rewritten", served, 100, "changed before the last copy's end");
  });

  test("an edit far before the last copy's end that keeps the store's length is caught by the hourly whole copy", async () => {
    const served = await grownStore("edited", 500);
    const home = homeWith([remote("edited", served)]);
    const start = Date.now();
    const pullAt = (minutes: number) =>
      runCli("ams-fetch-remote", ["--home", home], {
        env: { AMS_NOW: new Date(start + minutes * 60_000).toISOString() },
      });
    expect((await pullAt(0)).exitCode).toBe(0);

    // A sensor run appended in place, and the second record's value was changed in place (a hand edit, a restore).
    await appendJsonArray(served, minutely("edited", 500, 1));
    const bytes = fs.readFileSync(served);
    const at = bytes.indexOf('"value":', bytes.indexOf('"value":') + 1) + 8;
    bytes[at] = bytes[at] === 0x39 ? 0x38 : bytes[at]! + 1;
    fs.writeFileSync(served, bytes);
    // Within the hour only the bytes near the end are compared: the copy gains the new record, the edit stays unseen.
    expect((await pullAt(30)).exitCode).toBe(0);
    expect(pullLine(home, "edited")).toContain("(only the new bytes: ");
    expect(fs.readFileSync(copyOf(home, "edited"))).not.toEqual(fs.readFileSync(served));
    // An hour after its last whole comparison the store is copied whole: the copy is the remote's bytes again.
    expect((await pullAt(61)).exitCode).toBe(0);
    expect(pullLine(home, "edited")).toContain("(whole copy: compared whole once an hour)");
    expect(fs.readFileSync(copyOf(home, "edited"))).toEqual(fs.readFileSync(served));
    // Then the tail again: its note now says when it was compared whole.
    expect((await pullAt(62)).exitCode).toBe(0);
    expect(pullLine(home, "edited")).toContain(`(only the new bytes: ${4096 + 3} fetched)`);
    expect(fs.readFileSync(copyOf(home, "edited"))).toEqual(fs.readFileSync(served));
  });

  test("an append still being written on the remote: the copy holds the records before it, then the whole append", async () => {
    const served = await grownStore("torn", 50);
    const home = homeWith([remote("torn", served)]);
    const pull = () => runCli("ams-fetch-remote", ["--home", home]);
    expect((await pull()).exitCode).toBe(0);

    // The writer's first step: the new lines and a new closing line past the old one, not yet the "," that makes them count.
    const whole = fs.readFileSync(served);
    const newLines = `${JSON.stringify(record("torn", "CPU", 99, 9))}\n]\n`;
    fs.writeFileSync(served, Buffer.concat([whole, Buffer.from(newLines)]));
    await pullsWhole(home, "torn", served, 50, "not records appended since the last copy");

    // Finished: the old "]" turned into ",".
    const finished = fs.readFileSync(served);
    finished[whole.length - 2] = 0x2c;
    fs.writeFileSync(served, finished);
    const done = await pull();
    expect(done.stdout).toContain("torn: 51 records");
    expect(fs.readFileSync(copyOf(home, "torn"))).toEqual(finished);
    expect((await fleetOf(home)).samples.at(-1)!.value).toBe(99);
  });

  test("a server without SFTP, or a store gone, fails clearly and keeps the last good copy", async () => {
    const served = await grownStore("nosftp", 20);
    const home = homeWith([remote("nosftp", served)], { known_hosts: "known_hosts" });
    fs.writeFileSync(path.join(home, "known_hosts"), `${sshd.knownHostsLine}\n`);
    expect((await runCli("ams-fetch-remote", ["--home", home])).exitCode).toBe(0);
    const kept = fs.readFileSync(copyOf(home, "nosftp"));

    const other = await startSshd({ noSftp: true });
    try {
      fs.appendFileSync(path.join(home, "known_hosts"), `${other.knownHostsLine}\n`);
      writeConfig(home, {
        server_id: "hub",
        remotes: [remote("nosftp", served, { port: other.port, identity: other.identity })],
        fetch: { known_hosts: "known_hosts", connect_timeout: 2, timeout: 10 },
      });
      await appendJsonArray(served, [record("nosftp", "CPU", 1, 1)]);
      const refused = await runCli("ams-fetch-remote", ["--home", home]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout).toMatch(/nosftp: FAILED .*sftp failed \(exit 255\): Connection closed/);
      expect(fs.readFileSync(copyOf(home, "nosftp"))).toEqual(kept);
      expect((await readPullStatus(amsPaths(home))).nosftp).toMatchObject({ records: 20 });
    } finally {
      await other.stop();
    }

    // Back on a server with SFTP, the store gone: the whole copy is tried, and says why it failed.
    writeConfig(home, {
      server_id: "hub",
      remotes: [remote("nosftp", served)],
      fetch: { known_hosts: "known_hosts", connect_timeout: 2, timeout: 10 },
    });
    fs.rmSync(served);
    const gone = await runCli("ams-fetch-remote", ["--home", home]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stdout).toMatch(/nosftp: FAILED .*scp failed \(exit 1\): .*No such file/);
    expect(fs.readFileSync(copyOf(home, "nosftp"))).toEqual(kept);
  });

  test("fetch.timeout bounds the whole pull: a slow tail that shows a rewritten store leaves the whole copy only the time left", async () => {
    // 100 KB/s from the server: the tail of the rewritten store takes about 5 s, its whole copy about 6 s.
    const rate = 100_000;
    const slow = await serverProxy((data, client, upstream) => {
      client.write(data);
      upstream.pause();
      setTimeout(() => upstream.resume(), (data.length / rate) * 1000);
    });
    try {
      const served = await grownStore("slow", 1000);
      expect(fs.statSync(served).size).toBeLessThan(120_000);
      const knownHosts = path.join(sshd.dir, "slow_known_hosts");
      fs.writeFileSync(knownHosts, `${sshd.knownHostsLine.replace(`:${sshd.port} `, `:${slow.port} `)}\n`);
      const home = homeWith([remote("slow", served, { port: slow.port })], { known_hosts: knownHosts, timeout: 8 });
      const pull = () => runCli("ams-fetch-remote", ["--home", home]);
      expect((await pull()).exitCode).toBe(0);
      const kept = fs.readFileSync(copyOf(home, "slow"));

      // Rewritten (not appended in place) with five times as many records: the tail pull brings it, then finds it rewritten.
      await updateJsonArray(served, (records) => [...records, ...minutely("slow", 1000, 5000)]);
      expect(fs.statSync(served).size).toBeGreaterThan(550_000);
      const late = await pull();
      expect(late.exitCode).toBe(1);
      expect(late.stdout).toMatch(/^slow: FAILED \(\d+(\.\d+)? s\): timed out after 8 s$/m);
      expect(Number(/FAILED \((\S+) s\)/.exec(late.stdout)![1])).toBeLessThan(10);
      expect(fs.readFileSync(copyOf(home, "slow"))).toEqual(kept);
      // The tail showed the store rewritten: the next pull copies it whole at once, in time.
      expect((await pull()).exitCode).toBe(0);
      expect(pullLine(home, "slow")).toContain("(whole copy: no last good copy to extend)");
      expect(fs.readFileSync(copyOf(home, "slow"))).toEqual(fs.readFileSync(served));
    } finally {
      await slow.close();
    }
  });

  test("an account that may only use SFTP (no shell, no command) is pulled, by its tail once it has a copy", async () => {
    const sftpOnly = await startSshd({ sftpOnly: true });
    try {
      const denied = await execa(
        "ssh",
        [...sftpOnly.sshOptions, "-p", String(sftpOnly.port), "root@127.0.0.1", "true"],
        {
          reject: false,
          timeout: 10_000,
        },
      );
      expect(denied.exitCode).not.toBe(0);
      const served = await grownStore("sftponly", 200);
      const home = homeWith([remote("sftponly", served, { port: sftpOnly.port, identity: sftpOnly.identity })], {
        known_hosts: sftpOnly.knownHosts,
      });
      const pull = () => runCli("ams-fetch-remote", ["--home", home]);
      expect((await pull()).stdout).toContain("sftponly: 200 records");
      await appendJsonArray(served, minutely("sftponly", 200, 1));
      const grown = await pull();
      expect(grown.stdout).toContain("sftponly: 201 records");
      expect(pullLine(home, "sftponly")).toContain("(only the new bytes: ");
      expect(fs.readFileSync(copyOf(home, "sftponly"))).toEqual(fs.readFileSync(served));
    } finally {
      await closeSharedConnections(amsPaths(homes.at(-1)!));
      await sftpOnly.stop();
    }
  });

  test("a remote path with spaces, quotes, backslashes and glob characters reaches that very file", async () => {
    const dir = path.join(stores, "odd [dir]*?");
    fs.mkdirSync(dir);
    const name = 'st"o\\re #1.json';
    const served = path.join(dir, name);
    fs.writeFileSync(served, formatJsonArray([record("odd", "CPU", 1, 0)]));
    await appendJsonArray(served, minutely("odd", 1, 1999));
    // What the path read as a pattern would match instead.
    fs.mkdirSync(path.join(stores, "odd dx"));
    fs.writeFileSync(path.join(stores, "odd dx", name), formatJsonArray([record("decoy", "CPU", 1, 0)]));
    const home = homeWith([remote("odd", "x")], { known_hosts: proxyKnownHosts });
    const kept = path.join(home, "kept.json");
    fs.copyFileSync(served, kept);
    // Paths like this one cannot be configured (remote/config.ts), but sftp must still be given them right.
    const oddRemote = { ...RemoteConfig.parse(remote("odd", "x", { port: proxy.port })), path: served };
    const note = (await noteKeptCopy(kept, await checkCopy(oddRemote, kept, kept, undefined)))!;
    const added = minutely("odd", 2000, 1)[0]!;
    await appendJsonArray(served, [added]);
    const ctx = { paths: amsPaths(home), fetch: loadConfig(amsPaths(home).config).fetch };
    const temp = path.join(home, 'part [1]* "x" \\.tmp');
    const [pulled, sent] = await sentDuring(() => pullTail(oddRemote, ctx, kept, temp, note));
    // The overlap, then "\n,\n", the new line and "\n]\n".
    expect(pulled).toEqual({
      checked: expect.objectContaining({ checked: "added records", counts: { records: 2001, skipped: 0 } }),
      bytes: 4096 + Buffer.byteLength(JSON.stringify(added)) + 6,
    });
    expect(sent).toBeLessThan(16_384);
    expect(fs.statSync(served).size).toBeGreaterThan(200_000);
  });
});

describe("ams-fetch-remote from a server running the original Python AMS", () => {
  let userSshd: TestSshd;
  beforeAll(async () => {
    userSshd = await startSshd({ createUser: true });
  });
  afterAll(async () => {
    for (const home of homes) await closeSharedConnections(amsPaths(home));
    await userSshd?.stop();
  });

  test("its store at the default path is pulled and read with the remote's name", async () => {
    const storeDir = path.join(userSshd.home, "AMS", "storage");
    fs.mkdirSync(storeDir, { recursive: true });
    fs.copyFileSync(fixture("original-ams-store.json"), path.join(storeDir, "system_logs.json"));
    await execa("chown", ["-R", userSshd.user, path.join(userSshd.home, "AMS")]);
    const home = tempHome();
    homes.push(home);
    writeConfig(home, {
      server_id: "hub",
      remotes: [
        { name: "serverb", host: userSshd.host, user: userSshd.user, port: userSshd.port, identity: userSshd.identity },
      ],
      fetch: { known_hosts: userSshd.knownHosts },
    });

    const result = await runCli("ams-fetch-remote", ["--home", home]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);

    const fleet = await fleetOf(home);
    const serverb = fleet.samples.filter((s) => s.server_id === "serverb");
    expect(serverb.map((s) => `${s.metric_type} ${s.value} ${s.unit}`)).toEqual([
      "CPU 12.5 %",
      "RAM 41 %",
      "Disk 63 %",
      "Processes 187 count",
      "CPU 97.1 %",
      "CERT 1 advisory",
    ]);
    expect(new Date(serverb[4]!.timestamp).getTime()).toBe(new Date(2025, 3, 18, 14, 2, 0).getTime());
    expect(serverb[5]!.details).toMatchObject({ link: "https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0321/" });

    // ... and charted: its own page, with a CPU line drawn from the original's records.
    const graphs = await runCli("ams-graphs", ["--home", home], {
      env: { AMS_NOW: new Date(2025, 3, 18, 15, 0, 0).toISOString() },
    });
    expect(graphs.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(home, "public", "index.html"), "utf8")).toContain('href="servers/serverb.html"');
    const page = fs.readFileSync(path.join(home, "public", "servers", "serverb.html"), "utf8");
    expect(page).toMatch(/<figure class="chart-figure" id="CPU">[\s\S]*?<path class="data-line c0" d="M[^"]+L/);
  });
});
