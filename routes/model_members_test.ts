/**
 * routes/model_members.ts against AWS's model, and the validation messages that use it (the
 * operations' own schemas, routes/validation_message.ts): values of non-sensitive members quoted
 * (bounded), values of sensitive members and blobs never.
 *
 * @module
 */
import assert from "node:assert/strict";
import { modelMembers } from "../scripts/generate_model_members.ts";
import { readSmithyModel } from "../tests/helpers/aws_model.ts";
import { BLOB_MEMBERS, SENSITIVE_MEMBERS } from "./model_members.ts";
import { DISPATCH_TABLE } from "./dispatch_table.ts";
import { validationError } from "./validation_message.ts";

const model = await readSmithyModel();

Deno.test({
  name: "routes/model_members.ts lists exactly the model's sensitive and blob request members",
  ignore: model === undefined,
  fn() {
    // deno-lint-ignore no-explicit-any
    const fromModel = modelMembers(model as any);
    assert.deepEqual([...SENSITIVE_MEMBERS].sort(), fromModel.sensitive);
    assert.deepEqual([...BLOB_MEMBERS].sort(), fromModel.blob);
    assert.ok(SENSITIVE_MEMBERS.has("Plaintext"));
  },
});

/** The validation message `operation`'s schema gives for `input`. */
function messageFor(operation: string, input: Record<string, unknown>): string {
  const op = DISPATCH_TABLE.get(operation);
  assert.ok(op, operation);
  const parsed = op.schema.safeParse(input);
  assert.ok(!parsed.success, `${operation} accepted ${JSON.stringify(input)}`);
  return validationError(parsed.error, input).message;
}

Deno.test("a validation message quotes the value of a non-sensitive string member, as AWS does", () => {
  assert.equal(
    messageFor("DescribeKey", { KeyId: "" }),
    "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: " +
      "Member must have length greater than or equal to 1",
  );
  assert.match(
    messageFor("CreateAlias", { AliasName: "alias/sp ace", TargetKeyId: "k" }),
    /^1 validation error detected: Value 'alias\/sp ace' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
  );
});

Deno.test("a quoted value is cut to 256 characters", () => {
  const message = messageFor("DescribeKey", { KeyId: "k".repeat(3000) });
  assert.ok(message.includes(`Value '${"k".repeat(256)}...' at 'keyId'`), message);
  assert.ok(!message.includes("k".repeat(257)));
});

Deno.test("values of sensitive members and blobs never appear in a validation message", () => {
  const secret = "c2VjcmV0".repeat(1200); // base64 of "secret" x 1200: 7200 bytes, over 4096
  for (
    const [operation, input, member] of [
      ["Encrypt", { KeyId: "k", Plaintext: "" }, "plaintext"],
      ["Encrypt", { KeyId: "k", Plaintext: secret }, "plaintext"],
      ["Sign", { KeyId: "k", Message: "", SigningAlgorithm: "ECDSA_SHA_256" }, "message"],
      ["Decrypt", { CiphertextBlob: "" }, "ciphertextBlob"],
    ] as const
  ) {
    const message = messageFor(operation, input);
    assert.match(message, new RegExp(`^1 validation error detected: Value at '${member}' `));
    assert.ok(!message.includes("c2VjcmV0"), message);
  }
});
