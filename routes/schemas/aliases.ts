/**
 * Schemas of the alias operations. AliasNameType: 1..256 of [a-zA-Z0-9:/_-].
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
 * @module
 */
import { z } from "zod";
import { KeyIdType, Limit, Marker } from "./shared.ts";

const AliasName = z.string().min(1).max(256).regex(/^[a-zA-Z0-9:/_-]+$/);

/** CreateAlias and UpdateAlias. */
export const AliasTargetRequest = z.object({ AliasName, TargetKeyId: KeyIdType });

/** DeleteAlias. */
export const DeleteAliasRequest = z.object({ AliasName });

/** ListAliases. */
export const ListAliasesRequest = z.object({
  KeyId: KeyIdType.optional(),
  Limit: Limit.optional(),
  Marker: Marker.optional(),
});
