/**
 * Tests for SM3: the published vectors (OpenSSL's `evpmd_sm3.txt`: GB/T 32905
 * examples, draft-shen-sm2-ecdsa and GmSSL cases), OpenSSL as an independent
 * referee on random inputs around every block boundary, incremental hashing
 * and HMAC-SM3 through noble's `hmac`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { hmac } from "@noble/hashes/hmac.js";
import { sm3 } from "./sm3.ts";

/** One `Key = Value` stanza of an OpenSSL evp_test data file. */
type Stanza = Map<string, string>;

/** Splits an OpenSSL evp_test file into stanzas (blank-line separated, `#` comments). */
function parseEvpStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = new Map();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("#")) continue;
    if (trimmed === "") {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      continue;
    }
    const eq = trimmed.indexOf("=");
    if (eq > 0) current.set(trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}

/** Decodes an evp_test value: `"text"` is ASCII, anything else is hex. */
function evpValue(value: string): Uint8Array {
  if (value.startsWith('"') && value.endsWith('"')) {
    return new TextEncoder().encode(value.slice(1, -1));
  }
  return Uint8Array.fromHex(value.toLowerCase());
}

/** Runs `openssl` with the given arguments and returns its stdout. */
async function openssl(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("openssl", { args }).output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

const SM3_VECTORS = parseEvpStanzas(
  await Deno.readTextFile(new URL("./testdata/evpmd_sm3.txt", import.meta.url)),
).filter((stanza) => stanza.get("Digest") === "SM3");

/** Input lengths around the 64-byte block and the 56-byte padding boundary, and a few KiB. */
const LENGTHS = [
  ...Array.from({ length: 201 }, (_, i) => i),
  255,
  256,
  257,
  1000,
  4095,
  4096,
  4097,
  10_000,
];

Deno.test("SM3 matches every SM3 digest in OpenSSL's evpmd_sm3.txt", () => {
  assert.equal(SM3_VECTORS.length, 8);
  for (const stanza of SM3_VECTORS) {
    const input = evpValue(stanza.get("Input")!);
    assert.equal(
      sm3(input).toHex(),
      stanza.get("Output")!.toLowerCase(),
      `input ${input.length} B`,
    );
  }
});

Deno.test("SM3 agrees with openssl dgst -sm3 on random inputs of 0..200 bytes and a few KiB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sm3_test_" });
  try {
    const inputs = LENGTHS.map((length) => crypto.getRandomValues(new Uint8Array(length)));
    const files = await Promise.all(inputs.map(async (input, i) => {
      const file = `${dir}/${i}.bin`;
      await Deno.writeFile(file, input);
      return file;
    }));
    const lines = (await openssl(["dgst", "-sm3", "-r", ...files])).trim().split("\n");
    assert.equal(lines.length, inputs.length);
    lines.forEach((line, i) => {
      assert.equal(sm3(inputs[i]!).toHex(), line.split(" ")[0], `length ${inputs[i]!.length}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SM3 gives the same digest for incremental updates as for one call", () => {
  for (const length of [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000]) {
    const input = crypto.getRandomValues(new Uint8Array(length));
    const expected = sm3(input).toHex();

    const byteByByte = sm3.create();
    for (let i = 0; i < length; i++) byteByByte.update(input.subarray(i, i + 1));
    assert.equal(byteByByte.digest().toHex(), expected, `byte by byte, length ${length}`);

    const cut = Math.floor(length / 3);
    const split = sm3.create().update(input.subarray(0, cut)).update(input.subarray(cut));
    const clone = split.clone();
    assert.equal(split.digest().toHex(), expected, `split at ${cut}, length ${length}`);
    assert.equal(clone.digest().toHex(), expected, `clone, length ${length}`);
  }
});

Deno.test("SM3 works as the hash of noble's hmac (HMAC-SM3 agrees with openssl mac)", async () => {
  const key = crypto.getRandomValues(new Uint8Array(80));
  const message = crypto.getRandomValues(new Uint8Array(300));
  const dir = await Deno.makeTempDir({ prefix: "sm3_hmac_test_" });
  try {
    const file = `${dir}/message.bin`;
    await Deno.writeFile(file, message);
    const expected = await openssl([
      "mac",
      "-digest",
      "SM3",
      "-macopt",
      `hexkey:${key.toHex()}`,
      "-in",
      file,
      "HMAC",
    ]);
    assert.equal(hmac(sm3, key, message).toHex(), expected.trim().toLowerCase());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SM3 exposes noble's CHash shape with a 32-byte output, 64-byte block and SM3 OID", () => {
  assert.equal(sm3.outputLen, 32);
  assert.equal(sm3.blockLen, 64);
  assert.equal(sm3.oid?.toHex(), "06082a811ccf55018311");
});
