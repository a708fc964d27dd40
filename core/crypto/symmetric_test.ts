import assert from "node:assert/strict";
import { decodeCiphertextBlob, encodeCiphertextBlob, headerBytes } from "../ciphertext_blob.ts";
import { canonicalEncryptionContext, type EncryptionContext } from "../encryption_context.ts";
import { InvalidCiphertextException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import { randomBytes } from "./random.ts";
import { decryptWithKeyMaterial, encryptWithKeyMaterial } from "./symmetric.ts";

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER_KEY_ID = "0987dcba-09ba-87dc-65fe-0987654321ba";
const MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab";

function ctx(entries: [string, string][]): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of entries) out[k] = v;
  return out;
}

function newMaterial(): SecretBytes {
  return new SecretBytes(randomBytes(32));
}

async function seal(
  material: SecretBytes,
  plaintext: Uint8Array,
  context?: EncryptionContext,
  keyId = KEY_ID,
): Promise<Uint8Array> {
  return await encryptWithKeyMaterial({
    keyId,
    materialVersion: 1,
    material,
    plaintext,
    context: canonicalEncryptionContext(context),
  });
}

/** Decode then decrypt, as Decrypt does. */
async function open(
  material: SecretBytes,
  blob: Uint8Array,
  context?: EncryptionContext,
): Promise<Uint8Array> {
  return await decryptWithKeyMaterial(decodeCiphertextBlob(blob), {
    material,
    context: canonicalEncryptionContext(context),
  });
}

function isInvalidCiphertext(e: unknown): boolean {
  return e instanceof InvalidCiphertextException && e.message === "The ciphertext is invalid.";
}

async function assertInvalid(attempt: () => Promise<unknown>, message?: string): Promise<void> {
  await assert.rejects(attempt, isInvalidCiphertext, message);
}

Deno.test("encrypt then decrypt returns the plaintext for 0 to 4096 bytes", async () => {
  const material = newMaterial();
  for (const len of [0, 1, 16, 32, 1000, 4096]) {
    const plaintext = randomBytes(len);
    const context = ctx([["purpose", "test"]]);
    assert.deepEqual(
      await open(material, await seal(material, plaintext, context), context),
      plaintext,
    );
  }
});

Deno.test("the blob names the key id and material version it was sealed under", async () => {
  const material = newMaterial();
  for (
    const [keyId, materialVersion] of [[KEY_ID, 1], [MRK_ID, 7], [OTHER_KEY_ID, 70000]] as const
  ) {
    const encoded = await encryptWithKeyMaterial({
      keyId,
      materialVersion,
      material,
      plaintext: new Uint8Array(5),
      context: canonicalEncryptionContext(undefined),
    });
    const blob = decodeCiphertextBlob(encoded);
    assert.equal(blob.keyId, keyId);
    assert.equal(blob.materialVersion, materialVersion);
    assert.deepEqual(
      await decryptWithKeyMaterial(blob, { material, context: canonicalEncryptionContext({}) }),
      new Uint8Array(5),
    );
  }
});

Deno.test("the construction is HKDF-SHA256 then AES-256-GCM with AAD = header || context (checked with WebCrypto)", async () => {
  const material = newMaterial();
  const plaintext = new TextEncoder().encode("checked independently");
  const context = ctx([["tenant", "a"], ["app", "b"]]);
  const blob = decodeCiphertextBlob(await seal(material, plaintext, context));
  const ikm = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(material.expose()),
    "HKDF",
    false,
    ["deriveKey"],
  );
  const key = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(blob.nonce),
      info: new TextEncoder().encode(`edge-kms/v1/symmetric-encrypt${KEY_ID}`),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
  const canonical = canonicalEncryptionContext(context);
  const header = headerBytes(blob);
  const aad = new Uint8Array(header.length + canonical.length);
  aad.set(header);
  aad.set(canonical, header.length);
  const out = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: new Uint8Array(blob.iv), additionalData: aad },
    key,
    new Uint8Array(blob.ciphertext),
  );
  assert.deepEqual(new Uint8Array(out), plaintext);
});

