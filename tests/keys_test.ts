import assert from "node:assert/strict";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import { errorName, ManualClock, withServer } from "./helpers/server.ts";

Deno.test("CreateKey returns the full KeyMetadata of an enabled symmetric key", () =>
  withServer(async ({ client }) => {
    const before = Date.now();
    const { KeyMetadata: m } = await client.send(
      new CreateKeyCommand({ Description: "first key" }),
    );
    assert.ok(m);
    assert.match(m.KeyId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(m.Arn, `arn:aws:kms:us-east-1:111122223333:key/${m.KeyId}`);
    assert.equal(m.AWSAccountId, "111122223333");
    assert.equal(m.Description, "first key");
    assert.equal(m.Enabled, true);
    assert.equal(m.KeyState, "Enabled");
    assert.equal(m.KeyUsage, "ENCRYPT_DECRYPT");
    assert.equal(m.KeySpec, "SYMMETRIC_DEFAULT");
    assert.equal(m.CustomerMasterKeySpec, "SYMMETRIC_DEFAULT");
    assert.equal(m.Origin, "AWS_KMS");
    assert.equal(m.KeyManager, "CUSTOMER");
    assert.equal(m.MultiRegion, false);
    assert.deepEqual(m.EncryptionAlgorithms, ["SYMMETRIC_DEFAULT"]);
    assert.match(m.CurrentKeyMaterialId!, /^[0-9a-f]{64}$/);
    assert.ok(
      m.CreationDate!.getTime() >= before - 1000 && m.CreationDate!.getTime() <= Date.now() + 1000,
    );
  }));

Deno.test("DescribeKey finds a key by id, key ARN, alias name and alias ARN", () =>
  withServer(async ({ client }) => {
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    await client.send(
      new CreateAliasCommand({ AliasName: "alias/described", TargetKeyId: KeyMetadata!.KeyId }),
    );
    for (
      const id of [
        KeyMetadata!.KeyId!,
        KeyMetadata!.Arn!,
        "alias/described",
        "arn:aws:kms:us-east-1:111122223333:alias/described",
      ]
    ) {
      const r = await client.send(new DescribeKeyCommand({ KeyId: id }));
      assert.equal(r.KeyMetadata!.KeyId, KeyMetadata!.KeyId, id);
    }
    assert.equal(
      await errorName(
        client.send(new DescribeKeyCommand({ KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" })),
      ),
      "NotFoundException",
    );
    assert.equal(
      await errorName(client.send(new DescribeKeyCommand({ KeyId: "" }))),
      "ValidationException",
    );
  }));

Deno.test("CreateKey rejects conflicting specs, a usage the spec forbids, bad policies and unsupported specs", () =>
  withServer(async ({ client }) => {
    assert.equal(
      await errorName(
        client.send(
          new CreateKeyCommand({
            KeySpec: "SYMMETRIC_DEFAULT",
            CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
          }),
        ),
      ),
      "ValidationException",
    );
    assert.equal(
      await errorName(
        client.send(
          new CreateKeyCommand({ KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "SIGN_VERIFY" }),
        ),
      ),
      "ValidationException",
    );
    assert.equal(
      await errorName(client.send(new CreateKeyCommand({ Policy: "not json" }))),
      "MalformedPolicyDocumentException",
    );
    assert.equal(
      await errorName(client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256" }))),
      "ValidationException",
      "ECC keys cannot ENCRYPT_DECRYPT (the default usage)",
    );
    assert.equal(
      await errorName(
        client.send(new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "SIGN_VERIFY" })),
      ),
      "ValidationException",
    );
    assert.equal(
      // deno-lint-ignore no-explicit-any
      await errorName(client.send(new CreateKeyCommand({ KeySpec: "NOT_A_SPEC" as any }))),
      "ValidationException",
    );
    assert.equal(
      await errorName(client.send(new CreateKeyCommand({ Description: "x".repeat(8193) }))),
      "ValidationException",
    );
    const { Keys } = await client.send(new ListKeysCommand({}));
    assert.equal(Keys!.length, 0, "no rejected CreateKey left a key behind");
  }));

Deno.test("ListKeys pages with Limit and Marker and reports Truncated", () =>
  withServer(async ({ client }) => {
    const created = new Set<string>();
    for (let i = 0; i < 5; i++) {
      created.add((await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
    }
    const seen: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const r = await client.send(new ListKeysCommand({ Limit: 2, Marker }));
      pages++;
      for (const k of r.Keys!) {
        seen.push(k.KeyId!);
        assert.equal(k.KeyArn, `arn:aws:kms:us-east-1:111122223333:key/${k.KeyId}`);
      }
      assert.equal(r.Truncated, r.NextMarker !== undefined);
      Marker = r.NextMarker;
    } while (Marker !== undefined);
    assert.equal(pages, 3);
    assert.deepEqual(new Set(seen), created);
    assert.equal(seen.length, 5);
    assert.equal(
      await errorName(client.send(new ListKeysCommand({ Marker: "bogus" }))),
      "InvalidMarkerException",
    );
    assert.equal(
      await errorName(client.send(new ListKeysCommand({ Limit: 0 }))),
      "ValidationException",
    );
    assert.equal(
      await errorName(client.send(new ListKeysCommand({ Limit: 1001 }))),
      "ValidationException",
    );
  }));

Deno.test("UpdateKeyDescription changes the description", () =>
  withServer(async ({ client }) => {
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: "old" }));
    await client.send(
      new UpdateKeyDescriptionCommand({ KeyId: KeyMetadata!.Arn, Description: "new" }),
    );
    const r = await client.send(new DescribeKeyCommand({ KeyId: KeyMetadata!.KeyId }));
    assert.equal(r.KeyMetadata!.Description, "new");
  }));

Deno.test("DisableKey and EnableKey switch the key state", () =>
  withServer(async ({ client }) => {
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    const KeyId = KeyMetadata!.KeyId!;
    await client.send(new DisableKeyCommand({ KeyId }));
    let m = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;
    assert.equal(m.KeyState, "Disabled");
    assert.equal(m.Enabled, false);
    await client.send(new DisableKeyCommand({ KeyId }));
    await client.send(new EnableKeyCommand({ KeyId }));
    m = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;
    assert.equal(m.KeyState, "Enabled");
    assert.equal(m.Enabled, true);
    assert.equal(
      await errorName(client.send(new EnableKeyCommand({ KeyId: "alias/none" }))),
      "NotFoundException",
    );
  }));

Deno.test("ScheduleKeyDeletion accepts 7..30 days, defaults to 30, and CancelKeyDeletion leaves the key Disabled", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    for (const days of [6, 31]) {
      assert.equal(
        await errorName(
          client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: days })),
        ),
        "ValidationException",
      );
    }
    const before = Date.now();
    const r = await client.send(new ScheduleKeyDeletionCommand({ KeyId }));
    assert.equal(r.KeyState, "PendingDeletion");
    assert.equal(r.PendingWindowInDays, 30);
    assert.match(r.KeyId!, /^arn:aws:kms:/);
    const expected = before + 30 * 86400_000;
    assert.ok(Math.abs(r.DeletionDate!.getTime() - expected) < 5000);
    const m = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;
    assert.equal(m.KeyState, "PendingDeletion");
    assert.equal(m.PendingDeletionWindowInDays, 30);
    assert.ok(m.DeletionDate);
    assert.equal(
      await errorName(client.send(new ScheduleKeyDeletionCommand({ KeyId }))),
      "KMSInvalidStateException",
    );
    assert.equal(
      await errorName(client.send(new EnableKeyCommand({ KeyId }))),
      "KMSInvalidStateException",
    );
    assert.equal(
      await errorName(client.send(new DisableKeyCommand({ KeyId }))),
      "KMSInvalidStateException",
    );
    assert.equal(
      await errorName(client.send(new UpdateKeyDescriptionCommand({ KeyId, Description: "x" }))),
      "KMSInvalidStateException",
    );
    const cancelled = await client.send(new CancelKeyDeletionCommand({ KeyId }));
    assert.match(cancelled.KeyId!, new RegExp(KeyId));
    const after = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!;
    assert.equal(after.KeyState, "Disabled");
    assert.equal(after.DeletionDate, undefined);
    assert.equal(
      await errorName(client.send(new CancelKeyDeletionCommand({ KeyId }))),
      "KMSInvalidStateException",
    );
  }));

Deno.test("A key past its deletion date is deleted for real", async () => {
  const clock = new ManualClock();
  await withServer(async (server) => {
    const { service } = server;
    const client = server.client;
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new CreateAliasCommand({ AliasName: "alias/doomed", TargetKeyId: KeyId }));
    const keep = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    clock.advance(7 * 86400_000 - 60_000);
    assert.equal(
      (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!.KeyState,
      "PendingDeletion",
    );
    clock.advance(120_000);

    assert.equal(await service.kms.purgeDueKeys(), 1);
    assert.equal(
      await errorName(client.send(new DescribeKeyCommand({ KeyId }))),
      "NotFoundException",
    );
    assert.equal(await service.store.getKey(KeyId), null);
    assert.equal(await service.store.getAlias("111122223333", "us-east-1", "alias/doomed"), null);
    const { Keys } = await client.send(new ListKeysCommand({}));
    assert.deepEqual(Keys!.map((k) => k.KeyId), [keep]);
    assert.equal(
      await errorName(client.send(new EncryptCommand({ KeyId, Plaintext: new Uint8Array([1]) }))),
      "NotFoundException",
    );
  }, { clock });
});
