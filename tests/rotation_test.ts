/**
 * Key rotation through the AWS SDK: EnableKeyRotation, DisableKeyRotation,
 * GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations and the automatic
 * rotation scheduler, with a clock the tests move (ManualClock) and the
 * scheduler looking every 20 ms.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  ListKeyRotationsCommand,
  type ListKeyRotationsCommandOutput,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  type RotationsListEntry,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { SqliteAuditStore } from "../storage/audit_store.ts";
import { openDatabase } from "../storage/client.ts";
import type { Service } from "../main.ts";
import { errorName, ManualClock, type StartOptions, withServer } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

const DAY = 86_400_000;
const text = new TextEncoder();

/** A server whose lifecycle clock the test moves and whose scheduler looks every 20 ms. */
function rotationServer(clock: ManualClock): StartOptions {
  return { clock, env: { KMS_ROTATION_CHECK_INTERVAL_MS: "20" } };
}

async function newKey(client: KMSClient, spec?: KeySpec, usage?: KeyUsageType): Promise<string> {
  const { KeyMetadata } = await client.send(
    new CreateKeyCommand({
      ...(spec === undefined ? {} : { KeySpec: spec }),
      ...(usage === undefined ? {} : { KeyUsage: usage }),
    }),
  );
  return KeyMetadata!.KeyId!;
}

/** Every page of ListKeyRotations with `Limit`. */
async function allRotations(
  client: KMSClient,
  KeyId: string,
  options: { Limit?: number; IncludeKeyMaterial?: "ALL_KEY_MATERIAL" | "ROTATIONS_ONLY" } = {},
): Promise<{ entries: RotationsListEntry[]; pages: ListKeyRotationsCommandOutput[] }> {
  const pages: ListKeyRotationsCommandOutput[] = [];
  let Marker: string | undefined;
  do {
    const page = await client.send(new ListKeyRotationsCommand({ KeyId, Marker, ...options }));
    pages.push(page);
    Marker = page.NextMarker;
    assert.equal(page.Truncated, Marker !== undefined);
  } while (Marker !== undefined);
  return { entries: pages.flatMap((page) => page.Rotations ?? []), pages };
}

async function rotationCount(client: KMSClient, KeyId: string): Promise<number> {
  return (await allRotations(client, KeyId)).entries.length;
}

/**
 * Waits until the server's scheduler has finished three more looks than now: at least two of
 * them started after this call, so what they would rotate, they have rotated.
 */
async function severalLooks(service: Service): Promise<void> {
  const scheduler = service.rotationSchedulers[0]!;
  const target = scheduler.looks + 3;
  await waitFor(() => scheduler.looks >= target, `${target} looks of the rotation scheduler`);
}

Deno.test("EnableKeyRotation turns on yearly rotation; GetKeyRotationStatus reports period and next date; DisableKeyRotation turns it off", async () => {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  await withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    const off = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(off.KeyRotationEnabled, false);
    assert.equal(off.KeyId, `arn:aws:kms:us-east-1:111122223333:key/${KeyId}`);
    assert.equal(off.RotationPeriodInDays, undefined);
    assert.equal(off.NextRotationDate, undefined);
    assert.equal(off.OnDemandRotationStartDate, undefined);

    await client.send(new EnableKeyRotationCommand({ KeyId }));
    const on = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(on.KeyRotationEnabled, true);
    assert.equal(on.RotationPeriodInDays, 365);
    assert.equal(on.NextRotationDate!.getTime(), clock.now() + 365 * DAY);

    // Calling it again changes the period: the next date is the new period after the enable date.
    clock.advance(10 * DAY);
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 180 }));
    const changed = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(changed.RotationPeriodInDays, 180);
    assert.equal(changed.NextRotationDate!.getTime(), Date.UTC(2025, 0, 1) + 180 * DAY);

    await client.send(new DisableKeyRotationCommand({ KeyId }));
    const disabled = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(disabled.KeyRotationEnabled, false);
    assert.equal(disabled.NextRotationDate, undefined);
    // Disabling twice is fine, and enabling again starts a fresh period.
    await client.send(new DisableKeyRotationCommand({ KeyId }));
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
    const again = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(again.NextRotationDate!.getTime(), clock.now() + 90 * DAY);
    // The key ARN works as KeyId; an alias does not (AWS takes key id or key ARN only).
    const arn = `arn:aws:kms:us-east-1:111122223333:key/${KeyId}`;
    assert.equal(
      (await client.send(new GetKeyRotationStatusCommand({ KeyId: arn }))).KeyRotationEnabled,
      true,
    );
    await client.send(new CreateAliasCommand({ AliasName: "alias/rotating", TargetKeyId: KeyId }));
    for (
      const command of [
        new EnableKeyRotationCommand({ KeyId: "alias/rotating" }),
        new GetKeyRotationStatusCommand({ KeyId: "alias/rotating" }),
        new RotateKeyOnDemandCommand({ KeyId: "alias/rotating" }),
      ]
    ) {
      assert.equal(await errorName(client.send(command as never)), "NotFoundException");
    }
  }, rotationServer(clock));
});

