/**
 * Function-level tests of `verifySigV4`. Requests are signed by an
 * independent client-side signer (smithy's SignatureV4 with the pure-JS
 * @aws-crypto/sha256-js, as an SDK would) and, once, by @aws-sdk/client-kms.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { KMSClient, ListKeysCommand } from "@aws-sdk/client-kms";
import { SignatureV4 } from "@smithy/signature-v4";
import type { HttpRequest } from "@smithy/types";
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  type KmsError,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from "../core/errors.ts";
import { SecretBytes } from "../core/secret.ts";
import type { Credential } from "../core/types.ts";
import { type SignedRequest, type SigV4Options, verifySigV4 } from "./sigv4.ts";
import { NodeSha256 } from "./sigv4_signing_key.ts";

const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const DISABLED_KEY_ID = "AKIAI44QH8DHBEXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION = "eu-west-1";
const HOST = "kms.eu-west-1.amazonaws.com";
const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const BODY = '{"KeyId":"alias/example","Plaintext":"aGVsbG8="}';
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const MISMATCH = "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN = "The security token included in the request is invalid.";
const PAYLOAD_HASH = "The provided 'x-amz-content-sha256' header does not match what was computed.";

type ErrorClass = new (message: string) => KmsError;

interface ClientSigning {
  body?: string;
  date?: number;
  region?: string;
  service?: string;
  accessKeyId?: string;
  secret?: string;
  sessionToken?: string;
  /** Adds x-amz-content-sha256 as the SDK does (default false). */
  applyChecksum?: boolean;
  /** Extra headers present (and signed unless listed in `unsigned`). */
  headers?: Record<string, string>;
  /** Headers left out of SignedHeaders. */
  unsigned?: string[];
  query?: Record<string, string>;
}

function credential(accessKeyId: string, secret: string, enabled = true): Credential {
  return {
    accessKeyId,
    secretAccessKey: new SecretBytes(new TextEncoder().encode(secret)),
    accountId: "111122223333",
    principalArn: "arn:aws:iam::111122223333:user/alice",
    enabled,
    createdAt: 0,
  };
}

const credentials = new Map<string, Credential>([
  [ACCESS_KEY_ID, credential(ACCESS_KEY_ID, SECRET)],
  [DISABLED_KEY_ID, credential(DISABLED_KEY_ID, SECRET, false)],
]);

function options(overrides: Partial<SigV4Options> = {}): SigV4Options {
  return {
    region: REGION,
    service: "kms",
    now: NOW,
    requiredSignedHeaders: ["host", "x-amz-target", "content-type"],
    lookupCredential: (id) => credentials.get(id) ?? null,
    ...overrides,
  };
}

/** Signs a KMS Encrypt request the way a client would. */
async function clientSigned(o: ClientSigning = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: o.accessKeyId ?? ACCESS_KEY_ID,
      secretAccessKey: o.secret ?? SECRET,
      ...(o.sessionToken === undefined ? {} : { sessionToken: o.sessionToken }),
    },
    region: o.region ?? REGION,
    service: o.service ?? "kms",
    sha256: Sha256,
    applyChecksum: o.applyChecksum ?? false,
  });
  const body = o.body ?? BODY;
  const request: HttpRequest = {
    method: "POST",
    protocol: "https:",
    hostname: HOST,
    path: "/",
    query: o.query ?? {},
    headers: {
      host: HOST,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "TrentService.Encrypt",
      ...o.headers,
    },
    body,
  };
  const signed = await signer.sign(request, {
    signingDate: new Date(o.date ?? NOW),
    unsignableHeaders: new Set(o.unsigned ?? []),
  });
  return toSignedRequest(signed, body);
}

/** Puts a signed smithy request on the "wire"; the query is encoded like smithy's fetch handler unless `formQuery`. */
function toSignedRequest(
  signed: HttpRequest,
  body: string | Uint8Array,
  formQuery = false,
): SignedRequest {
  const params = Object.entries(signed.query ?? {}) as [string, string][];
  const query = formQuery
    ? new URLSearchParams(params).toString()
    : params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return {
    method: signed.method,
    url: `https://${signed.hostname}${signed.path}${query === "" ? "" : `?${query}`}`,
    headers: new Headers(signed.headers),
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
  };
}

function withHeader(req: SignedRequest, name: string, value: string | null): SignedRequest {
  const headers = new Headers(req.headers);
  if (value === null) headers.delete(name);
  else headers.set(name, value);
  return { ...req, headers };
}

