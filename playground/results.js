/**
 * Readable results of the cryptographic operations: the reply's fields as rows, keys as PEM
 * blocks, and follow-up actions (decrypt what was just generated, verify what was just signed).
 *
 * @module
 */
import { base64ToText, isPkcs8, toPem } from "./pem.js";

/** @typedef {import("./output.js").Result} Result */
/** @typedef {import("./output.js").Row} Row */

/**
 * Rows for the fields of a reply that are present.
 * @param {any} data
 * @param {[string, string][]} fields  [label, API field name]
 * @returns {Row[]}
 */
function rows(data, fields) {
  return fields.filter(([, name]) => data[name] !== undefined && data[name] !== null)
    .map(([label, name]) => ({
      label,
      name,
      value: Array.isArray(data[name]) ? data[name].join(", ") : String(data[name]),
    }));
}

/**
 * The readable result of a reply.
 * @param {string} operation
 * @param {Record<string, unknown>} input
 * @param {any} data
 * @param {(operation: string, values: Record<string, string>) => void} followUp  fills the form
 *   for an operation (element id → value) and runs it
 * @returns {Result}
 */
export function resultOf(operation, input, data, followUp) {
  const contextText = input.EncryptionContext === undefined
    ? ""
    : JSON.stringify(input.EncryptionContext);
  const decrypt = (/** @type {string} */ text, /** @type {string} */ blob) => ({
    text,
    run: () =>
      followUp("Decrypt", {
        "op-key-id": data.KeyId,
        ciphertext: blob,
        "encryption-context": contextText,
        "encryption-algorithm": data.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
      }),
  });
  switch (operation) {
    case "GenerateDataKey":
    case "GenerateDataKeyWithoutPlaintext":
      return {
        title: `${operation} succeeded`,
        rows: rows(data, [["Key ID", "KeyId"], ["Plaintext (base64)", "Plaintext"], [
          "Ciphertext blob",
          "CiphertextBlob",
        ]]),
        followUps: [decrypt("Decrypt the ciphertext blob", data.CiphertextBlob)],
      };
    case "GenerateDataKeyPair":
    case "GenerateDataKeyPairWithoutPlaintext": {
      const spec = String(data.KeyPairSpec).toLowerCase();
      return {
        title: `${operation} succeeded`,
        rows: rows(data, [["Key ID", "KeyId"], ["Key pair spec", "KeyPairSpec"], [
          "Private key ciphertext blob",
          "PrivateKeyCiphertextBlob",
        ]]),
        pems: [
          {
            label: "Public key (PEM)",
            pem: toPem("PUBLIC KEY", data.PublicKey),
            filename: `${spec}-public.pem`,
          },
          ...(data.PrivateKeyPlaintext === undefined ? [] : [{
            label: "Private key (PEM)",
            pem: toPem("PRIVATE KEY", data.PrivateKeyPlaintext),
            filename: `${spec}-private.pem`,
          }]),
        ],
        followUps: [decrypt("Decrypt the private key blob", data.PrivateKeyCiphertextBlob)],
      };
    }
    case "Encrypt":
      return {
        title: "Encrypt succeeded",
        rows: rows(data, [["Key ID", "KeyId"], ["Encryption algorithm", "EncryptionAlgorithm"], [
          "Ciphertext blob",
          "CiphertextBlob",
        ]]),
        followUps: [decrypt("Decrypt the ciphertext blob", data.CiphertextBlob)],
      };
    case "Decrypt": {
      const text = base64ToText(data.Plaintext);
      const privateKey = isPkcs8(data.Plaintext);
      return {
        title: "Decrypt succeeded",
        rows: [
          ...rows(data, [["Key ID", "KeyId"], ["Encryption algorithm", "EncryptionAlgorithm"], [
            "Plaintext (base64)",
            "Plaintext",
          ]]),
          ...(text === undefined || privateKey
            ? []
            : [{ label: "Plaintext (UTF-8)", name: "PlaintextText", value: text }]),
        ],
        pems: privateKey
          ? [{
            label: "Private key (PEM)",
            pem: toPem("PRIVATE KEY", data.Plaintext),
            filename: "private-key.pem",
          }]
          : [],
      };
    }
    case "Sign":
      return {
        title: "Sign succeeded",
        rows: rows(data, [["Key ID", "KeyId"], ["Signing algorithm", "SigningAlgorithm"], [
          "Signature",
          "Signature",
        ]]),
        followUps: [{
          text: "Verify the signature",
          run: () => followUp("Verify", { "op-key-id": data.KeyId, signature: data.Signature }),
        }],
      };
    case "Verify":
      return {
        title: data.SignatureValid ? "The signature is valid" : "The signature is not valid",
        rows: rows(data, [["Key ID", "KeyId"], ["Signing algorithm", "SigningAlgorithm"], [
          "Signature valid",
          "SignatureValid",
        ]]),
      };
    default:
      return {
        title: `${operation} succeeded`,
        rows: rows(data, [
          ["Key ID", "KeyId"],
          ["Key spec", "KeySpec"],
          ["Key usage", "KeyUsage"],
          ["Encryption algorithms", "EncryptionAlgorithms"],
          ["Signing algorithms", "SigningAlgorithms"],
          ["Key agreement algorithms", "KeyAgreementAlgorithms"],
        ]),
        pems: data.PublicKey === undefined ? [] : [{
          label: "Public key (PEM)",
          pem: toPem("PUBLIC KEY", data.PublicKey),
          filename: `${String(data.KeyId).split("/").pop()}-public.pem`,
        }],
      };
  }
}
