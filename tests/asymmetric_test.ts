/**
 * Sign, Verify and GetPublicKey end to end through the AWS SDK, for every
 * signing key spec and algorithm, with OpenSSL 3.0 as the independent referee
 * of every signature it can check (all but ML-DSA, which it lacks, and
 * Ed25519ph, which it gained in 3.2): ML-DSA signatures are checked with
 * @noble/post-quantum, Ed25519ph with the RFC 8032 §5.1.7 equation written
 * out below.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  type MessageType,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
} from "@aws-sdk/client-kms";
import { ed25519 } from "@noble/curves/ed25519.js";
import { shake256 } from "@noble/hashes/sha3.js";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { sm2Digest } from "../core/crypto/sm2.ts";
import { runOpenssl, SM2_DEFAULT_DISTID } from "./helpers/openssl.ts";
import { ACCOUNT_ID, errorName, REGION, withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

const RSA_ALGORITHMS: SigningAlgorithmSpec[] = [
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
];

/** Each signing key spec, its algorithms as AWS lists them, and what OpenSSL prints for its key. */
const SIGNING_SPECS: [KeySpec, SigningAlgorithmSpec[], RegExp | undefined][] = [
  ["RSA_2048", RSA_ALGORITHMS, /Public-Key: \(2048 bit\)/],
  ["ECC_NIST_P256", ["ECDSA_SHA_256"], /ASN1 OID: prime256v1/],
  ["ECC_NIST_P384", ["ECDSA_SHA_384"], /ASN1 OID: secp384r1/],
  ["ECC_NIST_P521", ["ECDSA_SHA_512"], /ASN1 OID: secp521r1/],
  ["ECC_SECG_P256K1", ["ECDSA_SHA_256"], /ASN1 OID: secp256k1/],
  ["SM2", ["SM2DSA"], /ASN1 OID: SM2/],
  ["ECC_NIST_EDWARDS25519", ["ED25519_SHA_512", "ED25519_PH_SHA_512"], /ED25519 Public-Key/],
  ["ML_DSA_44", ["ML_DSA_SHAKE_256"], undefined],
  ["ML_DSA_65", ["ML_DSA_SHAKE_256"], undefined],
  ["ML_DSA_87", ["ML_DSA_SHAKE_256"], undefined],
];

const ML_DSA = {
  ML_DSA_44: { dsa: ml_dsa44, oid: "0609608648016503040311", publicKeyBytes: 1312 },
  ML_DSA_65: { dsa: ml_dsa65, oid: "0609608648016503040312", publicKeyBytes: 1952 },
  ML_DSA_87: { dsa: ml_dsa87, oid: "0609608648016503040313", publicKeyBytes: 2592 },
} as const;
type MlDsaSpec = keyof typeof ML_DSA;

function isMlDsa(spec: KeySpec): spec is MlDsaSpec {
  return spec in ML_DSA;
}

const MESSAGE = new TextEncoder().encode("signed by a KMS key, checked by someone else\n");

async function createKey(
  client: KMSClient,
  KeySpec: KeySpec,
  KeyUsage: KeyUsageType = "SIGN_VERIFY",
): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
  return KeyMetadata!.Arn!;
}

/** The hash OpenSSL names for an AWS algorithm (SM2DSA: SM3). */
function hashOf(algorithm: SigningAlgorithmSpec): "sha256" | "sha384" | "sha512" | "sm3" {
  if (algorithm === "SM2DSA") return "sm3";
  return algorithm.endsWith("256") ? "sha256" : algorithm.endsWith("384") ? "sha384" : "sha512";
}

/** The DIGEST a caller sends for `message`: SHA-x(M), or e = SM3(Z_A || M) for SM2DSA. */
function digestOf(algorithm: SigningAlgorithmSpec, spki: Uint8Array, message: Uint8Array) {
  if (algorithm === "SM2DSA") return sm2Digest(spki.subarray(-65), message, SM2_DEFAULT_DISTID);
  return new Uint8Array(createHash(hashOf(algorithm)).update(message).digest());
}

