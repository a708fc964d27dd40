/**
 * Custom key store operations, answered as AWS answers an account that has no
 * custom key store (this KMS keeps keys in its own store only; it has no
 * CloudHSM cluster and no external key store proxy): DescribeCustomKeyStores
 * lists none, and every operation naming a custom key store answers
 * CustomKeyStoreNotFoundException. They are authorised first (IAM policies,
 * resource `*`), as AWS does. CreateCustomKeyStore is not answered
 * (`answered: false` in core/catalogue.ts).
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/key-store-overview.html
 * @module
 */
import type { KmsAction } from "../catalogue.ts";
import { CustomKeyStoreNotFoundException, InvalidMarkerException } from "../errors.ts";
import type { Kms } from "../kms.ts";
import type { Caller } from "../types.ts";

/** AWS's DescribeCustomKeyStoresResponse with no custom key store. */
export interface DescribeCustomKeyStoresResult {
  CustomKeyStores: never[];
  Truncated: false;
}

/** The answer for a custom key store that does not exist (the only kind here). */
export function customKeyStoreNotFound(id: string): CustomKeyStoreNotFoundException {
  return new CustomKeyStoreNotFoundException(`Custom key store ${id} does not exist.`);
}

/**
 * DescribeCustomKeyStores: an empty list; a store named by id or name does not exist, and no
 * marker was ever handed out.
 * @throws {AccessDeniedException} @throws {CustomKeyStoreNotFoundException}
 * @throws {InvalidMarkerException}
 */
export function describeCustomKeyStores(
  kms: Kms,
  caller: Caller,
  input: {
    CustomKeyStoreId?: string | undefined;
    CustomKeyStoreName?: string | undefined;
    Marker?: string | undefined;
  },
): Promise<DescribeCustomKeyStoresResult> {
  kms.authorizeAccount(caller, "kms:DescribeCustomKeyStores");
  if (input.CustomKeyStoreId !== undefined) throw customKeyStoreNotFound(input.CustomKeyStoreId);
  if (input.CustomKeyStoreName !== undefined) {
    throw new CustomKeyStoreNotFoundException(
      `Custom key store with name ${input.CustomKeyStoreName} does not exist.`,
    );
  }
  if (input.Marker !== undefined) throw new InvalidMarkerException("Invalid marker");
  return Promise.resolve({ CustomKeyStores: [], Truncated: false });
}

/** An operation on one custom key store, which never exists here. */
function onCustomKeyStore(action: KmsAction) {
  return (kms: Kms, caller: Caller, input: { CustomKeyStoreId: string }): Promise<never> => {
    kms.authorizeAccount(caller, action);
    return Promise.reject(customKeyStoreNotFound(input.CustomKeyStoreId));
  };
}

/** ConnectCustomKeyStore. @throws {AccessDeniedException} @throws {CustomKeyStoreNotFoundException} */
export const connectCustomKeyStore = onCustomKeyStore("kms:ConnectCustomKeyStore");

/** DisconnectCustomKeyStore. @throws {AccessDeniedException} @throws {CustomKeyStoreNotFoundException} */
export const disconnectCustomKeyStore = onCustomKeyStore("kms:DisconnectCustomKeyStore");

/** DeleteCustomKeyStore. @throws {AccessDeniedException} @throws {CustomKeyStoreNotFoundException} */
export const deleteCustomKeyStore = onCustomKeyStore("kms:DeleteCustomKeyStore");

/** UpdateCustomKeyStore. @throws {AccessDeniedException} @throws {CustomKeyStoreNotFoundException} */
export const updateCustomKeyStore = onCustomKeyStore("kms:UpdateCustomKeyStore");
