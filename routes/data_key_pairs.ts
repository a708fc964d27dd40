/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: schema -> core function.
 *
 * @module
 */
import {
  generateDataKeyPair,
  generateDataKeyPairWithoutPlaintext,
} from "../core/operations/data_key_pairs.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  GenerateDataKeyPairRequest,
  GenerateDataKeyPairWithoutPlaintextRequest,
} from "./schemas/data_key_pairs.ts";

/** The data-key-pair family of the operation table. */
export const DATA_KEY_PAIR_OPERATIONS: FamilyTable<"dataKeyPairs"> = {
  GenerateDataKeyPair: operation(GenerateDataKeyPairRequest, generateDataKeyPair),
  GenerateDataKeyPairWithoutPlaintext: operation(
    GenerateDataKeyPairWithoutPlaintextRequest,
    generateDataKeyPairWithoutPlaintext,
  ),
};
