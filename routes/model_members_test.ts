/**
 * routes/model_members.ts against AWS's model, and the validation messages that use it (the
 * operations' own schemas, routes/validation_message.ts): values of non-sensitive members quoted
 * (bounded), values of sensitive members and blobs never.
 *
 * @module
 */
import assert from "node:assert/strict";
import { modelMembers } from "../scripts/generate_model_members.ts";
import { loadModel } from "../tests/fuzz/model.ts";
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

Deno.test("routes/model_members.ts agrees with the committed model extract (tests/testdata/kms_model)", async () => {
  const extract = await loadModel();
  const sensitive = new Set<string>();
  const blob = new Set<string>();
  for (const [name, shape] of Object.entries(extract.shapes)) {
    if (name.endsWith("Response")) continue;
    for (const [member, { target }] of Object.entries(shape.members ?? {})) {
      if (extract.shapes[target]?.sensitive) sensitive.add(member);
      if (extract.shapes[target]?.type === "blob") blob.add(member);
    }
  }
  assert.deepEqual([...SENSITIVE_MEMBERS].sort(), [...sensitive].sort());
  assert.deepEqual([...BLOB_MEMBERS].sort(), [...blob].sort());
});

/** Operations of the model this KMS does not serve yet (issue 16, scope 5: custom key stores). */
const NOT_SERVED = ["CreateCustomKeyStore"];

Deno.test("every operation's schema requires exactly the members the model marks required", async () => {
  const extract = await loadModel();
  const mismatched: string[] = [];
  for (const [operation, { input }] of Object.entries(extract.operations)) {
    const op = DISPATCH_TABLE.get(operation);
    if (op === undefined) {
      if (!NOT_SERVED.includes(operation)) mismatched.push(`${operation}: not served`);
      continue;
    }
    if (NOT_SERVED.includes(operation)) mismatched.push(`${operation}: served now, unlist it`);
    const members = extract.shapes[input]?.members ?? {};
    const required = Object.keys(members).filter((m) => members[m]!.required).sort();
    const parsed = op.schema.safeParse({});
    const missing = parsed.success ? [] : [
      ...new Set(
        parsed.error.issues.filter((i) => i.path.length === 1).map((i) => String(i.path[0])),
      ),
    ].sort();
    if (JSON.stringify(missing) !== JSON.stringify(required)) {
      mismatched.push(`${operation}: schema ${missing.join(",")} / model ${required.join(",")}`);
    }
  }
  assert.deepEqual(mismatched, []);
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
