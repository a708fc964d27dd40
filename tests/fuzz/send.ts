/**
 * Signs and sends raw request bytes (which need not be JSON, nor even UTF-8)
 * to a running KMS, as an AWS SDK signs them: SigV4 over the exact bytes, with
 * smithy's signer and the pure-JS SHA-256, independent of the server's.
 *
 * @module
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { ADMIN, REGION } from "../helpers/server.ts";

/** What came back, unparsed, plus the body parsed as JSON when it is JSON. */
export interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  /** The parsed body; `undefined` when the body is not JSON. */
  json: unknown;
}

const SIGNER = new SignatureV4({
  credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.secretAccessKey },
  region: REGION,
  service: "kms",
  sha256: Sha256,
  applyChecksum: false,
});

/** POSTs `body` as `TrentService.<operation>`, signed by the test admin. */
export async function sendRaw(
  baseUrl: string,
  operation: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<Reply> {
  const url = new URL(baseUrl);
  const signed = await SIGNER.sign({
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
  }, { signingDate: new Date() });
  const headers: Record<string, string> = { ...signed.headers };
  delete headers.host;
  const response = await fetch(new URL("/", baseUrl), { method: "POST", headers, body });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text,
    json: parseJson(text),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends `input` as JSON and returns the reply body; throws with AWS's error otherwise. */
export async function call(
  baseUrl: string,
  operation: string,
  input: unknown,
): Promise<Record<string, unknown>> {
  const reply = await sendRaw(baseUrl, operation, new TextEncoder().encode(JSON.stringify(input)));
  if (reply.status !== 200) {
    throw new Error(`${operation} -> ${reply.status} ${reply.text.slice(0, 300)}`);
  }
  return reply.json as Record<string, unknown>;
}
