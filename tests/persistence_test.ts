import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { ADMIN, errorName, startServer } from "./helpers/server.ts";

Deno.test("Restarting on the same database file loses no key, alias, tag, state or ciphertext", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-persist-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    const first = await startServer({ dbUrl });
    const a = (await first.client.send(
      new CreateKeyCommand({ Description: "kept", Tags: [{ TagKey: "t", TagValue: "v" }] }),
    ))
      .KeyMetadata!;
    const b = (await first.client.send(new CreateKeyCommand({}))).KeyMetadata!;
    await first.client.send(
      new CreateAliasCommand({ AliasName: "alias/kept", TargetKeyId: a.KeyId }),
    );
    await first.client.send(new DisableKeyCommand({ KeyId: b.KeyId }));
    const { CiphertextBlob } = await first.client.send(
      new EncryptCommand({
        KeyId: "alias/kept",
        Plaintext: new TextEncoder().encode("durable"),
        EncryptionContext: { c: "1" },
      }),
    );
    await first.close();

    const second = await startServer({ dbUrl });
    try {
      const dec = await second.client.send(
        new DecryptCommand({ CiphertextBlob, EncryptionContext: { c: "1" } }),
      );
      assert.equal(new TextDecoder().decode(dec.Plaintext), "durable");
      const m = (await second.client.send(new DescribeKeyCommand({ KeyId: "alias/kept" })))
        .KeyMetadata!;
      assert.equal(m.KeyId, a.KeyId);
      assert.equal(m.Description, "kept");
      assert.equal(m.CurrentKeyMaterialId, a.CurrentKeyMaterialId);
      assert.deepEqual(
        (await second.client.send(new ListResourceTagsCommand({ KeyId: a.KeyId }))).Tags,
        [
          { TagKey: "t", TagValue: "v" },
        ],
      );
      // The one alias made, beside AWS's predefined aliases that have no key (no TargetKeyId).
      const aliases = (await second.client.send(new ListAliasesCommand({}))).Aliases!;
      assert.equal(aliases.filter((alias) => alias.TargetKeyId !== undefined).length, 1);
      assert.equal(
        (await second.client.send(new DescribeKeyCommand({ KeyId: b.KeyId }))).KeyMetadata!
          .KeyState,
        "Disabled",
      );
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Starting with another root key than the database's fails with a clear error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-rootkey-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    const first = await startServer({ dbUrl });
    await first.client.send(new CreateKeyCommand({}));
    await first.close();
    await assert.rejects(
      startServer({ dbUrl, rootKey: new Uint8Array(32).fill(9).toBase64() }),
      /root key .* is not the one this database was written with/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("A configured admin secret replaces the stored one on restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-admin-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    const first = await startServer({ dbUrl });
    await first.close();
    const second = await startServer({
      dbUrl,
      env: { KMS_ADMIN_SECRET_ACCESS_KEY: "rotated-secret" },
    });
    try {
      const fresh = second.clientFor({
        accessKeyId: ADMIN.accessKeyId,
        secretAccessKey: "rotated-secret",
      });
      await fresh.send(new ListKeysCommand({}));
      assert.equal(
        await errorName(second.client.send(new ListKeysCommand({}))),
        "InvalidSignatureException",
      );
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
