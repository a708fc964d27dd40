/**
 * Encrypt, Decrypt and ReEncrypt with asymmetric ENCRYPT_DECRYPT keys (RSA with
 * RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256, SM2 with SM2PKE), end to end through the
 * AWS SDK, with OpenSSL as the referee in both directions: it encrypts with the
 * public key from GetPublicKey for the KMS to decrypt, and decrypts what the KMS
 * encrypted with the key's private material read from the test server.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  type DecryptCommandInput,
  DisableKeyCommand,
  EncryptCommand,
  type EncryptionAlgorithmSpec,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { flipByte, TestAttestationPki } from "./helpers/attestation.ts";
import { newEnclave, openInEnclave } from "./helpers/enclave.ts";
import { runOpenssl } from "./helpers/openssl.ts";
import { errorName, type TestServer, withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

const text = new TextEncoder();
const CONTEXT = { purpose: "test" };
const OAEP_MD: Readonly<Record<string, string>> = {
  RSAES_OAEP_SHA_1: "sha1",
  RSAES_OAEP_SHA_256: "sha256",
};

async function newKey(client: KMSClient, spec: KeySpec, usage: KeyUsageType = "ENCRYPT_DECRYPT") {
  const { KeyMetadata } = await client.send(
    new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }),
  );
  return KeyMetadata!.KeyId!;
}

/** The key's stored PKCS#8 private key, read from the server under test. */
async function privateKeyOf(server: TestServer, keyId: string): Promise<Uint8Array> {
  const material = await server.service.kms.material(keyId, 1);
  return material!.material.expose().slice();
}

/** The key's DER SPKI from GetPublicKey, after checking it lists `algorithms`. */
async function publicKeyOf(
  client: KMSClient,
  keyId: string,
  algorithms: string[],
): Promise<Uint8Array> {
  const out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  assert.deepEqual(out.EncryptionAlgorithms, algorithms);
  return out.PublicKey!;
}

/** `openssl pkeyutl -encrypt` or `-decrypt` with a DER key; RSA gets OAEP with `md` for both hashes. */
async function opensslCipher(
  mode: "encrypt" | "decrypt",
  key: Uint8Array,
  input: Uint8Array,
  md?: string,
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "asym_enc_" });
  try {
    await Deno.writeFile(`${dir}/key.der`, key);
    await Deno.writeFile(`${dir}/in`, input);
    const oaep = md === undefined ? [] : [
      ["-pkeyopt", "rsa_padding_mode:oaep"],
      ["-pkeyopt", `rsa_oaep_md:${md}`],
      ["-pkeyopt", `rsa_mgf1_md:${md}`],
    ].flat();
    const args = ["pkeyutl", `-${mode}`, ...(mode === "encrypt" ? ["-pubin"] : [])]
      .concat(["-inkey", "key.der", "-keyform", "DER", "-in", "in", "-out", "out", ...oaep]);
    const result = await runOpenssl(args, { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    return await Deno.readFile(`${dir}/out`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The AWS exception name and message of a rejected SDK call. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error("expected the call to fail");
}

Deno.test("Encrypt and Decrypt with RSA_2048 round-trip the longest plaintext of both OAEP algorithms, one byte more is ValidationException", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "RSA_2048");
    for (const [algorithm, limit] of [["RSAES_OAEP_SHA_1", 214], ["RSAES_OAEP_SHA_256", 190]]) {
      const EncryptionAlgorithm = algorithm as EncryptionAlgorithmSpec;
      const plaintext = crypto.getRandomValues(new Uint8Array(limit as number));
      const enc = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionAlgorithm }),
      );
      assert.equal(enc.CiphertextBlob!.length, 256, "the bare 2048-bit OAEP block");
      assert.equal(enc.EncryptionAlgorithm, algorithm);
      assert.match(enc.KeyId!, new RegExp(`^arn:aws:kms:us-east-1:111122223333:key/${keyId}$`));
      const dec = await client.send(
        new DecryptCommand({
          CiphertextBlob: enc.CiphertextBlob,
          KeyId: keyId,
          EncryptionAlgorithm,
        }),
      );
      assert.deepEqual(dec.Plaintext, plaintext);
      assert.equal(dec.KeyId, enc.KeyId);
      assert.equal(dec.EncryptionAlgorithm, algorithm);
      assert.equal(dec.KeyMaterialId, undefined, "KeyMaterialId is for symmetric keys only");
      const tooLong = await failure(
        client.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: new Uint8Array((limit as number) + 1),
            EncryptionAlgorithm,
          }),
        ),
      );
      assert.deepEqual(tooLong, {
        name: "ValidationException",
        message: `Algorithm ${algorithm} and key spec RSA_2048 cannot encrypt data larger than ` +
          `${limit} bytes.`,
      });
    }
  }, SM2_EVERYWHERE));

