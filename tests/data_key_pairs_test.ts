import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  GenerateDataKeyPairCommand,
  type GenerateDataKeyPairCommandOutput,
  GenerateDataKeyPairWithoutPlaintextCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { DATA_KEY_PAIR_SPECS, type DataKeyPairSpec } from "../core/crypto/key_pairs.ts";
import {
  opensslCheckPrivateKey,
  opensslParsePublicKey,
  opensslPublicFromPrivate,
  opensslSignAndVerify,
} from "./helpers/openssl.ts";
import { errorName, withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

async function newKey(client: KMSClient): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
  return KeyMetadata!.KeyId!;
}

const CONTEXT = { purpose: "data-key-pair-test", tenant: "Ünïcode" };

/** The WebCrypto import parameters of the specs WebCrypto knows. */
const WEBCRYPTO_IMPORT: Partial<
  Record<
    DataKeyPairSpec,
    [RsaHashedImportParams | EcKeyImportParams | Algorithm, KeyUsage[], KeyUsage[]]
  >
> = {
  RSA_2048: [{ name: "RSA-PSS", hash: "SHA-256" }, ["verify"], ["sign"]],
  RSA_3072: [{ name: "RSA-PSS", hash: "SHA-256" }, ["verify"], ["sign"]],
  RSA_4096: [{ name: "RSA-PSS", hash: "SHA-256" }, ["verify"], ["sign"]],
  ECC_NIST_P256: [{ name: "ECDSA", namedCurve: "P-256" }, ["verify"], ["sign"]],
  ECC_NIST_P384: [{ name: "ECDSA", namedCurve: "P-384" }, ["verify"], ["sign"]],
  ECC_NIST_P521: [{ name: "ECDSA", namedCurve: "P-521" }, ["verify"], ["sign"]],
  ECC_NIST_EDWARDS25519: [{ name: "Ed25519" }, ["verify"], ["sign"]],
};

/** What OpenSSL must print for each spec's public key. */
const OPENSSL_PUBLIC_KEY_TEXT: Record<DataKeyPairSpec, RegExp> = {
  RSA_2048: /Public-Key: \(2048 bit\)[\s\S]*Exponent: 65537/,
  RSA_3072: /Public-Key: \(3072 bit\)[\s\S]*Exponent: 65537/,
  RSA_4096: /Public-Key: \(4096 bit\)[\s\S]*Exponent: 65537/,
  ECC_NIST_P256: /ASN1 OID: prime256v1/,
  ECC_NIST_P384: /ASN1 OID: secp384r1/,
  ECC_NIST_P521: /ASN1 OID: secp521r1/,
  ECC_SECG_P256K1: /ASN1 OID: secp256k1/,
  SM2: /ASN1 OID: SM2/,
  ECC_NIST_EDWARDS25519: /ED25519 Public-Key/,
};

async function assertPairWorks(
  spec: DataKeyPairSpec,
  publicKey: Uint8Array<ArrayBuffer>,
  privateKey: Uint8Array<ArrayBuffer>,
): Promise<void> {
  assert.match(await opensslParsePublicKey(publicKey), OPENSSL_PUBLIC_KEY_TEXT[spec]);
  const check = await opensslCheckPrivateKey(privateKey);
  assert.ok(check.ok, check.output);
  assert.deepEqual(await opensslPublicFromPrivate(privateKey), publicKey, "keys match");
  assert.ok(await opensslSignAndVerify(privateKey, publicKey, spec), "OpenSSL signature verifies");
  const webcrypto = WEBCRYPTO_IMPORT[spec];
  if (webcrypto !== undefined) {
    const [algorithm, publicUsages, privateUsages] = webcrypto;
    await crypto.subtle.importKey("spki", publicKey, algorithm, true, publicUsages);
    await crypto.subtle.importKey("pkcs8", privateKey, algorithm, true, privateUsages);
  }
}

