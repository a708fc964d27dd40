import assert from "node:assert/strict";
import { ANSWERED_OPERATIONS, CATALOGUE, isOperationName } from "../core/catalogue.ts";
import { DISPATCH_TABLE } from "./dispatch_table.ts";

Deno.test("the dispatch table answers exactly the catalogue's answered operations", () => {
  assert.deepEqual([...DISPATCH_TABLE.keys()].sort(), [...ANSWERED_OPERATIONS].sort());
});

Deno.test("a request schema has DryRun exactly when the catalogue says the operation supports it", () => {
  for (const [name, entry] of DISPATCH_TABLE) {
    assert.ok(isOperationName(name), name);
    const shape = (entry.schema as unknown as { shape?: Record<string, unknown> }).shape;
    assert.ok(shape !== undefined, `${name}: the schema is not an object schema`);
    assert.equal(Object.hasOwn(shape, "DryRun"), CATALOGUE[name].dryRun, name);
  }
});
