/**
 * AWS Signature Version 4 verification of incoming requests (Authorization
 * header form only; presigned URLs are not accepted).
 *
 * The canonical request, string to sign and signature come from
 * `@smithy/signature-v4`: the request is rebuilt with exactly the headers the
 * client named in `SignedHeaders` and signed again with the caller's secret,
 * then the two signatures are compared in constant time. Everything around
 * that (header parsing, clock skew, credential scope, payload hash) is checked
 * here first, in the order AWS's JSON services check it, with AWS's exception
 * names and messages. Messages quote header values cut to a bounded length (`echoed`).
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { createScope, getCanonicalHeaders, getSigningKey, SignatureV4 } from "@smithy/signature-v4";
import type {
  Checksum,
  ChecksumConstructor,
  HeaderBag,
  HttpRequest,
  SourceData,
} from "@smithy/types";
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from "../core/errors.ts";
import { LruMap } from "../core/lru.ts";
import type { Caller, Credential } from "../core/types.ts";
import { echoed } from "./protocol.ts";

/** An incoming request as the verifier needs it. */
export interface SignedRequest {
  method: string;
  /** Full URL including path and query, as received. */
  url: string;
  headers: Headers;
  body: Uint8Array;
}

/** What the server expects of a signature. */
export interface SigV4Options {
  /** The region this server serves. */
  region: string;
  /** Further regions it serves (a credential scoped to any of them is accepted). */
  otherRegions?: ReadonlySet<string> | undefined;
  /** The signing name of the service, `kms` for KMS. */
  service: string;
  /** Current time, epoch milliseconds. */
  now: number;
  /** Headers that must be among SignedHeaders (`x-amz-date` always is). */
  requiredSignedHeaders: readonly string[];
  lookupCredential(accessKeyId: string): Promise<Credential | null> | Credential | null;
}

/** The three parameters of an `AWS4-HMAC-SHA256` Authorization header. */
export interface AuthorizationParams {
  algorithm: string;
  credential: string;
  signedHeaders: string;
  signature: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const MAX_SKEW_MS = 5 * 60 * 1000;
const SKEW_TEXT = "5 min.";
const AUTH_PARAMS = ["Credential", "Signature", "SignedHeaders"] as const;
const AUTH_PARAM_NAMES: ReadonlySet<string> = new Set(AUTH_PARAMS);
const SIGNER_CACHE_SIZE = 1024;
const HMAC_BLOCK = 64;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

const MSG_MISSING_TOKEN = "Missing Authentication Token";
const MSG_INVALID_TOKEN = "The security token included in the request is invalid.";
const MSG_MISMATCH =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const MSG_PAYLOAD_HASH =
  "The provided 'x-amz-content-sha256' header does not match what was computed.";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** SHA-256, or HMAC-SHA256 given a secret, over node:crypto for smithy's `sha256` option. @throws nothing */
export class NodeSha256 implements Checksum {
  // HMAC is RFC 2104 over two plain hashes: in Deno that is faster than createHmac.
  readonly digestLength = 32;
  readonly #pads: { inner: Uint8Array; outer: Uint8Array } | null;
  #hash: Hash;

  constructor(secret?: SourceData) {
    this.#pads = secret === undefined ? null : hmacPads(toBytes(secret));
    this.#hash = this.#start();
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.digestSync());
  }

