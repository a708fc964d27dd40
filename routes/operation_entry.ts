/**
 * One entry of the dispatch table (routes/dispatch_table.ts): an operation's
 * zod schema and the core function it feeds; and the type of a family's part
 * of the table, which the compiler checks against the catalogue
 * (core/catalogue.ts): a family module that misses one of its operations, or
 * lists one of another family, does not compile.
 *
 * @module
 */
import type { z } from "zod";
import type { AnsweredOperationName, CATALOGUE, Family } from "../core/catalogue.ts";
import type { Kms } from "../core/kms.ts";
import type { Caller } from "../core/types.ts";

/** One operation: its request schema and its handler. */
export interface Operation {
  readonly schema: z.ZodType;
  readonly handler: (kms: Kms, caller: Caller, input: unknown) => Promise<unknown>;
}

/** The entries of one family: exactly the answered operations the catalogue puts in `F`. */
export type FamilyTable<F extends Family> = {
  readonly [N in AnsweredOperationName as (typeof CATALOGUE)[N]["family"] extends F ? N : never]:
    Operation;
};

/** Binds a schema to the core function that takes its parsed output. */
export function operation<S extends z.ZodType>(
  schema: S,
  handler: (kms: Kms, caller: Caller, input: z.output<S>) => Promise<unknown>,
): Operation {
  return { schema, handler: handler as Operation["handler"] };
}
