/**
 * Schemas of the rotation operations, with AWS's constraints.
 *
 * @see ../../../shared/reference/kms.smithy.json (EnableKeyRotationRequest, ListKeyRotationsRequest, ...)
 * @module
 */
import { z } from "zod";
import type {
  disableKeyRotation,
  enableKeyRotation,
  listKeyRotations,
} from "../../core/operations/rotation.ts";
import { type InputOf, KeyIdType, Limit, Marker, requestOf } from "./shared.ts";

/** RotationPeriodInDaysType: 90..2560. */
export const RotationPeriodInDays = z.number().int().min(90).max(2560);

/** EnableKeyRotation. */
export const EnableKeyRotationRequest = requestOf<InputOf<typeof enableKeyRotation>>()(z.object({
  KeyId: KeyIdType,
  RotationPeriodInDays: RotationPeriodInDays.optional(),
}));

/** DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand: KeyId only. */
export const RotationKeyIdRequest = requestOf<InputOf<typeof disableKeyRotation>>()(
  z.object({ KeyId: KeyIdType }),
);

/** ListKeyRotations. */
export const ListKeyRotationsRequest = requestOf<InputOf<typeof listKeyRotations>>()(z.object({
  KeyId: KeyIdType,
  IncludeKeyMaterial: z.enum(["ALL_KEY_MATERIAL", "ROTATIONS_ONLY"]).optional(),
  Limit: Limit.optional(),
  Marker: Marker.optional(),
}));
