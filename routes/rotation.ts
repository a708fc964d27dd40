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
import { type Operation, operation } from "./operation.ts";
import {
  EnableKeyRotationRequest,
  ListKeyRotationsRequest,
  RotationKeyIdRequest,
} from "./schemas/rotation.ts";

/** The rotation family of the operation table. */
export const ROTATION_OPERATIONS: Readonly<Record<string, Operation>> = {
  EnableKeyRotation: operation(EnableKeyRotationRequest, enableKeyRotation),
  DisableKeyRotation: operation(RotationKeyIdRequest, disableKeyRotation),
  GetKeyRotationStatus: operation(RotationKeyIdRequest, getKeyRotationStatus),
  RotateKeyOnDemand: operation(RotationKeyIdRequest, rotateKeyOnDemand),
  ListKeyRotations: operation(ListKeyRotationsRequest, listKeyRotations),
};
