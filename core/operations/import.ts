/**
 * Imported key material (BYOK) for keys of Origin EXTERNAL:
 * GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial, and
 * the expiry of imported material, which the server enforces itself (lazily
 * when a key is loaded, core/kms.ts `findKey`, and by a periodic sweep,
 * main.ts).
 *
 * A key's material is fixed by its imports: a re-import must carry material
 * imported before (compared through its KeyMaterialId, core/imported_material.ts,
 * which outlives the material itself) and puts it back at its own version.
 * New material for a symmetric key that has some (ImportType NEW_KEY_MATERIAL)
 * waits in state PENDING_ROTATION until RotateKeyOnDemand makes it the key's
 * current material (core/operations/rotation.ts); older materials stay, so old
 * ciphertexts decrypt under the material they were made with. At most one
 * material waits at a time; DeleteImportedKeyMaterial with its KeyMaterialId
 * deletes it. Multi-Region keys take no new material (UnsupportedOperationException).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GetParametersForImport.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html
 * @module
 */
import type { RequestConditions } from "../access/request_context.ts";
import { familyImportHistory } from "./multi_region.ts";
import {
  ExpiredImportTokenException,
  IncorrectKeyMaterialException,
  InvalidImportTokenException,
  KMSInvalidStateException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import {
  IMPORT_PARAMETERS_VALIDITY_MS,
  importableMaterial,
  importedKeyMaterialId,
  importTokenHash,
  MAX_VALID_TO_MS,
  newImportToken,
  parseImportToken,
  sameHash,
  unwrapKeyMaterial,
  type WrappingAlgorithm,
  type WrappingKeySpec,
} from "../imported_material.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import { unavailableWrapping } from "../region_profile.ts";
import { isMultiRegionKeyId } from "../regional_store.ts";
import type { KeyMaterials, KeyPairSource, LoadedKey } from "../operation_ports.ts";
import type { MultiRegionPorts } from "./multi_region.ts";
import type { ImportParameters, ImportStore, KeyStore, PendingKeyMaterial } from "../ports.ts";
import type { Caller, ExpirationModel, KeyMaterial, KeyRecord, KeyState } from "../types.ts";

/** What import operations use of the KMS. */
export type ImportPorts = MultiRegionPorts & KeyMaterials & {
  readonly keyPairs: KeyPairSource;
  readonly store: ImportStore & Pick<KeyStore, "getKey">;
  /** Wipes and forgets a key's cached material. */
  forgetKeyMaterial(keyId: string): void;
};

/** GetParametersForImport's input after schema validation. */
export interface GetParametersForImportInput {
  KeyId: string;
  WrappingAlgorithm: WrappingAlgorithm;
  WrappingKeySpec: WrappingKeySpec;
}

/** GetParametersForImport's answer. */
export interface GetParametersForImportResult {
  KeyId: string;
  ImportToken: Uint8Array;
  PublicKey: Uint8Array;
  ParametersValidTo: Date;
}

/** ImportKeyMaterial's input after schema validation. */
export interface ImportKeyMaterialInput {
  KeyId: string;
  ImportToken: Uint8Array;
  EncryptedKeyMaterial: Uint8Array;
  ValidTo?: Date | undefined;
  ExpirationModel?: ExpirationModel | undefined;
  ImportType?: "NEW_KEY_MATERIAL" | "EXISTING_KEY_MATERIAL" | undefined;
  KeyMaterialDescription?: string | undefined;
  KeyMaterialId?: string | undefined;
}

/** DeleteImportedKeyMaterial's input after schema validation. */
export interface DeleteImportedKeyMaterialInput {
  KeyId: string;
  KeyMaterialId?: string | undefined;
}

/**
 * The key of an import request: found, authorised, of Origin EXTERNAL and in a state that
 * allows the operation.
 * @throws {NotFoundException} @throws {AccessDeniedException} @throws {KMSInvalidStateException}
 * @throws {UnsupportedOperationException} a key of another origin.
 */
async function importKey(
  kms: ImportPorts,
  caller: Caller,
  keyId: string,
  operation: "GetParametersForImport" | "ImportKeyMaterial" | "DeleteImportedKeyMaterial",
  conditions: RequestConditions = {},
): Promise<LoadedKey> {
  const key = await kms.resolveKey(caller, keyId, {
    allowAlias: false,
    action: `kms:${operation}`,
    conditions,
  });
  if (key.record.origin !== "EXTERNAL") {
    throw new UnsupportedOperationException(
      `${key.arn} origin is ${key.record.origin} which is not valid for this operation.`,
    );
  }
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  return key;
}

/**
 * GetParametersForImport: a fresh wrapping key pair (RSA_2048/3072/4096, or SM2 with SM2PKE in
 * China Regions) and an import token, both valid 24 hours. The private key is stored wrapped
 * under the root key; the token names it.
 * @throws {UnsupportedOperationException} RSAES_PKCS1_V1_5 (no longer supported), SM2 outside
 *   China Regions, RSA_AES_KEY_WRAP_* in China Regions, a key of another origin.
 * @throws {ValidationException} a wrapping key spec that does not suit the algorithm.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 */
export async function getParametersForImport(
  kms: ImportPorts,
  caller: Caller,
  input: GetParametersForImportInput,
): Promise<GetParametersForImportResult> {
  const key = await importKey(kms, caller, input.KeyId, "GetParametersForImport", {
    wrappingAlgorithm: input.WrappingAlgorithm,
    wrappingKeySpec: input.WrappingKeySpec,
  });
  checkWrapping(kms, input.WrappingAlgorithm, input.WrappingKeySpec);
  const pair = await kms.keyPairs.generate(input.WrappingKeySpec);
  const now = kms.clock.now();
  const validTo = now + IMPORT_PARAMETERS_VALIDITY_MS;
  const { token, tokenId } = newImportToken(validTo);
  const parameters: ImportParameters = {
    tokenId,
    keyId: key.record.keyId,
    wrappingAlgorithm: input.WrappingAlgorithm,
    wrappingKeySpec: input.WrappingKeySpec,
    tokenHash: await importTokenHash(token),
    privateKey: pair.privateKey,
    createdAt: now,
    validTo,
  };
  try {
    await kms.store.putImportParameters(parameters);
  } finally {
    pair.privateKey.wipe();
  }
  return {
    KeyId: key.arn,
    ImportToken: token,
    PublicKey: pair.publicKey,
    ParametersValidTo: new Date(validTo),
  };
}

function checkWrapping(
  kms: Pick<ImportPorts, "region" | "sm2AllRegions">,
  algorithm: WrappingAlgorithm,
  spec: WrappingKeySpec,
): void {
  if (algorithm === "RSAES_PKCS1_V1_5") {
    throw new UnsupportedOperationException(
      "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.",
    );
  }
  const unavailable = unavailableWrapping(kms.region, algorithm, spec, kms);
  if (unavailable !== undefined) throw new UnsupportedOperationException(unavailable);
  if ((algorithm === "SM2PKE") !== (spec === "SM2")) {
    throw new ValidationException(
      `The wrapping key spec ${spec} is not valid for the wrapping algorithm ${algorithm}.`,
    );
  }
}

/**
 * ImportKeyMaterial: unwraps the material with the parameters its token names, checks it
 * against the key spec and the key's earlier imports, and stores it with its expiration; the
 * key becomes Enabled (a Disabled key stays Disabled).
 * @throws {ValidationException} ExpirationModel and ValidTo that do not fit together, a ValidTo
 *   not in the future or more than 365 days ahead, or KeyMaterialId with NEW_KEY_MATERIAL.
 * @throws {InvalidImportTokenException} unknown token or token of another key.
 * @throws {ExpiredImportTokenException} token older than 24 hours.
 * @throws {InvalidCiphertextException} material that does not unwrap.
 * @throws {IncorrectKeyMaterialException} material the key spec does not accept, or not the
 *   material imported before (or the same material announced as new).
 * @throws {UnsupportedOperationException} key of another origin, or new material for a
 *   multi-Region key.
 * @throws {KMSInvalidStateException} new material while other new material waits, or for a key
 *   whose current material is not imported.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 */
export async function importKeyMaterial(
  kms: ImportPorts,
  caller: Caller,
  input: ImportKeyMaterialInput,
): Promise<{ KeyId: string; KeyMaterialId: string }> {
  const expirationModel = input.ExpirationModel ?? "KEY_MATERIAL_EXPIRES";
  const key = await importKey(kms, caller, input.KeyId, "ImportKeyMaterial", {
    expirationModel: input.ExpirationModel,
    validTo: input.ValidTo === undefined ? undefined : String(input.ValidTo.getTime() / 1000),
  });
  const now = kms.clock.now();
  const validTo = checkExpiration(expirationModel, input.ValidTo, now);
  const symmetric = key.record.keySpec === "SYMMETRIC_DEFAULT";
  if (!symmetric) {
    for (const field of ["KeyMaterialDescription", "KeyMaterialId"] as const) {
      if (input[field] !== undefined) {
        throw new ValidationException(`${field} is valid only for symmetric encryption keys.`);
      }
    }
  }
  if (input.ImportType === "NEW_KEY_MATERIAL" && input.KeyMaterialId !== undefined) {
    throw new ValidationException(
      "You cannot specify a KeyMaterialId with ImportType NEW_KEY_MATERIAL.",
    );
  }
  const parameters = await parametersOfToken(kms, key, input.ImportToken, now);
  let imported;
  try {
    const unwrapped = await unwrapKeyMaterial(
      parameters.wrappingAlgorithm,
      parameters.privateKey,
      input.EncryptedKeyMaterial,
    );
    imported = await importableMaterial(key.record.keySpec, unwrapped, key.record.region);
  } finally {
    parameters.privateKey.wipe();
  }
  const keyMaterialId = await importedKeyMaterialId(key.record.keyId, imported);
  let plan: ImportPlan;
  try {
    plan = await planImport(kms, key, keyMaterialId, input);
  } catch (error) {
    imported.material.wipe();
    throw error;
  }
  const result = { KeyId: key.arn, KeyMaterialId: keyMaterialId };
  if (plan.pending) {
    const pending: PendingKeyMaterial = {
      keyId: key.record.keyId,
      keyMaterialId,
      material: imported.material,
      expirationModel,
      validTo,
      importedAt: now,
    };
    try {
      await importPendingMaterial(kms, caller, key, pending, input.KeyMaterialDescription, result);
    } finally {
      imported.material.wipe();
    }
    return result;
  }
  // Imported at the current version, the key is usable again and takes the expiration; an older
  // version (re-imported after DeleteImportedKeyMaterial) leaves the key as it is.
  const current = plan.version === key.record.currentMaterialVersion;
  const record: KeyRecord = current
    ? { ...key.record, state: stateAfterImport(key.record.state), expirationModel, validTo }
    : key.record;
  const material: KeyMaterial = {
    keyId: record.keyId,
    version: plan.version,
    keyMaterialId,
    material: imported.material,
    createdAt: now,
  };
  caller.audit?.succeeded(result);
  await kms.commit(caller, (audit) =>
    kms.store.importKeyMaterial(record, material, {
      keyMaterialId,
      description: input.KeyMaterialDescription ?? null,
      importedAt: now,
      version: plan.version,
    }, audit));
  kms.forgetKeyMaterial(record.keyId);
  imported.material.wipe();
  kms.rememberKey(record);
  return result;
}

/**
 * Stores new material for an on-demand rotation (PENDING_ROTATION); the key is unchanged.
 * @throws {KMSInvalidStateException} the key has material waiting already.
 */
async function importPendingMaterial(
  kms: ImportPorts,
  caller: Caller,
  key: LoadedKey,
  pending: PendingKeyMaterial,
  description: string | undefined,
  result: { KeyId: string; KeyMaterialId: string },
): Promise<void> {
  const waiting = await kms.store.getPendingKeyMaterial(key.record.keyId);
  waiting?.material.wipe();
  if (waiting !== null && !pendingExpired(waiting, pending.importedAt)) throw pendingExists(key);
  caller.audit?.succeeded(result);
  await kms.commit(caller, async (audit) => {
    // Pending material past its ValidTo is gone, as AWS deletes expired material.
    if (waiting !== null) await kms.store.deletePendingKeyMaterial(key.record.keyId);
    const stored = await kms.store.putPendingKeyMaterial(
      key.record,
      pending,
      description ?? null,
      audit,
    );
    // Thrown inside the commit: the audit record did not commit with it, so it is still to write.
    if (!stored) throw pendingExists(key);
  });
}

/** Whether material waiting for an on-demand rotation is past its ValidTo at `now`. */
export function pendingExpired(pending: Pick<PendingKeyMaterial, "validTo">, now: number): boolean {
  return pending.validTo !== null && pending.validTo <= now;
}

function pendingExists(key: LoadedKey): KMSInvalidStateException {
  return new KMSInvalidStateException(
    `${key.arn} already has key material in PENDING_ROTATION state. Rotate the key on demand ` +
      "(RotateKeyOnDemand) or delete that key material before you import new key material.",
  );
}

/**
 * ValidTo as epoch ms (null when the material does not expire).
 * @throws {ValidationException}
 */
function checkExpiration(
  model: ExpirationModel,
  validTo: Date | undefined,
  now: number,
): number | null {
  if (model === "KEY_MATERIAL_DOES_NOT_EXPIRE") {
    if (validTo !== undefined) {
      throw new ValidationException(
        "ValidTo is not valid when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.",
      );
    }
    return null;
  }
  if (validTo === undefined) {
    throw new ValidationException(
      "ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.",
    );
  }
  const ms = validTo.getTime();
  if (!Number.isFinite(ms) || ms <= now) {
    throw new ValidationException("ValidTo must be a date and time in the future.");
  }
  if (ms > now + MAX_VALID_TO_MS) {
    throw new ValidationException("ValidTo must be at most 365 days after the request.");
  }
  return ms;
}

/**
 * The stored parameters an import token names, for this key and still valid.
 * @throws {InvalidImportTokenException} @throws {ExpiredImportTokenException}
 */
async function parametersOfToken(
  kms: ImportPorts,
  key: LoadedKey,
  token: Uint8Array,
  now: number,
): Promise<ImportParameters> {
  const parsed = parseImportToken(token);
  if (parsed === null) throw invalidToken();
  const parameters = await kms.store.getImportParameters(parsed.tokenId);
  if (parameters === null) {
    if (parsed.validTo < now) throw expiredToken();
    throw invalidToken();
  }
  const valid = sameHash(await importTokenHash(token), parameters.tokenHash) &&
    parameters.keyId === key.record.keyId;
  if (!valid) {
    parameters.privateKey.wipe();
    throw invalidToken();
  }
  if (parameters.validTo < now) {
    parameters.privateKey.wipe();
    throw expiredToken();
  }
  return parameters;
}

function invalidToken(): InvalidImportTokenException {
  return new InvalidImportTokenException(
    "The import token is invalid or is associated with a different KMS key.",
  );
}

function expiredToken(): ExpiredImportTokenException {
  return new ExpiredImportTokenException(
    "The import token is expired. Use GetParametersForImport to get a new import token and public key.",
  );
}

/** Where imported material goes: a version of the key, or pending an on-demand rotation. */
type ImportPlan = { pending: false; version: number } | { pending: true };

/**
 * Checks the material against what was imported into the key before and the request's
 * ImportType and KeyMaterialId, and says where it goes: new material of a symmetric key that
 * has some waits for an on-demand rotation; material imported before goes back to its version.
 * @throws {IncorrectKeyMaterialException} @throws {UnsupportedOperationException}
 * @throws {KMSInvalidStateException} new material for a key whose current material is not
 *   imported.
 */
async function planImport(
  kms: ImportPorts,
  key: LoadedKey,
  keyMaterialId: string,
  input: ImportKeyMaterialInput,
): Promise<ImportPlan> {
  // A multi-Region replica takes only the material imported into its family's primary key.
  const { history, replica } = await familyImportHistory(kms, key.record);
  const entry = history.find((item) => item.keyMaterialId === keyMaterialId);
  const known = entry !== undefined;
  if (history.length === 0 && replica) {
    throw new UnsupportedOperationException(
      `${key.arn} is a multi-Region replica key: import the key material into its primary key first, then the same material here.`,
    );
  }
  if (history.length === 0) {
    if (input.ImportType === "EXISTING_KEY_MATERIAL") {
      throw new IncorrectKeyMaterialException(
        `No key material was imported into ${key.arn} before; use ImportType NEW_KEY_MATERIAL.`,
      );
    }
  } else if (!known) {
    if (input.ImportType === "NEW_KEY_MATERIAL" && key.record.keySpec === "SYMMETRIC_DEFAULT") {
      return newMaterialForRotation(key);
    }
    throw new IncorrectKeyMaterialException(
      `The key material is not the key material that was previously imported into ${key.arn}.`,
    );
  } else if (input.ImportType === "NEW_KEY_MATERIAL") {
    throw new IncorrectKeyMaterialException(
      `The key material is already associated with ${key.arn}; use ImportType EXISTING_KEY_MATERIAL.`,
    );
  }
  if (input.KeyMaterialId !== undefined && input.KeyMaterialId !== keyMaterialId) {
    throw new IncorrectKeyMaterialException(
      `The key material does not have the KeyMaterialId ${input.KeyMaterialId}.`,
    );
  }
  if (known && await isPendingMaterial(kms, key.record.keyId, keyMaterialId)) {
    throw new IncorrectKeyMaterialException(
      `The key material is in PENDING_ROTATION state for ${key.arn}; rotate the key on demand to use it.`,
    );
  }
  return { pending: false, version: entry?.version ?? key.record.currentMaterialVersion };
}

/**
 * New material for an on-demand rotation of a single-Region key whose current material is
 * imported. @throws {UnsupportedOperationException} @throws {KMSInvalidStateException}
 */
function newMaterialForRotation(key: LoadedKey): ImportPlan {
  if (isMultiRegionKeyId(key.record.keyId)) {
    throw new UnsupportedOperationException(
      "Importing new key material into a multi-Region key for on-demand rotation is not supported by this KMS.",
    );
  }
  if (key.record.state === "PendingImport") {
    throw new KMSInvalidStateException(
      `${key.arn} is pending import. Import its current key material again before you import new key material.`,
    );
  }
  return { pending: true };
}

/** Whether `keyMaterialId` is the key's material waiting for an on-demand rotation. */
async function isPendingMaterial(
  kms: ImportPorts,
  keyId: string,
  keyMaterialId: string,
): Promise<boolean> {
  return (await pendingMaterialId(kms, keyId)) === keyMaterialId;
}

/** The KeyMaterialId of the key's material waiting for an on-demand rotation, or null. */
async function pendingMaterialId(kms: ImportPorts, keyId: string): Promise<string | null> {
  const pending = await kms.store.getPendingKeyMaterial(keyId);
  pending?.material.wipe();
  return pending?.keyMaterialId ?? null;
}

function stateAfterImport(state: KeyState): KeyState {
  return state === "PendingImport" ? "Enabled" : state;
}

/**
 * DeleteImportedKeyMaterial: the key's material is deleted at once and the key becomes
 * PendingImport (a key pending deletion stays so) until the same material is imported again.
 * @throws {UnsupportedOperationException} a key of another origin.
 * @throws {NotFoundException} unknown key, or a KeyMaterialId that is not the key's material.
 * @throws {KMSInvalidStateException}
 */
export async function deleteImportedKeyMaterial(
  kms: ImportPorts,
  caller: Caller,
  input: DeleteImportedKeyMaterialInput,
): Promise<{ KeyId: string; KeyMaterialId: string }> {
  const key = await importKey(kms, caller, input.KeyId, "DeleteImportedKeyMaterial");
  const current = await currentMaterialId(kms, key.record);
  if (input.KeyMaterialId !== undefined && input.KeyMaterialId !== current) {
    if (await isPendingMaterial(kms, key.record.keyId, input.KeyMaterialId)) {
      return await deletePendingMaterial(kms, caller, key, input.KeyMaterialId);
    }
    throw new NotFoundException(
      `Key material ${input.KeyMaterialId} is not the current key material of ${key.arn}.`,
    );
  }
  const record = withoutMaterial(key.record);
  const result = { KeyId: key.arn, KeyMaterialId: current ?? "" };
  caller.audit?.succeeded(result);
  await kms.commit(caller, (audit) => kms.store.deleteImportedKeyMaterial(record, { audit }));
  kms.forgetKeyMaterial(record.keyId);
  kms.rememberKey(record);
  return result;
}

/** Deletes the key's material waiting for an on-demand rotation; the key is unchanged. */
async function deletePendingMaterial(
  kms: ImportPorts,
  caller: Caller,
  key: LoadedKey,
  keyMaterialId: string,
): Promise<{ KeyId: string; KeyMaterialId: string }> {
  const result = { KeyId: key.arn, KeyMaterialId: keyMaterialId };
  caller.audit?.succeeded(result);
  await kms.commit(caller, (audit) => kms.store.deletePendingKeyMaterial(key.record.keyId, audit));
  return result;
}

/**
 * The KeyMaterialId of the key's current imported material: that of its current version (the
 * last imported at it when the material is deleted), or none.
 */
async function currentMaterialId(kms: ImportPorts, record: KeyRecord): Promise<string | null> {
  if (record.expirationModel === null || record.expirationModel === undefined) {
    const pending = await pendingMaterialId(kms, record.keyId);
    const history = await kms.store.listImportedMaterial(record.keyId);
    return history.findLast((entry) =>
      entry.keyMaterialId !== pending &&
      (entry.version ?? record.currentMaterialVersion) === record.currentMaterialVersion
    )?.keyMaterialId ?? null;
  }
  const material = await kms.material(record.keyId, record.currentMaterialVersion);
  return material?.keyMaterialId ?? null;
}

/** The key once its imported material is gone. */
function withoutMaterial(record: KeyRecord): KeyRecord {
  return {
    ...record,
    state: record.state === "PendingDeletion" ? "PendingDeletion" : "PendingImport",
    expirationModel: null,
    validTo: null,
  };
}

/** Whether a key's imported material has expired at `now`. */
export function importedMaterialExpired(record: KeyRecord, now: number): boolean {
  return record.validTo !== null && record.validTo !== undefined && record.validTo <= now;
}

/**
 * Deletes a key's expired imported material (state PendingImport, or still PendingDeletion);
 * when another instance re-imported or expired it first, the stored record wins.
 */
export async function expireImportedMaterial(
  kms: ImportPorts,
  record: KeyRecord,
): Promise<KeyRecord> {
  const validTo = record.validTo;
  if (validTo === null || validTo === undefined) return record;
  const expired = withoutMaterial(record);
  const deleted = await kms.store.deleteImportedKeyMaterial(expired, { onlyIfValidTo: validTo });
  kms.forgetKeyMaterial(record.keyId);
  if (deleted) {
    kms.rememberKey(expired);
    return expired;
  }
  const stored = await kms.store.getKey(record.keyId);
  if (stored === null) return expired;
  kms.rememberKey(stored);
  return stored;
}

/**
 * The periodic sweep: deletes every expired imported material and the import parameters
 * whose 24 hours are over; resolves how many keys of this KMS's region lost their material.
 */
export async function expireDueImportedMaterial(kms: ImportPorts): Promise<number> {
  const now = kms.clock.now();
  const due = await kms.store.listKeysWithExpiredMaterial(now);
  let expired = 0;
  for (const keyId of due) {
    const record = await kms.store.getKey(keyId);
    if (record !== null && record.region === kms.region && importedMaterialExpired(record, now)) {
      await expireImportedMaterial(kms, record);
      expired++;
    }
  }
  await kms.store.deleteExpiredImportParameters(now);
  return expired;
}
