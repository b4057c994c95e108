import fs from "node:fs";

/**
 * The mail template: a text file of sections (see alerts/alert-mail.template) with {{name}}
 * placeholders. Parsing checks every placeholder against the names its section may use, so a typo
 * is reported before any mail is rendered, never sent half-filled.
 */

export const MAIL_PLACEHOLDERS = ["count", "count_text", "severity", "summary", "alerts", "link", "generated"] as const;
export const ALERT_PLACEHOLDERS = [
  "event",
  "server",
  "metric",
  "value",
  "threshold",
  "severity",
  "since",
  "link",
  "message",
  "rule",
] as const;

const SECTIONS = {
  subject: MAIL_PLACEHOLDERS.filter((p) => p !== "alerts"),
  text: MAIL_PLACEHOLDERS,
  html: MAIL_PLACEHOLDERS,
  "text-item": ALERT_PLACEHOLDERS,
  "html-item": ALERT_PLACEHOLDERS,
} as const;
type SectionName = keyof typeof SECTIONS;
export type MailTemplate = Record<SectionName, string>;

export class TemplateError extends Error {
  override name = "TemplateError";
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function parseTemplate(text: string, source: string): MailTemplate {
  const sections: Partial<Record<string, string[]>> = {};
  let current: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^=== *(\S+) *$/.exec(line);
    if (header) {
      const name = header[1]!;
      if (!(name in SECTIONS))
        throw new TemplateError(`${source}: unknown section "${name}" (expected ${Object.keys(SECTIONS).join(", ")})`);
      if (sections[name]) throw new TemplateError(`${source}: section "${name}" appears twice`);
      current = sections[name] = [];
    } else if (current) current.push(line);
    else if (line.trim() !== "" && !line.startsWith("#"))
      throw new TemplateError(`${source}: text before the first "=== section" line`);
  }
  const problems: string[] = [];
  const template: Partial<MailTemplate> = {};
  for (const [name, allowed] of Object.entries(SECTIONS) as [SectionName, readonly string[]][]) {
    const lines = sections[name];
    if (!lines) {
      problems.push(`missing section "${name}"`);
      continue;
    }
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    const section = (template[name] = lines.join("\n"));
    for (const [, placeholder] of section.matchAll(PLACEHOLDER)) {
      if (!allowed.includes(placeholder!))
        problems.push(`section "${name}": unknown placeholder {{${placeholder}}} (allowed: ${allowed.join(", ")})`);
    }
  }
  if (template.subject?.includes("\n")) problems.push(`section "subject": must be one line`);
  if (problems.length > 0) throw new TemplateError(`${source}: ${problems.join("; ")}`);
  return template as MailTemplate;
}

export function loadTemplate(file: string): MailTemplate {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new TemplateError(`${file}: cannot read the mail template: ${(err as Error).message}`);
  }
  return parseTemplate(text, file);
}

/**
 * Fills a section's placeholders. `raw` names values inserted as they are (already-rendered HTML
 * items); every other value is passed through `escape`.
 */
export function fill(
  section: string,
  values: Record<string, string>,
  escape: (s: string) => string = (s) => s,
  raw: readonly string[] = [],
): string {
  return section.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name] ?? "";
    return raw.includes(name) ? value : escape(value);
  });
}
