/**
 * AWS managed keys (core/aws_managed_keys.ts) in process (tests/helpers/in_process.ts): one key
 * per account and service however many first references race, AWS's policy evaluated with the
 * key's service as `kms:ViaService`, and the yearly rotation the scheduler carries out. The SDK
 * tests are tests/aws_managed_keys_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compilePolicyDocument } from "./access/access_control.ts";
import {
  AWS_MANAGED_SERVICES,
  awsManagedKeyPolicy,
  awsManagedServiceOf,
  PREDEFINED_AWS_ALIASES,
} from "./aws_managed_keys.ts";
import {
  rejectionOf,
  ROOT_CALLER,
  userCaller,
  withInProcessKms,
} from "../tests/helpers/in_process.ts";

const DAY = 24 * 60 * 60 * 1000;
const PLAINTEXT = new TextEncoder().encode("secret").toBase64();

Deno.test("the service list is data AWS's way: one entry per alias, in name order, each policy a valid document", () => {
  const aliases = AWS_MANAGED_SERVICES.map((service) => `alias/aws/${service.alias}`);
  assert.deepEqual(PREDEFINED_AWS_ALIASES, [...new Set(aliases)].sort());
  for (const name of ["alias/aws/s3", "alias/aws/ebs", "alias/aws/secretsmanager"]) {
    assert.ok(awsManagedServiceOf(name), name);
  }
  assert.equal(awsManagedServiceOf("alias/aws/foo"), undefined);
  for (const service of AWS_MANAGED_SERVICES) {
    compilePolicyDocument(awsManagedKeyPolicy(service, "111122223333", "us-east-1"), "key");
  }
  const ebs = JSON.parse(
    awsManagedKeyPolicy(awsManagedServiceOf("alias/aws/ebs")!, "1", "us-east-1"),
  );
  assert.equal(
    ebs.Statement[0].Condition.StringEquals["kms:ViaService"],
    "ec2.us-east-1.amazonaws.com",
  );
  assert.ok(ebs.Statement[0].Action.includes("kms:CreateGrant"));
});

Deno.test("concurrent first references to alias/aws/s3 create exactly one key, which all of them use", () =>
  withInProcessKms(async ({ call }) => {
    const results = await Promise.all([
      ...Array.from(
        { length: 4 },
        () => call("Encrypt", { KeyId: "alias/aws/s3", Plaintext: PLAINTEXT }),
      ),
      ...Array.from({ length: 4 }, () => call("DescribeKey", { KeyId: "alias/aws/s3" })),
    ]);
    const arns = new Set(results.map((result) => result.KeyId ?? result.KeyMetadata.Arn));
    assert.equal(arns.size, 1);
    const keys = (await call("ListKeys")).Keys;
    assert.equal(keys.length, 1);
    assert.equal(keys[0].KeyArn, [...arns][0]);
    const aliases = (await call("ListAliases", { KeyId: keys[0].KeyId })).Aliases;
    assert.deepEqual(aliases.map((alias: { AliasName: string }) => alias.AliasName), [
      "alias/aws/s3",
    ]);
  }));

Deno.test("an IAM user without policies may encrypt with alias/aws/s3 (through S3, as this KMS stands in) but not disable it; another account may not use it", () =>
  withInProcessKms(async ({ call }) => {
    const alice = userCaller("alice");
    const encrypted = await call("Encrypt", { KeyId: "alias/aws/s3", Plaintext: PLAINTEXT }, alice);
    const decrypted = await call(
      "Decrypt",
      { CiphertextBlob: encrypted.CiphertextBlob.toBase64() },
      alice,
    );
    assert.equal(decrypted.Plaintext.expose().toBase64(), PLAINTEXT);
    const KeyId = (await call("DescribeKey", { KeyId: "alias/aws/s3" }, alice)).KeyMetadata.KeyId;
    assert.equal(await rejectionOf(call("DisableKey", { KeyId }, alice)), "AccessDeniedException");
    assert.equal(await rejectionOf(call("DisableKey", { KeyId })), "AccessDeniedException");
    const other = {
      ...ROOT_CALLER,
      accountId: "444455556666",
      principalArn: "arn:aws:iam::444455556666:root",
    };
    assert.equal(
      await rejectionOf(call("Encrypt", { KeyId: encrypted.KeyId, Plaintext: PLAINTEXT }, other)),
      "AccessDeniedException",
    );
    assert.equal((await call("DescribeKey", { KeyId })).KeyMetadata.KeyState, "Enabled");
  }, { users: ["alice"] }));

Deno.test("an AWS managed key rotates a year after creation, and old ciphertexts still decrypt", () =>
  withInProcessKms(async ({ call, clock, service }) => {
    const encrypted = await call("Encrypt", { KeyId: "alias/aws/ebs", Plaintext: PLAINTEXT });
    const KeyId = (await call("DescribeKey", { KeyId: "alias/aws/ebs" })).KeyMetadata.KeyId;
    const status = await call("GetKeyRotationStatus", { KeyId });
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 365);
    assert.equal(status.NextRotationDate.getTime(), clock.now() + 365 * DAY);
    clock.advance(365 * DAY);
    await service.background.runDue();
    const { Rotations } = await call("ListKeyRotations", { KeyId });
    assert.equal(Rotations.length, 1);
    assert.equal(Rotations[0].RotationType, "AUTOMATIC");
    const decrypted = await call("Decrypt", {
      CiphertextBlob: encrypted.CiphertextBlob.toBase64(),
    });
    assert.equal(decrypted.Plaintext.expose().toBase64(), PLAINTEXT);
  }));