Deno.test("RotationPeriodInDays outside 90..2560 is a ValidationException and changes nothing", () =>
  withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    for (const RotationPeriodInDays of [89, 2561, 0, -1]) {
      assert.equal(
        await errorName(client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays }))),
        "ValidationException",
      );
    }
    for (const RotationPeriodInDays of [90, 2560]) {
      await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays }));
      assert.equal(
        (await client.send(new GetKeyRotationStatusCommand({ KeyId }))).RotationPeriodInDays,
        RotationPeriodInDays,
      );
    }
    assert.equal(
      await errorName(
        client.send(new ListKeyRotationsCommand({ KeyId, IncludeKeyMaterial: "SOME" as never })),
      ),
      "ValidationException",
    );
    assert.equal(
      await errorName(client.send(new ListKeyRotationsCommand({ KeyId, Limit: 0 }))),
      "ValidationException",
    );
    assert.equal(
      await errorName(client.send(new ListKeyRotationsCommand({ KeyId, Marker: "bm9wZQ==" }))),
      "InvalidMarkerException",
    );
    assert.equal(
      await errorName(
        client.send(
          new EnableKeyRotationCommand({ KeyId: "11111111-2222-3333-4444-555555555555" }),
        ),
      ),
      "NotFoundException",
    );
  }));

Deno.test("asymmetric and HMAC keys do not rotate: UnsupportedOperationException, and GetKeyRotationStatus says false", () =>
  withServer(async ({ client }) => {
    const keys = [
      await newKey(client, "ECC_NIST_P256", "SIGN_VERIFY"),
      await newKey(client, "HMAC_256", "GENERATE_VERIFY_MAC"),
      await newKey(client, "RSA_2048", "ENCRYPT_DECRYPT"),
    ];
    for (const KeyId of keys) {
      for (
        const command of [
          new EnableKeyRotationCommand({ KeyId }),
          new DisableKeyRotationCommand({ KeyId }),
          new RotateKeyOnDemandCommand({ KeyId }),
          new ListKeyRotationsCommand({ KeyId }),
        ]
      ) {
        assert.equal(
          await errorName(client.send(command as never)),
          "UnsupportedOperationException",
          `${command.constructor.name} on ${KeyId}`,
        );
      }
      const status = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
      assert.equal(status.KeyRotationEnabled, false);
    }
  }));

Deno.test("key states: a disabled key refuses rotation changes with DisabledException, a key pending deletion with KMSInvalidStateException and reports rotation off until the deletion is canceled", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    await client.send(new EnableKeyRotationCommand({ KeyId }));
    await client.send(new DisableKeyCommand({ KeyId }));
    for (
      const command of [
        new EnableKeyRotationCommand({ KeyId }),
        new DisableKeyRotationCommand({ KeyId }),
        new RotateKeyOnDemandCommand({ KeyId }),
      ]
    ) {
      assert.equal(await errorName(client.send(command as never)), "DisabledException");
    }
    // The rotation status does not change when the key is disabled.
    assert.equal(
      (await client.send(new GetKeyRotationStatusCommand({ KeyId }))).KeyRotationEnabled,
      true,
    );
    assert.deepEqual((await client.send(new ListKeyRotationsCommand({ KeyId }))).Rotations, []);

    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    for (
      const command of [
        new EnableKeyRotationCommand({ KeyId }),
        new DisableKeyRotationCommand({ KeyId }),
        new RotateKeyOnDemandCommand({ KeyId }),
      ]
    ) {
      assert.equal(await errorName(client.send(command as never)), "KMSInvalidStateException");
    }
    const pending = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(pending.KeyRotationEnabled, false);
    await client.send(new ListKeyRotationsCommand({ KeyId }));

    await client.send(new CancelKeyDeletionCommand({ KeyId }));
    const restored = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(restored.KeyRotationEnabled, true);
    assert.equal(restored.RotationPeriodInDays, 365);
  }, rotationServer(clock));
});

