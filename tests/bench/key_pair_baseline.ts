/**
 * The benchmark baseline of key pair generation: each library's own generate
 * and export, without the OpenSSL-layout encoding core/crypto/key_pairs.ts
 * adds (WebCrypto: generateKey + PKCS#8 + SPKI export; noble: secret + public
 * point; node:crypto: secp256k1 and Ed25519 with DER output, the engines
 * `generateKeyPair` uses; secp256k1 was @noble/curves' `getPublicKey` until
 * the service switched to `node:crypto`, ~25% less CPU a pair). Used by raw_key_pairs.ts and
 * bench_server.ts to compare `generateKeyPair` with it.
 *
 * @module
 */
import { generateKeyPairSync } from "node:crypto";
import { mapHashToField } from "@noble/curves/abstract/modular.js";
import type { DataKeyPairSpec } from "../../core/crypto/key_pairs.ts";
import { Sm2Point } from "../../core/crypto/sm2_curve.ts";

const DER = {
  publicKeyEncoding: { type: "spki", format: "der" },
  privateKeyEncoding: { type: "pkcs8", format: "der" },
} as const;
const RSA_PUBLIC_EXPONENT = new Uint8Array([0x01, 0x00, 0x01]);

async function webCrypto(algorithm: RsaHashedKeyGenParams | EcKeyGenParams): Promise<void> {
  const pair = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  await crypto.subtle.exportKey("pkcs8", pair.privateKey);
  await crypto.subtle.exportKey("spki", pair.publicKey);
}

function rsa(modulusLength: number): () => Promise<void> {
  return () =>
    webCrypto({
      name: "RSASSA-PKCS1-v1_5",
      modulusLength,
      publicExponent: RSA_PUBLIC_EXPONENT,
      hash: "SHA-256",
    });
}

function sm2(): Promise<unknown> {
  const scalar = mapHashToField(
    crypto.getRandomValues(new Uint8Array(48)),
    Sm2Point.Fn.ORDER - 1n,
  );
  return Promise.resolve(Sm2Point.BASE.multiply(Sm2Point.Fn.fromBytes(scalar)).toBytes(false));
}

const BASELINES: Readonly<Record<DataKeyPairSpec, () => Promise<unknown>>> = {
  RSA_2048: rsa(2048),
  RSA_3072: rsa(3072),
  RSA_4096: rsa(4096),
  ECC_NIST_P256: () => webCrypto({ name: "ECDSA", namedCurve: "P-256" }),
  ECC_NIST_P384: () => webCrypto({ name: "ECDSA", namedCurve: "P-384" }),
  ECC_NIST_P521: () => webCrypto({ name: "ECDSA", namedCurve: "P-521" }),
  ECC_SECG_P256K1: () =>
    Promise.resolve(generateKeyPairSync("ec", { namedCurve: "secp256k1", ...DER })),
  SM2: sm2,
  ECC_NIST_EDWARDS25519: () => Promise.resolve(generateKeyPairSync("ed25519", DER)),
};

/**
 * The library's own generate and export of a `spec` pair, nothing more.
 * @throws {RangeError} when `spec` is not a `DataKeyPairSpec`.
 */
export async function rawGenerateAndExport(spec: DataKeyPairSpec): Promise<void> {
  if (!Object.hasOwn(BASELINES, spec)) throw new RangeError("unknown DataKeyPairSpec");
  await BASELINES[spec]();
}
