import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListKeysCommand,
} from "@aws-sdk/client-kms";
import { ADMIN, errorName, withServer } from "./helpers/server.ts";

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
