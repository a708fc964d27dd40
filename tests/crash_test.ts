/**
 * kill -9 trials: the real server (main.ts as a child process) on a file
 * database under mixed write load from several concurrent clients
 * (CreateKey, CreateAlias, CreateGrant, Encrypt, GenerateDataKey), killed
 * with SIGKILL at a random moment, then checked: `PRAGMA integrity_check` and
 * the audit log's hash chains (`admin audit verify`'s function, with the heads
 * of the trial before, so nothing was cut off) are clean; and after a restart
 * every acknowledged key, alias and grant exists and every acknowledged
 * ciphertext decrypts to its plaintext. In strict audit mode every
 * acknowledged request has its audit record; in batched mode the records lost
 * are counted and must lie within the README's stated window (calls answered
 * in the last `maxLagMs` before the kill).
 *
 * Each trial's restarted server carries the next trial's load, so one trial
 * costs one start. Environment: CRASH_TRIALS (strict trials, default 10),
 * CRASH_BATCHED_TRIALS (default 2), CRASH_SEED (default random; printed),
 * CRASH_CLIENTS (concurrent clients, default 6). `deno task test:crash` (CRASH_DEEP=1)
 * runs 50 strict + 10 batched trials.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
  ListGrantsCommand,
} from "@aws-sdk/client-kms";
import type { ChainHead } from "../core/audit/chain.ts";
import type { AuditChain } from "../core/audit/record.ts";
import { SqliteAuditStore } from "../storage/audit_store.ts";
import { openDatabase } from "../storage/client.ts";
import { ACCOUNT_ID } from "./helpers/server.ts";
import { kmsEnv, type KmsProcess, startKms } from "./helpers/kms_process.ts";
import { waitFor } from "./helpers/wait.ts";

type Mode = "strict" | "batched";

/** The batched mode's stated bound (core/audit/buffer.ts maxLagMs, README "Audit log"). */
const BATCHED_WINDOW_MS = 2000;

function envInt(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be an integer ≥ 0`);
  return n;
}

/** `deno task test:crash` sets CRASH_DEEP=1: 50 strict and 10 batched trials unless told otherwise. */
const DEEP = Deno.env.get("CRASH_DEEP") === "1";
const STRICT_TRIALS = envInt("CRASH_TRIALS", DEEP ? 50 : 10);
const BATCHED_TRIALS = envInt("CRASH_BATCHED_TRIALS", DEEP ? 10 : 2);
const CLIENTS = Math.max(1, envInt("CRASH_CLIENTS", 6));
const SEED = envInt("CRASH_SEED", Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing run can be replayed with CRASH_SEED. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the clients were told succeeded (acknowledged), with the reply's request id. */
interface Acknowledged {
  keys: string[];
  aliases: { name: string; keyId: string }[];
  grants: { keyId: string; grantId: string }[];
  ciphertexts: { blob: Uint8Array; plaintext: Uint8Array }[];
  /** Request id → when its reply arrived (performance.now()). */
  requests: Map<string, number>;
}

function emptyAcknowledged(): Acknowledged {
  return { keys: [], aliases: [], grants: [], ciphertexts: [], requests: new Map() };
}

/** One client: random operations until `stopped()`; a call that fails is not acknowledged. */
async function client(
  kms: KMSClient,
  random: () => number,
  knownKeys: string[],
  acked: Acknowledged,
  stopped: () => boolean,
  tag: string,
): Promise<void> {
  let n = 0;
  const pickKey = () => knownKeys[Math.floor(random() * knownKeys.length)]!;
  while (!stopped()) {
    const roll = random();
    n++;
    try {
      if (roll < 0.1) {
        const out = await kms.send(new CreateKeyCommand({ Description: `crash ${tag}` }));
        const keyId = out.KeyMetadata!.KeyId!;
        acked.requests.set(out.$metadata.requestId!, performance.now());
        acked.keys.push(keyId);
        knownKeys.push(keyId);
      } else if (roll < 0.2) {
        const keyId = pickKey();
        const name = `alias/crash-${tag}-${n}`;
        const out = await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
        acked.requests.set(out.$metadata.requestId!, performance.now());
        acked.aliases.push({ name, keyId });
      } else if (roll < 0.3) {
        const keyId = pickKey();
        const out = await kms.send(
          new CreateGrantCommand({
            KeyId: keyId,
            GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:root`,
            Operations: ["Encrypt", "Decrypt"],
          }),
        );
        acked.requests.set(out.$metadata.requestId!, performance.now());
        acked.grants.push({ keyId, grantId: out.GrantId! });
      } else if (roll < 0.65) {
        const plaintext = crypto.getRandomValues(new Uint8Array(16 + Math.floor(random() * 64)));
        const out = await kms.send(new EncryptCommand({ KeyId: pickKey(), Plaintext: plaintext }));
        acked.requests.set(out.$metadata.requestId!, performance.now());
        acked.ciphertexts.push({ blob: out.CiphertextBlob!, plaintext });
      } else {
        const out = await kms.send(
          new GenerateDataKeyCommand({ KeyId: pickKey(), KeySpec: "AES_256" }),
        );
        acked.requests.set(out.$metadata.requestId!, performance.now());
        acked.ciphertexts.push({ blob: out.CiphertextBlob!, plaintext: out.Plaintext! });
      }
    } catch (error) {
      // Killed mid-call: not acknowledged. Anything else while the server lives is a failure.
      if (!stopped()) throw error;
    }
  }
}

