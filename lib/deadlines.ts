/**
 * How long each job cron starts may run before it stops and exits 1 (config `deadlines`,
 * lib/deadlines-config.ts), in seconds. Each default is below the job's period in
 * crontab.example, so a stuck run ends before the next one is due; the sensors' stays below the
 * 30 s that ams-alert and ams-graphs wait for them.
 */
export const DEFAULT_DEADLINES = {
  sensor: 25,
  "fetch-remote": 100,
  alert: 240,
  graphs: 240,
  cleanup: 1500,
  backup: 3000,
} as const;

export type ScheduledJob = keyof typeof DEFAULT_DEADLINES;
