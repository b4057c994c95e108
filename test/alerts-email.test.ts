import fs from "node:fs";
import path from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { notifierFor, outboxNotifier, readPassword, smtpNotifier, type Notifier } from "../alerts/channels/email.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";
import { email, mail } from "./support/outgoing-mail.js";
import { tempHome } from "./helpers.js";

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp({ user: "ams", password: "s3cret-pass" });
});
afterAll(() => smtp.close());

/** Both notifiers, each with a way to read back what it delivered. */
const transports: [string, () => { notifier: Notifier; readBack(): Promise<ParsedMail[]> }][] = [
  [
    "smtp",
    () => {
      const before = smtp.received.length;
      const notifier = smtpNotifier(
        email({ host: "127.0.0.1", port: smtp.port, starttls: false, user: "ams", password_env: "X" }),
        "s3cret-pass",
      );
      return { notifier, readBack: async () => smtp.received.slice(before).map((r) => r.mail) };
    },
  ],
  [
    "outbox",
    () => {
      const outbox = path.join(tempHome(), "logs", "outbox");
      return {
        notifier: outboxNotifier(email(), outbox),
        readBack: async () =>
          Promise.all(fs.readdirSync(outbox).map((f) => simpleParser(fs.readFileSync(path.join(outbox, f))))),
      };
    },
  ],
];

describe.each(transports)("%s notifier", (_name, make) => {
  test("delivers subject, text and html parts with the mail's id as Message-ID", async () => {
    const { notifier, readBack } = make();
    const answer = await notifier.send(mail);
    expect(answer).toMatch(/Queued as test|written to .*20261125T120000Z\.abc123\.eml$/);
    const [got, ...more] = await readBack();
    expect(more).toEqual([]);
    expect(got!.subject).toBe(mail.subject);
    expect(got!.text).toBe(mail.text);
    expect(got!.html).toBe(mail.html.trimEnd() + "\n");
    expect(got!.messageId).toBe("<20261125T120000Z.abc123@ams>");
    expect(got!.from!.text).toBe('"AMS" <ams@example.org>');
  });
});

describe("secrets", () => {
  test("wrong password: the error does not contain the password", async () => {
    const notifier = smtpNotifier(
      email({ host: "127.0.0.1", port: smtp.port, starttls: false, user: "ams", password_env: "X" }),
      "wrong-pass",
    );
    const error = await notifier.send(mail).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/Invalid username or password/);
    expect(error?.message).not.toContain("wrong-pass");
  });

  test("password from env or owner-only file; a group-readable file is refused", () => {
    const home = tempHome();
    const file = path.join(home, "smtp-password");
    fs.writeFileSync(file, "from-file\n", { mode: 0o600 });
    expect(readPassword(email({ user: "ams", password_file: file }))).toBe("from-file");
    fs.chmodSync(file, 0o640);
    expect(() => readPassword(email({ user: "ams", password_file: file }))).toThrow(
      /email.password_file: .* is readable by others \(mode 640\)/,
    );
    expect(readPassword(email({ user: "ams", password_env: "AMS_TEST_PW" }), { AMS_TEST_PW: "from-env" })).toBe(
      "from-env",
    );
    expect(() => readPassword(email({ user: "ams", password_env: "AMS_TEST_PW" }), {})).toThrow(
      "email.password_env: the environment variable AMS_TEST_PW is not set",
    );
    expect(notifierFor(email(), path.join(home, "outbox")).target).toBe(`outbox ${path.join(home, "outbox")}`);
  });
});
