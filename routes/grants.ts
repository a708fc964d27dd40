/**
 * Grant operations: schema -> core function.
 *
 * @module
 */
import {
  createGrant,
  listGrants,
  listRetirableGrants,
  retireGrant,
  revokeGrant,
} from "../core/operations/grants.ts";
import { type Operation, operation } from "./operation.ts";
import {
  CreateGrantRequest,
  ListGrantsRequest,
  ListRetirableGrantsRequest,
  RetireGrantRequest,
  RevokeGrantRequest,
} from "./schemas/grants.ts";

/** The grant family of the operation table. */
export const GRANT_OPERATIONS_TABLE: Readonly<Record<string, Operation>> = {
  CreateGrant: operation(CreateGrantRequest, createGrant),
  ListGrants: operation(ListGrantsRequest, listGrants),
  ListRetirableGrants: operation(ListRetirableGrantsRequest, listRetirableGrants),
  RetireGrant: operation(RetireGrantRequest, retireGrant),
  RevokeGrant: operation(RevokeGrantRequest, revokeGrant),
};
