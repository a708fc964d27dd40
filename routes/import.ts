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
import { type Operation, operation } from "./operation.ts";
import {
  DeleteImportedKeyMaterialRequest,
  GetParametersForImportRequest,
  ImportKeyMaterialRequest,
} from "./schemas/import.ts";

/** The import family of the operation table. */
export const IMPORT_OPERATIONS: Readonly<Record<string, Operation>> = {
  GetParametersForImport: operation(GetParametersForImportRequest, getParametersForImport),
  ImportKeyMaterial: operation(ImportKeyMaterialRequest, importKeyMaterial),
  DeleteImportedKeyMaterial: operation(DeleteImportedKeyMaterialRequest, deleteImportedKeyMaterial),
};
