import type { ActiveAlert } from "../storage/alert-state.js";
import {
  buildDashboard,
  latestAdvisories,
  serverStatus,
  type Dashboard,
  type ServerView,
} from "../graphs/dashboard.js";
import { renderIndexPage, renderServerPage } from "../graphs/pages.js";
import { findRange } from "../graphs/ranges.js";
import type { Sample } from "../storage/sample.js";

const NOW = new Date("2026-11-25T12:00:00Z");
const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
const HOSTILE_SERVER = '"><script>alert(1)</script>';
const HOSTILE_PROCESS = "<img src=x onerror=alert(1)>";

function alert(
  server: string,
  status: ActiveAlert["status"],
  severity: ActiveAlert["severity"],
  minutesAgo: number,
  key = `cpu/${server}`,
): ActiveAlert {
  return {
    key,
    rule: "cpu_high",
    server_id: server,
    metric_type: "CPU",
    unit: "%",
    op: ">",
    threshold: 90,
    for: 600,
    value: 97,
    severity,
    status,
    last_at: at(0),
    since: at(minutesAgo),
  };
}

const DAY = findRange("24h")!;
const indexOf = (dashboard: Dashboard) => renderIndexPage(dashboard, new Map(), [DAY]);
const serverPageOf = (dashboard: Dashboard, server: ServerView) =>
  renderServerPage(dashboard, server, DAY, [DAY], [], new Map());

const samples: Sample[] = [
  { server_id: "web-1", metric_type: "CPU", timestamp: at(1), value: 12.34, unit: "%" },
  { server_id: "old-1", metric_type: "RAM", timestamp: at(120), value: 40, unit: "%" },
  {
    server_id: HOSTILE_SERVER,
    metric_type: "Disk",
    timestamp: at(2),
    value: 24,
    unit: "%",
    labels: { mount: "/<b>" },
    details: { fs_type: "ext4" },
  },
  {
    server_id: HOSTILE_SERVER,
    metric_type: "Processes",
    timestamp: at(2),
    value: 120,
    unit: "count",
    details: {
      top_cpu: [{ pid: 7, name: HOSTILE_PROCESS, cpu_percent: 99, rss_bytes: 1048576 }],
      top_memory: "not a list",
    },
  },
  {
    server_id: "web-1",
    metric_type: "CERT",
    timestamp: at(5),
    value: 1,
    unit: "advisory",
    details: {
      title: "Older <i>",
      link: "https://cert.example/CERTFR-2026-AVI-0001/",
      published: "2026-11-20T10:00:00Z",
      id: "CERTFR-2026-AVI-0001",
    },
  },
  {
    server_id: "web-1",
    metric_type: "CERT",
    timestamp: at(5),
    value: 1,
    unit: "advisory",
    details: { title: "Evil", link: "javascript:alert(1)", published: "2026-11-24T10:00:00Z" },
  },
  {
    server_id: "web-1",
    metric_type: "CERT",
    timestamp: at(5),
    value: 1,
    unit: "advisory",
    details: {
      title: "Same day, higher",
      link: "https://cert.example/CERTFR-2026-AVI-0012/",
      published: "2026-11-24T10:00:00Z",
      id: "CERTFR-2026-AVI-0012",
    },
  },
];

describe("dashboard model", () => {
  test("the alerts are the alert state's: firing before pending, critical first; servers worst first", () => {
    const dashboard = buildDashboard({
      samples,
      history: [],
      active: [
        alert("web-1", "pending", "critical", 1, "p"),
        alert("web-1", "firing", "warning", 5, "w"),
        alert(HOSTILE_SERVER, "firing", "critical", 3, "c"),
      ],
      sources: [],
      now: NOW,
      refreshSeconds: 300,
      silentAfterSeconds: 900,
    });
    expect(dashboard.alerts.map((a) => a.key)).toEqual(["c", "w", "p"]);
    expect(dashboard.servers.map((s) => [s.name, s.status])).toEqual([
      [HOSTILE_SERVER, "critical"],
      ["old-1", "silent"],
      ["web-1", "warning"],
    ]);
  });

  test("status: silent beats everything, then critical, warning, pending, ok", () => {
    const recent = [samples[0]!];
    expect(serverStatus(recent, [], NOW.getTime(), 900)).toBe("ok");
    expect(serverStatus(recent, [alert("web-1", "pending", "critical", 1)], NOW.getTime(), 900)).toBe("pending");
    expect(serverStatus(recent, [alert("web-1", "firing", "warning", 1)], NOW.getTime(), 900)).toBe("warning");
    expect(
      serverStatus(
        recent,
        [alert("web-1", "firing", "warning", 1), alert("web-1", "firing", "critical", 1, "k2")],
        NOW.getTime(),
        900,
      ),
    ).toBe("critical");
    expect(serverStatus([samples[1]!], [alert("old-1", "firing", "critical", 1)], NOW.getTime(), 900)).toBe("silent");
  });

  test("latest advisories: newest pubDate first, then the higher CERTFR number", () => {
    expect(latestAdvisories(samples).map((a) => a.title)).toEqual(["Same day, higher", "Evil", "Older <i>"]);
  });
});

