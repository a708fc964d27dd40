/**
 * GenerateMac and VerifyMac: HMAC (RFC 2104) under an HMAC KMS key. The key's
 * material is imported once per material version (`kms.prepared`), so a call
 * costs one HMAC and no SQL once the key is cached.
 *
 * Checks run in this order, each giving AWS's exception: the key (NotFound),
 * its state (Disabled / KMSInvalidState), its usage, then the MAC algorithm
 * against the key spec (both InvalidKeyUsage). VerifyMac then compares the MAC
 * (KMSInvalidMac) and only then answers a DryRun, because a dry run reports the
 * error the real call would give.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html
 * @module
 */
import {
  type HmacKeySpec,
  importMacKey,
  MAC_ALGORITHMS,
  type MacAlgorithmSpec,
  type MacKey,
} from "../crypto/hmac.ts";
import { InvalidKeyUsageException, KMSInvalidMacException } from "../errors.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import type { KeyMaterials, KeyResolver, LoadedKey } from "../operation_ports.ts";
import type { SecretBytes } from "../secret.ts";
import type { Caller } from "../types.ts";
import { dryRunSucceeded } from "./data_plane.ts";

/** What this family of operations uses of the KMS. */
export type MacPorts = KeyResolver & KeyMaterials;

/** GenerateMac's input after schema validation. */
export interface GenerateMacInput {
  Message: SecretBytes;
  KeyId: string;
  MacAlgorithm: MacAlgorithmSpec;
  GrantTokens?: string[] | undefined;
  DryRun?: boolean | undefined;
}

/** VerifyMac's input after schema validation. */
export interface VerifyMacInput extends GenerateMacInput {
  Mac: Uint8Array;
}

/** GenerateMac's answer. */
export interface GenerateMacResult {
  Mac: Uint8Array;
  MacAlgorithm: MacAlgorithmSpec;
  KeyId: string;
}

/** VerifyMac's answer; a MAC that does not verify is an exception, so MacValid is always true. */
export interface VerifyMacResult {
  KeyId: string;
  MacValid: true;
  MacAlgorithm: MacAlgorithmSpec;
}

type MacOperation = "GenerateMac" | "VerifyMac";

function isHmacKeySpec(spec: string): spec is HmacKeySpec {
  return Object.hasOwn(MAC_ALGORITHMS, spec);
}

/**
 * Checks that `key` can compute `algorithm` for `operation` in its current state.
 * @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} not an HMAC key, or an algorithm its spec does not offer.
 */
export function assertMacUse(
  key: LoadedKey,
  use: { operation: MacOperation; algorithm: MacAlgorithmSpec },
): HmacKeySpec {
  const { operation, algorithm } = use;
  assertKeyStateAllows(operation, { arn: key.arn, state: key.record.state });
  const { keySpec, keyUsage } = key.record;
  if (keyUsage !== "GENERATE_VERIFY_MAC" || !isHmacKeySpec(keySpec)) {
    throw new InvalidKeyUsageException(
      `${key.arn} key usage is ${keyUsage} which is not valid for ${operation}.`,
    );
  }
  if (!MAC_ALGORITHMS[keySpec].includes(algorithm)) {
    throw new InvalidKeyUsageException(
      `Algorithm ${algorithm} is incompatible with key spec ${keySpec} of ${key.arn}.`,
    );
  }
  return keySpec;
}

/** The imported HMAC key of the key's current material, built once per material version. */
function macKeyOf(kms: MacPorts, key: LoadedKey, spec: HmacKeySpec): Promise<MacKey> {
  return kms.prepared(
    key.record.keyId,
    key.record.currentMaterialVersion,
    "mac",
    (material) => importMacKey(spec, material.material),
  );
}

/** Resolves and checks the key a request names; returns it with its imported HMAC key. */
async function checkedMacKey(
  kms: MacPorts,
  caller: Caller,
  request: { keyId: string; operation: MacOperation; algorithm: MacAlgorithmSpec },
): Promise<{ key: LoadedKey; macKey: MacKey }> {
  const key = await kms.resolveKey(caller, request.keyId, {
    allowAlias: true,
    action: `kms:${request.operation}`,
    conditions: { macAlgorithm: request.algorithm },
  });
  const spec = assertMacUse(key, request);
  return { key, macKey: await macKeyOf(kms, key, spec) };
}

/**
 * GenerateMac: the HMAC of a 1..4096-byte message under an HMAC key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html
 */
export async function generateMac(
  kms: MacPorts,
  caller: Caller,
  input: GenerateMacInput,
): Promise<GenerateMacResult> {
  const { key, macKey } = await checkedMacKey(kms, caller, {
    keyId: input.KeyId,
    operation: "GenerateMac",
    algorithm: input.MacAlgorithm,
  });
  if (input.DryRun === true) dryRunSucceeded();
  const mac = await macKey.generate(input.MacAlgorithm, input.Message.expose());
  return { Mac: mac, MacAlgorithm: input.MacAlgorithm, KeyId: key.arn };
}

/**
 * VerifyMac: checks a MAC (compared in constant time) of a message under an HMAC key.
 * @throws {KMSInvalidMacException} the MAC is not the HMAC of the message under the key.
 * @throws {NotFoundException} @throws {DisabledException} @throws {KMSInvalidStateException}
 * @throws {InvalidKeyUsageException} @throws {DryRunOperationException}
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html
 */
export async function verifyMac(
  kms: MacPorts,
  caller: Caller,
  input: VerifyMacInput,
): Promise<VerifyMacResult> {
  const { key, macKey } = await checkedMacKey(kms, caller, {
    keyId: input.KeyId,
    operation: "VerifyMac",
    algorithm: input.MacAlgorithm,
  });
  const valid = await macKey.verify(input.MacAlgorithm, input.Message.expose(), input.Mac);
  if (!valid) {
    throw new KMSInvalidMacException(
      `The MAC does not match the message, ${key.arn} and ${input.MacAlgorithm}.`,
    );
  }
  if (input.DryRun === true) dryRunSucceeded();
  return { KeyId: key.arn, MacValid: true, MacAlgorithm: input.MacAlgorithm };
}
