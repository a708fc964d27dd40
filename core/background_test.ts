/**
 * The background work (core/background.ts) as both entry points get it from `openService`:
 * purging and expiry in every served Region, driven by a manual clock and `runDue()`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { constants, publicEncrypt } from "node:crypto";
import {
  CreateKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  type KMSClient,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { ADMIN, ManualClock, withServer } from "../tests/helpers/server.ts";
import { storageKeyId } from "./regional_store.ts";

const DAY = 24 * 60 * 60 * 1000;
const REGIONS = { KMS_REGIONS: "us-east-1,eu-west-1" };

Deno.test("runDue purges a multi-Region replica in a non-default Region, then its primary", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client, clientFor, service }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const keyId = (await client.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!
      .KeyId!;
    await client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" }));
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const replicaRow = storageKeyId(keyId, "eu-west-1");
    const primaryRow = storageKeyId(keyId, "us-east-1");

    clock.advance(8 * DAY);
    assert.notEqual(await service.store.getKey(replicaRow), null, "not purged before runDue");
    const first = await service.background.runDue();
    assert.deepEqual(first.map((run) => run.region), ["us-east-1", "eu-west-1"]);
    assert.equal(await service.store.getKey(replicaRow), null, "the replica is purged");
    // Its last replica gone, the primary's own waiting period starts now.
    const primary = await service.store.getKey(primaryRow);
    assert.equal(primary?.state, "PendingDeletion");
    assert.equal(primary?.deletionDate, clock.now() + 7 * DAY);

    clock.advance(8 * DAY);
    await service.background.runDue();
    assert.equal(await service.store.getKey(primaryRow), null, "the primary is purged");
  }, { clock, env: REGIONS });
});

Deno.test("runDue purges each Region's single-Region keys through that Region's KMS", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client, clientFor, service }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const euKey = (await eu.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const usKey = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: euKey, PendingWindowInDays: 7 }));
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: usKey, PendingWindowInDays: 30 }));

    clock.advance(8 * DAY);
    const runs = await service.background.runDue();
    assert.deepEqual(runs.map(({ region, purged }) => ({ region, purged })), [
      { region: "us-east-1", purged: 0 },
      { region: "eu-west-1", purged: 1 },
    ]);
    assert.equal(await service.store.getKey(euKey), null, "the eu-west-1 key is purged");
    assert.equal((await service.store.getKey(usKey))?.state, "PendingDeletion");
  }, { clock, env: REGIONS });
});

Deno.test("runDue expires imported material past its ValidTo in a non-default Region", async () => {
  const clock = new ManualClock();
  await withServer(async ({ clientFor, service }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const keyId = await importExpiringKey(eu, new Date(clock.now() + DAY));
    assert.equal((await service.store.getKey(keyId))?.state, "Enabled");

    clock.advance(DAY + 1000);
    const runs = await service.background.runDue();
    assert.deepEqual(
      runs.map(({ region, expired }) => ({ region, expired })),
      [{ region: "us-east-1", expired: 0 }, { region: "eu-west-1", expired: 1 }],
    );
    assert.equal((await service.store.getKey(keyId))?.state, "PendingImport");
    assert.equal(await service.store.getMaterial(keyId, 1), null, "the material is deleted");
  }, { clock, env: REGIONS });
});

/** An EXTERNAL key in the client's Region with 32 bytes of material valid until `validTo`. */
async function importExpiringKey(client: KMSClient, validTo: Date): Promise<string> {
  const keyId = (await client.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!
    .KeyId!;
  const parameters = await client.send(
    new GetParametersForImportCommand({
      KeyId: keyId,
      WrappingAlgorithm: "RSAES_OAEP_SHA_256",
      WrappingKeySpec: "RSA_2048",
    }),
  );
  const material = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = publicEncrypt({
    key: Buffer.from(parameters.PublicKey!),
    format: "der",
    type: "spki",
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: "sha256",
  }, material);
  await client.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: parameters.ImportToken,
      EncryptedKeyMaterial: new Uint8Array(wrapped),
      ExpirationModel: "KEY_MATERIAL_EXPIRES",
      ValidTo: validTo,
    }),
  );
  return keyId;
}