for (const spec of DATA_KEY_PAIR_SPECS) {
  Deno.test(`GenerateDataKeyPair ${spec}: OpenSSL loads both keys, they match, and Decrypt returns the same PKCS#8`, () =>
    withServer(async ({ client }) => {
      const keyId = await newKey(client);
      const pair = await client.send(
        new GenerateDataKeyPairCommand({
          KeyId: keyId,
          KeyPairSpec: spec,
          EncryptionContext: CONTEXT,
        }),
      );
      assert.equal(pair.KeyId, `arn:aws:kms:us-east-1:111122223333:key/${keyId}`);
      assert.equal(pair.KeyPairSpec, spec);
      assert.match(pair.KeyMaterialId!, /^[0-9a-f]{64}$/);
      assert.equal(pair.CiphertextForRecipient, undefined);
      await assertPairWorks(
        spec,
        pair.PublicKey! as Uint8Array<ArrayBuffer>,
        pair.PrivateKeyPlaintext! as Uint8Array<ArrayBuffer>,
      );
      assert.ok(pair.PrivateKeyCiphertextBlob!.length <= 6144);
      const opened = await client.send(
        new DecryptCommand({
          CiphertextBlob: pair.PrivateKeyCiphertextBlob,
          EncryptionContext: CONTEXT,
        }),
      );
      assert.deepEqual(opened.Plaintext, pair.PrivateKeyPlaintext);
      assert.equal(opened.KeyId, pair.KeyId);
      assert.equal(opened.KeyMaterialId, pair.KeyMaterialId);
    }, SM2_EVERYWHERE));

  Deno.test(`GenerateDataKeyPairWithoutPlaintext ${spec}: no plaintext, and the blob decrypts to the matching private key`, () =>
    withServer(async ({ client }) => {
      const keyId = await newKey(client);
      const pair = await client.send(
        new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyId, KeyPairSpec: spec }),
      );
      assert.equal(pair.KeyPairSpec, spec);
      assert.equal("PrivateKeyPlaintext" in pair, false);
      assert.match(pair.KeyMaterialId!, /^[0-9a-f]{64}$/);
      const opened = await client.send(
        new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob }),
      );
      await assertPairWorks(
        spec,
        pair.PublicKey! as Uint8Array<ArrayBuffer>,
        opened.Plaintext! as Uint8Array<ArrayBuffer>,
      );
    }, SM2_EVERYWHERE));
}

Deno.test("GenerateDataKeyPair accepts the key id, key ARN, alias name and alias ARN", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    await client.send(new CreateAliasCommand({ AliasName: "alias/pairs", TargetKeyId: keyId }));
    const arn = `arn:aws:kms:us-east-1:111122223333:key/${keyId}`;
    for (
      const id of [keyId, arn, "alias/pairs", "arn:aws:kms:us-east-1:111122223333:alias/pairs"]
    ) {
      const pair = await client.send(
        new GenerateDataKeyPairCommand({ KeyId: id, KeyPairSpec: "ECC_NIST_P256" }),
      );
      assert.equal(pair.KeyId, arn, id);
    }
  }, SM2_EVERYWHERE));

Deno.test("GenerateDataKeyPair returns a fresh key pair on every call", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const seen = new Set<string>();
    for (const spec of ["ECC_NIST_P256", "ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519"]) {
      for (let i = 0; i < 5; i++) {
        const pair: GenerateDataKeyPairCommandOutput = await client.send(
          new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: spec as DataKeyPairSpec }),
        );
        seen.add(pair.PublicKey!.toHex());
        seen.add(pair.PrivateKeyPlaintext!.toHex());
        seen.add(pair.PrivateKeyCiphertextBlob!.toHex());
      }
    }
    assert.equal(seen.size, 4 * 5 * 3);
  }, SM2_EVERYWHERE));

