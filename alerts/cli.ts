#!/usr/bin/env node
import path from "node:path";
import type { Command } from "commander";
import { openJob, type Job, type RunOptions } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { failRunWith } from "../lib/run-outcome.js";
import { now } from "../lib/clock.js";
import { durationUpTo, formatDuration } from "../lib/duration.js";
import { installDir } from "../lib/paths.js";
import { pluginNames } from "../sensors/registry.js";
import { fileStamp, isoLocal } from "../lib/time.js";
import { UsageError } from "../lib/usage-error.js";
import { runCheck } from "./check.js";
import { mailOf, notifierFor } from "./channels/email.js";
import { configuredChannels, openChannels } from "./channels/registry.js";
import { checkMaintenance } from "./maintenance.js";
import { parseMatcher, type Matcher } from "./matchers.js";
import { checkRuleMetrics, knownMetrics } from "./metrics.js";
import { readAlertRunState, withAlertRunState, writeAlertRunState } from "./run-state.js";
import { describeSilence, keptSilences, newSilence, silenceActive } from "./silences.js";
import { describeValue } from "./state.js";
import { loadTemplate, type MailTemplate } from "./template.js";

const JOB = "alert";

type AlertJob = Job & { template: MailTemplate; channels: ReturnType<typeof configuredChannels> };

/** The job with everything checked up front: rule metrics against the plugins present, the channels, the windows, the template. */
async function openAlertJob(cmd: Command, run: RunOptions = {}): Promise<AlertJob> {
  const job = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home, run);
  checkRuleMetrics(job.config.alerts, knownMetrics(await pluginNames(job)), job.paths.config);
  const channels = configuredChannels(job.config.alerts, job.paths.config);
  checkMaintenance(job.config.alerts, job.paths.config);
  const templateFile = job.config.alerts.template
    ? path.resolve(job.paths.home, job.config.alerts.template)
    : path.join(installDir, "alerts", "alert-mail.template");
  return { ...job, channels, template: loadTemplate(templateFile) };
}

function channelContext(job: AlertJob) {
  return {
    home: job.paths.home,
    env: process.env,
    dashboardUrl: job.config.alerts.dashboard_url,
    template: job.template,
    outbox: job.paths.outbox,
  };
}

const program = amsProgram(
  "ams-alert",
  "Judge the stored samples against the alert rules and notify what started, lasts or ended.",
);

program
  .command("check", { isDefault: true })
  .description("evaluate the rules, notify the changes, retry queued notifications (the cron job)")
  .option("--dry-run", "evaluate and print, send and store nothing")
  .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
    const job = await openAlertJob(cmd, { scheduled: !opts.dryRun });
    const opened = opts.dryRun ? undefined : openChannels(job.channels, job.config.email, channelContext(job));
    for (const b of opened?.broken ?? []) {
      job.log.error(`channel ${b.name} cannot be used, its notifications wait in its queue: ${b.error}`);
      process.stderr.write(
        `ams-alert: channel ${b.name} cannot be used, its notifications wait in its queue: ${b.error}\n`,
      );
      process.exitCode = 1;
    }
    const result = await runCheck({ ...job, now: now(), channels: opened?.channels, dryRun: opts.dryRun });
    for (const e of result.events)
      process.stdout.write(
        `${e.event.toUpperCase()} [${e.severity}] ${e.key}: ${e.message}${e.silenced ? " (silenced)" : ""}\n`,
      );
    if (result.unreadable.length > 0) process.exitCode = 1; // said on stderr by the job log
    for (const d of result.deliveries) {
      for (const s of d.sent) process.stdout.write(`${d.channel} ${s.id}: ${s.answer}\n`);
      for (const r of d.rejected) {
        process.stderr.write(
          `ams-alert: ${d.channel} ${r.id} refused for good, not retried, ${r.savedAs}: ${r.error}\n`,
        );
        process.exitCode = 1;
      }
      if (d.failed) {
        const queued = result.state.queue[d.channel]?.length ?? 0;
        process.stderr.write(
          `ams-alert: ${d.channel} not delivered (${queued} queued, retried next run): ${d.failed.error}\n`,
        );
        process.exitCode = 1;
      }
    }
  });

