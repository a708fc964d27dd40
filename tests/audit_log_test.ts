/**
 * The audit log end to end: every request recorded exactly once with its
 * decision, no secret in any record, the hash chains detecting an edited or
 * deleted record, and GetKeyLastUsage answering from the log.
 */
import assert from "node:assert/strict";
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyPairCommand,
  GetKeyLastUsageCommand,
  RetireGrantCommand,
} from "@aws-sdk/client-kms";
import { createClient } from "@libsql/client";
import type { StoredAuditEvent } from "../storage/audit_store.ts";
import { ACCOUNT_ID, errorName, startServer, type TestServer } from "./helpers/server.ts";

const BOB = {
  accessKeyId: "AKIABOBAUDIT00000001",
  secretAccessKey: "bob-audit-secret-access-key-000000000000",
};
const BOB_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/bob`;
const CONTEXT = { purpose: "audit" };

async function withBob(fn: (server: TestServer, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-audit-" });
  await Deno.writeTextFile(
    `${dir}/principals.json`,
    JSON.stringify({
      principals: [{
        accountId: ACCOUNT_ID,
        userName: "bob",
        accessKeyId: BOB.accessKeyId,
        secretAccessKey: BOB.secretAccessKey,
      }],
    }),
  );
  const server = await startServer({
    dbUrl: `file:${dir}/kms.db`,
    env: { KMS_PRINCIPALS_FILE: `${dir}/principals.json` },
  });
  try {
    await fn(server, dir);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function records(server: TestServer): Promise<StoredAuditEvent[]> {
  const audit = server.service.audit!;
  await audit.buffer.flush();
  return await audit.store.query({ limit: 10_000 });
}

Deno.test("each decision of the grant scenario shows in the audit log, once, without secrets", () =>
  withBob(async (server) => {
    const admin = server.client;
    const bob = server.clientFor({ ...BOB });
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const requestIds: string[] = [];
    const denied = () =>
      bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: new Uint8Array([1]) }));
    assert.equal(await errorName(denied()), "AccessDeniedException");
    const grant = await admin.send(
      new CreateGrantCommand({
        KeyId: key.KeyId,
        GranteePrincipal: BOB_ARN,
        RetiringPrincipal: BOB_ARN,
        Operations: ["GenerateDataKeyPair", "Decrypt"],
        Constraints: { EncryptionContextSubset: CONTEXT },
      }),
    );
    requestIds.push(grant.$metadata.requestId!);
    const pair = await bob.send(
      new GenerateDataKeyPairCommand({
        KeyId: key.KeyId,
        KeyPairSpec: "ECC_NIST_P256",
        EncryptionContext: CONTEXT,
        GrantTokens: [grant.GrantToken!],
      }),
    );
    requestIds.push(pair.$metadata.requestId!);
    const opened = await bob.send(
      new DecryptCommand({
        CiphertextBlob: pair.PrivateKeyCiphertextBlob,
        EncryptionContext: CONTEXT,
      }),
    );
    requestIds.push(opened.$metadata.requestId!);
    requestIds.push(
      (await bob.send(new RetireGrantCommand({ GrantToken: grant.GrantToken })))
        .$metadata.requestId!,
    );
    assert.equal(
      await errorName(
        bob.send(
          new GenerateDataKeyPairCommand({
            KeyId: key.KeyId,
            KeyPairSpec: "ECC_NIST_P256",
            EncryptionContext: CONTEXT,
          }),
        ),
      ),
      "AccessDeniedException",
    );

    const log = await records(server);
    for (const id of requestIds) {
      assert.equal(log.filter((r) => r.requestId === id).length, 1, `request ${id} once`);
    }
    assert.equal(new Set(log.map((r) => r.requestId)).size, log.length, "no request twice");
    // Records of state changes commit with the change, the others a little later: compare as sets.
    const bobs = log.filter((r) => r.principalArn === BOB_ARN);
    assert.deepEqual(
      bobs.map((r) => [r.eventName, r.decision, r.errorCode].join(" ")).sort(),
      [
        "Decrypt Allow ",
        "Encrypt Deny AccessDeniedException",
        "GenerateDataKeyPair Allow ",
        "GenerateDataKeyPair Deny AccessDeniedException",
        "RetireGrant Allow ",
      ],
    );
    for (const record of bobs) assert.deepEqual(record.keyArns, [key.Arn]);
    const gdkp = bobs.find((r) => r.eventName === "GenerateDataKeyPair" && r.decision === "Allow")!
      .event;
    assert.deepEqual(gdkp.requestParameters?.encryptionContext, CONTEXT);
    assert.equal(gdkp.eventSource, "kms.amazonaws.com");
    assert.equal(gdkp.sourceIPAddress, "127.0.0.1");
    const createGrant = log.find((r) => r.eventName === "CreateGrant")!;
    assert.equal(createGrant.decision, "Allow");
    assert.equal(createGrant.chain, 0, "a state change commits its record with the change");
    const everything = log.map((r) => r.json).join("\n");
    for (
      const secret of [
        pair.PrivateKeyPlaintext!.toBase64(),
        pair.PrivateKeyCiphertextBlob!.toBase64(),
        opened.Plaintext!.toBase64(),
        grant.GrantToken!,
        BOB.secretAccessKey,
      ]
    ) {
      assert.ok(!everything.includes(secret), "no secret, key, ciphertext or token in the log");
    }
    assert.equal((await server.service.audit!.store.verify()).ok, true);
  }));

Deno.test("GetKeyLastUsage answers the key's last successful cryptographic operation", () =>
  withBob(async (server) => {
    const admin = server.client;
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    const before = await admin.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }));
    assert.equal(before.KeyLastUsage?.Operation, undefined);
    const encrypted = await admin.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: new Uint8Array([1]) }),
    );
    const after = await admin.send(new GetKeyLastUsageCommand({ KeyId: key.Arn }));
    assert.equal(after.KeyLastUsage?.Operation, "Encrypt");
    assert.equal(after.KeyLastUsage?.KmsRequestId, encrypted.$metadata.requestId);
    assert.ok(after.KeyCreationDate instanceof Date);
  }));

Deno.test("an edited or deleted audit record breaks the hash chain", () =>
  withBob(async (server, dir) => {
    const admin = server.client;
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!;
    for (let i = 0; i < 3; i++) {
      await admin.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: new Uint8Array([i]) }));
    }
    const log = await records(server);
    assert.equal((await server.service.audit!.store.verify()).ok, true);
    const db = createClient({ url: `file:${dir}/kms.db` });
    try {
      const middle = log.filter((r) => r.eventName === "Encrypt")[1]!;
      // The row as stored (a buffered record's compact form), put back after the edit.
      const stored = (await db.execute({
        sql: "SELECT event FROM audit_log WHERE seq = ?",
        args: [middle.seq],
      })).rows[0]!["event"] as string;
      await db.execute({
        sql: "UPDATE audit_log SET event = ? WHERE seq = ?",
        args: [stored.replace("Encrypt", "Decrypt"), middle.seq],
      });
      assert.equal((await server.service.audit!.store.verify()).ok, false, "edit detected");
      await db.execute({
        sql: "UPDATE audit_log SET event = ? WHERE seq = ?",
        args: [stored, middle.seq],
      });
      assert.equal((await server.service.audit!.store.verify()).ok, true);
      await db.execute({ sql: "DELETE FROM audit_log WHERE seq = ?", args: [middle.seq] });
      assert.equal((await server.service.audit!.store.verify()).ok, false, "deletion detected");
    } finally {
      db.close();
    }
  }));
