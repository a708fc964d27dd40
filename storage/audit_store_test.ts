import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { EMPTY_CHAIN, fromHex } from "../core/audit/chain.ts";
import { AuditEntry } from "../core/audit/entry.ts";
import { prepareEntryLine } from "../core/audit/prepared.ts";
import { type AuditDecision, type AuditRecord, recordLine } from "../core/audit/record.ts";
import { AUDIT_MIGRATION_VERSION, SqliteAuditStore } from "./audit_store.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { WriteQueue } from "./write_queue.ts";

const KEY_A = "arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab";
const KEY_B = "arn:aws:kms:us-east-1:111122223333:key/bbbbbbbb-12ab-34cd-56ef-1234567890ab";
const ALICE = "arn:aws:iam::111122223333:user/alice";
const BOB = "arn:aws:iam::111122223333:user/bob";
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0, 250);

interface Spec {
  op: string;
  time: number;
  principal?: string | null;
  keys?: string[];
  decision?: AuditDecision | null;
  error?: string;
}

function entryOf(spec: Spec, i: number): AuditEntry {
  const principal = spec.principal === undefined ? ALICE : spec.principal;
  const entry = new AuditEntry({
    time: spec.time,
    requestId: `req-${i}`,
    operation: spec.op,
    principal: principal === null
      ? null
      : { arn: principal, accountId: "111122223333", accessKeyId: "AKIA" + i },
    sourceIp: "10.0.0.1",
    userAgent: "test",
    region: "us-east-1",
  });
  for (const key of spec.keys ?? []) entry.addResource(key);
  if (spec.decision !== null) entry.setDecision(spec.decision ?? "Allow");
  entry.setRequestParameters(spec.op, { KeyId: spec.keys?.[0], EncryptionContext: { n: `${i}` } });
  if (spec.error !== undefined) entry.failed(spec.error, "failed");
  else entry.succeeded();
  return entry;
}

function record(spec: Spec, i: number): AuditRecord {
  return entryOf(spec, i).record();
}

/**
 * How the buffered records reach the store: as records with their event (stored in the compact
 * form of format 1), or as the audit worker makes them from an entry's line (format 2).
 */
type Form = "event" | "entry line";
const FORMS: readonly Form[] = ["event", "entry line"];

function buffered(spec: Spec, i: number, form: Form): AuditRecord {
  return form === "event"
    ? record(spec, i)
    : prepareEntryLine(recordLine(entryOf(spec, i).buffered()));
}

const SPECS: Spec[] = [
  { op: "CreateKey", time: T0, keys: [KEY_A] },
  { op: "Encrypt", time: T0 + 1000, keys: [KEY_A] },
  { op: "Decrypt", time: T0 + 2000, keys: [KEY_A], principal: BOB },
  {
    op: "Decrypt",
    time: T0 + 3000,
    keys: [KEY_A],
    principal: BOB,
    decision: "Deny",
    error: "AccessDeniedException",
  },
  { op: "DescribeKey", time: T0 + 4000, keys: [KEY_A] },
  { op: "ReEncrypt", time: T0 + 5000, keys: [KEY_A, KEY_B] },
  { op: "Sign", time: T0 + 6000, keys: [KEY_B], error: "DisabledException" },
  {
    op: "Encrypt",
    time: T0 + 7000,
    principal: null,
    decision: null,
    error: "UnrecognizedClientException",
  },
];

async function withLog(
  fn: (db: Client, store: SqliteAuditStore, queue: WriteQueue) => Promise<void>,
  form: Form = "event",
): Promise<void> {
  const db = await openDatabase(":memory:");
  try {
    await migrate(db);
    const queue = new WriteQueue(db);
    // CreateKey with its change (chain 0); the rest in two writes, as the buffer groups them.
    await queue.submit([], [record(SPECS[0]!, 0)]);
    await queue.appendAudit(SPECS.slice(1, 3).map((spec, i) => buffered(spec, i + 1, form)));
    await queue.appendAudit(SPECS.slice(3).map((spec, i) => buffered(spec, i + 3, form)));
    await fn(db, new SqliteAuditStore(db), queue);
  } finally {
    db.close();
  }
}

Deno.test("SqliteAuditStore.query filters by time, principal, key, operation, decision, error", async () => {
  for (const form of FORMS) await queryFilters(form);
});