function withBody(req: SignedRequest, body: string): SignedRequest {
  return { ...req, body: new TextEncoder().encode(body) };
}

function editAuthorization(req: SignedRequest, edit: (value: string) => string): SignedRequest {
  return withHeader(req, "authorization", edit(req.headers.get("authorization") ?? ""));
}

function signatureOf(req: SignedRequest): string {
  return /Signature=([0-9a-f]{64})/.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  return assert.fail("the request was accepted");
}

/** Asserts the exception class, `name` and exact message, and that nothing secret leaked. */
async function assertRejects(
  promise: Promise<unknown>,
  errorClass: ErrorClass,
  message: string | RegExp,
): Promise<void> {
  const error = await rejection(promise);
  assert.ok(
    error instanceof errorClass,
    `expected ${errorClass.name}, got ${error.name}: ${error.message}`,
  );
  assert.equal(error.name, errorClass.name);
  if (typeof message === "string") assert.equal(error.message, message);
  else assert.match(error.message, message);
  assert.ok(!error.message.includes(SECRET), "message contains the secret");
  assert.doesNotMatch(error.message, /[0-9a-f]{64}/, "message contains a signature");
}

// ---- accepted ----

Deno.test("SigV4 accepts a KMS request signed by an independent signer and names the caller", async () => {
  const caller = await verifySigV4(await clientSigned(), options());
  assert.deepEqual(caller, {
    accessKeyId: ACCESS_KEY_ID,
    accountId: "111122223333",
    principalArn: "arn:aws:iam::111122223333:user/alice",
    region: REGION,
  });
});

Deno.test("SigV4 accepts a request carrying a correct signed x-amz-content-sha256", async () => {
  const req = await clientSigned({ applyChecksum: true });
  assert.ok(req.headers.has("x-amz-content-sha256"));
  await verifySigV4(req, options());
});

Deno.test("SigV4 accepts a request signed by @aws-sdk/client-kms", async () => {
  let captured: SignedRequest | undefined;
  const client = new KMSClient({
    region: REGION,
    endpoint: `https://${HOST}`,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    maxAttempts: 1,
    requestHandler: {
      handle: (request: HttpRequest) => {
        assert.ok(request.body instanceof Uint8Array || typeof request.body === "string");
        captured = toSignedRequest(request, request.body);
        return Promise.reject(new Error("captured"));
      },
    },
  });
  await assert.rejects(client.send(new ListKeysCommand({ Limit: 5 })), /captured/);
  assert.ok(captured !== undefined);
  const caller = await verifySigV4(captured, options({ now: Date.now() }));
  assert.equal(caller.accessKeyId, ACCESS_KEY_ID);
});

Deno.test("SigV4 accepts a request that also signs headers smithy leaves unsigned by default", async () => {
  const req = await clientSigned({ headers: { "user-agent": "aws-cli/2" } });
  const unsigned = await verifySigV4(req, options());
  assert.equal(unsigned.accessKeyId, ACCESS_KEY_ID);
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    region: REGION,
    service: "kms",
    sha256: Sha256,
    applyChecksum: false,
  });
  const request: HttpRequest = {
    method: "POST",
    protocol: "https:",
    hostname: HOST,
    path: "/",
    query: {},
    headers: {
      host: HOST,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "TrentService.Encrypt",
      "user-agent": "aws-cli/2",
    },
    body: BODY,
  };
  const signed = await signer.sign(request, {
    signingDate: new Date(NOW),
    signableHeaders: new Set(["user-agent"]),
  });
  assert.match(String(signed.headers["authorization"]), /SignedHeaders=[^,]*user-agent/);
  await verifySigV4(toSignedRequest(signed, BODY), options());
});

Deno.test("SigV4 accepts a signed header whose inner spaces changed, as canonicalisation collapses them", async () => {
  const req = await clientSigned({ headers: { "x-amz-user-agent": "aws-sdk-js/3 ua/2.1" } });
  await verifySigV4(withHeader(req, "x-amz-user-agent", "aws-sdk-js/3    ua/2.1"), options());
});

for (
  const [label, offset] of [
    ["4 min 59 s in the past", 4 * MINUTE + 59 * SECOND],
    [
      "exactly 5 min in the past",
      5 * MINUTE,
    ],
    ["4 min 59 s in the future", -(4 * MINUTE + 59 * SECOND)],
    ["exactly 5 min in the future", -5 * MINUTE],
  ] as const
) {
  Deno.test(`SigV4 accepts a request dated ${label}`, async () => {
    await verifySigV4(await clientSigned(), options({ now: NOW + offset }));
  });
}

