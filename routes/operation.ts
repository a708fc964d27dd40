/**
 * The shape of one entry of the operation table: a zod schema and the core
 * function it feeds.
 *
 * @module
 */
import type { z } from "zod";
import type { Kms } from "../core/kms.ts";
import type { Caller } from "../core/types.ts";

/** One operation: its request schema and its handler. */
export interface Operation {
  readonly schema: z.ZodType;
  readonly handler: (kms: Kms, caller: Caller, input: unknown) => Promise<unknown>;
}

/** Binds a schema to the core function that takes its parsed output. */
export function operation<S extends z.ZodType>(
  schema: S,
  handler: (kms: Kms, caller: Caller, input: z.output<S>) => Promise<unknown>,
): Operation {
  return { schema, handler: handler as Operation["handler"] };
}
