import assert from "node:assert/strict";
import { loadOrCreateRootKey, RootKey } from "./legacy_root_key.ts";
import { credentialAad, materialAad } from "./root_wrapping.ts";

const ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms_root_key_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadOrCreateRootKey creates the file with mode 0600 and reuses it", async () => {
  await withTempDir(async (dir) => {
    const rootKeyFile = `${dir}/sub/dir/root.key`;
    const first = await loadOrCreateRootKey({ rootKeyFile });
    const info = await Deno.stat(rootKeyFile);
    assert.equal((info.mode ?? 0) & 0o777, 0o600);
    const text = (await Deno.readTextFile(rootKeyFile)).trim();
    assert.equal(Uint8Array.fromBase64(text).length, 32);
    const second = await loadOrCreateRootKey({ rootKeyFile });
    assert.equal(await Deno.readTextFile(rootKeyFile), `${text}\n`);
    const aad = materialAad(ARN, 1);
    const wrapped = await first.wrap(new Uint8Array([1, 2, 3]), aad);
    assert.deepEqual(await second.unwrap(wrapped, aad), new Uint8Array([1, 2, 3]));
  });
});

Deno.test("loadOrCreateRootKey prefers the given value over the file", async () => {
  await withTempDir(async (dir) => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const rootKeyFile = `${dir}/root.key`;
    const fromValue = await loadOrCreateRootKey({ rootKey: bytes.toBase64(), rootKeyFile });
    await assert.rejects(Deno.stat(rootKeyFile), Deno.errors.NotFound);
    await Deno.writeTextFile(rootKeyFile, bytes.toBase64());
    const fromFile = await loadOrCreateRootKey({ rootKeyFile });
    const aad = credentialAad("AKIAEXAMPLE");
    const wrapped = await fromValue.wrap(new Uint8Array([9]), aad);
    assert.deepEqual(await fromFile.unwrap(wrapped, aad), new Uint8Array([9]));
  });
});

Deno.test("loadOrCreateRootKey rejects bad values without echoing them", async () => {
  const notBase64 = "not*base64*secret-value";
  const short = crypto.getRandomValues(new Uint8Array(16)).toBase64();
  const long = crypto.getRandomValues(new Uint8Array(33)).toBase64();
  for (const rootKey of [notBase64, short, long, ""]) {
    await assert.rejects(loadOrCreateRootKey({ rootKey, rootKeyFile: "/nonexistent" }), (e) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /KMS_ROOT_KEY/);
      if (rootKey !== "") assert.ok(!e.message.includes(rootKey));
      return true;
    });
  }
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/root.key`, short);
    await assert.rejects(loadOrCreateRootKey({ rootKeyFile: `${dir}/root.key` }), (e) => {
      assert.ok(e instanceof Error && !e.message.includes(short));
      assert.match(e.message, /32 bytes, got 16/);
      return true;
    });
  });
});

Deno.test("RootKey.unwrap fails for another AAD, another key or a flipped byte", async () => {
  const key = await RootKey.fromBytes(crypto.getRandomValues(new Uint8Array(32)));
  const other = await RootKey.fromBytes(crypto.getRandomValues(new Uint8Array(32)));
  const plain = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await key.wrap(plain, materialAad(ARN, 1));
  assert.equal(wrapped.length, 1 + 12 + 32 + 16);
  assert.equal(wrapped[0], 1);
  assert.deepEqual(await key.unwrap(wrapped, materialAad(ARN, 1)), plain);
  await assert.rejects(key.unwrap(wrapped, materialAad(ARN, 2)), /does not unwrap/);
  await assert.rejects(key.unwrap(wrapped, materialAad(`${ARN}0`, 1)), /does not unwrap/);
  await assert.rejects(key.unwrap(wrapped, credentialAad(ARN)), /does not unwrap/);
  await assert.rejects(other.unwrap(wrapped, materialAad(ARN, 1)), /does not unwrap/);
  const flipped = wrapped.slice();
  flipped[20] = (flipped[20] ?? 0) ^ 1;
  await assert.rejects(key.unwrap(flipped, materialAad(ARN, 1)), /does not unwrap/);
  await assert.rejects(key.unwrap(wrapped.subarray(0, 20), materialAad(ARN, 1)), /unknown format/);
});

Deno.test("AAD fields are length-prefixed so they cannot be shifted", () => {
  assert.notDeepEqual(materialAad("arn:a", 12), materialAad("arn:a1", 2));
  assert.deepEqual(
    credentialAad("AK"),
    new Uint8Array([
      0,
      0,
      0,
      17,
      ..."credential-secret".split("").map((c) => c.charCodeAt(0)),
      0,
      0,
      0,
      2,
      65,
      75,
    ]),
  );
});

Deno.test("RootKey never shows its bytes", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const copy = bytes.slice();
  const key = await RootKey.fromBytes(bytes);
  assert.deepEqual(bytes, new Uint8Array(32));
  assert.equal(String(key), "[RootKey]");
  assert.equal(Deno.inspect(key), "[RootKey]");
  assert.equal(JSON.stringify(key), "{}");
  assert.ok(!Deno.inspect(key, { showHidden: true }).includes(copy.toBase64()));
});
