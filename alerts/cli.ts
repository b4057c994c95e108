#!/usr/bin/env node
import path from "node:path";
import type { Command } from "commander";
import { openJob, type Job, type RunOptions } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { now } from "../lib/clock.js";
import { installDir } from "../lib/paths.js";
import { pluginNames } from "../sensors/registry.js";
import { fileStamp, isoLocal } from "../lib/time.js";
import { readAlertRunState, runCheck } from "./check.js";
import { renderMail } from "./mail.js";
import { checkRuleMetrics, knownMetrics } from "./metrics.js";
import { notifierFor } from "./notify.js";
import { describeValue } from "./state.js";
import { loadTemplate, type MailTemplate } from "./template.js";

const JOB = "alert";

/** The job with everything checked up front: rule metrics against the plugins present, and the template. */
async function openAlertJob(cmd: Command, run: RunOptions = {}): Promise<Job & { template: MailTemplate }> {
  const job = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home, run);
  checkRuleMetrics(job.config.alerts, knownMetrics(await pluginNames(job)), job.paths.config);
  const templateFile = job.config.alerts.template
    ? path.resolve(job.paths.home, job.config.alerts.template)
    : path.join(installDir, "alerts", "alert-mail.template");
  return { ...job, template: loadTemplate(templateFile) };
}

function notifier(job: Job) {
  const { email } = job.config;
  const passwordFile = email.password_file && path.resolve(job.paths.home, email.password_file);
  return notifierFor({ ...email, password_file: passwordFile }, job.paths.outbox);
}

const program = amsProgram(
  "ams-alert",
  "Judge the stored samples against the alert rules and mail what started, lasts or ended.",
);

program
  .command("check", { isDefault: true })
  .description("evaluate the rules, mail the changes, retry queued mail (the cron job)")
  .option("--dry-run", "evaluate and print, send and store nothing")
  .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
    const job = await openAlertJob(cmd, { scheduled: !opts.dryRun });
    const result = await runCheck({
      ...job,
      now: now(),
      notifier: opts.dryRun ? undefined : notifier(job),
      dryRun: opts.dryRun,
    });
    for (const e of result.events)
      process.stdout.write(`${e.event.toUpperCase()} [${e.severity}] ${e.key}: ${e.message}\n`);
    if (result.unreadable.length > 0) process.exitCode = 1; // said on stderr by the job log
    if (opts.dryRun) return;
    for (const s of result.delivery?.sent ?? []) process.stdout.write(`mail "${s.subject}": ${s.answer}\n`);
    for (const r of result.delivery?.rejected ?? []) {
      process.stderr.write(`ams-alert: mail "${r.subject}" refused for good, not retried, ${r.savedAs}: ${r.error}\n`);
      process.exitCode = 1;
    }
    const failed = result.delivery?.failed;
    if (failed) {
      process.stderr.write(
        `ams-alert: mail not delivered (${result.state.queue.length} queued, retried next run): ${failed.error}\n`,
      );
      process.exitCode = 1;
    }
  });

program
  .command("list")
  .description("show the alerts firing and pending, and the mails waiting in the queue")
  .action(async (_opts: unknown, cmd: Command) => {
    const { paths } = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home);
    const state = await readAlertRunState(paths);
    const active = Object.values(state.alerts)
      .filter((a) => a.status !== "ok")
      .sort((a, b) => a.status.localeCompare(b.status) || a.key.localeCompare(b.key));
    if (active.length === 0) process.stdout.write("no alert firing or pending\n");
    for (const a of active) {
      process.stdout.write(
        `${a.status.padEnd(7)} ${a.severity.padEnd(8)} ${a.key}  since ${a.since}  ${describeValue(a)} (${a.op} ${a.threshold})\n`,
      );
    }
    for (const m of state.queue)
      process.stdout.write(
        `queued  mail "${m.subject}" (${m.attempts} failed attempt(s)${m.last_error ? `: ${m.last_error}` : ""})\n`,
      );
  });

program
  .command("test-email")
  .description("send a test mail through the configured transport and print the answer")
  .action(async (_opts: unknown, cmd: Command) => {
    const job = await openAlertJob(cmd);
    const at = now();
    const mail = renderMail(job.template, [], { dashboardUrl: job.config.alerts.dashboard_url, now: at });
    const target = notifier(job);
    const answer = await target.send({
      ...mail,
      subject: `[AMS] test mail from ${job.config.server_id}`,
      id: `${fileStamp(at)}.test`,
      created_at: isoLocal(at),
    });
    job.log.info(`test mail via ${target.target}: ${answer}`);
    process.stdout.write(`${target.target}: ${answer}\n`);
  });

await runProgram(program);