Deno.test("SigV4 compares the clock at whole-second resolution", async () => {
  await verifySigV4(await clientSigned(), options({ now: NOW + 5 * MINUTE + 999 }));
});

Deno.test("SigV4 uses the current secret when a cached access key's secret changes", async () => {
  const id = "AKIAROTATEDEXAMPLE01";
  const store = new Map([[id, credential(id, "old-secret")]]);
  const opts = options({ lookupCredential: (k) => store.get(k) ?? null });
  await verifySigV4(await clientSigned({ accessKeyId: id, secret: "old-secret" }), opts);
  store.set(id, credential(id, "new-secret"));
  await verifySigV4(await clientSigned({ accessKeyId: id, secret: "new-secret" }), opts);
  await assertRejects(
    verifySigV4(await clientSigned({ accessKeyId: id, secret: "old-secret" }), opts),
    InvalidSignatureException,
    MISMATCH,
  );
});

// ---- Authorization header shape ----

Deno.test("SigV4 rejects a request without an Authorization header", async () => {
  const req = withHeader(await clientSigned(), "authorization", null);
  await assertRejects(
    verifySigV4(req, options()),
    MissingAuthenticationTokenException,
    "Missing Authentication Token",
  );
});

Deno.test("SigV4 rejects a non-AWS4 Authorization scheme as a missing token", async () => {
  const req = withHeader(await clientSigned(), "authorization", "Bearer abc.def");
  await assertRejects(
    verifySigV4(req, options()),
    MissingAuthenticationTokenException,
    "Missing Authentication Token",
  );
});

Deno.test("SigV4 rejects an algorithm other than AWS4-HMAC-SHA256", async () => {
  const req = editAuthorization(
    await clientSigned(),
    (v) => v.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
  );
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ",
  );
});

for (const param of ["Credential", "SignedHeaders", "Signature"]) {
  Deno.test(`SigV4 rejects an Authorization header without ${param}`, async () => {
    const req = editAuthorization(
      await clientSigned(),
      (v) => v.replace(new RegExp(`,? ?${param}=[^,]*`), ""),
    );
    await assertRejects(
      verifySigV4(req, options()),
      IncompleteSignatureException,
      `Authorization header requires '${param}' parameter.`,
    );
  });
}

Deno.test("SigV4 rejects an Authorization header with no parameters, naming all three", async () => {
  const req = withHeader(await clientSigned(), "authorization", "AWS4-HMAC-SHA256");
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Authorization header requires 'Credential' parameter. " +
      "Authorization header requires 'Signature' parameter. " +
      "Authorization header requires 'SignedHeaders' parameter.",
  );
});

Deno.test("SigV4 rejects an Authorization parameter without an equal sign", async () => {
  const req = editAuthorization(
    await clientSigned(),
    (v) => v.replace("SignedHeaders=", "SignedHeaders "),
  );
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    /^Invalid key=value pair \(missing equal-sign\) in Authorization header \(hashed with SHA-256 and encoded with Base64\): '[A-Za-z0-9+/]{43}='\.$/,
  );
});

Deno.test("SigV4 rejects a duplicated Authorization header", async () => {
  const req = await clientSigned();
  req.headers.append("authorization", req.headers.get("authorization") ?? "");
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Authorization header has an unexpected or repeated parameter: 'AWS4-HMAC-SHA256 Credential'.",
  );
});

Deno.test("SigV4 rejects an Authorization header repeating a parameter", async () => {
  const req = editAuthorization(await clientSigned(), (v) => `${v}, Signature=${"0".repeat(64)}`);
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Authorization header has an unexpected or repeated parameter: 'Signature'.",
  );
});

// ---- X-Amz-Date ----

Deno.test("SigV4 rejects a request without X-Amz-Date or Date", async () => {
  const req = withHeader(await clientSigned(), "x-amz-date", null);
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  );
});

Deno.test("SigV4 rejects a request dated only by the Date header", async () => {
  const req = withHeader(
    withHeader(await clientSigned(), "x-amz-date", null),
    "date",
    "Sun, 30 Aug 2015 12:36:00 GMT",
  );
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "This service requires the 'X-Amz-Date' header; a 'Date' header alone is not supported.",
  );
});

