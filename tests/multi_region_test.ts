import assert from "node:assert/strict";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdatePrimaryRegionCommand,
} from "@aws-sdk/client-kms";
import { ADMIN, errorName, ManualClock, withServer } from "./helpers/server.ts";

const REGIONS = { KMS_REGIONS: "us-east-1,eu-west-1" };

Deno.test("the SigV4 scope picks the region: keys, ARNs and aliases belong to it", () =>
  withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const { KeyMetadata: euKey } = await eu.send(new CreateKeyCommand({}));
    assert.match(euKey!.Arn!, /^arn:aws:kms:eu-west-1:111122223333:key\//);
    const { KeyMetadata: usKey } = await client.send(new CreateKeyCommand({}));
    assert.match(usKey!.Arn!, /^arn:aws:kms:us-east-1:111122223333:key\//);

    const euIds = (await eu.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
    const usIds = (await client.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId);
    assert.deepEqual(euIds, [euKey!.KeyId]);
    assert.deepEqual(usIds, [usKey!.KeyId]);

    // Another region's key is unknown here, by id and by ARN.
    for (const id of [euKey!.KeyId!, euKey!.Arn!]) {
      assert.equal(
        await errorName(client.send(new DescribeKeyCommand({ KeyId: id }))),
        "NotFoundException",
      );
    }
    // Aliases are per region: the same name in both.
    await eu.send(new CreateAliasCommand({ AliasName: "alias/app", TargetKeyId: euKey!.KeyId }));
    await client.send(
      new CreateAliasCommand({ AliasName: "alias/app", TargetKeyId: usKey!.KeyId }),
    );
    const euAlias = (await eu.send(new ListAliasesCommand({}))).Aliases!.find((a) =>
      a.AliasName === "alias/app"
    );
    assert.equal(euAlias?.AliasArn, "arn:aws:kms:eu-west-1:111122223333:alias/app");
    assert.equal(euAlias?.TargetKeyId, euKey!.KeyId);

    // A single-Region key's ciphertext does not decrypt in another region.
    const { CiphertextBlob } = await eu.send(
      new EncryptCommand({ KeyId: "alias/app", Plaintext: new Uint8Array([1, 2, 3]) }),
    );
    const back = await eu.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(back.Plaintext, new Uint8Array([1, 2, 3]));
    assert.equal(back.KeyId, euKey!.Arn);
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob }))),
      "InvalidCiphertextException",
    );
  }, { env: REGIONS }));

Deno.test("a request scoped to a region the server does not serve is refused", () =>
  withServer(async ({ clientFor }) => {
    const ap = clientFor({ ...ADMIN }, "ap-south-1");
    assert.equal(
      await errorName(ap.send(new ListKeysCommand({}))),
      "InvalidSignatureException",
    );
  }, { env: REGIONS }));

const THREE_REGIONS = { KMS_REGIONS: "us-east-1,eu-west-1,ap-southeast-2" };

Deno.test("CreateKey MultiRegion makes an mrk- primary key with its MultiRegionConfiguration", () =>
  withServer(async ({ client }) => {
    const { KeyMetadata: m } = await client.send(new CreateKeyCommand({ MultiRegion: true }));
    assert.match(m!.KeyId!, /^mrk-[0-9a-f]{32}$/);
    assert.equal(m!.MultiRegion, true);
    const described = (await client.send(new DescribeKeyCommand({ KeyId: m!.KeyId }))).KeyMetadata!;
    assert.deepEqual(described.MultiRegionConfiguration, {
      MultiRegionKeyType: "PRIMARY",
      PrimaryKey: { Arn: m!.Arn, Region: "us-east-1" },
      ReplicaKeys: [],
    });
    const single = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(single.MultiRegion, false);
    assert.equal(single.MultiRegionConfiguration, undefined);
  }, { env: THREE_REGIONS }));

