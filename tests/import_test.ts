/**
 * Imported key material (BYOK) end to end through @aws-sdk/client-kms, with the
 * key material wrapped by OpenSSL exactly as AWS's documentation shows for the
 * CLI ("Step 3: Encrypt the key material").
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  type CreateKeyCommandInput,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  type ImportKeyMaterialCommandInput,
  type KMSClient,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
} from "@aws-sdk/client-kms";
import { expireDueImportedMaterial } from "../core/operations/import.ts";
import { runOpenssl } from "./helpers/openssl.ts";
import { ADMIN, errorName, ManualClock, withServer } from "./helpers/server.ts";

type WrappingAlgorithm =
  | "RSAES_OAEP_SHA_1"
  | "RSAES_OAEP_SHA_256"
  | "RSA_AES_KEY_WRAP_SHA_1"
  | "RSA_AES_KEY_WRAP_SHA_256";
type WrappingKeySpec = "RSA_2048" | "RSA_3072" | "RSA_4096";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Runs a shell script in `dir`; fails the test with its stderr when it fails. */
async function sh(dir: string, script: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`${script}\n${new TextDecoder().decode(stderr)}`);
}

/** The `openssl pkeyutl` RSA-OAEP options of AWS's documentation for each hash. */
function oaepOptions(algorithm: WrappingAlgorithm): string {
  const md = algorithm.endsWith("SHA_1") ? "sha1" : "sha256";
  return `-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:${md} -pkeyopt rsa_mgf1_md:${md}`;
}

/**
 * Wraps `material` under the DER public key as AWS documents it for the AWS CLI:
 * RSAES_OAEP_*: one `openssl pkeyutl -encrypt`; RSA_AES_KEY_WRAP_*: a fresh 32-byte AES key
 * (`openssl rand`), the material under it with `openssl enc -id-aes256-wrap-pad -iv A65959A6`,
 * the AES key under RSA-OAEP, and the two concatenated.
 */
async function wrapWithOpenssl(
  publicKey: Uint8Array,
  material: Uint8Array,
  algorithm: WrappingAlgorithm,
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "import_wrap_" });
  try {
    await Deno.writeFile(`${dir}/WrappingPublicKey.der`, publicKey);
    await Deno.writeFile(`${dir}/PlaintextKeyMaterial.bin`, material);
    if (algorithm.startsWith("RSAES_OAEP")) {
      await sh(
        dir,
        "openssl pkeyutl -encrypt -in PlaintextKeyMaterial.bin -out EncryptedKeyMaterial.bin " +
          `-inkey WrappingPublicKey.der -keyform DER -pubin ${oaepOptions(algorithm)}`,
      );
    } else {
      await sh(
        dir,
        [
          "openssl rand -out aes-key.bin 32",
          `openssl enc -id-aes256-wrap-pad -K "$(xxd -p < aes-key.bin | tr -d '\\n')" ` +
          "-iv A65959A6 -in PlaintextKeyMaterial.bin -out key-material-wrapped.bin",
          "openssl pkeyutl -encrypt -in aes-key.bin -out aes-key-wrapped.bin " +
          `-inkey WrappingPublicKey.der -keyform DER -pubin ${oaepOptions(algorithm)}`,
          "cat aes-key-wrapped.bin key-material-wrapped.bin > EncryptedKeyMaterial.bin",
        ].join(" && "),
      );
    }
    return await Deno.readFile(`${dir}/EncryptedKeyMaterial.bin`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A private key from `openssl genpkey`, as DER PKCS#8 (AWS's test-material commands). */
async function genpkeyPkcs8(genpkeyArgs: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "import_key_" });
  try {
    await sh(
      dir,
      `openssl genpkey ${genpkeyArgs} -out PrivateKey.pem && ` +
        "openssl pkcs8 -topk8 -outform der -nocrypt -in PrivateKey.pem -out PrivateKey.der",
    );
    return await Deno.readFile(`${dir}/PrivateKey.der`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function createExternalKey(
  client: KMSClient,
  input: Omit<CreateKeyCommandInput, "Origin"> = {},
): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ ...input, Origin: "EXTERNAL" }));
  return KeyMetadata!.KeyId!;
}

