import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson } from "./chain.ts";
import { compactHashInput, expandEvent, isCompact } from "./compact.ts";
import { AuditEntry, type AuditPrincipal } from "./entry.ts";
import { compactStoredText, isEntryLine, prepareEntryLine } from "./prepared.ts";
import { recordLine } from "./record.ts";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const T = Date.UTC(2026, 5, 1, 10, 20, 30, 456);
const ROLE: AuditPrincipal = {
  arn: "arn:aws:iam::111122223333:role/app",
  accountId: "111122223333",
  accessKeyId: "AKIAEXAMPLE",
};

/** Prepares the entry's buffered line and checks it against the entry's own record. */
function assertPreparedLikeRecord(entry: AuditEntry): void {
  const line = recordLine(entry.buffered());
  assert.ok(isEntryLine(line));
  const prepared = prepareEntryLine(line);
  // Written by hand member by member: the same text as the compact object's JSON.stringify.
  assert.equal(prepared.stored, compactStoredText(line));
  const record = entry.record();
  const dictionary = new Map<string, string>();
  for (let i = 0; i < prepared.refs.length; i += 2) {
    dictionary.set(prepared.refs[i]!, prepared.refs[i + 1]!);
  }
  const parsed = JSON.parse(prepared.stored);
  assert.ok(isCompact(parsed));
  assert.equal(parsed.v, 2);
  const back = expandEvent(parsed, entry.time, (ref) => dictionary.get(ref));
  assert.equal(canonicalJson(back), canonicalJson(record.event));
  assert.equal(
    compactHashInput(prepared.stored, entry.time, parsed, (ref) => dictionary.get(ref)),
    prepared.hashInput,
  );
  assert.equal(canonicalJson(prepared.event), canonicalJson(record.event));
  const { event: _event, ...fields } = record;
  assert.deepEqual(
    {
      eventTime: prepared.eventTime,
      requestId: prepared.requestId,
      eventId: prepared.eventId,
      eventName: prepared.eventName,
      principalArn: prepared.principalArn,
      accountId: prepared.accountId,
      keyArns: prepared.keyArns,
      decision: prepared.decision,
      errorCode: prepared.errorCode,
    },
    fields,
  );
  // The generated columns SQLite reads from the stored text.
  assert.equal(parsed.requestID, record.requestId);
  assert.equal(parsed.eventName, record.eventName);
  assert.equal(parsed.decision ?? null, record.decision);
  assert.equal(parsed.errorCode ?? null, record.errorCode);
}

function entry(
  options: {
    principal?: AuditPrincipal | null;
    keys?: string[];
    error?: boolean;
    operation?: string;
    eventId?: string;
  } = {},
): AuditEntry {
  const operation = options.operation ?? "GenerateDataKey";
  const e = new AuditEntry({
    time: T,
    requestId: crypto.randomUUID(),
    operation,
    principal: options.principal === undefined ? ROLE : options.principal,
    sourceIp: "10.1.2.3",
    userAgent: "aws-sdk-js/3.0",
    region: "us-east-1",
    ...(options.eventId === undefined ? {} : { eventId: options.eventId }),
  });
  for (const key of options.keys ?? [KEY]) e.addResource(key);
  e.setDecision("Allow");
  e.setRequestParameters(operation, {
    KeyId: "alias/app",
    KeySpec: "AES_256",
    EncryptionContext: { tenant: "t-1" },
  });
  if (options.error === true) e.failed("DisabledException", "key is disabled");
  else e.succeeded();
  return e;
}

