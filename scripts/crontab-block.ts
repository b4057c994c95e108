/**
 * The AMS block of a crontab: crontab.example rendered with this install's paths, and the edit that
 * puts it in (or takes it out of) a user's crontab without touching any other line. Pure text in
 * and out; scripts/install-crontab.ts does the I/O.
 */

export const BEGIN_MARK = "# BEGIN AMS";
export const END_MARK = "# END AMS";

/** The example paths of crontab.example, replaced by the real ones. */
const PLACEHOLDERS = /\/usr\/bin\/node(?= )|\/opt\/ams(?=\/)|\/var\/lib\/ams(?=[/\s]|$)/g;

export interface InstallPaths {
  node: string;
  installDir: string;
  home: string;
}

/** A path as one shell word; `%` escaped because cron turns a bare `%` into a newline. */
export function cronWord(path: string): string {
  if (/[\n\r]/.test(path))
    throw new Error(`${JSON.stringify(path)}: a path with a line break cannot go into a crontab`);
  const word = /^[A-Za-z0-9_/.,:+@=-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
  return word.replace(/%/g, "\\%");
}

/**
 * The minutes of an hour a cron minute field fires at (`*`, `N`, `A-B`, each with an optional
 * `/STEP`, in a comma list); undefined for anything else (names, out-of-range values).
 */
export function cronMinutes(field: string): number[] | undefined {
  const minutes = new Set<number>();
  for (const part of field.split(",")) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const [, all, from, to, step] = match;
    const first = all === "*" ? 0 : Number(from);
    const last = all === "*" ? 59 : to !== undefined ? Number(to) : step !== undefined ? 59 : first;
    if (last > 59 || first > last || Number(step ?? 1) < 1) return undefined;
    for (let m = first; m <= last; m += Number(step ?? 1)) minutes.add(m);
  }
  return [...minutes].sort((a, b) => a - b);
}

/** A sensor job line: minute field, the other four fields all `*`, the command up to the sensors, the sensors, the rest. */
const SENSOR_LINE = /^(\S+)(\s+\*\s+\*\s+\*\s+\*\s+)(.*\/ams-sensor\.js )(.+?)( --home .*)$/;

/**
 * The sensor lines with one line per set of minutes that run the same sensors: each minute starts
 * one `ams-sensor` process naming every sensor due then, instead of one per period (at 0 and 30,
 * five processes). Starting node costs more than most sensors' own work. Lines it cannot read are
 * left as they are.
 */
export function mergeSensorLines(lines: readonly string[]): string[] {
  const sensorLines = lines.flatMap((line) => {
    const match = SENSOR_LINE.exec(line);
    const minutes = match && cronMinutes(match[1]!);
    return match && minutes ? [{ line, match, minutes, sensors: match[4]!.split(/\s+/) }] : [];
  });
  if (sensorLines.length < 2) return [...lines];
  const minutesBySensors = new Map<string, number[]>();
  for (let minute = 0; minute < 60; minute++) {
    const due = [...new Set(sensorLines.filter((l) => l.minutes.includes(minute)).flatMap((l) => l.sensors))];
    if (due.length === 0) continue;
    const key = due.join(" ");
    minutesBySensors.set(key, [...(minutesBySensors.get(key) ?? []), minute]);
  }
  const [, , spacing, command, , rest] = sensorLines[0]!.match;
  const merged = [...minutesBySensors].map(
    ([sensors, minutes]) => `${minutes.join(",")}${spacing!}${command!}${sensors}${rest!}`,
  );
  const replaced = new Set(sensorLines.map((l) => l.line));
  const first = lines.indexOf(sensorLines[0]!.line);
  return [...lines.slice(0, first), ...merged, ...lines.slice(first).filter((line) => !replaced.has(line))];
}

/** The job lines of the template (comments and blank lines dropped) with the real paths. */
export function renderJobs(template: string, paths: InstallPaths): string[] {
  const words: Record<string, string> = {
    "/usr/bin/node": cronWord(paths.node),
    "/opt/ams": cronWord(paths.installDir),
    "/var/lib/ams": cronWord(paths.home),
  };
  return template
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
    .map((line) => line.replace(PLACEHOLDERS, (match) => words[match]!));
}

