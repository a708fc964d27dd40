/**
 * Store faults: a full disk (`PRAGMA max_page_count` on the server's own
 * connection, or a small tmpfs), a corrupt page (overwritten in the running
 * database file) and a locked database (another connection holding the write
 * lock). Under each: every request is answered (each has a generous
 * client-side deadline) and every failure is an AWS 5xx error, `GET /ready`
 * answers 503 with the reason while `GET /health` stays 200, the service
 * recovers without a restart when the fault clears, no acknowledged write is
 * lost, and SIGTERM ends the process (a child) within its deadline.
 *
 * Answer times and readiness latency are printed (`store-faults:` lines), not
 * asserted: CI is a busy 2-core machine.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { startServer, type TestServer } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";
import { kmsEnv, type KmsProcess, startKms } from "./helpers/kms_process.ts";
import { signRequest } from "./helpers/signed_fetch.ts";
import { readSmithyModel } from "./helpers/aws_model.ts";
import { openDatabase } from "../storage/client.ts";
import { WITHOUT_DEPENDENCY_TIMEOUT } from "../routes/dependency_timeout.ts";

/** Longest any request may take before the test calls it a hang. */
const CLIENT_DEADLINE_MS = 30_000;
/** Longest a condition (readiness back, process gone) may take to come true. */
const CONDITION_DEADLINE_MS = 60_000;
/** The store deadline the servers under test run with. */
const STORE_TIMEOUT_MS = 1000;
/** The shutdown deadline of the child processes. */
const SHUTDOWN_TIMEOUT_MS = 4000;

const SERVER_ERRORS = new Set(["KMSInternalException", "DependencyTimeoutException"]);

/** A request the server did not answer within the client's deadline. */
class HangError extends Error {
  override readonly name = "HangError";
}

interface Answer {
  operation: string;
  status: number;
  type: string | undefined;
  body: Record<string, unknown>;
  ms: number;
}

/** One signed call with a client-side deadline; a missing answer throws. */
async function call(url: string, operation: string, input: unknown = {}): Promise<Answer> {
  const parts = await signRequest(url, JSON.stringify(input), {
    target: `TrentService.${operation}`,
  });
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(new URL("/", url), {
      method: "POST",
      headers: parts.headers,
      body: parts.body,
      signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
    });
  } catch (error) {
    if ((error as Error).name !== "TimeoutError") throw error;
    throw new HangError(`${operation}: no answer within ${CLIENT_DEADLINE_MS} ms`);
  }
  const body = await response.json() as Record<string, unknown>;
  const ms = performance.now() - started;
  return { operation, status: response.status, type: body.__type as string | undefined, body, ms };
}

/** `GET path` with a client-side deadline: status, JSON body and answer time. */
async function get(url: string, path: string) {
  const started = performance.now();
  const response = await fetch(new URL(path, url), {
    signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
  });
  const body = await response.json() as { status: string; reasons?: string[] };
  return { status: response.status, body, ms: performance.now() - started };
}

/** Waits until `condition` holds (tests/helpers/wait.ts), failing after a generous deadline. */
function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  return waitFor(condition, what, { timeoutMs: CONDITION_DEADLINE_MS, intervalMs: 50 });
}

async function createKey(url: string): Promise<string> {
  const answer = await call(url, "CreateKey", {});
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body.KeyMetadata as { KeyId: string }).KeyId;
}

/**
 * Runs `rounds` rounds of requests (each round in parallel): CreateKey, Encrypt under `keyId`,
 * ListKeys, DescribeKey of a key that does not exist. Every one must be answered.
 */
async function load(url: string, keyId: string, rounds: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let round = 0; round < rounds; round++) {
    answers.push(
      ...await Promise.all([
        call(url, "CreateKey", {}),
        call(url, "CreateKey", {}),
        call(url, "Encrypt", { KeyId: keyId, Plaintext: "AAEC" }),
        call(url, "ListKeys", {}),
        call(url, "DescribeKey", { KeyId: crypto.randomUUID() }),
      ]),
    );
  }
  return answers;
}