program
  .command("list")
  .description("show the alerts firing and pending, the silences, and what waits in the queues")
  .action(async (_opts: unknown, cmd: Command) => {
    const { paths } = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home);
    const state = await readAlertRunState(paths);
    const active = Object.values(state.alerts)
      .filter((a) => a.status !== "ok")
      .sort((a, b) => a.status.localeCompare(b.status) || a.key.localeCompare(b.key));
    if (active.length === 0) process.stdout.write("no alert firing or pending\n");
    for (const a of active) {
      const marks = [a.silenced ? "silenced" : "", a.acked ? `acked by ${a.acked.by}` : ""].filter(Boolean);
      process.stdout.write(
        `${a.status.padEnd(7)} ${a.severity.padEnd(8)} ${a.key}  since ${a.since}  ${describeValue(a)} (${a.op} ${a.threshold})${marks.length ? `  [${marks.join(", ")}]` : ""}\n`,
      );
    }
    const at = now();
    for (const s of state.silences.filter((s) => silenceActive(s, at)))
      process.stdout.write(`silence ${describeSilence(s, at)}\n`);
    for (const [channel, queue] of Object.entries(state.queue))
      for (const n of queue)
        process.stdout.write(
          `queued  ${channel} ${n.id}: ${n.mail ? `mail "${n.mail.subject}"` : `${n.notices.length} alert(s)`} (${n.attempts} failed attempt(s)${n.last_error ? `: ${n.last_error}` : ""})\n`,
        );
  });

program
  .command("test-email")
  .description("send a test mail through the configured transport and print the answer")
  .action(async (_opts: unknown, cmd: Command) => {
    const job = await openAlertJob(cmd);
    const at = now();
    const mail = mailOf(
      { id: `${fileStamp(at)}.test`, created_at: isoLocal(at), notices: [] },
      { template: job.template, dashboardUrl: job.config.alerts.dashboard_url },
    );
    const { email } = job.config;
    const passwordFile = email.password_file && path.resolve(job.paths.home, email.password_file);
    const target = notifierFor({ ...email, password_file: passwordFile }, job.paths.outbox);
    const answer = await target.send({ ...mail, subject: `[AMS] test mail from ${job.config.server_id}` });
    job.log.info(`test mail via ${target.target}: ${answer}`);
    process.stdout.write(`${target.target}: ${answer}\n`);
  });

const collect = (value: string, previous: string[]) => [...previous, value];

function matchersOf(texts: readonly string[]): Matcher[] {
  if (texts.length === 0) throw new UsageError("silence add: at least one --match NAME=VALUE is needed");
  return texts.map((text) => {
    const m = parseMatcher(text);
    if (typeof m === "string") throw new UsageError(`--match ${m}`);
    return m;
  });
}

/** A silence longer than a year is a rule to change, not a silence. */
const MAX_SILENCE_SECONDS = 366 * 86400;
const SilenceLength = durationUpTo(MAX_SILENCE_SECONDS, { above: true });

function endOf(opts: { for?: string; until?: string }, at: Date): Date {
  if ((opts.for === undefined) === (opts.until === undefined))
    throw new UsageError("silence add: give its end, with --for DURATION or --until TIME (one of them)");
  if (opts.for !== undefined) {
    const seconds = SilenceLength.safeParse(opts.for);
    if (!seconds.success) throw new UsageError(`--for: ${seconds.error.issues[0]!.message}`);
    return new Date(at.getTime() + seconds.data * 1000);
  }
  const until = new Date(opts.until!);
  if (Number.isNaN(until.getTime())) throw new UsageError(`--until: not a time: ${JSON.stringify(opts.until)}`);
  if (until <= at) throw new UsageError(`--until: ${opts.until} is not in the future`);
  if (until.getTime() - at.getTime() > MAX_SILENCE_SECONDS * 1000)
    throw new UsageError(`--until: ${opts.until} is more than ${formatDuration(MAX_SILENCE_SECONDS)} away`);
  return until;
}

