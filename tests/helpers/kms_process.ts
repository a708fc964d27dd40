/**
 * Real processes for crash tests: `deno run main.ts` servers that can be killed with SIGKILL
 * or sent SIGHUP, and `deno run scripts/admin.ts` commands that can be watched line by line
 * and killed mid-way.
 *
 * @module
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { ACCOUNT_ID, ADMIN, REGION } from "./server.ts";

const ROOT = new URL("../../", import.meta.url);
const ADMIN_SCRIPT = new URL("../../scripts/admin.ts", import.meta.url).pathname;

/** `env` plus what Deno itself needs (no KMS_* of the test's own environment leaks in). */
function withBase(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...env };
}

/** Lines a child printed on stdout and stderr, with waiters for a matching line. */
class Lines {
  readonly all: string[] = [];
  #waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];

  push(line: string): void {
    this.all.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      const m = w.pattern.exec(line);
      if (m !== null) w.resolve(m);
      return m === null;
    });
  }

  /** The first line (already printed or still to come) matching `pattern`. */
  wait(pattern: RegExp): Promise<RegExpExecArray> {
    for (const line of this.all) {
      const m = pattern.exec(line);
      if (m !== null) return Promise.resolve(m);
    }
    return new Promise((resolve) => this.#waiters.push({ pattern, resolve }));
  }

  tail(n = 40): string {
    return this.all.slice(-n).join("\n");
  }
}

function drain(child: Deno.ChildProcess, lines: Lines): Promise<void> {
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) lines.push(line);
    }
    if (rest !== "") lines.push(rest);
  };
  return Promise.all([read(child.stdout), read(child.stderr)]).then(() => {});
}

/** A `deno run main.ts` process. */
export interface KmsProcess {
  url: string;
  pid: number;
  client: KMSClient;
  /** Sends a signal (SIGKILL, SIGHUP...). */
  signal(signal: Deno.Signal): void;
  /** Waits for a printed line. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  /** SIGKILL: no shutdown at all. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  output(): string;
  /** Every line it printed so far. */
  lines(): readonly string[];
}

/** Environment of a server or admin process on `dbUrl` with a root keyring file. */
export function kmsEnv(dbUrl: string, keyFile: string): Record<string, string> {
  return {
    KMS_DB_URL: dbUrl,
    KMS_ROOT_KEY_FILE: keyFile,
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    KMS_ACCOUNT_ID: ACCOUNT_ID,
    KMS_REGION: REGION,
    KMS_HOST: "127.0.0.1",
    KMS_PORT: "0",
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
    KMS_LOG_LEVEL: "info",
  };
}

/** The command running main.ts; `fdLimit` lowers its descriptor limit (`ulimit -n`) first. */
function serverCommand(fdLimit: number | undefined): { command: string; args: string[] } {
  const args = ["run", "--allow-all", "main.ts"];
  if (fdLimit === undefined) return { command: Deno.execPath(), args };
  const script = `ulimit -n ${Math.trunc(fdLimit)} && exec "$0" "$@"`;
  return { command: "bash", args: ["-c", script, Deno.execPath(), ...args] };
}

/** Starts main.ts with `env`; resolves once it listens, rejects with its output if it exits. */
export async function startKms(
  env: Record<string, string>,
  options: { fdLimit?: number } = {},
): Promise<KmsProcess> {
  const { command, args } = serverCommand(options.fdLimit);
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: withBase(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = new Lines();
  const drained = drain(child, lines);
  const exited = child.status.then(async (status) => {
    await drained;
    throw new Error(`server exited (${status.code}) before listening:\n${lines.tail()}`);
  });
  const url = (await Promise.race([lines.wait(/KMS listening on (http:\/\/[^"\s]+)/), exited]))[1]!;
  exited.catch(() => {});
  const client = new KMSClient({
    endpoint: url,
    region: REGION,
    credentials: { ...ADMIN },
    maxAttempts: 1,
  });
  let ended: Promise<void> | null = null;
  const end = (signal: Deno.Signal) => {
    ended ??= (async () => {
      client.destroy();
      try {
        child.kill(signal);
      } catch { /* gone */ }
      await child.status;
      await drained;
    })();
    return ended;
  };
  return {
    url,
    pid: child.pid,
    client,
    signal: (signal) => child.kill(signal),
    waitFor: (pattern) => lines.wait(pattern),
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
    output: () => lines.tail(),
    lines: () => lines.all,
  };
}

/** Starts main.ts expecting it to refuse to start; resolves to what it printed. */
export async function failingKms(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "main.ts"],
    cwd: ROOT,
    env: withBase(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  if (out.success) throw new Error("the server was expected to fail");
  return d.decode(out.stdout) + d.decode(out.stderr);
}

/** A running admin command. */
export interface AdminProcess {
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  kill(): Promise<void>;
  /** Waits for the exit; its code and output. */
  done(): Promise<{ code: number; output: string }>;
}

/** Starts `scripts/admin.ts <args>` with `env`. */
export function startAdmin(env: Record<string, string>, args: string[]): AdminProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ADMIN_SCRIPT, ...args],
    cwd: ROOT,
    env: withBase(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = new Lines();
  const drained = drain(child, lines);
  const done = async () => {
    const status = await child.status;
    await drained;
    return { code: status.code, output: lines.all.join("\n") };
  };
  return {
    waitFor: (pattern) => lines.wait(pattern),
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await done();
    },
    done,
  };
}

/** Runs an admin command to its end. */
export async function runAdmin(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number; output: string }> {
  return await startAdmin(env, args).done();
}
