import assert from "node:assert/strict";
import { LruMap } from "./lru.ts";

Deno.test("LruMap evicts the least recently used entry when over capacity", () => {
  const lru = new LruMap<string, number>(4);
  for (const [i, k] of ["a", "b", "c", "d"].entries()) lru.set(k, i);
  assert.equal(lru.get("a"), 0);
  lru.set("e", 4);
  assert.equal(lru.size, 4);
  assert.equal(lru.get("b"), undefined, "b was the least recently used");
  assert.equal(lru.get("a"), 0, "a was used after the map passed half its capacity");
  lru.set("f", 5);
  assert.equal(lru.get("c"), undefined);
  assert.deepEqual([lru.get("a"), lru.get("d"), lru.get("e"), lru.get("f")], [0, 3, 4, 5]);
});

Deno.test("LruMap delete and clear forget entries", () => {
  const lru = new LruMap<string, number>(2);
  lru.set("a", 1);
  lru.delete("a");
  assert.equal(lru.get("a"), undefined);
  lru.set("b", 2);
  lru.clear();
  assert.equal(lru.size, 0);
});
