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
 * constraints), then the COSE signature with the leaf key. Only after all of that does any
 * content of the document leave this module.
 *
 * Every failure is a `ValidationException` whose message names the reason and never quotes
 * the document.
 *
 * @see https://docs.aws.amazon.com/enclaves/latest/user/verify-root.html
 * @see https://github.com/aws/aws-nitro-enclaves-nsm-api/blob/main/docs/attestation_process.md
 * @module
 */
import { Decoder, Encoder, Tag } from "cbor-x";
import { ECDSASigValue, ECParameters } from "@peculiar/asn1-ecc";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  BasicConstraints,
  Certificate,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
} from "@peculiar/asn1-x509";
import { ValidationException } from "../errors.ts";
import { LruMap } from "../lru.ts";

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

/** The certificates an attestation chain must lead to, parsed once at startup. */
export interface TrustedRoots {
  readonly certificates: readonly ParsedCertificate[];
}

/** An X.509 certificate parsed once, with the parts chain verification compares. */
export interface ParsedCertificate {
  readonly der: Uint8Array<ArrayBuffer>;
  readonly certificate: Certificate;
  /** The exact DER of tbsCertificate, the signed bytes. */
  readonly tbs: Uint8Array<ArrayBuffer>;
  readonly subject: Uint8Array;
  readonly issuer: Uint8Array;
  readonly key: CertificateKey;
}

/** A certificate's subject public key, as far as WebCrypto can verify with it. */
export type CertificateKey =
  | { kind: "ec"; namedCurve: Curve; spki: Uint8Array<ArrayBuffer> }
  | { kind: "rsa"; spki: Uint8Array<ArrayBuffer> }
  | { kind: "unsupported" };

/** The curves certificate keys may use here. */
export type Curve = "P-256" | "P-384";

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
const CA_CACHE_ENTRIES = 64;
const PCR_LENGTHS: ReadonlySet<number> = new Set([32, 48, 64]);

const CURVES: ReadonlyMap<string, Curve> = new Map([
  ["1.2.840.10045.3.1.7", "P-256"], // secp256r1 (RFC 5480 §2.1.1.1)
  ["1.3.132.0.34", "P-384"], // secp384r1
]);
const CURVE_BYTES: Record<Curve, number> = { "P-256": 32, "P-384": 48 };
const ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const ID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";

interface _SignatureScheme {
  name: "ECDSA" | "RSASSA-PKCS1-v1_5";
  hash: "SHA-256" | "SHA-384" | "SHA-512";
}

/** Certificate signature algorithms accepted in a chain (RFC 5758 §3.2, RFC 4055 §5). */
const SIGNATURE_SCHEMES: ReadonlyMap<string, _SignatureScheme> = new Map([
  ["1.2.840.10045.4.3.2", { name: "ECDSA", hash: "SHA-256" }],
  ["1.2.840.10045.4.3.3", { name: "ECDSA", hash: "SHA-384" }],
  ["1.2.840.10045.4.3.4", { name: "ECDSA", hash: "SHA-512" }],
  ["1.2.840.113549.1.1.11", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }],
  ["1.2.840.113549.1.1.12", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }],
  ["1.2.840.113549.1.1.13", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }],
]);

/** The critical extensions this verifier processes: basicConstraints and keyUsage. */
const KNOWN_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  id_ce_basicConstraints,
  id_ce_keyUsage,
]);

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
 * Parses one DER certificate.
 * @throws {Error} when `der` is not an X.509 certificate.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const certificate = AsnConvert.parse(der, Certificate);
  const tbs = certificate.tbsCertificateRaw;
  if (tbs === undefined) throw new Error("parseCertificate: no tbsCertificate");
  const { subject, issuer, subjectPublicKeyInfo } = certificate.tbsCertificate;
  return {
    der: der.slice(),
    certificate,
    tbs: new Uint8Array(tbs),
    subject: new Uint8Array(AsnConvert.serialize(subject)),
    issuer: new Uint8Array(AsnConvert.serialize(issuer)),
    key: _certificateKey(
      subjectPublicKeyInfo.algorithm,
      AsnConvert.serialize(subjectPublicKeyInfo),
    ),
  };
}