/** GetParametersForImport, then the material wrapped by OpenSSL under its public key. */
async function wrappedFor(
  client: KMSClient,
  keyId: string,
  material: Uint8Array,
  algorithm: WrappingAlgorithm = "RSAES_OAEP_SHA_256",
  spec: WrappingKeySpec = "RSA_2048",
): Promise<{ ImportToken: Uint8Array; EncryptedKeyMaterial: Uint8Array }> {
  const parameters = await client.send(
    new GetParametersForImportCommand({
      KeyId: keyId,
      WrappingAlgorithm: algorithm,
      WrappingKeySpec: spec,
    }),
  );
  return {
    ImportToken: parameters.ImportToken!,
    EncryptedKeyMaterial: await wrapWithOpenssl(parameters.PublicKey!, material, algorithm),
  };
}

/** Imports `material` (non-expiring unless `extra` says otherwise). */
async function importMaterial(
  client: KMSClient,
  keyId: string,
  material: Uint8Array,
  extra: Partial<ImportKeyMaterialCommandInput> = {},
  algorithm: WrappingAlgorithm = "RSAES_OAEP_SHA_256",
) {
  const wrapped = await wrappedFor(client, keyId, material, algorithm);
  return await client.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ...wrapped,
      ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
      ...extra,
    }),
  );
}

function randomMaterial(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

const PLAINTEXT = new TextEncoder().encode("imported key material protects this");

Deno.test("CreateKey with Origin EXTERNAL makes a key without material that waits in PendingImport", () =>
  withServer(async ({ client }) => {
    const { KeyMetadata: m } = await client.send(new CreateKeyCommand({ Origin: "EXTERNAL" }));
    assert.equal(m!.Origin, "EXTERNAL");
    assert.equal(m!.KeyState, "PendingImport");
    assert.equal(m!.Enabled, false);
    assert.equal(m!.ExpirationModel, undefined);
    assert.equal(m!.ValidTo, undefined);
    assert.equal(m!.CurrentKeyMaterialId, undefined);
    const described = await client.send(new DescribeKeyCommand({ KeyId: m!.KeyId }));
    assert.equal(described.KeyMetadata!.KeyState, "PendingImport");
    assert.equal(
      await errorName(client.send(new EncryptCommand({ KeyId: m!.KeyId, Plaintext: PLAINTEXT }))),
      "KMSInvalidStateException",
    );
    assert.equal(
      await errorName(client.send(new EnableKeyCommand({ KeyId: m!.KeyId }))),
      "KMSInvalidStateException",
    );
    for (const spec of ["HMAC_256", "ECC_NIST_P256", "RSA_2048"] as const) {
      const usage = spec === "HMAC_256"
        ? "GENERATE_VERIFY_MAC"
        : spec === "RSA_2048"
        ? "ENCRYPT_DECRYPT"
        : "SIGN_VERIFY";
      const { KeyMetadata } = await client.send(
        new CreateKeyCommand({ Origin: "EXTERNAL", KeySpec: spec, KeyUsage: usage }),
      );
      assert.equal(KeyMetadata!.KeyState, "PendingImport", spec);
    }
    const ecc = await createExternalKey(client, {
      KeySpec: "ECC_NIST_P256",
      KeyUsage: "SIGN_VERIFY",
    });
    assert.equal(
      await errorName(client.send(new GetPublicKeyCommand({ KeyId: ecc }))),
      "KMSInvalidStateException",
    );
  }));

Deno.test("GetParametersForImport answers the key ARN, a DER RSA public key of the asked size, a token, valid 24 hours", () =>
  withServer(async ({ client }) => {
    const keyId = await createExternalKey(client);
    for (const spec of ["RSA_2048", "RSA_3072", "RSA_4096"] as const) {
      const before = Date.now();
      const answer = await client.send(
        new GetParametersForImportCommand({
          KeyId: keyId,
          WrappingAlgorithm: "RSAES_OAEP_SHA_256",
          WrappingKeySpec: spec,
        }),
      );
      assert.equal(answer.KeyId, `arn:aws:kms:us-east-1:111122223333:key/${keyId}`);
      assert.ok(answer.ImportToken!.length > 0);
      const text = await runOpenssl(["pkey", "-pubin", "-inform", "DER", "-noout", "-text"], {
        stdin: answer.PublicKey!,
      });
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        new TextDecoder().decode(text.stdout),
        new RegExp(`Public-Key: \\(${spec.slice(4)} bit\\)`),
      );
      const validTo = answer.ParametersValidTo!.getTime();
      assert.ok(validTo >= before + DAY - 2000 && validTo <= Date.now() + DAY + 2000);
    }
  }));

