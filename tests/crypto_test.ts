import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  type KMSClient,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { addAccountCredential, errorName, withServer } from "./helpers/server.ts";

const text = new TextEncoder();

async function newKey(client: KMSClient): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
  return KeyMetadata!.KeyId!;
}

Deno.test("Encrypt then Decrypt without KeyId returns the plaintext and the key ARN", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const enc = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("hello") }),
    );
    assert.equal(enc.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
    assert.match(enc.KeyId!, new RegExp(`^arn:aws:kms:us-east-1:111122223333:key/${keyId}$`));
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
    assert.deepEqual(dec.Plaintext, text.encode("hello"));
    assert.equal(dec.KeyId, enc.KeyId);
    assert.equal(dec.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.match(dec.KeyMaterialId!, /^[0-9a-f]{64}$/);
    assert.equal(dec.KeyMaterialId, KeyMetadata!.CurrentKeyMaterialId);
  }));

Deno.test("Encrypt accepts 4096 bytes and rejects 4097 bytes and an empty plaintext", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const big = new Uint8Array(4096).fill(1);
    const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: big }));
    assert.ok(enc.CiphertextBlob!.length <= 6144);
    assert.deepEqual(
      (await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext,
      big,
    );
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) })),
      ),
      "ValidationException",
    );
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(0) })),
      ),
      "ValidationException",
    );
  }));

Deno.test("Decrypt rejects a changed encryption context and accepts the same context in another order", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const context = { purpose: "test", tenant: "a" };
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x"), EncryptionContext: context }),
    );
    const reordered = { tenant: "a", purpose: "test" };
    const ok = await client.send(
      new DecryptCommand({ CiphertextBlob, EncryptionContext: reordered }),
    );
    assert.deepEqual(ok.Plaintext, text.encode("x"));
    for (
      const changed of [
        { purpose: "test", tenant: "b" },
        { purpose: "test" },
        { purpose: "test", tenant: "a", extra: "1" },
        { Purpose: "test", tenant: "a" },
        {},
      ]
    ) {
      assert.equal(
        await errorName(
          client.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: changed })),
        ),
        "InvalidCiphertextException",
        JSON.stringify(changed),
      );
    }
  }));

Deno.test('Decrypt tells {"ab":"c"} from {"a":"bc"} and NFC from NFD contexts', () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: text.encode("x"),
        EncryptionContext: { ab: "c" },
      }),
    );
    assert.equal(
      await errorName(
        client.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { a: "bc" } })),
      ),
      "InvalidCiphertextException",
    );
    const nfc = "caf\u00e9";
    const nfd = "cafe\u0301";
    const blob2 = (await client.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: text.encode("x"),
        EncryptionContext: { k: nfc },
      }),
    )).CiphertextBlob;
    assert.equal(
      await errorName(
        client.send(new DecryptCommand({ CiphertextBlob: blob2, EncryptionContext: { k: nfd } })),
      ),
      "InvalidCiphertextException",
    );
  }));

Deno.test("Encryption context keys __proto__ and constructor round-trip and matter", () =>
  withServer(async ({ client, url }) => {
    const keyId = await newKey(client);
    const context = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    assert.ok(Object.hasOwn(context, "__proto__"));
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x"), EncryptionContext: context }),
    );
    const ok = await client.send(
      new DecryptCommand({ CiphertextBlob, EncryptionContext: context }),
    );
    assert.deepEqual(ok.Plaintext, text.encode("x"));
    assert.equal(
      await errorName(
        client.send(
          new DecryptCommand({ CiphertextBlob, EncryptionContext: { constructor: "c" } }),
        ),
      ),
      "InvalidCiphertextException",
    );
    assert.ok(url);
  }));

Deno.test("Decrypt rejects a ciphertext with a flipped byte, a truncation or an appended byte", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x") }),
    );
    const blob = CiphertextBlob!;
    const variants = [
      blob.map((b, i) => (i === blob.length - 1 ? b ^ 1 : b)),
      blob.map((b, i) => (i === 10 ? b ^ 0x80 : b)),
      blob.slice(0, -1),
      new Uint8Array([...blob, 0]),
      new Uint8Array([1, 2, 3]),
    ];
    for (const variant of variants) {
      assert.equal(
        await errorName(client.send(new DecryptCommand({ CiphertextBlob: variant }))),
        "InvalidCiphertextException",
      );
    }
  }));