Deno.test("Encrypt and Decrypt with RSA_3072 and RSA_4096 keep AWS's plaintext limits", () =>
  withServer(async ({ client }) => {
    const limits: [KeySpec, EncryptionAlgorithmSpec, number][] = [
      ["RSA_3072", "RSAES_OAEP_SHA_1", 342],
      ["RSA_3072", "RSAES_OAEP_SHA_256", 318],
      ["RSA_4096", "RSAES_OAEP_SHA_1", 470],
      ["RSA_4096", "RSAES_OAEP_SHA_256", 446],
    ];
    const keys = {
      RSA_3072: await newKey(client, "RSA_3072"),
      RSA_4096: await newKey(client, "RSA_4096"),
    } as Record<string, string>;
    for (const [spec, EncryptionAlgorithm, limit] of limits) {
      const KeyId = keys[spec]!;
      const plaintext = crypto.getRandomValues(new Uint8Array(limit));
      const enc = await client.send(
        new EncryptCommand({ KeyId, Plaintext: plaintext, EncryptionAlgorithm }),
      );
      assert.equal(enc.CiphertextBlob!.length, Number(spec.slice(4)) / 8);
      const dec = await client.send(
        new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId, EncryptionAlgorithm }),
      );
      assert.deepEqual(dec.Plaintext, plaintext, `${spec} ${EncryptionAlgorithm}`);
      assert.equal(
        await errorName(
          client.send(
            new EncryptCommand({
              KeyId,
              Plaintext: new Uint8Array(limit + 1),
              EncryptionAlgorithm,
            }),
          ),
        ),
        "ValidationException",
        `${spec} ${EncryptionAlgorithm} ${limit + 1} bytes`,
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("Decrypt opens what OpenSSL encrypts with the RSA public key, and OpenSSL opens what Encrypt made", () =>
  withServer(async (server) => {
    const { client } = server;
    const keyId = await newKey(client, "RSA_2048");
    const spki = await publicKeyOf(client, keyId, ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
    const pkcs8 = await privateKeyOf(server, keyId);
    for (const EncryptionAlgorithm of ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const) {
      const message = text.encode(`offline ${EncryptionAlgorithm} message`);
      const offline = await opensslCipher("encrypt", spki, message, OAEP_MD[EncryptionAlgorithm]);
      const dec = await client.send(
        new DecryptCommand({ CiphertextBlob: offline, KeyId: keyId, EncryptionAlgorithm }),
      );
      assert.deepEqual(dec.Plaintext, message);
      const enc = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: message, EncryptionAlgorithm }),
      );
      const opened = await opensslCipher(
        "decrypt",
        pkcs8,
        enc.CiphertextBlob!,
        OAEP_MD[EncryptionAlgorithm],
      );
      assert.deepEqual(opened, message);
    }
  }, SM2_EVERYWHERE));

Deno.test("SM2PKE round-trips 1024 bytes, refuses 1025, and interoperates with OpenSSL both ways", () =>
  withServer(async (server) => {
    const { client } = server;
    const keyId = await newKey(client, "SM2");
    const EncryptionAlgorithm = "SM2PKE";
    const longest = crypto.getRandomValues(new Uint8Array(1024));
    const enc = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: longest, EncryptionAlgorithm }),
    );
    assert.equal(enc.EncryptionAlgorithm, "SM2PKE");
    assert.equal(enc.CiphertextBlob![0], 0x30, "the SM2 ciphertext is a DER SEQUENCE");
    const dec = await client.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: keyId, EncryptionAlgorithm }),
    );
    assert.deepEqual(dec.Plaintext, longest);
    assert.equal(dec.EncryptionAlgorithm, "SM2PKE");
    assert.equal(dec.KeyMaterialId, undefined);
    assert.deepEqual(
      await failure(
        client.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: new Uint8Array(1025),
            EncryptionAlgorithm,
          }),
        ),
      ),
      {
        name: "ValidationException",
        message: "Algorithm SM2PKE and key spec SM2 cannot encrypt data larger than 1024 bytes.",
      },
    );
    const message = text.encode("SM2PKE from OpenSSL");
    const offline = await opensslCipher(
      "encrypt",
      await publicKeyOf(client, keyId, ["SM2PKE"]),
      message,
    );
    const fromOpenssl = await client.send(
      new DecryptCommand({ CiphertextBlob: offline, KeyId: keyId, EncryptionAlgorithm }),
    );
    assert.deepEqual(fromOpenssl.Plaintext, message);
    const opened = await opensslCipher(
      "decrypt",
      await privateKeyOf(server, keyId),
      enc.CiphertextBlob!,
    );
    assert.deepEqual(opened, longest);
  }, SM2_EVERYWHERE));

