/**
 * Rotation of imported key material end to end through the real @aws-sdk/client-kms
 * (tests/helpers/server.ts): ImportKeyMaterial with ImportType NEW_KEY_MATERIAL, ListKeyRotations
 * with IncludeKeyMaterial, RotateKeyOnDemand, and Decrypt of a ciphertext made before the
 * rotation. The in-process cases are core/operations/import_rotation_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { constants, publicEncrypt } from "node:crypto";
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  type ImportKeyMaterialCommandInput,
  type KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
} from "@aws-sdk/client-kms";
import { withServer } from "./helpers/server.ts";

async function importMaterial(
  client: KMSClient,
  KeyId: string,
  extra: Partial<ImportKeyMaterialCommandInput>,
): Promise<string> {
  const parameters = await client.send(
    new GetParametersForImportCommand({
      KeyId,
      WrappingAlgorithm: "RSAES_OAEP_SHA_256",
      WrappingKeySpec: "RSA_2048",
    }),
  );
  const EncryptedKeyMaterial = publicEncrypt({
    key: Buffer.from(parameters.PublicKey!),
    format: "der",
    type: "spki",
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: "sha256",
  }, crypto.getRandomValues(new Uint8Array(32)));
  const imported = await client.send(
    new ImportKeyMaterialCommand({
      KeyId,
      ImportToken: parameters.ImportToken,
      EncryptedKeyMaterial,
      ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
      ...extra,
    }),
  );
  return imported.KeyMaterialId!;
}

Deno.test("an imported key rotates on demand to new imported material; a ciphertext from before decrypts under the old material", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!
      .KeyId!;
    const first = await importMaterial(client, KeyId, {});
    const plaintext = new TextEncoder().encode("before the rotation");
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId, Plaintext: plaintext }),
    );
    const second = await importMaterial(client, KeyId, {
      ImportType: "NEW_KEY_MATERIAL",
      KeyMaterialDescription: "2026 material",
    });
    const pending = await client.send(
      new ListKeyRotationsCommand({ KeyId, IncludeKeyMaterial: "ALL_KEY_MATERIAL" }),
    );
    assert.deepEqual(
      pending.Rotations!.map((entry) => [entry.KeyMaterialId, entry.KeyMaterialState]),
      [[first, "CURRENT"], [second, "PENDING_ROTATION"]],
    );
    assert.equal(pending.Rotations![1]!.KeyMaterialDescription, "2026 material");

    await client.send(new RotateKeyOnDemandCommand({ KeyId }));
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId }));
    assert.equal(KeyMetadata!.CurrentKeyMaterialId, second);
    const rotated = await client.send(new ListKeyRotationsCommand({ KeyId }));
    assert.deepEqual(
      rotated.Rotations!.map((entry) => [entry.KeyMaterialId, entry.RotationType]),
      [[second, "ON_DEMAND"]],
    );
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(decrypted.Plaintext, plaintext);
    assert.equal(decrypted.KeyMaterialId, first);
  }));