/** The message types AWS lets `algorithm` take besides RAW (EXTERNAL_MU has its own test). */
function takesDigest(algorithm: SigningAlgorithmSpec): boolean {
  return algorithm !== "ED25519_SHA_512" && algorithm !== "ML_DSA_SHAKE_256";
}

/** Whether OpenSSL 3.0 accepts `signature` over `message` under the DER SPKI `spki`. */
async function opensslVerifies(
  algorithm: SigningAlgorithmSpec,
  spki: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const cwd = await Deno.makeTempDir({ prefix: "asymmetric_test_" });
  try {
    await Deno.writeFile(`${cwd}/pub.der`, spki);
    await Deno.writeFile(`${cwd}/msg`, message);
    await Deno.writeFile(`${cwd}/sig`, signature);
    const key = ["-keyform", "DER"];
    const args = algorithm === "ED25519_SHA_512"
      ? ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.der", ...key, "-rawin", "-in", "msg"]
        .concat(["-sigfile", "sig"])
      : ["dgst", `-${hashOf(algorithm)}`, "-verify", "pub.der", ...key, ...sigopts(algorithm)]
        .concat(["-signature", "sig", "msg"]);
    return (await runOpenssl(args, { cwd })).code === 0;
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

function sigopts(algorithm: SigningAlgorithmSpec): string[] {
  if (algorithm === "SM2DSA") return ["-sigopt", `distid:${SM2_DEFAULT_DISTID}`];
  if (!algorithm.startsWith("RSASSA_PSS")) return [];
  // AWS's PSS salt is as long as the digest; "digest" makes OpenSSL insist on that length.
  return ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"];
}

/**
 * Ed25519ph verification written from RFC 8032 §5.1.7 with an empty context:
 * [S]B = R + [k]A with k = SHA-512(dom2(1, "") || R || A || SHA-512(M)) mod L.
 */
function ed25519phVerifies(spki: Uint8Array, message: Uint8Array, signature: Uint8Array) {
  const { Point } = ed25519;
  const publicKey = spki.subarray(-32);
  const [r, s] = [signature.subarray(0, 32), signature.subarray(32)];
  const order = Point.Fn.ORDER;
  const littleEndian = (bytes: Uint8Array) => BigInt(`0x${bytes.toReversed().toHex()}`);
  const sValue = littleEndian(s);
  if (signature.length !== 64 || sValue >= order) return false;
  const dom2 = Uint8Array.of(...new TextEncoder().encode("SigEd25519 no Ed25519 collisions"), 1, 0);
  const prehash = createHash("sha512").update(message).digest();
  const k = littleEndian(
    createHash("sha512").update(dom2).update(r).update(publicKey).update(prehash).digest(),
  ) % order;
  const left = Point.BASE.multiply(sValue);
  const right = Point.fromBytes(r).add(Point.fromBytes(publicKey).multiply(k));
  return left.equals(right);
}

/** Checks `signature` offline, by OpenSSL where it can, else as described at the top. */
async function verifiesOffline(
  spec: KeySpec,
  algorithm: SigningAlgorithmSpec,
  spki: Uint8Array,
  signed: { message: Uint8Array; signature: Uint8Array },
): Promise<boolean> {
  const { message, signature } = signed;
  if (isMlDsa(spec)) {
    const { dsa, publicKeyBytes } = ML_DSA[spec];
    return dsa.verify(signature, message, spki.subarray(-publicKeyBytes));
  }
  if (algorithm === "ED25519_PH_SHA_512") return ed25519phVerifies(spki, message, signature);
  return await opensslVerifies(algorithm, spki, message, signature);
}

async function sign(
  client: KMSClient,
  KeyId: string,
  SigningAlgorithm: SigningAlgorithmSpec,
  Message: Uint8Array,
  MessageType: MessageType = "RAW",
): Promise<Uint8Array> {
  const reply = await client.send(
    new SignCommand({ KeyId, Message, MessageType, SigningAlgorithm }),
  );
  assert.deepEqual(
    Object.keys(reply).filter((name) => name !== "$metadata").sort(),
    ["KeyId", "Signature", "SigningAlgorithm"],
  );
  assert.equal(reply.SigningAlgorithm, SigningAlgorithm);
  return reply.Signature!;
}

async function verify(
  client: KMSClient,
  KeyId: string,
  SigningAlgorithm: SigningAlgorithmSpec,
  signed: { message: Uint8Array; signature: Uint8Array; messageType?: MessageType },
): Promise<void> {
  const reply = await client.send(
    new VerifyCommand({
      KeyId,
      Message: signed.message,
      MessageType: signed.messageType ?? "RAW",
      Signature: signed.signature,
      SigningAlgorithm,
    }),
  );
  assert.deepEqual(
    { KeyId: reply.KeyId, SignatureValid: reply.SignatureValid, Alg: reply.SigningAlgorithm },
    { KeyId, SignatureValid: true, Alg: SigningAlgorithm },
  );
}

async function getPublicKey(client: KMSClient, KeyId: string): Promise<Uint8Array> {
  return (await client.send(new GetPublicKeyCommand({ KeyId }))).PublicKey!;
}

/** Signs RAW (and DIGEST where allowed), verifies with KMS and offline, and refuses a change. */
async function assertSignsAndVerifies(
  client: KMSClient,
  key: { arn: string; spec: KeySpec; algorithms: SigningAlgorithmSpec[] },
): Promise<void> {
  const spki = await getPublicKey(client, key.arn);
  const changed = MESSAGE.with(0, MESSAGE[0]! ^ 1);
  for (const algorithm of key.algorithms) {
    const what = `${key.spec} ${algorithm}`;
    const digest = digestOf(algorithm, spki, MESSAGE);
    const cases: { message: Uint8Array; messageType: MessageType; offline: Uint8Array }[] = [];
    if (algorithm !== "ED25519_PH_SHA_512") {
      cases.push({ message: MESSAGE, messageType: "RAW", offline: MESSAGE });
    }
    if (takesDigest(algorithm)) {
      // Ed25519ph hashes the 64-byte DIGEST again (FIPS 186-5 §7.8.1 step 1): its message is D.
      const offline = algorithm === "ED25519_PH_SHA_512" ? digest : MESSAGE;
      cases.push({ message: digest, messageType: "DIGEST", offline });
    }
    for (const { message, messageType, offline } of cases) {
      const signature = await sign(client, key.arn, algorithm, message, messageType);
      await verify(client, key.arn, algorithm, { message, messageType, signature });
      if (messageType === "DIGEST" && algorithm !== "ED25519_PH_SHA_512") {
        await verify(client, key.arn, algorithm, { message: MESSAGE, signature });
      }
      assert.ok(
        await verifiesOffline(key.spec, algorithm, spki, { message: offline, signature }),
        `${what} ${messageType}: the offline referee rejects the signature`,
      );
      const tampered = messageType === "RAW" ? changed : digest.with(0, digest[0]! ^ 1);
      assert.equal(
        await errorName(
          verify(client, key.arn, algorithm, { message: tampered, messageType, signature }),
        ),
        "KMSInvalidSignatureException",
        `${what} ${messageType}: a changed message`,
      );
      assert.equal(
        await verifiesOffline(key.spec, algorithm, spki, {
          message: offline === MESSAGE ? changed : offline.with(0, offline[0]! ^ 1),
          signature,
        }),
        false,
        `${what}: the offline referee accepts a changed message`,
      );
    }
  }
}

Deno.test("Sign and Verify work with every signing key spec and algorithm, RAW and DIGEST, and the signatures verify offline with GetPublicKey's key", () =>
  withServer(async ({ client }) => {
    const keys = await Promise.all(
      SIGNING_SPECS.map(async ([spec, algorithms]) => ({
        arn: await createKey(client, spec),
        spec,
        algorithms,
      })),
    );
    for (const key of keys) await assertSignsAndVerifies(client, key);
  }, SM2_EVERYWHERE));

Deno.test("Sign and Verify work with RSA_3072 and RSA_4096 keys, and OpenSSL verifies their signatures", () =>
  withServer(async ({ client }) => {
    const keys = await Promise.all(
      (["RSA_3072", "RSA_4096"] as const).map(async (spec) => ({
        arn: await createKey(client, spec),
        spec,
        algorithms: spec === "RSA_3072"
          ? ["RSASSA_PSS_SHA_384", "RSASSA_PKCS1_V1_5_SHA_256"] as SigningAlgorithmSpec[]
          : ["RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_384"] as SigningAlgorithmSpec[],
      })),
    );
    for (const key of keys) await assertSignsAndVerifies(client, key);
  }, SM2_EVERYWHERE));

Deno.test("ML-DSA Sign with EXTERNAL_MU, μ = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64), gives a signature of M", () =>
  withServer(async ({ client }) => {
    for (const spec of Object.keys(ML_DSA) as MlDsaSpec[]) {
      const arn = await createKey(client, spec);
      const { dsa, publicKeyBytes } = ML_DSA[spec];
      const publicKey = (await getPublicKey(client, arn)).subarray(-publicKeyBytes);
      const tr = shake256(publicKey, { dkLen: 64 });
      const mu = shake256(Uint8Array.of(...tr, 0, 0, ...MESSAGE), { dkLen: 64 });
      const signature = await sign(client, arn, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU");
      await verify(client, arn, "ML_DSA_SHAKE_256", { message: MESSAGE, signature });
      await verify(client, arn, "ML_DSA_SHAKE_256", {
        message: mu,
        messageType: "EXTERNAL_MU",
        signature,
      });
      assert.ok(dsa.verify(signature, MESSAGE, publicKey), `${spec}: noble rejects it`);
      const raw = await sign(client, arn, "ML_DSA_SHAKE_256", MESSAGE);
      await verify(client, arn, "ML_DSA_SHAKE_256", {
        message: mu,
        messageType: "EXTERNAL_MU",
        signature: raw,
      });
      assert.equal(
        await errorName(
          sign(client, arn, "ML_DSA_SHAKE_256", mu.subarray(1), "EXTERNAL_MU"),
        ),
        "ValidationException",
        "a μ of 63 bytes",
      );
    }
  }, SM2_EVERYWHERE));

/** Each asymmetric spec and usage, with the one algorithm list GetPublicKey returns for it. */
const PUBLIC_KEY_CASES: [KeySpec, KeyUsageType, Record<string, string[]>][] = [
  ["RSA_2048", "ENCRYPT_DECRYPT", {
    EncryptionAlgorithms: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
  }],
  ["ECC_NIST_P256", "KEY_AGREEMENT", { KeyAgreementAlgorithms: ["ECDH"] }],
  ["SM2", "ENCRYPT_DECRYPT", { EncryptionAlgorithms: ["SM2PKE"] }],
  ["SM2", "KEY_AGREEMENT", { KeyAgreementAlgorithms: ["ECDH"] }],
  ...SIGNING_SPECS.filter(([spec]) => spec !== "RSA_2048").map((
    [spec, algorithms],
  ): [KeySpec, KeyUsageType, Record<string, string[]>] => [spec, "SIGN_VERIFY", {
    SigningAlgorithms: algorithms,
  }]),
];

Deno.test("GetPublicKey returns a DER SPKI of the key's spec, its usage and only that usage's algorithm list", () =>
  withServer(async ({ client }) => {
    const texts = new Map(SIGNING_SPECS.map(([spec, , text]) => [spec, text]));
    texts.set("RSA_2048", /Public-Key: \(2048 bit\)/);
    for (const [spec, usage, lists] of PUBLIC_KEY_CASES) {
      const arn = await createKey(client, spec, usage);
      const reply = await client.send(new GetPublicKeyCommand({ KeyId: arn }));
      const { $metadata: _, PublicKey, ...fields } = reply;
      assert.deepEqual(fields, {
        KeyId: arn,
        CustomerMasterKeySpec: spec,
        KeySpec: spec,
        KeyUsage: usage,
        ...lists,
      });
      const text = texts.get(spec);
      if (text === undefined) {
        // OpenSSL 3.0 has no ML-DSA: check the SPKI's algorithm OID and size instead.
        const { oid, publicKeyBytes } = ML_DSA[spec as MlDsaSpec];
        assert.equal(PublicKey!.subarray(4, 17).toHex(), `300b${oid}`);
        assert.equal(PublicKey!.length, 22 + publicKeyBytes);
        continue;
      }
      const parsed = await runOpenssl(["pkey", "-pubin", "-inform", "DER", "-noout", "-text"], {
        stdin: PublicKey!,
      });
      assert.equal(parsed.code, 0, `${spec}: ${parsed.stderr}`);
      assert.match(new TextDecoder().decode(parsed.stdout), text, spec);
    }
  }, SM2_EVERYWHERE));

Deno.test("GetPublicKey refuses symmetric and HMAC keys with UnsupportedOperationException", () =>
  withServer(async ({ client }) => {
    const symmetric = await createKey(client, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    const hmac = await createKey(client, "HMAC_256", "GENERATE_VERIFY_MAC");
    for (const KeyId of [symmetric, hmac]) {
      assert.equal(
        await errorName(client.send(new GetPublicKeyCommand({ KeyId }))),
        "UnsupportedOperationException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("Sign, Verify and GetPublicKey accept a key id, key ARN, alias name or alias ARN and answer with the key ARN", () =>
  withServer(async ({ client }) => {
    const arn = await createKey(client, "ECC_NIST_P256");
    const keyId = arn.split("/")[1]!;
    await client.send(new CreateAliasCommand({ AliasName: "alias/signer", TargetKeyId: keyId }));
    const aliasArn = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/signer`;
    for (const KeyId of [keyId, arn, "alias/signer", aliasArn]) {
      const signed = await client.send(
        new SignCommand({ KeyId, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_256" }),
      );
      assert.equal(signed.KeyId, arn);
      const verified = await client.send(
        new VerifyCommand({
          KeyId,
          Message: MESSAGE,
          Signature: signed.Signature!,
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      );
      assert.equal(verified.KeyId, arn);
      assert.equal((await client.send(new GetPublicKeyCommand({ KeyId }))).KeyId, arn);
    }
  }, SM2_EVERYWHERE));

Deno.test("Sign and Verify refuse a wrong algorithm or key usage with InvalidKeyUsageException", () =>
  withServer(async ({ client }) => {
    const p256 = await createKey(client, "ECC_NIST_P256");
    const ed25519Key = await createKey(client, "ECC_NIST_EDWARDS25519");
    const rsaEncryption = await createKey(client, "RSA_2048", "ENCRYPT_DECRYPT");
    const symmetric = await createKey(client, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    const agreement = await createKey(client, "ECC_NIST_P256", "KEY_AGREEMENT");
    const hmac = await createKey(client, "HMAC_256", "GENERATE_VERIFY_MAC");
    const cases: [string, SigningAlgorithmSpec][] = [
      [p256, "ECDSA_SHA_384"],
      [p256, "RSASSA_PSS_SHA_256"],
      [p256, "SM2DSA"],
      [ed25519Key, "ML_DSA_SHAKE_256"],
      [rsaEncryption, "RSASSA_PSS_SHA_256"],
      [symmetric, "ECDSA_SHA_256"],
      [agreement, "ECDSA_SHA_256"],
      [hmac, "ECDSA_SHA_256"],
    ];
    const signature = await sign(client, p256, "ECDSA_SHA_256", MESSAGE);
    for (const [KeyId, SigningAlgorithm] of cases) {
      const request = { KeyId, Message: MESSAGE, SigningAlgorithm };
      assert.equal(
        await errorName(client.send(new SignCommand(request))),
        "InvalidKeyUsageException",
        `Sign ${SigningAlgorithm}`,
      );
      assert.equal(
        await errorName(client.send(new VerifyCommand({ ...request, Signature: signature }))),
        "InvalidKeyUsageException",
        `Verify ${SigningAlgorithm}`,
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("Sign and Verify refuse a message type or length the algorithm does not take with ValidationException", () =>
  withServer(async ({ client }) => {
    const keys = {
      ed25519: await createKey(client, "ECC_NIST_EDWARDS25519"),
      p384: await createKey(client, "ECC_NIST_P384"),
      sm2: await createKey(client, "SM2"),
      mlDsa: await createKey(client, "ML_DSA_44"),
    };
    const cases: [string, SigningAlgorithmSpec, MessageType, number][] = [
      [keys.ed25519, "ED25519_PH_SHA_512", "RAW", 64],
      [keys.ed25519, "ED25519_SHA_512", "DIGEST", 64],
      [keys.ed25519, "ED25519_PH_SHA_512", "DIGEST", 63],
      [keys.p384, "ECDSA_SHA_384", "DIGEST", 32],
      [keys.p384, "ECDSA_SHA_384", "DIGEST", 49],
      [keys.p384, "ECDSA_SHA_384", "EXTERNAL_MU", 64],
      [keys.sm2, "SM2DSA", "DIGEST", 64],
      [keys.mlDsa, "ML_DSA_SHAKE_256", "DIGEST", 64],
      [keys.mlDsa, "ML_DSA_SHAKE_256", "EXTERNAL_MU", 32],
      [keys.p384, "ECDSA_SHA_384", "RAW", 4097],
      [keys.p384, "ECDSA_SHA_384", "RAW", 0],
    ];
    for (const [KeyId, SigningAlgorithm, MessageType, length] of cases) {
      const request = { KeyId, Message: new Uint8Array(length), MessageType, SigningAlgorithm };
      const what = `${SigningAlgorithm} ${MessageType} of ${length} bytes`;
      assert.equal(
        await errorName(client.send(new SignCommand(request))),
        "ValidationException",
        `Sign ${what}`,
      );
      assert.equal(
        await errorName(
          client.send(new VerifyCommand({ ...request, Signature: new Uint8Array(64) })),
        ),
        "ValidationException",
        `Verify ${what}`,
      );
    }
    const base = { KeyId: keys.p384, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_384" } as const;
    for (const Signature of [new Uint8Array(0), new Uint8Array(6145)]) {
      assert.equal(
        await errorName(client.send(new VerifyCommand({ ...base, Signature }))),
        "ValidationException",
        `a Signature of ${Signature.length} bytes`,
      );
    }
    const unknownAlgorithm = { ...base, SigningAlgorithm: "ECDSA_SHA_1" as SigningAlgorithmSpec };
    assert.equal(
      await errorName(client.send(new SignCommand(unknownAlgorithm))),
      "ValidationException",
    );
    const tooManyTokens = { ...base, GrantTokens: Array.from({ length: 11 }, () => "token") };
    assert.equal(
      await errorName(client.send(new SignCommand(tooManyTokens))),
      "ValidationException",
    );
  }, SM2_EVERYWHERE));

Deno.test("Verify refuses a signature from another key, a malformed one and one made with another algorithm with KMSInvalidSignatureException", () =>
  withServer(async ({ client }) => {
    const signer = await createKey(client, "ECC_NIST_P256");
    const other = await createKey(client, "ECC_NIST_P256");
    const rsa = await createKey(client, "RSA_2048");
    const signature = await sign(client, signer, "ECDSA_SHA_256", MESSAGE);
    const pss = await sign(client, rsa, "RSASSA_PSS_SHA_256", MESSAGE);
    const cases: [string, SigningAlgorithmSpec, Uint8Array][] = [
      [other, "ECDSA_SHA_256", signature],
      [signer, "ECDSA_SHA_256", signature.subarray(1)],
      [signer, "ECDSA_SHA_256", new Uint8Array(64).fill(1)],
      [rsa, "RSASSA_PKCS1_V1_5_SHA_256", pss],
      [rsa, "RSASSA_PSS_SHA_384", pss],
    ];
    for (const [KeyId, SigningAlgorithm, Signature] of cases) {
      assert.equal(
        await errorName(
          client.send(new VerifyCommand({ KeyId, Message: MESSAGE, Signature, SigningAlgorithm })),
        ),
        "KMSInvalidSignatureException",
        SigningAlgorithm,
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("Sign, Verify and GetPublicKey follow the key state: DisabledException, KMSInvalidStateException, NotFoundException", () =>
  withServer(async ({ client }) => {
    const KeyId = await createKey(client, "ECC_NIST_P256");
    const Signature = await sign(client, KeyId, "ECDSA_SHA_256", MESSAGE);
    const calls = (id: string) => [
      () =>
        client.send(
          new SignCommand({ KeyId: id, Message: MESSAGE, SigningAlgorithm: "ECDSA_SHA_256" }),
        ),
      () =>
        client.send(
          new VerifyCommand({
            KeyId: id,
            Message: MESSAGE,
            Signature,
            SigningAlgorithm: "ECDSA_SHA_256",
          }),
        ),
      () => client.send(new GetPublicKeyCommand({ KeyId: id })),
    ];
    await client.send(new DisableKeyCommand({ KeyId }));
    for (const call of calls(KeyId)) assert.equal(await errorName(call()), "DisabledException");
    await client.send(new EnableKeyCommand({ KeyId }));
    for (const call of calls(KeyId)) await call();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    for (const call of calls(KeyId)) {
      assert.equal(await errorName(call()), "KMSInvalidStateException");
    }
    const unknown = KeyId.replace(/key\/.*/, `key/${crypto.randomUUID()}`);
    for (const call of calls(unknown)) assert.equal(await errorName(call()), "NotFoundException");
    for (const call of calls("alias/none")) {
      assert.equal(await errorName(call()), "NotFoundException");
    }
  }, SM2_EVERYWHERE));

Deno.test("Sign and Verify with DryRun answer DryRunOperationException when they would succeed, else the real error", () =>
  withServer(async ({ client }) => {
    const KeyId = await createKey(client, "ECC_NIST_P256");
    const Signature = await sign(client, KeyId, "ECDSA_SHA_256", MESSAGE);
    const request = {
      KeyId,
      Message: MESSAGE,
      SigningAlgorithm: "ECDSA_SHA_256",
      DryRun: true,
    } as const;
    assert.equal(
      await errorName(client.send(new SignCommand(request))),
      "DryRunOperationException",
    );
    assert.equal(
      await errorName(client.send(new VerifyCommand({ ...request, Signature }))),
      "DryRunOperationException",
    );
    const wrongAlgorithm = { ...request, SigningAlgorithm: "ECDSA_SHA_512" } as const;
    assert.equal(
      await errorName(client.send(new SignCommand(wrongAlgorithm))),
      "InvalidKeyUsageException",
    );
    const shortDigest = { ...request, MessageType: "DIGEST", Message: new Uint8Array(31) } as const;
    assert.equal(await errorName(client.send(new SignCommand(shortDigest))), "ValidationException");
    await client.send(new DisableKeyCommand({ KeyId }));
    assert.equal(await errorName(client.send(new SignCommand(request))), "DisabledException");
    assert.equal(
      await errorName(client.send(new VerifyCommand({ ...request, Signature }))),
      "DisabledException",
    );
  }, SM2_EVERYWHERE));
