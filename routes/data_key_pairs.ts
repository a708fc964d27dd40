/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: schema -> core function.
 *
 * @module
 */
import {
  generateDataKeyPair,
  generateDataKeyPairWithoutPlaintext,
} from "../core/operations/data_key_pairs.ts";
import { type Operation, operation } from "./operation.ts";
import {
  GenerateDataKeyPairRequest,
  GenerateDataKeyPairWithoutPlaintextRequest,
} from "./schemas/data_key_pairs.ts";

/** The data-key-pair family of the operation table. */
export const DATA_KEY_PAIR_OPERATIONS: Readonly<Record<string, Operation>> = {
  GenerateDataKeyPair: operation(GenerateDataKeyPairRequest, generateDataKeyPair),
  GenerateDataKeyPairWithoutPlaintext: operation(
    GenerateDataKeyPairWithoutPlaintextRequest,
    generateDataKeyPairWithoutPlaintext,
  ),
};
