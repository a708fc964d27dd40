/**
 * The headers of a SigV4 request, parsed and checked before any signature is
 * computed (routes/sigv4.ts verifies the signature): the Authorization
 * header's parameters, X-Amz-Date and the clock skew, the headers that must be
 * signed, the algorithm and the credential scope. Each check throws AWS's
 * exception with AWS's message; routes/sigv4.ts calls them in the order AWS's
 * JSON services check. Messages quote header values cut to a bounded length
 * (`echoed`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
} from "../core/errors.ts";
import { echoed } from "./protocol.ts";

/** The three parameters of an `AWS4-HMAC-SHA256` Authorization header. */
export interface AuthorizationParams {
  algorithm: string;
  credential: string;
  signedHeaders: string;
  signature: string;
}

/** What a credential scope must name: a served region and this service. */
export interface ScopeExpectation {
  /** The region this server serves. */
  region: string;
  /** Further regions it serves (a credential scoped to any of them is accepted). */
  otherRegions?: ReadonlySet<string> | undefined;
  /** The signing name of the service, `kms` for KMS. */
  service: string;
}

/** The only signing algorithm accepted. */
export const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const MAX_SKEW_MS = 5 * 60 * 1000;
const SKEW_TEXT = "5 min.";
const AUTH_PARAMS = ["Credential", "Signature", "SignedHeaders"] as const;
const AUTH_PARAM_NAMES: ReadonlySet<string> = new Set(AUTH_PARAMS);
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const MSG_MISSING_TOKEN = "Missing Authentication Token";

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

/** The X-Amz-Date value, once every Authorization parameter and the date are there. @throws IncompleteSignatureException naming each one missing */
export function requireParameters(auth: AuthorizationParams, headers: Headers): string {
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

/** Refuses a signing time more than 5 minutes from `now`. @throws InvalidSignatureException */
export function checkClock(amzDate: string, signedAt: number, now: number): void {
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

/** Refuses SignedHeaders that leave out X-Amz-Date or a header the server requires signed. @throws InvalidSignatureException */
export function checkRequiredHeaders(
  signedHeaders: readonly string[],
  required: readonly string[],
): void {
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

/** Refuses any algorithm but AWS4-HMAC-SHA256. @throws IncompleteSignatureException */
export function checkAlgorithm(algorithm: string): void {
  if (algorithm !== ALGORITHM) {
    throw new IncompleteSignatureException(
      `Unsupported AWS 'algorithm': '${echoed(algorithm)}' (only ${ALGORITHM} for now). `,
    );
  }
}

/** The five parts of the Credential parameter. */
export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
}

/** Splits the Credential parameter into its five parts. @throws IncompleteSignatureException when it has not exactly five */
export function parseCredentialScope(credential: string): CredentialScope {
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

/** Refuses a scope of another region, service, terminator or day than the request's. @throws InvalidSignatureException listing every mismatch */
export function checkScope(
  scope: CredentialScope,
  amzDate: string,
  opts: ScopeExpectation,
): void {
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
