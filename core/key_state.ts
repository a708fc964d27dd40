/**
 * AWS's key-state table as data: for each operation (IAM action) and key state, the cell of
 * AWS's table ("Key states of AWS KMS keys", KMS Developer Guide), written exactly as the table
 * writes it (`✓`, `X [1]`, `? [7]`, `N/A` …). tests/testdata/key-state-table.md is that table
 * with its footnotes; tests/key_state_table_test.ts checks this one against it and every
 * reachable cell through the real operations.
 *
 * A refused cell (`X [n]`) is answered with its footnote's exception and message. A `?` cell
 * depends on another fact the operation itself knows (footnote 7: imported material or custom key
 * store; 9: whether the key can have imported material; 10: UpdateAlias source vs destination):
 * the table allows it and the operation decides. `N/A` cells name states the key type could not
 * be in in 2023; a key of that type pending import (AWS imports asymmetric and HMAC material now)
 * is refused as cryptographic use is ([5]).
 *
 * Operations newer than the table take the row of the nearest operation: ReEncryptFrom and
 * ReEncryptTo ReEncrypt's; DeriveSharedSecret and RotateKeyOnDemand cryptographic use's
 * (Encrypt's); ListKeyRotations the read-only rows'.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 * @module
 */
import {
  DisabledException,
  type KmsErrorName,
  KMSInvalidStateException,
  UnsupportedOperationException,
} from "./errors.ts";
import type { KeyOperation } from "./catalogue.ts";
import type { KeyState } from "./types.ts";

/** The actions with a row in the table (the catalogue's `keyState` actions). */
export type { KeyOperation };

/** A cell as AWS's table writes it. */
export type Cell =
  | "✓"
  | "✓ [9]"
  | "✓ [12]"
  | "✓ (no effect)"
  | "N/A"
  | `? [${number}]`
  | `X [${string}]`;

/** The table's columns, in its order ("PendingDeletion*" covers PendingReplicaDeletion too). */
export const TABLE_COLUMNS = [
  "Enabled",
  "Disabled",
  "PendingDeletion*",
  "PendingImport",
  "Unavailable",
  "Creating",
  "Updating",
] as const;

/** One column of the table. */
export type TableColumn = (typeof TABLE_COLUMNS)[number];

type Row = Readonly<Record<TableColumn, Cell>>;

/** A row from its seven cells, in the table's column order. */
function row(...cells: [Cell, Cell, Cell, Cell, Cell, Cell, Cell]): Row {
  return Object.fromEntries(TABLE_COLUMNS.map((column, i) => [column, cells[i]])) as Row;
}

const CRYPTOGRAPHIC = row("✓", "X [1]", "X [2/3]", "X [5]", "X [11]", "X [14]", "✓");
const ASYMMETRIC_OR_HMAC = row("✓", "X [1]", "X [2/3]", "N/A", "N/A", "X [14]", "✓");
const ALWAYS = row("✓", "✓", "✓", "✓", "✓", "✓", "✓");
const NOT_PENDING_DELETION = row("✓", "✓", "X [3]", "✓", "✓", "✓", "✓");
const ROTATION_SETTING = row("? [7]", "X [1/7]", "X [3/7]", "X [6]", "X [7]", "X [14]", "? [7]");

/** The table: action -> column -> cell. */
export const KEY_STATE_TABLE: Readonly<Record<KeyOperation, Row>> = {
  CancelKeyDeletion: row("X [4]", "X [4]", "✓", "X [4]", "X [4/13]", "X [4]", "X [4]"),
  CreateAlias: NOT_PENDING_DELETION,
  CreateGrant: row("✓", "X [1]", "X [2/3]", "X [5]", "✓", "X [14]", "✓"),
  Decrypt: CRYPTOGRAPHIC,
  DeleteAlias: ALWAYS,
  DeleteImportedKeyMaterial: row(
    "✓ [9]",
    "✓ [9]",
    "✓ [9]",
    "✓ (no effect)",
    "N/A",
    "X [14]",
    "X [15]",
  ),
  DeriveSharedSecret: CRYPTOGRAPHIC,
  DescribeKey: ALWAYS,
  DisableKey: row("✓", "✓", "X [3]", "X [5]", "✓ [12]", "X [14]", "X [15]"),
  DisableKeyRotation: ROTATION_SETTING,
  EnableKey: row("✓", "✓", "X [3]", "X [5]", "✓ [12]", "X [14]", "X [15]"),
  EnableKeyRotation: ROTATION_SETTING,
  Encrypt: CRYPTOGRAPHIC,
  GenerateDataKey: CRYPTOGRAPHIC,
  GenerateDataKeyPair: CRYPTOGRAPHIC,
  GenerateDataKeyPairWithoutPlaintext: CRYPTOGRAPHIC,
  GenerateDataKeyWithoutPlaintext: CRYPTOGRAPHIC,
  GenerateMac: ASYMMETRIC_OR_HMAC,
  GetKeyPolicy: ALWAYS,
  GetKeyRotationStatus: row("? [7]", "? [7]", "? [7]", "X [6]", "X [7]", "? [7]", "? [7]"),
  GetParametersForImport: row("? [9]", "? [9]", "X [8/9]", "✓", "X [9]", "X [14]", "X [15]"),
  GetPublicKey: ASYMMETRIC_OR_HMAC,
  ImportKeyMaterial: row("? [9]", "? [9]", "X [8/9]", "✓", "X [9]", "X [14]", "✓"),
  ListAliases: ALWAYS,
  ListGrants: ALWAYS,
  ListKeyPolicies: ALWAYS,
  ListKeyRotations: ALWAYS,
  ListResourceTags: ALWAYS,
  PutKeyPolicy: ALWAYS,
  ReEncryptFrom: CRYPTOGRAPHIC,
  ReEncryptTo: CRYPTOGRAPHIC,
  ReplicateKey: row("✓", "X [1]", "X [2/3]", "X [5]", "N/A", "X [14]", "X [15]"),
  RetireGrant: ALWAYS,
  RevokeGrant: ALWAYS,
  RotateKeyOnDemand: CRYPTOGRAPHIC,
  ScheduleKeyDeletion: row("✓", "✓", "X [3]", "✓", "✓", "✓", "X [15]"),
  Sign: ASYMMETRIC_OR_HMAC,
  TagResource: NOT_PENDING_DELETION,
  UntagResource: NOT_PENDING_DELETION,
  UpdateAlias: row("✓", "✓", "? [10]", "✓", "✓", "✓", "✓"),
  UpdateKeyDescription: NOT_PENDING_DELETION,
  UpdatePrimaryRegion: row("✓", "X [1]", "X [2/3]", "X [5]", "N/A", "X [14]", "✓"),
  Verify: ASYMMETRIC_OR_HMAC,
  VerifyMac: ASYMMETRIC_OR_HMAC,
};