/** Runs `tasks` with at most `width` at a time. */
async function bounded<T>(items: T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

/** The database, the server down: integrity, hash chains (heads of before kept), audit rows. */
async function checkFile(
  dbUrl: string,
  acked: Acknowledged,
  previousHeads: ReadonlyMap<AuditChain, ChainHead> | undefined,
): Promise<{ heads: Map<AuditChain, ChainHead>; missing: string[]; records: number }> {
  const db = await openDatabase(dbUrl);
  try {
    const integrity = await db.execute("PRAGMA integrity_check");
    assert.deepEqual(integrity.rows.map((row) => row[0]), ["ok"], "PRAGMA integrity_check");
    const store = new SqliteAuditStore(db);
    const verified = await store.verify(
      previousHeads === undefined ? {} : { expectedHeads: previousHeads },
    );
    assert.ok(verified.ok, `audit verify: ${JSON.stringify(verified)}`);
    const ids = [...acked.requests.keys()];
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const result = await db.execute({
        sql: `SELECT request_id FROM audit_log WHERE request_id IN (${
          chunk.map(() => "?").join(", ")
        })`,
        args: chunk,
      });
      for (const row of result.rows) found.add(String(row[0]));
    }
    return {
      heads: await store.heads(),
      missing: ids.filter((id) => !found.has(id)),
      records: verified.count,
    };
  } finally {
    db.close();
  }
}

/** The restarted server: every acknowledged key, alias and grant is there, every ciphertext decrypts. */
async function checkServer(kms: KMSClient, acked: Acknowledged): Promise<void> {
  await bounded(acked.keys, 8, async (keyId) => {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(out.KeyMetadata?.KeyId, keyId, `key ${keyId}`);
  });
  await bounded(acked.aliases, 8, async ({ name, keyId }) => {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: name }));
    assert.equal(out.KeyMetadata?.KeyId, keyId, `alias ${name}`);
  });
  const grantsByKey = Map.groupBy(acked.grants, (g) => g.keyId);
  await bounded([...grantsByKey], 8, async ([keyId, grants]) => {
    const listed = new Set<string>();
    let marker: string | undefined;
    do {
      const out = await kms.send(new ListGrantsCommand({ KeyId: keyId, Marker: marker }));
      for (const grant of out.Grants ?? []) listed.add(grant.GrantId!);
      marker = out.Truncated ? out.NextMarker : undefined;
    } while (marker !== undefined);
    for (const { grantId } of grants) {
      assert.ok(listed.has(grantId), `grant ${grantId} of ${keyId}`);
    }
  });
  await bounded(acked.ciphertexts, 8, async ({ blob, plaintext }) => {
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
    assert.deepEqual(out.Plaintext, plaintext, "an acknowledged ciphertext decrypts");
  });
}

interface TrialReport {
  trial: number;
  mode: Mode;
  killAfterMs: number;
  keys: number;
  aliases: number;
  grants: number;
  ciphertexts: number;
  requests: number;
  /** Acknowledged requests without an audit record. */
  lostRecords: number;
  /** Of those, the longest time between the reply and the kill, ms. */
  lostOldestMs: number;
}