Deno.test("two encryptions of the same plaintext differ in nonce, IV and ciphertext", async () => {
  const material = newMaterial();
  const plaintext = new Uint8Array(32).fill(1);
  const a = decodeCiphertextBlob(await seal(material, plaintext));
  const b = decodeCiphertextBlob(await seal(material, plaintext));
  assert.notDeepEqual(a.nonce, b.nonce);
  assert.notDeepEqual(a.iv, b.iv);
  assert.notDeepEqual(a.ciphertext, b.ciphertext);
});

Deno.test("the blob for a 4096-byte plaintext is 4186 bytes, under AWS's 6144-byte limit", async () => {
  const encoded = await seal(newMaterial(), new Uint8Array(4096));
  assert.equal(encoded.length, 4096 + 90);
  assert.ok(encoded.length < 6144);
});

Deno.test("decrypt rejects a changed, missing or added encryption context", async () => {
  const material = newMaterial();
  const context = ctx([["purpose", "test"], ["tenant", "a"]]);
  const blob = await seal(material, new Uint8Array(16), context);
  // The same pairs in another order are the same context.
  assert.deepEqual(
    await open(material, blob, ctx([["tenant", "a"], ["purpose", "test"]])),
    new Uint8Array(16),
  );
  await assertInvalid(() => open(material, blob, ctx([["purpose", "test"], ["tenant", "b"]])));
  await assertInvalid(() => open(material, blob, ctx([["purpose", "test"]])));
  await assertInvalid(() => open(material, blob, undefined));
  await assertInvalid(() =>
    open(material, blob, ctx([["purpose", "test"], ["tenant", "a"], ["x", ""]]))
  );
  const noContext = await seal(material, new Uint8Array(16));
  assert.deepEqual(await open(material, noContext, ctx([])), new Uint8Array(16));
  await assertInvalid(() => open(material, noContext, ctx([["", ""]])));
});

Deno.test('decrypt rejects {"a":"bc"} for a blob sealed with {"ab":"c"}', async () => {
  const material = newMaterial();
  const blob = await seal(material, new Uint8Array(16), ctx([["ab", "c"]]));
  assert.deepEqual(await open(material, blob, ctx([["ab", "c"]])), new Uint8Array(16));
  await assertInvalid(() => open(material, blob, ctx([["a", "bc"]])));
});

Deno.test("decrypt rejects the NFD form of a context sealed in NFC", async () => {
  const material = newMaterial();
  const blob = await seal(material, new Uint8Array(16), ctx([["name", "caf\u00e9"]]));
  assert.deepEqual(await open(material, blob, ctx([["name", "caf\u00e9"]])), new Uint8Array(16));
  await assertInvalid(() => open(material, blob, ctx([["name", "cafe\u0301"]])));
});

Deno.test("__proto__ and constructor context keys round-trip and are bound", async () => {
  const material = newMaterial();
  const context = ctx([["__proto__", "p"], ["constructor", "c"]]);
  const blob = await seal(material, new Uint8Array(16), context);
  assert.deepEqual(
    await open(material, blob, JSON.parse('{"constructor":"c","__proto__":"p"}')),
    new Uint8Array(16),
  );
  await assertInvalid(() => open(material, blob, ctx([["__proto__", "q"], ["constructor", "c"]])));
  await assertInvalid(() => open(material, blob, ctx([["constructor", "c"]])));
});

Deno.test("decrypt rejects every single-bit flip of a blob", async () => {
  const material = newMaterial();
  const context = ctx([["k", "v"]]);
  const blob = await seal(material, randomBytes(16), context);
  let flips = 0;
  for (let i = 0; i < blob.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = blob.slice();
      flipped[i]! ^= 1 << bit;
      await assertInvalid(() => open(material, flipped, context), `byte ${i} bit ${bit}`);
      flips++;
    }
  }
  assert.equal(flips, blob.length * 8);
});

