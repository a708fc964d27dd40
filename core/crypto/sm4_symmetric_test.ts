/**
 * Symmetric encryption under China Regions' 128-bit SM4 material: the blob says SM4-GCM (format
 * version 2), the one-time key is HKDF-SM3, and a blob whose cipher does not suit the material is
 * an invalid ciphertext, never a fault.
 */
import assert from "node:assert/strict";
import { hkdf } from "@noble/hashes/hkdf.js";
import { decodeCiphertextBlob, headerBytes } from "../ciphertext_blob.ts";
import { canonicalEncryptionContext } from "../encryption_context.ts";
import { InvalidCiphertextException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { randomBytes } from "./random.ts";
import { sm3 } from "./sm3.ts";
import { sm4GcmDecrypt } from "./sm4_gcm.ts";
import { decryptWithKeyMaterial, encryptWithKeyMaterial } from "./symmetric.ts";

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const context = canonicalEncryptionContext({ purpose: "test" });

function seal(material: SecretBytes, plaintext: Uint8Array): Promise<Uint8Array> {
  return encryptWithKeyMaterial({
    keyId: KEY_ID,
    materialVersion: 1,
    material,
    plaintext,
    context,
  });
}

Deno.test("16-byte material seals an SM4-GCM blob (format version 2) that decrypts; 32-byte an AES one (1)", async () => {
  const plaintext = randomBytes(100);
  const sm4 = new SecretBytes(randomBytes(16));
  const sm4Blob = await seal(sm4, plaintext);
  assert.equal(sm4Blob[1], 2);
  assert.equal(decodeCiphertextBlob(sm4Blob).cipher, "SM4_GCM");
  assert.deepEqual(
    await decryptWithKeyMaterial(decodeCiphertextBlob(sm4Blob), { material: sm4, context }),
    plaintext,
  );
  const aesBlob = await seal(new SecretBytes(randomBytes(32)), plaintext);
  assert.equal(aesBlob[1], 1);
  assert.equal(decodeCiphertextBlob(aesBlob).cipher, undefined);
});

Deno.test("the SM4 blob's ciphertext is SM4-GCM under HKDF-SM3(material, nonce, label || keyId) with the header and context as AAD", async () => {
  const material = randomBytes(16);
  const plaintext = randomBytes(37);
  const blob = decodeCiphertextBlob(await seal(new SecretBytes(material.slice()), plaintext));
  const info = new TextEncoder().encode(`edge-kms/v1/sm4-gcm-encrypt${KEY_ID}`);
  const key = hkdf(sm3, material, blob.nonce, info, 16);
  const aad = new Uint8Array([...headerBytes(blob), ...context]);
  assert.deepEqual(sm4GcmDecrypt(key, blob.iv, blob.ciphertext, aad), plaintext);
});

Deno.test("a blob whose cipher does not suit the material, a changed version byte or context is InvalidCiphertextException", async () => {
  const sm4 = new SecretBytes(randomBytes(16));
  const aes = new SecretBytes(randomBytes(32));
  const sm4Blob = await seal(sm4, randomBytes(20));
  const aesBlob = await seal(aes, randomBytes(20));
  const invalid = (e: unknown) => e instanceof InvalidCiphertextException;
  await assert.rejects(
    decryptWithKeyMaterial(decodeCiphertextBlob(sm4Blob), { material: aes, context }),
    invalid,
  );
  await assert.rejects(
    decryptWithKeyMaterial(decodeCiphertextBlob(aesBlob), { material: sm4, context }),
    invalid,
  );
  const relabelled = sm4Blob.slice();
  relabelled[1] = 1;
  await assert.rejects(
    decryptWithKeyMaterial(decodeCiphertextBlob(relabelled), { material: sm4, context }),
    invalid,
  );
  await assert.rejects(
    decryptWithKeyMaterial(decodeCiphertextBlob(sm4Blob), {
      material: sm4,
      context: canonicalEncryptionContext({ purpose: "other" }),
    }),
    invalid,
  );
});
