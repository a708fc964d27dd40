/**
 * CPU per audit record, in process (not in CI):
 *
 *     npx -y deno@2.9.6 run --allow-all tests/bench/audit_record_cost.ts
 *
 * For 20,000 GenerateDataKey entries, three rounds: on the request thread, what the AuditBuffer
 * is handed (`AuditEntry.buffered()`: the entry's fields as one JSON line) against what it was
 * handed before (`record()` then `JSON.stringify` of the record with its CloudTrail event); in the
 * audit worker, what it does per record today (`prepareEntryLine`: the line to the compact form of
 * format 2, then the statements of a batch of 256) against what it did before (building the record
 * and its event from the line, then the statements of the compact form of format 1), and the full
 * form (transactional chain). CPU microseconds per record (`process.cpuUsage`); on a shared
 * machine take the lowest round. Then the whole of the worker's append (its records and the
 * commit through a WriteQueue to a database file, WAL, synchronous=FULL) in writes of 32 and 256
 * records, as the worker does it now (format 2, no lookup) against before (format 1, the
 * exactly-once lookup before every append); CPU per record, fsync waits are not CPU. At 2,000
 * requests/s the batched buffer's writes held ~50 records every 25 ms before, ~200 every 100 ms
 * now.
 *
 * @module
 */
import process from "node:process";
import { AuditEntry, recordFromAnyLine } from "../../core/audit/entry.ts";
import { prepareEntryLine } from "../../core/audit/prepared.ts";
import { recordLine } from "../../core/audit/record.ts";
import { auditStatements } from "../../storage/audit_store.ts";
import { EMPTY_CHAIN } from "../../core/audit/chain.ts";
import { openDatabase } from "../../storage/client.ts";
import { migrate } from "../../storage/migrate.ts";
import { WriteQueue } from "../../storage/write_queue.ts";
const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
function entry() {
  const e = new AuditEntry({
    time: Date.now(),
    requestId: crypto.randomUUID(),
    operation: "GenerateDataKey",
    principal: {
      arn: "arn:aws:iam::111122223333:user/alice",
      accountId: "111122223333",
      accessKeyId: "AKIAEXAMPLE",
    },
    sourceIp: "127.0.0.1",
    userAgent: "aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#22.0 api/kms#3.700.0 m/E",
    region: "us-east-1",
  });
  e.addResource(KEY);
  e.setDecision("Allow");
  e.setRequestParameters("GenerateDataKey", {
    KeyId: KEY,
    KeySpec: "AES_256",
    EncryptionContext: { purpose: "bench", tenant: "t-42" },
  });
  e.succeeded();
  return e;
}
const N = 20_000;
/** CPU microseconds of this process (all threads; this script has one). */
const cpu = () => {
  const used = process.cpuUsage();
  return used.user + used.system;
};
for (let round = 0; round < 3; round++) {
  const entries = Array.from({ length: N }, entry);
  let t = cpu();
  const lines = entries.map((e) => recordLine(e.buffered()));
  const tBuffered = (cpu() - t) / N;
  t = cpu();
  const oldLines = entries.map((e) => JSON.stringify([0, e.record()]));
  const tOld = (cpu() - t) / N;
  t = cpu();
  const prepared = lines.map(prepareEntryLine);
  for (let i = 0; i < N; i += 256) auditStatements(1, EMPTY_CHAIN, prepared.slice(i, i + 256));
  const tPrepared = (cpu() - t) / N;
  t = cpu();
  const records = lines.map(recordFromAnyLine);
  for (let i = 0; i < N; i += 256) auditStatements(1, EMPTY_CHAIN, records.slice(i, i + 256));
  const tFormat1 = (cpu() - t) / N;
  t = cpu();
  for (let i = 0; i < N; i += 256) auditStatements(0, EMPTY_CHAIN, records.slice(i, i + 256));
  const tFull = (cpu() - t) / N;
  console.log(
    `main: buffered line ${tBuffered.toFixed(1)} µs vs record()+stringify ${tOld.toFixed(1)} µs; ` +
      `worker: line to statements, format 2 ${tPrepared.toFixed(1)} µs vs format 1 ${
        tFormat1.toFixed(1)
      } µs (full form statements alone ${tFull.toFixed(1)} µs)`,
  );
  void oldLines;
}

const dir = await Deno.makeTempDir({ prefix: "audit-record-cost-" });
try {
  for (const rows of [32, 256]) {
    for (const worker of ["before", "now", "before", "now"] as const) {
      const db = await openDatabase(`file:${dir}/${worker}-${crypto.randomUUID()}.db`);
      await migrate(db);
      const queue = new WriteQueue(db);
      const lines = Array.from({ length: rows * 80 }, () => recordLine(entry().buffered()));
      const t = cpu();
      for (let i = 0; i < lines.length; i += rows) {
        const batch = lines.slice(i, i + rows);
        if (worker === "before") {
          const records = batch.map(recordFromAnyLine);
          const last = records.at(-1)!;
          // The exactly-once lookup the worker made before every append (storage/audit_worker.ts).
          await db.execute({
            sql: "SELECT 1 FROM audit_log WHERE event_time = ? AND chain = 1 " +
              "AND (event ->> '$.eventID' = ? OR event ->> '$.e' = ?) LIMIT 1",
            args: [last.eventTime, last.eventId, last.eventId],
          });
          await queue.appendAudit(records);
        } else {
          await queue.appendAudit(batch.map(prepareEntryLine));
        }
      }
      console.log(
        `worker append with commit, ${rows} records per write, ${
          worker === "before" ? "before (format 1, lookup per append)" : "now (format 2)"
        }: ${((cpu() - t) / lines.length).toFixed(1)} µs CPU per record`,
      );
      db.close();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