Deno.test("symmetric material wrapped by OpenSSL with each wrapping algorithm imports, encrypts and decrypts", () =>
  withServer(async ({ client }) => {
    const algorithms: WrappingAlgorithm[] = [
      "RSAES_OAEP_SHA_1",
      "RSAES_OAEP_SHA_256",
      "RSA_AES_KEY_WRAP_SHA_1",
      "RSA_AES_KEY_WRAP_SHA_256",
    ];
    for (const algorithm of algorithms) {
      const keyId = await createExternalKey(client);
      const material = randomMaterial(32);
      const imported = await importMaterial(client, keyId, material, {}, algorithm);
      assert.equal(imported.KeyId, `arn:aws:kms:us-east-1:111122223333:key/${keyId}`);
      assert.match(imported.KeyMaterialId!, /^[0-9a-f]{64}$/);
      const { KeyMetadata: m } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
      assert.equal(m!.KeyState, "Enabled", algorithm);
      assert.equal(m!.Enabled, true);
      assert.equal(m!.Origin, "EXTERNAL");
      assert.equal(m!.ExpirationModel, "KEY_MATERIAL_DOES_NOT_EXPIRE");
      assert.equal(m!.ValidTo, undefined);
      assert.equal(m!.CurrentKeyMaterialId, imported.KeyMaterialId);
      const { CiphertextBlob } = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }),
      );
      const { Plaintext, KeyId } = await client.send(new DecryptCommand({ CiphertextBlob }));
      assert.deepEqual(Plaintext, PLAINTEXT);
      assert.equal(KeyId, imported.KeyId);
    }
  }));

Deno.test("deleted material leaves the key PendingImport; the same bytes re-imported decrypt the old ciphertext", () =>
  withServer(async ({ client }) => {
    const keyId = await createExternalKey(client);
    const material = randomMaterial(32);
    const first = await importMaterial(client, keyId, material);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }),
    );
    const deleted = await client.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }));
    assert.equal(deleted.KeyId, first.KeyId);
    assert.equal(deleted.KeyMaterialId, first.KeyMaterialId);
    const { KeyMetadata: m } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(m!.KeyState, "PendingImport");
    assert.equal(m!.ExpirationModel, undefined);
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob }))),
      "KMSInvalidStateException",
    );
    // Different material is refused, whatever the wrapping.
    assert.equal(
      await errorName(importMaterial(client, keyId, randomMaterial(32))),
      "IncorrectKeyMaterialException",
    );
    // The same bytes, wrapped another way, bring the key back.
    const again = await importMaterial(client, keyId, material, {}, "RSA_AES_KEY_WRAP_SHA_1");
    assert.equal(again.KeyMaterialId, first.KeyMaterialId);
    const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(Plaintext, PLAINTEXT);
    // Re-importing while enabled changes the expiration; different material stays refused.
    const validTo = new Date(Date.now() + 30 * DAY);
    await importMaterial(client, keyId, material, {
      ExpirationModel: "KEY_MATERIAL_EXPIRES",
      ValidTo: validTo,
    });
    const after = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(after.KeyMetadata!.ExpirationModel, "KEY_MATERIAL_EXPIRES");
    assert.equal(after.KeyMetadata!.ValidTo!.getTime(), validTo.getTime());
    assert.equal(
      await errorName(importMaterial(client, keyId, randomMaterial(32))),
      "IncorrectKeyMaterialException",
    );
  }));

