import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { errorName, startServer } from "./helpers/server.ts";

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
      assert.equal((await second.client.send(new ListAliasesCommand({}))).Aliases!.length, 1);
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

Deno.test("Another root key cannot unwrap the stored key material", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-rootkey-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    const first = await startServer({ dbUrl });
    const keyId = (await first.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await first.close();
    const second = await startServer({ dbUrl, rootKey: new Uint8Array(32).fill(9).toBase64() });
    try {
      const name = await errorName(
        second.client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([1]) })),
      );
      assert.equal(name, "KMSInternalException");
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
