/**
 * Rotation of imported key material (core/operations/import.ts, rotation.ts) in process
 * (tests/helpers/in_process.ts): new material imported with ImportType NEW_KEY_MATERIAL waits in
 * PENDING_ROTATION, RotateKeyOnDemand makes it current, old ciphertexts decrypt under the
 * material they were made with, and DeleteImportedKeyMaterial and re-imports keep each material
 * at its own version. The SDK test is tests/imported_rotation_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { constants, publicEncrypt } from "node:crypto";
import { rejectionOf, type Result, withInProcessKms } from "../../tests/helpers/in_process.ts";

type Call = (operation: string, input?: Record<string, unknown>) => Promise<Result>;

/** Wraps `material` for `keyId` with fresh import parameters and imports it. */
async function importMaterial(
  call: Call,
  keyId: string,
  material: Uint8Array,
  extra: Record<string, unknown> = {},
): Promise<Result> {
  const parameters = await call("GetParametersForImport", {
    KeyId: keyId,
    WrappingAlgorithm: "RSAES_OAEP_SHA_256",
    WrappingKeySpec: "RSA_2048",
  });
  const wrapped = publicEncrypt({
    key: Buffer.from(parameters.PublicKey),
    format: "der",
    type: "spki",
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: "sha256",
  }, material);
  return await call("ImportKeyMaterial", {
    KeyId: keyId,
    ImportToken: parameters.ImportToken.toBase64(),
    EncryptedKeyMaterial: new Uint8Array(wrapped).toBase64(),
    ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
    ...extra,
  });
}

const material = () => crypto.getRandomValues(new Uint8Array(32));
const DAY = 24 * 60 * 60 * 1000;

async function encrypt(call: Call, keyId: string, text: string): Promise<string> {
  const result = await call("Encrypt", {
    KeyId: keyId,
    Plaintext: new TextEncoder().encode(text).toBase64(),
  });
  return result.CiphertextBlob.toBase64();
}

async function decrypt(call: Call, blob: string): Promise<{ text: string; materialId: string }> {
  const result = await call("Decrypt", { CiphertextBlob: blob });
  return {
    text: new TextDecoder().decode(result.Plaintext.expose()),
    materialId: result.KeyMaterialId,
  };
}

/** An EXTERNAL symmetric key with material A imported; resolves its id and A's id. */
async function importedKey(call: Call): Promise<{ keyId: string; first: string }> {
  const keyId = (await call("CreateKey", { Origin: "EXTERNAL" })).KeyMetadata.KeyId;
  const first = (await importMaterial(call, keyId, material(), {
    KeyMaterialDescription: "material A",
  })).KeyMaterialId;
  return { keyId, first };
}

async function rotations(call: Call, keyId: string, include?: string) {
  const listed = await call("ListKeyRotations", {
    KeyId: keyId,
    ...(include ? { IncludeKeyMaterial: include } : {}),
  });
  // deno-lint-ignore no-explicit-any
  return listed.Rotations.map((entry: any) => ({
    id: entry.KeyMaterialId,
    state: entry.KeyMaterialState,
    description: entry.KeyMaterialDescription,
    importState: entry.ImportState,
    type: entry.RotationType,
  }));
}

Deno.test("NEW_KEY_MATERIAL waits in PENDING_ROTATION; RotateKeyOnDemand makes it current and old ciphertexts still decrypt under their material", () =>
  withInProcessKms(async ({ call }) => {
    const { keyId, first } = await importedKey(call);
    const before = await encrypt(call, keyId, "under A");
    const second = (await importMaterial(call, keyId, material(), {
      ImportType: "NEW_KEY_MATERIAL",
      KeyMaterialDescription: "material B",
    })).KeyMaterialId;
    assert.notEqual(second, first);
    assert.equal(
      (await call("DescribeKey", { KeyId: keyId })).KeyMetadata.CurrentKeyMaterialId,
      first,
    );
    assert.equal((await decrypt(call, await encrypt(call, keyId, "still A"))).materialId, first);
    assert.deepEqual(await rotations(call, keyId, "ALL_KEY_MATERIAL"), [
      {
        id: first,
        state: "CURRENT",
        description: "material A",
        importState: "IMPORTED",
        type: undefined,
      },
      {
        id: second,
        state: "PENDING_ROTATION",
        description: "material B",
        importState: "IMPORTED",
        type: undefined,
      },
    ]);
    assert.deepEqual(await rotations(call, keyId), [], "ROTATIONS_ONLY: no rotation yet");

    await call("RotateKeyOnDemand", { KeyId: keyId });
    assert.deepEqual(await rotations(call, keyId, "ALL_KEY_MATERIAL"), [
      {
        id: first,
        state: "NON_CURRENT",
        description: "material A",
        importState: "IMPORTED",
        type: undefined,
      },
      {
        id: second,
        state: "CURRENT",
        description: "material B",
        importState: "IMPORTED",
        type: "ON_DEMAND",
      },
    ]);
    assert.equal(
      (await call("DescribeKey", { KeyId: keyId })).KeyMetadata.CurrentKeyMaterialId,
      second,
    );
    const after = await encrypt(call, keyId, "under B");
    assert.deepEqual(await decrypt(call, before), { text: "under A", materialId: first });
    assert.deepEqual(await decrypt(call, after), { text: "under B", materialId: second });
  }));

