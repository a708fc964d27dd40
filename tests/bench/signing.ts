/**
 * Pre-signed AWS JSON 1.1 requests for the benchmark: signed once with
 * `@smithy/signature-v4` and the SDK's own SHA-256 (`@aws-crypto/sha256-js`),
 * with the headers AWS SDK v3 sends (captured from `@aws-sdk/client-kms` in
 * Deno: `x-amz-content-sha256`, `amz-sdk-invocation-id`, `amz-sdk-request`,
 * `x-amz-user-agent`, `content-length` all signed), so the server verifies
 * exactly what it verifies for a real SDK call. A signature stays valid for
 * 5 minutes from its `x-amz-date`, so a run re-signs before each phase.
 *
 * @module
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** A request ready to be replayed: headers (host included) and body. */
export interface PresignedRequest {
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
}

/** Who signs and where the server listens. */
export interface SigningTarget {
  /** `127.0.0.1:<port>` */
  host: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const utf8 = new TextEncoder();

/** Signs one KMS JSON request for `operation` now. */
export async function presign(
  target: SigningTarget,
  operation: string,
  payload: unknown,
): Promise<PresignedRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    region: target.region,
    service: "kms",
    sha256: Sha256,
    applyChecksum: true,
    uriEscapePath: true,
  });
  const body = utf8.encode(JSON.stringify(payload));
  const [hostname, port] = target.host.split(":");
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: hostname ?? "127.0.0.1",
    port: Number(port),
    path: "/",
    query: {},
    headers: {
      host: target.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `TrentService.${operation}`,
      "x-amz-user-agent": "aws-sdk-js/3.1160.0",
      "amz-sdk-invocation-id": crypto.randomUUID(),
      "amz-sdk-request": "attempt=1; max=1",
      "content-length": String(body.length),
    },
    body,
  }, { signingDate: new Date() });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  headers["user-agent"] = "aws-sdk-js/3.1160.0 ua/2.1 lang/js md/deno api/kms#3.1160.0 (bench)";
  return { headers, body };
}

/** Signs `count` requests, each from `payloadFor(i)`. */
export async function presignMany(
  target: SigningTarget,
  operation: string,
  count: number,
  payloadFor: (i: number) => unknown,
): Promise<PresignedRequest[]> {
  const out: PresignedRequest[] = [];
  for (let i = 0; i < count; i++) out.push(await presign(target, operation, payloadFor(i)));
  return out;
}

/** An unsigned request (for the minimal endpoint). */
export function plainRequest(host: string, payload: unknown): PresignedRequest {
  const body = utf8.encode(JSON.stringify(payload));
  return {
    headers: {
      host,
      "content-type": "application/x-amz-json-1.1",
      "content-length": String(body.length),
    },
    body,
  };
}
