/**
 * Audit retention soak (not in CI): the real server with a small retention bound under a
 * GenerateDataKey load for a while, printing the database's size over time and, at the end,
 * whether `audit verify` passes across the truncations.
 *
 *     npx -y deno@2.9.6 run --allow-all tests/bench/audit_retention_soak.ts
 *
 * Environment: SOAK_MINUTES (default 10), SOAK_RETENTION (`KMS_AUDIT_RETENTION`, default `8MiB`),
 * SOAK_CONCURRENCY (default 16), SOAK_EXPORT=1 to export removed records to segment files too.
 * Every 15 s it prints the elapsed time, requests made, audit rows, the used bytes
 * (page_count - freelist_count, times page_size) and the file's size (with its WAL). The
 * retention pass runs every 5 s in the audit worker (storage/audit_worker.ts).
 *
 * @module
 */
import { createKey, figures, generateDataKeys, startServer } from "./audit_size.ts";
import { openDatabase } from "../../storage/client.ts";
import { SqliteAuditStore } from "../../storage/audit_store.ts";

const minutes = Number(Deno.env.get("SOAK_MINUTES") ?? "10");
const retention = Deno.env.get("SOAK_RETENTION") ?? "8MiB";
const concurrency = Number(Deno.env.get("SOAK_CONCURRENCY") ?? "16");
const dir = await Deno.makeTempDir({ prefix: "audit_soak_" });
const env: Record<string, string> = { KMS_AUDIT_RETENTION: retention };
if (Deno.env.get("SOAK_EXPORT") === "1") env["KMS_AUDIT_EXPORT_DIR"] = `${dir}/export`;
const { server, dbUrl, dbPath } = await startServer(dir, env);
console.log(`retention ${retention}, ${minutes} min at concurrency ${concurrency}, ${dir}`);
const start = performance.now();
const end = start + minutes * 60_000;
let requests = 0;
const report = setInterval(async () => {
  const f = await figures(dbUrl, dbPath);
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(
    `${((performance.now() - start) / 1000).toFixed(0)} s: ${requests} requests, ` +
      `${f.rows} audit rows, used ${mib(f.usedBytes)} MiB, file ${mib(f.fileBytes)} MiB`,
  );
}, 15_000);
try {
  const keyId = await createKey(server.client);
  await generateDataKeys(server.client, keyId, concurrency, (done) => {
    requests = done;
    return performance.now() < end;
  });
} finally {
  clearInterval(report);
  await server.stop();
}
const db = await openDatabase(dbUrl);
try {
  const verified = await new SqliteAuditStore(db).verify();
  console.log(`audit verify: ${JSON.stringify(verified)}`);
  if (!verified.ok) Deno.exitCode = 1;
} finally {
  db.close();
}
await Deno.remove(dir, { recursive: true });
