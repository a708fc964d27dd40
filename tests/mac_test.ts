/**
 * GenerateMac and VerifyMac end to end through the AWS SDK, with OpenSSL's
 * `openssl mac ... HMAC` over the key material read from the server's store
 * as the independent referee.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GenerateMacCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  type MacAlgorithmSpec,
  ScheduleKeyDeletionCommand,
  VerifyMacCommand,
} from "@aws-sdk/client-kms";
import { runOpenssl } from "./helpers/openssl.ts";
import { errorName, type TestServer, withServer } from "./helpers/server.ts";

const HMAC_SPECS: readonly [KeySpec, MacAlgorithmSpec, number][] = [
  ["HMAC_224", "HMAC_SHA_224", 28],
  ["HMAC_256", "HMAC_SHA_256", 32],
  ["HMAC_384", "HMAC_SHA_384", 48],
  ["HMAC_512", "HMAC_SHA_512", 64],
];

const OPENSSL_DIGEST: Readonly<Record<string, string>> = {
  HMAC_SHA_224: "SHA224",
  HMAC_SHA_256: "SHA256",
  HMAC_SHA_384: "SHA384",
  HMAC_SHA_512: "SHA512",
};

const MESSAGE = new TextEncoder().encode("The quick brown fox jumps over the lazy dog");

async function newKey(
  client: KMSClient,
  KeySpec: KeySpec = "HMAC_256",
  KeyUsage: KeyUsageType = "GENERATE_VERIFY_MAC",
): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
  return KeyMetadata!.KeyId!;
}

function keyArn(keyId: string): string {
  return `arn:aws:kms:us-east-1:111122223333:key/${keyId}`;
}

/** HMAC computed by OpenSSL from the key material as the server stores it (version 1). */
async function opensslHmac(
  server: TestServer,
  keyId: string,
  algorithm: MacAlgorithmSpec,
  message: Uint8Array,
): Promise<Uint8Array> {
  const material = await server.service.kms.material(keyId, 1);
  assert.ok(material !== null);
  const hexKey = material.material.expose().toHex();
  const args = ["mac", "-digest", OPENSSL_DIGEST[algorithm]!, "-macopt", `hexkey:${hexKey}`];
  const result = await runOpenssl([...args, "-binary", "HMAC"], { stdin: message });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

function generateMac(client: KMSClient, KeyId: string, MacAlgorithm: MacAlgorithmSpec) {
  return client.send(new GenerateMacCommand({ KeyId, MacAlgorithm, Message: MESSAGE }));
}

Deno.test("GenerateMac of every HMAC spec equals OpenSSL's HMAC of the key material, and VerifyMac accepts it", () =>
  withServer(async (server) => {
    const { client } = server;
    for (const [spec, algorithm, length] of HMAC_SPECS) {
      const keyId = await newKey(client, spec);
      const out = await generateMac(client, keyId, algorithm);
      assert.equal(out.KeyId, keyArn(keyId));
      assert.equal(out.MacAlgorithm, algorithm);
      assert.equal(out.Mac!.length, length, spec);
      assert.deepEqual(out.Mac, await opensslHmac(server, keyId, algorithm, MESSAGE), spec);
      assert.deepEqual((await generateMac(client, keyId, algorithm)).Mac, out.Mac, "stable");
      const verified = await client.send(
        new VerifyMacCommand({
          KeyId: keyId,
          MacAlgorithm: algorithm,
          Message: MESSAGE,
          Mac: out.Mac,
        }),
      );
      assert.deepEqual(
        { KeyId: verified.KeyId, MacValid: verified.MacValid, MacAlgorithm: verified.MacAlgorithm },
        { KeyId: keyArn(keyId), MacValid: true, MacAlgorithm: algorithm },
      );
    }
  }));

Deno.test("GenerateMac gives different MACs for different keys and messages of the same spec", () =>
  withServer(async ({ client }) => {
    const [a, b] = [await newKey(client), await newKey(client)];
    const macA = (await generateMac(client, a, "HMAC_SHA_256")).Mac!;
    assert.notDeepEqual((await generateMac(client, b, "HMAC_SHA_256")).Mac, macA);
    const other = await client.send(
      new GenerateMacCommand({
        KeyId: a,
        MacAlgorithm: "HMAC_SHA_256",
        Message: new Uint8Array(1),
      }),
    );
    assert.notDeepEqual(other.Mac, macA);
  }));

Deno.test("VerifyMac rejects a changed message, a changed, truncated or extended MAC, and another key's MAC with KMSInvalidMacException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "HMAC_384");
    const otherKeyId = await newKey(client, "HMAC_384");
    const mac = (await generateMac(client, keyId, "HMAC_SHA_384")).Mac!;
    const flipped = mac.slice();
    flipped[7]! ^= 0x01;
    const changedMessage = MESSAGE.slice();
    changedMessage[0]! ^= 0x20;
    const cases: [string, Uint8Array, Uint8Array, string][] = [
      ["changed message", changedMessage, mac, keyId],
      ["flipped bit", MESSAGE, flipped, keyId],
      ["truncated", MESSAGE, mac.subarray(0, 32), keyId],
      ["extended", MESSAGE, new Uint8Array([...mac, 0]), keyId],
      ["other key", MESSAGE, mac, otherKeyId],
    ];
    for (const [label, Message, Mac, KeyId] of cases) {
      assert.equal(
        await errorName(
          client.send(new VerifyMacCommand({ KeyId, MacAlgorithm: "HMAC_SHA_384", Message, Mac })),
        ),
        "KMSInvalidMacException",
        label,
      );
    }
  }));

