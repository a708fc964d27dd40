/**
 * Schemas of the key lifecycle operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 * @module
 */
import { z } from "zod";
import { KEY_USAGES } from "../../core/key_spec.ts";
import type {
  CreateKeyInput,
  describeKey,
  enableKey,
  listKeys,
  scheduleKeyDeletion,
  updateKeyDescription,
} from "../../core/operations/keys.ts";
import {
  type AcceptedNotUsed,
  CustomKeyStoreId,
  Description,
  GrantTokens,
  type InputOf,
  KeyIdType,
  Limit,
  Marker,
  NullableBoolean,
  PolicyDocument,
  requestOf,
  TagList,
} from "./shared.ts";

const KeySpec = z.enum([
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "ECC_NIST_P521",
  "ECC_SECG_P256K1",
  "SYMMETRIC_DEFAULT",
  "HMAC_224",
  "HMAC_256",
  "HMAC_384",
  "HMAC_512",
  "SM2",
  "ML_DSA_44",
  "ML_DSA_65",
  "ML_DSA_87",
  "ECC_NIST_EDWARDS25519",
]);

/** The deprecated CustomerMasterKeySpec: KeySpec without the specs added after it. */
const CustomerMasterKeySpec = KeySpec.exclude([
  "ML_DSA_44",
  "ML_DSA_65",
  "ML_DSA_87",
  "ECC_NIST_EDWARDS25519",
]);

/** CreateKey. */
export const CreateKeyRequest = requestOf<CreateKeyInput>()(z.object({
  Policy: PolicyDocument.optional(),
  Description: Description.optional(),
  KeyUsage: z.enum(KEY_USAGES).optional(),
  CustomerMasterKeySpec: CustomerMasterKeySpec.optional(),
  KeySpec: KeySpec.optional(),
  Origin: z.enum(["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"]).optional(),
  CustomKeyStoreId: CustomKeyStoreId.optional(),
  BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
  Tags: TagList.optional(),
  MultiRegion: NullableBoolean.optional(),
  XksKeyId: z.string().min(1).max(128).regex(/^[a-zA-Z0-9-_.]+$/).optional(),
}));

/** DescribeKey. */
export const DescribeKeyRequest = requestOf<
  InputOf<typeof describeKey> & AcceptedNotUsed<"GrantTokens">
>()(z.object({
  KeyId: KeyIdType,
  GrantTokens: GrantTokens.optional(),
}));

/** ListKeys. */
export const ListKeysRequest = requestOf<InputOf<typeof listKeys>>()(
  z.object({ Limit: Limit.optional(), Marker: Marker.optional() }),
);

/** UpdateKeyDescription. */
export const UpdateKeyDescriptionRequest = requestOf<InputOf<typeof updateKeyDescription>>()(
  z.object({ KeyId: KeyIdType, Description }),
);

/** EnableKey, DisableKey, CancelKeyDeletion. */
export const KeyIdRequest = requestOf<InputOf<typeof enableKey>>()(z.object({ KeyId: KeyIdType }));

/** ScheduleKeyDeletion: the model allows 1..365; AWS's window of 7..30 is checked by the operation. */
export const ScheduleKeyDeletionRequest = requestOf<InputOf<typeof scheduleKeyDeletion>>()(
  z.object({
    KeyId: KeyIdType,
    PendingWindowInDays: z.number().int().min(1).max(365).optional(),
  }),
);
