/**
 * Blobs written by the cbor-x encoder before the header was encoded by hand
 * (core/testdata/ciphertext_blobs_v1.json, generated with `encryptWithKeyMaterial` at the commit
 * its description names): every one still decodes, re-encodes to the same bytes and decrypts to
 * its plaintext.
 *
 * @module
 */
import assert from "node:assert/strict";
import { decodeCiphertextBlob, encodeCiphertextBlob, headerBytes } from "./ciphertext_blob.ts";
import { decryptWithKeyMaterial } from "./crypto/symmetric.ts";
import { canonicalEncryptionContext } from "./encryption_context.ts";
import { SecretBytes } from "./secret.ts";

interface Fixture {
  keyId: string;
  materialVersion: number;
  material: string;
  encryptionContext: Record<string, string> | null;
  plaintext: string;
  blob: string;
}

const FIXTURES = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/ciphertext_blobs_v1.json", import.meta.url)),
) as { cases: Fixture[] };

Deno.test("every blob of the old encoder decodes to its fields and re-encodes byte for byte", () => {
  assert.ok(FIXTURES.cases.length >= 20);
  for (const fixture of FIXTURES.cases) {
    const bytes = Uint8Array.fromBase64(fixture.blob);
    const blob = decodeCiphertextBlob(bytes);
    assert.equal(blob.keyId, fixture.keyId);
    assert.equal(blob.materialVersion, fixture.materialVersion);
    assert.deepEqual(encodeCiphertextBlob(blob), bytes);
    const header = headerBytes(blob);
    assert.deepEqual(header.subarray(1), bytes.subarray(1, header.length));
  }
});

Deno.test("every blob of the old encoder decrypts to its plaintext under its material and context", async () => {
  for (const fixture of FIXTURES.cases) {
    const blob = decodeCiphertextBlob(Uint8Array.fromBase64(fixture.blob));
    const plaintext = await decryptWithKeyMaterial(blob, {
      material: new SecretBytes(Uint8Array.fromHex(fixture.material)),
      context: canonicalEncryptionContext(fixture.encryptionContext ?? undefined),
    });
    assert.equal(
      plaintext.toHex(),
      fixture.plaintext,
      `${fixture.keyId} v${fixture.materialVersion}`,
    );
  }
});
