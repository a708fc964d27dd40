/**
 * Schemas of the alias operations. AliasNameType: 1..256 of [a-zA-Z0-9:/_-].
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
 * @module
 */
import { z } from "zod";
import type { createAlias, deleteAlias, listAliases } from "../../core/operations/aliases.ts";
import { ALIAS_NAME_MAX_LENGTH, NAME_CHARACTERS } from "../../core/limits.ts";
import { type InputOf, KeyIdType, Limit, Marker, requestOf } from "./shared.ts";

const AliasName = z.string().min(1).max(ALIAS_NAME_MAX_LENGTH).regex(NAME_CHARACTERS);

/** CreateAlias and UpdateAlias. */
export const AliasTargetRequest = requestOf<InputOf<typeof createAlias>>()(
  z.object({ AliasName, TargetKeyId: KeyIdType }),
);

/** DeleteAlias. */
export const DeleteAliasRequest = requestOf<InputOf<typeof deleteAlias>>()(z.object({ AliasName }));

/** ListAliases. */
export const ListAliasesRequest = requestOf<InputOf<typeof listAliases>>()(z.object({
  KeyId: KeyIdType.optional(),
  Limit: Limit.optional(),
  Marker: Marker.optional(),
}));
