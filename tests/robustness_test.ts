/**
 * No client mistake yields a 5xx: every operation is sent a battery of
 * malformed inputs (wrong types, out-of-range values, bad base64, odd maps)
 * with a valid signature, and must answer a 4xx naming an AWS exception.
 * Validation messages follow AWS's text and never quote blob values.
 */
import assert from "node:assert/strict";
import { CreateKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { DISPATCH_TABLE } from "../routes/dispatch_table.ts";
import { signedFetch } from "./helpers/signed_fetch.ts";
import { withServer } from "./helpers/server.ts";

const FIELDS = [
  "KeyId",
  "Plaintext",
  "CiphertextBlob",
  "EncryptionContext",
  "GrantTokens",
  "NumberOfBytes",
  "KeySpec",
  "Limit",
  "Marker",
  "AliasName",
  "TargetKeyId",
  "Tags",
  "TagKeys",
  "Description",
  "PendingWindowInDays",
  "DestinationKeyId",
  "SourceEncryptionContext",
  "DryRun",
  "DryRunModifiers",
  "Policy",
  "KeyUsage",
];

const BAD_VALUES: unknown[] = [
  null,
  5,
  -1,
  1.5,
  1e308,
  "",
  "!!!not base64!!!",
  "x".repeat(9000),
  [],
  [null],
  [""],
  {},
  { a: 1 },
  { "__proto__": 1 },
  true,
  [{ TagKey: 1 }],
];

Deno.test("Every operation answers malformed fields with a 4xx AWS error, never a 5xx", () =>
  withServer(async (server) => {
    const keyId = (await server.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    let checked = 0;
    for (const operation of DISPATCH_TABLE.keys()) {
      for (const field of FIELDS) {
        for (const value of BAD_VALUES) {
          const body = JSON.stringify({ KeyId: keyId, [field]: value });
          const r = await signedFetch(server.url, operation, body);
          assert.ok(
            r.status < 500,
            `${operation} ${body.slice(0, 80)} -> ${r.status} ${r.type} ${r.message}`,
          );
          if (r.status >= 400) assert.match(r.type ?? "", /Exception$/, `${operation} ${field}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 1000);
    const { Keys } = await server.client.send(new ListKeysCommand({}));
    assert.ok(Keys!.length >= 1);
  }));

Deno.test("Validation errors use AWS's text and never quote a blob", () =>
  withServer(async (server) => {
    const secret = new Uint8Array(4097).fill(65).toBase64();
    const r = await signedFetch(
      server.url,
      "Encrypt",
      JSON.stringify({ KeyId: "", Plaintext: secret }),
    );
    assert.equal(r.status, 400);
    assert.equal(r.type, "ValidationException");
    assert.equal(
      r.message,
      "2 validation errors detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
        "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
    assert.ok(!r.message!.includes("QUFB"));
    const missing = await signedFetch(server.url, "Encrypt", JSON.stringify({ Plaintext: "AQ==" }));
    assert.equal(
      missing.message,
      "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
    );
    const enumBad = await signedFetch(
      server.url,
      "CreateKey",
      JSON.stringify({ KeyUsage: "NOPE" }),
    );
    assert.match(
      enumBad.message!,
      /^1 validation error detected: Value 'NOPE' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: \[/,
    );
    const badBase64 = await signedFetch(
      server.url,
      "Decrypt",
      JSON.stringify({ CiphertextBlob: "%%%" }),
    );
    assert.equal(badBase64.status, 400);
    assert.equal(badBase64.type, "SerializationException");
    assert.ok(!badBase64.message!.includes("%%%"));
  }));
