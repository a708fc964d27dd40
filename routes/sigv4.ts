/**
 * AWS Signature Version 4 verification of incoming requests (Authorization
 * header form only; presigned URLs are not accepted).
 *
 * The canonical request of KMS's own shape (`POST /`, no query, lowercase
 * sorted `SignedHeaders`) is built directly from the headers
 * (routes/sigv4_canonical.ts); any other comes from `@smithy/signature-v4`:
 * the request is rebuilt with exactly the headers the client named in
 * `SignedHeaders`. Either is signed again with the caller's secret, then the
 * two signatures are compared in constant time. Everything around
 * that (header parsing, clock skew, credential scope, payload hash) is checked
 * here first (routes/sigv4_header.ts), in the order AWS's JSON services check
 * it, with AWS's exception names and messages. The signing keys are cached
 * per access key and scope (routes/sigv4_signing_key.ts).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createScope, getCanonicalHeaders, type SignatureV4 } from "@smithy/signature-v4";
import type { HeaderBag, HttpRequest } from "@smithy/types";
import { InvalidSignatureException, UnrecognizedClientException } from "../core/errors.ts";
import type { Credential, SigV4Identity } from "../core/types.ts";
import {
  ALGORITHM,
  type AuthorizationParams,
  checkAlgorithm,
  checkClock,
  checkRequiredHeaders,
  checkScope,
  type CredentialScope,
  parseAmzDate,
  parseAuthorization,
  parseCredentialScope,
  requireParameters,
  type ScopeExpectation,
} from "./sigv4_header.ts";
import { fixedShapeCanonicalRequest } from "./sigv4_canonical.ts";
import { signerFor, signingKeyPads } from "./sigv4_signing_key.ts";

/** An incoming request as the verifier needs it. */
export interface SignedRequest {
  method: string;
  /** Full URL including path and query, as received. */
  url: string;
  headers: Headers;
  body: Uint8Array;
}

/** What the server expects of a signature. */
export interface SigV4Options extends ScopeExpectation {
  /** Current time, epoch milliseconds. */
  now: number;
  /** Headers that must be among SignedHeaders (`x-amz-date` always is). */
  requiredSignedHeaders: readonly string[];
  lookupCredential(accessKeyId: string): Promise<Credential | null> | Credential | null;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

const MSG_INVALID_TOKEN = "The security token included in the request is invalid.";
const MSG_MISMATCH =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const MSG_PAYLOAD_HASH =
  "The provided 'x-amz-content-sha256' header does not match what was computed.";

/** Verifies the SigV4 Authorization header of `req` and names the caller. @throws MissingAuthenticationTokenException, IncompleteSignatureException, InvalidSignatureException, UnrecognizedClientException */
export async function verifySigV4(req: SignedRequest, opts: SigV4Options): Promise<SigV4Identity> {
  return await (await checkSigV4Header(req, opts)).verify(req.body);
}

/** A request whose headers passed every SigV4 check that does not need the body. */
export interface PendingSignature {
  /** Checks the payload hash and the signature over `body`; names the caller. @throws InvalidSignatureException */
  verify(body: Uint8Array): Promise<SigV4Identity>;
}

/**
 * Every SigV4 check that needs no body: the Authorization header, the date and clock skew, the
 * signed headers, the credential scope and a known, enabled access key. A request that fails
 * here is refused before its body is even read.
 * @throws MissingAuthenticationTokenException, IncompleteSignatureException, InvalidSignatureException, UnrecognizedClientException
 */
export async function checkSigV4Header(
  req: Omit<SignedRequest, "body">,
  opts: SigV4Options,
): Promise<PendingSignature> {
  const auth = parseAuthorization(req.headers.get("authorization"));
  const amzDate = requireParameters(auth, req.headers);
  const signingDate = parseAmzDate(amzDate);
  checkClock(amzDate, signingDate.getTime(), opts.now);
  const signedHeaders = auth.signedHeaders.split(";");
  checkRequiredHeaders(signedHeaders, opts.requiredSignedHeaders);
  checkAlgorithm(auth.algorithm);
  const scope = parseCredentialScope(auth.credential);
  checkScope(scope, amzDate, opts);
  const credential = await authenticate(scope.accessKeyId, req.headers, opts);
  return {
    async verify(body: Uint8Array): Promise<SigV4Identity> {
      const signed = { ...req, body };
      const payloadHash = checkedPayloadHash(signed);
      if (!SIGNATURE_HEX.test(auth.signature)) throw new InvalidSignatureException(MSG_MISMATCH);
      const canonicalRequest = fixedShapeCanonicalRequest(signed, signedHeaders, payloadHash) ??
        smithyCanonicalRequest(credential, toSmithyRequest(signed, signedHeaders), auth, {
          payloadHash,
          opts,
        });
      const expected = await signatureOf(canonicalRequest, credential, { amzDate, scope });
      if (!constantTimeEqual(expected, auth.signature)) {
        throw new InvalidSignatureException(MSG_MISMATCH);
      }
      return {
        accessKeyId: credential.accessKeyId,
        accountId: credential.accountId,
        principalArn: credential.principalArn,
        region: scope.region,
      };
    },
  };
}

async function authenticate(
  accessKeyId: string,
  headers: Headers,
  opts: SigV4Options,
): Promise<Credential> {
  // There is no STS here, so no session token can be valid.
  if (headers.has("x-amz-security-token")) throw new UnrecognizedClientException(MSG_INVALID_TOKEN);
  const credential = await opts.lookupCredential(accessKeyId);
  if (credential === null || !credential.enabled || credential.accessKeyId !== accessKeyId) {
    throw new UnrecognizedClientException(MSG_INVALID_TOKEN);
  }
  return credential;
}

/** The body's SHA-256 (hex), hashed here; a declared x-amz-content-sha256 must equal it. */
function checkedPayloadHash(req: SignedRequest): string {
  const actual = createHash("sha256").update(req.body).digest("hex");
  const declared = req.headers.get("x-amz-content-sha256");
  if (declared !== null && declared !== actual) {
    throw new InvalidSignatureException(MSG_PAYLOAD_HASH);
  }
  return actual;
}

/** Rebuilds `req` as a smithy request carrying only the named headers (host falls back to the URL's authority). @throws nothing */
export function toSmithyRequest(req: SignedRequest, signedHeaders: readonly string[]): HttpRequest {
  const url = splitUrl(req.url);
  const headers: Record<string, string> = Object.create(null);
  for (const name of signedHeaders) {
    if (!HEADER_NAME.test(name)) continue;
    const value = req.headers.get(name) ?? (name.toLowerCase() === "host" ? url.authority : null);
    if (value !== null) headers[name] = value;
  }
  const request: HttpRequest = {
    method: req.method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.path,
    query: parseQuery(url.query),
    headers,
    body: req.body,
  };
  if (url.port !== undefined) request.port = url.port;
  return request;
}

interface UrlParts {
  protocol: string;
  authority: string;
  hostname: string;
  port?: number;
  path: string;
  query: string;
}

/** Splits a URL without normalising it, so the path reaches smithy exactly as sent. */
function splitUrl(url: string): UrlParts {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(url);
  const authority = (m?.[2] ?? "").replace(/^.*@/, "");
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority);
  const parts: UrlParts = {
    protocol: m?.[1] ?? "https:",
    authority,
    hostname: hostPort?.[1] ?? authority,
    path: m?.[3] || "/",
    query: m?.[4] ?? "",
  };
  if (hostPort?.[2] !== undefined) parts.port = Number(hostPort[2]);
  return parts;
}

