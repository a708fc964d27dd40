/**
 * `requestOf` (routes/schemas/shared.ts): a request schema and its core input type keep one
 * shape. Its refusals are compile errors, so this file's `@ts-expect-error` lines are what
 * `deno task check` verifies: were `requestOf` to accept a mismatch, they would be unused and
 * the check would fail.
 *
 * @module
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { requestOf } from "./shared.ts";

interface Shape {
  A: string;
  B?: number | undefined;
}

Deno.test("requestOf refuses a schema that lacks a field of its type, adds one, or parses to another type", () => {
  // @ts-expect-error the schema lacks B
  requestOf<Shape>()(z.object({ A: z.string() }));
  // @ts-expect-error the schema has C, which the type lacks
  requestOf<Shape>()(z.object({ A: z.string(), B: z.number().optional(), C: z.string() }));
  // @ts-expect-error B parses to a string, the type says number
  requestOf<Shape>()(z.object({ A: z.string(), B: z.string().optional() }));
  const same = requestOf<Shape>()(z.object({ A: z.string(), B: z.number().optional() }));
  assert.deepEqual(same.parse({ A: "a", B: 1 }), { A: "a", B: 1 });
});
