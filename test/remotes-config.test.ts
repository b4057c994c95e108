import { parseConfig } from "../config/ams-config.js";
import { ConfigError } from "../lib/config.js";
import { amsPaths } from "../lib/paths.js";
import { scpCommand } from "../remote/copy-command.js";
import { sharedConnectionsDir, socketPath, type Sharing } from "../remote/shared-connection.js";

const base = { name: "web-2", host: "web-2.example.org", user: "ams" };

describe("remotes config", () => {
  test("defaults", () => {
    const config = parseConfig({ remotes: [base] }, "cfg.json");
    expect(config.remotes).toEqual([{ ...base, port: 22, path: "AMS/storage/system_logs.json", may_speak_for: [] }]);
    expect(config.fetch).toEqual({
      concurrency: 8,
      connect_timeout: 10,
      timeout: 60,
      max_bytes: 64 * 1024 * 1024,
      accept_new_host: false,
      keep_connections: 300,
    });
    expect(parseConfig({}, "cfg.json").remotes).toEqual([]);
  });

  test.each([
    [{ name: "-oProxyCommand=x" }, "remotes.0.name: expected letters"],
    [{ name: "web 2" }, "remotes.0.name"],
    [{ name: "../etc" }, "remotes.0.name"],
    [{ host: "-oProxyCommand=touch /tmp/x" }, "remotes.0.host: expected a host name or address"],
    [{ host: "web-2;reboot" }, "remotes.0.host"],
    [{ host: "web 2" }, "remotes.0.host"],
    [{ host: "$(reboot)" }, "remotes.0.host"],
    [{ user: "-l" }, "remotes.0.user: expected a user name"],
    [{ user: "ams'x" }, "remotes.0.user"],
    [{ user: 'a"b' }, "remotes.0.user"],
    [{ path: "-r /" }, "remotes.0.path: expected a file path"],
    [{ path: "AMS/storage/x.json; rm -rf ~" }, "remotes.0.path"],
    [{ path: "`reboot`" }, "remotes.0.path"],
    [{ port: 70000 }, "remotes.0.port"],
    [{ identity: "/keys/my key" }, "remotes.0.identity: expected a file path without spaces"],
    [{ bogus: 1 }, "remotes.0.bogus: unknown key"],
  ])("%j is refused, naming the key", (change, message) => {
    const raw = { remotes: [{ ...base, ...change }] };
    expect(() => parseConfig(raw, "cfg.json")).toThrow(ConfigError);
    expect(() => parseConfig(raw, "cfg.json")).toThrow(message);
  });

  test("addresses and unusual but safe values are accepted", () => {
    const remotes = [
      { ...base, name: "v4", host: "192.0.2.7" },
      { ...base, name: "v6", host: "2001:db8::7" },
      { ...base, name: "abs", path: "/srv/ams/storage/system_logs.json", user: "svc_ams.1" },
    ];
    expect(parseConfig({ remotes }, "cfg.json").remotes.map((r) => r.host)).toEqual([
      "192.0.2.7",
      "2001:db8::7",
      "web-2.example.org",
    ]);
  });

  test("remote names are unique", () => {
    expect(() => parseConfig({ remotes: [base, { ...base, host: "other" }] }, "cfg.json")).toThrow(
      'remotes.1.name: duplicate remote name "web-2"',
    );
  });

  test("may_speak_for holds server names only", () => {
    const config = parseConfig({ remotes: [{ ...base, may_speak_for: ["web-9", "db.1"] }] }, "cfg.json");
    expect(config.remotes[0]!.may_speak_for).toEqual(["web-9", "db.1"]);
    expect(() => parseConfig({ remotes: [{ ...base, may_speak_for: ["hub\nX"] }] }, "cfg.json")).toThrow(
      "remotes.0.may_speak_for.0: expected letters",
    );
    expect(() => parseConfig({ remotes: [{ ...base, may_speak_for: "hub" }] }, "cfg.json")).toThrow(
      "remotes.0.may_speak_for",
    );
  });

  test.each([
    [{ concurrency: 0 }, "fetch.concurrency"],
    [{ timeout: "soon" }, "fetch.timeout: expected a duration"],
    [{ max_bytes: -1 }, "fetch.max_bytes"],
    [{ known_hosts: "my hosts" }, "fetch.known_hosts"],
    [{ accept_new_host: "yes" }, "fetch.accept_new_host"],
    [{ keep_connections: "2h" }, "fetch.keep_connections: expected at least 0s and at most 1h"],
  ])("fetch %j is refused, naming the key", (fetch, message) => {
    expect(() => parseConfig({ fetch }, "cfg.json")).toThrow(message);
  });
});