describe("pages", () => {
  const dashboard = buildDashboard({
    samples,
    history: [],
    active: [],
    sources: [
      { name: "local", file: "/x/system_logs.json", samples: 4, skipped: 1 },
      { name: "db<1>", file: "/x/db_logs.json", samples: 0, skipped: 0, error: "not valid JSON <oops>" },
    ],
    now: NOW,
    refreshSeconds: 300,
    silentAfterSeconds: 900,
  });
  const index = indexOf(dashboard);

  test("every string from data is escaped on the index", () => {
    expect(index).not.toContain("<script>alert");
    expect(index).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(index).toContain("Older &lt;i&gt;");
    expect(index).toContain("not valid JSON &lt;oops&gt;");
    expect(index).toContain("db&lt;1&gt;");
  });

  test("the index links every server, refreshes itself and says when it was made", () => {
    expect(index).toContain('<meta http-equiv="refresh" content="300">');
    expect(index).toContain('href="servers/web-1.html"');
    expect(index).toContain('href="servers/~22~3E~3Cscript~3Ealert~281~29~3C~2Fscript~3E.html"');
    expect(index).toMatch(/Generated <time datetime="2026-11-25T12:00:00.000Z">/);
    expect(index).toContain('<span class="status status-silent">silent</span>');
  });

  test("an empty alert history shows an empty section; a javascript: advisory link is not a link", () => {
    expect(index).toContain("No alert firing or pending.");
    expect(index).toContain("No alerts recorded.");
    expect(index).not.toContain("javascript:");
    expect(index).toContain(
      '<a href="https://cert.example/CERTFR-2026-AVI-0012/" rel="noopener noreferrer"><bdi>Same day, higher</bdi></a>',
    );
  });

  test("a server page shows its disks and top processes as text", () => {
    const server = dashboard.servers.find((s) => s.name === HOSTILE_SERVER)!;
    const page = serverPageOf(dashboard, server);
    expect(page).toContain("<td><bdi>&lt;img src=x onerror=alert(1)&gt;</bdi></td>");
    expect(page).toContain("<td><bdi>/&lt;b&gt;</bdi></td>");
    expect(page).toContain("By memory: none recorded.");
    expect(page).toContain('href="../style.css"');
    expect(page).not.toMatch(/<img src=x/);
  });
});

test("a firing alert a silence holds is marked silenced where firing alerts are listed, and its server is silenced", () => {
  const dashboard = buildDashboard({
    samples: [
      { server_id: "web-1", metric_type: "CPU", timestamp: at(1), value: 97, unit: "%" },
      { server_id: "web-2", metric_type: "CPU", timestamp: at(1), value: 97, unit: "%" },
    ],
    history: [],
    active: [alert("web-1", "firing", "warning", 5), { ...alert("web-2", "firing", "critical", 3), silenced: true }],
    sources: [],
    now: NOW,
    refreshSeconds: 300,
    silentAfterSeconds: 900,
  });
  expect(dashboard.servers.map((s) => [s.name, s.status])).toEqual([
    ["web-1", "warning"],
    ["web-2", "silenced"],
  ]);
  const firing = indexOf(dashboard).split('<section id="alerts">')[1]!.split("</section>")[0]!;
  const rows = firing.split("<tr class=").slice(1);
  // Critical first, whether silenced or not: the table lists what fires.
  expect(rows.map((r) => [r.includes("web-2"), r.includes('<span class="silenced">silenced</span>')])).toEqual([
    [true, true],
    [false, false],
  ]);
});

