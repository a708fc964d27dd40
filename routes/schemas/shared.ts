/**
 * AWS shapes shared by several operations, each with AWS's constraints.
 * The schema is the only place a field constraint is written.
 *
 * @see ../../shared/reference/kms.smithy.json
 * @module
 */
import { z } from "zod";
import {
  DESCRIPTION_MAX_LENGTH,
  POLICY_CHARACTERS,
  POLICY_MAX_LENGTH,
  TAG_KEY_MAX_LENGTH,
  TAG_VALUE_MAX_LENGTH,
} from "../../core/limits.ts";
import { SecretBytes } from "../../core/secret.ts";

/** KeyIdType: 1..2048 characters. */
export const KeyIdType = z.string().min(1).max(2048);

/** GrantTokenList: 0..10 tokens of 1..8192 characters. */
export const GrantTokens = z.array(z.string().min(1).max(8192)).max(10);

/** PolicyType: 1..131072 characters of tab, LF, CR and U+0020..U+00FF (core/limits.ts). */
export const PolicyDocument = z.string().min(1).max(POLICY_MAX_LENGTH).regex(POLICY_CHARACTERS);

/** DescriptionType: 0..8192. */
export const Description = z.string().min(0).max(DESCRIPTION_MAX_LENGTH);

/** LimitType: 1..1000. */
export const Limit = z.number().int().min(1).max(1000);

/** MarkerType: 1..1024 characters in U+0020..U+00FF. */
export const Marker = z.string().min(1).max(1024).regex(/^[\u0020-\u00FF]*$/);

/** NullableBooleanType. */
export const NullableBoolean = z.boolean();

/** DryRunModifierList. */
export const DryRunModifiers = z.array(z.enum(["IGNORE_CIPHERTEXT"]));

/** EncryptionAlgorithmSpec. */
export const EncryptionAlgorithmSpec = z.enum([
  "SYMMETRIC_DEFAULT",
  "RSAES_OAEP_SHA_1",
  "RSAES_OAEP_SHA_256",
  "SM2PKE",
]);

/** TagKeyType: 1..128. */
export const TagKey = z.string().min(1).max(TAG_KEY_MAX_LENGTH);

/** TagKeyType 1..128 / TagValueType 0..256. */
export const Tag = z.object({
  TagKey,
  TagValue: z.string().min(0).max(TAG_VALUE_MAX_LENGTH),
});

/** TagList. */
export const TagList = z.array(Tag);

/** CustomKeyStoreIdType: 1..64. */
export const CustomKeyStoreId = z.string().min(1).max(64);

/** NumberOfBytesType: 1..1024. */
export const NumberOfBytes = z.number().int().min(1).max(1024);

function decodeBase64(value: string): Uint8Array | undefined {
  try {
    return Uint8Array.fromBase64(value);
  } catch {
    return undefined;
  }
}

/** A base64 blob whose decoded length is min..max bytes; decoded to bytes. Values are never quoted in errors. */
export function blob(min: number, max: number) {
  return z.string().transform((value, ctx) => {
    const bytes = decodeBase64(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: "custom", message: "BASE64", params: { serialization: true } });
      return z.NEVER;
    }
    if (bytes.length < min) {
      ctx.addIssue({
        code: "too_small",
        minimum: min,
        origin: "string",
        input: "",
        inclusive: true,
      });
      return z.NEVER;
    }
    if (bytes.length > max) {
      ctx.addIssue({ code: "too_big", maximum: max, origin: "string", input: "", inclusive: true });
      return z.NEVER;
    }
    return bytes;
  });
}

/** A base64 blob of secret bytes (plaintext), decoded into SecretBytes. */
export function secretBlob(min: number, max: number) {
  return blob(min, max).transform((bytes) => new SecretBytes(bytes));
}

/**
 * EncryptionContextType: a JSON object of string values, copied into a
 * null-prototype object so keys such as `__proto__` and `constructor`
 * survive (zod's record drops `__proto__`).
 */
export const EncryptionContext = z.unknown().transform((value, ctx) => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: "MAP", params: { serialization: true } });
    return z.NEVER;
  }
  const copy: Record<string, string> = Object.create(null);
  for (const key of Object.keys(value)) {
    const entry = (value as Record<string, unknown>)[key];
    if (typeof entry !== "string") {
      ctx.addIssue({ code: "custom", message: "STRING", params: { serialization: true } });
      return z.NEVER;
    }
    copy[key] = entry;
  }
  return copy as Readonly<Record<string, string>>;
});

/** RecipientInfo: AttestationDocument 1..262144 bytes; RSAES_OAEP_SHA_256 is the only algorithm. */
export const RecipientInfo = z.object({
  KeyEncryptionAlgorithm: z.enum(["RSAES_OAEP_SHA_256"]).optional(),
  AttestationDocument: blob(1, 262_144).optional(),
});

/** The fields one of two object types has and the other lacks, both ways. */
interface FieldDifference<Schema, Type> {
  onlyInSchema: Exclude<keyof Schema, keyof Type>;
  onlyInType: Exclude<keyof Type, keyof Schema>;
}

/** Whether a FieldDifference is empty. */
type NoDifference<D extends { onlyInSchema: PropertyKey; onlyInType: PropertyKey }> =
  [D["onlyInSchema"] | D["onlyInType"]] extends [never] ? true : false;

/**
 * Ties a request schema to the input type its core operation declares (core/operations/*), so
 * the shape has one definition both must follow: the schema's parsed output must be assignable
 * to `Type`, and a field in one but not the other is a compile error ("Expected 2 arguments")
 * whose expected argument names it (`onlyInSchema` / `onlyInType`). Core declares the type (it
 * imports nothing from routes); the schema adds AWS's constraints.
 * Usage: `requestOf<CreateKeyInput>()(z.object({...}))`.
 */
export function requestOf<Type>() {
  return <Schema extends z.ZodType<Type>>(
    schema: Schema,
    ..._sameFields: NoDifference<FieldDifference<z.output<Schema>, Type>> extends true ? []
      : [mismatch: FieldDifference<z.output<Schema>, Type>]
  ): Schema => schema;
}

/**
 * The input a core operation function takes (its last parameter), for `requestOf` where core
 * writes the input type in the function's signature rather than naming it.
 */
export type InputOf<Operation> = Operation extends (...args: infer Args) => unknown
  ? Args extends [...unknown[], infer Input] ? Input : never
  : never;

/**
 * Request members AWS's model has and the schema accepts, but the core operation does not read
 * yet (each use names them, so `requestOf` still checks every other field).
 */
export type AcceptedNotUsed<Field extends string> = { [Name in Field]?: unknown };