async function queryFilters(form: Form) {
  await withLog(async (_db, store) => {
    const ids = async (filter: Parameters<SqliteAuditStore["query"]>[0]) =>
      (await store.query(filter)).map((e) => e.requestId);
    assert.deepEqual(await ids({}), SPECS.map((_, i) => `req-${i}`));
    assert.deepEqual(await ids({ since: T0 + 2000, until: T0 + 4000 }), ["req-2", "req-3"]);
    assert.deepEqual(await ids({ principalArn: BOB }), ["req-2", "req-3"]);
    assert.deepEqual(await ids({ keyArn: KEY_B }), ["req-5", "req-6"]);
    assert.deepEqual(await ids({ operation: "Decrypt", decision: "Allow" }), ["req-2"]);
    assert.deepEqual(await ids({ decision: "Deny" }), ["req-3"]);
    assert.deepEqual(await ids({ errorCode: "DisabledException" }), ["req-6"]);
    assert.deepEqual(await ids({ errorCode: "*" }), ["req-3", "req-6", "req-7"]);
    assert.deepEqual(await ids({ afterSeq: 5, limit: 2 }), ["req-5", "req-6"]);
    const [denied] = await store.query({ decision: "Deny" });
    assert.equal(denied?.seq, 4);
    assert.equal(denied?.chain, 1);
    assert.equal(denied?.chainSeq, 3);
    assert.equal(denied?.eventTime, T0 + 3000);
    assert.equal(denied?.principalArn, BOB);
    assert.equal(denied?.accountId, "111122223333");
    assert.deepEqual(denied?.keyArns, [KEY_A]);
    assert.equal(denied?.errorCode, "AccessDeniedException");
    assert.equal(denied?.event.eventName, "Decrypt");
    assert.equal(JSON.parse(denied!.json).requestID, "req-3");
    assert.match(denied!.hash, /^[0-9a-f]{64}$/);
    const [anonymous] = await store.query({ errorCode: "UnrecognizedClientException" });
    assert.equal(anonymous?.principalArn, null);
    assert.equal(anonymous?.decision, null);
    await assert.rejects(store.query({ limit: 0 }), RangeError);
  }, form);
}

Deno.test("SqliteAuditStore.lastUsage answers the last successful tracked operation per key", async () => {
  await withLog(async (_db, store, queue) => {
    // KEY_A: Decrypt by Bob was allowed (req-2), then denied (req-3), DescribeKey is not
    // tracked, ReEncrypt (req-5) counts for both keys; KEY_B's failed Sign does not count.
    assert.deepEqual(await store.lastUsage(KEY_A), {
      operation: "ReEncrypt",
      time: T0 + 5000,
      eventId: (await store.query({ afterSeq: 5, limit: 1 }))[0]!.event.eventID,
      requestId: "req-5",
    });
    assert.equal((await store.lastUsage(KEY_B))?.requestId, "req-5");
    assert.equal(await store.lastUsage("arn:aws:kms:us-east-1:111122223333:key/none"), null);
    await queue.appendAudit([record({ op: "Sign", time: T0 + 9000, keys: [KEY_B] }, 9)]);
    assert.deepEqual(
      { ...(await store.lastUsage(KEY_B)), eventId: undefined },
      { operation: "Sign", time: T0 + 9000, eventId: undefined, requestId: "req-9" },
    );
    assert.equal((await store.lastUsage(KEY_A))?.requestId, "req-5");
  });
});

Deno.test("SqliteAuditStore.trackingStart is when the audit migration was applied", async () => {
  await withLog(async (db, store) => {
    const applied = await db.execute({
      sql: "SELECT applied_at FROM schema_migrations WHERE version = ?",
      args: [AUDIT_MIGRATION_VERSION],
    });
    assert.equal(await store.trackingStart(), applied.rows[0]?.["applied_at"]);
    await db.execute({ sql: "DELETE FROM schema_migrations WHERE version = ?", args: [3] });
    assert.equal(await store.trackingStart(), null);
  });
});

Deno.test("SqliteAuditStore.verify accepts an intact log and reports its heads", async () => {
  await withLog(async (_db, store) => {
    const result = await store.verify({ pageSize: 3 });
    assert.ok(result.ok);
    assert.equal(result.count, SPECS.length);
    const heads = await store.heads();
    assert.deepEqual([...heads.keys()], [0, 1]);
    assert.deepEqual(result.heads.map((h) => [h.chain, h.seq]), [[0, 1], [1, 7]]);
    assert.deepEqual(fromHex(result.heads[1]!.hash), heads.get(1)!.hash);
    assert.ok((await store.verify({ expectedHeads: heads })).ok);
  });
  const db = await openDatabase(":memory:");
  try {
    await migrate(db);
    const empty = new SqliteAuditStore(db);
    assert.deepEqual(await empty.heads(), new Map([[0, EMPTY_CHAIN], [1, EMPTY_CHAIN]]));
    assert.deepEqual(await empty.verify(), {
      ok: true,
      count: 0,
      heads: [
        { chain: 0, seq: 0, hash: "00".repeat(32) },
        { chain: 1, seq: 0, hash: "00".repeat(32) },
      ],
    });
  } finally {
    db.close();
  }
});

Deno.test("SqliteAuditStore.verify detects edits, deletions, reordering and truncation", async () => {
  for (const form of FORMS) await detectsTampering(form);
});

