/**
 * What an audit record costs on disk over a GenerateDataKey load (not in CI):
 *
 *     npx -y deno@2.9.6 run --allow-all tests/bench/audit_size.ts
 *
 * Starts the real server (main.ts) on a fresh database, creates a key, then sends
 * `AUDIT_SIZE_REQUESTS` (default 20000) GenerateDataKey calls (AES_256, an encryption context)
 * through the AWS SDK at concurrency `AUDIT_SIZE_CONCURRENCY` (16), stops the server (which
 * flushes the audit log) and prints the audit records added and the database's used bytes
 * (page_count - freelist_count, times page_size) before and after: bytes per record.
 * It also prints the average length of a record's canonical CloudTrail JSON (what a full record
 * stored before migration 0010 held, plus its columns and indexes).
 *
 * The helpers are shared with `audit_retention_soak.ts`.
 *
 * @module
 */
import { CreateKeyCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { kmsEnv, type KmsProcess, startKms } from "../helpers/kms_process.ts";
import { openDatabase } from "../../storage/client.ts";
import { usedBytes } from "../../storage/audit_retention.ts";
import { SqliteAuditStore } from "../../storage/audit_store.ts";

/** A server on a fresh database in `dir`, with `env` added. */
export async function startServer(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ server: KmsProcess; dbUrl: string; dbPath: string }> {
  const dbPath = `${dir}/kms.db`;
  const dbUrl = `file:${dbPath}`;
  const server = await startKms({
    ...kmsEnv(dbUrl, `${dir}/root.key`),
    ...env,
  });
  return { server, dbUrl, dbPath };
}

/** A symmetric key's id. */
export async function createKey(client: KMSClient): Promise<string> {
  const created = await client.send(new CreateKeyCommand({}));
  return created.KeyMetadata!.KeyId!;
}

/**
 * GenerateDataKey calls at `concurrency` until `more()` answers false; answers how many were
 * made.
 */
export async function generateDataKeys(
  client: KMSClient,
  keyId: string,
  concurrency: number,
  more: (done: number) => boolean,
): Promise<number> {
  let done = 0;
  const lane = async () => {
    while (more(done)) {
      done++;
      await client.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          KeySpec: "AES_256",
          EncryptionContext: { purpose: "bench", tenant: "t-42" },
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return done;
}

/** Audit rows, used bytes and file size of the database at `dbUrl`. */
export async function figures(
  dbUrl: string,
  dbPath: string,
): Promise<{ rows: number; usedBytes: number; fileBytes: number }> {
  const db = await openDatabase(dbUrl);
  try {
    const rows = Number((await db.execute("SELECT count(*) AS n FROM audit_log")).rows[0]?.["n"]);
    let fileBytes = (await Deno.stat(dbPath)).size;
    try {
      fileBytes += (await Deno.stat(`${dbPath}-wal`)).size;
    } catch { /* no WAL */ }
    return { rows, usedBytes: await usedBytes(db), fileBytes };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const requests = Number(Deno.env.get("AUDIT_SIZE_REQUESTS") ?? "20000");
  const concurrency = Number(Deno.env.get("AUDIT_SIZE_CONCURRENCY") ?? "16");
  const dir = await Deno.makeTempDir({ prefix: "audit_size_" });
  try {
    const { server, dbUrl, dbPath } = await startServer(dir);
    try {
      const keyId = await createKey(server.client);
      await generateDataKeys(server.client, keyId, 1, (done) => done < 100);
      await server.stop();
    } catch (error) {
      await server.stop();
      throw error;
    }
    const before = await figures(dbUrl, dbPath);
    const again = await startServer(dir);
    try {
      const keyId = (await again.server.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const start = performance.now();
      await generateDataKeys(again.server.client, keyId, concurrency, (done) => done < requests);
      const seconds = (performance.now() - start) / 1000;
      console.log(
        `${requests} GenerateDataKey in ${seconds.toFixed(1)} s at concurrency ${concurrency}`,
      );
    } finally {
      await again.server.stop();
    }
    const after = await figures(dbUrl, dbPath);
    const added = after.rows - before.rows;
    const bytes = after.usedBytes - before.usedBytes;
    const db = await openDatabase(dbUrl);
    let jsonBytes = 0;
    let sampled = 0;
    try {
      for (
        const event of await new SqliteAuditStore(db).query({ afterSeq: before.rows, limit: 1000 })
      ) {
        jsonBytes += new TextEncoder().encode(event.json).length;
        sampled++;
      }
      const stored = await db.execute(
        "SELECT avg(length(event)) AS e FROM audit_log WHERE chain = 1",
      );
      console.log(`average stored event column: ${Number(stored.rows[0]?.["e"]).toFixed(0)} bytes`);
    } finally {
      db.close();
    }
    console.log(`audit records added: ${added}`);
    console.log(`used bytes: ${before.usedBytes} -> ${after.usedBytes} (+${bytes})`);
    console.log(`bytes per record: ${(bytes / added).toFixed(1)}`);
    console.log(
      `average canonical CloudTrail JSON of a record: ${(jsonBytes / sampled).toFixed(0)} bytes`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
