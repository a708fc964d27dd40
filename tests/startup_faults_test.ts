/**
 * The start-up fault table (README "Start-up checks"): each case starts the real main.ts as a
 * child process in a data directory set up with one fault (a bad variable, a bad or missing root
 * key, a port in use, a foreign, corrupt, locked or unreadable database, a missing file...). Each
 * start must be refused with exactly one line on stderr naming what is wrong (no stack trace),
 * a non-zero exit code, and the data directory exactly as it was: the same names, the same bytes.
 * One exception: the bytes of an existing `-shm` file (present, as before, is checked). It is
 * SQLite's shared-memory index, not data: the first connection of any process resets and
 * rebuilds it, and the checks must open the database to read it.
 *
 * Run as root, the children drop CAP_DAC_OVERRIDE (setpriv), so file modes apply to them as to
 * any operator's user; without setpriv the cases that need modes are skipped and named.
 *
 * Cases run three at a time: the 43 cases took 12 s on the idle 2-core machine and up to 56 s
 * while five other engineers ran their tests on it (the test prints every case's duration).
 *
 * Also here: after SIGTERM, the database file alone (no -wal) holds everything.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from "@aws-sdk/client-kms";
import { startHranaServer } from "./helpers/hrana_server.ts";
import { kmsEnv, startKms } from "./helpers/kms_process.ts";

const ROOT = new URL("../", import.meta.url);
const PARALLEL = 3;
/** Generous: a refusal takes a few seconds; a hang is what this catches. */
const CASE_DEADLINE_MS = 90_000;
const KEY_A = new Uint8Array(32).fill(1).toBase64();

/** Drop root's override of file modes, when running as root. */
const DROP_CAPS = Deno.uid() === 0 && await hasSetpriv()
  ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
  : null;
const MODES_APPLY = Deno.uid() !== 0 || DROP_CAPS !== null;

