/**
 * AWS's key-state rules as one table: for each operation, which key states
 * refuse it and with which exception. A state absent from an operation's row
 * is allowed.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 * @module
 */
import { DisabledException, type KmsErrorName, KMSInvalidStateException } from "./errors.ts";
import type { KeyOperation } from "./catalogue.ts";
import type { KeyState } from "./types.ts";

/** The actions with a row in the table (the catalogue's `keyState` actions). */
export type { KeyOperation };

type Refusals = Readonly<
  Partial<Record<KeyState, "DisabledException" | "KMSInvalidStateException">>
>;

const INVALID = "KMSInvalidStateException" as const;
const DISABLED = "DisabledException" as const;

/** Cryptographic use: Disabled -> DisabledException, every other non-Enabled state -> KMSInvalidStateException. */
const CRYPTOGRAPHIC: Refusals = {
  Creating: INVALID,
  Disabled: DISABLED,
  PendingDeletion: INVALID,
  PendingImport: INVALID,
  PendingReplicaDeletion: INVALID,
  Unavailable: INVALID,
  Updating: INVALID,
};

/** Management calls that a key pending deletion (or being created) refuses. */
const NOT_PENDING_DELETION: Refusals = {
  Creating: INVALID,
  PendingDeletion: INVALID,
  PendingReplicaDeletion: INVALID,
};

const ALWAYS: Refusals = {};

/**
 * EnableKeyRotation and DisableKeyRotation: a disabled key answers DisabledException, a key
 * pending deletion or import (or otherwise unusable) KMSInvalidStateException.
 */
const ROTATION_SETTING: Refusals = {
  ...NOT_PENDING_DELETION,
  Disabled: DISABLED,
  PendingImport: INVALID,
  Unavailable: INVALID,
  Updating: INVALID,
};

/** The table: operation -> refused states -> exception name. */
export const KEY_STATE_RULES: Readonly<Record<KeyOperation, Refusals>> = {
  CancelKeyDeletion: {
    Creating: INVALID,
    Enabled: INVALID,
    Disabled: INVALID,
    PendingImport: INVALID,
    Unavailable: INVALID,
    Updating: INVALID,
  },
  CreateAlias: NOT_PENDING_DELETION,
  CreateGrant: NOT_PENDING_DELETION,
  Decrypt: CRYPTOGRAPHIC,
  DeleteAlias: ALWAYS,
  DeriveSharedSecret: CRYPTOGRAPHIC,
  DeleteImportedKeyMaterial: {
    Creating: INVALID,
    PendingReplicaDeletion: INVALID,
    Unavailable: INVALID,
  },
  DescribeKey: ALWAYS,
  DisableKey: { ...NOT_PENDING_DELETION, Unavailable: INVALID },
  DisableKeyRotation: ROTATION_SETTING,
  EnableKey: { ...NOT_PENDING_DELETION, PendingImport: INVALID, Unavailable: INVALID },
  EnableKeyRotation: ROTATION_SETTING,
  Encrypt: CRYPTOGRAPHIC,
  GenerateDataKey: CRYPTOGRAPHIC,
  GenerateMac: CRYPTOGRAPHIC,
  GetPublicKey: CRYPTOGRAPHIC,
  GetKeyPolicy: ALWAYS,
  GetParametersForImport: { ...NOT_PENDING_DELETION, Unavailable: INVALID },
  ImportKeyMaterial: { ...NOT_PENDING_DELETION, Unavailable: INVALID },
  GetKeyRotationStatus: ALWAYS,
  GenerateDataKeyPair: CRYPTOGRAPHIC,
  GenerateDataKeyPairWithoutPlaintext: CRYPTOGRAPHIC,
  GenerateDataKeyWithoutPlaintext: CRYPTOGRAPHIC,
  ListAliases: ALWAYS,
  ListGrants: ALWAYS,
  ListKeyPolicies: ALWAYS,
  ListKeyRotations: ALWAYS,
  ListResourceTags: ALWAYS,
  PutKeyPolicy: ALWAYS,
  ReEncryptFrom: CRYPTOGRAPHIC,
  ReEncryptTo: CRYPTOGRAPHIC,
  RetireGrant: ALWAYS,
  RevokeGrant: ALWAYS,
  RotateKeyOnDemand: CRYPTOGRAPHIC,
  ScheduleKeyDeletion: NOT_PENDING_DELETION,
  Sign: CRYPTOGRAPHIC,
  TagResource: NOT_PENDING_DELETION,
  UntagResource: NOT_PENDING_DELETION,
  UpdateAlias: NOT_PENDING_DELETION,
  UpdateKeyDescription: NOT_PENDING_DELETION,
  Verify: CRYPTOGRAPHIC,
  VerifyMac: CRYPTOGRAPHIC,
};

const STATE_WORDS: Readonly<Record<KeyState, string>> = {
  Creating: "is being created",
  Enabled: "is enabled",
  Disabled: "is disabled",
  PendingDeletion: "is pending deletion",
  PendingImport: "is pending import",
  PendingReplicaDeletion: "is pending replica deletion",
  Unavailable: "is unavailable",
  Updating: "is being updated",
};

/** The exception AWS answers for `operation` on a key in `state`, or undefined when allowed. */
export function refusalFor(operation: KeyOperation, state: KeyState): KmsErrorName | undefined {
  return KEY_STATE_RULES[operation][state];
}

/**
 * Checks that `operation` is allowed on a key in `state`.
 * @throws {DisabledException} for cryptographic use of a disabled key.
 * @throws {KMSInvalidStateException} for any other refused state.
 */
export function assertKeyStateAllows(
  operation: KeyOperation,
  key: { arn: string; state: KeyState },
): void {
  const refusal = refusalFor(operation, key.state);
  if (refusal === undefined) return;
  const message = operation === "CancelKeyDeletion"
    ? `${key.arn} is not pending deletion.`
    : `${key.arn} ${STATE_WORDS[key.state]}.`;
  throw refusal === DISABLED
    ? new DisabledException(message)
    : new KMSInvalidStateException(message);
}
