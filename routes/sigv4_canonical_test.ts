import assert from "node:assert/strict";
import fc from "fast-check";
import { getCanonicalHeaders } from "@smithy/signature-v4";
import type { HeaderBag, HttpRequest } from "@smithy/types";
import { fixedShapeCanonicalRequest } from "./sigv4_canonical.ts";
import { toSmithyRequest } from "./sigv4.ts";
import { createSigner } from "./sigv4_signing_key.ts";

const PAYLOAD_HASH = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const signer = createSigner("AKIDEXAMPLE", "secret", "us-east-1", "kms") as unknown as {
  createCanonicalRequest(request: HttpRequest, headers: HeaderBag, payloadHash: string): string;
};

/** The canonical request smithy builds for the request the verifier would hand it. */
function smithyCanonicalRequest(
  req: { method: string; url: string; headers: Headers },
  names: string[],
): string {
  const request = toSmithyRequest({ ...req, body: new Uint8Array() }, names);
  const headers = getCanonicalHeaders(request, undefined, new Set(names));
  return signer.createCanonicalRequest(request, headers, PAYLOAD_HASH);
}

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&'*+^`|~".split("");
const VALUE_CHARS = "aZ09 \t-_/:;,.=\"'()".split("");
const headerName = fc.string({
  unit: fc.constantFrom(...TOKEN_CHARS),
  minLength: 1,
  maxLength: 12,
});
const headerValue = fc.string({ unit: fc.constantFrom(...VALUE_CHARS), maxLength: 24 });

Deno.test("the fixed-shape canonical request is smithy's, byte for byte, for any signed headers", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(headerName, headerValue), {
        minLength: 1,
        maxLength: 8,
        selector: ([name]) => name,
      }),
      fc.boolean(),
      fc.constantFrom("POST", "GET"),
      (pairs, signHost, method) => {
        const headers = new Headers();
        for (const [name, value] of pairs) headers.set(name, value);
        // A host named but not sent comes from the URL's authority, as smithy's input does.
        const names = [...new Set([...pairs.map(([name]) => name), ...(signHost ? ["host"] : [])])]
          .sort();
        const req = { method, url: "http://127.0.0.1:8080/", headers };
        const fast = fixedShapeCanonicalRequest(req, names, PAYLOAD_HASH);
        // `__proto__` is left to smithy (its own special case); every other name is built here.
        if (names.includes("__proto__")) assert.equal(fast, null);
        else assert.equal(fast, smithyCanonicalRequest(req, names));
      },
    ),
    { numRuns: 500, seed: 20261207 },
  );
});

Deno.test("an AWS SDK's KMS request gets smithy's canonical request", () => {
  const headers = new Headers({
    host: "kms.us-east-1.amazonaws.com",
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "TrentService.GenerateDataKey",
    "x-amz-date": "20261207T170000Z",
    "x-amz-content-sha256": PAYLOAD_HASH,
    "x-amz-user-agent": "aws-sdk-js/3.1160.0",
    "amz-sdk-invocation-id": "0c9d4a39-5a5c-4f0b-8a9e-4c1f1b9d0f7e",
    "amz-sdk-request": "attempt=1; max=3",
    "content-length": "87",
  });
  const names = [...headers.keys()].sort();
  const req = { method: "POST", url: "https://kms.us-east-1.amazonaws.com/", headers };
  const fast = fixedShapeCanonicalRequest(req, names, PAYLOAD_HASH);
  assert.ok(fast !== null);
  assert.equal(fast, smithyCanonicalRequest(req, names));
});

Deno.test("any other shape is left to smithy: a path, a query, unsorted, repeated, uppercase or missing names", () => {
  const headers = new Headers({ host: "h", "x-amz-date": "20261207T170000Z" });
  const cases: [string, string[]][] = [
    ["http://h/path", ["host", "x-amz-date"]],
    ["http://h/?a=1", ["host", "x-amz-date"]],
    ["http://h/#f", ["host", "x-amz-date"]],
    ["http://user@h/", ["host", "x-amz-date"]],
    ["http://h", ["host", "x-amz-date"]],
    ["http://h/", ["x-amz-date", "host"]],
    ["http://h/", ["host", "host", "x-amz-date"]],
    ["http://h/", ["Host", "x-amz-date"]],
    ["http://h/", ["host", "x-amz-absent"]],
    ["http://h/", ["", "host"]],
  ];
  for (const [url, names] of cases) {
    assert.equal(
      fixedShapeCanonicalRequest({ method: "POST", url, headers }, names, PAYLOAD_HASH),
      null,
      `${url} ${names.join(";")}`,
    );
  }
});
