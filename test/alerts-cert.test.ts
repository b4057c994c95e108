import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { certNotices } from "../alerts/cert.js";

const now = new Date("2026-11-25T12:00:00Z");

function advisory(server: string, n: number, feed = "avis"): Sample {
  return {
    server_id: server,
    metric_type: "CERT",
    timestamp: isoLocal(new Date(now.getTime() - (10 - n) * 60_000)),
    value: 1,
    unit: "advisory",
    details: {
      title: `Vulnérabilité ${n}`,
      link: `https://www.cert.ssi.gouv.fr/${feed}/CERTFR-2026-AVI-${n}/`,
      published: "2026-11-25T08:00:00.000Z",
      feed,
    },
  };
}

describe("new CERT advisories", () => {
  test("the first look only learns what is stored; afterwards each advisory is announced once across the fleet", () => {
    const first = certNotices([advisory("web-1", 1), advisory("web-1", 2)], undefined, now);
    expect(first.notices).toEqual([]);
    expect(first.seen).toHaveLength(2);

    // web-1 and db-1 both stored advisory 3 (same feed, same link); 4 is an "alerte".
    const samples = [
      advisory("web-1", 1),
      advisory("web-1", 2),
      advisory("web-1", 3),
      advisory("db-1", 3),
      advisory("db-1", 4, "alerte"),
    ];
    const second = certNotices(samples, first.seen, now);
    expect(second.notices.map((n) => [n.key, n.severity, n.message, n.link])).toEqual([
      [
        "cert_advisory/https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-3/",
        "warning",
        "new CERT advisory: Vulnérabilité 3",
        "https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-3/",
      ],
      [
        "cert_advisory/https://www.cert.ssi.gouv.fr/alerte/CERTFR-2026-AVI-4/",
        "critical",
        "new CERT advisory: Vulnérabilité 4",
        "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2026-AVI-4/",
      ],
    ]);
    expect(second.notices[0]!.since).toBe(isoLocal(new Date("2026-11-25T08:00:00.000Z")));
    expect(certNotices(samples, second.seen, now).notices).toEqual([]);
  });

  test("switched on before the CERT sensor stored anything: its first batch is learned, not mailed", () => {
    const empty = certNotices([], undefined, now);
    expect(empty).toEqual({ notices: [], seen: undefined });
    const firstBatch = certNotices([advisory("web-1", 1), advisory("web-1", 2)], empty.seen, now);
    expect(firstBatch.notices).toEqual([]);
    expect(
      certNotices([advisory("web-1", 1), advisory("web-1", 2), advisory("web-1", 3)], firstBatch.seen, now).notices,
    ).toHaveLength(1);
  });
});