  /** The digest without a promise; the hash must be reset before reuse. */
  digestSync(): Uint8Array {
    const inner = this.#hash.digest();
    const result = this.#pads === null
      ? inner
      : createHash("sha256").update(this.#pads.outer).update(inner).digest();
    return new Uint8Array(result.buffer, result.byteOffset, result.byteLength);
  }

  reset(): void {
    this.#hash = this.#start();
  }

  #start(): Hash {
    const hash = createHash("sha256");
    if (this.#pads !== null) hash.update(this.#pads.inner);
    return hash;
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === "string") return utf8.encode(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(data);
}

function hmacPads(key: Uint8Array): { inner: Uint8Array; outer: Uint8Array } {
  const k = key.length > HMAC_BLOCK ? createHash("sha256").update(key).digest() : key;
  const inner = new Uint8Array(HMAC_BLOCK);
  const outer = new Uint8Array(HMAC_BLOCK);
  for (let i = 0; i < HMAC_BLOCK; i++) {
    const byte = k[i] ?? 0;
    inner[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  return { inner, outer };
}

/** Verifies the SigV4 Authorization header of `req` and names the caller. @throws MissingAuthenticationTokenException, IncompleteSignatureException, InvalidSignatureException, UnrecognizedClientException */
export async function verifySigV4(req: SignedRequest, opts: SigV4Options): Promise<Caller> {
  return await (await checkSigV4Header(req, opts)).verify(req.body);
}

/** A request whose headers passed every SigV4 check that does not need the body. */
export interface PendingSignature {
  /** Checks the payload hash and the signature over `body`; names the caller. @throws InvalidSignatureException */
  verify(body: Uint8Array): Promise<Caller>;
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
    async verify(body: Uint8Array): Promise<Caller> {
      const signed = { ...req, body };
      const payloadHash = checkedPayloadHash(signed);
      if (!SIGNATURE_HEX.test(auth.signature)) throw new InvalidSignatureException(MSG_MISMATCH);
      const request = toSmithyRequest(signed, signedHeaders);
      const expected = await expectedSignature(credential, request, auth, {
        amzDate,
        scope,
        payloadHash,
        opts,
      });
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

/** Splits an `AWS4-…` Authorization header into its algorithm and parameters. @throws MissingAuthenticationTokenException when absent or not AWS4, IncompleteSignatureException when malformed */
export function parseAuthorization(header: string | null): AuthorizationParams {
  const value = header?.trim() ?? "";
  if (!value.startsWith("AWS4-")) throw new MissingAuthenticationTokenException(MSG_MISSING_TOKEN);
  const space = value.search(/\s/);
  const algorithm = space < 0 ? value : value.slice(0, space);
  const params = new Map<string, string>();
  for (const part of (space < 0 ? "" : value.slice(space)).split(",")) {
    addParameter(params, part.trim(), value);
  }
  return {
    algorithm,
    credential: params.get("Credential") ?? "",
    signedHeaders: params.get("SignedHeaders") ?? "",
    signature: params.get("Signature") ?? "",
  };
}

function addParameter(params: Map<string, string>, part: string, header: string): void {
  if (part === "") return;
  const eq = part.indexOf("=");
  if (eq < 0) {
    throw new IncompleteSignatureException(
      "Invalid key=value pair (missing equal-sign) in Authorization header " +
        `(hashed with SHA-256 and encoded with Base64): '${hashForMessage(header)}'.`,
    );
  }
  const key = part.slice(0, eq).trim();
  if (!AUTH_PARAM_NAMES.has(key) || params.has(key)) {
    throw new IncompleteSignatureException(
      `Authorization header has an unexpected or repeated parameter: '${echoed(key)}'.`,
    );
  }
  params.set(key, part.slice(eq + 1).trim());
}

function hashForMessage(value: string): string {
  return createHash("sha256").update(value).digest("base64");
}

function requireParameters(auth: AuthorizationParams, headers: Headers): string {
  const given: Record<(typeof AUTH_PARAMS)[number], string> = {
    Credential: auth.credential,
    Signature: auth.signature,
    SignedHeaders: auth.signedHeaders,
  };
  let message = "";
  for (const name of AUTH_PARAMS) {
    if (given[name] === "") message += `Authorization header requires '${name}' parameter. `;
  }
  const amzDate = headers.get("x-amz-date");
  if (amzDate === null) message += missingDateMessage(headers);
  if (message !== "" || amzDate === null) throw new IncompleteSignatureException(message.trimEnd());
  return amzDate;
}

function missingDateMessage(headers: Headers): string {
  return headers.has("date")
    ? "This service requires the 'X-Amz-Date' header; a 'Date' header alone is not supported. "
    : "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
}

/** Parses an X-Amz-Date value (`YYYYMMDDTHHMMSSZ`, a real UTC instant). @throws IncompleteSignatureException when it is not one */
export function parseAmzDate(value: string): Date {
  if (lastAmzDate?.value === value) return new Date(lastAmzDate.epochMs);
  const m = AMZ_DATE.exec(value);
  const date = m === null ? null : new Date(
    Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
    ),
  );
  if (date === null || Number.isNaN(date.getTime()) || formatAmzDate(date.getTime()) !== value) {
    throw new IncompleteSignatureException(
      `Date must be in ISO-8601 'basic format'. Got '${
        echoed(value)
      }'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  lastAmzDate = { value, epochMs: date.getTime() };
  return date;
}

/** The last X-Amz-Date parsed: concurrent clients sign many requests within the same second. */
let lastAmzDate: { value: string; epochMs: number } | undefined;

function formatAmzDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

function checkClock(amzDate: string, signedAt: number, now: number): void {
  const nowSeconds = Math.floor(now / 1000) * 1000;
  const earliest = nowSeconds - MAX_SKEW_MS;
  const latest = nowSeconds + MAX_SKEW_MS;
  if (signedAt < earliest) {
    throw new InvalidSignatureException(
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(earliest)} ` +
        `(${formatAmzDate(nowSeconds)} - ${SKEW_TEXT})`,
    );
  }
  if (signedAt > latest) {
    throw new InvalidSignatureException(
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(latest)} ` +
        `(${formatAmzDate(nowSeconds)} + ${SKEW_TEXT})`,
    );
  }
}

function checkRequiredHeaders(signedHeaders: readonly string[], required: readonly string[]): void {
  if (
    signedHeaders.includes("x-amz-date") && required.every((name) => signedHeaders.includes(name))
  ) return;
  const signed = new Set(signedHeaders.map((name) => name.toLowerCase()));
  for (const name of [...required, "x-amz-date"]) {
    if (signed.has(name.toLowerCase())) continue;
    const shown = name.toLowerCase() === "host"
      ? "'Host' or ':authority'"
      : `'${displayName(name)}'`;
    throw new InvalidSignatureException(
      `${shown} must be a 'SignedHeader' in the AWS Authorization.`,
    );
  }
}

function displayName(header: string): string {
  return header.toLowerCase().replace(
    /(^|-)([a-z])/g,
    (_, dash, c: string) => dash + c.toUpperCase(),
  );
}

function checkAlgorithm(algorithm: string): void {
  if (algorithm !== ALGORITHM) {
    throw new IncompleteSignatureException(
      `Unsupported AWS 'algorithm': '${echoed(algorithm)}' (only ${ALGORITHM} for now). `,
    );
  }
}

interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
}

function parseCredentialScope(credential: string): CredentialScope {
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split("/");
  if (terminator === undefined || rest.length > 0) {
    throw new IncompleteSignatureException(
      "Credential must have exactly 5 slash-delimited elements, " +
        `e.g. keyid/date/region/service/term, got '${echoed(credential)}'`,
    );
  }
  return {
    accessKeyId: accessKeyId ?? "",
    date: date ?? "",
    region: region ?? "",
    service: service ?? "",
    terminator,
  };
}

function checkScope(scope: CredentialScope, amzDate: string, opts: SigV4Options): void {
  let message = "";
  if (scope.region !== opts.region && opts.otherRegions?.has(scope.region) !== true) {
    message += "Credential should be scoped to a valid region. ";
  }
  if (scope.service !== opts.service) {
    message += `Credential should be scoped to correct service: '${opts.service}'. `;
  }
  if (scope.terminator !== TERMINATOR) {
    message += `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${
      echoed(scope.terminator)
    }'. `;
  }
  const day = amzDate.slice(0, 8);
  if (scope.date !== day) {
    message +=
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
      `'${echoed(scope.date)}' != '${day}', from '${amzDate}'. `;
  }
  if (message !== "") throw new InvalidSignatureException(message);
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

/** Creates the smithy signer the verifier uses (no checksum header added, non-S3 path escaping). @throws nothing */
export function createSigner(
  accessKeyId: string,
  secretAccessKey: string,
  region: string,
  service: string,
  sha256: ChecksumConstructor = NodeSha256,
): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256,
    applyChecksum: false,
    uriEscapePath: true,
  });
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
 * The signature the client should have sent. smithy builds the canonical
 * headers and the canonical request and derives the signing key (cached here
 * per access key, day, region and service); only the string to sign and the
 * final HMAC, two lines of the spec, are assembled here, synchronously.
 */
async function expectedSignature(
  credential: Credential,
  request: HttpRequest,
  auth: AuthorizationParams,
  context: { amzDate: string; scope: CredentialScope; payloadHash: string; opts: SigV4Options },
): Promise<string> {
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
  const canonicalRequest = signer.createCanonicalRequest(
    request,
    canonicalHeaders,
    context.payloadHash,
  );
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

type HmacPads = { inner: Uint8Array; outer: Uint8Array };

const signingKeys = new LruMap<string, { secret: Uint8Array; pads: HmacPads }>(SIGNER_CACHE_SIZE);

/**
 * smithy's derived signing key for a credential and scope, as the HMAC pads of
 * RFC 2104, cached while the secret is unchanged.
 */
async function signingKeyPads(credential: Credential, scope: CredentialScope): Promise<HmacPads> {
  const secret = credential.secretAccessKey.expose();
  const cacheKey = `${credential.accessKeyId}/${scope.date}/${scope.region}/${scope.service}`;
  const cached = signingKeys.get(cacheKey);
  if (cached !== undefined && bytesEqual(cached.secret, secret)) return cached.pads;
  const key = await getSigningKey(
    NodeSha256,
    { accessKeyId: credential.accessKeyId, secretAccessKey: utf8Decoder.decode(secret) },
    scope.date,
    scope.region,
    scope.service,
  );
  const pads = hmacPads(key);
  signingKeys.set(cacheKey, { secret: secret.slice(), pads });
  return pads;
}

interface CachedSigner {
  signer: SignatureV4;
  secret: Uint8Array;
}

const signers = new LruMap<string, CachedSigner>(SIGNER_CACHE_SIZE);

function signerFor(credential: Credential, opts: SigV4Options): SignatureV4 {
  const secret = credential.secretAccessKey.expose();
  const cached = signers.get(credential.accessKeyId);
  if (cached !== undefined && bytesEqual(cached.secret, secret)) return cached.signer;
  const signer = createSigner(
    credential.accessKeyId,
    utf8Decoder.decode(secret),
    opts.region,
    opts.service,
  );
  signers.set(credential.accessKeyId, { signer, secret: secret.slice() });
  return signer;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Compares two strings in time independent of where they differ. @throws nothing */
export function constantTimeEqual(a: string, b: string): boolean {
  return bytesEqual(utf8.encode(a), utf8.encode(b));
}
