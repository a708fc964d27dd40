/**
 * Authentication before expensive work, and AWS's answers to malformed input (issue 13):
 * an unsigned or badly signed body is refused by SigV4 whatever it holds (it is never parsed);
 * a flood of unsigned requests is audited in aggregate (bounded database growth) and counted in
 * the metrics; a signed body with deep nesting, a byte order mark or a member of the wrong JSON
 * type gets SerializationException in AWS's words; a missing required member reads
 * "Value null at ..."; a key or alias ARN must name the partition of its Region.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand } from "@aws-sdk/client-kms";
import { keyArn, parseKeyIdentifier, partitionOf } from "../core/identifiers.ts";
import { MAX_JSON_DEPTH } from "../routes/protocol.ts";
import { ACCOUNT_ID, ADMIN, errorName, REGION, startServer, withServer } from "./helpers/server.ts";
import { type RawReply, sendSigned, signedFetch, signRequest } from "./helpers/signed_fetch.ts";

const AMZ_HEADERS = {
  "content-type": "application/x-amz-json-1.1",
  "x-amz-target": "TrentService.CreateKey",
};

/** Bodies of about 1 MB that are costly to parse: deep, wide, and not JSON at all. */
function costlyBodies(): Record<string, string> {
  const depth = 500_000;
  const wide: string[] = [];
  for (let i = 0; i < 60_000; i++) wide.push(`"k${i}":${i}`);
  return {
    "nested 500,000 deep": "[".repeat(depth) + "]".repeat(depth),
    "an object with 60,000 keys": `{${wide.join(",")}}`,
    "invalid JSON": "{" + '"a":'.repeat(250_000),
  };
}

