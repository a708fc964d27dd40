/**
 * DeriveSharedSecret end to end through the AWS SDK, following AWS's
 * workflow: the KMS key's public key comes from GetPublicKey, and the referee
 * is the peer's side of ECDH computed outside the KMS: `openssl pkeyutl
 * -derive` for the NIST curves; for SM2 (OpenSSL 3.0 refuses ECDH on SM2
 * keys) the peer's scalar times the KMS key's public point with
 * @noble/curves, with OpenSSL checking that both public keys are valid points
 * of its own SM2 curve.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeriveSharedSecretCommand,
  type DeriveSharedSecretCommandInput,
  DisableKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  type RecipientInfo,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { encodeEcSpki, parseSpki } from "../core/crypto/key_encoding.ts";
import { SM2_CURVE, Sm2Point } from "../core/crypto/sm2_curve.ts";
import { flipByte, TestAttestationPki } from "./helpers/attestation.ts";
import { newEnclave, openInEnclave } from "./helpers/enclave.ts";
import { runOpenssl } from "./helpers/openssl.ts";
import { errorName, withServer } from "./helpers/server.ts";

/** SM2 keys and data key pairs outside China Regions need the switch (core/region_profile.ts). */
const SM2_EVERYWHERE = { env: { KMS_SM2_ALL_REGIONS: "true" } };

type Curve = "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" | "SM2";

const OPENSSL_CURVE: Readonly<Record<Exclude<Curve, "SM2">, string>> = {
  ECC_NIST_P256: "P-256",
  ECC_NIST_P384: "P-384",
  ECC_NIST_P521: "P-521",
};

const SECRET_BYTES: Readonly<Record<Curve, number>> = {
  ECC_NIST_P256: 32,
  ECC_NIST_P384: 48,
  ECC_NIST_P521: 66,
  SM2: 32,
};

async function newKey(
  client: KMSClient,
  KeySpec: KeySpec,
  KeyUsage: KeyUsageType = "KEY_AGREEMENT",
): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
  return KeyMetadata!.KeyId!;
}

function keyArn(keyId: string): string {
  return `arn:aws:kms:us-east-1:111122223333:key/${keyId}`;
}

/** The KMS key's public key (DER SPKI), as GetPublicKey gives it out. */
async function kmsPublicKey(client: KMSClient, keyId: string): Promise<Uint8Array> {
  const { PublicKey, KeyUsage, KeyAgreementAlgorithms } = await client.send(
    new GetPublicKeyCommand({ KeyId: keyId }),
  );
  assert.equal(KeyAgreementAlgorithms?.[0] === "ECDH", KeyUsage === "KEY_AGREEMENT");
  return PublicKey!;
}

/** A peer key pair outside the KMS: its SPKI, and how the peer derives with a public key. */
interface Peer {
  spki: Uint8Array;
  derive(publicKeySpki: Uint8Array): Promise<Uint8Array>;
}

/** A NIST-curve peer made and used by OpenSSL. */
async function opensslPeer(dir: string, curve: Exclude<Curve, "SM2">): Promise<Peer> {
  const keyFile = `${dir}/${curve}.pem`;
  const gen = await runOpenssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    `ec_paramgen_curve:${OPENSSL_CURVE[curve]}`,
    "-out",
    keyFile,
  ]);
  assert.equal(gen.code, 0, gen.stderr);
  const pub = await runOpenssl(["pkey", "-in", keyFile, "-pubout", "-outform", "DER"]);
  assert.equal(pub.code, 0, pub.stderr);
  return {
    spki: pub.stdout,
    async derive(publicKeySpki) {
      const peerFile = `${dir}/${crypto.randomUUID()}.der`;
      await Deno.writeFile(peerFile, publicKeySpki);
      const args = ["pkeyutl", "-derive", "-inkey", keyFile, "-peerkey", peerFile];
      const derived = await runOpenssl([...args, "-peerform", "DER"]);
      assert.equal(derived.code, 0, derived.stderr);
      return derived.stdout;
    },
  };
}

/** An SM2 peer: a random scalar, its point encoded as SPKI, ECDH with @noble/curves. */
function sm2Peer(): Peer {
  const d = bytesToNumberBE(crypto.getRandomValues(new Uint8Array(48))) % (SM2_CURVE.n - 1n) + 1n;
  return {
    spki: encodeEcSpki("SM2", Sm2Point.BASE.multiply(d).toBytes(false)),
    derive(publicKeySpki) {
      const info = parseSpki(publicKeySpki);
      assert.ok(info.type === "EC" && info.curve === "SM2");
      return Promise.resolve(
        Sm2Point.fromBytes(info.point).multiply(d).toBytes(false).slice(1, 33),
      );
    },
  };
}

/** OpenSSL reads the DER SPKI as a valid public key (`pkey -pubcheck`). */
async function assertOpensslAcceptsPublicKey(spki: Uint8Array): Promise<void> {
  const checked = await runOpenssl(["pkey", "-pubin", "-inform", "DER", "-pubcheck", "-noout"], {
    stdin: spki,
  });
  assert.equal(checked.code, 0, checked.stderr);
}