Deno.test("a ciphertext made before any number of rotations, on-demand or automatic, decrypts afterwards; ListKeyRotations tells the true history", async () => {
  const start = Date.UTC(2025, 2, 1);
  const clock = new ManualClock(start);
  await withServer(async ({ client, service }) => {
    const KeyId = await newKey(client);
    const described = async () =>
      (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!.CurrentKeyMaterialId!;
    const first = await described();
    const ciphertexts: { blob: Uint8Array; plaintext: string; materialId: string }[] = [];
    const encrypt = async (plaintext: string) => {
      const { CiphertextBlob } = await client.send(
        new EncryptCommand({
          KeyId,
          Plaintext: text.encode(plaintext),
          EncryptionContext: { purpose: "rotation" },
        }),
      );
      ciphertexts.push({ blob: CiphertextBlob!, plaintext, materialId: await described() });
    };
    await encrypt("before any rotation");
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
    const onDemandAt: number[] = [];
    for (let i = 1; i <= 3; i++) {
      clock.advance(DAY);
      onDemandAt.push(clock.now());
      const answer = await client.send(new RotateKeyOnDemandCommand({ KeyId }));
      assert.equal(answer.KeyId, KeyId);
      await encrypt(`after on-demand rotation ${i}`);
    }
    // On-demand rotations leave the automatic schedule as it was.
    const status = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(status.NextRotationDate!.getTime(), start + 90 * DAY);
    assert.equal(status.OnDemandRotationStartDate, undefined);

    // Past the period the scheduler rotates by itself, once.
    clock.advance(90 * DAY);
    const automaticAt = clock.now();
    await waitFor(async () => await rotationCount(client, KeyId) === 4, "automatic rotation");
    await severalLooks(service);
    assert.equal(await rotationCount(client, KeyId), 4);
    assert.equal(
      (await client.send(new GetKeyRotationStatusCommand({ KeyId }))).NextRotationDate!.getTime(),
      start + 180 * DAY,
    );
    await encrypt("after the automatic rotation");

    // Every ciphertext decrypts, each under the material it was made with.
    for (const { blob, plaintext, materialId } of ciphertexts) {
      const out = await client.send(
        new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: "rotation" } }),
      );
      assert.equal(new TextDecoder().decode(out.Plaintext), plaintext);
      assert.equal(out.KeyMaterialId, materialId);
    }
    const materialIds = ciphertexts.map((c) => c.materialId);
    assert.equal(new Set(materialIds).size, 5);
    assert.equal(materialIds[0], first);

    // The history: three on-demand rotations and one automatic one, oldest first, paginated.
    const { entries, pages } = await allRotations(client, KeyId, { Limit: 3 });
    assert.equal(pages.length, 2);
    assert.deepEqual(entries.map((e) => e.RotationType), [
      "ON_DEMAND",
      "ON_DEMAND",
      "ON_DEMAND",
      "AUTOMATIC",
    ]);
    assert.deepEqual(entries.map((e) => e.RotationDate!.getTime()), [...onDemandAt, automaticAt]);
    assert.deepEqual(entries.map((e) => e.KeyMaterialId), materialIds.slice(1));
    assert.deepEqual(entries.map((e) => e.KeyMaterialState), [
      "NON_CURRENT",
      "NON_CURRENT",
      "NON_CURRENT",
      "CURRENT",
    ]);
    for (const entry of entries) {
      assert.equal(entry.KeyId, KeyId);
      assert.equal(entry.ImportState, undefined);
    }
    // ALL_KEY_MATERIAL adds the first material, without a rotation date or type.
    const all = await allRotations(client, KeyId, { IncludeKeyMaterial: "ALL_KEY_MATERIAL" });
    assert.equal(all.entries.length, 5);
    assert.equal(all.entries[0]!.KeyMaterialId, first);
    assert.equal(all.entries[0]!.RotationDate, undefined);
    assert.equal(all.entries[0]!.RotationType, undefined);
    assert.equal(await described(), materialIds[4]);
  }, rotationServer(clock));
});

