/**
 * Whether a reply body conforms to an output shape of AWS's model: members
 * the shape names, required members present, strings where strings belong,
 * enum values from the enum, base64 blobs, integers in range, epoch-second
 * timestamps, lists and maps of conforming values.
 *
 * @module
 */
import type { FuzzModel } from "./model.ts";

/** What does not conform, as `path: problem` lines (empty when the value conforms). */
export function nonConformities(
  model: FuzzModel,
  shapeName: string,
  value: unknown,
  path = "$",
): string[] {
  const s = model.shapes[shapeName];
  if (s === undefined) return [`${path}: the model has no shape ${shapeName}`];
  const wrong = (
    expected: string,
  ) => [`${path}: ${JSON.stringify(value)?.slice(0, 80)} is not ${expected}`];
  switch (s.type) {
    case "unit":
      return isObject(value) && Object.keys(value).length === 0 ? [] : wrong("{}");
    case "structure": {
      if (!isObject(value)) return wrong("an object");
      const members = s.members ?? {};
      return [
        ...Object.keys(value).filter((k) => !(k in members)).map((k) =>
          `${path}.${k}: not a member of ${shapeName}`
        ),
        ...Object.entries(members).filter(([k, m]) => m.required && !(k in value)).map(([k]) =>
          `${path}.${k}: required, missing`
        ),
        ...Object.entries(value).filter(([k]) => k in members).flatMap(([k, v]) =>
          nonConformities(model, members[k]!.target, v, `${path}.${k}`)
        ),
      ];
    }
    case "list":
      if (!Array.isArray(value)) return wrong("a list");
      return value.flatMap((v, i) => nonConformities(model, s.member!, v, `${path}[${i}]`));
    case "map":
      if (!isObject(value)) return wrong("a map");
      return Object.entries(value).flatMap(([k, v]) => [
        ...nonConformities(model, s.key!, k, `${path}{key}`),
        ...nonConformities(model, s.value!, v, `${path}.${k}`),
      ]);
    case "enum": {
      const allowed = [...(s.enum ?? []), ...(TOLERATED_ENUM_VALUES[shapeName] ?? [])];
      return typeof value === "string" && allowed.includes(value)
        ? []
        : wrong(`one of ${shapeName}`);
    }
    case "string":
      return typeof value === "string" ? [] : wrong("a string");
    case "blob":
      return typeof value === "string" && isBase64(value) ? [] : wrong("base64");
    case "boolean":
      return typeof value === "boolean" ? [] : wrong("a boolean");
    case "integer":
    case "long": {
      const { min = -Infinity, max = Infinity } = s.range ?? {};
      return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
        ? []
        : wrong(`an integer in ${min}..${max}`);
    }
    case "timestamp":
      return typeof value === "number" && Number.isFinite(value) ? [] : wrong("epoch seconds");
    default:
      return [`${path}: no check for shape type ${s.type}`];
  }
}

/**
 * Enum values outside the model that the KMS answers knowingly. The deprecated
 * CustomerMasterKeySpec mirrors KeySpec; AWS's model did not add ML-DSA and
 * Ed25519 to it (whether AWS omits the member for those keys is unverified).
 */
const TOLERATED_ENUM_VALUES: Record<string, string[]> = {
  CustomerMasterKeySpec: ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519"],
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isBase64(value: string): boolean {
  try {
    Uint8Array.fromBase64(value);
    return true;
  } catch {
    return false;
  }
}
