/**
 * The data key pair family (core/operations/data_key_pairs.ts) in process:
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext on a KMS over `:memory:`
 * (tests/helpers/in_process.ts). The HTTP tests (tests/data_key_pairs_test.ts) keep the protocol
 * and OpenSSL's checks of every spec.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectionOf, withInProcessKms } from "../../tests/helpers/in_process.ts";
import { waitFor } from "../../tests/helpers/wait.ts";

const CONTEXT = { purpose: "in-process" };

Deno.test("GenerateDataKeyPair's private key is the plaintext of its PrivateKeyCiphertextBlob under the same encryption context, and signs for its public key", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const pair = await call("GenerateDataKeyPair", {
      KeyId,
      KeyPairSpec: "ECC_NIST_P256",
      EncryptionContext: CONTEXT,
    });
    assert.equal(pair.KeyPairSpec, "ECC_NIST_P256");
    assert.ok(pair.KeyId.endsWith(KeyId));
    const privateKey: Uint8Array<ArrayBuffer> = pair.PrivateKeyPlaintext.expose();
    const opened = await call("Decrypt", {
      CiphertextBlob: pair.PrivateKeyCiphertextBlob.toBase64(),
      EncryptionContext: CONTEXT,
    });
    assert.deepEqual(opened.Plaintext.expose(), privateKey);
    assert.equal(
      await rejectionOf(
        call("Decrypt", { CiphertextBlob: pair.PrivateKeyCiphertextBlob.toBase64() }),
      ),
      "InvalidCiphertextException",
      "without its encryption context the private key does not decrypt",
    );
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const signing = await crypto.subtle.importKey("pkcs8", privateKey, algorithm, false, ["sign"]);
    const verifying = await crypto.subtle.importKey("spki", pair.PublicKey, algorithm, false, [
      "verify",
    ]);
    const message = new TextEncoder().encode("signed by the pair");
    const signature = await crypto.subtle.sign(algorithm, signing, message);
    assert.ok(await crypto.subtle.verify(algorithm, verifying, signature, message));
  }));

Deno.test("GenerateDataKeyPairWithoutPlaintext returns no private key, and its ciphertext decrypts to a key of the public key's pair", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const pair = await call("GenerateDataKeyPairWithoutPlaintext", {
      KeyId,
      KeyPairSpec: "ECC_NIST_EDWARDS25519",
    });
    assert.equal(pair.PrivateKeyPlaintext, undefined);
    const opened = await call("Decrypt", {
      CiphertextBlob: pair.PrivateKeyCiphertextBlob.toBase64(),
    });
    const signing = await crypto.subtle.importKey(
      "pkcs8",
      opened.Plaintext.expose(),
      { name: "Ed25519" },
      true,
      ["sign"],
    );
    const verifying = await crypto.subtle.importKey(
      "spki",
      pair.PublicKey,
      { name: "Ed25519" },
      false,
      [
        "verify",
      ],
    );
    const message = new TextEncoder().encode("pair");
    const signature = await crypto.subtle.sign({ name: "Ed25519" }, signing, message);
    assert.ok(await crypto.subtle.verify({ name: "Ed25519" }, verifying, signature, message));
  }));

Deno.test("two GenerateDataKeyPair calls never return the same pair", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const pair = await call("GenerateDataKeyPair", { KeyId, KeyPairSpec: "ECC_NIST_P256" });
      seen.add(pair.PublicKey.toHex());
    }
    assert.equal(seen.size, 10);
  }));

Deno.test("GenerateDataKeyPair serves secp256k1, SM2 and Ed25519 pairs from the worker-filled pool, each pair once, each decrypting to the private key returned", () =>
  withInProcessKms(async ({ call, service }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const specs = ["ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519"] as const;
    for (const KeyPairSpec of specs) await call("GenerateDataKeyPair", { KeyId, KeyPairSpec });
    const stats = () => service.keyPairPool.stats();
    await waitFor(() => specs.every((s) => stats()[s]!.ready === 8), "the pools are full");
    const seen = new Set<string>();
    for (const KeyPairSpec of specs) {
      for (let i = 0; i < 6; i++) {
        const pair = await call("GenerateDataKeyPair", { KeyId, KeyPairSpec });
        seen.add(pair.PublicKey.toHex());
        const opened = await call("Decrypt", {
          CiphertextBlob: pair.PrivateKeyCiphertextBlob.toBase64(),
        });
        assert.deepEqual(opened.Plaintext.expose(), pair.PrivateKeyPlaintext.expose());
      }
      assert.equal(stats()[KeyPairSpec]!.pooledTakes, 6, `${KeyPairSpec}: 6 pairs from the pool`);
    }
    assert.equal(seen.size, 18);
  }, { env: { KMS_ECC_POOL: "8", KMS_SM2_ALL_REGIONS: "true" } }));

Deno.test("GenerateDataKeyPair refuses a disabled key (DisabledException), an asymmetric key (InvalidKeyUsageException) and an unknown pair spec (ValidationException)", () =>
  withInProcessKms(async ({ call }) => {
    const disabled = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("DisableKey", { KeyId: disabled });
    assert.equal(
      await rejectionOf(
        call("GenerateDataKeyPair", { KeyId: disabled, KeyPairSpec: "ECC_NIST_P256" }),
      ),
      "DisabledException",
    );
    const signing = (await call("CreateKey", { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }))
      .KeyMetadata.KeyId;
    assert.equal(
      await rejectionOf(
        call("GenerateDataKeyPair", { KeyId: signing, KeyPairSpec: "ECC_NIST_P256" }),
      ),
      "InvalidKeyUsageException",
    );
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.equal(
      await rejectionOf(call("GenerateDataKeyPair", { KeyId, KeyPairSpec: "ECC_NIST_P999" })),
      "ValidationException",
    );
  }));
