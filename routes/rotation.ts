/**
 * Key rotation operations: schema -> core function.
 *
 * @module
 */
import {
  disableKeyRotation,
  enableKeyRotation,
  getKeyRotationStatus,
  listKeyRotations,
  rotateKeyOnDemand,
} from "../core/operations/rotation.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  EnableKeyRotationRequest,
  ListKeyRotationsRequest,
  RotationKeyIdRequest,
} from "./schemas/rotation.ts";

/** The rotation family of the operation table. */
export const ROTATION_OPERATIONS: FamilyTable<"rotation"> = {
  EnableKeyRotation: operation(EnableKeyRotationRequest, enableKeyRotation),
  DisableKeyRotation: operation(RotationKeyIdRequest, disableKeyRotation),
  GetKeyRotationStatus: operation(RotationKeyIdRequest, getKeyRotationStatus),
  RotateKeyOnDemand: operation(RotationKeyIdRequest, rotateKeyOnDemand),
  ListKeyRotations: operation(ListKeyRotationsRequest, listKeyRotations),
};
