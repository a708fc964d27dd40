/**
 * A store that did not answer in time raises DependencyTimeoutException
 * (503, storage/deadline.ts). AWS's model lists that exception for most
 * operations but not all: the operations in
 * {@link WITHOUT_DEPENDENCY_TIMEOUT} (the catalogue's `dependencyTimeout: false`) answer KMSInternalException (500) with
 * the same message instead, so no client meets an exception its SDK does not
 * know for the operation. tests/store_faults_test.ts checks the list against
 * AWS's model (../shared/reference/kms.smithy.json) when that file is there.
 *
 * @module
 */
import { DependencyTimeoutException, KMSInternalException } from "../core/errors.ts";
import type { Operation } from "./operation_entry.ts";
import { CATALOGUE, OPERATION_NAMES } from "../core/catalogue.ts";

/** Operations whose errors in AWS's model do not include DependencyTimeoutException. */
export const WITHOUT_DEPENDENCY_TIMEOUT: ReadonlySet<string> = new Set(
  OPERATION_NAMES.filter((name) => !CATALOGUE[name].dependencyTimeout),
);

/** `op`, answering KMSInternalException where its model has no DependencyTimeoutException. */
export function withModeledTimeout(name: string, op: Operation): Operation {
  if (!WITHOUT_DEPENDENCY_TIMEOUT.has(name)) return op;
  return {
    schema: op.schema,
    handler: async (kms, caller, input) => {
      try {
        return await op.handler(kms, caller, input);
      } catch (error) {
        if (error instanceof DependencyTimeoutException) {
          throw new KMSInternalException(error.message, { cause: error });
        }
        throw error;
      }
    },
  };
}