function peerFor(dir: string, curve: Curve): Promise<Peer> {
  return curve === "SM2" ? Promise.resolve(sm2Peer()) : opensslPeer(dir, curve);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ecdh-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function derive(client: KMSClient, input: Partial<DeriveSharedSecretCommandInput>) {
  return client.send(
    new DeriveSharedSecretCommand({
      KeyId: "",
      PublicKey: new Uint8Array(),
      KeyAgreementAlgorithm: "ECDH",
      ...input,
    }),
  );
}

/** An uncompressed-point SPKI whose point is moved off the curve (last byte of y flipped). */
function offCurve(spki: Uint8Array): Uint8Array {
  return flipByte(spki, spki.length - 1);
}

const CURVES: readonly Curve[] = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "SM2"];

Deno.test("DeriveSharedSecret on every curve equals the secret the peer derives from its private key and the KMS key's public key", () =>
  withTempDir((dir) =>
    withServer(async ({ client }) => {
      for (const curve of CURVES) {
        const keyId = await newKey(client, curve);
        const peer = await peerFor(dir, curve);
        const out = await derive(client, { KeyId: keyId, PublicKey: peer.spki });
        assert.equal(out.KeyId, keyArn(keyId));
        assert.equal(out.KeyAgreementAlgorithm, "ECDH");
        assert.equal(out.KeyOrigin, "AWS_KMS");
        assert.equal(out.CiphertextForRecipient, undefined);
        assert.equal(out.SharedSecret!.length, SECRET_BYTES[curve], curve);
        const kmsSpki = await kmsPublicKey(client, keyId);
        if (curve === "SM2") {
          await assertOpensslAcceptsPublicKey(kmsSpki);
          await assertOpensslAcceptsPublicKey(peer.spki);
        }
        assert.deepEqual(out.SharedSecret, await peer.derive(kmsSpki), curve);
      }
    }, SM2_EVERYWHERE)
  ));

Deno.test("DeriveSharedSecret gives two KMS key pairs on one curve the same secret from each other's public keys", () =>
  withServer(async ({ client }) => {
    for (const curve of ["ECC_NIST_P384", "SM2"] as const) {
      const [alice, bob] = [await newKey(client, curve), await newKey(client, curve)];
      const fromAlice = await derive(client, {
        KeyId: alice,
        PublicKey: await kmsPublicKey(client, bob),
      });
      const fromBob = await derive(client, {
        KeyId: bob,
        PublicKey: await kmsPublicKey(client, alice),
      });
      assert.deepEqual(fromAlice.SharedSecret, fromBob.SharedSecret, curve);
    }
  }, SM2_EVERYWHERE));

Deno.test("DeriveSharedSecret refuses a peer key on another curve, off the curve, or not DER SPKI with ValidationException", () =>
  withTempDir((dir) =>
    withServer(async ({ client }) => {
      const p256 = await newKey(client, "ECC_NIST_P256");
      const sm2 = await newKey(client, "SM2");
      const p256Peer = (await opensslPeer(dir, "ECC_NIST_P256")).spki;
      const p384Peer = (await opensslPeer(dir, "ECC_NIST_P384")).spki;
      const sm2PeerKey = sm2Peer().spki;
      const ed25519 = await runOpenssl(["genpkey", "-algorithm", "ED25519", "-outform", "DER"]);
      const ed25519Spki = await runOpenssl(
        ["pkey", "-inform", "DER", "-pubout", "-outform", "DER"],
        {
          stdin: ed25519.stdout,
        },
      );
      const cases: [string, string, Uint8Array][] = [
        ["P-384 peer for a P-256 key", p256, p384Peer],
        ["SM2 peer for a P-256 key", p256, sm2PeerKey],
        ["P-256 peer for an SM2 key", sm2, p256Peer],
        ["off-curve P-256 point", p256, offCurve(p256Peer)],
        ["off-curve SM2 point", sm2, offCurve(sm2PeerKey)],
        ["Ed25519 SPKI", p256, ed25519Spki.stdout],
        ["garbage", p256, new TextEncoder().encode("not a public key")],
        ["trailing byte", p256, new Uint8Array([...p256Peer, 0])],
        ["truncated", p256, p256Peer.subarray(0, p256Peer.length - 1)],
        ["8193 bytes", p256, new Uint8Array(8193)],
      ];
      for (const [label, KeyId, PublicKey] of cases) {
        assert.equal(
          await errorName(derive(client, { KeyId, PublicKey })),
          "ValidationException",
          label,
        );
      }
    }, SM2_EVERYWHERE)
  ));