Deno.test("Decrypt of a private key blob rejects a changed or missing encryption context", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const pair = await client.send(
      new GenerateDataKeyPairWithoutPlaintextCommand({
        KeyId: keyId,
        KeyPairSpec: "ECC_NIST_P384",
        EncryptionContext: CONTEXT,
      }),
    );
    for (
      const context of [undefined, { ...CONTEXT, tenant: "other" }, { purpose: CONTEXT.purpose }]
    ) {
      assert.equal(
        await errorName(
          client.send(
            new DecryptCommand({
              CiphertextBlob: pair.PrivateKeyCiphertextBlob,
              EncryptionContext: context,
            }),
          ),
        ),
        "InvalidCiphertextException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("GenerateDataKeyPair answers DryRun with DryRunOperationException and generates nothing", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    for (
      const Command of [GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand]
    ) {
      assert.equal(
        await errorName(
          client.send(new Command({ KeyId: keyId, KeyPairSpec: "SM2", DryRun: true })),
        ),
        "DryRunOperationException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("GenerateDataKeyPair under a disabled key gives DisabledException, also with DryRun", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    for (const DryRun of [undefined, true]) {
      for (
        const Command of [GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand]
      ) {
        assert.equal(
          await errorName(
            client.send(new Command({ KeyId: keyId, KeyPairSpec: "ECC_NIST_P256", DryRun })),
          ),
          "DisabledException",
        );
      }
    }
  }, SM2_EVERYWHERE));

Deno.test("GenerateDataKeyPair under a key pending deletion gives KMSInvalidStateException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    for (
      const Command of [GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand]
    ) {
      assert.equal(
        await errorName(client.send(new Command({ KeyId: keyId, KeyPairSpec: "RSA_2048" }))),
        "KMSInvalidStateException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("GenerateDataKeyPair with an unknown key or alias gives NotFoundException", () =>
  withServer(async ({ client }) => {
    for (const KeyId of ["11111111-2222-3333-4444-555555555555", "alias/none"]) {
      assert.equal(
        await errorName(client.send(new GenerateDataKeyPairCommand({ KeyId, KeyPairSpec: "SM2" }))),
        "NotFoundException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("GenerateDataKeyPair rejects a bad spec, missing fields and grant tokens out of bounds", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const cases: Record<string, unknown>[] = [
      { KeyId: keyId, KeyPairSpec: "RSA_1024" },
      { KeyId: keyId, KeyPairSpec: "SYMMETRIC_DEFAULT" },
      { KeyId: keyId, KeyPairSpec: "ecc_nist_p256" },
      { KeyId: keyId },
      { KeyPairSpec: "SM2" },
      { KeyId: "", KeyPairSpec: "SM2" },
      { KeyId: keyId, KeyPairSpec: "SM2", GrantTokens: Array(11).fill("token") },
      { KeyId: keyId, KeyPairSpec: "SM2", GrantTokens: [""] },
      { KeyId: keyId, KeyPairSpec: "SM2", GrantTokens: ["x".repeat(8193)] },
    ];
    for (const input of cases) {
      for (
        const Command of [GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand]
      ) {
        assert.equal(
          // deno-lint-ignore no-explicit-any -- deliberately invalid input
          await errorName(client.send(new Command(input as any))),
          "ValidationException",
          JSON.stringify(input).slice(0, 80),
        );
      }
    }
    assert.equal(
      await errorName(
        client.send(
          new GenerateDataKeyPairCommand({
            KeyId: keyId,
            KeyPairSpec: "SM2",
            GrantTokens: Array(10).fill("x".repeat(8192)),
          }),
        ),
      ),
      "InvalidGrantTokenException",
      "well-sized tokens this KMS never issued",
    );
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) {
      const grant = await client.send(
        new CreateGrantCommand({
          KeyId: keyId,
          GranteePrincipal: "arn:aws:iam::111122223333:user/nobody",
          Operations: ["GenerateDataKeyPair"],
        }),
      );
      tokens.push(grant.GrantToken!);
    }
    const ok = await client.send(
      new GenerateDataKeyPairCommand({ KeyId: keyId, KeyPairSpec: "SM2", GrantTokens: tokens }),
    );
    assert.equal(ok.KeyPairSpec, "SM2");
  }, SM2_EVERYWHERE));
