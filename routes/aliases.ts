/**
 * Alias operations: schema -> core function.
 *
 * @module
 */
import { createAlias, deleteAlias, listAliases, updateAlias } from "../core/operations/aliases.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import { AliasTargetRequest, DeleteAliasRequest, ListAliasesRequest } from "./schemas/aliases.ts";

/** The alias family of the operation table. */
export const ALIAS_OPERATIONS: FamilyTable<"aliases"> = {
  CreateAlias: operation(AliasTargetRequest, createAlias),
  UpdateAlias: operation(AliasTargetRequest, updateAlias),
  DeleteAlias: operation(DeleteAliasRequest, deleteAlias),
  ListAliases: operation(ListAliasesRequest, listAliases),
};
