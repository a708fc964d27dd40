import { secp256k1 } from "@noble/curves/secp256k1.js";
import { Sm2Point } from "/work/main/core/crypto/sm2_curve.ts";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { ECParameters, ECPrivateKey } from "@peculiar/asn1-ecc";
import { generateKeyPair, generateKeyPairSync } from "node:crypto";

async function rate(name: string, fn: () => Promise<unknown> | unknown, ms = 1500) {
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while ((t = performance.now()) - t0 < ms) {
    for (let i = 0; i < 10; i++) await fn();
    n += 10;
  }
  console.log(`${name.padEnd(50)} ${(n / ((t - t0) / 1000)).toFixed(0).padStart(8)} ops/s`);
}
const which = Deno.args[0] ?? "all";
const curves = ["P-256", "P-384", "P-521"] as const;
if (which === "all" || which === "ec") {
  for (const c of curves) {
    const alg = { name: "ECDSA", namedCurve: c };
    await rate(
      `${c} generate only`,
      () => crypto.subtle.generateKey(alg, true, ["sign", "verify"]),
    );
    await rate(`${c} gen + pkcs8 + spki (raw)`, async () => {
      const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
      await crypto.subtle.exportKey("pkcs8", k.privateKey);
      await crypto.subtle.exportKey("spki", k.publicKey);
    });
    await rate(`${c} gen + pkcs8 only`, async () => {
      const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
      await crypto.subtle.exportKey("pkcs8", k.privateKey);
    });
    await rate(`${c} gen + spki only`, async () => {
      const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
      await crypto.subtle.exportKey("spki", k.publicKey);
    });
    await rate(`${c} gen + pkcs8 + raw pub`, async () => {
      const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
      await crypto.subtle.exportKey("pkcs8", k.privateKey);
      await crypto.subtle.exportKey("raw", k.publicKey);
    });
    await rate(`${c} gen + pkcs8 + spki parallel`, async () => {
      const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
      await Promise.all([
        crypto.subtle.exportKey("pkcs8", k.privateKey),
        crypto.subtle.exportKey("spki", k.publicKey),
      ]);
    });
    const nc = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" }[c];
    await rate(`${c} node:crypto sync der`, () =>
      generateKeyPairSync("ec", {
        namedCurve: nc,
        publicKeyEncoding: { type: "spki", format: "der" },
        privateKeyEncoding: { type: "pkcs8", format: "der" },
      }));
    await rate(`${c} node:crypto async der`, () =>
      new Promise((res, rej) =>
        generateKeyPair("ec", {
          namedCurve: nc,
          publicKeyEncoding: { type: "spki", format: "der" },
          privateKeyEncoding: { type: "pkcs8", format: "der" },
        }, (e, a) => e ? rej(e) : res(a))
      ));
  }
}
if (which === "all" || which === "ed") {
  const alg = { name: "Ed25519" };
  await rate(`ed25519 gen + pkcs8 + spki (raw)`, async () => {
    const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
    await crypto.subtle.exportKey("pkcs8", k.privateKey);
    await crypto.subtle.exportKey("spki", k.publicKey);
  });
  await rate(`ed25519 gen + pkcs8 + raw`, async () => {
    const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
    await crypto.subtle.exportKey("pkcs8", k.privateKey);
    await crypto.subtle.exportKey("raw", k.publicKey);
  });
  await rate(
    `ed25519 node:crypto sync der`,
    () =>
      generateKeyPairSync("ed25519", {
        publicKeyEncoding: { type: "spki", format: "der" },
        privateKeyEncoding: { type: "pkcs8", format: "der" },
      }),
  );
}
if (which === "all" || which === "k1") {
  await rate(`secp256k1 noble keygen (raw)`, () => secp256k1.keygen());
  await rate(
    `secp256k1 noble randomSecretKey+getPublicKey(false)`,
    () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false),
  );
  await rate(
    `secp256k1 node:crypto sync der`,
    () =>
      generateKeyPairSync("ec", {
        namedCurve: "secp256k1",
        publicKeyEncoding: { type: "spki", format: "der" },
        privateKeyEncoding: { type: "pkcs8", format: "der" },
      }),
  );
  await rate(`SM2 noble BASE.multiply`, () => {
    const d = secp256k1.utils.randomSecretKey();
    return Sm2Point.BASE.multiply(BigInt("0x" + d.toHex())).toBytes(false);
  });
}
if (which === "all" || which === "asn") {
  const pub = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
  const d = new Uint8Array(32).fill(7);
  await rate(
    `asn1 SPKI serialize`,
    () =>
      AsnConvert.serialize(
        new SubjectPublicKeyInfo({
          algorithm: new AlgorithmIdentifier({
            algorithm: "1.2.840.10045.2.1",
            parameters: AsnConvert.serialize(new ECParameters({ namedCurve: "1.3.132.0.10" })),
          }),
          subjectPublicKey: pub.buffer as ArrayBuffer,
        }),
      ),
  );
  const params = AsnConvert.serialize(new ECParameters({ namedCurve: "1.3.132.0.10" }));
  await rate(
    `asn1 SPKI serialize (cached params)`,
    () =>
      AsnConvert.serialize(
        new SubjectPublicKeyInfo({
          algorithm: new AlgorithmIdentifier({
            algorithm: "1.2.840.10045.2.1",
            parameters: params,
          }),
          subjectPublicKey: pub.buffer as ArrayBuffer,
        }),
      ),
  );
  await rate(`asn1 PKCS8 serialize`, () =>
    AsnConvert.serialize(
      new PrivateKeyInfo({
        privateKeyAlgorithm: new AlgorithmIdentifier({
          algorithm: "1.2.840.10045.2.1",
          parameters: params,
        }),
        privateKey: new OctetString(
          AsnConvert.serialize(
            new ECPrivateKey({
              privateKey: new OctetString(d),
              publicKey: pub.buffer as ArrayBuffer,
            }),
          ),
        ),
      }),
    ));
  const spki = AsnConvert.serialize(
    new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: "1.2.840.10045.2.1", parameters: params }),
      subjectPublicKey: pub.buffer as ArrayBuffer,
    }),
  );
  await rate(`asn1 SPKI parse`, () => AsnConvert.parse(spki, SubjectPublicKeyInfo));
  const pre = new Uint8Array(spki).slice(0, spki.byteLength - 65);
  await rate(`template SPKI concat`, () => {
    const o = new Uint8Array(pre.length + 65);
    o.set(pre);
    o.set(pub, pre.length);
    return o;
  });
}
