/**
 * Custom key store operations: schema -> core function.
 *
 * @module
 */
import {
  connectCustomKeyStore,
  deleteCustomKeyStore,
  describeCustomKeyStores,
  disconnectCustomKeyStore,
  updateCustomKeyStore,
} from "../core/operations/custom_key_stores.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  CustomKeyStoreIdRequest,
  DescribeCustomKeyStoresRequest,
  UpdateCustomKeyStoreRequest,
} from "./schemas/custom_key_stores.ts";

/** The custom key store family of the operation table. */
export const CUSTOM_KEY_STORE_OPERATIONS: FamilyTable<"customKeyStores"> = {
  ConnectCustomKeyStore: operation(CustomKeyStoreIdRequest, connectCustomKeyStore),
  DeleteCustomKeyStore: operation(CustomKeyStoreIdRequest, deleteCustomKeyStore),
  DescribeCustomKeyStores: operation(DescribeCustomKeyStoresRequest, describeCustomKeyStores),
  DisconnectCustomKeyStore: operation(CustomKeyStoreIdRequest, disconnectCustomKeyStore),
  UpdateCustomKeyStore: operation(UpdateCustomKeyStoreRequest, updateCustomKeyStore),
};