Deno.test("Encrypt with an asymmetric key needs an algorithm of its key spec, else InvalidKeyUsageException", () =>
  withServer(async ({ client }) => {
    const rsa = await newKey(client, "RSA_2048");
    const sm2 = await newKey(client, "SM2");
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const sm2Signing = await newKey(client, "SM2", "SIGN_VERIFY");
    const Plaintext = text.encode("x");
    const cases: [string, EncryptionAlgorithmSpec | undefined, string][] = [
      [rsa, undefined, "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."],
      [
        rsa,
        "SYMMETRIC_DEFAULT",
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
      ],
      [rsa, "SM2PKE", "Algorithm SM2PKE is incompatible with key spec RSA_2048."],
      [sm2, undefined, "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec SM2."],
      [
        sm2,
        "RSAES_OAEP_SHA_256",
        "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SM2.",
      ],
    ];
    for (const [KeyId, EncryptionAlgorithm, message] of cases) {
      assert.deepEqual(
        await failure(client.send(new EncryptCommand({ KeyId, Plaintext, EncryptionAlgorithm }))),
        { name: "InvalidKeyUsageException", message },
        `${KeyId} ${EncryptionAlgorithm}`,
      );
    }
    for (
      const [KeyId, EncryptionAlgorithm] of [[symmetric, "RSAES_OAEP_SHA_1"], [
        sm2Signing,
        "SM2PKE",
      ]]
    ) {
      assert.equal(
        await errorName(
          client.send(
            new EncryptCommand({
              KeyId,
              Plaintext,
              EncryptionAlgorithm: EncryptionAlgorithm as EncryptionAlgorithmSpec,
            }),
          ),
        ),
        "InvalidKeyUsageException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("An encryption context with an asymmetric key is ValidationException on Encrypt, Decrypt and ReEncrypt", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "SM2");
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const EncryptionAlgorithm = "SM2PKE";
    const expected = {
      name: "ValidationException",
      message:
        "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.",
    };
    const Plaintext = text.encode("no context here");
    assert.deepEqual(
      await failure(
        client.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext,
            EncryptionAlgorithm,
            EncryptionContext: CONTEXT,
          }),
        ),
      ),
      expected,
    );
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext, EncryptionAlgorithm, EncryptionContext: {} }),
    );
    assert.deepEqual(
      await failure(
        client.send(
          new DecryptCommand({
            CiphertextBlob,
            KeyId: keyId,
            EncryptionAlgorithm,
            EncryptionContext: CONTEXT,
          }),
        ),
      ),
      expected,
    );
    assert.deepEqual(
      await failure(
        client.send(
          new ReEncryptCommand({
            CiphertextBlob,
            SourceKeyId: keyId,
            SourceEncryptionAlgorithm: EncryptionAlgorithm,
            SourceEncryptionContext: CONTEXT,
            DestinationKeyId: symmetric,
          }),
        ),
      ),
      expected,
    );
    const symmetricBlob = (await client.send(new EncryptCommand({ KeyId: symmetric, Plaintext })))
      .CiphertextBlob;
    assert.deepEqual(
      await failure(
        client.send(
          new ReEncryptCommand({
            CiphertextBlob: symmetricBlob,
            DestinationKeyId: keyId,
            DestinationEncryptionAlgorithm: EncryptionAlgorithm,
            DestinationEncryptionContext: CONTEXT,
          }),
        ),
      ),
      expected,
    );
  }, SM2_EVERYWHERE));