async function hasSetpriv(): Promise<boolean> {
  try {
    return (await new Deno.Command("setpriv", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

/** A data directory set up for one case, and what to undo after it. */
interface Setup {
  env?: Record<string, string>;
  /** Runs after the child ended (release a lock, close a listener, restore a mode). */
  cleanup?: () => void | Promise<void>;
}

interface Case {
  name: string;
  /** What the one line must say. */
  expect: RegExp;
  /** Fill `dir` (the data directory); `template` is a stopped KMS's data directory. */
  setup(dir: string, template: string): Promise<Setup | void> | Setup;
  /** Needs file modes to apply to the child. */
  modes?: boolean;
}

/** Copies the stopped KMS's files (kms.db, its empty -wal and -shm, root.key) into `dir`. */
async function copyTemplate(template: string, dir: string, only?: string[]): Promise<void> {
  for await (const entry of Deno.readDir(template)) {
    if (only !== undefined && !only.includes(entry.name)) continue;
    await Deno.copyFile(`${template}/${entry.name}`, `${dir}/${entry.name}`);
  }
}

const env = (values: Record<string, string>) => ({ env: values });

const CASES: Case[] = [
  // core/config.ts, each kind of value
  {
    name: "KMS_PORT not a number",
    expect: /^KMS_PORT must be/,
    setup: () => env({ KMS_PORT: "80a" }),
  },
  {
    name: "KMS_PORT out of range",
    expect: /^KMS_PORT must be/,
    setup: () => env({ KMS_PORT: "65536" }),
  },
  { name: "KMS_PORT empty", expect: /^KMS_PORT must be/, setup: () => env({ KMS_PORT: "" }) },
  {
    name: "KMS_HOST with a space",
    expect: /^KMS_HOST must be/,
    setup: () => env({ KMS_HOST: "local host" }),
  },
  {
    name: "KMS_REGION not a region",
    expect: /KMS_REGION/,
    setup: () => env({ KMS_REGION: "mars" }),
  },
  {
    name: "KMS_REGIONS lists a non-region",
    expect: /^KMS_REGIONS/,
    setup: () => env({ KMS_REGIONS: "eu-west-1,moon" }),
  },
  {
    name: "KMS_ACCOUNT_ID too short",
    expect: /^KMS_ACCOUNT_ID/,
    setup: () => env({ KMS_ACCOUNT_ID: "1234" }),
  },
  {
    name: "KMS_LOG_LEVEL unknown",
    expect: /^KMS_LOG_LEVEL/,
    setup: () => env({ KMS_LOG_LEVEL: "loud" }),
  },
  {
    name: "KMS_ADMIN_ACCESS_KEY_ID without its secret",
    expect: /KMS_ADMIN_ACCESS_KEY_ID and KMS_ADMIN_SECRET_ACCESS_KEY/,
    setup: () => env({ KMS_ADMIN_ACCESS_KEY_ID: "AKIAEXAMPLE0000000000" }),
  },
  {
    name: "KMS_RSA_POOL_2048 negative",
    expect: /^KMS_RSA_POOL_2048/,
    setup: () => env({ KMS_RSA_POOL_2048: "-1" }),
  },
  {
    name: "KMS_CRYPTO_WORKERS too many",
    expect: /^KMS_CRYPTO_WORKERS/,
    setup: () => env({ KMS_CRYPTO_WORKERS: "1000" }),
  },
  {
    name: "KMS_METRICS neither on nor off",
    expect: /^KMS_METRICS/,
    setup: () => env({ KMS_METRICS: "yes" }),
  },
  {
    name: "KMS_ROTATION_CHECK_INTERVAL_MS zero",
    expect: /^KMS_ROTATION_CHECK_INTERVAL_MS/,
    setup: () => env({ KMS_ROTATION_CHECK_INTERVAL_MS: "0" }),
  },
  {
    name: "KMS_DB_URL of an unknown scheme",
    expect: /^KMS_DB_URL must be a libSQL URL/,
    setup: () => env({ KMS_DB_URL: "postgres://db.example/kms" }),
  },
  // root key
  {
    name: "KMS_ROOT_KEY not base64",
    expect: /^KMS_ROOT_KEY is not valid base64/,
    setup: () => env({ KMS_ROOT_KEY: "not base64!" }),
  },
  {
    name: "KMS_ROOT_KEY of 16 bytes",
    expect: /^KMS_ROOT_KEY must be base64 of 32 bytes, got 16/,
    setup: () => env({ KMS_ROOT_KEY: new Uint8Array(16).toBase64() }),
  },
  {
    name: "KMS_ROOT_KEYS_PREVIOUS without KMS_ROOT_KEY",
    expect: /^KMS_ROOT_KEYS_PREVIOUS goes with KMS_ROOT_KEY/,
    setup: () => env({ KMS_ROOT_KEYS_PREVIOUS: KEY_A }),
  },
  {
    name: "root key file malformed",
    expect: /^KMS_ROOT_KEY_FILE .*root\.key \(line 2\) is not valid base64/,
    setup: async (dir) => void await Deno.writeTextFile(`${dir}/root.key`, `# ring\nnot-a-key\n`),
  },
  {
    name: "root key file holds no key",
    expect: /^KMS_ROOT_KEY_FILE .*root\.key holds no key/,
    setup: async (dir) => void await Deno.writeTextFile(`${dir}/root.key`, "# nothing\n\n"),
  },
  {
    name: "root key file unreadable",
    modes: true,
    expect: /^KMS_ROOT_KEY_FILE .*root\.key is not readable/,
    setup: async (dir) => {
      await Deno.writeTextFile(`${dir}/root.key`, `${KEY_A}\n`, { mode: 0o000 });
      await Deno.chmod(`${dir}/root.key`, 0o000);
      return {};
    },
  },
  {
    name: "root key file is a directory",
    expect: /^KMS_ROOT_KEY_FILE .*root\.key is a directory/,
    setup: async (dir) => void await Deno.mkdir(`${dir}/root.key`),
  },
  {
    name: "root key file missing for a database that holds data",
    expect: /^KMS_ROOT_KEY_FILE .*root\.key does not exist, but the database .* holds data/,
    setup: (dir, template) => copyTemplate(template, dir, ["kms.db"]).then(() => ({})),
  },
  {
    name: "root key file missing, data left by a stopped server (-wal and -shm present)",
    expect: /^KMS_ROOT_KEY_FILE .*root\.key does not exist, but the database .* holds data/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir);
      await Deno.remove(`${dir}/root.key`);
      return {};
    },
  },
  {
    name: "root key file missing for a remote database that holds data",
    expect: /^KMS_ROOT_KEY_FILE .*root\.key does not exist, but the remote database holds data/,
    setup: async (_dir, template) => {
      const remoteDir = await Deno.makeTempDir({ prefix: "kms-startup-remote-" });
      await Deno.copyFile(`${template}/kms.db`, `${remoteDir}/kms.db`);
      const remote = startHranaServer(`${remoteDir}/kms.db`);
      return {
        env: { KMS_DB_URL: remote.url },
        cleanup: async () => {
          await remote.close();
          await Deno.remove(remoteDir, { recursive: true });
        },
      };
    },
  },
  {
    name: "root key of another database",
    expect: /^The root key \(KMS_ROOT_KEY \/ KMS_ROOT_KEY_FILE\) is not the one/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir, ["kms.db"]);
      await Deno.writeTextFile(`${dir}/root.key`, `${KEY_A}\n`);
      return {};
    },
  },
  {
    name: "root key file's directory missing (new database)",
    expect: /^KMS_ROOT_KEY_FILE .*keys\/root\.key does not exist and its directory .* does not/,
    setup: (dir) => env({ KMS_ROOT_KEY_FILE: `${dir}/keys/root.key` }),
  },
  // port
  {
    name: "port already in use",
    expect: /^KMS_HOST 127\.0\.0\.1, KMS_PORT \d+: the port is already in use/,
    setup: (dir, template) => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      return copyTemplate(template, dir).then(() => ({
        env: { KMS_PORT: String(listener.addr.port) },
        cleanup: () => listener.close(),
      }));
    },
  },
  {
    name: "KMS_HOST not an address of this machine",
    expect: /^KMS_HOST 192\.0\.2\.1, KMS_PORT 0: 192\.0\.2\.1 is not an address of this machine/,
    setup: () => env({ KMS_HOST: "192.0.2.1" }),
  },
  // database
  {
    name: "a foreign SQLite file",
    expect: /^KMS_DB_URL: .*kms\.db is not this KMS's database \(it holds tables customers/,
    setup: async (dir) => {
      await sqlite(`${dir}/kms.db`, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);");
      return {};
    },
  },
  {
    name: "a database migrated by a newer KMS",
    expect: /^KMS_DB_URL: .*kms\.db was migrated by a newer version of the KMS \(migration 999_/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir);
      await sqlite(
        `${dir}/kms.db`,
        "INSERT INTO schema_migrations VALUES (999, 'from_the_future', 0); PRAGMA wal_checkpoint(TRUNCATE);",
      );
      return {};
    },
  },
  {
    name: "a corrupt database (a b-tree page overwritten)",
    expect: /^KMS_DB_URL: database .*kms\.db is corrupt/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir);
      const page = await rootPage(template, "keys");
      const file = await Deno.open(`${dir}/kms.db`, { write: true });
      await file.seek((page - 1) * 4096, Deno.SeekMode.Start);
      await file.write(new Uint8Array(4096).fill(0x5a));
      file.close();
      return {};
    },
  },
  {
    name: "a file that is not a database",
    expect: /^KMS_DB_URL: .*kms\.db is not a SQLite database/,
    setup: async (dir) =>
      void await Deno.writeTextFile(`${dir}/kms.db`, "hello, world\n".repeat(400)),
  },
  {
    name: "the database path is a directory",
    expect: /^KMS_DB_URL: .*kms\.db is not a regular file/,
    setup: async (dir) => void await Deno.mkdir(`${dir}/kms.db`),
  },
  {
    name: "a database locked by another process",
    expect: /^KMS_DB_URL: database .*kms\.db is locked by another process/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir);
      const holder = await holdWriteLock(`${dir}/kms.db`);
      return { cleanup: () => holder.release() };
    },
  },
  {
    name: "a read-only data directory",
    modes: true,
    expect: /^KMS_DB_URL: directory .* is not writable/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir);
      await Deno.chmod(dir, 0o555);
      return { cleanup: () => Deno.chmod(dir, 0o755) };
    },
  },
  {
    name: "a missing data directory",
    expect: /^KMS_DB_URL: directory .*\/missing does not exist: create it/,
    setup: (dir) => env({ KMS_DB_URL: `file:${dir}/missing/kms.db` }),
  },
  {
    name: "a read-only database file",
    modes: true,
    expect: /^KMS_DB_URL: database .*kms\.db is not readable and writable/,
    setup: async (dir, template) => {
      await copyTemplate(template, dir);
      await Deno.chmod(`${dir}/kms.db`, 0o400);
      return {};
    },
  },
  // files the configuration names
  {
    name: "principals file missing",
    expect: /^KMS_PRINCIPALS_FILE: cannot read .*principals\.json: it does not exist/,
    setup: (dir) => env({ KMS_PRINCIPALS_FILE: `${dir}/principals.json` }),
  },
  {
    name: "principals file invalid",
    expect: /^KMS_PRINCIPALS_FILE: principals\[0\]/,
    setup: async (dir) => {
      await Deno.writeTextFile(`${dir}/principals.json`, JSON.stringify({ principals: [{}] }));
      return env({ KMS_PRINCIPALS_FILE: `${dir}/principals.json` });
    },
  },
  {
    name: "seed file missing",
    expect: /^KMS_SEED_FILE: cannot read .*seed\.yaml: it does not exist/,
    setup: (dir) => env({ KMS_SEED_FILE: `${dir}/seed.yaml` }),
  },
  {
    name: "seed file not valid JSON",
    expect: /^KMS_SEED_FILE: not valid JSON/,
    setup: async (dir) => {
      await Deno.writeTextFile(`${dir}/seed.json`, '{"keys": [');
      return env({ KMS_SEED_FILE: `${dir}/seed.json` });
    },
  },
  {
    name: "attestation roots file missing",
    expect: /^KMS_ATTESTATION_ROOTS: cannot read .*roots\.pem: it does not exist/,
    setup: (dir) => env({ KMS_ATTESTATION_ROOTS: `${dir}/roots.pem` }),
  },
  {
    name: "attestation roots without a certificate",
    expect: /^KMS_ATTESTATION_ROOTS: the PEM text holds no CERTIFICATE block/,
    setup: async (dir) => {
      await Deno.writeTextFile(`${dir}/roots.pem`, "not a pem\n");
      return env({ KMS_ATTESTATION_ROOTS: `${dir}/roots.pem` });
    },
  },
];

