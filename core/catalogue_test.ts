/**
 * The catalogue against AWS's model: the extract in
 * tests/testdata/kms_model/kms_inputs.json (operations, their inputs and errors,
 * enums) and, when it is there, the full model in
 * ../shared/reference/kms.smithy.json (the "Cross-account use" line of each
 * operation's documentation, which the extract drops).
 */
import assert from "node:assert/strict";
import { KEY_LAST_USAGE_TRACKING_OPERATIONS, STATE_CHANGING_OPERATIONS } from "./audit/record.ts";
import {
  ACTIONS,
  allowsCrossAccount,
  ANSWERED_OPERATIONS,
  CATALOGUE,
  GRANT_OPERATIONS,
  isStateChangingAction,
  KEY_STATE_OPERATIONS,
  type KmsAction,
  OPERATION_NAMES,
  operationsSharingQuota,
} from "./catalogue.ts";
import { KEY_STATE_TABLE } from "./key_state.ts";
import { readSmithyModel } from "../tests/helpers/aws_model.ts";

interface ModelExtract {
  operations: Record<string, { input: string; errors: string[] }>;
  shapes: Record<string, { type: string; members?: Record<string, unknown>; enum?: string[] }>;
}

const EXTRACT = JSON.parse(
  await Deno.readTextFile(
    new URL("../tests/testdata/kms_model/kms_inputs.json", import.meta.url),
  ),
) as ModelExtract;

const SMITHY = await readSmithyModel();

const MODEL_OPERATIONS = Object.keys(EXTRACT.operations).sort();

function enumOf(shape: string): string[] {
  const values = EXTRACT.shapes[shape]?.enum;
  assert.ok(values !== undefined, `the model has no enum ${shape}`);
  return values;
}

Deno.test("the catalogue lists exactly the operations of AWS's model", () => {
  assert.equal(MODEL_OPERATIONS.length, 54);
  assert.deepEqual([...OPERATION_NAMES].sort(), MODEL_OPERATIONS);
});

Deno.test("the only operation of AWS's model this KMS does not answer is CreateCustomKeyStore", () => {
  const unanswered = OPERATION_NAMES.filter((name) => !CATALOGUE[name].answered);
  assert.deepEqual(unanswered, ["CreateCustomKeyStore"]);
  assert.deepEqual(
    [...ANSWERED_OPERATIONS],
    OPERATION_NAMES.filter((name) => CATALOGUE[name].answered),
  );
});

Deno.test("an operation supports DryRun exactly when its request in AWS's model has DryRun", () => {
  for (const name of OPERATION_NAMES) {
    const input = EXTRACT.shapes[EXTRACT.operations[name]!.input]!;
    const modelled = Object.hasOwn(input.members ?? {}, "DryRun");
    assert.equal(CATALOGUE[name].dryRun, modelled, name);
  }
});

Deno.test("an operation may answer DependencyTimeoutException exactly when AWS's model lists it", () => {
  for (const name of OPERATION_NAMES) {
    const modelled = EXTRACT.operations[name]!.errors.includes("DependencyTimeoutException");
    assert.equal(CATALOGUE[name].dependencyTimeout, modelled, name);
  }
});

Deno.test("the grant operations are AWS's GrantOperation enum, in its order", () => {
  assert.deepEqual([...GRANT_OPERATIONS], enumOf("GrantOperation"));
});

Deno.test("the key-usage operations of the audit log are AWS's KeyLastUsageTrackingOperation enum", () => {
  assert.deepEqual(
    [...KEY_LAST_USAGE_TRACKING_OPERATIONS].sort(),
    enumOf("KeyLastUsageTrackingOperation").sort(),
  );
});

Deno.test("the key-state table has a row for exactly the catalogue's key-state actions", () => {
  assert.deepEqual(Object.keys(KEY_STATE_TABLE).sort(), [...KEY_STATE_OPERATIONS].sort());
});

Deno.test("an action's name is its operation's, except ReEncrypt's two", () => {
  for (const action of ACTIONS) {
    if (action.operation === "ReEncrypt") {
      assert.ok(action.name === "ReEncryptFrom" || action.name === "ReEncryptTo", action.name);
    } else {
      assert.equal(action.name, action.operation);
    }
  }
  assert.equal(ACTIONS.length, OPERATION_NAMES.length + 1);
});

Deno.test("state-changing events are the state-change operations and the scheduled rotation", () => {
  const changes = OPERATION_NAMES.filter((name) => CATALOGUE[name].audit === "stateChange");
  assert.deepEqual([...STATE_CHANGING_OPERATIONS].sort(), [...changes, "RotateKey"].sort());
  assert.ok(changes.includes("CreateKey") && !changes.includes("DescribeKey"));
  assert.equal(isStateChangingAction("kms:ScheduleKeyDeletion"), true);
  assert.equal(isStateChangingAction("kms:ReEncryptFrom"), false);
});

Deno.test({
  name:
    "another account may call exactly the actions whose AWS documentation says 'Cross-account use: Yes'",
  ignore: SMITHY === undefined,
  fn() {
    const shapes = SMITHY!.shapes as Record<
      string,
      { type: string; traits?: Record<string, unknown> }
    >;
    let compared = 0;
    for (const [id, shape] of Object.entries(shapes)) {
      if (shape.type !== "operation") continue;
      const name = id.split("#")[1]!;
      const doc = String(shape.traits?.["smithy.api#documentation"] ?? "");
      const yes = /Cross-account use<\/b>:?\s*Yes/.test(doc);
      const actions = ACTIONS.filter((a) => a.operation === name);
      assert.ok(actions.length > 0, `${name} is not in the catalogue`);
      for (const action of actions) {
        assert.equal(allowsCrossAccount(`kms:${action.name}` as KmsAction), yes, action.name);
        compared++;
      }
    }
    assert.equal(compared, ACTIONS.length);
  },
});

Deno.test("the shared request quotas: AWS's cryptographic operations and the two GenerateDataKeyPair operations", () => {
  assert.deepEqual(
    new Set(operationsSharingQuota("cryptographic")),
    new Set([
      "Decrypt",
      "DeriveSharedSecret",
      "Encrypt",
      "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext",
      "GenerateMac",
      "GenerateRandom",
      "ReEncrypt",
      "Sign",
      "Verify",
      "VerifyMac",
    ]),
  );
  assert.deepEqual(operationsSharingQuota("dataKeyPair"), [
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
  ]);
});
