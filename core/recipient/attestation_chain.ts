/**
 * The certificate chain of an AWS Nitro Enclaves attestation document
 * (core/recipient/attestation.ts): the signing certificate and the CA bundle,
 * verified as one path up to a configured trusted root (signatures, validity at
 * `now`, CA constraints, known critical extensions; RFC 5280 §6.1). CA
 * certificates and their verified signatures are cached; leaf certificates are not.
 *
 * Every failure is a `ValidationException` (`invalid`) whose message names the
 * reason and never quotes the document.
 *
 * @module
 */
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

const CA_CACHE_ENTRIES = 64;
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

/** Throws the ValidationException every attestation failure becomes. */
export function invalid(reason: string): never {
  throw new ValidationException(
    `The attestation document in the Recipient parameter is not valid: ${reason}.`,
  );
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
 * Verifies the signing certificate, the CA bundle (root first) and a trusted root as one path
 * at time `now`; returns the parsed signing certificate.
 * @throws {ValidationException} naming the first check that fails.
 */
export async function verifyCertificateChain(
  certificate: Uint8Array,
  cabundle: readonly Uint8Array[],
  roots: TrustedRoots,
  now: Date,
): Promise<ParsedCertificate> {
  let bundle: ParsedCertificate[];
  let leaf: ParsedCertificate;
  try {
    bundle = cabundle.map(_parseCaCertificate);
    leaf = parseCertificate(certificate);
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

function _equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
