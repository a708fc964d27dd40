import assert from "node:assert/strict";
import { ANSWERED_OPERATIONS, CATALOGUE, isOperationName } from "../core/catalogue.ts";
import { DISPATCH_TABLE } from "./dispatch_table.ts";
import type { FamilyTable } from "./operation_entry.ts";

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

Deno.test("a family table that misses one of its operations or adds another family's does not type-check", () => {
  const entry = DISPATCH_TABLE.get("GenerateMac")!;
  // @ts-expect-error VerifyMac is missing from the mac family
  const missing: FamilyTable<"mac"> = { GenerateMac: entry };
  // @ts-expect-error Sign belongs to the asymmetric family
  const extra: FamilyTable<"mac"> = { GenerateMac: entry, VerifyMac: entry, Sign: entry };
  const complete: FamilyTable<"mac"> = { GenerateMac: entry, VerifyMac: entry };
  assert.deepEqual([missing, extra, complete].map((t) => Object.keys(t).length), [1, 3, 2]);
});