Deno.test("ReEncrypt moves a ciphertext made before rotations to the newest material", () =>
  withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId, Plaintext: text.encode("old") }),
    );
    const before = await client.send(new DecryptCommand({ CiphertextBlob }));
    await client.send(new RotateKeyOnDemandCommand({ KeyId }));
    await client.send(new RotateKeyOnDemandCommand({ KeyId }));
    const newest = (await client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!
      .CurrentKeyMaterialId!;
    assert.notEqual(newest, before.KeyMaterialId);
    const moved = await client.send(
      new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: KeyId }),
    );
    assert.equal(moved.SourceKeyMaterialId, before.KeyMaterialId);
    assert.equal(moved.DestinationKeyMaterialId, newest);
    const after = await client.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob }));
    assert.equal(new TextDecoder().decode(after.Plaintext), "old");
    assert.equal(after.KeyMaterialId, newest);
  }));

Deno.test("RotateKeyOnDemand works 25 times per key; the 26th is a LimitExceededException", () =>
  withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    for (let i = 0; i < 25; i++) await client.send(new RotateKeyOnDemandCommand({ KeyId }));
    assert.equal(
      await errorName(client.send(new RotateKeyOnDemandCommand({ KeyId }))),
      "LimitExceededException",
    );
    const { entries } = await allRotations(client, KeyId);
    assert.equal(entries.length, 25);
    assert.ok(entries.every((e) => e.RotationType === "ON_DEMAND"));
    // Another key has its own quota.
    await client.send(new RotateKeyOnDemandCommand({ KeyId: await newKey(client) }));
  }));

Deno.test("concurrent RotateKeyOnDemand calls each make one new version, never two on one", () =>
  withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId, Plaintext: text.encode("x") }),
    );
    await Promise.all(
      Array.from({ length: 8 }, () => client.send(new RotateKeyOnDemandCommand({ KeyId }))),
    );
    const all = await allRotations(client, KeyId, { IncludeKeyMaterial: "ALL_KEY_MATERIAL" });
    assert.equal(all.entries.length, 9);
    assert.equal(new Set(all.entries.map((e) => e.KeyMaterialId)).size, 9);
    assert.equal(all.entries.filter((e) => e.KeyMaterialState === "CURRENT").length, 1);
    await client.send(new DecryptCommand({ CiphertextBlob }));
  }));

Deno.test("RotateKeyOnDemand is a ConflictException while an automatic rotation is due within 20 minutes", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client }) => {
    const KeyId = await newKey(client);
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
    clock.advance(90 * DAY - 10 * 60_000);
    assert.equal(
      await errorName(client.send(new RotateKeyOnDemandCommand({ KeyId }))),
      "ConflictException",
    );
    assert.equal(await rotationCount(client, KeyId), 0);
    // Without automatic rotation the same moment is fine.
    await client.send(new DisableKeyRotationCommand({ KeyId }));
    await client.send(new RotateKeyOnDemandCommand({ KeyId }));
  }, rotationServer(clock));
});

