/**
 * zod issues -> AWS's validation error text:
 * "2 validation errors detected: Value at 'keyId' failed to satisfy constraint: ...; ...".
 * Values are quoted only for enum fields; blobs and secrets are never quoted.
 *
 * @module
 */
import type { z } from "zod";
import { SerializationException, ValidationException } from "../core/errors.ts";

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

function isSerializationIssue(issue: z.core.$ZodIssue, input: unknown): boolean {
  if (issue.code === "custom") return issue.params?.serialization === true;
  if (issue.code === "invalid_type") return valueAt(input, issue.path) !== undefined;
  return false;
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  const path = awsPath(issue.path);
  const value = valueAt(input, issue.path);
  if (issue.code === "invalid_type" && value === undefined) {
    return `Value null at '${path}' failed to satisfy constraint: Member must not be null`;
  }
  const quoted = issue.code === "invalid_value" || (typeof value === "number")
    ? `'${String(value)}' `
    : "";
  return `Value ${quoted}at '${path}' failed to satisfy constraint: ${constraint(issue)}`;
}

/** Turns a zod failure into the AWS exception a client expects (ValidationException or SerializationException). */
export function validationError(
  error: z.ZodError,
  input: unknown,
): ValidationException | SerializationException {
  const serialization = error.issues.find((i) => isSerializationIssue(i, input));
  if (serialization !== undefined) {
    return new SerializationException(
      `Value at '${awsPath(serialization.path)}' could not be deserialized: ${
        serializationReason(serialization)
      }`,
    );
  }
  const n = error.issues.length;
  const head = `${n} validation error${n === 1 ? "" : "s"} detected: `;
  return new ValidationException(head + error.issues.map((i) => describe(i, input)).join("; "));
}

function serializationReason(issue: z.core.$ZodIssue): string {
  if (issue.code === "custom") {
    const kind = issue.message;
    if (kind === "BASE64") return "not valid base64";
    if (kind === "MAP") return "expected a map of strings";
    if (kind === "STRING") return "expected a string value";
  }
  if (issue.code === "invalid_type") return `expected ${issue.expected}`;
  return "unexpected value";
}
