import assert from "node:assert/strict";
import {
  DisabledException,
  KMSInvalidStateException,
  UnsupportedOperationException,
} from "./errors.ts";
import { assertKeyStateAllows, cellFor, refusalFor, refusingFootnote } from "./key_state.ts";

const ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

Deno.test("a refused cell's footnote is the one AWS answers today ([2/3] is 3, else the first)", () => {
  assert.equal(refusingFootnote("X [2/3]"), 3);
  assert.equal(refusingFootnote("X [1/7]"), 1);
  assert.equal(refusingFootnote("X [8/9]"), 8);
  assert.equal(refusingFootnote("X [15]"), 15);
  assert.equal(refusingFootnote("? [7]"), undefined);
  assert.equal(refusingFootnote("✓ [12]"), undefined);
  assert.equal(refusingFootnote("N/A"), undefined);
});

Deno.test("PendingReplicaDeletion takes the PendingDeletion* column", () => {
  assert.equal(cellFor("Encrypt", "PendingReplicaDeletion"), "X [2/3]");
  assert.equal(refusalFor("CancelKeyDeletion", "PendingReplicaDeletion"), undefined);
});

Deno.test("assertKeyStateAllows throws each footnote's exception with its message", () => {
  assert.throws(
    () => assertKeyStateAllows("Encrypt", { arn: ARN, state: "Disabled" }),
    new DisabledException(`${ARN} is disabled.`),
  );
  assert.throws(
    () => assertKeyStateAllows("Encrypt", { arn: ARN, state: "PendingDeletion" }),
    new KMSInvalidStateException(`${ARN} is pending deletion.`),
  );
  assert.throws(
    () => assertKeyStateAllows("CancelKeyDeletion", { arn: ARN, state: "Enabled" }),
    new KMSInvalidStateException(`${ARN} is not pending deletion.`),
  );
  assert.throws(
    () => assertKeyStateAllows("CreateGrant", { arn: ARN, state: "PendingImport" }),
    new KMSInvalidStateException(`${ARN} is pending import.`),
  );
  assert.throws(
    () => assertKeyStateAllows("EnableKeyRotation", { arn: ARN, state: "PendingImport" }),
    new UnsupportedOperationException(
      `${ARN} origin is EXTERNAL which is not valid for this operation.`,
    ),
  );
  assert.throws(
    () => assertKeyStateAllows("ReplicateKey", { arn: ARN, state: "Creating" }),
    new KMSInvalidStateException(`${ARN} is creating.`),
  );
  assert.throws(
    () => assertKeyStateAllows("DisableKey", { arn: ARN, state: "Updating" }),
    new KMSInvalidStateException(`${ARN} is updating.`),
  );
  assertKeyStateAllows("Encrypt", { arn: ARN, state: "Enabled" });
  assertKeyStateAllows("DescribeKey", { arn: ARN, state: "PendingDeletion" });
  assertKeyStateAllows("UpdateAlias", { arn: ARN, state: "PendingDeletion" });
});