/** Asserts every answer is a success or an AWS 5xx error naming a server exception. */
function assertSuccessOr5xx(answers: readonly Answer[]): void {
  for (const answer of answers) {
    if (answer.status === 200) continue;
    if (answer.operation === "DescribeKey" && answer.type === "NotFoundException") continue;
    assert.ok(
      answer.status >= 500 && SERVER_ERRORS.has(answer.type ?? ""),
      `${answer.operation}: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
}

/** Key ids of the CreateKeys that were acknowledged. */
function acknowledgedKeys(answers: readonly Answer[]): string[] {
  return answers
    .filter((a) => a.operation === "CreateKey" && a.status === 200)
    .map((a) => (a.body.KeyMetadata as { KeyId: string }).KeyId);
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function report(fault: string, answers: readonly Answer[], readyMs: number): void {
  const ms = answers.map((a) => a.ms);
  console.log(
    `store-faults: ${fault}: ${answers.length} requests, ` +
      `${answers.filter((a) => a.status >= 500).length} 5xx, ` +
      `p50 ${percentile(ms, 0.5).toFixed(0)} ms, p99 ${percentile(ms, 0.99).toFixed(0)} ms, ` +
      `max ${Math.max(...ms).toFixed(0)} ms; /ready 503 in ${readyMs.toFixed(0)} ms`,
  );
}

/** Asserts every acknowledged key is still there. */
async function assertKeysKept(url: string, keyIds: readonly string[]): Promise<void> {
  for (const keyId of keyIds) {
    const answer = await call(url, "DescribeKey", { KeyId: keyId });
    assert.equal(answer.status, 200, `acknowledged key ${keyId} lost: ${answer.type}`);
  }
}

/** Counts the keys ListKeys pages through. */
async function countKeys(url: string): Promise<number> {
  let count = 0;
  let marker: string | undefined;
  do {
    const answer = await call(url, "ListKeys", marker === undefined ? {} : { Marker: marker });
    assert.equal(answer.status, 200);
    count += (answer.body.Keys as unknown[]).length;
    marker = answer.body.Truncated === true ? answer.body.NextMarker as string : undefined;
  } while (marker !== undefined);
  return count;
}

async function expectNotReady(url: string, reason: RegExp): Promise<number> {
  const ready = await get(url, "/ready");
  assert.equal(ready.status, 503, JSON.stringify(ready.body));
  assert.equal(ready.body.status, "not ready");
  assert.match((ready.body.reasons ?? []).join("; "), reason);
  const health = await get(url, "/health");
  assert.equal(health.status, 200, "liveness stays 200");
  return ready.ms;
}

/** Polls `GET /ready` until it answers 503 for `reason` (a fault may need a request to show). */
async function waitNotReady(url: string, reason: RegExp): Promise<number> {
  let ms = 0;
  await waitUntil(`/ready 503 for ${reason}`, async () => {
    const ready = await get(url, "/ready");
    ms = ready.ms;
    return ready.status === 503 && reason.test((ready.body.reasons ?? []).join("; "));
  });
  return ms;
}

async function isReady(url: string): Promise<boolean> {
  return (await get(url, "/ready")).status === 200;
}

function serverWithFile(dir: string): Promise<TestServer> {
  return startServer({
    dbUrl: `file:${dir}/kms.db`,
    env: { KMS_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS) },
  });
}

// --- a full disk --------------------------------------------------------------------------

Deno.test("a full database answers every request with a success or an AWS 5xx error, readiness 503, and recovers when space returns with no acknowledged key lost", async () => {
  const server = await startServer({ env: { KMS_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS) } });
  try {
    const { url } = server;
    assert.equal((await get(url, "/ready")).status, 200);
    const before = [await createKey(url), await createKey(url), await createKey(url)];
    const { store } = server.service;
    const pages = Number((await store.client.execute("PRAGMA page_count")).rows[0]?.[0]);
    // A per-connection limit: on the database worker's connection too.
    await store.connectionPragma(`PRAGMA max_page_count = ${pages}`);

    const answers = await load(url, before[0]!, 30);
    assertSuccessOr5xx(answers);
    assert.ok(
      answers.some((a) => a.operation === "CreateKey" && a.status === 500),
      "CreateKey fails on a full database",
    );
    const readyMs = await expectNotReady(url, /SQLITE_FULL/);
    report("disk full (max_page_count)", answers, readyMs);

    await store.connectionPragma("PRAGMA max_page_count = 1073741823");
    await waitUntil("ready once the database may grow again", () => isReady(url));
    const after = await createKey(url);
    const acknowledged = [...before, ...acknowledgedKeys(answers), after];
    await assertKeysKept(url, acknowledged);
    assert.equal(await countKeys(url), acknowledged.length, "no failed CreateKey left a key");
  } finally {
    await server.close();
  }
});

// --- a corrupt page -----------------------------------------------------------------------

/** The file offset and size of the page holding the `keys` table (a leaf while it is small). */
async function keysPage(db: Client): Promise<{ offset: number; size: number }> {
  const size = Number((await db.execute("PRAGMA page_size")).rows[0]?.[0]);
  const root = Number(
    (await db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'keys'")).rows[0]?.[0],
  );
  return { offset: (root - 1) * size, size };
}

/** Overwrites one page of `path`; returns its former bytes. */
async function overwritePage(
  path: string,
  page: { offset: number; size: number },
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    const before = new Uint8Array(page.size);
    await file.seek(page.offset, Deno.SeekMode.Start);
    let read = 0;
    while (read < page.size) read += (await file.read(before.subarray(read))) ?? page.size;
    await file.seek(page.offset, Deno.SeekMode.Start);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
    return before;
  } finally {
    file.close();
  }
}

/**
 * Moves every committed page into the database file, so that the page overwritten next is the
 * one readers get, and commits from another connection afterwards so that every connection's
 * page cache is dropped (SQLite keeps its cache while no other connection commits).
 */
async function checkpoint(db: Client): Promise<void> {
  await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
}

async function touch(db: Client): Promise<void> {
  await db.execute("UPDATE schema_migrations SET name = name WHERE version = 1");
}

Deno.test("a corrupt page answers every request with a success or an AWS 5xx error and readiness 503, and the keys are all there once the page is repaired", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-corrupt-" });
  const server = await serverWithFile(dir);
  const other = await openDatabase(`file:${dir}/kms.db`);
  try {
    const { url } = server;
    const before = [await createKey(url), await createKey(url), await createKey(url)];
    const page = await keysPage(other);
    await checkpoint(other);
    const original = await overwritePage(
      `${dir}/kms.db`,
      page,
      new Uint8Array(page.size).fill(0x5a),
    );
    await touch(other);

    const answers = await load(url, before[0]!, 20);
    assertSuccessOr5xx(answers);
    // CreateKey writes the corrupt page and ListKeys scans it; a missing key's lookup reads the
    // primary-key index only (NotFoundException), an Encrypt may use the key in memory.
    const touchingPage = answers.filter((a) => ["CreateKey", "ListKeys"].includes(a.operation));
    assert.ok(
      touchingPage.every((a) => a.status === 500 && a.type === "KMSInternalException"),
      "every request that reads or writes the corrupt page fails with KMSInternalException",
    );
    const readyMs = await expectNotReady(url, /SQLITE_CORRUPT|corrupt/);
    report("corrupt page", answers, readyMs);

    await overwritePage(`${dir}/kms.db`, page, original);
    await waitUntil("the keys readable again once the page is repaired", async () => {
      await touch(other);
      return (await call(url, "ListKeys", {})).status === 200;
    });
    const after = await createKey(url);
    await assertKeysKept(url, [...before, after]);
    assert.equal(await countKeys(url), before.length + 1, "no failed CreateKey left a key");
  } finally {
    other.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// --- a locked database --------------------------------------------------------------------

Deno.test("a locked database answers writes with DependencyTimeoutException by the store deadline, readiness 503, and recovers once the lock is released", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-locked-" });
  const server = await serverWithFile(dir);
  const other = await openDatabase(`file:${dir}/kms.db`);
  try {
    const { url } = server;
    const before = [await createKey(url), await createKey(url)];
    const lock = await other.transaction("write");
    let answers: Answer[];
    let readyMs: number;
    try {
      answers = await load(url, before[0]!, 4);
      readyMs = await expectNotReady(url, /SQLITE_BUSY|locked/);
    } finally {
      await lock.rollback();
    }
    assertSuccessOr5xx(answers);
    for (const answer of answers.filter((a) => a.operation === "CreateKey")) {
      assert.equal(answer.status, 503, JSON.stringify(answer.body));
      assert.equal(answer.type, "DependencyTimeoutException");
    }
    report("locked database", answers, readyMs);

    await waitUntil("ready once the lock is released", () => isReady(url));
    const after = await createKey(url);
    await assertKeysKept(url, [...before, after]);
    assert.equal(await countKeys(url), before.length + 1, "a timed-out CreateKey left no key");
  } finally {
    other.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// --- SIGTERM under each fault -------------------------------------------------------------

async function startChild(dir: string): Promise<KmsProcess> {
  const keyFile = `${dir}/root.key`;
  await Deno.writeTextFile(keyFile, new Uint8Array(32).fill(9).toBase64() + "\n");
  return await startKms({
    ...kmsEnv(`file:${dir}/kms.db`, keyFile),
    KMS_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
    KMS_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  });
}

/**
 * Keeps requests in flight until `stop`; each must be answered, or refused once the server
 * closes its listener. `stop` throws when one hung.
 */
function keepBusy(url: string, keyId: string): { stop(): Promise<void> } {
  let running = true;
  const loop = async (): Promise<HangError | null> => {
    while (running) {
      try {
        await call(url, "CreateKey", {});
        await call(url, "Encrypt", { KeyId: keyId, Plaintext: "AAEC" });
      } catch (error) {
        return error instanceof HangError ? error : null;
      }
    }
    return null;
  };
  const loops = [loop(), loop(), loop()];
  return {
    async stop() {
      running = false;
      const hung = (await Promise.all(loops)).find((error) => error !== null);
      if (hung) throw hung;
    },
  };
}

/** SIGTERM; resolves with the exit code and how long the process took to go. */
async function terminate(child: KmsProcess): Promise<{ ms: number }> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = child.stop();
  await Promise.race([
    stopped,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running ${CONDITION_DEADLINE_MS} ms after SIGTERM`)),
        CONDITION_DEADLINE_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return { ms: performance.now() - started };
}