Deno.test("GenerateMac and VerifyMac refuse a MAC algorithm the key spec does not offer with InvalidKeyUsageException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "HMAC_256");
    const mac = (await generateMac(client, keyId, "HMAC_SHA_256")).Mac!;
    for (const MacAlgorithm of ["HMAC_SHA_224", "HMAC_SHA_384", "HMAC_SHA_512"] as const) {
      assert.equal(
        await errorName(generateMac(client, keyId, MacAlgorithm)),
        "InvalidKeyUsageException",
      );
      assert.equal(
        await errorName(
          client.send(
            new VerifyMacCommand({ KeyId: keyId, MacAlgorithm, Message: MESSAGE, Mac: mac }),
          ),
        ),
        "InvalidKeyUsageException",
      );
    }
  }));

Deno.test("GenerateMac and VerifyMac refuse keys whose usage is not GENERATE_VERIFY_MAC with InvalidKeyUsageException", () =>
  withServer(async ({ client }) => {
    const keys = [
      await newKey(client, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
      await newKey(client, "ECC_NIST_P256", "SIGN_VERIFY"),
      await newKey(client, "ECC_NIST_P256", "KEY_AGREEMENT"),
    ];
    for (const KeyId of keys) {
      assert.equal(
        await errorName(generateMac(client, KeyId, "HMAC_SHA_256")),
        "InvalidKeyUsageException",
      );
      assert.equal(
        await errorName(
          client.send(
            new VerifyMacCommand({
              KeyId,
              MacAlgorithm: "HMAC_SHA_256",
              Message: MESSAGE,
              Mac: new Uint8Array(32),
            }),
          ),
        ),
        "InvalidKeyUsageException",
      );
    }
  }));

Deno.test("GenerateMac and VerifyMac on a disabled key give DisabledException, pending deletion KMSInvalidStateException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const mac = (await generateMac(client, keyId, "HMAC_SHA_256")).Mac!;
    const verify = () =>
      client.send(
        new VerifyMacCommand({
          KeyId: keyId,
          MacAlgorithm: "HMAC_SHA_256",
          Message: MESSAGE,
          Mac: mac,
        }),
      );
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(await errorName(generateMac(client, keyId, "HMAC_SHA_256")), "DisabledException");
    assert.equal(await errorName(verify()), "DisabledException");
    await client.send(new EnableKeyCommand({ KeyId: keyId }));
    assert.equal((await verify()).MacValid, true);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    assert.equal(
      await errorName(generateMac(client, keyId, "HMAC_SHA_256")),
      "KMSInvalidStateException",
    );
    assert.equal(await errorName(verify()), "KMSInvalidStateException");
  }));