Deno.test("an entry line prepared by the audit worker expands to the entry's own event", () => {
  assertPreparedLikeRecord(entry());
  assertPreparedLikeRecord(entry({ error: true }));
  assertPreparedLikeRecord(entry({ principal: null, keys: [] }));
  assertPreparedLikeRecord(entry({ keys: [KEY, KEY.replace("1234abcd", "9999abcd")] }));
  assertPreparedLikeRecord(entry({ keys: ["arn:aws:kms:us-east-1:111122223333:alias/x"] }));
  assertPreparedLikeRecord(entry({ eventId: "not-a-uuid" }));
  assertPreparedLikeRecord(entry({ operation: "ListKeys", keys: [] }));
  const unauthenticated = entry({ principal: null, error: true });
  unauthenticated.setClaimedAccessKeyId("AKIACLAIMED");
  unauthenticated.setAggregate({
    count: 3,
    firstTime: T - 1000,
    lastTime: T,
    groupedBy: ["sourceIPAddress"],
  });
  assertPreparedLikeRecord(unauthenticated);
  const created = entry({ operation: "CreateAlias" });
  created.succeeded({ KeyMetadata: { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" } });
  assertPreparedLikeRecord(created);
  const noParameters = entry();
  noParameters.setRequestParameters("ListAliases", {});
  assertPreparedLikeRecord(noParameters);
});

Deno.test("the same caller in another context is stored under another context reference", () => {
  const a = prepareEntryLine(recordLine(entry().buffered()));
  const other = entry();
  other.setRegion("eu-west-1");
  const b = prepareEntryLine(recordLine(other.buffered()));
  assert.notEqual(JSON.parse(a.stored).c, JSON.parse(b.stored).c);
  assertPreparedLikeRecord(other);
});

Deno.test("each of consecutive lines gets its own caller's context, not the previous line's", () => {
  const base = entry();
  const otherAgent = new AuditEntry({
    time: T,
    requestId: crypto.randomUUID(),
    operation: "GenerateDataKey",
    principal: ROLE,
    sourceIp: "10.1.2.3",
    userAgent: "aws-cli/2.9",
    region: "us-east-1",
  });
  const otherKey = entry({ principal: { ...ROLE, accessKeyId: "AKIAOTHER" } });
  const otherType = entry({ principal: { ...ROLE, type: "IAMUser" } });
  const contexts = [base, otherAgent, base, otherType, base, otherKey, otherKey].map((e) => {
    assertPreparedLikeRecord(e);
    return JSON.parse(prepareEntryLine(recordLine(e.buffered())).stored).c;
  });
  assert.equal(new Set(contexts).size, 4);
  assert.equal(contexts[0], contexts[2]);
  assert.equal(contexts[0], contexts[4]);
  assert.equal(contexts[5], contexts[6]);
});

Deno.test("any caller, user agent, parameters and error prepare to the entry's event (property)", () => {
  const json = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<unknown>;
  fc.assert(
    fc.property(
      fc.option(fc.string({ maxLength: 20 })),
      fc.option(fc.string({ maxLength: 12 })),
      fc.option(
        fc.record({
          arn: fc.constantFrom(
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:role/app",
            "arn:aws:sts::111122223333:assumed-role/app/s",
            "arn:aws:iam::111122223333:group/x",
          ),
          accountId: fc.constantFrom("111122223333", "444455556666"),
          accessKeyId: fc.string({ minLength: 1, maxLength: 8 }),
        }),
      ),
      fc.array(fc.constantFrom(KEY, KEY.replace("111122223333", "444455556666"), "alias/x"), {
        maxLength: 3,
      }),
      fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 }),
      fc.option(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))),
      fc.constantFrom("GenerateDataKey", "Encrypt", "ListKeys", "CreateKey", "Nonsense"),
      (userAgent, sourceIp, principal, keys, extra, error, operation) => {
        const e = new AuditEntry({
          time: T,
          requestId: crypto.randomUUID(),
          operation,
          principal,
          sourceIp,
          userAgent,
          region: "us-east-1",
        });
        for (const key of keys) e.addResource(key);
        if (principal !== null) e.setDecision("Deny");
        e.setRequestParameters(operation, { ...(extra as object), KeyId: keys[0] });
        if (error === null) e.succeeded();
        else e.failed(error[0], error[1]);
        assertPreparedLikeRecord(e);
        return true;
      },
    ),
    { numRuns: 300 },
  );
});
