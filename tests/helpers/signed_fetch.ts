/**
 * Sends an arbitrary (possibly invalid) body to a test server, signed as an
 * AWS SDK signs it, for tests that go below what the SDK lets a caller send.
 *
 * @module
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { ADMIN, REGION } from "./server.ts";

/** What came back: status, `__type` and message (for errors), and the parsed body. */
export interface RawReply {
  status: number;
  type: string | undefined;
  message: string | undefined;
  body: Record<string, unknown>;
}

/** POSTs `body` as `TrentService.<operation>` with a valid SigV4 signature. */
export async function signedFetch(
  baseUrl: string,
  operation: string,
  body: string,
): Promise<RawReply> {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({
    credentials: ADMIN,
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
      "x-amz-target": `TrentService.${operation}`,
    },
    body,
  });
  const headers: Record<string, string> = { ...signed.headers };
  delete headers.host;
  const response = await fetch(url, { method: "POST", headers, body });
  const json = await response.json() as Record<string, unknown>;
  return {
    status: response.status,
    type: json.__type as string | undefined,
    message: json.message as string | undefined,
    body: json,
  };
}
