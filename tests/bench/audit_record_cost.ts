/**
 * CPU per audit record, in process (not in CI):
 *
 *     npx -y deno@2.9.6 run --allow-all tests/bench/audit_record_cost.ts
 *
 * Each round runs a GenerateDataKey record through every step the audit log takes, in batches of
 * AUDIT_COST_BATCH (default 256: ~100 ms of requests at 2,500/s, what a batched write holds):
 * - request thread: the whole per-request audit path (`AuditEntry` created, filled as
 *   routes/app.ts and core/ fill it, `buffered()`, `AuditBuffer.push`), then the batch handed over
 *   as the audit worker's sink hands it (each record's line, joined: storage/audit_writer.ts);
 * - audit worker: the batch split into lines and each prepared (`prepareEntryLine`: the compact
 *   form of format 2 and its hash input), then chained into statements (`auditStatements`: the
 *   hash chain, SQL arguments), then committed (a WriteQueue on a database file, WAL,
 *   synchronous=FULL, as the worker does; fsync waits are not CPU).
 * CPU microseconds per record (`process.cpuUsage`, all of this process's threads; it has one),
 * over AUDIT_COST_ROUNDS rounds (default 12) of AUDIT_COST_BATCHES batches (default 20); prints
 * the minimum and the median of the rounds (on a shared machine the minimum is the figure least
 * disturbed by other work).
 *
 * @module
 */
import process from "node:process";
import { AuditBuffer } from "../../core/audit/buffer.ts";
import { EMPTY_CHAIN } from "../../core/audit/chain.ts";
import { AuditEntry } from "../../core/audit/entry.ts";
import { prepareEntryLine } from "../../core/audit/prepared.ts";
import { type AuditRecord, recordLine } from "../../core/audit/record.ts";
import { auditStatements } from "../../storage/audit_store.ts";
import { openDatabase } from "../../storage/client.ts";
import { migrate } from "../../storage/migrate.ts";
import { WriteQueue } from "../../storage/write_queue.ts";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const USER_AGENT =
  "aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#22.0 api/kms#3.700.0 m/E";
const INPUT = {
  KeyId: KEY,
  KeySpec: "AES_256",
  EncryptionContext: { purpose: "bench", tenant: "t-42" },
};

const env = Deno.env.toObject();
const BATCH = Number(env.AUDIT_COST_BATCH ?? 256);
const BATCHES = Number(env.AUDIT_COST_BATCHES ?? 20);
const ROUNDS = Number(env.AUDIT_COST_ROUNDS ?? 12);

/** CPU microseconds of this process. */
function cpu(): number {
  const used = process.cpuUsage();
  return used.user + used.system;
}

/** What the request thread does for one GenerateDataKey's record (routes/app.ts, core/kms.ts). */
function auditRequest(buffer: AuditBuffer): void {
  const entry = new AuditEntry({
    time: Date.now(),
    requestId: crypto.randomUUID(),
    operation: "",
    principal: null,
    sourceIp: "127.0.0.1",
    userAgent: USER_AGENT,
    region: "us-east-1",
  });
  entry.setOperation("GenerateDataKey");
  entry.setRegion("us-east-1");
  entry.setPrincipal({
    arn: "arn:aws:iam::111122223333:user/alice",
    accountId: "111122223333",
    accessKeyId: "AKIAEXAMPLE",
  });
  entry.setRequestParameters("GenerateDataKey", INPUT);
  entry.addResource(KEY);
  entry.setDecision("Allow");
  entry.succeeded({});
  void buffer.push(entry.buffered());
}

/** Per-record CPU of each step in one round. */
interface Round {
  request: number;
  prepare: number;
  statements: number;
  commit: number;
}

async function round(queue: WriteQueue): Promise<Round> {
  const batches: string[] = [];
  // The sink the request thread hands a batch to: each record's line, joined (audit_writer.ts).
  const buffer = new AuditBuffer({
    appendAudit(records: readonly AuditRecord[]) {
      batches.push(records.map(recordLine).join("\n"));
      return Promise.resolve();
    },
  }, { flushRows: BATCH, maxRowsPerWrite: BATCH });
  const n = BATCH * BATCHES;
  let t = cpu();
  for (let b = 0; b < BATCHES; b++) {
    for (let i = 0; i < BATCH; i++) auditRequest(buffer);
    await buffer.flush();
  }
  const request = (cpu() - t) / n;
  let prepare = 0;
  let statements = 0;
  let commit = 0;
  for (const batch of batches) {
    t = cpu();
    const prepared = batch.split("\n").map(prepareEntryLine);
    const t1 = cpu();
    auditStatements(1, EMPTY_CHAIN, prepared);
    const t2 = cpu();
    // The worker's append: statements again (with the chain's real head) and the transaction.
    await queue.appendAudit(prepared);
    const t3 = cpu();
    prepare += t1 - t;
    statements += t2 - t1;
    commit += (t3 - t2) - (t2 - t1);
  }
  await buffer.close();
  return { request, prepare: prepare / n, statements: statements / n, commit: commit / n };
}

const dir = await Deno.makeTempDir({ prefix: "audit-record-cost-" });
try {
  const db = await openDatabase(`file:${dir}/audit.db`);
  await migrate(db);
  const queue = new WriteQueue(db);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(queue));
  db.close();
  const steps: [keyof Round, string][] = [
    ["request", "request thread: entry, buffered line, push, batch hand-over"],
    ["prepare", "audit worker: split and prepareEntryLine"],
    ["statements", "audit worker: auditStatements (hash chain, SQL arguments)"],
    ["commit", "audit worker: the transaction's SQL and commit (statements excluded)"],
  ];
  console.log(
    `CPU µs per GenerateDataKey audit record, ${ROUNDS} rounds of ${BATCHES} batches of ${BATCH}:`,
  );
  const worker = rounds.map((r) => r.prepare + r.statements + r.commit);
  for (const [step, label] of steps) {
    const values = rounds.map((r) => r[step]);
    console.log(`  ${label}: min ${fmt(Math.min(...values))}, median ${fmt(median(values))}`);
  }
  console.log(
    `  audit worker in all: min ${fmt(Math.min(...worker))}, median ${fmt(median(worker))}`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function fmt(n: number): string {
  return n.toFixed(1);
}