Deno.test({
  name: "kill -9 under mixed write load loses no acknowledged key, alias, grant or ciphertext, " +
    "and no audit record in strict mode (batched: only within its stated window)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const modes: Mode[] = [
      ...Array<Mode>(STRICT_TRIALS).fill("strict"),
      ...Array<Mode>(BATCHED_TRIALS).fill("batched"),
    ];
    const random = generator(SEED);
    console.log(`crash test: seed ${SEED} (CRASH_SEED=${SEED} replays it), ${modes.length} trials`);
    const dir = await Deno.makeTempDir({ prefix: "kms-crash-" });
    const dbUrl = `file:${dir}/kms.db`;
    const env = (mode: Mode) => ({ ...kmsEnv(dbUrl, `${dir}/root.key`), KMS_AUDIT_MODE: mode });
    const reports: TrialReport[] = [];
    const knownKeys: string[] = [];
    let heads: Map<AuditChain, ChainHead> | undefined;
    let server: KmsProcess = await startKms(env(modes[0]!));
    try {
      for (const id of [1, 2]) {
        const out = await server.client.send(new CreateKeyCommand({ Description: `seed ${id}` }));
        knownKeys.push(out.KeyMetadata!.KeyId!);
      }
      for (const [trial, mode] of modes.entries()) {
        const acked = emptyAcknowledged();
        const killAfterMs = 200 + Math.floor(random() * 1300);
        const detail = () =>
          `seed ${SEED}, trial ${trial} (${mode}), kill after ${killAfterMs} ms of load, ` +
          `acknowledged: ${acked.keys.length} keys, ${acked.aliases.length} aliases, ` +
          `${acked.grants.length} grants, ${acked.ciphertexts.length} ciphertexts`;
        try {
          let killed = false;
          const clients = Array.from(
            { length: CLIENTS },
            (_, c) =>
              client(
                server.client,
                generator(Math.floor(random() * 2 ** 31)),
                knownKeys,
                acked,
                () => killed,
                `${trial}-${c}`,
              ),
          );
          // The kill moment is random; the load has run long enough to have acknowledged writes.
          const started = performance.now();
          await waitFor(
            () => acked.requests.size >= 10 && performance.now() - started >= killAfterMs,
            "ten acknowledged writes and the random kill moment",
            { intervalMs: 5, timeoutMs: 120_000 },
          );
          killed = true;
          const killedAt = performance.now();
          await server.kill();
          await Promise.all(clients);
          const file = await checkFile(dbUrl, acked, heads);
          heads = file.heads;
          const lostAges = file.missing.map((id) => killedAt - acked.requests.get(id)!);
          reports.push({
            trial,
            mode,
            killAfterMs,
            keys: acked.keys.length,
            aliases: acked.aliases.length,
            grants: acked.grants.length,
            ciphertexts: acked.ciphertexts.length,
            requests: acked.requests.size,
            lostRecords: file.missing.length,
            lostOldestMs: Math.round(Math.max(0, ...lostAges)),
          });
          if (mode === "strict") {
            assert.deepEqual(file.missing, [], "acknowledged requests without an audit record");
          } else {
            for (const age of lostAges) {
              assert.ok(age < BATCHED_WINDOW_MS, `a lost record was answered ${age} ms before`);
            }
          }
          server = await startKms(env(modes[trial + 1] ?? mode));
          await checkServer(server.client, acked);
        } catch (error) {
          console.error(`crash trial failed: ${detail()}\nserver output:\n${server.output()}`);
          throw error;
        }
      }
    } finally {
      await server.stop();
    }
    console.table(reports);
    const sum = (mode: Mode, field: keyof TrialReport) =>
      reports.filter((r) => r.mode === mode).reduce((n, r) => n + (r[field] as number), 0);
    for (const mode of ["strict", "batched"] as const) {
      if (!modes.includes(mode)) continue;
      console.log(
        `${mode}: ${reports.filter((r) => r.mode === mode).length} trials, ` +
          `${sum(mode, "requests")} acknowledged requests (${sum(mode, "keys")} keys, ` +
          `${sum(mode, "aliases")} aliases, ${sum(mode, "grants")} grants, ` +
          `${sum(mode, "ciphertexts")} ciphertexts): 0 lost; audit records lost: ` +
          `${sum(mode, "lostRecords")}` +
          (mode === "batched"
            ? ` (oldest answered ${
              Math.max(0, ...reports.filter((r) => r.mode === mode).map((r) => r.lostOldestMs))
            } ms before the kill; window ${BATCHED_WINDOW_MS} ms)`
            : ""),
      );
    }
    await Deno.remove(dir, { recursive: true });
  },
});