Deno.test("the scheduler does not rotate a disabled key; enabled again past its date, the key is rotated at once, and one late look rotates once, not once per missed period", async () => {
  const clock = new ManualClock(Date.UTC(2025, 5, 1));
  await withServer(async ({ client, service }) => {
    const KeyId = await newKey(client);
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
    await client.send(new DisableKeyCommand({ KeyId }));
    clock.advance(250 * DAY);
    await severalLooks(service);
    assert.equal(await rotationCount(client, KeyId), 0);
    await client.send(new EnableKeyCommand({ KeyId }));
    await waitFor(async () => await rotationCount(client, KeyId) === 1, "rotation on enable");
    await severalLooks(service);
    assert.equal(await rotationCount(client, KeyId), 1);
    const next = (await client.send(new GetKeyRotationStatusCommand({ KeyId }))).NextRotationDate!;
    assert.equal(next.getTime(), clock.now() + 90 * DAY);
  }, rotationServer(clock));
});

Deno.test("changing the period of an enabled rotation to one already past rotates at once", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client, service }) => {
    const KeyId = await newKey(client);
    await client.send(new EnableKeyRotationCommand({ KeyId }));
    clock.advance(120 * DAY);
    await severalLooks(service);
    assert.equal(await rotationCount(client, KeyId), 0);
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
    await waitFor(async () => await rotationCount(client, KeyId) === 1, "rotation");
    const [entry] = (await allRotations(client, KeyId)).entries;
    assert.equal(entry!.RotationType, "AUTOMATIC");
  }, rotationServer(clock));
});

Deno.test("rotations are in the audit log: RotateKeyOnDemand by its caller, automatic ones as KMS's RotateKey event", async () => {
  const clock = new ManualClock();
  const dir = await Deno.makeTempDir({ prefix: "kms-rotation-audit-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    let KeyId = "";
    await withServer(async ({ client }) => {
      KeyId = await newKey(client);
      await client.send(new RotateKeyOnDemandCommand({ KeyId }));
      await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
      clock.advance(91 * DAY);
      await waitFor(async () => await rotationCount(client, KeyId) === 2, "rotation");
    }, { ...rotationServer(clock), dbUrl });
    const db = await openDatabase(dbUrl);
    try {
      const events = await new SqliteAuditStore(db).query({ limit: 1000 });
      const names = events.map((e) => e.eventName);
      assert.ok(names.includes("RotateKeyOnDemand"), names.join());
      assert.ok(names.includes("EnableKeyRotation"), names.join());
      const automatic = events.filter((e) => e.eventName === "RotateKey");
      assert.equal(automatic.length, 1);
      assert.deepEqual(automatic[0]!.keyArns, [`arn:aws:kms:us-east-1:111122223333:key/${KeyId}`]);
      assert.equal(automatic[0]!.principalArn, null);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys with imported material (Origin EXTERNAL) have no automatic rotation and rotate on demand only to material imported for it", () =>
  withServer(async ({ client }) => {
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ Origin: "EXTERNAL" }));
    const KeyId = KeyMetadata!.KeyId!;
    for (
      const command of [
        new EnableKeyRotationCommand({ KeyId }),
        new DisableKeyRotationCommand({ KeyId }),
      ]
    ) {
      assert.equal(await errorName(client.send(command as never)), "UnsupportedOperationException");
    }
    // AWS's key-state table: GetKeyRotationStatus of a key pending import is X [6].
    assert.equal(
      await errorName(client.send(new GetKeyRotationStatusCommand({ KeyId }))),
      "UnsupportedOperationException",
    );
    assert.equal(
      await errorName(client.send(new RotateKeyOnDemandCommand({ KeyId }))),
      "KMSInvalidStateException",
    );
    assert.deepEqual((await client.send(new ListKeyRotationsCommand({ KeyId }))).Rotations, []);
  }));

Deno.test("a key policy can bound RotationPeriodInDays with the kms:RotationPeriodInDays condition key", () =>
  withServer(async ({ client }) => {
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:root" },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "kms:EnableKeyRotation",
          Resource: "*",
          Condition: { NumericLessThan: { "kms:RotationPeriodInDays": "180" } },
        },
      ],
    };
    const { KeyMetadata } = await client.send(
      new CreateKeyCommand({ Policy: JSON.stringify(policy) }),
    );
    const KeyId = KeyMetadata!.KeyId!;
    assert.equal(
      await errorName(
        client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 })),
      ),
      "AccessDeniedException",
    );
    await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 365 }));
    await client.send(new EnableKeyRotationCommand({ KeyId }));
  }));
