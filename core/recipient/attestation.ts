/**
 * Verification of AWS Nitro Enclaves attestation documents, the `AttestationDocument` of a
 * KMS `Recipient`.
 *
 * A document is a COSE_Sign1 structure (RFC 9052 §4.2), optionally under CBOR tag 18:
 * `[protected = {1: -35 (ES384)}, unprotected, payload, signature (96 bytes r||s)]`. The
 * payload is a CBOR map with `module_id`, `digest` ("SHA384"), `timestamp`, `pcrs`,
 * `certificate` (the signing leaf), `cabundle` (root first), and optional `public_key`,
 * `user_data` and `nonce` (absent or null when unset).
 *
 * Order of checks: structure and field types (enough to find the certificates), then the
 * certificate chain up to a configured trusted root (signatures, validity at `now`, CA
 * constraints: core/recipient/attestation_chain.ts), then the COSE signature with the leaf
 * key. Only after all of that does any content of the document leave this module.
 *
 * Every failure is a `ValidationException` whose message names the reason and never quotes
 * the document.
 *
 * @see https://docs.aws.amazon.com/enclaves/latest/user/verify-root.html
 * @see https://github.com/aws/aws-nitro-enclaves-nsm-api/blob/main/docs/attestation_process.md
 * @module
 */
import { Decoder, Encoder, Tag } from "cbor-x";
import {
  invalid,
  parseCertificate,
  type ParsedCertificate,
  type TrustedRoots,
  verifyCertificateChain,
} from "./attestation_chain.ts";

export { invalid, type TrustedRoots };

/**
 * The AWS Nitro Enclaves root certificate, G1 (CN=aws.nitro-enclaves, P-384, valid
 * 2019-10-28 to 2049-10-28), from AWS_NitroEnclaves_Root-G1.zip.
 * @see https://docs.aws.amazon.com/enclaves/latest/user/verify-root.html
 */
export const AWS_NITRO_ENCLAVES_ROOT_G1_PEM = `-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`;

/** SHA-256 of the G1 root's DER, as AWS publishes it on the "Verifying the root of trust" page. */
export const AWS_NITRO_ENCLAVES_ROOT_G1_SHA256 =
  "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/** What a verified attestation document says about the enclave. */
export interface AttestedEnclave {
  /** The enclave's public key, DER SubjectPublicKeyInfo (not yet checked to be RSA). */
  publicKey: Uint8Array;
  moduleId: string;
  timestamp: Date;
  /** The PCR digest function, always "SHA384" today. */
  digest: string;
  /** PCR index -> value; PCR0 is `kms:RecipientAttestation:ImageSha384`. */
  pcrs: ReadonlyMap<number, Uint8Array>;
  userData?: Uint8Array;
  nonce?: Uint8Array;
}

/** Largest `AttestationDocument` KMS accepts (kms.smithy.json: AttestationDocumentType). */
export const MAX_ATTESTATION_DOCUMENT_BYTES = 262144;

const COSE_SIGN1_TAG = 18;
const COSE_HEADER_ALG = 1;
const COSE_ALG_ES384 = -35;
const ES384_SIGNATURE_BYTES = 96;
const MAX_CERTIFICATE_BYTES = 1024;
const MAX_CABUNDLE_LENGTH = 10;
const MAX_OPTIONAL_FIELD_BYTES = 1024;
const MAX_PCRS = 32;
const PCR_LENGTHS: ReadonlySet<number> = new Set([32, 48, 64]);

// Maps keep integer keys (pcrs, the COSE header); no record extension; nothing shared.
const cborDecoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const cborEncoder = new Encoder({ useRecords: false, tagUint8Array: false });

/**
 * Parses a PEM bundle (one or more CERTIFICATE blocks; other text is ignored) into trusted roots.
 * @throws {TypeError} when the text holds no certificate or a block is not a DER certificate
 *   (a configuration error, reported at startup).
 */
export function parseTrustedRoots(pem: string): TrustedRoots {
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g)];
  if (blocks.length === 0) {
    throw new TypeError("parseTrustedRoots: the PEM text holds no CERTIFICATE block");
  }
  const certificates = blocks.map((block, index) => {
    try {
      return parseCertificate(Uint8Array.fromBase64((block[1] ?? "").replace(/\s+/g, "")));
    } catch {
      throw new TypeError(
        `parseTrustedRoots: certificate ${index + 1} is not a DER X.509 certificate`,
      );
    }
  });
  return { certificates };
}

/**
 * Verifies a Nitro attestation document against `roots` at time `now` and returns its content.
 * @throws {ValidationException} when the document is malformed, its chain does not lead to a
 *   trusted root, a certificate is outside its validity period, the signature does not
 *   verify, or it carries no public key.
 * @see https://docs.aws.amazon.com/enclaves/latest/user/verify-root.html#validation-process
 */
export async function verifyAttestationDocument(
  doc: Uint8Array,
  roots: TrustedRoots,
  now: Date,
): Promise<AttestedEnclave> {
  if (roots.certificates.length === 0) invalid("no attestation roots are configured");
  if (doc.length === 0 || doc.length > MAX_ATTESTATION_DOCUMENT_BYTES) {
    invalid(`it must be 1 to ${MAX_ATTESTATION_DOCUMENT_BYTES} bytes long`);
  }
  const cose = _decodeCoseSign1(doc);
  const claims = _decodeClaims(cose.payload);
  const leaf = await verifyCertificateChain(claims.certificate, claims.cabundle, roots, now);
  if (!await _verifyCoseSignature(cose, leaf)) invalid("its signature does not verify");
  return _attestedEnclave(claims);
}

interface _CoseSign1 {
  protectedHeader: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
}

