import assert from "node:assert/strict";
import { CreateKeyCommand, GenerateDataKeyPairCommand } from "@aws-sdk/client-kms";
import type { DataKeyPairSpec } from "../core/crypto/key_pairs.ts";
import { opensslCheckMany } from "./helpers/openssl.ts";
import { withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

const FAST_SPECS: DataKeyPairSpec[] = [
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "ECC_NIST_P521",
  "ECC_SECG_P256K1",
  "SM2",
  "ECC_NIST_EDWARDS25519",
];
const PAIRS_PER_SPEC = 1000;
const CONCURRENCY = 8;

for (const spec of FAST_SPECS) {
  Deno.test(`${PAIRS_PER_SPEC} ${spec} pairs over HTTP all pass openssl pkey -check, match, and none repeats`, () =>
    withServer(async ({ client }) => {
      const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
      const privateKeys: Uint8Array[] = [];
      const publicKeyList: Uint8Array[] = [];
      const publicKeys = new Set<string>();
      const privateHex = new Set<string>();
      let next = 0;
      const worker = async () => {
        while (next < PAIRS_PER_SPEC) {
          next++;
          const pair = await client.send(
            new GenerateDataKeyPairCommand({ KeyId: KeyMetadata!.KeyId, KeyPairSpec: spec }),
          );
          privateKeys.push(pair.PrivateKeyPlaintext!);
          publicKeyList.push(pair.PublicKey!);
          publicKeys.add(pair.PublicKey!.toHex());
          privateHex.add(pair.PrivateKeyPlaintext!.toHex());
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      assert.equal(privateKeys.length, PAIRS_PER_SPEC);
      assert.equal(publicKeys.size, PAIRS_PER_SPEC, "no repeated public key");
      assert.equal(privateHex.size, PAIRS_PER_SPEC, "no repeated private key");
      const checks = await opensslCheckMany(privateKeys);
      checks.forEach((check, i) => {
        assert.ok(check.valid, `pair ${i} fails openssl pkey -check`);
        assert.deepEqual(check.derivedPublicKey, publicKeyList[i], `pair ${i}: keys do not match`);
      });
    }, SM2_EVERYWHERE));
}
