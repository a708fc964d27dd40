/**
 * The dispatch table: operation name -> { schema, handler }, assembled from
 * the family modules. Dispatch looks names up here; there is no switch. Its
 * type is a record over the catalogue's answered operations
 * (core/catalogue.ts), so a missing entry does not compile.
 *
 * @module
 */
import { ANSWERED_OPERATIONS, type AnsweredOperationName } from "../core/catalogue.ts";
import { ALIAS_OPERATIONS } from "./aliases.ts";
import { withModeledTimeout } from "./dependency_timeout.ts";
import { ASYMMETRIC_OPERATIONS } from "./asymmetric.ts";
import { CRYPTO_OPERATIONS } from "./crypto.ts";
import { CUSTOM_KEY_STORE_OPERATIONS } from "./custom_key_stores.ts";
import { DATA_KEY_PAIR_OPERATIONS } from "./data_key_pairs.ts";
import { GRANT_OPERATIONS_TABLE } from "./grants.ts";
import { IMPORT_OPERATIONS } from "./import.ts";
import { KEY_AGREEMENT_OPERATIONS } from "./key_agreement.ts";
import { KEY_LAST_USAGE_OPERATIONS } from "./key_last_usage.ts";
import { KEY_POLICY_OPERATIONS } from "./key_policies.ts";
import { KEY_OPERATIONS } from "./keys.ts";
import { MAC_OPERATIONS } from "./mac.ts";
import { MULTI_REGION_OPERATIONS } from "./multi_region.ts";
import type { Operation } from "./operation_entry.ts";
import { ROTATION_OPERATIONS } from "./rotation.ts";
import { TAG_OPERATIONS } from "./tags.ts";

const BY_FAMILY: Readonly<Record<AnsweredOperationName, Operation>> = {
  ...KEY_OPERATIONS,
  ...CRYPTO_OPERATIONS,
  ...DATA_KEY_PAIR_OPERATIONS,
  ...ASYMMETRIC_OPERATIONS,
  ...MAC_OPERATIONS,
  ...KEY_AGREEMENT_OPERATIONS,
  ...ALIAS_OPERATIONS,
  ...TAG_OPERATIONS,
  ...KEY_POLICY_OPERATIONS,
  ...GRANT_OPERATIONS_TABLE,
  ...KEY_LAST_USAGE_OPERATIONS,
  ...IMPORT_OPERATIONS,
  ...ROTATION_OPERATIONS,
  ...MULTI_REGION_OPERATIONS,
  ...CUSTOM_KEY_STORE_OPERATIONS,
};

/** Every operation this KMS answers. */
export const DISPATCH_TABLE: ReadonlyMap<string, Operation> = new Map(
  ANSWERED_OPERATIONS.map((name) => [name, withModeledTimeout(name, BY_FAMILY[name])]),
);