Deno.test("a replica shares id and material: ciphertexts decrypt in every region of the family", () =>
  withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const { KeyMetadata: primary } = await client.send(
      new CreateKeyCommand({ MultiRegion: true, Description: "primary" }),
    );
    const keyId = primary!.KeyId!;
    const before = await client.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: new TextEncoder().encode("made before replication"),
        EncryptionContext: { app: "mrk" },
      }),
    );
    const replicated = await client.send(
      new ReplicateKeyCommand({
        KeyId: primary!.Arn,
        ReplicaRegion: "eu-west-1",
        Description: "replica",
        Tags: [{ TagKey: "team", TagValue: "blue" }],
      }),
    );
    const replica = replicated.ReplicaKeyMetadata!;
    assert.equal(replica.KeyId, keyId);
    assert.equal(replica.Arn, `arn:aws:kms:eu-west-1:111122223333:key/${keyId}`);
    assert.equal(replica.Description, "replica");
    assert.equal(replica.KeyState, "Enabled");
    assert.equal(replica.CurrentKeyMaterialId, primary!.CurrentKeyMaterialId);
    assert.deepEqual(replica.MultiRegionConfiguration, {
      MultiRegionKeyType: "REPLICA",
      PrimaryKey: { Arn: primary!.Arn, Region: "us-east-1" },
      ReplicaKeys: [{ Arn: replica.Arn, Region: "eu-west-1" }],
    });
    assert.deepEqual(replicated.ReplicaTags, [{ TagKey: "team", TagValue: "blue" }]);
    assert.match(replicated.ReplicaPolicy!, /"Version":"2012-10-17"|"Version": "2012-10-17"/);

    const fromPrimary = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.deepEqual(fromPrimary.MultiRegionConfiguration?.ReplicaKeys, [
      { Arn: replica.Arn, Region: "eu-west-1" },
    ]);
    assert.equal(fromPrimary.Description, "primary");

    // Made in us-east-1 before the replica existed: decrypts in eu-west-1.
    const inEu = await eu.send(
      new DecryptCommand({
        CiphertextBlob: before.CiphertextBlob,
        EncryptionContext: { app: "mrk" },
      }),
    );
    assert.equal(new TextDecoder().decode(inEu.Plaintext), "made before replication");
    assert.equal(inEu.KeyId, replica.Arn);
    // Made in eu-west-1: decrypts in us-east-1.
    const dataKey = await eu.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
    const inUs = await client.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
    assert.deepEqual(inUs.Plaintext, dataKey.Plaintext);
    assert.equal(inUs.KeyId, primary!.Arn);

    // Each key has its own state.
    await eu.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(
      await errorName(eu.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))),
      "DisabledException",
    );
    await client.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
    // Both regions list the key under their own ARN.
    const euKeys = (await eu.send(new ListKeysCommand({}))).Keys!;
    assert.deepEqual(euKeys, [{ KeyId: keyId, KeyArn: replica.Arn }]);
  }, { env: THREE_REGIONS }));

Deno.test("ReplicateKey refuses what AWS refuses", () =>
  withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const single = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
    const mrk = (await client.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    const replicate = (c: typeof client, KeyId: string, ReplicaRegion: string) =>
      errorName(c.send(new ReplicateKeyCommand({ KeyId, ReplicaRegion })));
    assert.equal(
      await replicate(client, single.KeyId!, "eu-west-1"),
      "UnsupportedOperationException",
    );
    assert.equal(await replicate(client, mrk.KeyId!, "us-east-1"), "ValidationException");
    assert.equal(await replicate(client, mrk.KeyId!, "sa-east-1"), "UnsupportedOperationException");
    assert.equal(await replicate(client, mrk.KeyId!, "not a region"), "ValidationException");
    await client.send(new ReplicateKeyCommand({ KeyId: mrk.KeyId, ReplicaRegion: "eu-west-1" }));
    assert.equal(await replicate(client, mrk.KeyId!, "eu-west-1"), "AlreadyExistsException");
    // Only the primary replicates.
    assert.equal(
      await replicate(eu, mrk.KeyId!, "ap-southeast-2"),
      "UnsupportedOperationException",
    );
    // The replica region does not know keys that were never replicated there.
    assert.equal(
      await errorName(eu.send(new DescribeKeyCommand({ KeyId: single.KeyId }))),
      "NotFoundException",
    );
  }, { env: THREE_REGIONS }));