Deno.test("imported HMAC material gives the same MAC as OpenSSL's HMAC over the same bytes", () =>
  withServer(async ({ client }) => {
    const keyId = await createExternalKey(client, {
      KeySpec: "HMAC_256",
      KeyUsage: "GENERATE_VERIFY_MAC",
    });
    const material = randomMaterial(64);
    await importMaterial(client, keyId, material);
    const { Mac } = await client.send(
      new GenerateMacCommand({ KeyId: keyId, Message: PLAINTEXT, MacAlgorithm: "HMAC_SHA_256" }),
    );
    const reference = await runOpenssl(
      ["dgst", "-sha256", "-binary", "-mac", "HMAC", "-macopt", `hexkey:${material.toHex()}`],
      { stdin: PLAINTEXT },
    );
    assert.equal(reference.code, 0, reference.stderr);
    assert.deepEqual(Mac, reference.stdout);
    // HMAC_256 material must be 32..64 bytes.
    const short = await createExternalKey(client, {
      KeySpec: "HMAC_256",
      KeyUsage: "GENERATE_VERIFY_MAC",
    });
    assert.equal(
      await errorName(importMaterial(client, short, randomMaterial(31))),
      "IncorrectKeyMaterialException",
    );
    assert.equal(
      await errorName(importMaterial(client, short, randomMaterial(65))),
      "IncorrectKeyMaterialException",
    );
  }));

Deno.test("an ECC_NIST_P256 key from openssl genpkey imports, signs, and OpenSSL verifies with GetPublicKey's key", () =>
  withServer(async ({ client }) => {
    const pkcs8 = await genpkeyPkcs8(
      "-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve",
    );
    const keyId = await createExternalKey(client, {
      KeySpec: "ECC_NIST_P256",
      KeyUsage: "SIGN_VERIFY",
    });
    await importMaterial(client, keyId, pkcs8, {}, "RSA_AES_KEY_WRAP_SHA_256");
    await verifySignatureWithOpenssl(client, keyId, pkcs8, "ECDSA_SHA_256");
    // A P-384 key does not fit a P-256 KMS key.
    const other = await createExternalKey(client, {
      KeySpec: "ECC_NIST_P256",
      KeyUsage: "SIGN_VERIFY",
    });
    const p384 = await genpkeyPkcs8(
      "-algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve",
    );
    assert.equal(
      await errorName(importMaterial(client, other, p384, {}, "RSA_AES_KEY_WRAP_SHA_256")),
      "IncorrectKeyMaterialException",
    );
  }));

