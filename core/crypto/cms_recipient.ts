/**
 * CMS EnvelopedData (RFC 5652 §6) for `CiphertextForRecipient`: the plaintext of a KMS
 * response sealed to the RSA public key of an attested enclave.
 *
 * - one KeyTransRecipientInfo, version 2, `rid` = subjectKeyIdentifier (RFC 5652 §6.2.1);
 * - key transport RSAES-OAEP (RFC 8017 §7.1) with SHA-256 and MGF1-SHA-256, the parameters
 *   written out (RFC 4055 §4.1), label empty (the default pSourceAlgorithm, so omitted);
 * - content encryption id-aes256-CBC (RFC 3565 §4.1) with PKCS #7 padding, a fresh random
 *   key and IV per call, inner content type id-data.
 *
 * Encoding. AWS KMS answers with BER, not DER: ContentInfo, its `[0]` wrapper, EnvelopedData
 * and EncryptedContentInfo use the indefinite length form, and the encrypted content is a
 * constructed `[0]` holding OCTET STRING chunks (the form of the KMS reply kept as a test
 * vector in aws-nitro-enclaves-sdk-c, `tests/cms_test.c`). That SDK's parser
 * (`source/cms.c`) depends on it: it reads those four headers with
 * `CBS_get_any_ber_asn1_element`, which steps into an indefinite-length element but steps
 * over a definite-length one whole, so a DER reply fails to parse there. This module
 * therefore emits the same layout; everything inside those four headers is DER. OpenSSL
 * (`openssl cms -decrypt -inform DER`) reads it too, since its DER reader accepts BER.
 *
 * Every element is built by `@peculiar/asn1-cms`; the indefinite forms are set on the
 * asn1js tree that `AsnSerializer.toASN` returns, and asn1js writes the end-of-contents
 * octets.
 *
 * The subjectKeyIdentifier is 32 bytes, as in the KMS reply above: SHA-256 of the
 * subjectPublicKey bits (RFC 7093 §2, method 4 style). Which bytes AWS hashes is not
 * documented; readers (OpenSSL without `-recip`, the SDK) do not compare it.
 *
 * @module
 */
import {
  CMSVersion,
  ContentInfo,
  EncryptedContent,
  EncryptedContentInfo,
  EnvelopedData,
  id_data,
  id_envelopedData,
  KeyTransRecipientInfo,
  RecipientIdentifier,
  RecipientInfo,
  RecipientInfos,
} from "@peculiar/asn1-cms";
import { id_mgf1, id_RSAES_OAEP, id_sha256, RsaEsOaepParams } from "@peculiar/asn1-rsa";
import { AsnConvert, AsnSerializer, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { randomBytes } from "./random.ts";

/** id-aes256-CBC (RFC 3565 §4.1); its parameter is the 16-byte IV. */
export const ID_AES256_CBC = "2.16.840.1.101.3.4.1.42";

const AES_KEY_BYTES = 32;
const AES_CBC_IV_BYTES = 16;

/** sha256 with NULL parameters, as AWS writes it inside the OAEP parameters. */
const SHA256 = new AlgorithmIdentifier({ algorithm: id_sha256, parameters: null });

/** RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 4055 §4.1), parameters explicit. */
const RSAES_OAEP_SHA256 = new AlgorithmIdentifier({
  algorithm: id_RSAES_OAEP,
  parameters: AsnConvert.serialize(
    new RsaEsOaepParams({
      hashAlgorithm: SHA256,
      maskGenAlgorithm: new AlgorithmIdentifier({
        algorithm: id_mgf1,
        parameters: AsnConvert.serialize(SHA256),
      }),
    }),
  ),
});

/**
 * Seals `plaintext` to the RSA key in `recipientSpki` (DER SubjectPublicKeyInfo) as a BER
 * ContentInfo(id-envelopedData), the form KMS returns in `CiphertextForRecipient`.
 * @throws {TypeError} when `recipientSpki` is not an importable RSA public key (callers
 *   validate the key first: `RecipientSealer.attest`).
 * @see https://www.rfc-editor.org/rfc/rfc5652#section-6
 */
export async function envelopeForRecipient(
  plaintext: Uint8Array,
  recipientSpki: Uint8Array,
): Promise<Uint8Array> {
  const contentKey = randomBytes(AES_KEY_BYTES);
  const iv = randomBytes(AES_CBC_IV_BYTES);
  try {
    const [encryptedKey, encryptedContent, keyId] = await Promise.all([
      _rsaOaepSha256Encrypt(recipientSpki, contentKey),
      _aes256CbcEncrypt(contentKey, iv, plaintext),
      subjectKeyIdentifier(recipientSpki),
    ]);
    return _encodeAwsBer(_envelopedData({ encryptedKey, keyId, iv, encryptedContent }));
  } finally {
    contentKey.fill(0);
  }
}

/**
 * The 32-byte key identifier this module puts in `rid`: SHA-256 of the subjectPublicKey bits.
 * @throws {TypeError} when `spki` is not a DER SubjectPublicKeyInfo.
 */
export async function subjectKeyIdentifier(spki: Uint8Array): Promise<Uint8Array> {
  let bits: ArrayBuffer;
  try {
    bits = AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey;
  } catch {
    throw new TypeError("subjectKeyIdentifier: not a DER SubjectPublicKeyInfo");
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bits));
}

