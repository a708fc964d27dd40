/**
 * Schemas of GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial.
 *
 * @see ../../../shared/reference/kms.smithy.json (GetParametersForImportRequest, ImportKeyMaterialRequest, DeleteImportedKeyMaterialRequest)
 * @module
 */
import { z } from "zod";
import type {
  DeleteImportedKeyMaterialInput,
  GetParametersForImportInput,
  ImportKeyMaterialInput,
} from "../../core/operations/import.ts";
import { blob, KeyIdType, requestOf } from "./shared.ts";

/** AlgorithmSpec (RSAES_PKCS1_V1_5 and SM2PKE pass the schema; core/ decides on them). */
const AlgorithmSpec = z.enum([
  "RSAES_PKCS1_V1_5",
  "RSAES_OAEP_SHA_1",
  "RSAES_OAEP_SHA_256",
  "RSA_AES_KEY_WRAP_SHA_1",
  "RSA_AES_KEY_WRAP_SHA_256",
  "SM2PKE",
]);

/** WrappingKeySpec. */
const WrappingKeySpec = z.enum(["RSA_2048", "RSA_3072", "RSA_4096", "SM2"]);

/** CiphertextType: 1..6144 bytes. */
const Ciphertext = blob(1, 6144);

/** DateType: epoch seconds, as the AWS JSON 1.1 protocol sends timestamps. */
const DateType = z.number().transform((seconds) => new Date(seconds * 1000));

/** BackingKeyIdType: 64 lowercase hex characters. */
const BackingKeyId = z.string().length(64).regex(/^[a-f0-9]+$/);

/** KeyMaterialDescriptionType: 0..256 characters of letters, digits, `:/_.-` and whitespace. */
const KeyMaterialDescription = z.string().min(0).max(256).regex(/^[a-zA-Z0-9:/_\s.-]+$/);

/** GetParametersForImport. */
export const GetParametersForImportRequest = requestOf<GetParametersForImportInput>()(z.object({
  KeyId: KeyIdType,
  WrappingAlgorithm: AlgorithmSpec,
  WrappingKeySpec,
}));

/** ImportKeyMaterial. */
export const ImportKeyMaterialRequest = requestOf<ImportKeyMaterialInput>()(z.object({
  KeyId: KeyIdType,
  ImportToken: Ciphertext,
  EncryptedKeyMaterial: Ciphertext,
  ValidTo: DateType.optional(),
  ExpirationModel: z.enum(["KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE"]).optional(),
  ImportType: z.enum(["NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"]).optional(),
  KeyMaterialDescription: KeyMaterialDescription.optional(),
  KeyMaterialId: BackingKeyId.optional(),
}));

/** DeleteImportedKeyMaterial. */
export const DeleteImportedKeyMaterialRequest = requestOf<DeleteImportedKeyMaterialInput>()(
  z.object({
    KeyId: KeyIdType,
    KeyMaterialId: BackingKeyId.optional(),
  }),
);