/**
 * Another process holding the write lock of a database (BEGIN IMMEDIATE), as a long write of
 * another program would, until released. (Not this process: reading the files for the snapshot
 * would drop its POSIX locks.)
 */
async function holdWriteLock(path: string): Promise<{ release(): Promise<void> }> {
  const code = `import { createClient } from "@libsql/client";
const db = createClient({ url: ${JSON.stringify(`file:${path}`)}, concurrency: 1 });
const tx = await db.transaction("write");
console.log("holding");
for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
await tx.rollback();`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("holding")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the lock holder exited before holding the lock");
    seen += value;
  }
  reader.releaseLock();
  return {
    async release() {
      await child.stdin.close().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      const status = await child.status;
      if (!status.success) throw new Error(`the lock holder failed (${status.code})`);
    },
  };
}

/**
 * Runs a SQL script on a database file, in a child process: the libSQL driver releases a
 * connection (and SQLite removes `-wal`/`-shm`) only when it is garbage-collected, so a connection
 * of this process could change the directory at any later moment, in the middle of a case.
 */
async function sqlite(path: string, script: string): Promise<void> {
  const code = `import { createClient } from "@libsql/client";
const db = createClient({ url: ${JSON.stringify(`file:${path}`)} });
await db.executeMultiple(${JSON.stringify(script)});
db.close();`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`sqlite script failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** The root page of `table` in a copy of the template's database. */
async function rootPage(template: string, table: string): Promise<number> {
  const scratch = await Deno.makeTempDir({ prefix: "kms-startup-scratch-" });
  await Deno.copyFile(`${template}/kms.db`, `${scratch}/kms.db`);
  const db = createClient({ url: `file:${scratch}/kms.db` });
  try {
    const result = await db.execute({
      sql: "SELECT rootpage FROM sqlite_schema WHERE name = ?",
      args: [table],
    });
    return Number(result.rows[0]![0]);
  } finally {
    db.close();
  }
}

/** The bytes of a file; of one this process may not read, its size and modification time. */
async function contents(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    const info = await Deno.stat(path);
    return new TextEncoder().encode(`unreadable ${info.size} ${info.mtime?.getTime()}`);
  }
}

/** Every path under `dir` with its bytes (directories as null). */
async function snapshot(dir: string): Promise<Map<string, Uint8Array | null>> {
  const out = new Map<string, Uint8Array | null>();
  const walk = async (path: string, rel: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      const name = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) {
        out.set(name + "/", null);
        await walk(full, name);
      } else out.set(name, await contents(full));
    }
  };
  await walk(dir, "");
  return out;
}

function sameSnapshot(
  before: Map<string, Uint8Array | null>,
  after: Map<string, Uint8Array | null>,
): string | null {
  const names = (m: Map<string, unknown>) => [...m.keys()].sort().join(", ");
  if (names(before) !== names(after)) {
    return `directory listing changed: [${names(before)}] -> [${names(after)}]`;
  }
  for (const [name, bytes] of before) {
    const now = after.get(name)!;
    if (bytes === null || now === null || name.endsWith("-shm")) continue;
    if (bytes.length !== now.length || !bytes.every((b, i) => b === now[i])) {
      return `${name} changed (${bytes.length} -> ${now.length} bytes)`;
    }
  }
  return null;
}

/** Environment of a child: what Deno needs, the case's data directory, then the case's values. */
function childEnv(dir: string, values: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  return {
    ...base,
    KMS_DB_URL: `file:${dir}/kms.db`,
    KMS_ROOT_KEY_FILE: `${dir}/root.key`,
    KMS_HOST: "127.0.0.1",
    KMS_PORT: "0",
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
    ...values,
  };
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs main.ts; kills it (and reports the hang) past the deadline. */
async function runMain(envValues: Record<string, string>): Promise<Outcome> {
  const command = [...(DROP_CAPS ?? []), Deno.execPath(), "run", "--allow-all", "main.ts"];
  const started = performance.now();
  const child = new Deno.Command(command[0]!, {
    args: command.slice(1),
    cwd: ROOT,
    env: envValues,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), CASE_DEADLINE_MS);
  try {
    const out = await child.output();
    const d = new TextDecoder();
    return {
      code: out.code,
      stdout: d.decode(out.stdout),
      stderr: d.decode(out.stderr),
      ms: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** What is wrong with how a case went; null when it went as it must. */
async function runCase(c: Case, template: string): Promise<{ problem: string | null; ms: number }> {
  const dir = await Deno.makeTempDir({ prefix: "kms-startup-fault-" });
  let setup: Setup = {};
  try {
    setup = (await c.setup(dir, template)) ?? {};
    const before = await snapshot(dir);
    const out = await runMain(childEnv(dir, setup.env ?? {}));
    const after = await snapshot(dir);
    await setup.cleanup?.();
    setup = {};
    const lines = out.stderr.split("\n").filter((line) => line !== "");
    const problems: string[] = [];
    if (out.code === 0) problems.push("exit code 0");
    if (lines.length !== 1) problems.push(`${lines.length} lines on stderr:\n${out.stderr}`);
    else if (!c.expect.test(lines[0]!)) {
      problems.push(`stderr ${JSON.stringify(lines[0])} !~ ${c.expect}`);
    }
    if (out.stdout !== "") problems.push(`stdout: ${out.stdout}`);
    const changed = sameSnapshot(before, after);
    if (changed !== null) problems.push(changed);
    return { problem: problems.length === 0 ? null : problems.join("; "), ms: out.ms };
  } finally {
    await setup.cleanup?.();
    await Deno.chmod(dir, 0o755).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** A stopped KMS's data directory: one key, its ciphertext, the admin credential. */
async function stoppedKmsDirectory(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kms-startup-template-" });
  const kms = await startKms(kmsEnv(`file:${dir}/kms.db`, `${dir}/root.key`));
  try {
    const keyId = (await kms.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await kms.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(8) }));
  } finally {
    await kms.stop();
  }
  return dir;
}

Deno.test({
  name: "every start-up fault is refused with one line on stderr, a non-zero exit and the data " +
    "directory unchanged, byte for byte",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(CASES.length >= 20);
    const started = performance.now();
    const template = await stoppedKmsDirectory();
    // STARTUP_CASES=<regex>: only the cases whose names match (while debugging one).
    const only = new RegExp(Deno.env.get("STARTUP_CASES") ?? "");
    const runnable = CASES.filter((c) => (MODES_APPLY || c.modes !== true) && only.test(c.name));
    const skipped = CASES.filter((c) => only.test(c.name) && !runnable.includes(c))
      .map((c) => c.name);
    const results: { name: string; problem: string | null; ms: number }[] = [];
    try {
      let next = 0;
      const worker = async () => {
        while (next < runnable.length) {
          const c = runnable[next++]!;
          const result = await runCase(c, template);
          results.push({ name: c.name, ...result });
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
    } finally {
      await Deno.remove(template, { recursive: true });
    }
    const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a));
    console.log(
      `${results.length} start-up fault cases in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s ` +
        `(slowest: ${slowest.name}, ${(slowest.ms / 1000).toFixed(1)} s)` +
        (skipped.length > 0 ? `; skipped (file modes do not apply): ${skipped.join(", ")}` : ""),
    );
    console.log(
      results.map((r) => `  ${(r.ms / 1000).toFixed(1)} s  ${r.name}`).join("\n"),
    );
    const failed = results.filter((r) => r.problem !== null).map((r) => `${r.name}: ${r.problem}`);
    assert.deepEqual(failed, []);
  },
});

Deno.test({
  name: "after SIGTERM the database file alone (without -wal) holds every acknowledged write",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kms-startup-sigterm-" });
    try {
      await Deno.mkdir(`${dir}/live`);
      await Deno.mkdir(`${dir}/copy`);
      const keyFile = `${dir}/root.key`;
      const live = await startKms(kmsEnv(`file:${dir}/live/kms.db`, keyFile));
      const written: { keyId: string; blob: Uint8Array; plain: Uint8Array }[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          const keyId = (await live.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
          const plain = crypto.getRandomValues(new Uint8Array(16));
          const out = await live.client.send(
            new EncryptCommand({ KeyId: keyId, Plaintext: plain }),
          );
          written.push({ keyId, blob: out.CiphertextBlob!, plain });
        }
      } finally {
        await live.stop();
      }
      await Deno.copyFile(`${dir}/live/kms.db`, `${dir}/copy/kms.db`);
      const copy = await startKms(kmsEnv(`file:${dir}/copy/kms.db`, keyFile));
      try {
        for (const w of written) {
          const out = await copy.client.send(new DecryptCommand({ CiphertextBlob: w.blob }));
          assert.equal(out.KeyId!.endsWith(w.keyId), true);
          assert.deepEqual(out.Plaintext, w.plain);
        }
      } finally {
        await copy.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