test("a server page lists its reboots (Reboot events), newest first, and no Reboot value or chart", () => {
  const reboot = (minutesAgo: number, boot: string): Sample => ({
    server_id: "web-1",
    metric_type: "Reboot",
    timestamp: at(minutesAgo),
    value: 1,
    unit: "event",
    details: { boot_time: boot },
  });
  const dashboard = buildDashboard({
    samples: [
      { server_id: "web-1", metric_type: "Uptime", timestamp: at(1), value: 273_600, unit: "s" },
      reboot(300, "2026-11-25T06:58:00.000Z"),
      reboot(30, "2026-11-25T11:28:00.000Z"),
      reboot(29, "2026-11-25T11:28:00.000Z"), // the same boot seen by two runs
    ],
    history: [],
    active: [],
    sources: [],
    now: NOW,
    refreshSeconds: 300,
    silentAfterSeconds: 900,
  });
  const [server] = dashboard.servers;
  expect(server!.reboots).toEqual(["2026-11-25T11:28:00.000Z", "2026-11-25T06:58:00.000Z"]);
  expect(server!.latest.map((s) => s.metric_type)).toEqual(["Uptime"]);
  const page = serverPageOf(dashboard, server!);
  expect(page).toMatch(/<p class="reboots">Rebooted at <time datetime="2026-11-25T11:28:00.000Z">[^<]+<\/time>, <time/);
  expect(page).toContain('<span class="metric"><bdi>Uptime</bdi></span> 3 d 4 h');
});

describe("servers that cannot be fully measured", () => {
  const disk = (minutesAgo: number, mount: string, value: number): Sample => ({
    server_id: "nas-1",
    metric_type: "Disk",
    timestamp: at(minutesAgo),
    value,
    unit: "%",
    labels: { mount },
    details: { fs_type: mount === "/" ? "ext4" : "nfs4" },
  });
  const status = (minutesAgo: number, value: number, details: Record<string, unknown>): Sample => ({
    server_id: "nas-1",
    metric_type: "disk_status",
    timestamp: at(minutesAgo),
    value,
    unit: "state",
    labels: { mount: "/mnt/nfs" },
    details: { fs_type: "nfs4", ...details },
  });

  const dashboardOf = (samples: Sample[], neverReported?: Map<string, number>) =>
    buildDashboard({
      samples,
      history: [],
      active: [],
      sources: [],
      now: NOW,
      refreshSeconds: 300,
      silentAfterSeconds: 900,
      neverReported,
    });

  test("a mount whose statfs hangs shows as stuck since when, next to the mounts that answer", () => {
    const dashboard = dashboardOf([
      disk(30, "/mnt/nfs", 40),
      disk(1, "/", 24),
      status(20, 2, { status: "stuck", since: at(20) }),
      status(1, 2, { status: "stuck", since: at(20) }),
    ]);
    const page = serverPageOf(dashboard, dashboard.servers[0]!);
    const rows = page.match(/<tr><td><bdi>\/[^<]*<\/bdi><\/td>.*?<\/tr>/g)!;
    expect(rows[0]).toMatch(
      /<td><bdi>\/<\/bdi><\/td><td>24 %<\/td><td>ext4<\/td><td><time [^>]+>.*<\/time><\/td><td>answering<\/td>/,
    );
    expect(rows[1]).toMatch(
      /<td><bdi>\/mnt\/nfs<\/bdi><\/td><td>40 %<\/td>.*<span class="error">stuck since <time datetime="/,
    );
  });

  test("a mount measured again after it hung shows its new figure and answers", () => {
    const dashboard = buildDashboard({
      samples: [
        status(20, 2, { status: "stuck", since: at(20) }),
        status(1, 0, { status: "ok" }),
        disk(1, "/mnt/nfs", 41),
      ],
      history: [],
      active: [],
      sources: [],
      now: NOW,
      refreshSeconds: 300,
      silentAfterSeconds: 900,
    });
    const page = serverPageOf(dashboard, dashboard.servers[0]!);
    expect(page).toMatch(/<td><bdi>\/mnt\/nfs<\/bdi><\/td><td>41 %<\/td>.*<td>answering<\/td>/);
  });

  test("a remote that never reported is a card: waiting, then never reported after silent_after, with its pull error", () => {
    const build = (minutesSinceFirstAttempt: number) =>
      dashboardOf([disk(1, "/", 24)], new Map([["db-1", NOW.getTime() - minutesSinceFirstAttempt * 60_000]]));
    expect(build(10).servers.map((s) => [s.name, s.status, s.lastSeen])).toEqual([
      ["db-1", "waiting", undefined],
      ["nas-1", "ok", at(1)],
    ]);
    expect(build(15).servers[0]!.status).toBe("never");
    expect(indexOf(build(15))).toMatch(
      /<article class="card card-never"><h3><a href="servers\/db-1\.html"><bdi>db-1<\/bdi><\/a> <span class="status status-never">never reported<\/span><\/h3><p class="card-seen">No copy received yet.<\/p>/,
    );
  });
});
