import { ed25519 } from "@noble/curves/ed25519.js";
import { generateKeyPairSync } from "node:crypto";
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
const alg = { name: "Ed25519" };
await rate(`ed25519 gen only`, () => crypto.subtle.generateKey(alg, true, ["sign", "verify"]));
await rate(`ed25519 gen + pkcs8`, async () => {
  const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  await crypto.subtle.exportKey("pkcs8", k.privateKey);
});
await rate(`ed25519 gen + raw`, async () => {
  const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  await crypto.subtle.exportKey("raw", k.publicKey);
});
await rate(`ed25519 gen + pkcs8 + raw`, async () => {
  const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  await crypto.subtle.exportKey("pkcs8", k.privateKey);
  await crypto.subtle.exportKey("raw", k.publicKey);
});
await rate(`ed25519 noble keygen`, () => ed25519.keygen());
await rate(
  `ed25519 node sync der`,
  () =>
    generateKeyPairSync("ed25519", {
      publicKeyEncoding: { type: "spki", format: "der" },
      privateKeyEncoding: { type: "pkcs8", format: "der" },
    }),
);
await rate(`ed25519 node sync keyobjects`, () => generateKeyPairSync("ed25519"));
await rate(
  `ed25519 node sync jwk`,
  () =>
    generateKeyPairSync("ed25519", {
      publicKeyEncoding: { format: "jwk" },
      privateKeyEncoding: { format: "jwk" },
    }),
);
await rate(`getRandomValues 32`, () => crypto.getRandomValues(new Uint8Array(32)));
await rate(`node randomBytes`, () => crypto.getRandomValues(new Uint8Array(48)));