Deno.test("DeriveSharedSecret refuses keys whose usage is not KEY_AGREEMENT with InvalidKeyUsageException", () =>
  withServer(async ({ client }) => {
    const peer = sm2Peer().spki;
    const signing = await newKey(client, "ECC_NIST_P256", "SIGN_VERIFY");
    const nistPeer = await kmsPublicKey(client, signing);
    const keys: [string, Uint8Array][] = [
      [signing, nistPeer],
      [await newKey(client, "SM2", "SIGN_VERIFY"), peer],
      [await newKey(client, "SM2", "ENCRYPT_DECRYPT"), peer],
      [await newKey(client, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), nistPeer],
      [await newKey(client, "HMAC_256", "GENERATE_VERIFY_MAC"), nistPeer],
    ];
    for (const [KeyId, PublicKey] of keys) {
      assert.equal(
        await errorName(derive(client, { KeyId, PublicKey })),
        "InvalidKeyUsageException",
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("DeriveSharedSecret on a disabled key gives DisabledException, pending deletion KMSInvalidStateException, unknown NotFoundException", () =>
  withServer(async ({ client }) => {
    const PublicKey = sm2Peer().spki;
    const disabled = await newKey(client, "SM2");
    await client.send(new DisableKeyCommand({ KeyId: disabled }));
    const pending = await newKey(client, "SM2");
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: pending, PendingWindowInDays: 7 }));
    const cases: [string, string][] = [
      [disabled, "DisabledException"],
      [pending, "KMSInvalidStateException"],
      ["11111111-2222-3333-4444-555555555555", "NotFoundException"],
      ["alias/none", "NotFoundException"],
    ];
    for (const [KeyId, expected] of cases) {
      assert.equal(await errorName(derive(client, { KeyId, PublicKey })), expected, KeyId);
    }
  }, SM2_EVERYWHERE));

Deno.test("DeriveSharedSecret with DryRun gives DryRunOperationException, or the error the real call would give", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "SM2");
    const PublicKey = sm2Peer().spki;
    const dryRun = (input: Partial<DeriveSharedSecretCommandInput>) =>
      errorName(derive(client, { KeyId: keyId, PublicKey, DryRun: true, ...input }));
    assert.equal(await dryRun({}), "DryRunOperationException");
    assert.equal(await dryRun({ PublicKey: offCurve(PublicKey) }), "ValidationException");
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(await dryRun({}), "DisabledException");
  }, SM2_EVERYWHERE));

Deno.test("DeriveSharedSecret accepts an alias and an alias ARN, and enforces its field constraints", () =>
  withServer(async ({ client }) => {
    const keyId = await newKey(client, "SM2");
    await client.send(new CreateAliasCommand({ AliasName: "alias/agree", TargetKeyId: keyId }));
    const PublicKey = sm2Peer().spki;
    const expected = (await derive(client, { KeyId: keyId, PublicKey })).SharedSecret;
    for (const KeyId of ["alias/agree", "arn:aws:kms:us-east-1:111122223333:alias/agree"]) {
      const out = await derive(client, { KeyId, PublicKey });
      assert.equal(out.KeyId, keyArn(keyId));
      assert.deepEqual(out.SharedSecret, expected);
    }
    const bad: Partial<DeriveSharedSecretCommandInput>[] = [
      { KeyAgreementAlgorithm: "ECDH_COFACTOR" as "ECDH" },
      { PublicKey: new Uint8Array() },
      { GrantTokens: Array.from({ length: 11 }, (_, i) => `token-${i}`) },
      { KeyId: "" },
    ];
    for (const change of bad) {
      assert.equal(
        await errorName(derive(client, { KeyId: keyId, PublicKey, ...change })),
        "ValidationException",
        JSON.stringify(Object.keys(change)),
      );
    }
  }, SM2_EVERYWHERE));

Deno.test("DeriveSharedSecret with Recipient returns the shared secret only sealed to the attested enclave", async () => {
  const pki = await TestAttestationPki.create();
  await withTempDir(async (dir) => {
    const enclave = await newEnclave(dir);
    await withServer(async ({ client }) => {
      const keyId = await newKey(client, "ECC_NIST_P256");
      const peer = await opensslPeer(dir, "ECC_NIST_P256");
      const input = { KeyId: keyId, PublicKey: peer.spki };
      const Recipient: RecipientInfo = {
        KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256",
        AttestationDocument: await pki.makeAttestationDocument({ publicKey: enclave.spki }),
      };
      const sealed = await derive(client, { ...input, Recipient });
      assert.equal(sealed.SharedSecret, undefined);
      assert.equal(sealed.KeyId, keyArn(keyId));
      assert.equal(sealed.KeyAgreementAlgorithm, "ECDH");
      assert.equal(sealed.KeyOrigin, "AWS_KMS");
      const secret = await openInEnclave(enclave, sealed.CiphertextForRecipient!);
      assert.deepEqual(secret, (await derive(client, input)).SharedSecret);
      assert.equal(
        await errorName(derive(client, { ...input, Recipient, DryRun: true })),
        "DryRunOperationException",
      );
      const forged = {
        ...Recipient,
        AttestationDocument: flipByte(Recipient.AttestationDocument!, 40),
      };
      for (const DryRun of [undefined, true]) {
        assert.equal(
          await errorName(derive(client, { ...input, Recipient: forged, DryRun })),
          "ValidationException",
        );
      }
    }, { env: { KMS_ATTESTATION_ROOTS: pki.rootPem, KMS_SM2_ALL_REGIONS: "true" } });
  });
});
