/**
 * AWS JSON 1.1 framing: content type, the 1 MiB body limit, JSON parsing (nesting bounded, run
 * only once the request is authenticated) and the reply encoding (blobs as base64, timestamps as
 * epoch seconds). Error messages quote client input through `echoed`, so they stay short.
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

function tooLarge(): RequestEntityTooLargeException {
  return new RequestEntityTooLargeException(
    `Request body must not exceed ${MAX_BODY_BYTES} bytes.`,
  );
}

/**
 * Refuses a request whose Content-Length claims more than 1 MiB, without reading its body.
 * @throws {RequestEntityTooLargeException}
 */
export async function assertDeclaredLength(request: Request): Promise<void> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    await request.body?.cancel();
    throw tooLarge();
  }
}

/**
 * Reads at most 1 MiB of body, whatever Content-Length claims.
 * @throws {RequestEntityTooLargeException}
 */
export async function readBody(request: Request): Promise<Uint8Array> {
  await assertDeclaredLength(request);
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

/**
 * Deepest nesting of arrays and objects a request body may have. AWS KMS's deepest request
 * (`Tags`: object, list, object) nests 3 levels; anything past this bound is refused before
 * parsing, so no body can make the parser or a validator recurse without limit.
 */
export const MAX_JSON_DEPTH = 64;

/** AWS's text for a list where a single value or structure belongs. */
export const START_OF_LIST = "Start of list found where not expected";

// ignoreBOM: a byte order mark stays in the text, where JSON.parse refuses it (AWS answers
// SerializationException to a body that starts with one).
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses a request body that must be one JSON object. Top-level members that are `null` are
 * dropped: AWS reads a null member as an absent one.
 * @throws {SerializationException} invalid UTF-8, a byte order mark, invalid JSON, nesting deeper
 *   than MAX_JSON_DEPTH, or not an object.
 */
export function parseJsonObject(body: Uint8Array): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = decoder.decode(body);
  } catch {
    text = undefined;
  }
  // On the text when it decodes (its native indexOf is fast), on the bytes when it does not: the
  // same answer, as `[`, `{`, `"` and `\` are ASCII and no UTF-8 sequence holds an ASCII byte.
  if (text === undefined ? nestsDeeperThan(body, MAX_JSON_DEPTH) : textNestsDeeperThan(text)) {
    throw new SerializationException(
      `The request body nests JSON deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  }
  let value: unknown;
  try {
    if (text === undefined) throw new SyntaxError("not UTF-8");
    value = JSON.parse(text);
  } catch {
    throw new SerializationException("The request body is not valid JSON.");
  }
  if (Array.isArray(value)) throw new SerializationException(START_OF_LIST);
  if (typeof value !== "object" || value === null) {
    throw new SerializationException("The request body must be a JSON object.");
  }
  const object = value as Record<string, unknown>;
  // Deleting in place keeps own members such as `__proto__` exactly as JSON.parse made them.
  for (const key of Object.keys(object)) if (object[key] === null) delete object[key];
  return object;
}

/**
 * True when `[` and `{` outside JSON strings open more than `max` levels at some point: one pass
 * over the bytes, before any parsing (for invalid JSON the answer does not matter: it is refused
 * either way).
 */
export function nestsDeeperThan(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/**
 * `nestsDeeperThan` over decoded text, MAX_JSON_DEPTH levels. Nesting never exceeds the number of
 * `[` and `{`: counting them with the string's native `indexOf` (well under 1 µs for a 4 KiB
 * Encrypt, against ~10 µs for a loop over the bytes) settles every ordinary body.
 */
function textNestsDeeperThan(text: string): boolean {
  let openers = 0;
  for (const opener of ["[", "{"]) {
    for (let at = text.indexOf(opener); at >= 0; at = text.indexOf(opener, at + 1)) openers++;
  }
  if (openers <= MAX_JSON_DEPTH) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Longest piece of client input an error message quotes. */
export const MAX_ECHO = 256;

/** `text` as an error message may quote it: at most MAX_ECHO characters, `...` marking a cut. */
export function echoed(text: string): string {
  return text.length <= MAX_ECHO ? text : `${text.slice(0, MAX_ECHO)}...`;
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
