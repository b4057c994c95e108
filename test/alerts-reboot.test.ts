import path from "node:path";
import { renderMail } from "../alerts/mail.js";
import { rebootNotices } from "../alerts/reboot.js";
import { loadTemplate } from "../alerts/template.js";
import { installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";

const now = new Date("2026-11-25T12:00:00Z");
const boot = (hour: number) => isoLocal(new Date(Date.UTC(2026, 10, 25, hour, 12)));

function reboot(server: string, hour: number): Sample {
  return {
    server_id: server,
    metric_type: "Reboot",
    timestamp: isoLocal(new Date(Date.UTC(2026, 10, 25, hour, 14))),
    value: 1,
    unit: "event",
    details: { boot_time: boot(hour), previous_boot_time: boot(0) },
  };
}

describe("reboot notices", () => {
  test("reboots already stored when notices start are learnt, not mailed", () => {
    expect(rebootNotices([reboot("web-1", 3)], undefined, now)).toEqual({
      notices: [],
      seen: [`rebooted/web-1@${boot(3)}`],
    });
    // With nothing stored yet, the first reboot to come is news.
    expect(rebootNotices([], undefined, now)).toEqual({ notices: [], seen: [] });
  });

  test("each reboot is mailed once, naming the server and the boot time", () => {
    const first = rebootNotices([reboot("web-1", 3)], [], now);
    const local = isoLocal(new Date(boot(3))).slice(11, 16);
    expect(first.notices.map((n) => [n.rule, n.server_id, n.event, n.message])).toEqual([
      ["rebooted", "web-1", "fired", `web-1 rebooted at ${isoLocal(new Date(boot(3))).slice(0, 10)} ${local}`],
    ]);
    const again = rebootNotices([reboot("web-1", 3), reboot("db-1", 5)], first.seen, now);
    expect(again.notices.map((n) => n.server_id)).toEqual(["db-1"]);
    expect(rebootNotices([reboot("web-1", 3), reboot("db-1", 5)], again.seen, now).notices).toEqual([]);

    const mail = renderMail(loadTemplate(path.join(installDir, "alerts", "alert-mail.template")), first.notices, {
      dashboardUrl: "https://ams.example.org/",
      now,
    });
    expect(mail.subject).toContain("FIRING web-1 Reboot");
    expect(mail.text).toContain(`web-1 rebooted at`);
  });
});