Deno.test("RotateKeyOnDemand without pending material, and new material while some waits, are KMSInvalidStateException; deleting the pending material by its id leaves the key as it was", () =>
  withInProcessKms(async ({ call }) => {
    const { keyId, first } = await importedKey(call);
    assert.equal(
      await rejectionOf(call("RotateKeyOnDemand", { KeyId: keyId })),
      "KMSInvalidStateException",
    );
    const pending = (await importMaterial(call, keyId, material(), {
      ImportType: "NEW_KEY_MATERIAL",
    })).KeyMaterialId;
    assert.equal(
      await rejectionOf(
        importMaterial(call, keyId, material(), { ImportType: "NEW_KEY_MATERIAL" }),
      ),
      "KMSInvalidStateException",
    );
    const deleted = await call("DeleteImportedKeyMaterial", {
      KeyId: keyId,
      KeyMaterialId: pending,
    });
    assert.equal(deleted.KeyMaterialId, pending);
    const { KeyMetadata } = await call("DescribeKey", { KeyId: keyId });
    assert.equal(KeyMetadata.KeyState, "Enabled");
    assert.equal(KeyMetadata.CurrentKeyMaterialId, first);
    assert.deepEqual(
      (await rotations(call, keyId, "ALL_KEY_MATERIAL")).map((entry: { id: string }) => entry.id),
      [first],
    );
    assert.equal(
      await rejectionOf(call("RotateKeyOnDemand", { KeyId: keyId })),
      "KMSInvalidStateException",
    );
  }));

Deno.test("after DeleteImportedKeyMaterial a rotated key lists its materials PENDING_IMPORT and takes each back at its own version", () =>
  withInProcessKms(async ({ call }) => {
    const a = material();
    const b = material();
    const keyId = (await call("CreateKey", { Origin: "EXTERNAL" })).KeyMetadata.KeyId;
    const first = (await importMaterial(call, keyId, a)).KeyMaterialId;
    const underA = await encrypt(call, keyId, "under A");
    const second = (await importMaterial(call, keyId, b, { ImportType: "NEW_KEY_MATERIAL" }))
      .KeyMaterialId;
    await call("RotateKeyOnDemand", { KeyId: keyId });
    const underB = await encrypt(call, keyId, "under B");

    await call("DeleteImportedKeyMaterial", { KeyId: keyId });
    assert.equal(
      (await call("DescribeKey", { KeyId: keyId })).KeyMetadata.KeyState,
      "PendingImport",
    );
    const importStates = async () =>
      (await rotations(call, keyId, "ALL_KEY_MATERIAL")).map((
        entry: { id: string; state: string; importState: string },
      ) => [entry.id, entry.state, entry.importState]);
    assert.deepEqual(await importStates(), [
      [first, "NON_CURRENT", "PENDING_IMPORT"],
      [second, "CURRENT", "PENDING_IMPORT"],
    ]);
    // The current material first: the key is usable again, its old ciphertexts wait for A.
    await importMaterial(call, keyId, b, { ImportType: "EXISTING_KEY_MATERIAL" });
    const { KeyMetadata } = await call("DescribeKey", { KeyId: keyId });
    assert.equal(KeyMetadata.KeyState, "Enabled");
    assert.equal(KeyMetadata.CurrentKeyMaterialId, second);
    assert.deepEqual(await decrypt(call, underB), { text: "under B", materialId: second });
    assert.equal(await rejectionOf(decrypt(call, underA)), "InvalidCiphertextException");
    assert.deepEqual(await importStates(), [
      [first, "NON_CURRENT", "PENDING_IMPORT"],
      [second, "CURRENT", "IMPORTED"],
    ]);
    await importMaterial(call, keyId, a, { KeyMaterialId: first });
    assert.deepEqual(await decrypt(call, underA), { text: "under A", materialId: first });
    assert.deepEqual(await importStates(), [
      [first, "NON_CURRENT", "IMPORTED"],
      [second, "CURRENT", "IMPORTED"],
    ]);
    assert.equal(
      (await call("DescribeKey", { KeyId: keyId })).KeyMetadata.CurrentKeyMaterialId,
      second,
    );
  }));

Deno.test("pending material past its ValidTo is gone: not listed, not rotated to, and new material may take its place", () =>
  withInProcessKms(async ({ call, clock }) => {
    const { keyId, first } = await importedKey(call);
    await importMaterial(call, keyId, material(), {
      ImportType: "NEW_KEY_MATERIAL",
      ExpirationModel: "KEY_MATERIAL_EXPIRES",
      ValidTo: (clock.now() + DAY) / 1000,
    });
    clock.advance(DAY + 1000);
    assert.deepEqual(
      (await rotations(call, keyId, "ALL_KEY_MATERIAL")).map((entry: { id: string }) => entry.id),
      [first],
    );
    assert.equal(
      await rejectionOf(call("RotateKeyOnDemand", { KeyId: keyId })),
      "KMSInvalidStateException",
    );
    const next = (await importMaterial(call, keyId, material(), {
      ImportType: "NEW_KEY_MATERIAL",
    })).KeyMaterialId;
    await call("RotateKeyOnDemand", { KeyId: keyId });
    assert.equal(
      (await call("DescribeKey", { KeyId: keyId })).KeyMetadata.CurrentKeyMaterialId,
      next,
    );
  }));