Deno.test("GenerateMac and VerifyMac with DryRun give DryRunOperationException, or the error the real call would give", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const mac = (await generateMac(client, keyId, "HMAC_SHA_256")).Mac!;
    const dryRunGenerate = (MacAlgorithm: MacAlgorithmSpec) =>
      client.send(
        new GenerateMacCommand({ KeyId: keyId, MacAlgorithm, Message: MESSAGE, DryRun: true }),
      );
    const dryRunVerify = (MacAlgorithm: MacAlgorithmSpec, Mac: Uint8Array) =>
      client.send(
        new VerifyMacCommand({ KeyId: keyId, MacAlgorithm, Message: MESSAGE, Mac, DryRun: true }),
      );
    const outcomes = async (MacAlgorithm: MacAlgorithmSpec, Mac: Uint8Array) => [
      await errorName(dryRunGenerate(MacAlgorithm)),
      await errorName(dryRunVerify(MacAlgorithm, Mac)),
    ];
    assert.deepEqual(
      await outcomes("HMAC_SHA_256", mac),
      Array(2).fill("DryRunOperationException"),
    );
    assert.deepEqual(
      await outcomes("HMAC_SHA_512", mac),
      Array(2).fill("InvalidKeyUsageException"),
    );
    assert.equal(
      await errorName(dryRunVerify("HMAC_SHA_256", new Uint8Array(32))),
      "KMSInvalidMacException",
    );
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.deepEqual(await outcomes("HMAC_SHA_256", mac), Array(2).fill("DisabledException"));
  }));

Deno.test("GenerateMac and VerifyMac enforce AWS's field constraints with ValidationException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const mac = (await generateMac(client, keyId, "HMAC_SHA_256")).Mac!;
    const atLimit = await client.send(
      new GenerateMacCommand({
        KeyId: keyId,
        MacAlgorithm: "HMAC_SHA_256",
        Message: new Uint8Array(4096),
      }),
    );
    assert.equal(atLimit.Mac!.length, 32, "a 4096-byte message is allowed");
    const bad: Record<string, unknown>[] = [
      { Message: new Uint8Array(4097) },
      { Message: new Uint8Array(0) },
      { MacAlgorithm: "HMAC_SHA_1" },
      { GrantTokens: Array.from({ length: 11 }, (_, i) => `token-${i}`) },
      { KeyId: "" },
    ];
    for (const change of bad) {
      const input = { KeyId: keyId, MacAlgorithm: "HMAC_SHA_256", Message: MESSAGE, ...change };
      // deno-lint-ignore no-explicit-any -- deliberately invalid input
      const generate = new GenerateMacCommand(input as any);
      // deno-lint-ignore no-explicit-any -- deliberately invalid input
      const verify = new VerifyMacCommand({ ...input, Mac: mac } as any);
      for (const command of [generate, verify]) {
        assert.equal(
          await errorName(client.send(command as GenerateMacCommand)),
          "ValidationException",
          JSON.stringify(Object.keys(change)),
        );
      }
    }
    for (const Mac of [new Uint8Array(0), new Uint8Array(6145)]) {
      assert.equal(
        await errorName(
          client.send(
            new VerifyMacCommand({
              KeyId: keyId,
              MacAlgorithm: "HMAC_SHA_256",
              Message: MESSAGE,
              Mac,
            }),
          ),
        ),
        "ValidationException",
        `Mac of ${Mac.length} bytes`,
      );
    }
  }));

Deno.test("GenerateMac and VerifyMac accept an alias, an alias ARN and a key ARN; an unknown key gives NotFoundException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    await client.send(new CreateAliasCommand({ AliasName: "alias/mac", TargetKeyId: keyId }));
    const mac = (await generateMac(client, keyId, "HMAC_SHA_256")).Mac!;
    const names = ["alias/mac", "arn:aws:kms:us-east-1:111122223333:alias/mac", keyArn(keyId)];
    for (const KeyId of names) {
      const out = await generateMac(client, KeyId, "HMAC_SHA_256");
      assert.deepEqual(out.Mac, mac, KeyId);
      assert.equal(out.KeyId, keyArn(keyId));
      const verified = await client.send(
        new VerifyMacCommand({ KeyId, MacAlgorithm: "HMAC_SHA_256", Message: MESSAGE, Mac: mac }),
      );
      assert.equal(verified.KeyId, keyArn(keyId));
    }
    for (const KeyId of ["11111111-2222-3333-4444-555555555555", "alias/none"]) {
      assert.equal(
        await errorName(generateMac(client, KeyId, "HMAC_SHA_256")),
        "NotFoundException",
      );
    }
  }));
