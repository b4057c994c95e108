#!/usr/bin/env node
import path from "node:path";
import type { Command } from "commander";
import { openJob } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { createBackup, listSnapshots, readSnapshot, resolveSnapshot, restoreBackup } from "./backup.js";
import type { Snapshot } from "./snapshot.js";

const JOB = "backup";

const homeOf = (command: Command) => command.optsWithGlobals<{ home?: string }>().home;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const contents = (s: Snapshot) =>
  s.files.map((f) => `${f.name}: ${f.content === null ? "absent" : `${f.records} records`}`).join(", ");

const program = amsProgram(
  "ams-backup",
  'Compressed, checksummed snapshots of the store and the alert history (README, "Backups").',
);

program
  .command("create", { isDefault: true })
  .description("snapshot storage/system_logs.json and storage/alerts_log.json, then drop snapshots past the rotation")
  .action(async (_opts, command: Command) => {
    const { paths, config, log } = await openJob(JOB, homeOf(command), { scheduled: true });
    const result = await createBackup(paths, config.backups, new Date());
    const line = `created ${result.file} (${kib(result.bytes)}; ${contents(result.snapshot)}); removed ${result.deleted.length} old snapshot(s)${result.deleted.length ? `: ${result.deleted.join(", ")}` : ""}`;
    log.info(line);
    process.stdout.write(`${line}\n`);
  });

program
  .command("list")
  .description("the snapshots in backups/, oldest first")
  .action(async (_opts, command: Command) => {
    const { paths } = await openJob(JOB, homeOf(command));
    const snapshots = await listSnapshots(paths.backupsDir);
    if (snapshots.length === 0) process.stdout.write(`no snapshots in ${paths.backupsDir}\n`);
    for (const s of snapshots) process.stdout.write(`${s.name}  ${s.time.toISOString()}  ${kib(s.bytes)}\n`);
  });

program
  .command("verify")
  .description("check that every snapshot decompresses, parses and matches its checksums; exit 1 naming the bad ones")
  .action(async (_opts, command: Command) => {
    const { paths, log } = await openJob(JOB, homeOf(command));
    const snapshots = await listSnapshots(paths.backupsDir);
    const bad: string[] = [];
    for (const s of snapshots) {
      try {
        process.stdout.write(`ok   ${s.name} (${contents(await readSnapshot(s.file))})\n`);
      } catch (err) {
        bad.push(s.name);
        process.stdout.write(`BAD  ${s.name}: ${(err as Error).message}\n`);
      }
    }
    if (bad.length > 0) {
      log.error(`${bad.length} of ${snapshots.length} snapshot(s) failed verification: ${bad.join(", ")}`);
      process.exitCode = 1;
    } else process.stdout.write(`${snapshots.length} snapshot(s) verified in ${paths.backupsDir}\n`);
  });

program
  .command("restore")
  .description("replace the store and the alert history with a snapshot's, after copying the current files aside")
  .argument("<snapshot>", "a name from `ams-backup list`, or a path to a snapshot file")
  .action(async (arg: string, _opts, command: Command) => {
    const { paths, log } = await openJob(JOB, homeOf(command));
    const file = resolveSnapshot(paths, arg);
    const { snapshot, setAside } = await restoreBackup(paths, file, new Date());
    const line = `restored ${path.basename(file)} taken ${snapshot.created} (${contents(snapshot)}); previous files kept as ${setAside.join(", ") || "(none existed)"}`;
    log.info(line);
    process.stdout.write(`${line}\n`);
  });

void runProgram(program);
