/**
 * Typed reads of libSQL result rows, shared by the storage modules: a
 * missing column or a value of the wrong type is a bug (or a foreign schema),
 * thrown with the column's name and never its value.
 *
 * @module
 */
import type { Row, Value } from "@libsql/client";

/** The value of a column the query selected. @throws {Error} when it was not selected */
export function column(row: Row, name: string): Value {
  const value = row[name];
  if (value === undefined) throw new Error(`column ${name} missing from result`);
  return value;
}

/** A TEXT column. */
export function text(row: Row, name: string): string {
  const value = column(row, name);
  if (typeof value !== "string") throw new Error(`column ${name} is not text`);
  return value;
}

/** A nullable TEXT column. */
export function textOrNull(row: Row, name: string): string | null {
  return column(row, name) === null ? null : text(row, name);
}

/** An INTEGER column (a bigint from the driver is converted). */
export function int(row: Row, name: string): number {
  const value = column(row, name);
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "number") throw new Error(`column ${name} is not an integer`);
  return value;
}

/** A nullable INTEGER column. */
export function intOrNull(row: Row, name: string): number | null {
  return column(row, name) === null ? null : int(row, name);
}

/** A BLOB column. */
export function blob(row: Row, name: string): Uint8Array {
  const value = column(row, name);
  if (!(value instanceof ArrayBuffer)) throw new Error(`column ${name} is not a blob`);
  return new Uint8Array(value);
}
