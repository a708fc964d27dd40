import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson } from "./chain.ts";
import { compactEvent, compactEventId, expandEvent, isCompact } from "./compact.ts";
import { AuditEntry } from "./entry.ts";
import type { AuditEvent } from "./record.ts";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const T = Date.UTC(2026, 5, 1, 10, 20, 30, 456);

function roundTrip(
  event: AuditEvent,
  time = T,
): { stored: string | null; back: AuditEvent | null } {
  const refs = new Map<string, string>();
  const stored = compactEvent(event, time, refs);
  if (stored === null) return { stored, back: null };
  const parsed = JSON.parse(stored);
  assert.ok(isCompact(parsed));
  return { stored, back: expandEvent(parsed, time, (ref) => refs.get(ref)) };
}

function entry(options: { error?: boolean; principal?: boolean; keys?: string[] } = {}) {
  const e = new AuditEntry({
    time: T,
    requestId: crypto.randomUUID(),
    operation: "GenerateDataKey",
    principal: options.principal === false ? null : {
      arn: "arn:aws:iam::111122223333:role/app",
      accountId: "111122223333",
      accessKeyId: "AKIAEXAMPLE",
    },
    sourceIp: "10.1.2.3",
    userAgent: "aws-sdk-js/3.0",
    region: "us-east-1",
  });
  for (const key of options.keys ?? [KEY]) e.addResource(key);
  e.setDecision("Allow");
  e.setRequestParameters("GenerateDataKey", {
    KeyId: "alias/app",
    KeySpec: "AES_256",
    EncryptionContext: { tenant: "t-1" },
  });
  if (options.error === true) e.failed("DisabledException", "key is disabled");
  else e.succeeded();
  return e;
}

Deno.test("a GenerateDataKey event expands back to the same canonical JSON, in a quarter of its size", () => {
  const event = entry().record().event;
  const { stored, back } = roundTrip(event);
  assert.ok(stored !== null && back !== null);
  assert.equal(canonicalJson(back), canonicalJson(event));
  assert.ok(stored.length * 4 < canonicalJson(event).length, `${stored.length} bytes stored`);
  // The columns SQLite generates from the event still find their members.
  const parsed = JSON.parse(stored);
  assert.equal(parsed.requestID, event.requestID);
  assert.equal(parsed.eventName, "GenerateDataKey");
  assert.equal(parsed.decision, "Allow");
});

Deno.test("failed, unauthenticated, keyless and several-key events round-trip exactly", () => {
  for (
    const e of [
      entry({ error: true }),
      entry({ principal: false }),
      entry({ keys: [] }),
      entry({ keys: [KEY, KEY.replace("1234abcd", "9999abcd")] }),
      entry({ keys: ["arn:aws:kms:us-east-1:111122223333:alias/not-a-key"] }),
    ]
  ) {
    const event = e.record().event;
    const { back } = roundTrip(event);
    assert.equal(canonicalJson(back), canonicalJson(event));
  }
});

Deno.test("members that differ from the derived ones, or are missing, are kept as they are", () => {
  const base = entry().record().event;
  const variants: AuditEvent[] = [
    { ...base, eventTime: "2020-01-01T00:00:00Z" },
    { ...base, readOnly: false },
    { ...base, recipientAccountId: undefined },
    { ...base, recipientAccountId: "999999999999" },
    { ...base, eventVersion: "1.09" as "1.08" },
    { ...base, responseElements: { keyId: KEY } },
    { ...base, eventID: "not-a-uuid" },
    { ...base, userAgent: null, sourceIPAddress: null },
    { ...base, requestParameters: null },
    { ...base, additionalEventData: { requestCount: 3 } },
  ];
  for (const event of variants) {
    const { back } = roundTrip(event);
    assert.equal(canonicalJson(back), canonicalJson(event));
  }
  const withoutTime = { ...base } as Record<string, unknown>;
  delete withoutTime["eventTime"];
  const { back } = roundTrip(withoutTime as AuditEvent);
  assert.equal(canonicalJson(back), canonicalJson(withoutTime));
});

Deno.test("an event using a member name of the compact form is not compacted", () => {
  const event = { ...entry().record().event, v: 1 } as unknown as AuditEvent;
  assert.equal(roundTrip(event).stored, null);
});

Deno.test("a compact form whose dictionary entry is missing or altered does not expand to the event", () => {
  const event = entry().record().event;
  const refs = new Map<string, string>();
  const stored = JSON.parse(compactEvent(event, T, refs)!);
  assert.equal(expandEvent(stored, T, () => undefined), null);
  const altered = expandEvent(stored, T, (ref) => refs.get(ref)?.replace("role/app", "role/evil"));
  assert.notEqual(canonicalJson(altered), canonicalJson(event));
});

Deno.test("any JSON request parameters and encryption context round-trip exactly (property)", () => {
  const json = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<unknown>;
  let compacted = 0;
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
      fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 }),
      fc.string({ maxLength: 20 }),
      (context, extra, userAgent) => {
        const base = entry().record().event;
        const event = JSON.parse(JSON.stringify({
          ...base,
          userAgent,
          requestParameters: { ...extra, keyId: "alias/x", encryptionContext: context },
        })) as AuditEvent;
        const { stored, back } = roundTrip(event);
        if (stored !== null) {
          compacted++;
          assert.equal(canonicalJson(back), canonicalJson(event));
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  assert.ok(compacted > 250, `only ${compacted} of 300 compacted`);
});

Deno.test("an eventID UUID is stored as the base64url of its 16 bytes (property)", () => {
  const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
  fc.assert(
    fc.property(hex, (digits) => {
      const uuid = `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${
        digits.slice(16, 20)
      }-${digits.slice(20)}`;
      const bytes = Uint8Array.fromHex(digits);
      assert.equal(
        compactEventId(uuid),
        bytes.toBase64({ alphabet: "base64url", omitPadding: true }),
      );
      return true;
    }),
    { numRuns: 500 },
  );
  assert.equal(compactEventId("00000000-0000-0000-0000-000000000000"), "A".repeat(22));
  assert.equal(compactEventId("ffffffff-ffff-ffff-ffff-ffffffffffff"), "_".repeat(21) + "w");
  assert.equal(compactEventId("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"), null);
});