describe("scp command", () => {
  const paths = amsPaths("/srv/ams-home");
  const fetch = parseConfig(
    { fetch: { connect_timeout: "5s", max_bytes: 1000, known_hosts: "keys/known_hosts" } },
    "cfg.json",
  ).fetch;

  test("options checked strictly, limits set, and the remote after --", () => {
    const remote = parseConfig({ remotes: [{ ...base, port: 2222, identity: "keys/id_ed25519" }] }, "cfg.json")
      .remotes[0]!;
    const { file, args } = scpCommand(remote, { paths, fetch }, "/tmp/copy");
    expect(file).toBe("prlimit");
    expect(args).toEqual([
      "--fsize=1001",
      "scp",
      "-B",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=5",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "UserKnownHostsFile=/srv/ams-home/keys/known_hosts",
      "-P",
      "2222",
      "-i",
      "/srv/ams-home/keys/id_ed25519",
      "-o",
      "IdentitiesOnly=yes",
      "--",
      "ams@web-2.example.org:AMS/storage/system_logs.json",
      "/tmp/copy",
    ]);
  });

  test("a new host is accepted only when asked; IPv6 hosts are bracketed", () => {
    const remote = parseConfig({ remotes: [{ ...base, host: "2001:db8::7" }] }, "cfg.json").remotes[0]!;
    const strict = scpCommand(remote, { paths, fetch }, "/tmp/copy").args;
    expect(strict).toContain("StrictHostKeyChecking=yes");
    expect(strict).toContain("ams@[2001:db8::7]:AMS/storage/system_logs.json");
    expect(scpCommand(remote, { paths, fetch, acceptNewHost: true }, "/tmp/copy").args).toContain(
      "StrictHostKeyChecking=accept-new",
    );
    expect(scpCommand(remote, { paths, fetch: { ...fetch, accept_new_host: true } }, "/tmp/copy").args).toContain(
      "StrictHostKeyChecking=accept-new",
    );
  });
});

describe("shared ssh connections", () => {
  const remote = parseConfig({ remotes: [base] }, "cfg.json").remotes[0]!;
  const sharing = (over: Partial<Sharing> = {}): Sharing => ({
    dir: "/srv/ams/storage/state/ssh",
    trust: "t1",
    keepSeconds: 300,
    now: new Date("2026-11-25T10:05:00Z"),
    ...over,
  });

  test("one socket per remote, trust and hour: any change of either opens a new connection", () => {
    const socket = socketPath(sharing(), remote, undefined);
    expect(socketPath(sharing({ now: new Date("2026-11-25T10:55:00Z") }), remote, undefined)).toBe(socket);
    for (const other of [
      socketPath(sharing({ now: new Date("2026-11-25T11:05:00Z") }), remote, undefined),
      socketPath(sharing({ trust: "t2" }), remote, undefined),
      socketPath(sharing(), { ...remote, name: "web-3" }, undefined),
      socketPath(sharing(), { ...remote, port: 2222 }, undefined),
      socketPath(sharing(), remote, "/srv/ams/keys/id_ed25519"),
    ])
      expect(other).not.toBe(socket);
  });

  test("the options that open or use it; sockets fit a unix socket's path, in /tmp when the data home is deep", () => {
    const socket = socketPath(sharing(), remote, undefined);
    const { args } = scpCommand(
      remote,
      { paths: amsPaths("/srv/ams"), fetch: parseConfig({}, "c").fetch, sharing: sharing() },
      "/tmp/copy",
    );
    expect(args.join(" ")).toContain(`-o ControlMaster=auto -o ControlPath=${socket} -o ControlPersist=300`);
    expect(sharedConnectionsDir(amsPaths("/srv/ams"))).toBe("/srv/ams/storage/state/ssh");
    const deep = sharedConnectionsDir(amsPaths(`/srv/${"very-long-folder-name/".repeat(4)}ams`));
    expect(deep).toMatch(/^\/tmp\/ams-\d+-[0-9a-f]{12}$/);
    expect(socketPath(sharing({ dir: deep }), remote, undefined).length).toBeLessThanOrEqual(90);
  });
});
