/**
 * A stand-in for the AWS Nitro Attestation PKI, for tests and for the test-root mode of
 * `scripts/attestation_test_root.ts`: a self-signed ECDSA P-384 root, an intermediate CA,
 * and per document a fresh leaf that signs a COSE_Sign1 attestation document shaped like
 * the NSM's (CBOR payload with module_id, digest, timestamp, pcrs, certificate, cabundle,
 * public_key, user_data, nonce).
 *
 * Certificates are built with `@peculiar/asn1-x509` and signed with WebCrypto. Options let
 * tests forge documents: another signing key, other validity periods, replaced fields, a
 * tampered payload.
 *
 * @module
 */
import { Encoder, Tag } from "cbor-x";
import { ECDSASigValue } from "@peculiar/asn1-ecc";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from "@peculiar/asn1-x509";

/** A certificate's validity period. */
export interface ValidityPeriod {
  notBefore: Date;
  notAfter: Date;
}

/** What `makeAttestationDocument` puts in (or leaves out of) a document. */
export interface AttestationDocumentOptions {
  /** DER SubjectPublicKeyInfo for `public_key`; null writes null, as the NSM does when unset. */
  publicKey: Uint8Array | null;
  /** PCRs by index; default PCR0-PCR15, 48 zero bytes each (a debug-mode enclave). */
  pcrs?: ReadonlyMap<number, Uint8Array>;
  /** The document's timestamp and the time the leaf certificate is issued; default now. */
  now?: Date;
  /** The leaf's validity; default 5 minutes before `now` to 3 hours after (as AWS does). */
  validity?: ValidityPeriod;
  moduleId?: string;
  userData?: Uint8Array;
  nonce?: Uint8Array;
  /** Signs the COSE structure with this key instead of the leaf's (a forgery). */
  signingKey?: CryptoKey;
  /** Wraps the COSE_Sign1 array in CBOR tag 18. */
  tagged?: boolean;
  /** Payload fields to replace; `undefined` removes the field. */
  fields?: Record<string, unknown>;
}

const ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";
const ID_AT_COMMON_NAME = "2.5.4.3";
const P384 = { name: "ECDSA", namedCurve: "P-384" } as const;
const SHA384 = { name: "ECDSA", hash: "SHA-384" } as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

// Maps as CBOR maps (no tag 259), byte strings untagged, no record extension.
const cbor = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false });

/** The CA-related extensions of a certificate. */
export interface CertificateProfile {
  /** basicConstraints cA. */
  cA: boolean;
  /** basicConstraints pathLenConstraint. */
  pathLength?: number;
  /** keyUsage bits (`KeyUsageFlags`). */
  keyUsage: number;
  /** Adds a critical extension no verifier knows. */
  unknownCriticalExtension?: boolean;
}

const ROOT_PROFILE: CertificateProfile = {
  cA: true,
  keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
};
const INTERMEDIATE_PROFILE: CertificateProfile = { ...ROOT_PROFILE, pathLength: 0 };
const LEAF_PROFILE: CertificateProfile = {
  cA: false,
  keyUsage: KeyUsageFlags.digitalSignature,
};

interface _Issuer {
  readonly name: Name;
  readonly der: Uint8Array;
  readonly privateKey: CryptoKey;
  /** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1). */
  readonly keyId: Uint8Array;
}

/** A test root CA and an intermediate under it, issuing one leaf per attestation document. */
export class TestAttestationPki {
  #root: _Issuer;
  #intermediate: _Issuer;

  private constructor(root: _Issuer, intermediate: _Issuer) {
    this.#root = root;
    this.#intermediate = intermediate;
  }