Deno.test("Decrypt with another KeyId gives IncorrectKeyException; with its alias it succeeds", () =>
  withServer(async ({ client }) => {
    const keyA = await newKey(client);
    const keyB = await newKey(client);
    await client.send(new CreateAliasCommand({ AliasName: "alias/a", TargetKeyId: keyA }));
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: "alias/a", Plaintext: text.encode("x") }),
    );
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob, KeyId: keyB }))),
      "IncorrectKeyException",
    );
    const ok = await client.send(new DecryptCommand({ CiphertextBlob, KeyId: "alias/a" }));
    assert.deepEqual(ok.Plaintext, text.encode("x"));
  }));

Deno.test("Encrypt and Decrypt on a disabled key give DisabledException, pending deletion KMSInvalidStateException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x") }),
    );
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x") })),
      ),
      "DisabledException",
    );
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob }))),
      "DisabledException",
    );
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x") })),
      ),
      "KMSInvalidStateException",
    );
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob }))),
      "KMSInvalidStateException",
    );
  }));

Deno.test("Encrypt with an unknown key, alias or malformed id gives NotFoundException", () =>
  withServer(async ({ client }) => {
    for (const KeyId of ["1234abcd-12ab-34cd-56ef-1234567890ab", "alias/none", "not-a-key"]) {
      assert.equal(
        await errorName(client.send(new EncryptCommand({ KeyId, Plaintext: text.encode("x") }))),
        "NotFoundException",
        KeyId,
      );
    }
  }));

Deno.test("GenerateDataKey returns AES_256, AES_128 and NumberOfBytes keys whose ciphertext decrypts", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    for (
      const [input, length] of [
        [{ KeySpec: "AES_256" as const }, 32],
        [{ KeySpec: "AES_128" as const }, 16],
        [{ NumberOfBytes: 1 }, 1],
        [{ NumberOfBytes: 1024 }, 1024],
      ] as const
    ) {
      const r = await client.send(
        new GenerateDataKeyCommand({ KeyId: keyId, EncryptionContext: { app: "t" }, ...input }),
      );
      assert.equal(r.Plaintext!.length, length);
      assert.match(r.KeyMaterialId!, /^[0-9a-f]{64}$/);
      const dec = await client.send(
        new DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: { app: "t" } }),
      );
      assert.deepEqual(dec.Plaintext, r.Plaintext);
    }
  }));

Deno.test("GenerateDataKey requires exactly one of KeySpec and NumberOfBytes within 1..1024", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    for (
      const input of [
        {},
        { KeySpec: "AES_256" as const, NumberOfBytes: 32 },
        { NumberOfBytes: 0 },
        { NumberOfBytes: 1025 },
      ]
    ) {
      assert.equal(
        await errorName(client.send(new GenerateDataKeyCommand({ KeyId: keyId, ...input }))),
        "ValidationException",
        JSON.stringify(input),
      );
    }
  }));

Deno.test("GenerateDataKeyWithoutPlaintext returns no plaintext and a ciphertext that decrypts to 32 bytes", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const r = await client.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: "AES_256" }),
    );
    assert.equal("Plaintext" in r, false);
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: r.CiphertextBlob }));
    assert.equal(dec.Plaintext!.length, 32);
  }));

Deno.test("ReEncrypt moves a ciphertext to another key and context", () =>
  withServer(async ({ client }) => {
    const keyA = await newKey(client);
    const keyB = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({
        KeyId: keyA,
        Plaintext: text.encode("move me"),
        EncryptionContext: { a: "1" },
      }),
    );
    const re = await client.send(
      new ReEncryptCommand({
        CiphertextBlob,
        SourceEncryptionContext: { a: "1" },
        DestinationKeyId: keyB,
        DestinationEncryptionContext: { b: "2" },
      }),
    );
    assert.match(re.SourceKeyId!, new RegExp(keyA));
    assert.match(re.KeyId!, new RegExp(keyB));
    assert.match(re.SourceKeyMaterialId!, /^[0-9a-f]{64}$/);
    assert.match(re.DestinationKeyMaterialId!, /^[0-9a-f]{64}$/);
    const dec = await client.send(
      new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { b: "2" } }),
    );
    assert.deepEqual(dec.Plaintext, text.encode("move me"));
    assert.match(dec.KeyId!, new RegExp(keyB));
    assert.equal(
      await errorName(
        client.send(
          new ReEncryptCommand({
            CiphertextBlob,
            SourceKeyId: keyB,
            DestinationKeyId: keyB,
            SourceEncryptionContext: { a: "1" },
          }),
        ),
      ),
      "IncorrectKeyException",
    );
    assert.equal(
      await errorName(
        client.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: keyB })),
      ),
      "InvalidCiphertextException",
    );
  }));

