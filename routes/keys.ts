/**
 * Key lifecycle operations: schema -> core function.
 *
 * @module
 */
import {
  cancelKeyDeletion,
  createKey,
  describeKey,
  disableKey,
  enableKey,
  listKeys,
  scheduleKeyDeletion,
  updateKeyDescription,
} from "../core/operations/keys.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  CreateKeyRequest,
  DescribeKeyRequest,
  KeyIdRequest,
  ListKeysRequest,
  ScheduleKeyDeletionRequest,
  UpdateKeyDescriptionRequest,
} from "./schemas/keys.ts";

/** The key lifecycle family of the operation table. */
export const KEY_OPERATIONS: FamilyTable<"keys"> = {
  CreateKey: operation(CreateKeyRequest, createKey),
  DescribeKey: operation(DescribeKeyRequest, describeKey),
  ListKeys: operation(ListKeysRequest, listKeys),
  UpdateKeyDescription: operation(UpdateKeyDescriptionRequest, updateKeyDescription),
  EnableKey: operation(KeyIdRequest, enableKey),
  DisableKey: operation(KeyIdRequest, disableKey),
  ScheduleKeyDeletion: operation(ScheduleKeyDeletionRequest, scheduleKeyDeletion),
  CancelKeyDeletion: operation(KeyIdRequest, cancelKeyDeletion),
};