  /**
   * A new root (valid 10 years from a day before `now`) and intermediate (30 days); the
   * profiles override their CA extensions, to build chains a verifier must refuse.
   */
  static async create(options: {
    now?: Date;
    commonName?: string;
    root?: Partial<CertificateProfile>;
    intermediate?: Partial<CertificateProfile>;
  } = {}): Promise<TestAttestationPki> {
    const now = options.now ?? new Date();
    const name = _name(options.commonName ?? "test.nitro-enclaves");
    const keys = await crypto.subtle.generateKey(P384, true, ["sign", "verify"]);
    const keyId = await _keyId(keys.publicKey);
    const der = await _issue({
      subject: name,
      publicKey: keys.publicKey,
      issuer: { name, privateKey: keys.privateKey, keyId },
      validity: {
        notBefore: new Date(now.getTime() - DAY),
        notAfter: new Date(now.getTime() + 10 * YEAR),
      },
      profile: { ...ROOT_PROFILE, ...options.root },
    });
    return await TestAttestationPki.#withIntermediate(
      { name, der, privateKey: keys.privateKey, keyId },
      now,
      { ...INTERMEDIATE_PROFILE, ...options.intermediate },
    );
  }

  /** A PKI under an existing root (PEM certificate and PKCS #8 key), with a new intermediate. */
  static async load(
    rootCertificatePem: string,
    rootKeyPem: string,
    now: Date = new Date(),
  ): Promise<TestAttestationPki> {
    const der = fromPem("CERTIFICATE", rootCertificatePem);
    const privateKey = await crypto.subtle.importKey(
      "pkcs8",
      fromPem("PRIVATE KEY", rootKeyPem),
      P384,
      true,
      ["sign"],
    );
    const { subject, subjectPublicKeyInfo } = AsnConvert.parse(der, Certificate).tbsCertificate;
    const keyId = await _sha1(subjectPublicKeyInfo.subjectPublicKey);
    return await TestAttestationPki.#withIntermediate(
      { name: subject, der, privateKey, keyId },
      now,
      INTERMEDIATE_PROFILE,
    );
  }

  static async #withIntermediate(
    root: _Issuer,
    now: Date,
    profile: CertificateProfile,
  ): Promise<TestAttestationPki> {
    const keys = await crypto.subtle.generateKey(P384, false, ["sign", "verify"]);
    const name = _name("intermediate.test.nitro-enclaves");
    const der = await _issue({
      subject: name,
      publicKey: keys.publicKey,
      issuer: root,
      validity: {
        notBefore: new Date(now.getTime() - HOUR),
        notAfter: new Date(now.getTime() + 30 * DAY),
      },
      profile,
    });
    const keyId = await _keyId(keys.publicKey);
    return new TestAttestationPki(root, { name, der, privateKey: keys.privateKey, keyId });
  }

  /** The root certificate as PEM: what `KMS_ATTESTATION_ROOTS` is set to. */
  get rootPem(): string {
    return toPem("CERTIFICATE", this.#root.der);
  }

  /** The root certificate's DER. */
  get rootDer(): Uint8Array {
    return this.#root.der.slice();
  }

  /** The intermediate certificate's DER. */
  get intermediateDer(): Uint8Array {
    return this.#intermediate.der.slice();
  }

  /** The root's private key as PKCS #8 PEM (for `init`; test roots only). */
  async rootKeyPem(): Promise<string> {
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", this.#root.privateKey);
    return toPem("PRIVATE KEY", new Uint8Array(pkcs8));
  }

  /** A COSE_Sign1 attestation document signed by a fresh leaf under the intermediate. */
  async makeAttestationDocument(options: AttestationDocumentOptions): Promise<Uint8Array> {
    const now = options.now ?? new Date();
    const moduleId = options.moduleId ?? "i-0123456789abcdef0-enc0123456789abcdef";
    const leafKeys = await crypto.subtle.generateKey(P384, false, ["sign", "verify"]);
    const leaf = await _issue({
      subject: _name(`${moduleId}.test`),
      publicKey: leafKeys.publicKey,
      issuer: this.#intermediate,
      validity: options.validity ??
        {
          notBefore: new Date(now.getTime() - 5 * MINUTE),
          notAfter: new Date(now.getTime() + 3 * HOUR),
        },
      profile: LEAF_PROFILE,
    });
    const payload = new Map<string, unknown>([
      ["module_id", moduleId],
      ["digest", "SHA384"],
      ["timestamp", BigInt(now.getTime())],
      ["pcrs", new Map(options.pcrs ?? _debugPcrs())],
      ["certificate", leaf],
      ["cabundle", [this.#root.der, this.#intermediate.der]],
      ["public_key", options.publicKey],
      ["user_data", options.userData ?? null],
      ["nonce", options.nonce ?? null],
    ]);
    for (const [field, value] of Object.entries(options.fields ?? {})) {
      if (value === undefined) payload.delete(field);
      else payload.set(field, value);
    }
    return await signCoseSign1(_encode(payload), options.signingKey ?? leafKeys.privateKey, {
      tagged: options.tagged ?? false,
    });
  }
}

/** COSE_Sign1 with protected header {1: -35} (ES384) over `payload`, as the NSM writes it. */
export async function signCoseSign1(
  payload: Uint8Array,
  key: CryptoKey,
  options: { tagged: boolean; protectedHeader?: Uint8Array },
): Promise<Uint8Array> {
  const protectedHeader = options.protectedHeader ?? _encode(new Map([[1, -35]]));
  const toBeSigned = _encode(["Signature1", protectedHeader, new Uint8Array(0), payload]);
  const signature = new Uint8Array(await crypto.subtle.sign(SHA384, key, toBeSigned));
  const cose = [protectedHeader, new Map(), payload, signature];
  return _encode(options.tagged ? new Tag(cose, 18) : cose);
}

/** The encoded COSE_Sign1 `[protected, unprotected, payload, signature]` with a new payload. */
export function replacePayload(
  cose: [Uint8Array, unknown, Uint8Array, Uint8Array],
  payload: Uint8Array,
): Uint8Array {
  return _encode([cose[0], cose[1], payload, cose[3]]);
}

/** A copy of `bytes` with the byte at `index` changed. */
export function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

/** Where `needle` first occurs in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** PEM armour with 64-character lines (RFC 7468). */
export function toPem(label: string, der: Uint8Array): string {
  const lines = der.toBase64().match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with `label`. */
export function fromPem(label: string, pem: string): Uint8Array<ArrayBuffer> {
  const match = pem.match(new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`));
  if (match === null) throw new TypeError(`fromPem: no ${label} block`);
  return Uint8Array.fromBase64((match[1] ?? "").replace(/\s+/g, ""));
}

interface _IssueOptions {
  subject: Name;
  publicKey: CryptoKey;
  issuer: Pick<_Issuer, "name" | "privateKey" | "keyId">;
  validity: ValidityPeriod;
  profile: CertificateProfile;
}

/** An X.509 v3 certificate signed with ecdsa-with-SHA384 (RFC 5758 §3.2). */
async function _issue(options: _IssueOptions): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", options.publicKey));
  const signature = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA384 });
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: _positiveInteger(crypto.getRandomValues(new Uint8Array(16))),
    signature,
    issuer: options.issuer.name,
    validity: new Validity(options.validity),
    subject: options.subject,
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      ..._extensions(options.profile),
      ...await _keyIdentifiers(options),
    ]),
  });
  const p1363 = new Uint8Array(
    await crypto.subtle.sign(
      SHA384,
      options.issuer.privateKey,
      AsnConvert.serialize(tbsCertificate),
    ),
  );
  const signatureValue = AsnConvert.serialize(
    new ECDSASigValue({
      r: _positiveInteger(p1363.subarray(0, 48)),
      s: _positiveInteger(p1363.subarray(48)),
    }),
  );
  return new Uint8Array(
    AsnConvert.serialize(
      new Certificate({ tbsCertificate, signatureAlgorithm: signature, signatureValue }),
    ),
  );
}

function _extensions(profile: CertificateProfile): Extension[] {
  const constraints = new BasicConstraints(
    profile.pathLength === undefined
      ? { cA: profile.cA }
      : { cA: profile.cA, pathLenConstraint: profile.pathLength },
  );
  const extensions = [
    _criticalExtension(id_ce_basicConstraints, AsnConvert.serialize(constraints)),
    _criticalExtension(id_ce_keyUsage, AsnConvert.serialize(new KeyUsage(profile.keyUsage))),
  ];
  if (profile.unknownCriticalExtension) {
    extensions.push(_criticalExtension("1.3.6.1.4.1.99999.1", new Uint8Array([5, 0]).buffer));
  }
  return extensions;
}

/** subjectKeyIdentifier on CAs, authorityKeyIdentifier on all (RFC 5280 §4.2.1.1-2). */
async function _keyIdentifiers(options: _IssueOptions): Promise<Extension[]> {
  const authority = new AuthorityKeyIdentifier({
    keyIdentifier: new KeyIdentifier(options.issuer.keyId),
  });
  const extensions = [
    new Extension({
      extnID: id_ce_authorityKeyIdentifier,
      critical: false,
      extnValue: new OctetString(AsnConvert.serialize(authority)),
    }),
  ];
  if (options.profile.cA) {
    const subject = new SubjectKeyIdentifier(await _keyId(options.publicKey));
    extensions.push(
      new Extension({
        extnID: id_ce_subjectKeyIdentifier,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(subject)),
      }),
    );
  }
  return extensions;
}

async function _keyId(publicKey: CryptoKey): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  return await _sha1(AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey);
}

async function _sha1(bytes: ArrayBuffer): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
}

function _criticalExtension(extnID: string, value: ArrayBuffer): Extension {
  return new Extension({ extnID, critical: true, extnValue: new OctetString(value) });
}

function _name(commonName: string): Name {
  return new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({
        type: ID_AT_COMMON_NAME,
        value: new AttributeValue({ utf8String: commonName }),
      }),
    ]),
  ]);
}

/** Unsigned big-endian bytes as a DER INTEGER's content: minimal, 0x00 before a high bit. */
function _positiveInteger(bytes: Uint8Array): ArrayBuffer {
  const start = bytes.findIndex((byte) => byte !== 0);
  const magnitude = start === -1 ? new Uint8Array([0]) : bytes.subarray(start);
  const out = new Uint8Array(magnitude.length + (magnitude[0]! >= 0x80 ? 1 : 0));
  out.set(magnitude, out.length - magnitude.length);
  return out.buffer;
}

function _debugPcrs(): Map<number, Uint8Array> {
  return new Map(Array.from({ length: 16 }, (_, index) => [index, new Uint8Array(48)]));
}

/** cbor-x encodes into a shared buffer: copy out. */
function _encode(value: unknown): Uint8Array<ArrayBuffer> {
  return new Uint8Array(cbor.encode(value));
}
