import assert from "node:assert/strict";
import { DisabledException, KMSInvalidStateException } from "./errors.ts";
import {
  assertKeyStateAllows,
  KEY_STATE_RULES,
  type KeyOperation,
  refusalFor,
} from "./key_state.ts";
import type { KeyState } from "./types.ts";

const STATES: KeyState[] = [
  "Creating",
  "Enabled",
  "Disabled",
  "PendingDeletion",
  "PendingImport",
  "PendingReplicaDeletion",
  "Unavailable",
  "Updating",
];

/** AWS's key-state table for the operations of this KMS, transcribed cell by cell ("ok" = allowed). */
const EXPECTED: Record<KeyOperation, Partial<Record<KeyState, string>>> = {
  Encrypt: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  Decrypt: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  Sign: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  Verify: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  GetPublicKey: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  GenerateMac: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  VerifyMac: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  // Rotation: the key-state table's rows (an asymmetric, HMAC or imported key is answered
  // UnsupportedOperationException before its state is looked at: core/operations/rotation.ts).
  EnableKeyRotation: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  DisableKeyRotation: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  GetKeyRotationStatus: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  RotateKeyOnDemand: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  ListKeyRotations: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  // Imported key material (a key of another origin is answered UnsupportedOperationException
  // first: core/operations/import.ts).
  GetParametersForImport: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  ImportKeyMaterial: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  DeleteImportedKeyMaterial: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "ok",
    PendingImport: "ok",
  },
  DeriveSharedSecret: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  GenerateDataKey: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
  },
  GenerateDataKeyPair: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
  },
  GenerateDataKeyPairWithoutPlaintext: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
  },
  GenerateDataKeyWithoutPlaintext: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
  },
  ReEncryptFrom: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
  },
  ReEncryptTo: {
    Enabled: "ok",
    Disabled: "DisabledException",
    PendingDeletion: "KMSInvalidStateException",
  },
  DescribeKey: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "ok",
    PendingImport: "ok",
    Unavailable: "ok",
  },
  ListAliases: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  CreateGrant: { Enabled: "ok", Disabled: "ok", PendingDeletion: "KMSInvalidStateException" },
  ListGrants: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  RetireGrant: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  RevokeGrant: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  GetKeyPolicy: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  ListKeyPolicies: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  PutKeyPolicy: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  ListResourceTags: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  DeleteAlias: { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok" },
  CancelKeyDeletion: {
    Enabled: "KMSInvalidStateException",
    Disabled: "KMSInvalidStateException",
    PendingDeletion: "ok",
  },
  ScheduleKeyDeletion: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  EnableKey: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "KMSInvalidStateException",
  },
  DisableKey: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  CreateAlias: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  UpdateAlias: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  TagResource: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  UntagResource: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
  UpdateKeyDescription: {
    Enabled: "ok",
    Disabled: "ok",
    PendingDeletion: "KMSInvalidStateException",
    PendingImport: "ok",
  },
};

Deno.test("key-state table matches AWS's table in every transcribed cell", () => {
  for (
    const [operation, cells] of Object.entries(EXPECTED) as [
      KeyOperation,
      Partial<Record<KeyState, string>>,
    ][]
  ) {
    for (const [state, expected] of Object.entries(cells) as [KeyState, string][]) {
      assert.equal(refusalFor(operation, state) ?? "ok", expected, `${operation} on ${state}`);
    }
  }
});

Deno.test("key-state table has a row for every operation and only known exceptions in its cells", () => {
  assert.deepEqual(Object.keys(KEY_STATE_RULES).sort(), Object.keys(EXPECTED).sort());
  for (const operation of Object.keys(KEY_STATE_RULES) as KeyOperation[]) {
    for (const state of STATES) {
      const refusal = refusalFor(operation, state);
      assert.ok(
        refusal === undefined || refusal === "DisabledException" ||
          refusal === "KMSInvalidStateException",
      );
    }
  }
});

Deno.test("assertKeyStateAllows throws the exception class the table names", () => {
  const arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  assert.throws(
    () => assertKeyStateAllows("Encrypt", { arn, state: "Disabled" }),
    DisabledException,
  );
  assert.throws(
    () => assertKeyStateAllows("Encrypt", { arn, state: "PendingDeletion" }),
    KMSInvalidStateException,
  );
  assert.throws(
    () => assertKeyStateAllows("CancelKeyDeletion", { arn, state: "Enabled" }),
    KMSInvalidStateException,
  );
  assertKeyStateAllows("Encrypt", { arn, state: "Enabled" });
  assertKeyStateAllows("DescribeKey", { arn, state: "PendingDeletion" });
});
