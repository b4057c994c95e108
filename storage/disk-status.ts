/**
 * The disk sensor's record of a mount it could not measure (sensors/disk.ts), read by the alert
 * rules and the pages: metric disk_status, label mount, details.status and since. Values on the
 * scale of the plugins' statuses (Nagios): 0 answering again, 2 stuck (statfs hangs), 3 failed.
 */
export const DISK_STATUS_METRIC = "disk_status";
export const DISK_STATUS = { ok: 0, stuck: 2, failed: 3 } as const;