Deno.test("UpdatePrimaryRegion hands the primary role to a replica", () =>
  withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const mrk = (await client.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    const keyId = mrk.KeyId!;
    assert.equal(
      await errorName(
        client.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: "eu-west-1" })),
      ),
      "NotFoundException",
    );
    await client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" }));
    await client.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: "eu-west-1" }));
    const euArn = `arn:aws:kms:eu-west-1:111122223333:key/${keyId}`;
    const inEu = (await eu.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.deepEqual(inEu.MultiRegionConfiguration, {
      MultiRegionKeyType: "PRIMARY",
      PrimaryKey: { Arn: euArn, Region: "eu-west-1" },
      ReplicaKeys: [{ Arn: mrk.Arn, Region: "us-east-1" }],
    });
    const inUs = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.equal(inUs.MultiRegionConfiguration?.MultiRegionKeyType, "REPLICA");
    // The former primary is a replica now: it neither replicates nor moves the primary.
    assert.equal(
      await errorName(
        client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "ap-southeast-2" })),
      ),
      "UnsupportedOperationException",
    );
    const replicated = await eu.send(
      new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "ap-southeast-2" }),
    );
    assert.equal(
      replicated.ReplicaKeyMetadata?.MultiRegionConfiguration?.PrimaryKey?.Region,
      "eu-west-1",
    );
  }, { env: THREE_REGIONS }));

Deno.test("rotating a multi-Region primary key gives every replica the new material", () =>
  withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const keyId = (await client.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!
      .KeyId!;
    await client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" }));
    const old = await eu.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array([1]) }));
    // Warm the replica's cache, then rotate the primary: the replica must not keep the old version.
    await eu.send(new DescribeKeyCommand({ KeyId: keyId }));
    await client.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    const primary = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    const replica = (await eu.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.equal(replica.CurrentKeyMaterialId, primary.CurrentKeyMaterialId);
    const fresh = await eu.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 }));
    assert.equal(fresh.KeyMaterialId, primary.CurrentKeyMaterialId);
    for (const blob of [old.CiphertextBlob, fresh.CiphertextBlob]) {
      await client.send(new DecryptCommand({ CiphertextBlob: blob }));
      await eu.send(new DecryptCommand({ CiphertextBlob: blob }));
    }
    const rotations = (await eu.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!;
    assert.deepEqual(rotations.map((r) => r.RotationType), ["ON_DEMAND"]);
    // Rotation is the primary's to configure; the replica reports the primary's schedule.
    for (
      const command of [
        new EnableKeyRotationCommand({ KeyId: keyId }),
        new RotateKeyOnDemandCommand({ KeyId: keyId }),
      ]
    ) {
      assert.equal(
        await errorName(eu.send(command as EnableKeyRotationCommand)),
        "UnsupportedOperationException",
      );
    }
    await client.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 180 }));
    const status = await eu.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 180);
  }, { env: THREE_REGIONS }));

Deno.test("a primary key with replicas waits in PendingReplicaDeletion until its last replica is deleted", async () => {
  const clock = new ManualClock();
  const DAY = 24 * 60 * 60 * 1000;
  await withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const keyId = (await client.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!
      .KeyId!;
    await client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" }));
    const scheduled = await client.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    );
    assert.equal(scheduled.KeyState, "PendingReplicaDeletion");
    assert.equal(scheduled.DeletionDate, undefined);
    assert.equal(scheduled.PendingWindowInDays, 7);
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) })),
      ),
      "KMSInvalidStateException",
    );
    // The replica keeps working, and is deleted on its own schedule.
    await eu.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) }));
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    clock.advance(8 * DAY);
    const waiting = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.equal(waiting.KeyState, "PendingReplicaDeletion");
    // The replica's deletion date passed: it is gone, and the primary's window starts now.
    assert.equal(
      await errorName(eu.send(new DescribeKeyCommand({ KeyId: keyId }))),
      "NotFoundException",
    );
    const primary = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.equal(primary.KeyState, "PendingDeletion");
    assert.equal(
      primary.DeletionDate?.getTime(),
      clock.now() + 7 * DAY,
    );
    assert.deepEqual(primary.MultiRegionConfiguration?.ReplicaKeys, []);

    // CancelKeyDeletion of a primary waiting for its replicas: Disabled, as from PendingDeletion.
    const other = (await client.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!
      .KeyId!;
    await client.send(new ReplicateKeyCommand({ KeyId: other, ReplicaRegion: "eu-west-1" }));
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: other }));
    await client.send(new CancelKeyDeletionCommand({ KeyId: other }));
    const canceled = (await client.send(new DescribeKeyCommand({ KeyId: other }))).KeyMetadata!;
    assert.equal(canceled.KeyState, "Disabled");
  }, { env: THREE_REGIONS, clock });
});