async function rawPost(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<RawReply> {
  const response = await fetch(new URL("/", url), { method: "POST", headers, body });
  const json = await response.json() as Record<string, unknown>;
  return {
    status: response.status,
    type: json.__type as string | undefined,
    message: json.message as string | undefined,
    body: json,
  };
}

Deno.test("an unsigned or badly signed 1 MB body gets the authentication error, not a parse error", () =>
  withServer(async (server) => {
    for (const [name, body] of Object.entries(costlyBodies())) {
      assert.ok(body.length > 600_000 && body.length <= 1024 * 1024, name);
      const unsigned = await rawPost(server.url, body, AMZ_HEADERS);
      assert.equal(unsigned.status, 403, name);
      assert.equal(unsigned.type, "MissingAuthenticationTokenException", name);
      const wrongSecret = await sendSigned(
        server.url,
        await signRequest(server.url, body, {
          target: "TrentService.CreateKey",
          secret: "not-the-secret",
        }),
      );
      assert.equal(wrongSecret.type, "InvalidSignatureException", name);
      const unknownKey = await sendSigned(
        server.url,
        await signRequest(server.url, body, {
          target: "TrentService.CreateKey",
          accessKeyId: "AKIAUNKNOWN000000000",
        }),
      );
      assert.equal(unknownKey.type, "UnrecognizedClientException", name);
    }
    // The same bodies signed are parsed, and refused as AWS refuses them.
    const signedDeep = await signedFetch(
      server.url,
      "CreateKey",
      costlyBodies()["nested 500,000 deep"]!,
    );
    assert.equal(signedDeep.type, "SerializationException");
  }));

Deno.test("unauthenticated failures are counted per exception in GET /metrics", () =>
  withServer(async (server) => {
    for (let i = 0; i < 3; i++) await rawPost(server.url, "{}", AMZ_HEADERS);
    await sendSigned(
      server.url,
      await signRequest(server.url, "{}", { accessKeyId: "AKIAUNKNOWN000000000" }),
    );
    const text = await (await fetch(new URL("/metrics", server.url))).text();
    assert.match(
      text,
      /^kms_auth_failures_total\{exception="MissingAuthenticationTokenException"\} 3$/m,
    );
    assert.match(text, /^kms_auth_failures_total\{exception="UnrecognizedClientException"\} 1$/m);
    assert.doesNotMatch(text, /kms_auth_failures_total\{exception="SerializationException"\}/);
  }));

async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of ["kms.db", "kms.db-wal"]) {
    try {
      total += (await Deno.stat(`${dir}/${name}`)).size;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return total;
}

Deno.test("20,000 unsigned requests grow the database by at most 1 MB and are all accounted for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-auth-flood-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    const first = await startServer({ dbUrl });
    let before: number;
    try {
      const audit = first.service.audit!;
      await audit.buffer.flush();
      before = await storedBytes(dir);
      const rowsBefore = (await audit.store.query({ limit: 100_000 })).length;
      const requests = 20_000;
      for (let i = 0; i < requests; i++) {
        const response = await first.service.app.request("http://127.0.0.1/", {
          method: "POST",
          headers: { ...AMZ_HEADERS, "user-agent": `flood/${i}` },
          body: `{"Description":"${i}"}`,
        });
        assert.equal(response.status, 403);
        await response.body?.cancel();
      }
      await audit.buffer.flush();
      const grown = await storedBytes(dir) - before;
      assert.ok(grown <= 1024 * 1024, `the database grew by ${grown} bytes`);
      const rowsAfter = (await audit.store.query({ limit: 100_000 })).length;
      assert.ok(rowsAfter - rowsBefore <= 2, `${rowsAfter - rowsBefore} audit rows added`);
    } finally {
      await first.close();
    }
    // Closing wrote the pending count: the records stand for every request, once.
    const again = await startServer({ dbUrl });
    try {
      const failures = await again.service.audit!.store.query({
        errorCode: "MissingAuthenticationTokenException",
        limit: 100_000,
      });
      const counted = failures.reduce((sum, stored) => {
        const count = stored.event.additionalEventData?.["requestCount"];
        return sum + (typeof count === "number" ? count : 1);
      }, 0);
      assert.equal(counted, 20_000);
      assert.ok(failures.length <= 2);
      const aggregate = failures.find((f) => f.event.additionalEventData !== undefined)!;
      assert.deepEqual(aggregate.event.additionalEventData?.["aggregatedBy"], [
        "errorCode",
        "sourceIPAddress",
        "userIdentity.accessKeyId",
      ]);
      assert.equal((await again.service.audit!.store.verify()).ok, true);
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a signed body nested deeper than the bound gets SerializationException, never a 500", () =>
  withServer(async (server) => {
    const deep = (n: number) => `{"KeySpec":${"[".repeat(n)}${"]".repeat(n)}}`;
    for (const depth of [3_000, MAX_JSON_DEPTH]) {
      const reply = await signedFetch(server.url, "CreateKey", deep(depth));
      assert.equal(reply.status, 400, `depth ${depth}`);
      assert.equal(reply.type, "SerializationException", `depth ${depth}`);
    }
    // Within the bound, the nesting itself is no error: the list in a string field is.
    const shallow = await signedFetch(server.url, "CreateKey", deep(MAX_JSON_DEPTH - 2));
    assert.equal(shallow.type, "SerializationException");
    assert.equal(shallow.message, "Start of list found where not expected");
  }));

Deno.test("a member of the wrong JSON type gets SerializationException in AWS's words", () =>
  withServer(async (server) => {
    const cases: [string, string, string][] = [
      ["CreateKey", '{"KeySpec":["RSA_2048"]}', "Start of list found where not expected"],
      ["CreateKey", '{"KeySpec":{"a":1}}', "Start of structure or map found where not expected."],
      ["CreateKey", '{"KeySpec":7}', "NUMBER_VALUE can not be converted to a String"],
      ["CreateKey", '{"Description":true}', "TRUE_VALUE can not be converted to a String"],
      ["CreateKey", '{"MultiRegion":"yes"}', "STRING_VALUE can not be converted to a Boolean"],
      ["CreateKey", '{"Tags":"x"}', "Expected list or null"],
      [
        "CreateKey",
        '{"Tags":[{"TagKey":5,"TagValue":"v"}]}',
        "NUMBER_VALUE can not be converted to a String",
      ],
      ["ListKeys", '{"Limit":"5"}', "STRING_VALUE can not be converted to an Integer"],
      ["ListKeys", '{"Limit":[5]}', "Start of list found where not expected"],
      ["DescribeKey", '{"KeyId":{"a":"b"}}', "Start of structure or map found where not expected."],
      [
        "Encrypt",
        '{"KeyId":"k","Plaintext":"AQ==","EncryptionContext":[]}',
        "Start of list found where not expected",
      ],
      [
        "Encrypt",
        '{"KeyId":"k","Plaintext":"AQ==","EncryptionContext":{"a":1}}',
        "NUMBER_VALUE can not be converted to a String",
      ],
      ["ListKeys", "[]", "Start of list found where not expected"],
    ];
    for (const [operation, body, message] of cases) {
      const reply = await signedFetch(server.url, operation, body);
      assert.equal(reply.status, 400, body);
      assert.equal(reply.type, "SerializationException", body);
      assert.equal(reply.message, message, body);
      assert.ok(!reply.message!.includes("[object"), body);
    }
  }));

Deno.test("a body that starts with a UTF-8 byte order mark gets SerializationException", () =>
  withServer(async (server) => {
    const withBom = await signedFetch(server.url, "ListKeys", "\uFEFF{}");
    assert.equal(withBom.status, 400);
    assert.equal(withBom.type, "SerializationException");
    const without = await signedFetch(server.url, "ListKeys", "{}");
    assert.equal(without.status, 200);
  }));

Deno.test("a missing or null required member reads 'Value null at ...: Member must not be null'", () =>
  withServer(async (server) => {
    const { KeyMetadata } = await server.client.send(new CreateKeyCommand({}));
    const keyId = KeyMetadata!.KeyId!;
    const expected = "1 validation error detected: Value null at 'keyPairSpec' failed to satisfy " +
      "constraint: Member must not be null";
    for (const body of [{ KeyId: keyId }, { KeyId: keyId, KeyPairSpec: null }]) {
      const reply = await signedFetch(server.url, "GenerateDataKeyPair", JSON.stringify(body));
      assert.equal(reply.type, "ValidationException");
      assert.equal(reply.message, expected);
    }
    // A null optional member is an absent one, as AWS reads it.
    const listed = await signedFetch(server.url, "ListKeys", '{"Limit":null,"Marker":null}');
    assert.equal(listed.status, 200);
  }));

Deno.test("error messages quote at most a bounded piece of the input", () =>
  withServer(async (server) => {
    const huge = "X".repeat(200_000);
    const badEnum = await signedFetch(server.url, "CreateKey", JSON.stringify({ KeyUsage: huge }));
    assert.equal(badEnum.type, "ValidationException");
    assert.ok(badEnum.message!.length < 1_000, `${badEnum.message!.length} characters`);
    const badTarget = await rawPost(server.url, "{}", {
      ...AMZ_HEADERS,
      "x-amz-target": `TrentService.${"Y".repeat(10_000)}`,
    });
    assert.equal(badTarget.type, "UnknownOperationException");
    assert.ok(badTarget.message!.length < 1_000);
    const badCredential = await rawPost(server.url, "{}", {
      ...AMZ_HEADERS,
      "x-amz-date": "20250101T000000Z",
      authorization: `AWS4-HMAC-SHA256 Credential=${"Z".repeat(10_000)}, SignedHeaders=host, ` +
        `Signature=${"0".repeat(64)}`,
    });
    assert.ok(badCredential.status >= 400 && badCredential.status < 500);
    assert.ok(badCredential.message!.length < 1_000, `${badCredential.message!.length}`);
  }));

Deno.test("partitionOf: cn-* is aws-cn, us-gov-* is aws-us-gov, any other Region aws", () => {
  assert.equal(partitionOf("cn-north-1"), "aws-cn");
  assert.equal(partitionOf("cn-northwest-1"), "aws-cn");
  assert.equal(partitionOf("us-gov-west-1"), "aws-us-gov");
  assert.equal(partitionOf("us-east-1"), "aws");
  assert.equal(partitionOf("eu-central-1"), "aws");
  const id = "1234abcd-12ab-34cd-56ef-1234567890ab";
  assert.equal(
    keyArn("cn-north-1", ACCOUNT_ID, id),
    `arn:aws-cn:kms:cn-north-1:${ACCOUNT_ID}:key/${id}`,
  );
  assert.equal(
    keyArn("us-east-1", ACCOUNT_ID, id),
    `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${id}`,
  );
  assert.equal(parseKeyIdentifier(keyArn("us-gov-west-1", ACCOUNT_ID, id)).kind, "keyArn");
});

Deno.test("a key or alias ARN naming another partition than its Region's finds no key", () =>
  withServer(async (server) => {
    const { KeyMetadata } = await server.client.send(new CreateKeyCommand({}));
    const arn = KeyMetadata!.Arn!;
    assert.ok(arn.startsWith(`arn:aws:kms:${REGION}:`));
    await server.client.send(
      new CreateAliasCommand({ AliasName: "alias/partition", TargetKeyId: KeyMetadata!.KeyId! }),
    );
    const aliasArn = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/partition`;
    for (const found of [arn, aliasArn]) {
      const { KeyMetadata: described } = await server.client.send(
        new DescribeKeyCommand({ KeyId: found }),
      );
      assert.equal(described!.KeyId, KeyMetadata!.KeyId);
    }
    for (const partition of ["aws-cn", "aws-us-gov"]) {
      for (const other of [arn, aliasArn]) {
        const foreign = other.replace(/^arn:aws:/, `arn:${partition}:`);
        assert.equal(
          await errorName(server.client.send(new DescribeKeyCommand({ KeyId: foreign }))),
          "NotFoundException",
          foreign,
        );
      }
    }
  }));

Deno.test("keys created in a China Region have aws-cn ARNs, found by them and not by aws ones", () =>
  withServer(async (server) => {
    const client = server.clientFor(ADMIN, "cn-north-1");
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    const arn = KeyMetadata!.Arn!;
    assert.equal(arn, `arn:aws-cn:kms:cn-north-1:${ACCOUNT_ID}:key/${KeyMetadata!.KeyId}`);
    const { KeyMetadata: described } = await client.send(new DescribeKeyCommand({ KeyId: arn }));
    assert.equal(described!.Arn, arn);
    assert.equal(
      await errorName(
        client.send(new DescribeKeyCommand({ KeyId: arn.replace("arn:aws-cn:", "arn:aws:") })),
      ),
      "NotFoundException",
    );
  }, { env: { KMS_REGION: "cn-north-1" } }));
