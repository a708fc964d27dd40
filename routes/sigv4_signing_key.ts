/**
 * The keys a SigV4 signature is computed with, cached: smithy's derived
 * signing key per access key, day, region and service (as the HMAC pads of
 * RFC 2104), and smithy's signer per access key (for the canonical request).
 * A cached entry is used only while the credential's secret is unchanged.
 * Also the SHA-256 / HMAC-SHA256 over node:crypto that smithy is given.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { getSigningKey, SignatureV4 } from "@smithy/signature-v4";
import type { Checksum, ChecksumConstructor, SourceData } from "@smithy/types";
import { LruMap } from "../core/lru.ts";
import type { Credential } from "../core/types.ts";
import type { CredentialScope } from "./sigv4_header.ts";

const SIGNER_CACHE_SIZE = 1024;
const HMAC_BLOCK = 64;

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

function hmacPads(key: Uint8Array): HmacPads {
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

/** The inner and outer pads of HMAC-SHA256 under one key. */
export type HmacPads = { inner: Uint8Array; outer: Uint8Array };

const signingKeys = new LruMap<string, { secret: Uint8Array; pads: HmacPads }>(SIGNER_CACHE_SIZE);

/**
 * smithy's derived signing key for a credential and scope, as the HMAC pads of
 * RFC 2104, cached while the secret is unchanged.
 */
export async function signingKeyPads(
  credential: Credential,
  scope: CredentialScope,
): Promise<HmacPads> {
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

/** smithy's signer for a credential, cached while its secret is unchanged. */
export function signerFor(
  credential: Credential,
  opts: { region: string; service: string },
): SignatureV4 {
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

/** Whether two byte strings are equal, in time independent of where they differ. @throws nothing */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
