import { loadJobConfig } from "../lib/job-config.js";
import { jobLogger, type Logger } from "../lib/log.js";
import { amsPaths, resolveHome, type Paths } from "../lib/paths.js";
import type { Config } from "./ams-config.js";

/** Everything a job needs: where its files are, its validated config, its log. */
export interface Job {
  paths: Paths;
  config: Config;
  log: Logger;
}

/** Resolves the data home from --home/$AMS_HOME and loads the config; throws ConfigError on bad config. */
export async function openJob(job: string, home?: string): Promise<Job> {
  const paths = amsPaths(resolveHome(home));
  // Imported only when the cached config cannot be used: building the schema is the slow part.
  const config = await loadJobConfig(paths, async (file) => (await import("./ams-config.js")).loadConfig(file));
  return { paths, config, log: jobLogger(paths.logsDir, job, config.logs) };
}
