/**
 * CPU per audit record, in process (not in CI):
 *
 *     npx -y deno@2.9.6 run --allow-all tests/bench/audit_record_cost.ts
 *
 * For 20,000 GenerateDataKey entries, three rounds: on the request thread, what the AuditBuffer
 * is handed (`AuditEntry.buffered()`: the entry's fields as one JSON line) against what it was
 * handed before (`record()` then `JSON.stringify` of the record with its CloudTrail event); in the
 * audit worker, building the record from the line and the statements of a batch of 256 in the
 * compact form (buffer chain) against the full form (transactional chain). Microseconds per record;
 * on a shared machine take the lowest round.
 *
 * @module
 */
import { AuditEntry, recordFromAnyLine } from "../../core/audit/entry.ts";
import { recordLine } from "../../core/audit/record.ts";
import { auditStatements } from "../../storage/audit_store.ts";
import { EMPTY_CHAIN } from "../../core/audit/chain.ts";
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
for (let round = 0; round < 3; round++) {
  const entries = Array.from({ length: N }, entry);
  let t = performance.now();
  const lines = entries.map((e) => recordLine(e.buffered()));
  const tBuffered = (performance.now() - t) * 1000 / N;
  t = performance.now();
  const oldLines = entries.map((e) => JSON.stringify([0, e.record()]));
  const tOld = (performance.now() - t) * 1000 / N;
  t = performance.now();
  const records = lines.map(recordFromAnyLine);
  const tBuild = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (let i = 0; i < N; i += 256) auditStatements(1, EMPTY_CHAIN, records.slice(i, i + 256));
  const tCompact = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (let i = 0; i < N; i += 256) auditStatements(0, EMPTY_CHAIN, records.slice(i, i + 256));
  const tFull = (performance.now() - t) * 1000 / N;
  console.log(
    `main: buffered line ${tBuffered.toFixed(1)} µs vs record()+stringify ${
      tOld.toFixed(1)
    } µs; worker: build ${tBuild.toFixed(1)} µs, statements compact ${
      tCompact.toFixed(1)
    } µs vs full ${tFull.toFixed(1)} µs`,
  );
  void oldLines;
}