Deno.test("Decrypt of an RSA ciphertext fails with one InvalidCiphertextException for a missing KeyId, a wrong algorithm, key or byte", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "RSA_2048");
    const otherRsa = await newKey(client, "RSA_2048");
    const EncryptionAlgorithm = "RSAES_OAEP_SHA_256";
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("secret"), EncryptionAlgorithm }),
    );
    const attempts: DecryptCommandInput[] = [
      { CiphertextBlob },
      { CiphertextBlob, EncryptionAlgorithm },
      { CiphertextBlob, KeyId: keyId },
      { CiphertextBlob, KeyId: keyId, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" as const },
      { CiphertextBlob, KeyId: keyId, EncryptionAlgorithm: "RSAES_OAEP_SHA_1" as const },
      { CiphertextBlob, KeyId: otherRsa, EncryptionAlgorithm },
      { CiphertextBlob: flipByte(CiphertextBlob!, 0), KeyId: keyId, EncryptionAlgorithm },
      { CiphertextBlob: flipByte(CiphertextBlob!, 255), KeyId: keyId, EncryptionAlgorithm },
      { CiphertextBlob: CiphertextBlob!.subarray(1), KeyId: keyId, EncryptionAlgorithm },
    ];
    const failures = new Set<string>();
    for (const attempt of attempts) {
      const { name, message } = await failure(client.send(new DecryptCommand(attempt)));
      assert.equal(name, "InvalidCiphertextException", JSON.stringify(Object.keys(attempt)));
      failures.add(message);
    }
    assert.equal(failures.size, 1, "the same message whatever went wrong");
  }, SM2_EVERYWHERE));

Deno.test("Decrypt of a symmetric ciphertext with an RSA KeyId is IncorrectKeyException, or InvalidCiphertextException with an RSA algorithm", () =>
  withServer(async ({ client }) => {
    const rsa = await newKey(client, "RSA_2048");
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: symmetric, Plaintext: text.encode("symmetric") }),
    );
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob, KeyId: rsa }))),
      "IncorrectKeyException",
    );
    assert.equal(
      await errorName(
        client.send(
          new DecryptCommand({
            CiphertextBlob,
            KeyId: rsa,
            EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
          }),
        ),
      ),
      "InvalidCiphertextException",
    );
    assert.equal(
      await errorName(
        client.send(
          new DecryptCommand({
            CiphertextBlob,
            KeyId: symmetric,
            EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
          }),
        ),
      ),
      "InvalidKeyUsageException",
    );
  }, SM2_EVERYWHERE));

Deno.test("Asymmetric Encrypt and Decrypt refuse disabled keys, keys pending deletion and unknown keys", () =>
  withServer(async ({ client }) => {
    const EncryptionAlgorithm = "SM2PKE";
    const Plaintext = text.encode("state");
    const disabled = await newKey(client, "SM2");
    const pending = await newKey(client, "SM2");
    const blobs = new Map<string, Uint8Array>();
    for (const KeyId of [disabled, pending]) {
      const enc = await client.send(new EncryptCommand({ KeyId, Plaintext, EncryptionAlgorithm }));
      blobs.set(KeyId, enc.CiphertextBlob!);
    }
    await client.send(new DisableKeyCommand({ KeyId: disabled }));
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: pending, PendingWindowInDays: 7 }));
    for (
      const [KeyId, expected] of [[disabled, "DisabledException"], [
        pending,
        "KMSInvalidStateException",
      ]]
    ) {
      assert.equal(
        await errorName(client.send(new EncryptCommand({ KeyId, Plaintext, EncryptionAlgorithm }))),
        expected,
      );
      assert.equal(
        await errorName(
          client.send(
            new DecryptCommand({ CiphertextBlob: blobs.get(KeyId!), KeyId, EncryptionAlgorithm }),
          ),
        ),
        expected,
      );
    }
    const unknown = "11111111-2222-3333-4444-555555555555";
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: unknown, Plaintext, EncryptionAlgorithm })),
      ),
      "NotFoundException",
    );
    assert.equal(
      await errorName(
        client.send(
          new DecryptCommand({
            CiphertextBlob: blobs.get(disabled),
            KeyId: unknown,
            EncryptionAlgorithm,
          }),
        ),
      ),
      "NotFoundException",
    );
  }, SM2_EVERYWHERE));