Deno.test("an RSA_2048 key from openssl genpkey imports with RSA_AES_KEY_WRAP and signs what OpenSSL verifies", () =>
  withServer(async ({ client }) => {
    const pkcs8 = await genpkeyPkcs8("-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
    const keyId = await createExternalKey(client, { KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" });
    await importMaterial(client, keyId, pkcs8, {}, "RSA_AES_KEY_WRAP_SHA_256");
    await verifySignatureWithOpenssl(client, keyId, pkcs8, "RSASSA_PKCS1_V1_5_SHA_256");
    // The same key cannot go into an RSA_3072 KMS key.
    const wrongSize = await createExternalKey(client, {
      KeySpec: "RSA_3072",
      KeyUsage: "SIGN_VERIFY",
    });
    assert.equal(
      await errorName(importMaterial(client, wrongSize, pkcs8, {}, "RSA_AES_KEY_WRAP_SHA_256")),
      "IncorrectKeyMaterialException",
    );
  }));

/** Signs with KMS, checks GetPublicKey against OpenSSL's public key and verifies in OpenSSL. */
async function verifySignatureWithOpenssl(
  client: KMSClient,
  keyId: string,
  pkcs8: Uint8Array,
  algorithm: "ECDSA_SHA_256" | "RSASSA_PKCS1_V1_5_SHA_256",
): Promise<void> {
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  const derived = await runOpenssl(["pkey", "-inform", "DER", "-pubout", "-outform", "DER"], {
    stdin: pkcs8,
  });
  assert.deepEqual(PublicKey, derived.stdout);
  const { Signature } = await client.send(
    new SignCommand({ KeyId: keyId, Message: PLAINTEXT, SigningAlgorithm: algorithm }),
  );
  const dir = await Deno.makeTempDir({ prefix: "import_verify_" });
  try {
    await Deno.writeFile(`${dir}/pub.der`, PublicKey!);
    await Deno.writeFile(`${dir}/sig.bin`, Signature!);
    await Deno.writeFile(`${dir}/msg.bin`, PLAINTEXT);
    const verified = await runOpenssl([
      "dgst",
      "-sha256",
      "-verify",
      "pub.der",
      "-keyform",
      "DER",
      "-signature",
      "sig.bin",
      "msg.bin",
    ], { cwd: dir });
    assert.equal(verified.code, 0, verified.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("material expires at ValidTo: the key goes PendingImport, crypto fails, re-import works", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client, service }) => {
    const keyId = await createExternalKey(client);
    const material = randomMaterial(32);
    const validTo = new Date(clock.now() + HOUR);
    await importMaterial(client, keyId, material, {
      ExpirationModel: "KEY_MATERIAL_EXPIRES",
      ValidTo: validTo,
    });
    const { KeyMetadata: m } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(m!.ExpirationModel, "KEY_MATERIAL_EXPIRES");
    assert.equal(m!.ValidTo!.getTime(), validTo.getTime());
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }),
    );
    clock.advance(HOUR + 1000);
    assert.equal(
      await errorName(client.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }))),
      "KMSInvalidStateException",
    );
    assert.equal(
      await errorName(client.send(new DecryptCommand({ CiphertextBlob }))),
      "KMSInvalidStateException",
    );
    const expired = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(expired.KeyMetadata!.KeyState, "PendingImport");
    assert.equal(expired.KeyMetadata!.ValidTo, undefined);
    assert.equal(await service.store.getMaterial(keyId, 1), null, "the material is deleted");
    await importMaterial(client, keyId, material, {
      ExpirationModel: "KEY_MATERIAL_EXPIRES",
      ValidTo: new Date(clock.now() + HOUR),
    });
    const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(Plaintext, PLAINTEXT);
    // The periodic sweep deletes expired material of keys nobody uses.
    clock.advance(2 * HOUR);
    assert.equal(await expireDueImportedMaterial(service.kms), 1);
    assert.equal(await service.store.getMaterial(keyId, 1), null);
    assert.equal((await service.store.getKey(keyId))!.state, "PendingImport");
  }, { clock });
});

