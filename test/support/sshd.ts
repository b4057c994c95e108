import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";

/**
 * A real OpenSSH server on 127.0.0.1 for tests: its own sshd_config, host key, free port and
 * PidFile, key-only login, nothing shared with the machine's own sshd. Needs root (CI runs as root).
 *
 *   const sshd = await startSshd();                 // log in as root
 *   const sshd = await startSshd({ createUser: true }); // a throwaway user whose home is sshd.home
 *   execa("ssh", [...sshd.sshOptions, "-p", String(sshd.port), `${sshd.user}@${sshd.host}`, "true"]);
 *   await sshd.stop();                              // stops sshd, deletes the user and the folder
 */
export interface TestSshd {
  host: "127.0.0.1";
  port: number;
  /** The account to log in as. */
  user: string;
  /** That account's home folder: relative remote paths start here. */
  home: string;
  /** Client private key that the server accepts. */
  identity: string;
  /** known_hosts file holding this server's key as `[127.0.0.1]:PORT ...`. */
  knownHosts: string;
  /** The same line as in `knownHosts`. */
  knownHostsLine: string;
  /** ssh/scp options for a non-interactive login checked against `knownHosts` (no port, no destination). */
  sshOptions: string[];
  /** Private folder of this server (config, keys, log). */
  dir: string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Create a throwaway user (password locked, login by key) with its home in the server's folder. */
  createUser?: boolean;
  /** Serve no SFTP (scp speaks SFTP since OpenSSH 9: then only ssh logins work). */
  noSftp?: boolean;
  /** Serve SFTP only, whatever the client asks for (ForceCommand internal-sftp): no shell, no command. */
  sftpOnly?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True once sshd has bound its port, false if it exited first (e.g. the port was taken meanwhile). */
async function listening(child: ResultPromise<{ reject: false }>, log: string): Promise<boolean> {
  let exited = false;
  void child.finally(() => (exited = true)).catch(() => undefined);
  for (let i = 0; i < 200 && !exited; i++) {
    if (fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("Server listening")) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** The processes the listener started, one per connection (they outlive it otherwise). */
function sessionsOf(listener: number): number[] {
  return fs.readdirSync("/proc").flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === listener ? [Number(name)] : [];
    } catch {
      return []; // ended meanwhile
    }
  });
}

function sshdConfig(port: number, dir: string, options: SshdOptions): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${path.join(dir, "host_key")}`,
    `PidFile ${path.join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    "StrictModes no", // the keys live under /tmp
    ...(options.noSftp ? [] : ["Subsystem sftp internal-sftp"]), // scp speaks SFTP since OpenSSH 9
    ...(options.sftpOnly ? ["ForceCommand internal-sftp"] : []),
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ams-sshd-"));
  fs.chmodSync(dir, 0o755);
  const file = (name: string) => path.join(dir, name);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file("host_key")]);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file("client_key")]);
  fs.copyFileSync(file("client_key.pub"), file("authorized_keys"));
  fs.chmodSync(file("authorized_keys"), 0o644);

  let user = "root";
  let home = os.userInfo().homedir;
  if (options.createUser) {
    user = `amst${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    home = file("home");
    await execa("useradd", ["-M", "-d", home, "-s", "/bin/sh", user]);
    // useradd leaves the account locked ("!"), which sshd refuses even with a valid key.
    await execa("usermod", ["-p", "*", user]);
    fs.mkdirSync(home);
    await execa("chown", [user, home]);
  }

  fs.mkdirSync("/run/sshd", { recursive: true });
  const log = file("sshd.log");
  const launch = (port: number): ResultPromise<{ reject: false }> => {
    fs.writeFileSync(file("sshd_config"), sshdConfig(port, dir, options));
    fs.rmSync(log, { force: true });
    return execa("/usr/sbin/sshd", ["-D", "-f", file("sshd_config"), "-E", log], { reject: false });
  };
  // Another test may take the free port before sshd binds it: try a few ports.
  let port = 0;
  let server: ResultPromise<{ reject: false }> | undefined;
  for (let attempt = 0; attempt < 3 && !server; attempt++) {
    port = await freePort();
    const started = launch(port);
    if (await listening(started, log)) server = started;
    else {
      started.kill("SIGKILL");
      await started;
    }
  }
  if (!server) {
    const why = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "no log";
    if (options.createUser) await execa("userdel", [user], { reject: false });
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`test sshd did not start: ${why}`);
  }
  const running = server;

  const hostKey = fs.readFileSync(file("host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
  const knownHostsLine = `[127.0.0.1]:${port} ${hostKey}`;
  fs.writeFileSync(file("known_hosts"), `${knownHostsLine}\n`);

  const stop = async () => {
    // Its sessions first: a connection a client keeps open (ssh connection sharing) would keep them,
    // and the output pipes they share with the listener, alive after it.
    for (const pid of sessionsOf(running.pid!)) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // ended meanwhile
      }
    }
    running.kill("SIGTERM");
    await running;
    if (options.createUser) await execa("userdel", [user], { reject: false });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return {
    host: "127.0.0.1",
    port,
    user,
    home,
    identity: file("client_key"),
    knownHosts: file("known_hosts"),
    knownHostsLine,
    sshOptions: [
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${file("known_hosts")}`,
      "-i",
      file("client_key"),
      "-o",
      "IdentitiesOnly=yes",
    ],
    dir,
    stop,
  };
}