Deno.test("DryRun of asymmetric Encrypt and Decrypt is DryRunOperationException, or the error the call would meet", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "RSA_2048");
    const EncryptionAlgorithm = "RSAES_OAEP_SHA_256";
    const Plaintext = text.encode("dry");
    assert.equal(
      await errorName(
        client.send(
          new EncryptCommand({ KeyId: keyId, Plaintext, EncryptionAlgorithm, DryRun: true }),
        ),
      ),
      "DryRunOperationException",
    );
    assert.equal(
      await errorName(
        client.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: new Uint8Array(191),
            EncryptionAlgorithm,
            DryRun: true,
          }),
        ),
      ),
      "ValidationException",
    );
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext, EncryptionAlgorithm }),
    );
    const decrypt = (blob: Uint8Array, more: Record<string, unknown> = {}) =>
      errorName(
        client.send(
          new DecryptCommand({
            CiphertextBlob: blob,
            KeyId: keyId,
            EncryptionAlgorithm,
            DryRun: true,
            ...more,
          }),
        ),
      );
    assert.equal(await decrypt(CiphertextBlob!), "DryRunOperationException");
    assert.equal(await decrypt(flipByte(CiphertextBlob!, 7)), "InvalidCiphertextException");
    const ignore = { DryRunModifiers: ["IGNORE_CIPHERTEXT"] };
    assert.equal(await decrypt(new Uint8Array(1), ignore), "DryRunOperationException");
    assert.equal(
      await decrypt(new Uint8Array(1), { ...ignore, EncryptionAlgorithm: undefined }),
      "InvalidKeyUsageException",
    );
  }, SM2_EVERYWHERE));

Deno.test("ReEncrypt moves an RSA ciphertext to a symmetric key and a symmetric one to an SM2 key", () =>
  withServer(async ({ client }) => {
    const rsa = await newKey(client, "RSA_2048");
    const sm2 = await newKey(client, "SM2");
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const plaintext = text.encode("moved between key types");
    const fromRsa = await client.send(
      new EncryptCommand({
        KeyId: rsa,
        Plaintext: plaintext,
        EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
      }),
    );
    const toSymmetric = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: fromRsa.CiphertextBlob,
        SourceKeyId: rsa,
        SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_1",
        DestinationKeyId: symmetric,
        DestinationEncryptionContext: CONTEXT,
      }),
    );
    assert.equal(toSymmetric.SourceEncryptionAlgorithm, "RSAES_OAEP_SHA_1");
    assert.equal(toSymmetric.DestinationEncryptionAlgorithm, "SYMMETRIC_DEFAULT");
    assert.match(toSymmetric.SourceKeyId!, new RegExp(`key/${rsa}$`));
    assert.equal(toSymmetric.SourceKeyMaterialId, undefined);
    assert.match(toSymmetric.DestinationKeyMaterialId!, /^[0-9a-f]{64}$/);
    const opened = await client.send(
      new DecryptCommand({
        CiphertextBlob: toSymmetric.CiphertextBlob,
        EncryptionContext: CONTEXT,
      }),
    );
    assert.deepEqual(opened.Plaintext, plaintext);

    const toSm2 = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: toSymmetric.CiphertextBlob,
        SourceEncryptionContext: CONTEXT,
        DestinationKeyId: sm2,
        DestinationEncryptionAlgorithm: "SM2PKE",
      }),
    );
    assert.equal(toSm2.SourceEncryptionAlgorithm, "SYMMETRIC_DEFAULT");
    assert.equal(toSm2.DestinationEncryptionAlgorithm, "SM2PKE");
    assert.match(toSm2.SourceKeyMaterialId!, /^[0-9a-f]{64}$/);
    assert.equal(toSm2.DestinationKeyMaterialId, undefined);
    const fromSm2 = await client.send(
      new DecryptCommand({
        CiphertextBlob: toSm2.CiphertextBlob,
        KeyId: sm2,
        EncryptionAlgorithm: "SM2PKE",
      }),
    );
    assert.deepEqual(fromSm2.Plaintext, plaintext);

    const toRsa = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: toSm2.CiphertextBlob,
        SourceKeyId: sm2,
        SourceEncryptionAlgorithm: "SM2PKE",
        DestinationKeyId: rsa,
        DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      }),
    );
    assert.equal(toRsa.CiphertextBlob!.length, 256);
    const fromRsaAgain = await client.send(
      new DecryptCommand({
        CiphertextBlob: toRsa.CiphertextBlob,
        KeyId: rsa,
        EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      }),
    );
    assert.deepEqual(fromRsaAgain.Plaintext, plaintext);
  }, SM2_EVERYWHERE));