Deno.test("ImportKeyMaterial refuses ExpirationModel and ValidTo that do not fit together", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client }) => {
    const keyId = await createExternalKey(client);
    const material = randomMaterial(32);
    const wrapped = await wrappedFor(client, keyId, material);
    const attempt = (extra: Partial<ImportKeyMaterialCommandInput>) =>
      errorName(
        client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ...wrapped, ...extra })),
      );
    // KEY_MATERIAL_EXPIRES is the default: it needs a ValidTo.
    assert.equal(await attempt({}), "ValidationException");
    assert.equal(await attempt({ ExpirationModel: "KEY_MATERIAL_EXPIRES" }), "ValidationException");
    assert.equal(
      await attempt({
        ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
        ValidTo: new Date(clock.now() + DAY),
      }),
      "ValidationException",
    );
    assert.equal(await attempt({ ValidTo: new Date(clock.now() - 1000) }), "ValidationException");
    assert.equal(
      await attempt({ ValidTo: new Date(clock.now() + 366 * DAY) }),
      "ValidationException",
    );
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(KeyMetadata!.KeyState, "PendingImport", "nothing changed");
    // Without ExpirationModel, a ValidTo up to 365 days ahead is accepted.
    await client.send(
      new ImportKeyMaterialCommand({
        KeyId: keyId,
        ...wrapped,
        ValidTo: new Date(clock.now() + 365 * DAY - 60_000),
      }),
    );
  }, { clock });
});

Deno.test("import tokens: another key's, a malformed and an expired token are refused as AWS refuses them", async () => {
  const clock = new ManualClock();
  await withServer(async ({ client }) => {
    const keyId = await createExternalKey(client);
    const otherKey = await createExternalKey(client);
    const material = randomMaterial(32);
    const wrapped = await wrappedFor(client, keyId, material);
    const send = (id: string, token: Uint8Array, encrypted = wrapped.EncryptedKeyMaterial) =>
      errorName(
        client.send(
          new ImportKeyMaterialCommand({
            KeyId: id,
            ImportToken: token,
            EncryptedKeyMaterial: encrypted,
            ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
          }),
        ),
      );
    assert.equal(await send(otherKey, wrapped.ImportToken), "InvalidImportTokenException");
    assert.equal(await send(keyId, randomMaterial(57)), "InvalidImportTokenException");
    const forged = wrapped.ImportToken.slice();
    forged[forged.length - 1]! ^= 1;
    assert.equal(await send(keyId, forged), "InvalidImportTokenException");
    // Material that does not unwrap under the token's key.
    const corrupt = wrapped.EncryptedKeyMaterial.slice();
    corrupt[10]! ^= 1;
    assert.equal(await send(keyId, wrapped.ImportToken, corrupt), "InvalidCiphertextException");
    const elsewhere = await wrappedFor(client, otherKey, material);
    assert.equal(
      await send(keyId, wrapped.ImportToken, elsewhere.EncryptedKeyMaterial),
      "InvalidCiphertextException",
    );
    clock.advance(DAY + 1000);
    assert.equal(await send(keyId, wrapped.ImportToken), "ExpiredImportTokenException");
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(KeyMetadata!.KeyState, "PendingImport");
  }, { clock });
});

Deno.test("material of the wrong size and ImportType or KeyMaterialId that contradict the key are IncorrectKeyMaterialException", () =>
  withServer(async ({ client }) => {
    const keyId = await createExternalKey(client);
    assert.equal(
      await errorName(importMaterial(client, keyId, randomMaterial(16))),
      "IncorrectKeyMaterialException",
    );
    const material = randomMaterial(32);
    assert.equal(
      await errorName(
        importMaterial(client, keyId, material, { ImportType: "EXISTING_KEY_MATERIAL" }),
      ),
      "IncorrectKeyMaterialException",
    );
    const first = await importMaterial(client, keyId, material, {
      ImportType: "NEW_KEY_MATERIAL",
      KeyMaterialDescription: "first material",
    });
    assert.equal(
      await errorName(importMaterial(client, keyId, material, { ImportType: "NEW_KEY_MATERIAL" })),
      "IncorrectKeyMaterialException",
    );
    assert.equal(
      await errorName(importMaterial(client, keyId, material, { KeyMaterialId: "0".repeat(64) })),
      "IncorrectKeyMaterialException",
    );
    await importMaterial(client, keyId, material, {
      ImportType: "EXISTING_KEY_MATERIAL",
      KeyMaterialId: first.KeyMaterialId!,
    });
    assert.equal(
      await errorName(
        importMaterial(client, keyId, material, {
          ImportType: "NEW_KEY_MATERIAL",
          KeyMaterialId: first.KeyMaterialId!,
        }),
      ),
      "ValidationException",
    );
  }));