/** Untrusted document content, typed but not yet verified. */
interface _Claims {
  moduleId: string;
  digest: string;
  timestamp: number;
  pcrs: Map<number, Uint8Array>;
  certificate: Uint8Array;
  cabundle: Uint8Array[];
  publicKey: Uint8Array | undefined;
  userData: Uint8Array | undefined;
  nonce: Uint8Array | undefined;
}

function _decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    // Throws on trailing bytes ("end of buffer not reached") as well as on bad encodings.
    // A fresh view: cbor-x caches a DataView as a property on its input.
    return cborDecoder.decode(bytes.subarray(0));
  } catch {
    return invalid(`${what} is not well-formed CBOR`);
  }
}

function _decodeCoseSign1(doc: Uint8Array): _CoseSign1 {
  let value = _decodeCbor(doc, "it");
  if (value instanceof Tag) {
    if (value.tag !== COSE_SIGN1_TAG) invalid("it is not a COSE_Sign1 structure");
    value = value.value;
  }
  if (!Array.isArray(value) || value.length !== 4) invalid("it is not a COSE_Sign1 structure");
  const [protectedHeader, unprotected, payload, signature] = value;
  if (!_isBytes(protectedHeader) || !(unprotected instanceof Map) || !_isBytes(payload)) {
    invalid("it is not a COSE_Sign1 structure");
  }
  if (!_isBytes(signature)) invalid("it is not a COSE_Sign1 structure");
  const header = _decodeCbor(protectedHeader, "its protected header");
  if (!(header instanceof Map) || header.get(COSE_HEADER_ALG) !== COSE_ALG_ES384) {
    invalid("its protected header does not name the ES384 algorithm");
  }
  if (signature.length !== ES384_SIGNATURE_BYTES) invalid("its signature is not 96 bytes long");
  return { protectedHeader, payload, signature };
}

function _decodeClaims(payload: Uint8Array): _Claims {
  const map = _decodeCbor(payload, "its payload");
  if (!(map instanceof Map)) invalid("its payload is not a CBOR map");
  const moduleId = map.get("module_id");
  if (typeof moduleId !== "string" || moduleId.length === 0) _badField("module_id");
  const digest = map.get("digest");
  if (digest !== "SHA384") _badField("digest");
  return {
    moduleId,
    digest,
    timestamp: _timestamp(map.get("timestamp")),
    pcrs: _pcrs(map.get("pcrs")),
    certificate: _certificateBytes(map.get("certificate"), "certificate"),
    cabundle: _cabundle(map.get("cabundle")),
    publicKey: _optionalBytes(map, "public_key", 1),
    userData: _optionalBytes(map, "user_data", 0),
    nonce: _optionalBytes(map, "nonce", 0),
  };
}

function _badField(name: string): never {
  return invalid(`its '${name}' field is missing or malformed`);
}

function _timestamp(value: unknown): number {
  const ms = typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms <= 0) _badField("timestamp");
  return ms;
}

function _pcrs(value: unknown): Map<number, Uint8Array> {
  if (!(value instanceof Map) || value.size === 0 || value.size > MAX_PCRS) _badField("pcrs");
  const pcrs = new Map<number, Uint8Array>();
  for (const [index, pcr] of value) {
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= MAX_PCRS) {
      _badField("pcrs");
    }
    if (!_isBytes(pcr) || !PCR_LENGTHS.has(pcr.length)) _badField("pcrs");
    pcrs.set(index, pcr);
  }
  return pcrs;
}

function _certificateBytes(value: unknown, name: string): Uint8Array {
  if (!_isBytes(value) || value.length === 0 || value.length > MAX_CERTIFICATE_BYTES) {
    _badField(name);
  }
  return value;
}

function _cabundle(value: unknown): Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CABUNDLE_LENGTH) {
    _badField("cabundle");
  }
  return value.map((der) => _certificateBytes(der, "cabundle"));
}

/** A byte string field that may be absent or null (the NSM writes null for unset fields). */
function _optionalBytes(map: Map<unknown, unknown>, name: string, min: number) {
  const value = map.get(name);
  if (value === undefined || value === null) return undefined;
  if (!_isBytes(value) || value.length < min || value.length > MAX_OPTIONAL_FIELD_BYTES) {
    _badField(name);
  }
  return value;
}

function _isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** ES384 over Sig_structure = ["Signature1", protected, h'' (external_aad), payload]. */
async function _verifyCoseSignature(cose: _CoseSign1, leaf: ParsedCertificate) {
  const { key } = leaf;
  if (key.kind !== "ec" || key.namedCurve !== "P-384") {
    invalid("its signing certificate does not hold a P-384 key");
  }
  const toBeSigned = cborEncoder.encode([
    "Signature1",
    cose.protectedHeader,
    new Uint8Array(0),
    cose.payload,
  ]);
  const verifier = await crypto.subtle.importKey(
    "spki",
    key.spki,
    { name: "ECDSA", namedCurve: "P-384" },
    false,
    ["verify"],
  );
  return await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-384" },
    verifier,
    new Uint8Array(cose.signature),
    new Uint8Array(toBeSigned),
  );
}

/** Copies the verified content out of the decoder's buffers. */
function _attestedEnclave(claims: _Claims): AttestedEnclave {
  if (claims.publicKey === undefined) invalid("it does not contain a public key");
  const enclave: AttestedEnclave = {
    publicKey: claims.publicKey.slice(),
    moduleId: claims.moduleId,
    timestamp: new Date(claims.timestamp),
    digest: claims.digest,
    pcrs: new Map([...claims.pcrs].map(([index, pcr]) => [index, pcr.slice()])),
  };
  if (claims.userData !== undefined) enclave.userData = claims.userData.slice();
  if (claims.nonce !== undefined) enclave.nonce = claims.nonce.slice();
  return enclave;
}