Deno.test("ReEncrypt checks the asymmetric sides: SourceKeyId, algorithms and the destination's plaintext limit", () =>
  withServer(async ({ client }) => {
    const rsa = await newKey(client, "RSA_2048");
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const { CiphertextBlob: rsaBlob } = await client.send(
      new EncryptCommand({
        KeyId: rsa,
        Plaintext: text.encode("r"),
        EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
      }),
    );
    const reEncrypt = (input: Record<string, unknown>) =>
      errorName(client.send(new ReEncryptCommand({ DestinationKeyId: symmetric, ...input })));
    assert.equal(
      await reEncrypt({ CiphertextBlob: rsaBlob, SourceEncryptionAlgorithm: "RSAES_OAEP_SHA_256" }),
      "InvalidCiphertextException",
    );
    assert.equal(
      await reEncrypt({ CiphertextBlob: rsaBlob, SourceKeyId: rsa }),
      "InvalidCiphertextException",
    );
    assert.equal(
      await reEncrypt({
        CiphertextBlob: rsaBlob,
        SourceKeyId: rsa,
        SourceEncryptionAlgorithm: "SM2PKE",
      }),
      "InvalidKeyUsageException",
    );
    const { CiphertextBlob: big } = await client.send(
      new EncryptCommand({ KeyId: symmetric, Plaintext: new Uint8Array(191) }),
    );
    const toRsa = { CiphertextBlob: big, DestinationKeyId: rsa };
    assert.equal(await reEncrypt(toRsa), "InvalidKeyUsageException");
    assert.equal(
      await reEncrypt({ ...toRsa, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256" }),
      "ValidationException",
    );
    assert.equal(
      await reEncrypt({
        ...toRsa,
        DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
        DryRun: true,
      }),
      "ValidationException",
    );
    const sha1 = { ...toRsa, DestinationEncryptionAlgorithm: "RSAES_OAEP_SHA_1" as const };
    assert.equal(await reEncrypt({ ...sha1, DryRun: true }), "DryRunOperationException");
    const moved = await client.send(new ReEncryptCommand(sha1));
    const back = await client.send(
      new DecryptCommand({
        CiphertextBlob: moved.CiphertextBlob,
        KeyId: rsa,
        EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
      }),
    );
    assert.deepEqual(back.Plaintext, new Uint8Array(191));
  }, SM2_EVERYWHERE));

Deno.test("Decrypt with Recipient seals an RSA-decrypted plaintext to the enclave, without KeyMaterialId", async () => {
  const pki = await TestAttestationPki.create();
  const enclave = await newEnclave();
  const recipient = async () => ({
    KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" as const,
    AttestationDocument: await pki.makeAttestationDocument({ publicKey: enclave.spki }),
  });
  try {
    await withServer(async ({ client }) => {
      const keyId = await newKey(client, "RSA_2048");
      const secret = text.encode("only the enclave reads this");
      const EncryptionAlgorithm = "RSAES_OAEP_SHA_256";
      const { CiphertextBlob } = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: secret, EncryptionAlgorithm }),
      );
      const out = await client.send(
        new DecryptCommand({
          CiphertextBlob,
          KeyId: keyId,
          EncryptionAlgorithm,
          Recipient: await recipient(),
        }),
      );
      assert.equal(out.Plaintext, undefined);
      assert.equal(out.EncryptionAlgorithm, EncryptionAlgorithm);
      assert.equal(out.KeyMaterialId, undefined);
      assert.deepEqual(await openInEnclave(enclave, out.CiphertextForRecipient!), secret);
      const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const symmetricBlob = await client.send(
        new EncryptCommand({ KeyId: symmetric, Plaintext: secret }),
      );
      const sealed = await client.send(
        new DecryptCommand({
          CiphertextBlob: symmetricBlob.CiphertextBlob,
          Recipient: await recipient(),
        }),
      );
      assert.deepEqual(await openInEnclave(enclave, sealed.CiphertextForRecipient!), secret);
      assert.equal(sealed.KeyMaterialId, undefined, "KeyMaterialId is omitted with a Recipient");
    }, { env: { KMS_ATTESTATION_ROOTS: pki.rootPem, KMS_SM2_ALL_REGIONS: "true" } });
  } finally {
    await Deno.remove(enclave.dir, { recursive: true });
  }
});

Deno.test("The imported RSA-OAEP key is built once per key, material version and algorithm", () =>
  withServer(async (server) => {
    const { client } = server;
    const keyId = await newKey(client, "RSA_2048");
    const EncryptionAlgorithm = "RSAES_OAEP_SHA_256";
    await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: text.encode("warm"), EncryptionAlgorithm }),
    );
    const kms = server.service.kms;
    const never = () => Promise.reject(new Error("rebuilt"));
    const cached = await kms.prepared(keyId, 1, `encryption/${EncryptionAlgorithm}`, never);
    assert.ok(cached !== undefined);
    await assert.rejects(kms.prepared(keyId, 1, "encryption/RSAES_OAEP_SHA_1", never), /rebuilt/);
  }, SM2_EVERYWHERE));