Deno.test("DryRun answers DryRunOperationException when the call would succeed and the real error otherwise", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x") }),
    );
    const dry = [
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x"), DryRun: true }),
      new DecryptCommand({ CiphertextBlob, DryRun: true }),
      new DecryptCommand({
        CiphertextBlob: new Uint8Array([1]),
        KeyId: keyId,
        DryRun: true,
        DryRunModifiers: ["IGNORE_CIPHERTEXT"],
      }),
      // No CiphertextBlob at all: optional in AWS's model for this dry run.
      new DecryptCommand({ KeyId: keyId, DryRun: true, DryRunModifiers: ["IGNORE_CIPHERTEXT"] }),
      new ReEncryptCommand({
        SourceKeyId: keyId,
        DestinationKeyId: keyId,
        DryRun: true,
        DryRunModifiers: ["IGNORE_CIPHERTEXT"],
      }),
      new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: keyId, DryRun: true }),
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256", DryRun: true }),
      new GenerateDataKeyWithoutPlaintextCommand({
        KeyId: keyId,
        KeySpec: "AES_256",
        DryRun: true,
      }),
    ];
    for (const command of dry) {
      assert.equal(
        // deno-lint-ignore no-explicit-any
        await errorName(client.send(command as any)),
        "DryRunOperationException",
        command.constructor.name,
      );
    }
    assert.equal(
      await errorName(
        client.send(new DecryptCommand({ CiphertextBlob: new Uint8Array([1, 2]), DryRun: true })),
      ),
      "InvalidCiphertextException",
    );
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(
      await errorName(
        client.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x"), DryRun: true }),
        ),
      ),
      "DisabledException",
    );
    assert.equal(
      await errorName(
        client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256", DryRun: true })),
      ),
      "DisabledException",
    );
  }));

Deno.test("DryRunOperationException is HTTP 412", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client);
    try {
      await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("x"), DryRun: true }),
      );
      assert.fail("expected DryRunOperationException");
    } catch (error) {
      assert.equal(
        (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
        412,
      );
    }
  }));

Deno.test("GenerateRandom returns 1..1024 fresh bytes and rejects 0 and 1025", () =>
  withServer(async ({ client }) => {
    const a = await client.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    const b = await client.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    assert.equal(a.Plaintext!.length, 1024);
    assert.notDeepEqual(a.Plaintext, b.Plaintext);
    assert.equal(
      (await client.send(new GenerateRandomCommand({ NumberOfBytes: 1 }))).Plaintext!.length,
      1,
    );
    for (const NumberOfBytes of [0, 1025]) {
      assert.equal(
        await errorName(client.send(new GenerateRandomCommand({ NumberOfBytes }))),
        "ValidationException",
      );
    }
  }));

Deno.test("Another account's caller gets AccessDeniedException for a key ARN and NotFoundException for a bare key id", () =>
  withServer(async (server) => {
    const { client } = server;
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: text.encode("x") }),
    );
    const other = server.clientFor(await addAccountCredential(server, "444455556666"));
    assert.equal(
      await errorName(
        other.send(new EncryptCommand({ KeyId: KeyMetadata!.Arn, Plaintext: text.encode("x") })),
      ),
      "AccessDeniedException",
    );
    assert.equal(
      await errorName(other.send(new DecryptCommand({ CiphertextBlob }))),
      "AccessDeniedException",
    );
    assert.equal(
      await errorName(other.send(new DescribeKeyCommand({ KeyId: KeyMetadata!.KeyId }))),
      "NotFoundException",
    );
    const own = await other.send(new CreateKeyCommand({}));
    assert.equal(own.KeyMetadata!.AWSAccountId, "444455556666");
  }));
