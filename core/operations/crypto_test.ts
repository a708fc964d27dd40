/**
 * The symmetric data plane (core/operations/crypto.ts) in process: Encrypt, Decrypt, ReEncrypt,
 * GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateRandom on a KMS over `:memory:`
 * (tests/helpers/in_process.ts). The HTTP tests (tests/crypto_test.ts) keep the protocol.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectionOf, withInProcessKms } from "../../tests/helpers/in_process.ts";

const text = new TextEncoder();
const CONTEXT = { tenant: "a" };

Deno.test("Decrypt returns Encrypt's plaintext only with the same encryption context", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const sealed = await call("Encrypt", {
      KeyId,
      Plaintext: text.encode("hello").toBase64(),
      EncryptionContext: CONTEXT,
    });
    const CiphertextBlob = sealed.CiphertextBlob.toBase64();
    const opened = await call("Decrypt", { CiphertextBlob, EncryptionContext: CONTEXT });
    assert.equal(new TextDecoder().decode(opened.Plaintext.expose()), "hello");
    assert.equal(opened.KeyId, sealed.KeyId);
    for (const EncryptionContext of [{ tenant: "b" }, undefined]) {
      assert.equal(
        await rejectionOf(
          call("Decrypt", { CiphertextBlob, ...(EncryptionContext ? { EncryptionContext } : {}) }),
        ),
        "InvalidCiphertextException",
        JSON.stringify(EncryptionContext),
      );
    }
  }));

Deno.test("a ciphertext with one byte changed is an InvalidCiphertextException", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const blob: Uint8Array = (await call("Encrypt", { KeyId, Plaintext: "AQID" })).CiphertextBlob;
    const changed = blob.slice();
    changed[changed.length - 1]! ^= 1;
    assert.equal(
      await rejectionOf(call("Decrypt", { CiphertextBlob: changed.toBase64() })),
      "InvalidCiphertextException",
    );
  }));

Deno.test("ReEncrypt moves a ciphertext to another key without the plaintext leaving; the result decrypts under the new key only", () =>
  withInProcessKms(async ({ call }) => {
    const from = (await call("CreateKey")).KeyMetadata.KeyId;
    const to = (await call("CreateKey")).KeyMetadata.KeyId;
    const sealed = await call("Encrypt", {
      KeyId: from,
      Plaintext: text.encode("moved").toBase64(),
    });
    const moved = await call("ReEncrypt", {
      CiphertextBlob: sealed.CiphertextBlob.toBase64(),
      DestinationKeyId: to,
    });
    assert.equal("Plaintext" in moved, false);
    assert.ok(moved.KeyId.endsWith(to));
    assert.ok(moved.SourceKeyId.endsWith(from));
    const opened = await call("Decrypt", { CiphertextBlob: moved.CiphertextBlob.toBase64() });
    assert.equal(new TextDecoder().decode(opened.Plaintext.expose()), "moved");
    assert.ok(opened.KeyId.endsWith(to));
    assert.equal(
      await rejectionOf(
        call("Decrypt", { CiphertextBlob: moved.CiphertextBlob.toBase64(), KeyId: from }),
      ),
      "IncorrectKeyException",
    );
  }));

Deno.test("GenerateDataKey's plaintext is the plaintext of its ciphertext; WithoutPlaintext returns only the ciphertext", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const dataKey = await call("GenerateDataKey", { KeyId, KeySpec: "AES_256" });
    assert.equal(dataKey.Plaintext.expose().length, 32);
    const opened = await call("Decrypt", { CiphertextBlob: dataKey.CiphertextBlob.toBase64() });
    assert.deepEqual(opened.Plaintext.expose(), dataKey.Plaintext.expose());
    const without = await call("GenerateDataKeyWithoutPlaintext", { KeyId, NumberOfBytes: 16 });
    assert.equal(without.Plaintext, undefined);
    const openedWithout = await call("Decrypt", {
      CiphertextBlob: without.CiphertextBlob.toBase64(),
    });
    assert.equal(openedWithout.Plaintext.expose().length, 16);
  }));

Deno.test("GenerateRandom returns NumberOfBytes bytes, different each call; 0 or over 1024 is a ValidationException", () =>
  withInProcessKms(async ({ call }) => {
    const a = (await call("GenerateRandom", { NumberOfBytes: 32 })).Plaintext.expose();
    const b = (await call("GenerateRandom", { NumberOfBytes: 32 })).Plaintext.expose();
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
    for (const NumberOfBytes of [0, 1025]) {
      assert.equal(
        await rejectionOf(call("GenerateRandom", { NumberOfBytes })),
        "ValidationException",
        String(NumberOfBytes),
      );
    }
  }));

/** The error an operation rejects with, name and message. */
async function failureOf(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error("the call succeeded");
}

Deno.test("Decrypt and ReEncrypt need no CiphertextBlob in a DryRun with IGNORE_CIPHERTEXT; outside it its absence is a ValidationException", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    const ignore = { DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] };
    assert.equal(
      await rejectionOf(call("Decrypt", { KeyId, ...ignore })),
      "DryRunOperationException",
    );
    assert.equal(
      await rejectionOf(
        call("ReEncrypt", { SourceKeyId: KeyId, DestinationKeyId: KeyId, ...ignore }),
      ),
      "DryRunOperationException",
    );
    const missing = "1 validation error detected: Value null at 'ciphertextBlob' " +
      "failed to satisfy constraint: Member must not be null";
    for (
      const input of [
        {},
        { DryRun: true },
        { DryRunModifiers: ["IGNORE_CIPHERTEXT"] },
      ]
    ) {
      assert.deepEqual(
        await failureOf(call("Decrypt", { KeyId, ...input })),
        { name: "ValidationException", message: missing },
        `Decrypt ${JSON.stringify(input)}`,
      );
      assert.deepEqual(
        await failureOf(call("ReEncrypt", { DestinationKeyId: KeyId, ...input })),
        { name: "ValidationException", message: missing },
        `ReEncrypt ${JSON.stringify(input)}`,
      );
    }
  }));

Deno.test("a DryRun with IGNORE_CIPHERTEXT and no CiphertextBlob still answers the key's own error", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("DisableKey", { KeyId });
    const ignore = { DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] };
    assert.equal(await rejectionOf(call("Decrypt", { KeyId, ...ignore })), "DisabledException");
    assert.equal(
      await rejectionOf(call("Decrypt", { ...ignore })),
      "ValidationException",
    );
  }));
