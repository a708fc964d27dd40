/**
 * Imported key material: schema -> core function.
 *
 * @module
 */
import {
  deleteImportedKeyMaterial,
  getParametersForImport,
  importKeyMaterial,
} from "../core/operations/import.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  DeleteImportedKeyMaterialRequest,
  GetParametersForImportRequest,
  ImportKeyMaterialRequest,
} from "./schemas/import.ts";

/** The import family of the operation table. */
export const IMPORT_OPERATIONS: FamilyTable<"import"> = {
  GetParametersForImport: operation(GetParametersForImportRequest, getParametersForImport),
  ImportKeyMaterial: operation(ImportKeyMaterialRequest, importKeyMaterial),
  DeleteImportedKeyMaterial: operation(DeleteImportedKeyMaterialRequest, deleteImportedKeyMaterial),
};
