/**
 * AWS JSON 1.1 framing: content type, the 1 MiB body limit, JSON parsing and
 * the reply encoding (blobs as base64, timestamps as epoch seconds).
 *
 * @see https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 * @module
 */
import {
  RequestEntityTooLargeException,
  SerializationException,
  UnknownOperationException,
} from "../core/errors.ts";
import { SecretBytes } from "../core/secret.ts";

/** The content type of AWS JSON 1.1 requests and replies. */
export const AMZ_JSON = "application/x-amz-json-1.1";

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 1024 * 1024;

const TARGET_PREFIX = "TrentService.";

/**
 * The operation named by `X-Amz-Target: TrentService.<Operation>`.
 * @throws {UnknownOperationException} a missing or foreign target.
 */
export function operationName(target: string | null): string {
  if (target === null || !target.startsWith(TARGET_PREFIX)) {
    throw new UnknownOperationException("Missing or invalid X-Amz-Target header.");
  }
  return target.slice(TARGET_PREFIX.length);
}

/**
 * Checks the content type is AWS JSON 1.1 (parameters such as charset allowed).
 * @throws {SerializationException}
 */
export function assertAmzJson(contentType: string | null): void {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== AMZ_JSON) {
    throw new SerializationException(`Content-Type must be ${AMZ_JSON}.`);
  }
}

/**
 * Reads at most 1 MiB of body, whatever Content-Length claims.
 * @throws {RequestEntityTooLargeException}
 */
export async function readBody(request: Request): Promise<Uint8Array> {
  const tooLarge = () =>
    new RequestEntityTooLargeException(`Request body must not exceed ${MAX_BODY_BYTES} bytes.`);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    await request.body?.cancel();
    throw tooLarge();
  }
  if (request.body === null) return new Uint8Array();
  // A declared length (already within the limit) is read in one call; only chunked bodies are streamed.
  if (request.headers.has("content-length")) {
    const body = await request.bytes();
    if (body.length > MAX_BODY_BYTES) throw tooLarge();
    return body;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.length;
    if (total > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a request body that must be one JSON object.
 * @throws {SerializationException} invalid UTF-8, invalid JSON, or not an object.
 */
export function parseJsonObject(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    throw new SerializationException("The request body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SerializationException("The request body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

/** Converts a reply to AWS JSON: bytes and secrets to base64, dates to epoch seconds, undefined dropped. */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.toBase64();
  if (value instanceof SecretBytes) return value.expose().toBase64();
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}