function assertShutdownLogged(child: KmsProcess): void {
  assert.ok(
    child.lines().some((line) => /shutdown (complete|incomplete)/.test(line)),
    `no shutdown line:\n${child.output()}`,
  );
}

Deno.test("SIGTERM with requests in flight ends the process within its deadline on a corrupt page and on a locked database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-sigterm-" });
  try {
    for (const fault of ["corrupt page", "locked database"] as const) {
      await Deno.remove(`${dir}/kms.db`).catch(() => {});
      await Deno.remove(`${dir}/kms.db-wal`).catch(() => {});
      await Deno.remove(`${dir}/kms.db-shm`).catch(() => {});
      const child = await startChild(dir);
      const other = await openDatabase(`file:${dir}/kms.db`);
      let lock: Awaited<ReturnType<Client["transaction"]>> | undefined;
      try {
        const keyId = await createKey(child.url);
        if (fault === "corrupt page") {
          const page = await keysPage(other);
          await checkpoint(other);
          await overwritePage(`${dir}/kms.db`, page, new Uint8Array(page.size).fill(0x5a));
          await touch(other);
        } else {
          lock = await other.transaction("write");
        }
        const busy = keepBusy(child.url, keyId);
        await waitNotReady(child.url, fault === "corrupt page" ? /corrupt/ : /SQLITE_BUSY/);
        const { ms } = await terminate(child);
        await busy.stop();
        assertShutdownLogged(child);
        console.log(`store-faults: SIGTERM on a ${fault}: exited in ${ms.toFixed(0)} ms`);
      } finally {
        if (lock !== undefined) await lock.rollback().catch(() => {});
        other.close();
        await child.kill();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether this process may mount a tmpfs (CI runs as root); the disk-full child test needs it. */
async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  const dir = await Deno.makeTempDir({ prefix: "kms-tmpfs-probe-" });
  try {
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => ({ success: false }));
    if (!mounted.success) return false;
    await new Deno.Command("umount", { args: [dir] }).output();
    return true;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Fills the file system of `dir` until it refuses to take more. */
async function fillDisk(dir: string): Promise<void> {
  const file = await Deno.open(`${dir}/filler`, { create: true, write: true });
  const chunk = new Uint8Array(16 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch {
    // No space left: the disk is full.
  } finally {
    file.close();
  }
}

Deno.test({
  name:
    "a full disk (tmpfs) answers with AWS 5xx errors and readiness 503, recovers when space returns, and SIGTERM ends the process within its deadline",
  ignore: !await canMountTmpfs(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kms-full-" });
    await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir] })
      .output();
    let child: KmsProcess | undefined;
    try {
      child = await startChild(dir);
      const { url } = child;
      const before = [await createKey(url), await createKey(url)];
      await fillDisk(dir);
      const answers = await load(url, before[0]!, 20);
      assertSuccessOr5xx(answers);
      assert.ok(answers.some((a) => a.status >= 500), "a full disk fails some requests");
      const readyMs = await expectNotReady(url, /SQLITE_FULL|SQLITE_IOERR|full/);
      report("disk full (tmpfs)", answers, readyMs);

      await Deno.remove(`${dir}/filler`);
      await waitUntil("ready once space returns", () => isReady(url));
      const after = await createKey(url);
      const acknowledged = [...before, ...acknowledgedKeys(answers), after];
      await assertKeysKept(url, acknowledged);

      await fillDisk(dir);
      const busy = keepBusy(url, before[0]!);
      const { ms } = await terminate(child);
      await busy.stop();
      assertShutdownLogged(child);
      console.log(`store-faults: SIGTERM on a full disk: exited in ${ms.toFixed(0)} ms`);
    } finally {
      await child?.kill();
      await new Deno.Command("umount", { args: ["-l", dir] }).output();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

// --- which operations may answer DependencyTimeoutException -------------------------------

const MODEL = await readSmithyModel();

Deno.test({
  name:
    "the operations answering KMSInternalException instead of DependencyTimeoutException are exactly those AWS's model does not list it for",
  ignore: MODEL === undefined,
  fn() {
    const shapes = MODEL!.shapes as Record<
      string,
      { type: string; errors?: { target: string }[] }
    >;
    const without = Object.entries(shapes)
      .filter(([, shape]) => shape.type === "operation")
      .filter(([, shape]) =>
        !(shape.errors ?? []).some((e) => e.target.endsWith("#DependencyTimeoutException"))
      )
      .map(([name]) => name.split("#")[1]!)
      .sort();
    assert.deepEqual([...WITHOUT_DEPENDENCY_TIMEOUT].sort(), without);
  },
});
