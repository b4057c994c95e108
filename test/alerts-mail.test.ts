import fs from "node:fs";
import path from "node:path";
import { installDir } from "../lib/paths.js";
import { renderMail } from "../alerts/mail.js";
import type { Notice } from "../alerts/state.js";
import { loadTemplate, parseTemplate, TemplateError } from "../alerts/template.js";

const template = loadTemplate(path.join(installDir, "alerts", "alert-mail.template"));
const now = new Date("2026-11-25T12:00:00Z");

function notice(extra: Partial<Notice>): Notice {
  return {
    key: "cpu_high/web-1",
    rule: "cpu_high",
    server_id: "web-1",
    metric_type: "CPU",
    severity: "warning",
    event: "fired",
    at: "2026-11-25T12:00:00.000+00:00",
    since: "2026-11-25T11:45:00.000+00:00",
    value: 97.5,
    threshold: 90,
    message: "CPU 97.5 % on web-1 (rule cpu_high: > 90 for 10 min)",
    unit: "%",
    op: ">",
    ...extra,
  };
}

describe("alert mail", () => {
  test("one mail for several alerts: subject names the count and the worst severity", () => {
    const mail = renderMail(
      template,
      [
        notice({}),
        notice({
          key: 'disk_critical/db-1{mount="/"}',
          rule: "disk_critical",
          server_id: "db-1",
          metric_type: "Disk",
          labels: { mount: "/" },
          severity: "critical",
          value: 99,
          threshold: 98,
          op: ">=",
        }),
      ],
      { dashboardUrl: "https://ams.example.org/", now },
    );
    expect(mail.subject).toBe("[AMS] 2 alerts, worst critical: FIRING web-1 CPU, FIRING db-1 Disk /");
    expect(mail.text).toContain(
      "FIRING [warning] web-1: CPU 97.5 % on web-1 (rule cpu_high: > 90 for 10 min)\n    value 97.5 %, threshold > 90 %, since 2026-11-25T11:45:00.000+00:00\n    https://ams.example.org/servers/web-1.html\n",
    );
    expect(mail.text).toContain("FIRING [critical] db-1:");
    expect(mail.html).toContain(
      '<td><a href="https://ams.example.org/servers/db-1.html">db-1</a></td><td>Disk /</td><td>99 %</td><td>&gt;= 98 %</td>',
    );
  });

  test("everything in the HTML part is escaped; the subject stays one line", () => {
    const evil = `"><script>alert(1)</script>`;
    const mail = renderMail(
      template,
      [
        notice({
          server_id: evil,
          metric_type: "x<img src=y>",
          message: "a\r\nBcc: victim@example.org",
          unit: "count",
        }),
      ],
      {
        dashboardUrl: "https://ams.example.org/",
        now,
      },
    );
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<img");
    expect(mail.html).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    // The page's own file name (graphs/file-names.ts), which needs no escaping in a URL.
    expect(mail.html).toContain(
      `href="https://ams.example.org/servers/~22~3E~3Cscript~3Ealert~281~29~3C~2Fscript~3E.html"`,
    );
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text).toContain(evil);
  });

  test("reminders and resolutions read as such", () => {
    const mail = renderMail(
      template,
      [notice({ event: "reminded" }), notice({ event: "resolved", severity: "critical" })],
      { dashboardUrl: "http://h/", now },
    );
    expect(mail.subject).toBe("[AMS] 2 alerts, worst critical: STILL FIRING web-1 CPU, RESOLVED web-1 CPU");
  });

  test("an unknown placeholder or a missing section is reported before anything is rendered", () => {
    const text = fs.readFileSync(path.join(installDir, "alerts", "alert-mail.template"), "utf8");
    expect(() => parseTemplate(text.replace("] {{server}}:", "] {{host}}:"), "t.tmpl")).toThrow(TemplateError);
    expect(() => parseTemplate(text.replace("] {{server}}:", "] {{host}}:"), "t.tmpl")).toThrow(
      't.tmpl: section "text-item": unknown placeholder {{host}}',
    );
    expect(() => parseTemplate(text.replace("[AMS] {{count_text}}", "[AMS] {{alerts}}"), "t.tmpl")).toThrow(
      'section "subject": unknown placeholder {{alerts}}',
    );
    expect(() => parseTemplate(text.replace("\n=== html-item\n", "\n=== html-row\n"), "t.tmpl")).toThrow(
      'unknown section "html-row"',
    );
    expect(() => parseTemplate("=== subject\nx\n", "t.tmpl")).toThrow('missing section "text"');
  });

  test("a notice's own link is used only when it is http(s)", () => {
    const cert = (link: string) =>
      notice({ key: `cert_advisory/${link}`, rule: "cert_advisory", metric_type: "CERT", link, unit: "", op: "" });
    const mail = renderMail(
      template,
      [cert("javascript:alert(document.cookie)"), cert("https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-1/")],
      { dashboardUrl: "https://ams.example.org/", now },
    );
    expect(mail.html).not.toContain("javascript:");
    expect(mail.text).not.toContain("javascript:");
    expect(mail.html).toContain('<a href="https://ams.example.org/servers/web-1.html">');
    expect(mail.html).toContain('<a href="https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-1/">');
  });

  test("the subject names each alert once, however many rules it breaks", () => {
    const disk = { server_id: "db-1", metric_type: "Disk", labels: { mount: "/" }, value: 99, op: ">=" };
    const mail = renderMail(
      template,
      [
        notice({ ...disk, rule: "disk_warning", threshold: 90 }),
        notice({ ...disk, rule: "disk_critical", severity: "critical", threshold: 98 }),
      ],
      { dashboardUrl: "http://h/", now },
    );
    expect(mail.subject).toBe("[AMS] 2 alerts, worst critical: FIRING db-1 Disk /");
    expect(mail.text.match(/^FIRING /gm)).toHaveLength(2);
  });
});