/**
 * A job line in the system crontab form (/etc/crontab, /etc/cron.d/*): the user to run it as goes
 * between the schedule and the command.
 */
export function withUser(line: string, user: string): string {
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(user)) throw new Error(`${JSON.stringify(user)}: not a user name`);
  return line.replace(/^(@\w+|(?:\S+\s+){4}\S+)(\s+)/, `$1$2${user} `);
}

/** The line of the remote pulls: left out of a server that pulls no remote, where it would only start node. */
export const isRemotePullLine = (line: string) => /\/ams-fetch-remote\.js\b/.test(line);

/** The step that draws the pages: left out when ams-web draws them on request. */
const isPageDrawingStep = (step: string) => /\/ams-graphs\.js\b/.test(step);

export interface BlockOptions {
  /** Writes system crontab lines that run as this user. */
  systemUser?: string;
  /** Leaves out the remote pulls (no remote configured). */
  withoutRemotePulls?: boolean;
  /** Leaves out ams-graphs (ams-web draws the pages when they are requested). */
  withoutPageDrawing?: boolean;
}

/** What a data home's config leaves out of its schedule: the jobs that would only start node for nothing. */
export function scheduleOptions(config: { remotes: readonly unknown[]; web: { draw_on_request: boolean } }) {
  return { withoutRemotePulls: config.remotes.length === 0, withoutPageDrawing: config.web.draw_on_request };
}

/** The job lines of the template with the real paths, sensors merged by minute, less the jobs `options` leaves out. */
export function scheduledJobs(template: string, paths: InstallPaths, options: BlockOptions = {}): string[] {
  const { systemUser, withoutRemotePulls, withoutPageDrawing } = options;
  return mergeSensorLines(renderJobs(template, paths))
    .filter((line) => !(withoutRemotePulls && isRemotePullLine(line)))
    .map((line) =>
      withoutPageDrawing
        ? line
            .split("; ")
            .filter((step) => !isPageDrawingStep(step))
            .join("; ")
        : line,
    )
    .map((line) => (systemUser === undefined ? line : withUser(line, systemUser)));
}

export function renderBlock(template: string, paths: InstallPaths, options: BlockOptions = {}): string {
  const header = `${BEGIN_MARK} (written by scripts/install-crontab for AMS_HOME=${paths.home}; edits inside are overwritten)`;
  return [header, ...scheduledJobs(template, paths, options), END_MARK].join("\n");
}

/**
 * `crontab` with every AMS block replaced by `block` (at the first block's place, else at the end),
 * or removed when `block` is undefined. Every other line is kept as it was.
 */
/** A marker line: the mark alone or followed by a space ("# BEGIN AMSTERDAM" is someone else's). */
const isMark = (line: string, mark: string) => line.trimEnd() === mark || line.startsWith(`${mark} `);

export function replaceBlock(crontab: string, block: string | undefined): string {
  const lines = crontab === "" ? [] : crontab.replace(/\n$/, "").split("\n");
  const kept: string[] = [];
  let insertAt: number | undefined;
  let open: number | undefined;
  lines.forEach((line, i) => {
    if (isMark(line, BEGIN_MARK)) {
      if (open !== undefined)
        throw new Error(`crontab line ${i + 1}: "${BEGIN_MARK}" inside an AMS block opened on line ${open + 1}`);
      open = i;
      insertAt ??= kept.length;
    } else if (isMark(line, END_MARK)) {
      if (open === undefined) throw new Error(`crontab line ${i + 1}: "${END_MARK}" without "${BEGIN_MARK}"`);
      open = undefined;
    } else if (open === undefined) kept.push(line);
  });
  if (open !== undefined)
    throw new Error(`crontab line ${open + 1}: AMS block has no "${END_MARK}"; fix it by hand, nothing was changed`);
  if (block !== undefined) kept.splice(insertAt ?? kept.length, 0, block);
  return kept.length === 0 ? "" : `${kept.join("\n")}\n`;
}
