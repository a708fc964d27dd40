import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";
import { UnsupportedOperationException } from "./errors.ts";
import {
  assertSamePartition,
  assertSpecAvailable,
  isChinaRegion,
  sm2Available,
  symmetricCipherOf,
  symmetricKeyBytes,
  unavailableWrapping,
} from "./region_profile.ts";

const DEFAULT = { sm2AllRegions: false };
const EVERYWHERE = { sm2AllRegions: true };

Deno.test("China Regions are the aws-cn partition: cn-north-1 and cn-northwest-1, not us-east-1 or us-gov", () => {
  assert.ok(isChinaRegion("cn-north-1"));
  assert.ok(isChinaRegion("cn-northwest-1"));
  assert.ok(!isChinaRegion("us-east-1"));
  assert.ok(!isChinaRegion("us-gov-west-1"));
  assert.ok(!isChinaRegion("ap-east-1"));
});

Deno.test("symmetric material is 16 bytes (SM4) in China Regions and 32 (AES-256) elsewhere; the cipher follows the size", () => {
  assert.equal(symmetricKeyBytes("cn-north-1"), 16);
  assert.equal(symmetricKeyBytes("cn-northwest-1"), 16);
  assert.equal(symmetricKeyBytes("us-east-1"), 32);
  assert.equal(symmetricCipherOf(16), "SM4_GCM");
  assert.equal(symmetricCipherOf(32), "AES_256_GCM");
  assert.equal(symmetricCipherOf(24), undefined);
});

Deno.test("SM2 key and key pair specs are refused outside China with AWS's words unless the switch is on", () => {
  assert.ok(sm2Available("cn-north-1", DEFAULT));
  assert.ok(!sm2Available("us-east-1", DEFAULT));
  assert.ok(sm2Available("us-east-1", EVERYWHERE));
  assert.throws(
    () => assertSpecAvailable("us-east-1", "SM2", "KeySpec", DEFAULT),
    (e: unknown) =>
      e instanceof UnsupportedOperationException &&
      e.message === "KeySpec SM2 is not supported in this Region",
  );
  assert.throws(
    () => assertSpecAvailable("eu-west-1", "SM2", "KeyPairSpec", DEFAULT),
    (e: unknown) =>
      e instanceof UnsupportedOperationException &&
      e.message === "KeyPairSpec SM2 is not supported in this Region",
  );
  assertSpecAvailable("cn-northwest-1", "SM2", "KeySpec", DEFAULT);
  assertSpecAvailable("us-east-1", "SM2", "KeyPairSpec", EVERYWHERE);
  assertSpecAvailable("us-east-1", "ECC_NIST_P256", "KeySpec", DEFAULT);
});

Deno.test("import wrapping: SM2PKE/SM2 only in China (or with the switch), RSA_AES_KEY_WRAP everywhere but China", () => {
  assert.equal(unavailableWrapping("cn-north-1", "SM2PKE", "SM2", DEFAULT), undefined);
  assert.match(unavailableWrapping("us-east-1", "SM2PKE", "SM2", DEFAULT)!, /only in China/);
  assert.match(unavailableWrapping("us-east-1", "RSAES_OAEP_SHA_256", "SM2", DEFAULT)!, /SM2/);
  assert.equal(unavailableWrapping("us-east-1", "SM2PKE", "SM2", EVERYWHERE), undefined);
  assert.match(
    unavailableWrapping("cn-north-1", "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048", DEFAULT)!,
    /not supported in China Regions/,
  );
  assert.equal(
    unavailableWrapping("us-east-1", "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048", DEFAULT),
    undefined,
  );
});

Deno.test("multi-Region replicas stay within a partition", () => {
  assertSamePartition("cn-north-1", "cn-northwest-1");
  assertSamePartition("us-east-1", "eu-west-1");
  assert.throws(
    () => assertSamePartition("cn-north-1", "us-east-1"),
    UnsupportedOperationException,
  );
  assert.throws(
    () => assertSamePartition("us-east-1", "cn-north-1"),
    UnsupportedOperationException,
  );
});

Deno.test("KMS_SM2_ALL_REGIONS is false by default, true or false when set, and anything else a ConfigError", () => {
  assert.equal(parseConfig({}).sm2AllRegions, false);
  assert.equal(parseConfig({ KMS_SM2_ALL_REGIONS: "true" }).sm2AllRegions, true);
  assert.equal(parseConfig({ KMS_SM2_ALL_REGIONS: "false" }).sm2AllRegions, false);
  assert.throws(() => parseConfig({ KMS_SM2_ALL_REGIONS: "yes" }), ConfigError);
});
