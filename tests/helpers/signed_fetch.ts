/**
 * Signs and sends arbitrary (possibly invalid) requests to a test server, as
 * an AWS SDK signs them, for tests that go below what the SDK lets a caller
 * send. The signer is independent of the server's: smithy with the pure-JS
 * @aws-crypto/sha256-js.
 *
 * @module
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { ADMIN, REGION } from "./server.ts";

/** What `signRequest` may vary. */
export interface SignOptions {
  date?: Date;
  accessKeyId?: string;
  secret?: string;
  target?: string;
}

/** A signed request: headers (without host, which fetch sets) and body. */
export interface SignedParts {
  headers: Record<string, string>;
  body: string;
}

/** What came back: status, `__type` and message (for errors), and the parsed body. */
export interface RawReply {
  status: number;
  type: string | undefined;
  message: string | undefined;
  body: Record<string, unknown>;
}

/** Signs a POST of `body` to `baseUrl` as `options.target` (default `TrentService.ListKeys`). */
export async function signRequest(
  baseUrl: string,
  body: string,
  options: SignOptions = {},
): Promise<SignedParts> {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.accessKeyId ?? ADMIN.accessKeyId,
      secretAccessKey: options.secret ?? ADMIN.secretAccessKey,
    },
    region: REGION,
    service: "kms",
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    query: {},
    headers: {
      host: url.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": options.target ?? "TrentService.ListKeys",
    },
    body,
  }, { signingDate: options.date ?? new Date() });
  const headers: Record<string, string> = { ...signed.headers };
  delete headers.host;
  return { headers, body };
}

/** Sends signed parts (possibly tampered with after signing). */
export async function sendSigned(baseUrl: string, parts: SignedParts): Promise<RawReply> {
  const response = await fetch(new URL("/", baseUrl), {
    method: "POST",
    headers: parts.headers,
    body: parts.body,
  });
  const json = await response.json() as Record<string, unknown>;
  return {
    status: response.status,
    type: json.__type as string | undefined,
    message: json.message as string | undefined,
    body: json,
  };
}

/** POSTs `body` as `TrentService.<operation>` with a valid SigV4 signature. */
export async function signedFetch(
  baseUrl: string,
  operation: string,
  body: string,
): Promise<RawReply> {
  return await sendSigned(
    baseUrl,
    await signRequest(baseUrl, body, { target: `TrentService.${operation}` }),
  );
}
