/**
 * What every data-plane operation shares: the DryRun answer, the check that a
 * key can do symmetric encryption, and sealing a plaintext under a key's
 * current material.
 *
 * @module
 */
import { encryptWithKeyMaterial } from "../crypto/symmetric.ts";
import { canonicalEncryptionContext, type EncryptionContext } from "../encryption_context.ts";
import { DryRunOperationException, InvalidKeyUsageException } from "../errors.ts";
import { assertKeyStateAllows, type KeyOperation } from "../key_state.ts";
import type { KeyMaterials, LoadedKey } from "../operation_ports.ts";
import type { KeyMaterial } from "../types.ts";

/** What this family of operations uses of the KMS. */
export type DataPlanePorts = Pick<KeyMaterials, "requiredMaterial">;

const DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set.";

/** Ends a dry run that would have succeeded. @throws {DryRunOperationException} always. */
export function dryRunSucceeded(): never {
  throw new DryRunOperationException(DRY_RUN_MESSAGE);
}

/**
 * Checks a key can do symmetric encryption with `algorithm` for `operation` in its current state.
 * @throws {DisabledException} @throws {KMSInvalidStateException} @throws {InvalidKeyUsageException}
 */
export function assertSymmetricUse(
  key: LoadedKey,
  operation: KeyOperation,
  algorithm: string | undefined,
): void {
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  if (key.record.keyUsage !== "ENCRYPT_DECRYPT" || key.record.keySpec !== "SYMMETRIC_DEFAULT") {
    throw new InvalidKeyUsageException(
      `${key.arn} key usage is ${key.record.keyUsage} which is not valid for ${operation}.`,
    );
  }
  if (algorithm !== undefined && algorithm !== "SYMMETRIC_DEFAULT") {
    throw new InvalidKeyUsageException(
      `The encryption algorithm ${algorithm} is not valid for ${key.arn}.`,
    );
  }
}

async function currentMaterial(kms: DataPlanePorts, key: LoadedKey): Promise<KeyMaterial> {
  return await kms.requiredMaterial(key.record.keyId, key.record.currentMaterialVersion);
}

/** Encrypts `plaintext` under the key's current material with `context` as AAD. */
export async function sealUnder(
  kms: DataPlanePorts,
  key: LoadedKey,
  plaintext: Uint8Array,
  context: EncryptionContext | undefined,
): Promise<{ blob: Uint8Array; material: KeyMaterial }> {
  const material = await currentMaterial(kms, key);
  const blob = await encryptWithKeyMaterial({
    keyId: key.record.keyId,
    materialVersion: material.version,
    material: material.material,
    plaintext,
    context: canonicalEncryptionContext(context),
  });
  return { blob, material };
}

/** Fields every data-plane request may carry. */
export interface CommonInput {
  GrantTokens?: string[] | undefined;
  DryRun?: boolean | undefined;
}