Deno.test("GetParametersForImport refuses RSAES_PKCS1_V1_5, SM2 outside China, keys of other origins and unusable keys", () =>
  withServer(async ({ client }) => {
    const keyId = await createExternalKey(client);
    const ask = (id: string, algorithm: string, spec = "RSA_2048") =>
      errorName(
        client.send(
          new GetParametersForImportCommand({
            KeyId: id,
            WrappingAlgorithm: algorithm as WrappingAlgorithm,
            WrappingKeySpec: spec as WrappingKeySpec,
          }),
        ),
      );
    assert.equal(await ask(keyId, "RSAES_PKCS1_V1_5"), "UnsupportedOperationException");
    assert.equal(await ask(keyId, "SM2PKE", "SM2"), "UnsupportedOperationException");
    assert.equal(await ask(keyId, "RSAES_OAEP_SHA_256", "SM2"), "UnsupportedOperationException");
    assert.equal(await ask(keyId, "RSAES_OAEP_SHA_512"), "ValidationException");
    assert.equal(await ask(crypto.randomUUID(), "RSAES_OAEP_SHA_256"), "NotFoundException");
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    const kmsKey = KeyMetadata!.KeyId!;
    assert.equal(await ask(kmsKey, "RSAES_OAEP_SHA_256"), "UnsupportedOperationException");
    assert.equal(
      await errorName(client.send(new DeleteImportedKeyMaterialCommand({ KeyId: kmsKey }))),
      "UnsupportedOperationException",
    );
    const other = await createExternalKey(client);
    const wrapped = await wrappedFor(client, other, randomMaterial(32));
    assert.equal(
      await errorName(
        client.send(
          new ImportKeyMaterialCommand({
            KeyId: kmsKey,
            ...wrapped,
            ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
          }),
        ),
      ),
      "UnsupportedOperationException",
    );
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    assert.equal(await ask(keyId, "RSAES_OAEP_SHA_256"), "KMSInvalidStateException");
    // A key pending deletion keeps that state when its material goes, and waits for material
    // again when its deletion is cancelled.
    await client.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }));
    const pending = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(pending.KeyMetadata!.KeyState, "PendingDeletion");
    await client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    const cancelled = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(cancelled.KeyMetadata!.KeyState, "PendingImport");
  }));

Deno.test("a multi-Region replica of an imported key takes only its primary's material", () =>
  withServer(async ({ client, clientFor }) => {
    const eu = clientFor({ ...ADMIN }, "eu-west-1");
    const keyId = await createExternalKey(client, { MultiRegion: true });
    const material = randomMaterial(32);
    // AWS's key-state table: ReplicateKey of a primary pending import is X [5].
    assert.equal(
      await errorName(
        client.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" })),
      ),
      "KMSInvalidStateException",
    );
    await importMaterial(client, keyId, material);
    const replicated = await client.send(
      new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" }),
    );
    assert.equal(replicated.ReplicaKeyMetadata?.KeyState, "PendingImport");
    assert.equal(replicated.ReplicaKeyMetadata?.Origin, "EXTERNAL");
    assert.equal(
      await errorName(importMaterial(eu, keyId, randomMaterial(32))),
      "IncorrectKeyMaterialException",
    );
    await importMaterial(eu, keyId, material);
    const described = await eu.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(described.KeyMetadata?.KeyState, "Enabled");
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }),
    );
    const { Plaintext } = await eu.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(Plaintext, PLAINTEXT);
  }, { env: { KMS_REGIONS: "us-east-1,eu-west-1" } }));
