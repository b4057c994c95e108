import { z } from "zod";
import { alertingSections } from "../alerts/config.js";
import { BackupsConfig } from "../backups/config.js";
import { GraphsConfig } from "../graphs/config.js";
import { coreSections, readConfigFile, validateConfig } from "../lib/config.js";
import { FetchConfig, RemotesConfig } from "../remote/config.js";
import { SensorsConfig } from "../sensors/config.js";
import { RetentionConfig } from "../storage/retention-config.js";
import { WebConfig } from "../web/config.js";

/** The whole of ams.config.json: the core keys and each feature's own section, in the file's order. */
export const ConfigSchema = z.strictObject({
  server_id: coreSections.server_id,
  sensors: SensorsConfig,
  remotes: RemotesConfig,
  fetch: FetchConfig,
  retention: RetentionConfig,
  backups: BackupsConfig,
  logs: coreSections.logs,
  deadlines: coreSections.deadlines,
  ...alertingSections,
  graphs: GraphsConfig,
  web: WebConfig,
});

export type Config = z.infer<typeof ConfigSchema>;

/** Validates a parsed configuration object; `source` names it in errors. */
export const parseConfig = (raw: unknown, source: string): Config => validateConfig(ConfigSchema, raw, source);

/** Loads AMS_HOME/ams.config.json; a missing file means every default. */
export const loadConfig = (file: string): Config => readConfigFile(ConfigSchema, file);
