import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  canonicalJson,
  chainHash,
  type ChainRow,
  ChainVerifier,
  EMPTY_CHAIN,
  fromHex,
  GENESIS_HASH,
  link,
  toHex,
  verifyChain,
  verifyHead,
} from "./chain.ts";

function chainOf(events: readonly unknown[]): ChainRow[] {
  const rows: ChainRow[] = [];
  let head = EMPTY_CHAIN;
  for (const event of events) {
    const row = link(head, canonicalJson(event));
    rows.push(row);
    head = { seq: row.seq, hash: row.hash };
  }
  return rows;
}

const EVENTS = [
  { eventName: "CreateKey", requestID: "r1" },
  { eventName: "Encrypt", requestID: "r2", requestParameters: { keyId: "k" } },
  { eventName: "Decrypt", requestID: "r3" },
  { eventName: "Sign", requestID: "r4" },
];

Deno.test("canonicalJson sorts keys at every depth and writes no whitespace", () => {
  assert.equal(
    canonicalJson({ b: 1, a: [{ d: true, c: null }], "é": "x", A: "y" }),
    '{"A":"y","a":[{"c":null,"d":true}],"b":1,"é":"x"}',
  );
  // Integer-like keys sort as strings, not in JavaScript's numeric property order.
  assert.equal(canonicalJson({ "9": 1, "10": 2 }), '{"10":2,"9":1}');
  // Null-prototype maps (encryption contexts) keep a `__proto__` key.
  const map = Object.create(null);
  map["__proto__"] = "v";
  map["a"] = "w";
  assert.equal(canonicalJson({ m: map }), '{"m":{"__proto__":"v","a":"w"}}');
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  // Already sorted input is written by JSON.stringify unchanged.
  const sorted = { a: { b: [1, "2"], c: "\u2028" }, d: false };
  assert.equal(canonicalJson(sorted), JSON.stringify(sorted));
});

Deno.test("canonicalJson refuses what is not plain JSON", () => {
  assert.throws(() => canonicalJson({ bytes: new Uint8Array(2) }), TypeError);
  assert.throws(() => canonicalJson({ when: new Date(0) }), TypeError);
  assert.throws(() => canonicalJson({ n: Number.NaN }), TypeError);
  assert.throws(() => canonicalJson([undefined]), TypeError);
  assert.throws(() => canonicalJson({ f: () => 1 }), TypeError);
});

Deno.test("chainHash is SHA-256(prevHash || seq as 8 bytes big-endian || UTF-8 event)", () => {
  const prev = fromHex("11".repeat(32));
  const json = '{"eventName":"Encrypt","k":"é"}';
  const seq = 0x0102030405;
  const input = new Uint8Array([
    ...prev,
    0,
    0,
    0,
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    ...new TextEncoder().encode(json),
  ]);
  assert.equal(toHex(chainHash(prev, seq, json)), toHex(sha256(input)));
  assert.throws(() => chainHash(prev, 0, json), RangeError);
  const first = link(EMPTY_CHAIN, json);
  assert.equal(first.seq, 1);
  assert.deepEqual(first.prevHash, GENESIS_HASH);
});

Deno.test("an intact chain verifies, page by page too", () => {
  const rows = chainOf(EVENTS);
  assert.equal(verifyChain(rows), null);
  const first = new ChainVerifier();
  for (const row of rows.slice(0, 2)) assert.equal(first.next(row), null);
  const second = new ChainVerifier(first.head);
  for (const row of rows.slice(2)) assert.equal(second.next(row), null);
  assert.equal(second.head.seq, 4);
  assert.equal(first.count + second.count, 4);
});

Deno.test("an edited event is detected at its record", () => {
  const rows = chainOf(EVENTS);
  const edited = rows.map((row) =>
    row.seq === 2 ? { ...row, eventJson: row.eventJson.replace('"k"', '"other"') } : row
  );
  assert.deepEqual(verifyChain(edited), { seq: 2, reason: "hash" });
});

Deno.test("an edited event with its hash recomputed breaks the next link", () => {
  const rows = chainOf(EVENTS);
  const forged = rows.map((row) => {
    if (row.seq !== 2) return row;
    const eventJson = row.eventJson.replace('"k"', '"other"');
    return { ...row, eventJson, hash: chainHash(row.prevHash, row.seq, eventJson) };
  });
  assert.deepEqual(verifyChain(forged), { seq: 3, reason: "prevHash" });
});

Deno.test("a deleted record is detected as a gap", () => {
  const rows = chainOf(EVENTS);
  assert.deepEqual(verifyChain(rows.filter((row) => row.seq !== 3)), { seq: 3, reason: "gap" });
  assert.deepEqual(verifyChain(rows.slice(1)), { seq: 1, reason: "gap" });
  // Renumbered to hide the gap: the links no longer match.
  const renumbered = rows.filter((row) => row.seq !== 3).map((row) =>
    row.seq > 3 ? { ...row, seq: row.seq - 1 } : row
  );
  assert.deepEqual(verifyChain(renumbered), { seq: 3, reason: "prevHash" });
});

Deno.test("reordered records are detected", () => {
  const rows = chainOf(EVENTS);
  const swapped = [rows[0]!, rows[2]!, rows[1]!, rows[3]!];
  assert.deepEqual(verifyChain(swapped), { seq: 2, reason: "gap" });
  // Events swapped between seqs (seq kept in place).
  const events = [rows[0]!, { ...rows[2]!, seq: 2 }, { ...rows[1]!, seq: 3 }, rows[3]!];
  assert.deepEqual(verifyChain(events), { seq: 2, reason: "prevHash" });
});

Deno.test("a truncated tail verifies alone and is caught against a remembered head", () => {
  const rows = chainOf(EVENTS);
  const remembered = { seq: 4, hash: rows[3]!.hash };
  const truncated = rows.slice(0, 3);
  assert.equal(verifyChain(truncated), null);
  const hashAt = (list: ChainRow[]) => (seq: number) =>
    list.find((row) => row.seq === seq)?.hash ?? null;
  assert.deepEqual(verifyHead(remembered, hashAt(truncated)), { seq: 4, reason: "gap" });
  assert.equal(verifyHead(remembered, hashAt(rows)), null);
  const rebuilt = chainOf([...EVENTS.slice(0, 3), { eventName: "Other" }]);
  assert.deepEqual(verifyHead(remembered, hashAt(rebuilt)), { seq: 4, reason: "hash" });
  assert.equal(verifyHead(EMPTY_CHAIN, hashAt([])), null);
});

Deno.test("hex helpers round-trip", () => {
  const bytes = new Uint8Array([0, 1, 0xab, 0xff]);
  assert.equal(toHex(bytes), "0001abff");
  assert.deepEqual(fromHex("0001ABff"), bytes);
  assert.throws(() => fromHex("abc"), TypeError);
  assert.throws(() => fromHex("zz"), TypeError);
});

Deno.test("chainHash handles events larger than its scratch buffer", () => {
  const prev = fromHex("22".repeat(32));
  const big = JSON.stringify({ policy: "é".repeat(40_000) });
  const input = new Uint8Array([
    ...prev,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    7,
    ...new TextEncoder().encode(big),
  ]);
  assert.equal(toHex(chainHash(prev, 7, big)), toHex(sha256(input)));
  assert.equal(
    toHex(chainHash(prev, 7, "{}")),
    toHex(sha256(new Uint8Array([...prev, 0, 0, 0, 0, 0, 0, 0, 7, 0x7b, 0x7d]))),
  );
  assert.throws(() => chainHash(new Uint8Array(3), 1, "{}"), RangeError);
});
