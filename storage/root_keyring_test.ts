import assert from "node:assert/strict";
import { RootKey } from "./legacy_root_key.ts";
import { credentialAad, materialAad } from "./root_wrapping.ts";
import { loadOrCreateKeyring, parseKeyringFile } from "./root_key_file.ts";
import { FORMAT_KEYED, HEADER_BYTES, RootKeyring, wrappedKeyId } from "./root_keyring.ts";

const ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const A = new Uint8Array(32).fill(1);
const B = new Uint8Array(32).fill(2);

async function ring(...keys: Uint8Array[]): Promise<RootKeyring> {
  return await RootKeyring.fromBytes(keys.map((k) => k.slice()));
}

Deno.test("keyring: format 2 names the current key; previous keys still unwrap their values", async () => {
  const a = await ring(A);
  const underA = await a.wrap(new TextEncoder().encode("secret"), materialAad(ARN, 1));
  assert.equal(underA[0], FORMAT_KEYED);
  assert.equal(wrappedKeyId(underA), a.currentId);
  assert.match(a.currentId, /^[0-9a-f]{16}$/);

  const ba = await ring(B, A);
  assert.deepEqual(ba.ids, [(await ring(B)).currentId, a.currentId]);
  assert.equal(new TextDecoder().decode(await ba.unwrap(underA, materialAad(ARN, 1))), "secret");
  const underB = await ba.wrap(new Uint8Array([7]), materialAad(ARN, 1));
  assert.equal(wrappedKeyId(underB), ba.currentId);
  assert.notEqual(ba.currentId, a.currentId);
});

Deno.test("keyring: legacy format-1 values (one unnamed root key) still unwrap", async () => {
  const legacy = await RootKey.fromBytes(A.slice());
  const old = await legacy.wrap(new TextEncoder().encode("old"), credentialAad("AKIA1"));
  assert.equal(old[0], 1);
  for (const r of [await ring(A), await ring(B, A)]) {
    assert.equal(new TextDecoder().decode(await r.unwrap(old, credentialAad("AKIA1"))), "old");
  }
  await assert.rejects((await ring(B)).unwrap(old, credentialAad("AKIA1")), /legacy format/);
  await assert.rejects((await ring(A)).unwrap(old, credentialAad("AKIA2")));
});

Deno.test("keyring: a missing key, another AAD or a changed header fails; no secret in messages", async () => {
  const a = await ring(A);
  const b = await ring(B);
  const wrapped = await a.wrap(new Uint8Array([1, 2, 3]), materialAad(ARN, 1));
  // Thunks, not promises: a rejection must never wait unobserved while another is awaited.
  const checks: [() => Promise<unknown>, RegExp][] = [
    [() => b.unwrap(wrapped, materialAad(ARN, 1)), new RegExp(`root key ${a.currentId}.*not in`)],
    [() => a.unwrap(wrapped, materialAad(ARN, 2)), /not bound to this record/],
    [() => a.unwrap(wrapped.subarray(0, 20), materialAad(ARN, 1)), /unknown format/],
  ];
  const flipped = wrapped.slice();
  flipped[HEADER_BYTES + 3]! ^= 1;
  checks.push([() => a.unwrap(flipped, materialAad(ARN, 1)), /tampered/]);
  for (const [call, pattern] of checks) {
    await assert.rejects(call, (e: Error) => {
      assert.match(e.message, pattern);
      for (const key of [A, B]) {
        assert.ok(!e.message.includes(key.toBase64()));
        assert.ok(!e.message.includes(key.toHex()));
      }
      return true;
    });
  }
  assert.equal(String(a), `[RootKeyring current=${a.currentId}]`);
  assert.ok(!Deno.inspect(a).includes(A.toHex()));
});

Deno.test("keyring: check values prove possession of the key they name", async () => {
  const ba = await ring(B, A);
  const a = await ring(A);
  const check = await ba.checkValue(a.currentId);
  assert.equal(await a.verifyCheckValue(check), true);
  assert.equal(await (await ring(B)).verifyCheckValue(check), false);
  const forged = check.slice();
  forged[forged.length - 1]! ^= 1;
  assert.equal(await a.verifyCheckValue(forged), false);
});

Deno.test("keyring: a reload replaces the keys every holder sees", async () => {
  const held = await ring(A);
  const before = await held.wrap(new Uint8Array([9]), credentialAad("X"));
  held.replace(await ring(B, A));
  assert.equal(held.currentId, (await ring(B)).currentId);
  assert.deepEqual([...await held.unwrap(before, credentialAad("X"))], [9]);
});

Deno.test("keyring file: current key first, comments and blank lines skipped, bad lines named not echoed", () => {
  const keys = parseKeyringFile(
    `# new key\n${B.toBase64()}\n\n  ${A.toBase64()}  \n# end\n`,
    "/k",
  );
  assert.deepEqual(keys.map((k) => k.toBase64()), [B.toBase64(), A.toBase64()]);
  assert.throws(() => parseKeyringFile("# nothing\n", "/k"), /holds no key/);
  const bad = "not-base64-but-a-secret!";
  assert.throws(() => parseKeyringFile(`${A.toBase64()}\n${bad}\n`, "/k"), (e: Error) => {
    assert.match(e.message, /line 2/);
    assert.ok(!e.message.includes(bad));
    return true;
  });
});

Deno.test("loadOrCreateKeyring: KMS_ROOT_KEY + KMS_ROOT_KEYS_PREVIOUS, or a keyring file; single-key configs unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms_keyring_" });
  try {
    const a = await ring(A);
    const b = await ring(B);
    const fromEnv = await loadOrCreateKeyring({
      rootKey: B.toBase64(),
      rootKeysPrevious: ` ${A.toBase64()} ,`,
      rootKeyFile: `${dir}/absent`,
    });
    assert.deepEqual(fromEnv.ids, [b.currentId, a.currentId]);
    assert.deepEqual(
      (await loadOrCreateKeyring({ rootKey: A.toBase64(), rootKeyFile: `${dir}/absent` })).ids,
      [a.currentId],
    );
    await Deno.writeTextFile(`${dir}/ring`, `${B.toBase64()}\n${A.toBase64()}\n`);
    assert.deepEqual(
      (await loadOrCreateKeyring({ rootKeyFile: `${dir}/ring` })).ids,
      [b.currentId, a.currentId],
    );
    // A missing file is created with one key (as before), except on a reload.
    await assert.rejects(
      loadOrCreateKeyring({ rootKeyFile: `${dir}/new`, create: false }),
      Deno.errors.NotFound,
    );
    const created = await loadOrCreateKeyring({ rootKeyFile: `${dir}/new` });
    assert.equal(created.ids.length, 1);
    assert.equal((await Deno.stat(`${dir}/new`)).mode! & 0o777, 0o600);
    await assert.rejects(
      loadOrCreateKeyring({ rootKeysPrevious: A.toBase64(), rootKeyFile: `${dir}/ring` }),
      /KMS_ROOT_KEYS_PREVIOUS goes with KMS_ROOT_KEY/,
    );
    await assert.rejects(
      loadOrCreateKeyring({ rootKey: A.toBase64(), rootKeysPrevious: "c2hvcnQ=", rootKeyFile: "" }),
      /KMS_ROOT_KEYS_PREVIOUS \(key 1\) must be base64 of 32 bytes/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
