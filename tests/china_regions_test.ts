/**
 * The China Regions profile end to end through the AWS SDK (core/region_profile.ts): keys in
 * cn-north-1 are SM4 keys with `aws-cn` ARNs whose ciphertexts are SM4-GCM blobs (format
 * version 2, checked white-box on the blob and the stored material), 128-bit data keys and
 * imported material, SM2PKE import wrapping (wrapped by OpenSSL), ciphertexts and replicas that
 * stay within the partition, and SM2 keys and data key pairs refused outside China unless
 * `KMS_SM2_ALL_REGIONS=true`.
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  type KMSClient,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from "@aws-sdk/client-kms";
import { decodeCiphertextBlob } from "../core/ciphertext_blob.ts";
import { runOpenssl } from "./helpers/openssl.ts";
import { ADMIN, errorName, type TestServer, withServer } from "./helpers/server.ts";

const CHINA = { KMS_REGIONS: "us-east-1,cn-north-1,cn-northwest-1" };
const PLAINTEXT = new TextEncoder().encode("protected in Beijing");

/** The length of a key's stored material of `version`, read from the KMS of `region`. */
async function materialBytes(
  server: TestServer,
  region: string,
  keyId: string,
  version: number,
): Promise<number | undefined> {
  const material = await server.service.regions.get(region)!.material(keyId, version);
  return material?.material.length;
}

async function newKey(client: KMSClient, input: { MultiRegion?: boolean } = {}) {
  const { KeyMetadata } = await client.send(new CreateKeyCommand(input));
  return KeyMetadata!;
}

