import assert from "node:assert/strict";
import { generateKeyPair } from "./crypto/key_pairs.ts";
import { decodePkcs8, encodeEcPkcs8 } from "./crypto/key_encoding.ts";
import { IncorrectKeyMaterialException, InvalidCiphertextException } from "./errors.ts";
import {
  importableMaterial,
  importedKeyMaterialId,
  newImportToken,
  parseImportToken,
  unwrapKeyMaterial,
} from "./imported_material.ts";
import { SecretBytes } from "./secret.ts";

/** RSA-OAEP (SHA-256) of `data` under the SPKI, as the importer's side does it. */
async function oaepEncrypt(spki: Uint8Array, data: Uint8Array, hash = "SHA-256") {
  const key = await crypto.subtle.importKey(
    "spki",
    Uint8Array.from(spki),
    {
      name: "RSA-OAEP",
      hash,
    },
    false,
    ["encrypt"],
  );
  return new Uint8Array(
    await crypto.subtle.encrypt({ name: "RSA-OAEP" }, key, Uint8Array.from(data)),
  );
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test("an import token carries its id and validity and nothing else parses as one", () => {
  const validTo = Date.UTC(2030, 0, 1);
  const { token, tokenId } = newImportToken(validTo);
  assert.deepEqual(parseImportToken(token), { tokenId, validTo });
  assert.match(tokenId, /^[0-9a-f]{32}$/);
  assert.equal(parseImportToken(token.subarray(1)), null);
  const wrongVersion = token.slice();
  wrongVersion[0] = 2;
  assert.equal(parseImportToken(wrongVersion), null);
  assert.notEqual(newImportToken(validTo).tokenId, tokenId);
});

Deno.test("RSA_AES_KEY_WRAP unwraps RFC 5649's test vectors (AES key wrap with padding)", async () => {
  const pair = await generateKeyPair("RSA_2048");
  // RFC 5649 §6: a 192-bit KEK wrapping 20 and 7 octets.
  const kek = Uint8Array.fromHex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
  const vectors = [
    [
      "c37b7e6492584340bed12207808941155068f738",
      "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
    ],
    ["466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"],
  ] as const;
  for (const [key, wrapped] of vectors) {
    const blob = concat(await oaepEncrypt(pair.publicKey, kek), Uint8Array.fromHex(wrapped));
    const out = await unwrapKeyMaterial("RSA_AES_KEY_WRAP_SHA_256", pair.privateKey, blob);
    assert.equal(out.expose().toHex(), key);
    const tampered = blob.slice();
    tampered[tampered.length - 1]! ^= 1;
    await assert.rejects(
      unwrapKeyMaterial("RSA_AES_KEY_WRAP_SHA_256", pair.privateKey, tampered),
      InvalidCiphertextException,
    );
  }
  // SHA-1 OAEP for the AES key under RSA_AES_KEY_WRAP_SHA_1; a SHA-256 block does not unwrap.
  const sha1 = concat(
    await oaepEncrypt(pair.publicKey, kek, "SHA-1"),
    Uint8Array.fromHex(vectors[0][1]),
  );
  assert.equal(
    (await unwrapKeyMaterial("RSA_AES_KEY_WRAP_SHA_1", pair.privateKey, sha1)).expose().toHex(),
    vectors[0][0],
  );
  await assert.rejects(
    unwrapKeyMaterial("RSA_AES_KEY_WRAP_SHA_256", pair.privateKey, sha1),
    InvalidCiphertextException,
  );
  await assert.rejects(
    unwrapKeyMaterial("RSAES_PKCS1_V1_5", pair.privateKey, sha1),
    InvalidCiphertextException,
  );
});

Deno.test("symmetric and HMAC material must have the lengths AWS accepts", async () => {
  const bytes = (n: number) => new SecretBytes(crypto.getRandomValues(new Uint8Array(n)));
  await importableMaterial("SYMMETRIC_DEFAULT", bytes(32));
  for (const n of [16, 31, 33, 64]) {
    await assert.rejects(
      importableMaterial("SYMMETRIC_DEFAULT", bytes(n)),
      IncorrectKeyMaterialException,
    );
  }
  const ranges = {
    HMAC_224: [28, 64],
    HMAC_256: [32, 64],
    HMAC_384: [48, 128],
    HMAC_512: [64, 128],
  };
  for (const [spec, [min, max]] of Object.entries(ranges) as [keyof typeof ranges, number[]][]) {
    await importableMaterial(spec, bytes(min!));
    await importableMaterial(spec, bytes(max!));
    await assert.rejects(importableMaterial(spec, bytes(min! - 1)), IncorrectKeyMaterialException);
    await assert.rejects(importableMaterial(spec, bytes(max! + 1)), IncorrectKeyMaterialException);
  }
});

Deno.test("an EC key whose embedded public point is not its own is IncorrectKeyMaterialException", async () => {
  const a = await generateKeyPair("ECC_NIST_P256");
  const b = await generateKeyPair("ECC_NIST_P256");
  const ka = decodePkcs8(a.privateKey.expose());
  const kb = decodePkcs8(b.privateKey.expose());
  assert.ok(ka.type === "EC" && kb.type === "EC");
  const mixed = encodeEcPkcs8("P-256", { scalar: ka.scalar.expose(), point: kb.point! });
  await assert.rejects(
    importableMaterial("ECC_NIST_P256", new SecretBytes(mixed)),
    IncorrectKeyMaterialException,
  );
  const good = await importableMaterial(
    "ECC_NIST_P256",
    new SecretBytes(a.privateKey.expose().slice()),
  );
  assert.deepEqual(good.publicKey, a.publicKey);
  assert.deepEqual(good.material.expose(), a.privateKey.expose());
  await assert.rejects(
    importableMaterial("ECC_NIST_P384", new SecretBytes(a.privateKey.expose().slice())),
    IncorrectKeyMaterialException,
  );
  await assert.rejects(
    importableMaterial("RSA_2048", new SecretBytes(a.privateKey.expose().slice())),
    IncorrectKeyMaterialException,
  );
});

Deno.test("Ed25519 and secp256k1 keys import in the layout generated keys have", async () => {
  for (const spec of ["ECC_NIST_EDWARDS25519", "ECC_SECG_P256K1"] as const) {
    const pair = await generateKeyPair(spec);
    const imported = await importableMaterial(
      spec,
      new SecretBytes(pair.privateKey.expose().slice()),
    );
    assert.deepEqual(imported.material.expose(), pair.privateKey.expose(), spec);
    assert.deepEqual(imported.publicKey, pair.publicKey, spec);
  }
});

Deno.test("the KeyMaterialId depends on key id and material, and is stable for the same pair", async () => {
  const material = crypto.getRandomValues(new Uint8Array(32));
  const of = (keyId: string, bytes: Uint8Array) =>
    importedKeyMaterialId(keyId, { material: new SecretBytes(bytes), publicKey: null });
  const id = await of("key-a", material);
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(await of("key-a", material.slice()), id);
  assert.notEqual(await of("key-b", material), id);
  assert.notEqual(await of("key-a", crypto.getRandomValues(new Uint8Array(32))), id);
});
