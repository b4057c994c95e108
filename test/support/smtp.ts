import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A real SMTP server on loopback for tests: records every mail it accepts, raw and parsed. */
export interface TestSmtp {
  port: number;
  /** `secure`: the mail came over TLS (STARTTLS). */
  received: { raw: string; mail: ParsedMail; auth?: string; secure: boolean }[];
  /** Mails whose DATA was read but never answered (`stallData`). */
  stalled: number;
  close(): Promise<void>;
}

/**
 * With `tls`, the server offers STARTTLS with that key and certificate and takes a password only
 * over TLS. With `refuseSubject`, a mail whose subject holds that text is refused for good (554).
 * With `delayFirstAnswerMs`, the first mail is taken but answered late (past a client's timeout).
 * With `stallData`, the server reads a mail's DATA and never answers it, like a server that hangs.
 */
export async function startSmtp(
  options: {
    port?: number;
    user?: string;
    password?: string;
    tls?: { key: string; cert: string };
    refuseSubject?: string;
    /** The first mail is recorded as received, but the server answers it only after this many ms. */
    delayFirstAnswerMs?: number;
    stallData?: boolean;
  } = {},
): Promise<TestSmtp> {
  const received: TestSmtp["received"] = [];
  const counts = { stalled: 0 };
  const server = new SMTPServer({
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : { disabledCommands: ["STARTTLS"] }),
    authOptional: !options.user,
    allowInsecureAuth: !options.tls,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (options.stallData) {
          counts.stalled++;
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw)
          .then((mail) => {
            if (options.refuseSubject && mail.subject?.includes(options.refuseSubject)) {
              callback(Object.assign(new Error("Message refused by policy"), { responseCode: 554 }));
              return;
            }
            received.push({ raw, mail, auth: session.user as string | undefined, secure: session.secure });
            const delay = received.length === 1 ? (options.delayFirstAnswerMs ?? 0) : 0;
            setTimeout(() => callback(null, "Queued as test"), delay);
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    get stalled() {
      return counts.stalled;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
