/**
 * The `Recipient` parameter as every operation that takes it uses it: attest
 * first (before DryRun answers and before anything is generated), seal the
 * plaintext to the attested enclave last, and wipe the plaintext whatever happens.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/how-nitro-enclaves.html
 * @module
 */
import type { Recipients } from "../operation_ports.ts";
import type { AttestedEnclave } from "../recipient/attestation.ts";
import type { RecipientInput } from "../recipient/recipient.ts";
import type { SecretBytes } from "../secret.ts";

/** What this family of operations uses of the KMS. */
export type RecipientPorts = Recipients;

/** RecipientInfo as the schema hands it over. */
export interface RecipientField {
  KeyEncryptionAlgorithm?: string | undefined;
  AttestationDocument?: Uint8Array | undefined;
}

/**
 * Verifies the attestation document of a request's `Recipient`, if there is one.
 * @throws {ValidationException} a document that is missing, malformed, forged or untrusted.
 */
export async function attestRecipient(
  kms: RecipientPorts,
  recipient: RecipientField | undefined,
): Promise<AttestedEnclave | undefined> {
  if (recipient === undefined) return undefined;
  const input: RecipientInput = {};
  if (recipient.KeyEncryptionAlgorithm !== undefined) {
    input.keyEncryptionAlgorithm = recipient.KeyEncryptionAlgorithm;
  }
  if (recipient.AttestationDocument !== undefined) {
    input.attestationDocument = recipient.AttestationDocument;
  }
  return await kms.recipients.attest(input);
}

/**
 * Seals a secret (a plaintext, data key, private key or shared secret) for the attested enclave,
 * then wipes it, sealed or not: the secret never leaves in plaintext.
 */
export async function sealForRecipient(
  kms: Recipients,
  enclave: AttestedEnclave,
  secret: SecretBytes,
): Promise<Uint8Array> {
  try {
    return await kms.recipients.seal(enclave, secret.expose());
  } finally {
    secret.wipe();
  }
}