/** The AWS error of a rejected call as `Name: message`. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const { name, message } = error as Error;
    return `${name}: ${message}`;
  }
  throw new Error("expected the call to fail");
}

Deno.test("a symmetric key created in cn-north-1 has an aws-cn ARN, 16-byte material and SM4-GCM blobs; in us-east-1 32 bytes and AES-GCM", () =>
  withServer(async (server) => {
    const cn = server.clientFor(ADMIN, "cn-north-1");
    const cnKey = await newKey(cn);
    assert.match(cnKey.Arn!, /^arn:aws-cn:kms:cn-north-1:111122223333:key\/[0-9a-f-]{36}$/);
    assert.equal(await materialBytes(server, "cn-north-1", cnKey.KeyId!, 1), 16);
    const sealed = await cn.send(new EncryptCommand({ KeyId: cnKey.KeyId, Plaintext: PLAINTEXT }));
    const blob = decodeCiphertextBlob(sealed.CiphertextBlob!);
    assert.equal(sealed.CiphertextBlob![1], 2, "format version 2");
    assert.equal(blob.cipher, "SM4_GCM");
    assert.equal(blob.keyId, cnKey.KeyId);
    const opened = await cn.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.deepEqual(opened.Plaintext, PLAINTEXT);
    assert.equal(opened.KeyId, cnKey.Arn);

    const usKey = await newKey(server.client);
    assert.match(usKey.Arn!, /^arn:aws:kms:us-east-1:/);
    assert.equal(await materialBytes(server, "us-east-1", usKey.KeyId!, 1), 32);
    const usSealed = await server.client.send(
      new EncryptCommand({ KeyId: usKey.KeyId, Plaintext: PLAINTEXT }),
    );
    assert.equal(usSealed.CiphertextBlob![1], 1, "format version 1");
    assert.equal(decodeCiphertextBlob(usSealed.CiphertextBlob!).cipher, undefined);

    // Rotation keeps the key an SM4 key; the old blob still decrypts.
    await cn.send(new RotateKeyOnDemandCommand({ KeyId: cnKey.KeyId }));
    assert.equal(await materialBytes(server, "cn-north-1", cnKey.KeyId!, 2), 16);
    const after = await cn.send(new EncryptCommand({ KeyId: cnKey.KeyId, Plaintext: PLAINTEXT }));
    assert.equal(decodeCiphertextBlob(after.CiphertextBlob!).materialVersion, 2);
    assert.equal(after.CiphertextBlob![1], 2);
    const old = await cn.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.deepEqual(old.Plaintext, PLAINTEXT);
  }, { env: CHINA }));

Deno.test("GenerateDataKey in cn-north-1 with AES_128 or NumberOfBytes 16 gives 16-byte (SM4) data keys sealed with SM4-GCM", () =>
  withServer(async (server) => {
    const cn = server.clientFor(ADMIN, "cn-north-1");
    const { KeyId } = await newKey(cn);
    for (const request of [{ KeySpec: "AES_128" as const }, { NumberOfBytes: 16 }]) {
      const dataKey = await cn.send(new GenerateDataKeyCommand({ KeyId, ...request }));
      assert.equal(dataKey.Plaintext!.length, 16);
      assert.equal(decodeCiphertextBlob(dataKey.CiphertextBlob!).cipher, "SM4_GCM");
      const opened = await cn.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
      assert.deepEqual(opened.Plaintext, dataKey.Plaintext);
    }
  }, { env: CHINA }));

Deno.test("ReEncrypt works between two cn-north-1 keys; across partitions the other key is NotFoundException", () =>
  withServer(async (server) => {
    const cn = server.clientFor(ADMIN, "cn-north-1");
    const a = await newKey(cn);
    const b = await newKey(cn);
    const us = await newKey(server.client);
    const sealed = await cn.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: PLAINTEXT }));
    const moved = await cn.send(
      new ReEncryptCommand({ CiphertextBlob: sealed.CiphertextBlob, DestinationKeyId: b.KeyId }),
    );
    assert.equal(moved.KeyId, b.Arn);
    assert.equal(moved.SourceKeyId, a.Arn);
    assert.equal(decodeCiphertextBlob(moved.CiphertextBlob!).cipher, "SM4_GCM");
    const opened = await cn.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob }));
    assert.deepEqual(opened.Plaintext, PLAINTEXT);

    assert.equal(
      await errorName(
        cn.send(
          new ReEncryptCommand({ CiphertextBlob: sealed.CiphertextBlob, DestinationKeyId: us.Arn }),
        ),
      ),
      "NotFoundException",
    );
    const usSealed = await server.client.send(
      new EncryptCommand({ KeyId: us.KeyId, Plaintext: PLAINTEXT }),
    );
    assert.equal(
      await errorName(
        server.client.send(
          new ReEncryptCommand({
            CiphertextBlob: usSealed.CiphertextBlob,
            DestinationKeyId: a.Arn,
          }),
        ),
      ),
      "NotFoundException",
    );
  }, { env: CHINA }));

Deno.test("a cn-north-1 multi-Region key replicates to cn-northwest-1 (the replica opens its SM4 blobs) but not to us-east-1", () =>
  withServer(async (server) => {
    const cn = server.clientFor(ADMIN, "cn-north-1");
    const cnw = server.clientFor(ADMIN, "cn-northwest-1");
    const primary = await newKey(cn, { MultiRegion: true });
    const { ReplicaKeyMetadata } = await cn.send(
      new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: "cn-northwest-1" }),
    );
    assert.match(ReplicaKeyMetadata!.Arn!, /^arn:aws-cn:kms:cn-northwest-1:/);
    const sealed = await cn.send(
      new EncryptCommand({ KeyId: primary.KeyId, Plaintext: PLAINTEXT }),
    );
    const opened = await cnw.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.deepEqual(opened.Plaintext, PLAINTEXT);
    assert.match(
      await failure(
        cn.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: "us-east-1" })),
      ),
      /^UnsupportedOperationException: Region us-east-1 is not in the aws-cn partition/,
    );
  }, { env: CHINA }));

/** Wraps `material` with `openssl pkeyutl -encrypt` under a DER SPKI SM2 public key (SM2PKE). */
async function sm2WrapWithOpenssl(publicKey: Uint8Array, material: Uint8Array) {
  const dir = await Deno.makeTempDir({ prefix: "china_wrap_" });
  try {
    await Deno.writeFile(`${dir}/WrappingPublicKey.der`, publicKey);
    const text = await runOpenssl([
      "pkey",
      "-pubin",
      "-inform",
      "DER",
      "-in",
      `${dir}/WrappingPublicKey.der`,
      "-text",
      "-noout",
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(new TextDecoder().decode(text.stdout), /ASN1 OID: SM2/);
    const wrapped = await runOpenssl(
      [
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        `${dir}/WrappingPublicKey.der`,
      ],
      { stdin: material },
    );
    assert.equal(wrapped.code, 0, wrapped.stderr);
    return wrapped.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function importIntoChinaKey(cn: KMSClient, keyId: string, material: Uint8Array) {
  const parameters = await cn.send(
    new GetParametersForImportCommand({
      KeyId: keyId,
      WrappingAlgorithm: "SM2PKE",
      WrappingKeySpec: "SM2",
    }),
  );
  return await cn.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: parameters.ImportToken,
      EncryptedKeyMaterial: await sm2WrapWithOpenssl(parameters.PublicKey!, material),
      ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }),
  );
}

Deno.test("import in cn-north-1: SM2PKE-wrapped (OpenSSL) 16-byte material is accepted and seals SM4-GCM; 32 bytes are refused", () =>
  withServer(async (server) => {
    const cn = server.clientFor(ADMIN, "cn-north-1");
    const { KeyMetadata } = await cn.send(new CreateKeyCommand({ Origin: "EXTERNAL" }));
    const keyId = KeyMetadata!.KeyId!;
    assert.equal(
      await failure(importIntoChinaKey(cn, keyId, crypto.getRandomValues(new Uint8Array(32)))),
      "IncorrectKeyMaterialException: Key material for SYMMETRIC_DEFAULT keys must be 16 bytes.",
    );
    const material = crypto.getRandomValues(new Uint8Array(16));
    await importIntoChinaKey(cn, keyId, material);
    const sealed = await cn.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }));
    assert.equal(decodeCiphertextBlob(sealed.CiphertextBlob!).cipher, "SM4_GCM");
    const opened = await cn.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.deepEqual(opened.Plaintext, PLAINTEXT);
    assert.equal(
      await errorName(
        cn.send(
          new GetParametersForImportCommand({
            KeyId: keyId,
            WrappingAlgorithm: "RSA_AES_KEY_WRAP_SHA_256",
            WrappingKeySpec: "RSA_2048",
          }),
        ),
      ),
      "UnsupportedOperationException",
    );
  }, { env: CHINA }));

