/**
 * When audit records cannot be committed, calls that change nothing fail
 * closed with KMSInternalException instead of waiting, and the log recovers by
 * itself once writes succeed again. The fault is real: a trigger in the
 * server's own database file refuses every INSERT into the buffered audit
 * chain (chain 1) while a flag row is set.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateKeyCommand, EncryptCommand } from "@aws-sdk/client-kms";
import type { Client } from "@libsql/client";
import { openDatabase } from "../storage/client.ts";
import { errorName, startServer, type TestServer } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

/** A second connection to the server's file, with a switch that makes buffered audit INSERTs fail. */
async function auditFault(server: TestServer, dbUrl: string) {
  const db: Client = await openDatabase(dbUrl);
  await db.executeMultiple(`
    CREATE TABLE test_audit_fault (on_ INTEGER NOT NULL);
    INSERT INTO test_audit_fault VALUES (0);
    CREATE TRIGGER test_audit_fault BEFORE INSERT ON audit_log
      WHEN NEW.chain = 1 AND (SELECT on_ FROM test_audit_fault) = 1
      BEGIN SELECT RAISE(ABORT, 'injected audit write failure'); END;
  `);
  const buffer = server.service.audit!.buffer;
  return {
    buffer,
    set: (on: boolean) => db.execute(`UPDATE test_audit_fault SET on_ = ${on ? 1 : 0}`),
    async hasRecord(requestId: string): Promise<boolean> {
      const result = await db.execute({
        sql: "SELECT 1 FROM audit_log WHERE request_id = ?",
        args: [requestId],
      });
      return result.rows.length > 0;
    },
    close: () => db.close(),
  };
}

async function withAuditServer(
  mode: "strict" | "batched",
  fn: (server: TestServer, fault: Awaited<ReturnType<typeof auditFault>>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "kms-audit-fault-" });
  const dbUrl = `file:${dir}/kms.db`;
  const server = await startServer({ dbUrl, env: { KMS_AUDIT_MODE: mode } });
  const fault = await auditFault(server, dbUrl);
  try {
    await fn(server, fault);
  } finally {
    fault.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const PLAINTEXT = new TextEncoder().encode("audited");

Deno.test("batched: once an audit write fails, Encrypt answers KMSInternalException until a retry succeeds; records accepted before are kept", async () => {
  await withAuditServer("batched", async (server, fault) => {
    const { KeyMetadata } = await server.client.send(new CreateKeyCommand({}));
    const encrypt = () =>
      server.client.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: PLAINTEXT }));
    await fault.set(true);
    const accepted = await encrypt();
    await waitFor(() => fault.buffer.failing, "the failed audit write");
    assert.match(fault.buffer.status().unavailable ?? "", /audit log writes failing/);
    const size = fault.buffer.size;
    assert.equal(await errorName(encrypt()), "KMSInternalException");
    assert.equal(fault.buffer.size, size, "a refused call adds nothing to the buffer");
    await fault.set(false);
    await waitFor(() => !fault.buffer.failing, "a successful retry");
    const after = await encrypt();
    await fault.buffer.flush();
    assert.ok(await fault.hasRecord(accepted.$metadata.requestId!), "the record accepted before");
    assert.ok(await fault.hasRecord(after.$metadata.requestId!));
    assert.equal(fault.buffer.status().unavailable, null);
  });
});

Deno.test("strict: an Encrypt whose audit record cannot be committed is answered KMSInternalException; one answered 200 is already recorded", async () => {
  await withAuditServer("strict", async (server, fault) => {
    const { KeyMetadata } = await server.client.send(new CreateKeyCommand({}));
    const encrypt = () =>
      server.client.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: PLAINTEXT }));
    await fault.set(true);
    assert.equal(await errorName(encrypt()), "KMSInternalException");
    assert.equal(fault.buffer.failing, true);
    assert.equal(await errorName(encrypt()), "KMSInternalException");
    await fault.set(false);
    await waitFor(() => !fault.buffer.failing, "a successful retry");
    const answered = await encrypt();
    // No flush: in strict mode the reply came after the commit.
    assert.ok(await fault.hasRecord(answered.$metadata.requestId!));
  });
});
