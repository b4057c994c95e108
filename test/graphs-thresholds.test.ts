import { parseConfig } from "../config/ams-config.js";
import { chartThresholds } from "../graphs/thresholds.js";

describe("alert thresholds drawn on charts", () => {
  test("the default rules: CPU at 90, disks at 90 and 98, nothing for users", () => {
    const config = parseConfig({}, "test");
    expect(chartThresholds(config, "CPU", {})).toEqual([{ value: 90, severity: "warning", label: "cpu_high > 90" }]);
    expect(chartThresholds(config, "Disk", { mount: "/" }).map((t) => [t.value, t.severity])).toEqual([
      [90, "warning"],
      [98, "critical"],
    ]);
    expect(chartThresholds(config, "Users", {})).toEqual([]);
  });

  test("a one-server chart shows that server's override; labels must match", () => {
    const config = parseConfig(
      {
        alerts: {
          rules: {
            root_full: {
              metric: "Disk",
              labels: { mount: "/" },
              op: ">=",
              threshold: 80,
              servers: { "db-1": { threshold: 95 }, "lab-1": { enabled: false } },
            },
          },
        },
      },
      "test",
    );
    expect(chartThresholds(config, "Disk", { mount: "/" }).map((t) => t.value)).toEqual([80]);
    expect(chartThresholds(config, "Disk", { mount: "/" }, "db-1").map((t) => t.value)).toEqual([95]);
    expect(chartThresholds(config, "Disk", { mount: "/" }, "lab-1")).toEqual([]);
    expect(chartThresholds(config, "Disk", { mount: "/srv" })).toEqual([]);
  });
});