const author = (opts: { author?: string }) => opts.author ?? process.env.USER ?? process.env.LOGNAME ?? "unknown";

const silence = program.command("silence").description("hold back the notifications of matching alerts for a while");

silence
  .command("add")
  .description("silence the alerts matching every --match until --for/--until ends")
  .option("--match <matcher>", "server=NAME, rule=NAME, severity=LEVEL or LABEL=VALUE; =~ for a regex", collect, [])
  .option("--for <duration>", 'how long, e.g. "2h"')
  .option("--until <time>", "when it ends (ISO 8601)")
  .option("--comment <text>", "why (required)")
  .option("--author <name>", "who (default: $USER)")
  .action(
    async (
      opts: { match: string[]; for?: string; until?: string; comment?: string; author?: string },
      cmd: Command,
    ) => {
      const at = now();
      const matchers = matchersOf(opts.match);
      const ends = endOf(opts, at);
      if (!opts.comment?.trim()) throw new UsageError("silence add: --comment is required (say why)");
      const { paths, log } = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home);
      const made = newSilence(
        { matchers, ends_at: isoLocal(ends), created_by: author(opts), comment: opts.comment.trim() },
        at,
      );
      await withAlertRunState(paths, failRunWith(log), (state) =>
        writeAlertRunState(paths.stateDir, { ...state, silences: [...keptSilences(state.silences, at), made] }),
      );
      log.info(`silence ${describeSilence(made, at)}`);
      process.stdout.write(`${made.id}\n`);
    },
  );

silence
  .command("list")
  .description("show the silences, active and recently ended")
  .action(async (_opts: unknown, cmd: Command) => {
    const { paths } = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home);
    const at = now();
    const silences = keptSilences((await readAlertRunState(paths)).silences, at);
    if (silences.length === 0) process.stdout.write("no silence\n");
    for (const s of silences) process.stdout.write(`${describeSilence(s, at)}\n`);
  });

silence
  .command("expire")
  .argument("<id>", "the silence's id (silence list)")
  .description("end a silence now")
  .action(async (id: string, _opts: unknown, cmd: Command) => {
    const { paths, log } = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home);
    const at = now();
    await withAlertRunState(paths, failRunWith(log), async (state) => {
      const found = state.silences.find((s) => s.id === id);
      if (!found) throw new UsageError(`silence expire: no silence ${JSON.stringify(id)} (see silence list)`);
      const ended = { ...found, ends_at: isoLocal(new Date(Math.min(at.getTime(), Date.parse(found.ends_at)))) };
      await writeAlertRunState(paths.stateDir, {
        ...state,
        silences: state.silences.map((s) => (s.id === id ? ended : s)),
      });
    });
    log.info(`silence ${id} expired`);
    process.stdout.write(`silence ${id} expired\n`);
  });

program
  .command("ack")
  .argument("<alert>", "the alert's key, as ams-alert list shows it")
  .option("--comment <text>", "why")
  .option("--author <name>", "who (default: $USER)")
  .description("acknowledge a firing alert: no reminders until it resolves (the resolution is still notified)")
  .action(async (key: string, opts: { comment?: string; author?: string }, cmd: Command) => {
    const { paths, log } = await openJob(JOB, cmd.optsWithGlobals<{ home?: string }>().home);
    const at = now();
    await withAlertRunState(paths, failRunWith(log), async (state) => {
      const alert = state.alerts[key];
      if (!alert || alert.status !== "firing")
        throw new UsageError(`ack: no firing alert ${JSON.stringify(key)} (see ams-alert list)`);
      const acked = { at: isoLocal(at), by: author(opts), ...(opts.comment ? { comment: opts.comment } : {}) };
      await writeAlertRunState(paths.stateDir, { ...state, alerts: { ...state.alerts, [key]: { ...alert, acked } } });
    });
    log.info(`ack ${key} by ${author(opts)}${opts.comment ? `: ${opts.comment}` : ""}`);
    process.stdout.write(`acknowledged ${key}\n`);
  });

void runProgram(program);