/** CreateKey SM2 and GenerateDataKeyPair(WithoutPlaintext) SM2 in `client`'s Region. */
async function sm2Outcomes(client: KMSClient): Promise<string[]> {
  const { KeyId } = await newKey(client);
  const attempt = async (call: Promise<unknown>) => {
    try {
      await call;
      return "ok";
    } catch (error) {
      const { name, message } = error as Error;
      return `${name}: ${message}`;
    }
  };
  return [
    await attempt(client.send(new CreateKeyCommand({ KeySpec: "SM2", KeyUsage: "SIGN_VERIFY" }))),
    await attempt(client.send(new GenerateDataKeyPairCommand({ KeyId, KeyPairSpec: "SM2" }))),
    await attempt(
      client.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId, KeyPairSpec: "SM2" })),
    ),
  ];
}

Deno.test("SM2 keys and SM2 data key pairs are refused in us-east-1 with AWS's error and offered in cn-north-1", () =>
  withServer(async (server) => {
    assert.deepEqual(await sm2Outcomes(server.client), [
      "UnsupportedOperationException: KeySpec SM2 is not supported in this Region",
      "UnsupportedOperationException: KeyPairSpec SM2 is not supported in this Region",
      "UnsupportedOperationException: KeyPairSpec SM2 is not supported in this Region",
    ]);
    assert.deepEqual(await sm2Outcomes(server.clientFor(ADMIN, "cn-north-1")), ["ok", "ok", "ok"]);
  }, { env: CHINA }));

Deno.test("KMS_SM2_ALL_REGIONS=true offers SM2 keys and SM2 data key pairs in us-east-1", () =>
  withServer(async (server) => {
    assert.deepEqual(await sm2Outcomes(server.client), ["ok", "ok", "ok"]);
  }, { env: { KMS_SM2_ALL_REGIONS: "true" } }));
