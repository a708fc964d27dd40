/**
 * What every part of SqliteStore (storage/sqlite_store.ts) is built on: reads
 * with the store's deadline, the store's write queue (each change commits with
 * its audit record and bumps the change counter) and the root key; and the two
 * helpers every part's writes use.
 *
 * @module
 */
import type { InStatement, ResultSet } from "@libsql/client";
import type { AuditRecord } from "../core/audit/record.ts";
import type { ReadClient } from "./deadline.ts";
import type { RootWrapper } from "./root_wrapping.ts";

/** What a part needs of the write queue (storage/write_queue.ts). */
export interface StoreWrites {
  submit(statements: InStatement[], audit?: readonly AuditRecord[]): Promise<ResultSet[]>;
}

/** The shared machinery a part of SqliteStore runs its SQL through. */
export interface SqliteParts {
  /** Reads, each with the store's deadline. */
  readonly reads: ReadClient;
  readonly writes: StoreWrites;
  /** Wraps key material and secrets before they reach SQL, unwraps them on the way out. */
  readonly rootKey: RootWrapper;
}

/** The audit rows committed with a change: the request's own record, when there is one. */
export function auditRows(audit: AuditRecord | undefined): readonly AuditRecord[] | undefined {
  return audit === undefined ? undefined : [audit];
}

/** Whether a failed write broke a UNIQUE or PRIMARY KEY constraint. */
export function isUniqueViolation(error: unknown): boolean {
  const text = `${(error as { code?: unknown })?.code ?? ""} ${String(error)}`;
  return /SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)|UNIQUE constraint failed/.test(text);
}