Deno.test("SqliteAuditStore.verify accepts an intact log written from entry lines", async () => {
  await withLog(async (db, store) => {
    const result = await store.verify({ pageSize: 3 });
    assert.ok(result.ok);
    assert.equal(result.count, SPECS.length);
    const formats = await db.execute("SELECT event ->> '$.v' AS v FROM audit_log ORDER BY seq");
    assert.deepEqual(formats.rows.map((row) => row["v"]), [null, 2, 2, 2, 2, 2, 2, 2]);
  }, "entry line");
});

async function detectsTampering(form: Form) {
  // Global seq 1 is chain 0's only record; seq 2..8 are chain 1's records 1..7.
  const cases: [string, (db: Client) => Promise<unknown>, [number, number, string]][] = [
    [
      "edited event",
      (db) =>
        db.execute(
          "UPDATE audit_log SET event = replace(event, 'Decrypt', 'Encrypt') WHERE seq = 3",
        ),
      [1, 2, "hash"],
    ],
    [
      "edited dictionary entry (a compact record's caller)",
      (db) => db.execute("UPDATE audit_dict SET value = replace(value, 'bob', 'eve')"),
      [1, 2, "hash"],
    ],
    [
      "deleted dictionary entry",
      (db) => db.execute("DELETE FROM audit_dict WHERE value LIKE '%bob%'"),
      [1, 2, "event"],
    ],
    ["deleted record", (db) => db.execute("DELETE FROM audit_log WHERE seq = 5"), [1, 4, "gap"]],
    ["deleted first record", (db) => db.execute("DELETE FROM audit_log WHERE seq = 2"), [
      1,
      1,
      "gap",
    ]],
    [
      "swapped records",
      (db) =>
        db.executeMultiple(`
          UPDATE audit_log SET chain_seq = -2 WHERE seq = 3;
          UPDATE audit_log SET chain_seq = 2 WHERE seq = 4;
          UPDATE audit_log SET chain_seq = 3 WHERE seq = 3;`),
      [1, 2, "hash"],
    ],
    [
      "reordered commits",
      (db) =>
        db.executeMultiple(`
          UPDATE audit_log SET seq = -3 WHERE seq = 3;
          UPDATE audit_log SET seq = 3 WHERE seq = 4;
          UPDATE audit_log SET seq = 4 WHERE seq = -3;`),
      [1, 3, "order"],
    ],
    [
      "record moved to the other chain",
      (db) => db.execute("UPDATE audit_log SET chain = 0, chain_seq = 2 WHERE seq = 8"),
      [0, 2, "hash"],
    ],
    [
      "edited time column",
      // A compact event's eventTime is derived from event_time: the expanded event changes.
      (db) => db.execute("UPDATE audit_log SET event_time = event_time + 86400000 WHERE seq = 4"),
      [1, 3, "hash"],
    ],
    [
      "edited time column of a full event",
      (db) => db.execute("UPDATE audit_log SET event_time = event_time + 86400000 WHERE seq = 1"),
      [0, 1, "time"],
    ],
    [
      "edited hash",
      (db) => db.execute("UPDATE audit_log SET hash = zeroblob(32) WHERE seq = 6"),
      [1, 5, "hash"],
    ],
    [
      "truncated hash",
      (db) => db.execute("UPDATE audit_log SET hash = zeroblob(3) WHERE seq = 6"),
      [1, 5, "hash"],
    ],
    [
      "forged last usage",
      (db) => db.execute(`UPDATE audit_key_usage SET chain_seq = 2 WHERE key_arn = '${KEY_A}'`),
      [1, 2, "usage"],
    ],
    [
      "deleted last usage",
      (db) => db.execute(`DELETE FROM audit_key_usage WHERE key_arn = '${KEY_B}'`),
      [1, 5, "usage"],
    ],
  ];
  for (const [name, tamper, expected] of cases) {
    await withLog(async (db, store) => {
      await tamper(db);
      const result = await store.verify({ pageSize: 2 });
      assert.deepEqual(
        result.ok ? result : [result.chain, result.seq, result.reason],
        expected,
        `${name} (${form})`,
      );
    }, form);
  }
  // Cutting the tail off leaves a valid chain; the remembered head reveals it.
  await withLog(async (db, store) => {
    const heads = await store.heads();
    await db.execute("DELETE FROM audit_log WHERE seq = 8");
    assert.equal((await store.verify()).ok, true);
    const result = await store.verify({ expectedHeads: heads });
    assert.deepEqual(result.ok ? result : [result.chain, result.seq, result.reason], [
      1,
      7,
      "head",
    ]);
  }, form);
  // So does emptying a chain.
  await withLog(async (db, store) => {
    const heads = await store.heads();
    await db.execute("DELETE FROM audit_log WHERE chain = 0");
    assert.equal((await store.verify()).ok, true);
    const result = await store.verify({ expectedHeads: heads });
    assert.deepEqual(result.ok ? result : [result.chain, result.seq, result.reason], [
      0,
      1,
      "head",
    ]);
  }, form);
}
