import { generateKeyPair } from "node:crypto";
const bits = Number(Deno.args[0] ?? 2048);
const conc = Number(Deno.args[1] ?? 1);
const lib = Deno.args[2] ?? "webcrypto";
const total = Number(Deno.args[3] ?? 12);
const alg = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: bits,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};
async function one() {
  if (lib === "webcrypto") {
    const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
    await crypto.subtle.exportKey("pkcs8", k.privateKey);
    await crypto.subtle.exportKey("spki", k.publicKey);
  } else {
    await new Promise((res, rej) =>
      generateKeyPair("rsa", {
        modulusLength: bits,
        publicExponent: 65537,
        publicKeyEncoding: { type: "spki", format: "der" },
        privateKeyEncoding: { type: "pkcs8", format: "der" },
      }, (e, a) => e ? rej(e) : res(a))
    );
  }
}
let last = performance.now();
let maxLag = 0;
const lags: number[] = [];
const probe = setInterval(() => {
  const now = performance.now();
  const lag = now - last - 1;
  lags.push(lag);
  if (lag > maxLag) maxLag = lag;
  last = now;
}, 1);
await new Promise((r) => setTimeout(r, 50));
lags.length = 0;
maxLag = 0;
let done = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: conc }, async () => {
  while (done < total) {
    done++;
    await one();
  }
}));
const dt = performance.now() - t0;
clearInterval(probe);
lags.sort((a, b) => a - b);
console.log(
  `${lib} RSA-${bits} conc=${conc}: ${(total / (dt / 1000)).toFixed(2)} ops/s, ${
    (dt / total).toFixed(0)
  } ms/key; timer lag p50=${lags[lags.length >> 1]!.toFixed(2)} p99=${
    lags[Math.floor(lags.length * 0.99)]!.toFixed(2)
  } max=${maxLag.toFixed(2)} ms`,
);
