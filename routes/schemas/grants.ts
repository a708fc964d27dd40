/**
 * Schemas of the grant operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 * @module
 */
import { z } from "zod";
import type {
  CreateGrantInput,
  listGrants,
  listRetirableGrants,
  retireGrant,
  revokeGrant,
} from "../../core/operations/grants.ts";
import { GRANT_OPERATIONS } from "../../core/access/grants.ts";
import {
  GRANT_NAME_MAX_LENGTH,
  NAME_CHARACTERS,
  PRINCIPAL_ID_MAX_LENGTH,
  SOURCE_ARN,
  SOURCE_ARN_MAX_LENGTH,
  SOURCE_ARN_MIN_LENGTH,
} from "../../core/limits.ts";
import {
  type AcceptedNotUsed,
  EncryptionContext,
  GrantTokens,
  type InputOf,
  KeyIdType,
  Limit,
  Marker,
  requestOf,
} from "./shared.ts";

/** PrincipalIdType: 1..256 of [\w+=,.@:/-]. */
const PrincipalId = z.string().min(1).max(PRINCIPAL_ID_MAX_LENGTH).regex(/^[\w+=,.@:/-]+$/);

/** ServicePrincipalType, e.g. `logs.amazonaws.com`. */
const ServicePrincipal = z.string().min(1).max(128).regex(
  /^([A-Za-z0-9-]+)\.([A-Za-z0-9-]+)(\.[A-Za-z0-9-]+)+$/,
);

/** GrantIdType: 1..128. */
const GrantId = z.string().min(1).max(128);

/** GrantTokenType: 1..8192. */
const GrantToken = z.string().min(1).max(8192);

/** GrantConstraints. */
const GrantConstraints = z.object({
  EncryptionContextSubset: EncryptionContext.optional(),
  EncryptionContextEquals: EncryptionContext.optional(),
  SourceArn: z.string().min(SOURCE_ARN_MIN_LENGTH).max(SOURCE_ARN_MAX_LENGTH).regex(SOURCE_ARN)
    .optional(),
});

/** CreateGrant. */
export const CreateGrantRequest = requestOf<CreateGrantInput>()(z.object({
  KeyId: KeyIdType,
  GranteePrincipal: PrincipalId.optional(),
  RetiringPrincipal: PrincipalId.optional(),
  Operations: z.array(z.enum(GRANT_OPERATIONS)),
  Constraints: GrantConstraints.optional(),
  GrantTokens: GrantTokens.optional(),
  Name: z.string().min(1).max(GRANT_NAME_MAX_LENGTH).regex(NAME_CHARACTERS).optional(),
  DryRun: z.boolean().optional(),
  GranteeServicePrincipal: ServicePrincipal.optional(),
  RetiringServicePrincipal: ServicePrincipal.optional(),
}));

/** ListGrants. */
export const ListGrantsRequest = requestOf<
  InputOf<typeof listGrants> & AcceptedNotUsed<"GranteeServicePrincipal">
>()(z.object({
  Limit: Limit.optional(),
  Marker: Marker.optional(),
  KeyId: KeyIdType,
  GrantId: GrantId.optional(),
  GranteePrincipal: PrincipalId.optional(),
  GranteeServicePrincipal: ServicePrincipal.optional(),
}));

/** ListRetirableGrants. */
export const ListRetirableGrantsRequest = requestOf<
  InputOf<typeof listRetirableGrants> & AcceptedNotUsed<"RetiringServicePrincipal">
>()(
  z.object({
    Limit: Limit.optional(),
    Marker: Marker.optional(),
    RetiringPrincipal: PrincipalId.optional(),
    RetiringServicePrincipal: ServicePrincipal.optional(),
  }),
);

/** RetireGrant. */
export const RetireGrantRequest = requestOf<InputOf<typeof retireGrant>>()(z.object({
  GrantToken: GrantToken.optional(),
  KeyId: KeyIdType.optional(),
  GrantId: GrantId.optional(),
  DryRun: z.boolean().optional(),
}));

/** RevokeGrant. */
export const RevokeGrantRequest = requestOf<InputOf<typeof revokeGrant>>()(z.object({
  KeyId: KeyIdType,
  GrantId: GrantId,
  DryRun: z.boolean().optional(),
}));
