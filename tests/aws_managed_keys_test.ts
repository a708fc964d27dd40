/**
 * AWS managed keys through the real @aws-sdk/client-kms (tests/helpers/server.ts): `alias/aws/s3`
 * works on first use, DescribeKey shows KeyManager AWS, ListAliases and ListKeys show the key,
 * and every operation AWS refuses on an AWS managed key is refused with AWS's error.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import { ACCOUNT_ID, errorName, REGION, withServer } from "./helpers/server.ts";

async function s3KeyId(client: KMSClient): Promise<string> {
  const described = await client.send(new DescribeKeyCommand({ KeyId: "alias/aws/s3" }));
  return described.KeyMetadata!.KeyId!;
}

Deno.test("alias/aws/s3 encrypts, decrypts and generates data keys on first use, under a key AWS manages", () =>
  withServer(async ({ client }) => {
    const plaintext = new TextEncoder().encode("first use of the S3 key");
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: "alias/aws/s3", Plaintext: plaintext }),
    );
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }),
    );
    assert.deepEqual(decrypted.Plaintext, plaintext);
    assert.equal(decrypted.KeyId, encrypted.KeyId);
    const dataKey = await client.send(
      new GenerateDataKeyCommand({ KeyId: "alias/aws/s3", KeySpec: "AES_256" }),
    );
    assert.equal(dataKey.KeyId, encrypted.KeyId);
    assert.equal(dataKey.Plaintext!.length, 32);

    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: "alias/aws/s3" }));
    assert.equal(KeyMetadata!.Arn, encrypted.KeyId);
    assert.equal(KeyMetadata!.KeyManager, "AWS");
    assert.equal(KeyMetadata!.KeySpec, "SYMMETRIC_DEFAULT");
    assert.equal(KeyMetadata!.KeyState, "Enabled");
    assert.equal(
      KeyMetadata!.Description,
      "Default key that protects my S3 objects when no other key is defined",
    );
    const rotation = await client.send(
      new GetKeyRotationStatusCommand({ KeyId: KeyMetadata!.KeyId }),
    );
    assert.equal(rotation.KeyRotationEnabled, true);
    assert.equal(rotation.RotationPeriodInDays, 365);

    const { Policy } = await client.send(new GetKeyPolicyCommand({ KeyId: KeyMetadata!.KeyId }));
    const statements = JSON.parse(Policy!).Statement;
    assert.deepEqual(statements[0].Condition.StringEquals, {
      "kms:CallerAccount": ACCOUNT_ID,
      "kms:ViaService": `s3.${REGION}.amazonaws.com`,
    });

    const keys = (await client.send(new ListKeysCommand({}))).Keys!.map((key) => key.KeyId);
    assert.deepEqual(keys, [KeyMetadata!.KeyId]);
    const aliases = (await client.send(new ListAliasesCommand({ Limit: 100 }))).Aliases!;
    const s3 = aliases.find((alias) => alias.AliasName === "alias/aws/s3")!;
    assert.equal(s3.TargetKeyId, KeyMetadata!.KeyId);
    const ebs = aliases.find((alias) => alias.AliasName === "alias/aws/ebs")!;
    assert.equal(ebs.TargetKeyId, undefined, "a predefined alias with no key yet has no target");
  }));

Deno.test("an AWS managed key refuses disable, deletion, policy, rotation, tag and description changes with AccessDeniedException", () =>
  withServer(async ({ client }) => {
    const KeyId = await s3KeyId(client);
    const refused = [
      new DisableKeyCommand({ KeyId }),
      new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }),
      new PutKeyPolicyCommand({ KeyId, PolicyName: "default", Policy: "{}" }),
      new EnableKeyRotationCommand({ KeyId }),
      new DisableKeyRotationCommand({ KeyId }),
      new TagResourceCommand({ KeyId, Tags: [{ TagKey: "team", TagValue: "a" }] }),
      new UpdateKeyDescriptionCommand({ KeyId, Description: "mine now" }),
      new CreateAliasCommand({ AliasName: "alias/my-s3", TargetKeyId: KeyId }),
    ];
    for (const command of refused) {
      // deno-lint-ignore no-explicit-any
      assert.equal(await errorName(client.send(command as any)), "AccessDeniedException");
    }
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));
    assert.equal(KeyMetadata!.KeyState, "Enabled");
    assert.equal(
      KeyMetadata!.Description,
      "Default key that protects my S3 objects when no other key is defined",
    );
    const rotation = await client.send(new GetKeyRotationStatusCommand({ KeyId }));
    assert.equal(rotation.KeyRotationEnabled, true);
  }));

Deno.test("aliases under alias/aws/ are AWS's: CreateAlias, UpdateAlias and DeleteAlias on a predefined one answer NotAuthorizedException", () =>
  withServer(async ({ client }) => {
    const mine = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const s3 = await s3KeyId(client);
    assert.equal(
      await errorName(
        client.send(new CreateAliasCommand({ AliasName: "alias/aws/sqs", TargetKeyId: mine })),
      ),
      "NotAuthorizedException",
    );
    assert.equal(
      await errorName(
        client.send(new UpdateAliasCommand({ AliasName: "alias/aws/s3", TargetKeyId: mine })),
      ),
      "NotAuthorizedException",
    );
    assert.equal(
      await errorName(client.send(new DeleteAliasCommand({ AliasName: "alias/aws/s3" }))),
      "NotAuthorizedException",
    );
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: "alias/aws/s3" }));
    assert.equal(KeyMetadata!.KeyId, s3, "the alias still names the AWS managed key");
    const sqs = (await client.send(new ListAliasesCommand({ Limit: 100 }))).Aliases!
      .find((alias) => alias.AliasName === "alias/aws/sqs")!;
    assert.equal(sqs.TargetKeyId, undefined, "no key was created for alias/aws/sqs");
  }));

Deno.test("alias/aws/<name> that is no AWS service is NotFoundException and creates nothing", () =>
  withServer(async ({ client }) => {
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: "alias/aws/foo", Plaintext: new Uint8Array(1) })),
      ),
      "NotFoundException",
    );
    assert.deepEqual((await client.send(new ListKeysCommand({}))).Keys, []);
  }));