for (
  const bad of [
    "2015-08-30T12:36:00Z",
    "20150830T123600",
    "20150230T123600Z",
    "20150830T246000Z",
    "",
  ]
) {
  Deno.test(`SigV4 rejects X-Amz-Date '${bad}' as not ISO-8601 basic format`, async () => {
    const req = withHeader(await clientSigned(), "x-amz-date", bad);
    await assertRejects(
      verifySigV4(req, options()),
      IncompleteSignatureException,
      `Date must be in ISO-8601 'basic format'. Got '${bad}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  });
}

Deno.test("SigV4 rejects a duplicated X-Amz-Date header", async () => {
  const req = await clientSigned();
  req.headers.append("x-amz-date", "20150830T123600Z");
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Date must be in ISO-8601 'basic format'. Got '20150830T123600Z, 20150830T123600Z'. " +
      "See http://en.wikipedia.org/wiki/ISO_8601",
  );
});

Deno.test("SigV4 rejects a request dated 5 min 1 s in the past", async () => {
  await assertRejects(
    verifySigV4(await clientSigned(), options({ now: NOW + 5 * MINUTE + SECOND })),
    InvalidSignatureException,
    "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)",
  );
});

Deno.test("SigV4 rejects a request dated 5 min 1 s in the future", async () => {
  await assertRejects(
    verifySigV4(await clientSigned(), options({ now: NOW - 5 * MINUTE - SECOND })),
    InvalidSignatureException,
    "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T123059Z + 5 min.)",
  );
});

// ---- SignedHeaders ----

for (
  const [header, shown] of [
    ["host", "'Host' or ':authority'"],
    ["x-amz-target", "'X-Amz-Target'"],
    ["content-type", "'Content-Type'"],
    ["x-amz-date", "'X-Amz-Date'"],
  ] as const
) {
  Deno.test(`SigV4 rejects a request whose SignedHeaders lack ${header}`, async () => {
    const req = await clientSigned({ unsigned: [header] });
    await assertRejects(
      verifySigV4(req, options()),
      InvalidSignatureException,
      `${shown} must be a 'SignedHeader' in the AWS Authorization.`,
    );
  });
}

Deno.test("SigV4 rejects SignedHeaders naming a header the request does not carry", async () => {
  const req = editAuthorization(
    await clientSigned(),
    (v) => v.replace("host;", "host;x-amz-missing;"),
  );
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, MISMATCH);
});

Deno.test("SigV4 rejects SignedHeaders out of canonical order", async () => {
  const req = editAuthorization(
    await clientSigned(),
    (v) => v.replace("content-type;host;", "host;content-type;"),
  );
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, MISMATCH);
});

Deno.test("SigV4 rejects SignedHeaders that repeat a name", async () => {
  const req = editAuthorization(await clientSigned(), (v) => v.replace("host;", "host;host;"));
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, MISMATCH);
});

// ---- credential scope ----

Deno.test("SigV4 rejects a credential with four slash-delimited parts", async () => {
  const req = editAuthorization(await clientSigned(), (v) => v.replace("/aws4_request", ""));
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, " +
      `got '${ACCESS_KEY_ID}/20150830/${REGION}/kms'`,
  );
});

Deno.test("SigV4 rejects a credential with six slash-delimited parts", async () => {
  const req = editAuthorization(
    await clientSigned(),
    (v) => v.replace("/aws4_request", "/aws4_request/x"),
  );
  await assertRejects(
    verifySigV4(req, options()),
    IncompleteSignatureException,
    /^Credential must have exactly 5 slash-delimited elements/,
  );
});

Deno.test("SigV4 rejects a credential scoped to another region", async () => {
  const req = await clientSigned({ region: "us-west-2" });
  await assertRejects(
    verifySigV4(req, options()),
    InvalidSignatureException,
    "Credential should be scoped to a valid region. ",
  );
});

Deno.test("SigV4 rejects a credential scoped to another service", async () => {
  const req = await clientSigned({ service: "s3" });
  await assertRejects(
    verifySigV4(req, options()),
    InvalidSignatureException,
    "Credential should be scoped to correct service: 'kms'. ",
  );
});

Deno.test("SigV4 rejects a credential scope with a terminator other than aws4_request", async () => {
  const req = editAuthorization(
    await clientSigned(),
    (v) => v.replace("aws4_request", "aws5_request"),
  );
  await assertRejects(
    verifySigV4(req, options()),
    InvalidSignatureException,
    "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
  );
});

Deno.test("SigV4 rejects a credential scope dated another day than X-Amz-Date", async () => {
  const req = editAuthorization(await clientSigned(), (v) => v.replace("/20150830/", "/20150829/"));
  await assertRejects(
    verifySigV4(req, options()),
    InvalidSignatureException,
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
      "'20150829' != '20150830', from '20150830T123600Z'. ",
  );
});

Deno.test("SigV4 reports every credential scope fault at once", async () => {
  const req = editAuthorization(
    await clientSigned({ region: "us-west-2", service: "s3" }),
    (v) => v.replace("aws4_request", "aws5_request"),
  );
  await assertRejects(
    verifySigV4(req, options()),
    InvalidSignatureException,
    "Credential should be scoped to a valid region. " +
      "Credential should be scoped to correct service: 'kms'. " +
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
  );
});

// ---- who is calling ----

Deno.test("SigV4 rejects an unknown access key", async () => {
  const req = await clientSigned({ accessKeyId: "AKIAUNKNOWNEXAMPLE00" });
  await assertRejects(verifySigV4(req, options()), UnrecognizedClientException, INVALID_TOKEN);
});

Deno.test("SigV4 rejects a disabled access key", async () => {
  const req = await clientSigned({ accessKeyId: DISABLED_KEY_ID });
  await assertRejects(verifySigV4(req, options()), UnrecognizedClientException, INVALID_TOKEN);
});

Deno.test("SigV4 rejects a session token, which no credential here can have", async () => {
  const req = await clientSigned({ sessionToken: "FwoGZXIvYXdzEXAMPLE" });
  await assertRejects(verifySigV4(req, options()), UnrecognizedClientException, INVALID_TOKEN);
});

Deno.test("SigV4 rejects a request signed with the wrong secret without revealing either signature", async () => {
  const req = await clientSigned({ secret: "not-the-secret" });
  const right = signatureOf(await clientSigned());
  const error = await rejection(verifySigV4(req, options()));
  assert.ok(error instanceof InvalidSignatureException);
  assert.equal(error.message, MISMATCH);
  assert.ok(!error.message.includes(right) && !error.message.includes(signatureOf(req)));
});

// ---- the signature itself ----

for (
  const [label, edit] of [
    ["in upper-case hex", (s: string) => s.toUpperCase()],
    ["of 63 hex digits", (s: string) => s.slice(1)],
    ["of 65 hex digits", (s: string) => `${s}0`],
    ["that is not hex", (s: string) => `${s.slice(0, 62)}zz`],
    ["that is empty after the equal sign", () => ""],
  ] as const
) {
  Deno.test(`SigV4 rejects a signature ${label}`, async () => {
    const req = await clientSigned();
    const sig = signatureOf(req);
    const edited = editAuthorization(
      req,
      (v) => v.replace(`Signature=${sig}`, `Signature=${edit(sig)}`),
    );
    const expected = edit(sig) === "" ? IncompleteSignatureException : InvalidSignatureException;
    await assertRejects(
      verifySigV4(edited, options()),
      expected,
      expected === InvalidSignatureException ? MISMATCH : /requires 'Signature'/,
    );
  });
}

for (
  const [label, name, value] of [
    ["x-amz-target changed by one byte", "x-amz-target", "TrentService.Encrypu"],
    ["x-amz-target with a space added", "x-amz-target", "TrentService. Encrypt"],
    ["host changed by one byte", "host", "kms.eu-west-2.amazonaws.com"],
    ["content-type changed", "content-type", "application/x-amz-json-1.0"],
  ] as const
) {
  Deno.test(`SigV4 rejects a signed header changed after signing: ${label}`, async () => {
    const req = withHeader(await clientSigned(), name, value);
    await assertRejects(verifySigV4(req, options()), InvalidSignatureException, MISMATCH);
  });
}

for (
  const [label, body] of [
    ["one byte changed", BODY.replace("aGVsbG8=", "aGVsbG9=")],
    ["whitespace added", BODY.replace(":", ": ")],
    ["keys reordered", '{"Plaintext":"aGVsbG8=","KeyId":"alias/example"}'],
    [
      "a key duplicated",
      '{"KeyId":"alias/example","KeyId":"alias/example","Plaintext":"aGVsbG8="}',
    ],
    ["emptied", ""],
  ] as const
) {
  Deno.test(`SigV4 rejects a body changed after signing: ${label}`, async () => {
    const req = withBody(await clientSigned(), body);
    await assertRejects(verifySigV4(req, options()), InvalidSignatureException, MISMATCH);
  });
}

Deno.test("SigV4 rejects a body changed after signing when x-amz-content-sha256 was signed", async () => {
  const req = withBody(await clientSigned({ applyChecksum: true }), BODY.replace("a", "b"));
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, PAYLOAD_HASH);
});

Deno.test("SigV4 rejects a signed x-amz-content-sha256 that lies about the body", async () => {
  const lie = createHash("sha256").update("{}").digest("hex");
  const req = await clientSigned({ headers: { "x-amz-content-sha256": lie } });
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, PAYLOAD_HASH);
});

Deno.test("SigV4 rejects a signed UNSIGNED-PAYLOAD x-amz-content-sha256", async () => {
  const req = await clientSigned({ headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, PAYLOAD_HASH);
});

Deno.test("SigV4 rejects an unsigned x-amz-content-sha256 that lies about the body", async () => {
  const lie = createHash("sha256").update("{}").digest("hex");
  const req = withHeader(await clientSigned(), "x-amz-content-sha256", lie);
  await assertRejects(verifySigV4(req, options()), InvalidSignatureException, PAYLOAD_HASH);
});

Deno.test("SigV4 rejects a query parameter added after signing", async () => {
  const req = await clientSigned();
  await assertRejects(
    verifySigV4({ ...req, url: `${req.url}?Action=Decrypt` }, options()),
    InvalidSignatureException,
    MISMATCH,
  );
});

Deno.test("SigV4 rejects an X-Amz-Signature query parameter, which smithy would leave unsigned", async () => {
  const req = await clientSigned();
  await assertRejects(
    verifySigV4({ ...req, url: `${req.url}?X-Amz-Signature=anything` }, options()),
    InvalidSignatureException,
    MISMATCH,
  );
});

Deno.test("SigV4 accepts a signed query string", async () => {
  const req = await clientSigned({ query: { "b": "2 3", "a": "ሴ", "c": "1+1" } });
  assert.ok(req.url.endsWith("?b=2%203&a=%E1%88%B4&c=1%2B1"));
  await verifySigV4(req, options());
});

Deno.test("SigV4 reads '+' in the query as a space, as form encoding does", async () => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    region: REGION,
    service: "kms",
    sha256: Sha256,
  });
  const request: HttpRequest = {
    method: "POST",
    protocol: "https:",
    hostname: HOST,
    path: "/",
    query: { b: "2 3" },
    headers: {
      host: HOST,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "TrentService.Encrypt",
    },
    body: BODY,
  };
  const signed = await signer.sign(request, { signingDate: new Date(NOW) });
  const req = toSignedRequest(signed, BODY, true);
  assert.ok(req.url.endsWith("?b=2+3"));
  await verifySigV4(req, options());
});

// ---- the hash smithy is given ----

Deno.test("NodeSha256 hashes like node:crypto createHash and resets", async () => {
  const hash = new NodeSha256();
  hash.update(new TextEncoder().encode("abc"));
  const expected = createHash("sha256").update("abc").digest("hex");
  assert.equal((await hash.digest()).toHex(), expected);
  hash.reset();
  hash.update(new TextEncoder().encode("abc"));
  assert.equal(hash.digestSync().toHex(), expected);
});

for (
  const [label, key] of [
    ["a string key", "AWS4" + SECRET],
    ["a 32-byte key", new Uint8Array(32).fill(7)],
    ["a 64-byte key", new Uint8Array(64).fill(9)],
    ["a 100-byte key", new Uint8Array(100).fill(3)],
    ["an ArrayBuffer key", new Uint8Array([1, 2, 3]).buffer],
    ["a DataView key", new DataView(new Uint8Array([0, 1, 2, 3, 4]).buffer, 1, 3)],
  ] as const
) {
  Deno.test(`NodeSha256 computes HMAC-SHA256 like node:crypto createHmac with ${label}`, async () => {
    const hash = new NodeSha256(key);
    hash.update(new TextEncoder().encode("20150830"));
    hash.update(new TextEncoder().encode("/eu-west-1"));
    const keyBytes = typeof key === "string"
      ? key
      : ArrayBuffer.isView(key)
      ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength)
      : new Uint8Array(key);
    const expected = createHmac("sha256", keyBytes).update("20150830/eu-west-1").digest("hex");
    assert.equal((await hash.digest()).toHex(), expected);
  });
}
