import { z } from "zod";
import { durationUpTo } from "../lib/duration.js";
import { PluginsConfig } from "./plugins-config.js";

/** The `sensors` section of ams.config.json: the CERT feeds, the disk and net sensors and the plugins folder. */
export const SensorsConfig = z
  .strictObject({
    cert: z
      .strictObject({
        feeds: z
          .array(z.url({ protocol: /^https?$/ }))
          .min(1)
          .default(["https://www.cert.ssi.gouv.fr/alerte/feed/", "https://www.cert.ssi.gouv.fr/avis/feed/"]),
        timeout: durationUpTo(600, { above: true }).default(10),
      })
      .prefault({}),
    disk: z
      .strictObject({
        // A dead NFS mount can block statfs forever: each mount gets this long (sensors/mount-stats.ts).
        timeout: durationUpTo(600, { above: true }).default(5),
        exclude_mounts: z.array(z.string()).default([]),
      })
      .prefault({}),
    net: z
      .strictObject({
        // Empty: every interface but loopback, veth ends and docker/libvirt bridges.
        interfaces: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
    plugins: PluginsConfig,
  })
  .prefault({});