/** The exception each refusing footnote names. */
const FOOTNOTE_EXCEPTIONS: Readonly<Record<number, KmsErrorName>> = {
  1: "DisabledException",
  2: "DisabledException",
  3: "KMSInvalidStateException",
  4: "KMSInvalidStateException",
  5: "KMSInvalidStateException",
  6: "UnsupportedOperationException",
  7: "UnsupportedOperationException",
  8: "KMSInvalidStateException",
  9: "UnsupportedOperationException",
  11: "KMSInvalidStateException",
  13: "KMSInvalidStateException",
  14: "KMSInvalidStateException",
  15: "KMSInvalidStateException",
};

const STATE_WORDS: Readonly<Record<KeyState, string>> = {
  Creating: "is creating",
  Enabled: "is enabled",
  Disabled: "is disabled",
  PendingDeletion: "is pending deletion",
  PendingImport: "is pending import",
  PendingReplicaDeletion: "is pending replica deletion",
  Unavailable: "is unavailable",
  Updating: "is updating",
};

/** The table's column for a key state. */
export function columnOf(state: KeyState): TableColumn {
  return state === "PendingDeletion" || state === "PendingReplicaDeletion"
    ? "PendingDeletion*"
    : state;
}

/** The cell of `operation` for a key in `state`. */
export function cellFor(operation: KeyOperation, state: KeyState): Cell {
  return KEY_STATE_TABLE[operation][columnOf(state)];
}

/**
 * The footnote a refused cell is answered with: of two ([2/3], [1/7], [4/13], [8/9]) the one AWS
 * answers today ([2/3]: 3) or else the first.
 */
export function refusingFootnote(cell: Cell, column?: TableColumn): number | undefined {
  if (cell === "N/A") return column === undefined ? undefined : NOT_APPLICABLE[column];
  if (!cell.startsWith("X")) return undefined;
  const notes = cell.slice(3, -1).split("/").map(Number);
  return notes.includes(3) ? 3 : notes[0];
}

/**
 * The answer of an `N/A` cell whose state has since become reachable: AWS's 2023 table has no
 * imported asymmetric or HMAC keys, which AWS now has; such a key pending import is refused as
 * cryptographic use of it is ([5]).
 */
const NOT_APPLICABLE: Partial<Record<TableColumn, number>> = { PendingImport: 5, Unavailable: 11 };

/** The exception AWS answers for `operation` on a key in `state`, or undefined when the table allows it. */
export function refusalFor(operation: KeyOperation, state: KeyState): KmsErrorName | undefined {
  const footnote = refusingFootnote(cellFor(operation, state), columnOf(state));
  return footnote === undefined ? undefined : FOOTNOTE_EXCEPTIONS[footnote];
}

/** The message of a refusal by `footnote` of the key `arn` in `state`. */
export function refusalMessage(footnote: number, arn: string, state: KeyState): string {
  if (footnote === 4) return `${arn} is not pending deletion.`;
  if (footnote === 6) return `${arn} origin is EXTERNAL which is not valid for this operation.`;
  return `${arn} ${STATE_WORDS[state]}.`;
}

/**
 * Checks that the table allows `operation` on a key in `state` (a `?` cell is left to the
 * operation).
 * @throws {DisabledException} footnote 1.
 * @throws {KMSInvalidStateException} footnotes 3, 4, 5, 8, 11, 14, 15.
 * @throws {UnsupportedOperationException} footnotes 6, 7, 9.
 */
export function assertKeyStateAllows(
  operation: KeyOperation,
  key: { arn: string; state: KeyState },
): void {
  const footnote = refusingFootnote(cellFor(operation, key.state), columnOf(key.state));
  if (footnote === undefined) return;
  const message = refusalMessage(footnote, key.arn, key.state);
  switch (FOOTNOTE_EXCEPTIONS[footnote]) {
    case "DisabledException":
      throw new DisabledException(message);
    case "UnsupportedOperationException":
      throw new UnsupportedOperationException(message);
    default:
      throw new KMSInvalidStateException(message);
  }
}

/**
 * UpdateAlias's `? [10]` cell, decided by which key is pending deletion: the alias's current
 * (source) key may be, the new target (destination) key may not.
 * @throws {KMSInvalidStateException} the destination key is pending deletion.
 */
export function assertUpdateAliasDestinationAllows(key: { arn: string; state: KeyState }): void {
  assertKeyStateAllows("UpdateAlias", key);
  if (columnOf(key.state) === "PendingDeletion*") {
    throw new KMSInvalidStateException(`${key.arn} ${STATE_WORDS[key.state]}.`);
  }
}
