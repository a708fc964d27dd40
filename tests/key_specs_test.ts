import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  type KeySpec,
  type KeyUsageType,
} from "@aws-sdk/client-kms";
import { errorName, withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

const RSA_SIGNING = [
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
];

/** Every spec and usage AWS allows, with the algorithm lists DescribeKey shows for it. */
const ALLOWED: [KeySpec, KeyUsageType, Record<string, string[]>][] = [
  ["SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", { EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"] }],
  ["RSA_2048", "ENCRYPT_DECRYPT", {
    EncryptionAlgorithms: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
  }],
  ["RSA_3072", "SIGN_VERIFY", { SigningAlgorithms: RSA_SIGNING }],
  ["ECC_NIST_P256", "SIGN_VERIFY", { SigningAlgorithms: ["ECDSA_SHA_256"] }],
  ["ECC_NIST_P384", "SIGN_VERIFY", { SigningAlgorithms: ["ECDSA_SHA_384"] }],
  ["ECC_NIST_P521", "SIGN_VERIFY", { SigningAlgorithms: ["ECDSA_SHA_512"] }],
  ["ECC_NIST_P256", "KEY_AGREEMENT", { KeyAgreementAlgorithms: ["ECDH"] }],
  ["ECC_NIST_P521", "KEY_AGREEMENT", { KeyAgreementAlgorithms: ["ECDH"] }],
  ["ECC_SECG_P256K1", "SIGN_VERIFY", { SigningAlgorithms: ["ECDSA_SHA_256"] }],
  ["ECC_NIST_EDWARDS25519" as KeySpec, "SIGN_VERIFY", {
    SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
  }],
  ["SM2", "ENCRYPT_DECRYPT", { EncryptionAlgorithms: ["SM2PKE"] }],
  ["SM2", "SIGN_VERIFY", { SigningAlgorithms: ["SM2DSA"] }],
  ["SM2", "KEY_AGREEMENT", { KeyAgreementAlgorithms: ["ECDH"] }],
  ["HMAC_224", "GENERATE_VERIFY_MAC", { MacAlgorithms: ["HMAC_SHA_224"] }],
  ["HMAC_256", "GENERATE_VERIFY_MAC", { MacAlgorithms: ["HMAC_SHA_256"] }],
  ["HMAC_384", "GENERATE_VERIFY_MAC", { MacAlgorithms: ["HMAC_SHA_384"] }],
  ["HMAC_512", "GENERATE_VERIFY_MAC", { MacAlgorithms: ["HMAC_SHA_512"] }],
  ["ML_DSA_44" as KeySpec, "SIGN_VERIFY", { SigningAlgorithms: ["ML_DSA_SHAKE_256"] }],
  ["ML_DSA_65" as KeySpec, "SIGN_VERIFY", { SigningAlgorithms: ["ML_DSA_SHAKE_256"] }],
  ["ML_DSA_87" as KeySpec, "SIGN_VERIFY", { SigningAlgorithms: ["ML_DSA_SHAKE_256"] }],
];

const LISTS = [
  "EncryptionAlgorithms",
  "SigningAlgorithms",
  "KeyAgreementAlgorithms",
  "MacAlgorithms",
];

Deno.test("CreateKey makes every key spec AWS offers, and DescribeKey lists its algorithms", () =>
  withServer(async ({ client }) => {
    for (const [KeySpec, KeyUsage, lists] of ALLOWED) {
      const created = await client.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
      const { KeyMetadata } = await client.send(
        new DescribeKeyCommand({ KeyId: created.KeyMetadata!.KeyId }),
      );
      assert.equal(KeyMetadata!.KeySpec, KeySpec);
      assert.equal(KeyMetadata!.KeyUsage, KeyUsage);
      assert.equal(KeyMetadata!.KeyState, "Enabled");
      for (const list of LISTS) {
        assert.deepEqual(
          (KeyMetadata as unknown as Record<string, unknown>)[list],
          lists[list],
          `${KeySpec}/${KeyUsage} ${list}`,
        );
      }
      assert.equal(
        KeyMetadata!.CurrentKeyMaterialId === undefined,
        KeySpec !== "SYMMETRIC_DEFAULT",
        "CurrentKeyMaterialId only for symmetric encryption keys",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("CreateKey refuses a key usage the key spec does not allow", () =>
  withServer(async ({ client }) => {
    const refused: [string, string][] = [
      ["RSA_2048", "KEY_AGREEMENT"],
      ["RSA_2048", "GENERATE_VERIFY_MAC"],
      ["ECC_NIST_P256", "ENCRYPT_DECRYPT"],
      ["ECC_SECG_P256K1", "KEY_AGREEMENT"],
      ["ECC_NIST_EDWARDS25519", "KEY_AGREEMENT"],
      ["HMAC_256", "ENCRYPT_DECRYPT"],
      ["HMAC_256", "SIGN_VERIFY"],
      ["ML_DSA_44", "ENCRYPT_DECRYPT"],
      ["SYMMETRIC_DEFAULT", "GENERATE_VERIFY_MAC"],
    ];
    for (const [KeySpec, KeyUsage] of refused) {
      assert.equal(
        await errorName(
          client.send(
            new CreateKeyCommand({
              KeySpec: KeySpec as KeySpec,
              KeyUsage: KeyUsage as KeyUsageType,
            }),
          ),
        ),
        "ValidationException",
        `${KeySpec}/${KeyUsage}`,
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("Data keys and data key pairs under an asymmetric or HMAC key give InvalidKeyUsageException", () =>
  withServer(async ({ client }) => {
    for (
      const [KeySpec, KeyUsage] of [
        ["ECC_NIST_P256", "SIGN_VERIFY"],
        ["RSA_2048", "ENCRYPT_DECRYPT"],
        ["HMAC_256", "GENERATE_VERIFY_MAC"],
      ] as const
    ) {
      const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
      const KeyId = KeyMetadata!.KeyId;
      const calls = [
        () => client.send(new GenerateDataKeyPairCommand({ KeyId, KeyPairSpec: "ECC_NIST_P256" })),
        () =>
          client.send(
            new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId, KeyPairSpec: "SM2" }),
          ),
        () => client.send(new GenerateDataKeyCommand({ KeyId, KeySpec: "AES_256" })),
        () =>
          client.send(new GenerateDataKeyPairCommand({ KeyId, KeyPairSpec: "SM2", DryRun: true })),
      ];
      for (const call of calls) {
        assert.equal(await errorName(call()), "InvalidKeyUsageException", KeySpec);
      }
    }
  }, SM2_EVERYWHERE));
