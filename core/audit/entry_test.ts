import assert from "node:assert/strict";
import { SecretBytes } from "../secret.ts";
import { canonicalJson } from "./chain.ts";
import { AuditEntry, cloudTrailTime, identityType, recordFromAnyLine } from "./entry.ts";
import { requestParameters, responseElements } from "./parameters.ts";
import { isKeyUsage, recordFromLine, recordLine, serialized } from "./record.ts";

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER_ARN = "arn:aws:kms:us-east-1:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321";
const TIME = Date.UTC(2025, 4, 20, 20, 46, 16, 789);

function entry(operation: string, principalArn = "arn:aws:iam::111122223333:user/Alice") {
  return new AuditEntry({
    time: TIME,
    requestId: "e0eb83e3-63bc-11e4-bc2b-4198b6150d5c",
    eventId: "a9dea4f9-8395-46c0-942c-f509c02c2b71",
    operation,
    principal: { arn: principalArn, accountId: "111122223333", accessKeyId: "AKIAEXAMPLE" },
    sourceIp: "192.0.2.0",
    userAgent: "aws-cli/2.15",
    region: "us-east-1",
  });
}

/** A JSON value as plain objects (null-prototype maps compare equal to literals). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Every string anywhere in a JSON value, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  }
  return [];
}

Deno.test("a GenerateDataKey record is shaped like AWS's CloudTrail entry", () => {
  const e = entry("GenerateDataKey");
  e.addResource(KEY_ARN);
  e.setDecision("Allow");
  e.setRequestParameters("GenerateDataKey", {
    KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
    KeySpec: "AES_256",
    EncryptionContext: { Project: "Alpha", Department: "Engineering" },
  });
  e.succeeded({
    KeyId: KEY_ARN,
    CiphertextBlob: new Uint8Array(8),
    Plaintext: new SecretBytes(new Uint8Array(32)),
  });
  const record = e.record();
  assert.deepEqual(plain(record.event), {
    awsRegion: "us-east-1",
    decision: "Allow",
    eventCategory: "Management",
    eventID: "a9dea4f9-8395-46c0-942c-f509c02c2b71",
    eventName: "GenerateDataKey",
    eventSource: "kms.amazonaws.com",
    eventTime: "2025-05-20T20:46:16Z",
    eventType: "AwsApiCall",
    eventVersion: "1.08",
    managementEvent: true,
    readOnly: true,
    recipientAccountId: "111122223333",
    requestID: "e0eb83e3-63bc-11e4-bc2b-4198b6150d5c",
    requestParameters: {
      encryptionContext: { Department: "Engineering", Project: "Alpha" },
      keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      keySpec: "AES_256",
    },
    resources: [{ ARN: KEY_ARN, accountId: "111122223333", type: "AWS::KMS::Key" }],
    responseElements: null,
    sourceIPAddress: "192.0.2.0",
    userAgent: "aws-cli/2.15",
    userIdentity: {
      accessKeyId: "AKIAEXAMPLE",
      accountId: "111122223333",
      arn: "arn:aws:iam::111122223333:user/Alice",
      principalId: "Alice",
      type: "IAMUser",
      userName: "Alice",
    },
  });
  assert.deepEqual(
    { ...record, event: undefined },
    {
      eventTime: TIME,
      requestId: "e0eb83e3-63bc-11e4-bc2b-4198b6150d5c",
      eventId: "a9dea4f9-8395-46c0-942c-f509c02c2b71",
      eventName: "GenerateDataKey",
      principalArn: "arn:aws:iam::111122223333:user/Alice",
      accountId: "111122223333",
      keyArns: [KEY_ARN],
      decision: "Allow",
      errorCode: null,
      event: undefined,
    },
  );
  assert.ok(isKeyUsage(record));
  // Built in canonical order: the stored text is plain JSON.stringify.
  assert.equal(JSON.stringify(record.event), canonicalJson(record.event));
});

Deno.test("no plaintext, ciphertext, message, MAC, key, token or secret reaches a record", () => {
  const secret = new Uint8Array([0x53, 0x45, 0x43, 0x52, 0x45, 0x54]); // "SECRET"
  const marker = "TOPSECRET-MARKER";
  const inputs: Record<string, unknown>[] = [
    {
      KeyId: "alias/app",
      Plaintext: new SecretBytes(secret),
      CiphertextBlob: secret,
      Message: new SecretBytes(secret),
      Mac: secret,
      Signature: secret,
      PublicKey: secret,
      GrantTokens: [marker],
      GrantToken: marker,
      Recipient: { KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256", AttestationDocument: secret },
      SecretAccessKey: marker,
      // Whitelisted names holding bytes or secrets are skipped by shape.
      EncryptionContext: new SecretBytes(secret),
      Description: new SecretBytes(secret),
      Policy: secret,
      Tags: [{ TagKey: "k", TagValue: new SecretBytes(secret) }],
      Operations: [secret],
      Constraints: { EncryptionContextSubset: { a: secret } },
      NumberOfBytes: secret,
    },
    // Raw JSON bodies (before validation) are safe too.
    { Plaintext: btoa(marker), CiphertextBlob: btoa(marker), KeyId: { toString: () => marker } },
    // A SecretBytes or bytes as the whole input.
    new SecretBytes(secret) as unknown as Record<string, unknown>,
    secret as unknown as Record<string, unknown>,
  ];
  for (const operation of ["Encrypt", "Decrypt", "GenerateMac", "CreateGrant", "RetireGrant"]) {
    for (const input of inputs) {
      const e = entry(operation);
      e.setRequestParameters(operation, input);
      e.succeeded({
        KeyId: KEY_ARN,
        Plaintext: new SecretBytes(secret),
        CiphertextBlob: secret,
        GrantToken: marker,
        PrivateKeyPlaintext: new SecretBytes(secret),
        KeyMetadata: { KeyId: "k", SecretField: marker, Arn: secret },
      });
      const text = JSON.stringify(e.record().event);
      assert.ok(!text.includes(marker), `${operation}: ${text}`);
      assert.ok(!text.includes("SECRET"), `${operation}: ${text}`);
      assert.ok(!text.includes(btoa(marker)), `${operation}: ${text}`);
      assert.ok(!text.includes("[redacted]"), `${operation}: ${text}`);
      for (const s of strings(e.record().event)) {
        assert.ok(!/plaintext|ciphertextblob|granttoken|attestation|^mac$|^message$/i.test(s), s);
      }
    }
  }
});

Deno.test("request parameters: whitelisted members in CloudTrail's camelCase", () => {
  assert.deepEqual(
    plain(requestParameters("CreateGrant", {
      KeyId: KEY_ARN,
      GranteePrincipal: "arn:aws:iam::111122223333:role/app",
      RetiringPrincipal: "arn:aws:iam::111122223333:root",
      Operations: ["Decrypt", "Encrypt"],
      Constraints: { EncryptionContextSubset: { b: "2", a: "1" } },
      Name: "g",
      GrantTokens: ["t"],
    })),
    {
      constraints: { encryptionContextSubset: { a: "1", b: "2" } },
      granteePrincipal: "arn:aws:iam::111122223333:role/app",
      keyId: KEY_ARN,
      name: "g",
      operations: ["Decrypt", "Encrypt"],
      retiringPrincipal: "arn:aws:iam::111122223333:root",
    },
  );
  assert.deepEqual(
    requestParameters("CreateKey", {
      Description: "d",
      KeySpec: "RSA_2048",
      KeyUsage: "SIGN_VERIFY",
      Policy: '{"Version":"2012-10-17"}',
      BypassPolicyLockoutSafetyCheck: false,
      Tags: [{ TagKey: "team", TagValue: "x" }],
      MultiRegion: false,
    }),
    {
      bypassPolicyLockoutSafetyCheck: false,
      description: "d",
      keySpec: "RSA_2048",
      keyUsage: "SIGN_VERIFY",
      multiRegion: false,
      policy: '{"Version":"2012-10-17"}',
      tags: [{ tagKey: "team", tagValue: "x" }],
    },
  );
  // CloudTrail always shows the encryption algorithm of Decrypt.
  assert.deepEqual(requestParameters("Decrypt", { CiphertextBlob: new Uint8Array(4) }), {
    encryptionAlgorithm: "SYMMETRIC_DEFAULT",
  });
  assert.deepEqual(requestParameters("ReEncrypt", { DestinationKeyId: "k" }), {
    destinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    destinationKeyId: "k",
    sourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
  });
  assert.equal(requestParameters("ListAliases", {}), null);
  assert.equal(requestParameters("ListKeys", { Limit: 1.5 }), null);
  // An encryption context keeps `__proto__` as a key and stays a null-prototype map.
  const context = Object.create(null);
  context["__proto__"] = "x";
  const params = requestParameters("Encrypt", { EncryptionContext: context });
  assert.equal(
    JSON.stringify(params),
    '{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"__proto__":"x"}}',
  );
  // Over-long values are left out rather than logged.
  assert.equal(requestParameters("UpdateKeyDescription", { Description: "x".repeat(9000) }), null);
});

Deno.test("response elements: only for state changes, without secrets", () => {
  const created = new Date(Date.UTC(2022, 7, 10, 22, 38, 27));
  const e = entry("CreateKey");
  e.succeeded({
    KeyMetadata: {
      AWSAccountId: "111122223333",
      KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      Arn: KEY_ARN,
      CreationDate: created,
      Enabled: true,
      Description: "",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
      KeySpec: "SYMMETRIC_DEFAULT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      MultiRegion: false,
      CurrentKeyMaterialId: "ab".repeat(32),
    },
  });
  const event = e.record().event;
  assert.equal(event.readOnly, false);
  assert.deepEqual(event.responseElements, {
    keyMetadata: {
      AWSAccountId: "111122223333",
      arn: KEY_ARN,
      creationDate: "2022-08-10T22:38:27.000Z",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      description: "",
      enabled: true,
      encryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      keyManager: "CUSTOMER",
      keySpec: "SYMMETRIC_DEFAULT",
      keyState: "Enabled",
      keyUsage: "ENCRYPT_DECRYPT",
      multiRegion: false,
      origin: "AWS_KMS",
    },
  });
  assert.equal(JSON.stringify(event), canonicalJson(event));
  assert.deepEqual(responseElements({ GrantId: "g", GrantToken: "secret-token", KeyId: KEY_ARN }), {
    grantId: "g",
    keyId: KEY_ARN,
  });
  const read = entry("DescribeKey");
  read.succeeded({ KeyMetadata: { KeyId: "k" } });
  assert.equal(read.record().event.responseElements, null);
});

Deno.test("a denied or failed request records its error and is no key usage", () => {
  const e = entry("Decrypt");
  e.addResource(KEY_ARN);
  e.setDecision("Deny");
  e.failed("AccessDeniedException", "User: arn:aws:iam::111122223333:user/Alice is not authorized");
  const record = e.record();
  assert.equal(record.errorCode, "AccessDeniedException");
  assert.equal(record.decision, "Deny");
  assert.equal(record.event.errorCode, "AccessDeniedException");
  assert.match(String(record.event.errorMessage), /not authorized/);
  assert.equal(isKeyUsage(record), false);
  assert.equal(JSON.stringify(record.event), canonicalJson(record.event));
  const ok = entry("Decrypt");
  ok.failed("IncorrectKeyException", "x");
  ok.succeeded();
  assert.equal(ok.record().errorCode, null);
  assert.equal(ok.record().event.errorCode, undefined);
});

Deno.test("an unauthenticated request is recorded without a principal or decision", () => {
  const e = new AuditEntry({
    time: TIME,
    requestId: "r",
    operation: "",
    principal: null,
    sourceIp: null,
    userAgent: null,
    region: "us-east-1",
  });
  e.setOperation("Encrypt");
  e.failed("UnrecognizedClientException", "The security token included in the request is invalid.");
  const record = e.record();
  assert.equal(record.principalArn, null);
  assert.equal(record.accountId, null);
  assert.equal(record.decision, null);
  assert.deepEqual(record.keyArns, []);
  assert.deepEqual(record.event.userIdentity, { type: "Unknown" });
  assert.equal(record.event.recipientAccountId, undefined);
  assert.equal(record.event.sourceIPAddress, null);
  assert.equal(record.event.requestParameters, null);
  assert.match(record.eventId, /^[0-9a-f-]{36}$/);
  assert.equal(JSON.stringify(record.event), canonicalJson(record.event));
  e.setPrincipal({
    arn: "arn:aws:iam::111122223333:root",
    accountId: "111122223333",
    accessKeyId: "A",
  });
  assert.equal(e.record().event.userIdentity["type"], "Root");
});

Deno.test("resources are deduplicated in order; identities by ARN", () => {
  const e = entry("ReEncrypt", "arn:aws:iam::111122223333:role/app");
  e.addResource(KEY_ARN);
  e.addResource(OTHER_ARN);
  e.addResource(KEY_ARN);
  const record = e.record();
  assert.deepEqual(record.keyArns, [KEY_ARN, OTHER_ARN]);
  assert.deepEqual(record.event.resources.map((r) => r["accountId"]), [
    "111122223333",
    "444455556666",
  ]);
  assert.equal(record.event.userIdentity["type"], "AssumedRole");
  assert.equal(JSON.stringify(record.event), canonicalJson(record.event));
  assert.equal(identityType("arn:aws:iam::111122223333:root"), "Root");
  assert.equal(identityType("arn:aws:iam::111122223333:user/a/b"), "IAMUser");
  assert.equal(identityType("arn:aws:iam::111122223333:role/r"), "AssumedRole");
  assert.equal(identityType("arn:aws:iam::111122223333:group/g"), "Unknown");
  assert.equal(cloudTrailTime(TIME), "2025-05-20T20:46:16Z");
});

Deno.test("markWritten marks the entry as written once", () => {
  const e = entry("CreateAlias");
  assert.equal(e.written, false);
  e.markWritten();
  assert.equal(e.written, true);
  const long = entry("X".repeat(500));
  assert.equal(long.operation.length, 128);
});

Deno.test("a serialised record travels as one line and comes back with the same fields and canonical event", () => {
  const e = entry("GenerateDataKey");
  e.addResource(KEY_ARN);
  e.setDecision("Allow");
  e.setRequestParameters("GenerateDataKey", {
    KeyId: KEY_ARN,
    EncryptionContext: { b: "2", a: "1", "__proto__": "x", "line\nbreak": "y" },
  });
  e.succeeded({ KeyId: KEY_ARN, CiphertextBlob: new Uint8Array(8) });
  const record = e.record();
  const buffered = serialized(record);
  const line = recordLine(buffered);
  assert.ok(!line.includes("\n"), "a line never holds a raw newline");
  assert.equal(recordLine(buffered), recordLine(record));
  const back = recordFromLine(line);
  const { event: _a, ...fields } = record;
  const { event: _b, ...backFields } = back;
  assert.deepEqual(backFields, fields);
  assert.equal(canonicalJson(back.event), canonicalJson(record.event));
  assert.equal(canonicalJson(buffered.event), canonicalJson(record.event));
  assert.equal(buffered.eventName, "GenerateDataKey");
  assert.deepEqual(buffered.keyArns, [KEY_ARN]);
});

Deno.test("a buffered entry travels as its fields and the worker builds the same record from them", () => {
  const variants: AuditEntry[] = [];
  const ok = entry("GenerateDataKey");
  ok.addResource(KEY_ARN);
  ok.setDecision("Allow");
  ok.setRequestParameters("GenerateDataKey", {
    KeyId: KEY_ARN,
    EncryptionContext: { b: "2", a: "1", "__proto__": "x", "line\nbreak": "y" },
  });
  ok.succeeded();
  variants.push(ok);
  const created = entry("CreateKey", "arn:aws:iam::111122223333:role/Admin");
  created.addResource(OTHER_ARN);
  created.setDecision("Allow");
  created.succeeded({ KeyMetadata: { KeyId: "k", Arn: OTHER_ARN } });
  variants.push(created);
  const denied = entry("Decrypt");
  denied.setRegion("eu-west-1");
  denied.setDecision("Deny");
  denied.failed("AccessDeniedException", "not allowed");
  variants.push(denied);
  const anonymous = new AuditEntry({
    time: TIME,
    requestId: "r",
    operation: "Encrypt",
    principal: null,
    sourceIp: null,
    userAgent: null,
    region: "us-east-1",
  });
  anonymous.setClaimedAccessKeyId("AKIACLAIMED");
  anonymous.setAggregate({ count: 3, firstTime: TIME, lastTime: TIME + 5, groupedBy: ["x"] });
  anonymous.failed("UnrecognizedClientException", "bad key");
  variants.push(anonymous);
  for (const e of variants) {
    const record = e.record();
    const buffered = e.buffered();
    const line = recordLine(buffered);
    assert.ok(!line.includes("\n"), "a line never holds a raw newline");
    assert.ok(!line.includes("eventSource"), "the line holds no CloudTrail event");
    const back = recordFromAnyLine(line);
    const { event: _a, ...fields } = record;
    const { event: _b, ...backFields } = back;
    const { event: _c, ...bufferedFields } = { ...buffered, event: null };
    assert.deepEqual(backFields, fields);
    assert.deepEqual(
      { ...bufferedFields },
      { ...fields, line },
    );
    assert.equal(canonicalJson(back.event), canonicalJson(record.event));
    assert.equal(canonicalJson(buffered.event), canonicalJson(record.event));
  }
  // A record line of the earlier form still reads.
  const old = serialized(ok.record());
  assert.equal(
    canonicalJson(recordFromAnyLine(recordLine(old)).event),
    canonicalJson(ok.record().event),
  );
});

Deno.test("cloudTrailTime formats each second, also after going back in time", () => {
  assert.equal(cloudTrailTime(TIME + 100), "2025-05-20T20:46:16Z");
  assert.equal(cloudTrailTime(TIME + 1000), "2025-05-20T20:46:17Z");
  assert.equal(cloudTrailTime(TIME - 1000), "2025-05-20T20:46:15Z");
  assert.equal(cloudTrailTime(0), "1970-01-01T00:00:00Z");
});
