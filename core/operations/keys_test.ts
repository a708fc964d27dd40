/**
 * The key lifecycle family (core/operations/keys.ts) in process: CreateKey, DescribeKey,
 * ListKeys, UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion and
 * CancelKeyDeletion on a KMS over `:memory:` whose clock the test moves
 * (tests/helpers/in_process.ts). The HTTP tests (tests/keys_test.ts) keep the protocol.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ACCOUNT_ID, REGION } from "../../tests/helpers/server.ts";
import { rejectionOf, withInProcessKms } from "../../tests/helpers/in_process.ts";

const DAY = 86_400_000;

Deno.test("CreateKey makes an Enabled SYMMETRIC_DEFAULT key of the caller's account that DescribeKey finds by id, ARN and alias", () =>
  withInProcessKms(async ({ call, clock }) => {
    const { KeyMetadata: created } = await call("CreateKey", { Description: "first" });
    assert.equal(created.KeyState, "Enabled");
    assert.equal(created.KeySpec, "SYMMETRIC_DEFAULT");
    assert.equal(created.KeyUsage, "ENCRYPT_DECRYPT");
    assert.equal(created.Origin, "AWS_KMS");
    assert.equal(created.Description, "first");
    assert.equal(created.AWSAccountId, ACCOUNT_ID);
    assert.equal(created.Arn, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${created.KeyId}`);
    assert.equal(new Date(created.CreationDate).getTime(), clock.now());
    await call("CreateAlias", { AliasName: "alias/first", TargetKeyId: created.KeyId });
    for (const KeyId of [created.KeyId, created.Arn, "alias/first"]) {
      const { KeyMetadata } = await call("DescribeKey", { KeyId });
      assert.equal(KeyMetadata.KeyId, created.KeyId, KeyId);
    }
  }));

Deno.test("DescribeKey of a key id that does not exist is a NotFoundException", () =>
  withInProcessKms(async ({ call }) => {
    assert.equal(
      await rejectionOf(call("DescribeKey", { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" })),
      "NotFoundException",
    );
  }));

Deno.test("UpdateKeyDescription replaces the description and nothing else", () =>
  withInProcessKms(async ({ call }) => {
    const { KeyMetadata: before } = await call("CreateKey", { Description: "old" });
    await call("UpdateKeyDescription", { KeyId: before.KeyId, Description: "new" });
    const { KeyMetadata: after } = await call("DescribeKey", { KeyId: before.KeyId });
    assert.deepEqual(after, { ...before, Description: "new" });
  }));

Deno.test("a disabled key refuses Encrypt with DisabledException until EnableKey", () =>
  withInProcessKms(async ({ call }) => {
    const { KeyMetadata } = await call("CreateKey");
    const KeyId = KeyMetadata.KeyId;
    const Plaintext = new TextEncoder().encode("secret").toBase64();
    await call("DisableKey", { KeyId });
    assert.equal((await call("DescribeKey", { KeyId })).KeyMetadata.KeyState, "Disabled");
    assert.equal(await rejectionOf(call("Encrypt", { KeyId, Plaintext })), "DisabledException");
    await call("EnableKey", { KeyId });
    const { CiphertextBlob } = await call("Encrypt", { KeyId, Plaintext });
    const { Plaintext: opened } = await call("Decrypt", {
      CiphertextBlob: CiphertextBlob.toBase64(),
    });
    assert.equal(new TextDecoder().decode(opened.expose()), "secret");
  }));

Deno.test("ScheduleKeyDeletion dates the deletion PendingWindowInDays after the clock's now; CancelKeyDeletion leaves the key Disabled", () =>
  withInProcessKms(async ({ call, clock }) => {
    const { KeyMetadata } = await call("CreateKey");
    const KeyId = KeyMetadata.KeyId;
    clock.advance(3 * DAY);
    const scheduled = await call("ScheduleKeyDeletion", { KeyId, PendingWindowInDays: 7 });
    assert.equal(scheduled.KeyState, "PendingDeletion");
    assert.equal(scheduled.PendingWindowInDays, 7);
    assert.equal(new Date(scheduled.DeletionDate).getTime(), clock.now() + 7 * DAY);
    const pending = (await call("DescribeKey", { KeyId })).KeyMetadata;
    assert.equal(pending.KeyState, "PendingDeletion");
    assert.equal(new Date(pending.DeletionDate).getTime(), clock.now() + 7 * DAY);

    await call("CancelKeyDeletion", { KeyId });
    const cancelled = (await call("DescribeKey", { KeyId })).KeyMetadata;
    assert.equal(cancelled.KeyState, "Disabled");
    assert.equal(cancelled.DeletionDate, undefined);
  }));

Deno.test("a key past its deletion date is purged and then not found; one before it is kept", () =>
  withInProcessKms(async ({ call, clock, kms }) => {
    const doomed = (await call("CreateKey")).KeyMetadata.KeyId;
    const kept = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("ScheduleKeyDeletion", { KeyId: doomed, PendingWindowInDays: 7 });
    await call("ScheduleKeyDeletion", { KeyId: kept, PendingWindowInDays: 30 });
    clock.advance(7 * DAY + 1);
    assert.equal(await kms.purgeDueKeys(), 1);
    assert.equal(await rejectionOf(call("DescribeKey", { KeyId: doomed })), "NotFoundException");
    assert.equal(
      (await call("DescribeKey", { KeyId: kept })).KeyMetadata.KeyState,
      "PendingDeletion",
    );
  }));

Deno.test("PendingWindowInDays outside 7..30 is a ValidationException and the key stays Enabled", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    for (const PendingWindowInDays of [6, 31]) {
      assert.equal(
        await rejectionOf(call("ScheduleKeyDeletion", { KeyId, PendingWindowInDays })),
        "ValidationException",
        String(PendingWindowInDays),
      );
    }
    assert.equal((await call("DescribeKey", { KeyId })).KeyMetadata.KeyState, "Enabled");
  }));

Deno.test("ListKeys pages through every key exactly once with Limit and Marker", () =>
  withInProcessKms(async ({ call }) => {
    const created = new Set<string>();
    for (let i = 0; i < 7; i++) created.add((await call("CreateKey")).KeyMetadata.KeyId);
    const listed: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await call("ListKeys", { Limit: 3, ...(Marker ? { Marker } : {}) });
      pages++;
      assert.ok(page.Keys.length <= 3);
      listed.push(...page.Keys.map((k: { KeyId: string }) => k.KeyId));
      assert.equal(page.Truncated, page.NextMarker !== undefined);
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    assert.equal(pages, 3);
    assert.equal(listed.length, 7);
    assert.deepEqual(new Set(listed), created);
  }));
