/**
 * zod issues -> AWS's validation error text:
 * "2 validation errors detected: Value 'x' at 'keyId' failed to satisfy constraint: ...; ...".
 * The offending value is quoted, cut to a bounded length (`echoed`), as AWS quotes it, except for
 * members the model marks sensitive and blobs (routes/model_members.ts, generated from the model):
 * their values never appear. A member of the wrong JSON type (a list or structure where a string or enum
 * belongs, a number where a string belongs, ...) is AWS's SerializationException, worded as
 * AWS's deserializer words it ("Start of list found where not expected", "NUMBER_VALUE can not
 * be converted to a String"); a missing or null required member reads "Value null at ...".
 *
 * @module
 */
import type { z } from "zod";
import { SerializationException, ValidationException } from "../core/errors.ts";
import { BLOB_MEMBERS, SENSITIVE_MEMBERS } from "./model_members.ts";
import { echoed, START_OF_LIST } from "./protocol.ts";

function awsPath(path: readonly PropertyKey[]): string {
  return path.map((segment) =>
    typeof segment === "number"
      ? `${segment + 1}.member`
      : String(segment).charAt(0).toLowerCase() + String(segment).slice(1)
  ).join(".");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = Object.hasOwn(value, segment)
      ? (value as Record<PropertyKey, unknown>)[segment]
      : undefined;
  }
  return value;
}

function constraint(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small":
      return issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint"
        ? `Member must have value greater than or equal to ${issue.minimum}`
        : `Member must have length greater than or equal to ${issue.minimum}`;
    case "too_big":
      return issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint"
        ? `Member must have value less than or equal to ${issue.maximum}`
        : `Member must have length less than or equal to ${issue.maximum}`;
    case "invalid_value":
      return `Member must satisfy enum value set: [${issue.values.map(String).join(", ")}]`;
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue
        ? `Member must satisfy regular expression pattern: ${
          String(issue.pattern).replace(/^\/|\/$/g, "")
        }`
        : `Member must satisfy format ${issue.format}`;
    case "not_multiple_of":
      return `Member must be a multiple of ${issue.divisor}`;
    default:
      return "Member is not valid";
  }
}

/** The kind of JSON value a request held, as AWS's deserializer names it. */
type JsonKind =
  | "absent"
  | "list"
  | "structure"
  | "STRING_VALUE"
  | "NUMBER_VALUE"
  | "TRUE_VALUE"
  | "FALSE_VALUE";

function jsonKind(value: unknown): JsonKind {
  if (value === undefined || value === null) return "absent";
  if (Array.isArray(value)) return "list";
  switch (typeof value) {
    case "object":
      return "structure";
    case "string":
      return "STRING_VALUE";
    case "number":
      return "NUMBER_VALUE";
    default:
      return value === true ? "TRUE_VALUE" : "FALSE_VALUE";
  }
}

/** The shape a member expected, from a zod issue. */
type Expected = "String" | "Integer" | "Boolean" | "list" | "structure" | "map";

function expectedOf(issue: z.core.$ZodIssue): Expected | undefined {
  if (issue.code === "invalid_value") return "String"; // enums are strings
  if (issue.code === "custom" && issue.params?.serialization === true) {
    return issue.message === "MAP" ? "map" : issue.message === "STRING" ? "String" : undefined;
  }
  if (issue.code !== "invalid_type") return undefined;
  switch (issue.expected) {
    case "string":
      return "String";
    case "number":
    case "int":
    case "bigint":
      return "Integer";
    case "boolean":
      return "Boolean";
    case "array":
      return "list";
    case "object":
      return "structure";
    default:
      return undefined;
  }
}

/**
 * AWS's SerializationException text for a value of the wrong JSON type (a list or structure where
 * a single value belongs, a number where a string belongs, ...), or undefined when the value has
 * the expected type. The value itself is never quoted.
 */
function typeMismatch(kind: JsonKind, expected: Expected): string | undefined {
  if (kind === "absent") return undefined;
  if (kind === "list") return expected === "list" ? undefined : START_OF_LIST;
  if (kind === "structure") {
    return expected === "structure" || expected === "map" ? undefined : START_OF_STRUCTURE;
  }
  switch (expected) {
    case "list":
      return "Expected list or null";
    case "structure":
      return "Expected null";
    case "map":
      return "Expected map or null";
    case "String":
      return kind === "STRING_VALUE" ? undefined : `${kind} can not be converted to a String`;
    case "Integer":
      // Reached for a string, a boolean, or a number that is not an integer.
      return `${kind} can not be converted to an Integer`;
    case "Boolean":
      return kind === "TRUE_VALUE" || kind === "FALSE_VALUE"
        ? undefined
        : `${kind} can not be converted to a Boolean`;
  }
}

const START_OF_STRUCTURE = "Start of structure or map found where not expected.";

/** The first value of a map that is not a string (what a STRING issue of a map is about). */
function firstNonString(map: unknown): unknown {
  if (typeof map !== "object" || map === null) return undefined;
  return Object.values(map).find((entry) => typeof entry !== "string");
}

/** The SerializationException text an issue calls for, or undefined when it is a validation error. */
function serializationMessage(issue: z.core.$ZodIssue, input: unknown): string | undefined {
  const value = valueAt(input, issue.path);
  if (issue.code === "custom" && issue.params?.serialization === true) {
    if (issue.message === "BASE64") {
      return `Value at '${awsPath(issue.path)}' could not be deserialized: not valid base64`;
    }
    const offending = issue.message === "STRING" ? firstNonString(value) : value;
    const expected = expectedOf(issue);
    return (expected === undefined ? undefined : typeMismatch(jsonKind(offending), expected)) ??
      `Value at '${awsPath(issue.path)}' could not be deserialized`;
  }
  const expected = expectedOf(issue);
  if (expected === undefined) return undefined;
  return typeMismatch(jsonKind(value), expected);
}

/**
 * Whether a message quotes the offending value, as AWS does: a string, number or boolean, unless
 * the member (or a structure holding it) is one the model marks sensitive, or a blob.
 */
function isQuoted(path: readonly PropertyKey[], value: unknown): boolean {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    return false;
  }
  return !path.some((segment) =>
    typeof segment === "string" && (SENSITIVE_MEMBERS.has(segment) || BLOB_MEMBERS.has(segment))
  );
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  const path = awsPath(issue.path);
  const value = valueAt(input, issue.path);
  if (value === undefined || value === null) {
    return `Value null at '${path}' failed to satisfy constraint: Member must not be null`;
  }
  const quoted = isQuoted(issue.path, value) ? `'${echoed(String(value))}' ` : "";
  return `Value ${quoted}at '${path}' failed to satisfy constraint: ${constraint(issue)}`;
}

/**
 * Turns a zod failure into the AWS exception a client expects: SerializationException when a
 * member has the wrong JSON type, else ValidationException listing every issue.
 */
export function validationError(
  error: z.ZodError,
  input: unknown,
): ValidationException | SerializationException {
  for (const issue of error.issues) {
    const message = serializationMessage(issue, input);
    if (message !== undefined) return new SerializationException(message);
  }
  const n = error.issues.length;
  const head = `${n} validation error${n === 1 ? "" : "s"} detected: `;
  return new ValidationException(head + error.issues.map((i) => describe(i, input)).join("; "));
}