function _certificateKey(algorithm: AlgorithmIdentifier, spki: ArrayBuffer): CertificateKey {
  if (algorithm.algorithm === ID_RSA_ENCRYPTION) return { kind: "rsa", spki: new Uint8Array(spki) };
  if (algorithm.algorithm !== ID_EC_PUBLIC_KEY || !algorithm.parameters) {
    return { kind: "unsupported" };
  }
  const curve = CURVES.get(AsnConvert.parse(algorithm.parameters, ECParameters).namedCurve ?? "");
  return curve === undefined
    ? { kind: "unsupported" }
    : { kind: "ec", namedCurve: curve, spki: new Uint8Array(spki) };
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
  const leaf = await _verifyChain(claims, roots, now);
  if (!await _verifyCoseSignature(cose, leaf)) invalid("its signature does not verify");
  return _attestedEnclave(claims);
}

/** Throws the ValidationException every attestation failure becomes. */
export function invalid(reason: string): never {
  throw new ValidationException(
    `The attestation document in the Recipient parameter is not valid: ${reason}.`,
  );
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

function _equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Verifies certificate, cabundle and a trusted root as one path; returns the leaf. */
async function _verifyChain(claims: _Claims, roots: TrustedRoots, now: Date) {
  let bundle: ParsedCertificate[];
  let leaf: ParsedCertificate;
  try {
    bundle = claims.cabundle.map(_parseCaCertificate);
    leaf = parseCertificate(claims.certificate);
  } catch {
    return invalid("a certificate in it is not a DER X.509 certificate");
  }
  const path = await _anchoredPath(bundle, roots.certificates);
  const chain = [...path, leaf];
  for (const cert of chain) _checkExtensionsKnown(cert);
  for (const cert of chain) _checkValidity(cert, now, cert === leaf);
  path.forEach((ca, index) => _checkCa(ca, path.length - 1 - index));
  _checkLeaf(leaf);
  for (let i = 1; i < chain.length; i++) {
    if (!_equalBytes(chain[i]!.issuer, chain[i - 1]!.subject)) {
      invalid("its certificate chain is not in order from the root to the signing certificate");
    }
  }
  const signed = await Promise.all(chain.slice(1).map((cert, i) => _isSignedBy(cert, chain[i]!)));
  if (signed.includes(false)) invalid("a certificate signature in its chain does not verify");
  return leaf;
}

/** The path from a trusted root: cabundle[0] is a trusted root, or a trusted root issued it. */
async function _anchoredPath(
  bundle: ParsedCertificate[],
  roots: readonly ParsedCertificate[],
): Promise<ParsedCertificate[]> {
  const first = bundle[0]!;
  if (roots.some((root) => _equalBytes(root.der, first.der))) return bundle;
  for (const root of roots) {
    if (_equalBytes(root.subject, first.issuer) && await _isSignedBy(first, root)) {
      return [root, ...bundle];
    }
  }
  return invalid("its certificate chain does not lead to a trusted root");
}

function _checkValidity(cert: ParsedCertificate, now: Date, isLeaf: boolean): void {
  const { notBefore, notAfter } = cert.certificate.tbsCertificate.validity;
  const which = isLeaf ? "its signing certificate" : "a CA certificate in its chain";
  if (now.getTime() < notBefore.getTime().getTime()) invalid(`${which} is not yet valid`);
  if (now.getTime() > notAfter.getTime().getTime()) invalid(`${which} has expired`);
}

/** RFC 5280 §6.1.4 (k), (l), (n): cA, path length, keyCertSign. */
function _checkCa(ca: ParsedCertificate, casBelow: number): void {
  const constraints = _extension(ca, id_ce_basicConstraints, BasicConstraints);
  if (constraints?.cA !== true) invalid("a CA certificate in its chain is not marked as a CA");
  const pathLen = constraints.pathLenConstraint;
  if (pathLen !== undefined && casBelow > pathLen) {
    invalid("its certificate chain is longer than a CA certificate in it allows");
  }
  const usage = _extension(ca, id_ce_keyUsage, KeyUsage)?.toNumber();
  if (usage !== undefined && (usage & KeyUsageFlags.keyCertSign) === 0) {
    invalid("a CA certificate in its chain may not sign certificates");
  }
}

function _checkLeaf(leaf: ParsedCertificate): void {
  const usage = _extension(leaf, id_ce_keyUsage, KeyUsage)?.toNumber();
  if (usage !== undefined && (usage & KeyUsageFlags.digitalSignature) === 0) {
    invalid("its signing certificate may not sign");
  }
}

/** RFC 5280 §4.2: a critical extension the verifier does not process rejects the certificate. */
function _checkExtensionsKnown(cert: ParsedCertificate): void {
  for (const extension of cert.certificate.tbsCertificate.extensions ?? []) {
    if (extension.critical && !KNOWN_CRITICAL_EXTENSIONS.has(extension.extnID)) {
      invalid("a certificate in its chain has an unsupported critical extension");
    }
  }
}

function _extension<T>(cert: ParsedCertificate, id: string, type: new () => T): T | undefined {
  const found = cert.certificate.tbsCertificate.extensions?.find((e) => e.extnID === id);
  if (found === undefined) return undefined;
  try {
    return AsnConvert.parse(found.extnValue.buffer, type);
  } catch {
    return invalid("a certificate in its chain has a malformed extension");
  }
}

/**
 * CA certificates repeat across documents (the regional, zonal and instance CAs live for days),
 * so their parsed form and their verified signatures are kept: both are pure functions of the
 * DER. Leaf certificates are new in every document and are not cached.
 */
const caCertificates = new LruMap<string, ParsedCertificate>(CA_CACHE_ENTRIES);
const verifiedIssuers = new WeakMap<ParsedCertificate, WeakSet<ParsedCertificate>>();

function _parseCaCertificate(der: Uint8Array): ParsedCertificate {
  const key = der.toBase64();
  let parsed = caCertificates.get(key);
  if (parsed === undefined) {
    parsed = parseCertificate(der);
    caCertificates.set(key, parsed);
  }
  return parsed;
}

/** Whether `issuer`'s key verifies `cert`'s signature (RFC 5280 §6.1.3 (a)(1)). */
async function _isSignedBy(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  if (verifiedIssuers.get(cert)?.has(issuer)) return true;
  const signed = await _verifySignature(cert, issuer);
  if (signed) {
    const issuers = verifiedIssuers.get(cert) ?? new WeakSet();
    issuers.add(issuer);
    verifiedIssuers.set(cert, issuers);
  }
  return signed;
}

async function _verifySignature(cert: ParsedCertificate, issuer: ParsedCertificate) {
  const { signatureAlgorithm, signatureValue, tbsCertificate } = cert.certificate;
  const scheme = SIGNATURE_SCHEMES.get(signatureAlgorithm.algorithm);
  if (scheme === undefined) {
    return invalid("a certificate in its chain uses an unsupported signature algorithm");
  }
  if (!signatureAlgorithm.isEqual(tbsCertificate.signature)) return false;
  const { key } = issuer;
  let imported: {
    spki: Uint8Array<ArrayBuffer>;
    params: EcKeyImportParams | RsaHashedImportParams;
  };
  let signature: Uint8Array<ArrayBuffer> | undefined;
  if (scheme.name === "ECDSA" && key.kind === "ec") {
    imported = { spki: key.spki, params: { name: "ECDSA", namedCurve: key.namedCurve } };
    signature = _ecdsaDerToP1363(signatureValue, CURVE_BYTES[key.namedCurve]);
  } else if (scheme.name === "RSASSA-PKCS1-v1_5" && key.kind === "rsa") {
    imported = { spki: key.spki, params: { name: scheme.name, hash: scheme.hash } };
    signature = new Uint8Array(signatureValue);
  } else {
    return false;
  }
  if (signature === undefined) return false;
  try {
    const verifier = await crypto.subtle.importKey("spki", imported.spki, imported.params, false, [
      "verify",
    ]);
    return await crypto.subtle.verify(
      { name: scheme.name, hash: scheme.hash },
      verifier,
      signature,
      cert.tbs,
    );
  } catch {
    return false;
  }
}

/** DER ECDSA-Sig-Value (RFC 3279 §2.2.3) to r || s, each left-padded to the curve size. */
function _ecdsaDerToP1363(der: ArrayBuffer, size: number): Uint8Array<ArrayBuffer> | undefined {
  let value: ECDSASigValue;
  try {
    value = AsnConvert.parse(der, ECDSASigValue);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(2 * size);
  for (const [index, integer] of [value.r, value.s].entries()) {
    const bytes = new Uint8Array(integer);
    const start = bytes.findIndex((byte) => byte !== 0);
    const magnitude = start === -1 ? new Uint8Array(0) : bytes.subarray(start);
    if (magnitude.length > size) return undefined;
    out.set(magnitude, (index + 1) * size - magnitude.length);
  }
  return out;
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
