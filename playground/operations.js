/**
 * The cryptographic operations form: GenerateDataKey(WithoutPlaintext),
 * GenerateDataKeyPair(WithoutPlaintext), Encrypt, Decrypt, Sign, Verify and GetPublicKey: which
 * fields each uses, the request it sends, and follow-ups that fill the form and run it
 * (results.js renders the replies).
 *
 * @module
 */
import { InputError, perform } from "./action.js";
import { byId, checked, setValue, valueOf } from "./dom.js";
import { showResult } from "./output.js";
import { utf8ToBase64 } from "./pem.js";
import { resultOf } from "./results.js";

/**
 * The form fields each operation uses (the `data-field` names of the page).
 * @type {Record<string, string[]>}
 */
const FIELDS = {
  GenerateDataKey: ["dataKeySpec", "withoutPlaintext", "context"],
  GenerateDataKeyPair: ["keyPairSpec", "withoutPlaintext", "context"],
  Encrypt: ["plaintext", "inputBase64", "encryptionAlgorithm", "context"],
  Decrypt: ["ciphertext", "encryptionAlgorithm", "context"],
  Sign: ["message", "inputBase64", "messageType", "signingAlgorithm"],
  Verify: ["message", "inputBase64", "messageType", "signingAlgorithm", "signature"],
  GetPublicKey: [],
};

/** Fields that may hold secrets: emptied by `clearSecrets`. */
const SECRET_FIELDS = ["plaintext", "message", "ciphertext", "signature"];

/** Shows the fields of the chosen operation and hides the others. */
function showFields() {
  const fields = FIELDS[valueOf("operation")] ?? [];
  for (const element of document.querySelectorAll("[data-field]")) {
    /** @type {HTMLElement} */ (element).hidden = !fields.includes(
      /** @type {HTMLElement} */ (element).dataset.field ?? "",
    );
  }
}

/**
 * The encryption context typed by the user, or undefined when empty.
 * @returns {Record<string, string> | undefined}
 */
function context() {
  const text = valueOf("encryption-context").trim();
  if (text === "") return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError('The encryption context is not JSON: write it as {"name": "value"}.');
  }
  if (
    value === null || typeof value !== "object" || Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== "string")
  ) {
    throw new InputError("The encryption context must be a JSON object of string values.");
  }
  return value;
}

/**
 * The plaintext or message field as base64.
 * @param {string} id
 * @returns {string}
 */
function inputBase64(id) {
  const text = valueOf(id);
  return checked("input-base64") ? text.trim() : utf8ToBase64(text);
}

/**
 * Drops undefined members, so the request body and CLI command hold only what was set.
 * @param {Record<string, unknown>} input
 * @returns {Record<string, unknown>}
 */
function defined(input) {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/**
 * The API operation and request body the form describes.
 * @returns {{ operation: string, input: Record<string, unknown> }}
 */
function request() {
  const chosen = valueOf("operation");
  const keyId = valueOf("op-key-id").trim() || undefined;
  const without = checked("without-plaintext") ? "WithoutPlaintext" : "";
  switch (chosen) {
    case "GenerateDataKey":
      return {
        operation: chosen + without,
        input: defined({
          KeyId: keyId,
          KeySpec: valueOf("data-key-spec"),
          EncryptionContext: context(),
        }),
      };
    case "GenerateDataKeyPair":
      return {
        operation: chosen + without,
        input: defined({
          KeyId: keyId,
          KeyPairSpec: valueOf("key-pair-spec"),
          EncryptionContext: context(),
        }),
      };
    case "Encrypt":
      return {
        operation: chosen,
        input: defined({
          KeyId: keyId,
          Plaintext: inputBase64("plaintext"),
          EncryptionAlgorithm: valueOf("encryption-algorithm"),
          EncryptionContext: context(),
        }),
      };
    case "Decrypt":
      return {
        operation: chosen,
        input: defined({
          KeyId: keyId,
          CiphertextBlob: valueOf("ciphertext").trim(),
          EncryptionAlgorithm: valueOf("encryption-algorithm"),
          EncryptionContext: context(),
        }),
      };
    case "Sign":
    case "Verify":
      return {
        operation: chosen,
        input: defined({
          KeyId: keyId,
          Message: inputBase64("message"),
          MessageType: valueOf("message-type"),
          SigningAlgorithm: valueOf("signing-algorithm"),
          Signature: chosen === "Verify" ? valueOf("signature").trim() : undefined,
        }),
      };
    default:
      return { operation: chosen, input: defined({ KeyId: keyId }) };
  }
}

/**
 * Fills the form for `operation` and runs it.
 * @param {string} operation
 * @param {Record<string, string>} values  element id → value
 */
function followUp(operation, values) {
  setValue("operation", operation);
  for (const [id, value] of Object.entries(values)) setValue(id, value);
  showFields();
  byId("op-form").scrollIntoView({ block: "nearest" });
  void run();
}

/** Runs what the form describes. */
function run() {
  return perform(async (call) => {
    const { operation, input } = request();
    const data = await call(operation, input);
    showResult(resultOf(operation, input, data, followUp));
  });
}

/**
 * Points the form at a key and picks algorithms it supports.
 * @param {string} keyId
 * @param {any} metadata  KeyMetadata
 */
export function useKey(keyId, metadata) {
  setValue("op-key-id", keyId);
  const encryption = metadata?.EncryptionAlgorithms?.[0];
  const signing = metadata?.SigningAlgorithms?.[0];
  if (encryption !== undefined) setValue("encryption-algorithm", encryption);
  if (signing !== undefined) setValue("signing-algorithm", signing);
}

/** Empties the fields that may hold plaintext or key material. */
export function clearSecrets() {
  for (const id of SECRET_FIELDS) setValue(id, "");
}

/** Wires the form. */
export function initOperations() {
  byId("operation").addEventListener("change", showFields);
  byId("op-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void run();
  });
  showFields();
}