function parseQuery(query: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null);
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = percentDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : percentDecode(pair.slice(eq + 1));
    const prior = params[key];
    params[key] = prior === undefined
      ? value
      : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return params;
}

/** Decodes a query component as form encoding does ('+' is a space); malformed escapes stay as sent. */
function percentDecode(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Signs `request` with smithy exactly as the verifier does and returns the signed copy. @throws Error from smithy on unusable credentials */
export function signWithSmithy(
  signer: SignatureV4,
  request: HttpRequest,
  signedHeaders: readonly string[],
  signingDate: Date,
  region: string,
  service: string,
): Promise<HttpRequest> {
  return signer.sign(request, {
    signingDate,
    signingRegion: region,
    signingService: service,
    signableHeaders: new Set(signedHeaders.map((name) => name.toLowerCase())),
  });
}

/**
 * The canonical request of any request shape, as smithy builds it: its canonical headers and
 * canonical request (path normalisation, query encoding) with the caller's signer.
 * @throws {InvalidSignatureException} when smithy would not sign exactly the named headers, or the
 * query carries X-Amz-Signature.
 */
function smithyCanonicalRequest(
  credential: Credential,
  request: HttpRequest,
  auth: AuthorizationParams,
  context: { payloadHash: string; opts: SigV4Options },
): string {
  // smithy leaves X-Amz-Signature out of the canonical query, so it would ride along unsigned.
  if (Object.keys(request.query ?? {}).some((key) => key.toLowerCase() === "x-amz-signature")) {
    throw new InvalidSignatureException(MSG_MISMATCH);
  }
  const signable = new Set(auth.signedHeaders.split(";").map((name) => name.toLowerCase()));
  const canonicalHeaders = getCanonicalHeaders(request, undefined, signable);
  // smithy drops headers it will not sign; the lists must agree exactly.
  if (Object.keys(canonicalHeaders).sort().join(";") !== auth.signedHeaders) {
    throw new InvalidSignatureException(MSG_MISMATCH);
  }
  const signer = signerFor(credential, context.opts) as unknown as SmithyCanonicalizer;
  return signer.createCanonicalRequest(request, canonicalHeaders, context.payloadHash);
}

/**
 * The signature the client should have sent over `canonicalRequest`: the string to sign and the
 * final HMAC under the signing key (cached per access key, day, region and service), two hashes.
 */
async function signatureOf(
  canonicalRequest: string,
  credential: Credential,
  context: { amzDate: string; scope: CredentialScope },
): Promise<string> {
  const { scope } = context;
  const credentialScope = createScope(scope.date, scope.region, scope.service);
  const stringToSign = `${ALGORITHM}\n${context.amzDate}\n${credentialScope}\n` +
    createHash("sha256").update(canonicalRequest).digest("hex");
  const pads = await signingKeyPads(credential, scope);
  const inner = createHash("sha256").update(pads.inner).update(stringToSign).digest();
  return createHash("sha256").update(pads.outer).update(inner).digest("hex");
}

/** The protected smithy method the verifier calls: the canonical request of RFC-style SigV4. */
interface SmithyCanonicalizer {
  createCanonicalRequest(
    request: HttpRequest,
    canonicalHeaders: HeaderBag,
    payloadHash: string,
  ): string;
}

/**
 * Compares two strings in time independent of where they differ (UTF-16 code units, so no
 * encoding step: a signature is 64 hex characters). @throws nothing
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
