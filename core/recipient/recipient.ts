/**
 * The `Recipient` parameter of Decrypt, DeriveSharedSecret, GenerateDataKey,
 * GenerateDataKeyPair and GenerateRandom: one implementation for all of them.
 *
 * `attest` checks the key encryption algorithm, verifies the Nitro Enclaves attestation
 * document and its public key (RSA, 2048 to 4096 bits); `seal` turns the operation's
 * plaintext into `CiphertextForRecipient` (CMS EnvelopedData, RSAES-OAEP-SHA-256 +
 * AES-256-CBC). They are separate so that DryRun can validate without sealing and policy
 * evaluation can read the PCRs (`kms:RecipientAttestation:*`) before the operation runs.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/services-nitro-enclaves.html
 * @module
 */
import { RSAPublicKey } from "@peculiar/asn1-rsa";
import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { envelopeForRecipient } from "../crypto/cms_recipient.ts";
import { ValidationException } from "../errors.ts";
import { SecretBytes } from "../secret.ts";
import {
  type AttestedEnclave,
  invalid,
  type TrustedRoots,
  verifyAttestationDocument,
} from "./attestation.ts";

/** The only `KeyEncryptionAlgorithm` KMS defines for a Recipient (and its default). */
export const RECIPIENT_KEY_ENCRYPTION_ALGORITHM = "RSAES_OAEP_SHA_256";

/** Smallest and largest RSA modulus accepted as an enclave key, in bits. */
export const MIN_RECIPIENT_RSA_BITS = 2048;
export const MAX_RECIPIENT_RSA_BITS = 4096;

const ID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";

/** The `Recipient` request structure, decoded (the document as bytes). */
export interface RecipientInput {
  keyEncryptionAlgorithm?: string;
  attestationDocument?: Uint8Array;
}

/** Verifies Recipient parameters and seals plaintext for the attested enclave. */
export class RecipientSealer {
  #roots: TrustedRoots;
  #now: () => Date;

  /** `roots` from `parseTrustedRoots`; `now` is the clock certificate validity is checked at. */
  constructor(roots: TrustedRoots, now: () => Date) {
    this.#roots = roots;
    this.#now = now;
  }

  /**
   * Validates the algorithm and the attestation document; returns the attested enclave.
   * @throws {ValidationException} on a wrong algorithm, a missing or invalid document, an
   *   unusable public key, or when no attestation roots are configured.
   * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_RecipientInfo.html
   */
  async attest(input: RecipientInput): Promise<AttestedEnclave> {
    const algorithm = input.keyEncryptionAlgorithm ?? RECIPIENT_KEY_ENCRYPTION_ALGORITHM;
    if (algorithm !== RECIPIENT_KEY_ENCRYPTION_ALGORITHM) {
      throw new ValidationException(
        `The KeyEncryptionAlgorithm in the Recipient parameter must be ${RECIPIENT_KEY_ENCRYPTION_ALGORITHM}.`,
      );
    }
    if (input.attestationDocument === undefined) {
      throw new ValidationException("The Recipient parameter must include an AttestationDocument.");
    }
    const enclave = await verifyAttestationDocument(
      input.attestationDocument,
      this.#roots,
      this.#now(),
    );
    await _assertUsableRsaKey(enclave.publicKey);
    return enclave;
  }

  /**
   * Seals `plaintext` to the enclave's public key: the `CiphertextForRecipient` blob.
   * @see https://www.rfc-editor.org/rfc/rfc5652#section-6
   */
  seal(enclave: AttestedEnclave, plaintext: Uint8Array | SecretBytes): Promise<Uint8Array> {
    const bytes = plaintext instanceof SecretBytes ? plaintext.expose() : plaintext;
    return envelopeForRecipient(bytes, enclave.publicKey);
  }
}

/** The public key must be a DER SPKI of an RSA key WebCrypto imports for RSA-OAEP. */
async function _assertUsableRsaKey(spki: Uint8Array): Promise<void> {
  const bits = _rsaModulusBits(spki);
  if (bits === undefined) invalid("its public key is not a DER-encoded RSA public key");
  if (bits < MIN_RECIPIENT_RSA_BITS || bits > MAX_RECIPIENT_RSA_BITS) {
    invalid(
      `its RSA public key must be ${MIN_RECIPIENT_RSA_BITS} to ${MAX_RECIPIENT_RSA_BITS} bits long`,
    );
  }
  try {
    await crypto.subtle.importKey(
      "spki",
      new Uint8Array(spki),
      { name: "RSA-OAEP", hash: "SHA-256" },
      false,
      ["encrypt"],
    );
  } catch {
    invalid("its public key is not a usable RSA public key");
  }
}

/** The modulus length of an RSA SubjectPublicKeyInfo, or undefined for anything else. */
function _rsaModulusBits(spki: Uint8Array): number | undefined {
  try {
    const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    if (info.algorithm.algorithm !== ID_RSA_ENCRYPTION) return undefined;
    const modulus = new Uint8Array(AsnConvert.parse(info.subjectPublicKey, RSAPublicKey).modulus);
    const start = modulus.findIndex((byte) => byte !== 0);
    if (start === -1) return undefined;
    return (modulus.length - start) * 8 - Math.clz32(modulus[start]!) + 24;
  } catch {
    return undefined;
  }
}