interface _EnvelopeParts {
  encryptedKey: Uint8Array;
  keyId: Uint8Array;
  iv: Uint8Array;
  encryptedContent: Uint8Array;
}

/** EnvelopedData version 2 (RFC 5652 §6.1: a version-2 recipient info) with one ktri. */
function _envelopedData(parts: _EnvelopeParts): EnvelopedData {
  const ktri = new KeyTransRecipientInfo({
    version: CMSVersion.v2,
    rid: new RecipientIdentifier({ subjectKeyIdentifier: new OctetString(parts.keyId) }),
    keyEncryptionAlgorithm: RSAES_OAEP_SHA256,
    encryptedKey: new OctetString(parts.encryptedKey),
  });
  return new EnvelopedData({
    version: CMSVersion.v2,
    recipientInfos: new RecipientInfos([new RecipientInfo({ ktri })]),
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: id_data,
      contentEncryptionAlgorithm: new AlgorithmIdentifier({
        algorithm: ID_AES256_CBC,
        parameters: AsnConvert.serialize(new OctetString(parts.iv)),
      }),
      encryptedContent: new EncryptedContent({
        constructedValue: [new OctetString(parts.encryptedContent)],
      }),
    }),
  });
}

/** An asn1js node as far as this module touches it. */
interface _AsnNode {
  lenBlock: { isIndefiniteForm: boolean };
  valueBlock: { value: _AsnNode[] };
  toBER(sizeOnly?: boolean): ArrayBuffer;
}

/**
 * ContentInfo with the indefinite length form on the four headers KMS writes that way:
 * ContentInfo, its `[0]`, EnvelopedData, EncryptedContentInfo, and the constructed
 * encrypted content `[0]`.
 */
function _encodeAwsBer(enveloped: EnvelopedData): Uint8Array {
  const info = new ContentInfo({
    contentType: id_envelopedData,
    content: AsnConvert.serialize(enveloped),
  });
  const contentInfo = AsnSerializer.toASN(info) as unknown as _AsnNode;
  const explicit = _child(contentInfo, 1);
  const envelopedData = _child(explicit, 0);
  const encryptedContentInfo = _child(envelopedData, envelopedData.valueBlock.value.length - 1);
  const encryptedContent = _child(encryptedContentInfo, 2);
  for (
    const node of [contentInfo, explicit, envelopedData, encryptedContentInfo, encryptedContent]
  ) {
    node.lenBlock.isIndefiniteForm = true;
  }
  return new Uint8Array(contentInfo.toBER(false));
}

function _child(node: _AsnNode, index: number): _AsnNode {
  const child = node.valueBlock.value[index];
  if (child === undefined) throw new Error("cms_recipient: unexpected ASN.1 tree shape");
  return child;
}

async function _rsaOaepSha256Encrypt(spki: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "spki",
      _buffer(spki),
      { name: "RSA-OAEP", hash: "SHA-256" },
      false,
      ["encrypt"],
    );
  } catch {
    throw new TypeError("envelopeForRecipient: the recipient key is not an RSA public key");
  }
  // WebCrypto's RSA-OAEP uses MGF1 with the same hash, and an empty label by default.
  return new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, key, _buffer(data)));
}

async function _aes256CbcEncrypt(
  rawKey: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", _buffer(rawKey), "AES-CBC", false, [
    "encrypt",
  ]);
  const out = await crypto.subtle.encrypt(
    { name: "AES-CBC", iv: _buffer(iv) },
    key,
    _buffer(plaintext),
  );
  return new Uint8Array(out);
}

/** The bytes as an ArrayBuffer-backed view, which WebCrypto's types ask for. */
function _buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}
