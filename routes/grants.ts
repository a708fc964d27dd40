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
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  CreateGrantRequest,
  ListGrantsRequest,
  ListRetirableGrantsRequest,
  RetireGrantRequest,
  RevokeGrantRequest,
} from "./schemas/grants.ts";

/** The grant family of the operation table. */
export const GRANT_OPERATIONS_TABLE: FamilyTable<"grants"> = {
  CreateGrant: operation(CreateGrantRequest, createGrant),
  ListGrants: operation(ListGrantsRequest, listGrants),
  ListRetirableGrants: operation(ListRetirableGrantsRequest, listRetirableGrants),
  RetireGrant: operation(RetireGrantRequest, retireGrant),
  RevokeGrant: operation(RevokeGrantRequest, revokeGrant),
};