Deno.test("decrypt rejects every truncation of a blob and an appended byte", async () => {
  const material = newMaterial();
  const blob = await seal(material, randomBytes(16));
  for (let n = 0; n < blob.length; n++) {
    await assertInvalid(() => open(material, blob.subarray(0, n)), `length ${n}`);
  }
  for (const extra of [0x00, 0x01, 0x40, 0xff]) {
    const longer = new Uint8Array(blob.length + 1);
    longer.set(blob);
    longer[blob.length] = extra;
    await assertInvalid(() => open(material, longer));
  }
});

Deno.test("decrypt rejects another key's material", async () => {
  const blob = await seal(newMaterial(), randomBytes(16));
  await assertInvalid(() => open(newMaterial(), blob));
});

Deno.test("decrypt rejects a blob whose header names another key id or material version", async () => {
  const material = newMaterial();
  const blob = decodeCiphertextBlob(await seal(material, randomBytes(16)));
  for (const changed of [{ ...blob, keyId: OTHER_KEY_ID }, { ...blob, materialVersion: 2 }]) {
    await assertInvalid(() => open(material, encodeCiphertextBlob(changed)));
  }
});

Deno.test("decrypt rejects a ciphertext moved under another blob's nonce and IV", async () => {
  const material = newMaterial();
  const a = decodeCiphertextBlob(await seal(material, randomBytes(16)));
  const b = decodeCiphertextBlob(await seal(material, randomBytes(16)));
  await assertInvalid(() =>
    open(material, encodeCiphertextBlob({ ...a, ciphertext: b.ciphertext }))
  );
  await assertInvalid(() => open(material, encodeCiphertextBlob({ ...a, nonce: b.nonce })));
  await assertInvalid(() => open(material, encodeCiphertextBlob({ ...a, iv: b.iv })));
});

Deno.test("the error for a bad ciphertext carries no bytes of it", async () => {
  const material = newMaterial();
  const blob = await seal(material, randomBytes(16));
  blob[blob.length - 1]! ^= 1;
  try {
    await open(material, blob);
    assert.fail("decrypt accepted a modified blob");
  } catch (e) {
    assert.ok(e instanceof InvalidCiphertextException);
    assert.equal(e.message, "The ciphertext is invalid.");
  }
});

Deno.test("key material other than 32 (AES) or 16 (SM4) bytes is refused with TypeError", async () => {
  await assert.rejects(seal(new SecretBytes(randomBytes(24)), new Uint8Array(1)), TypeError);
  const blob = decodeCiphertextBlob(await seal(newMaterial(), new Uint8Array(1)));
  await assert.rejects(
    decryptWithKeyMaterial(blob, {
      material: new SecretBytes(randomBytes(31)),
      context: canonicalEncryptionContext(undefined),
    }),
    TypeError,
  );
});

Deno.test("randomBytes returns n fresh bytes, including more than 65536", () => {
  assert.equal(randomBytes(0).length, 0);
  const big = randomBytes(200_000);
  assert.equal(big.length, 200_000);
  // The last chunk is filled too: 4464 zero bytes in a row would be astronomically unlikely.
  assert.ok(big.subarray(196_608).some((b) => b !== 0));
  assert.notDeepEqual(randomBytes(32), randomBytes(32));
  assert.throws(() => randomBytes(-1), RangeError);
  assert.throws(() => randomBytes(1.5), RangeError);
});

Deno.test("one material object under two key ids derives each key id's own key", async () => {
  const material = newMaterial();
  const plaintext = new TextEncoder().encode("two key ids, one material");
  const underKey = await seal(material, plaintext, undefined, KEY_ID);
  const underMrk = await seal(material, plaintext, undefined, MRK_ID);
  assert.deepEqual(await open(material, underKey), plaintext);
  assert.deepEqual(await open(material, underMrk), plaintext);
  // The same bytes in a new object (as after a cache refill) derive the same keys.
  const copy = new SecretBytes(material.expose().slice());
  assert.deepEqual(await open(copy, underKey), plaintext);
});

Deno.test("a wiped material no longer decrypts what it encrypted: nothing derived from it is kept", async () => {
  const material = newMaterial();
  const blob = await seal(material, new Uint8Array(32).fill(7));
  material.wipe();
  await assert.rejects(() => open(material, blob), InvalidCiphertextException);
});
