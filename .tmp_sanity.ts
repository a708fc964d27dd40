import { DATA_KEY_PAIR_SPECS, generateKeyPair } from "./core/crypto/key_pairs.ts";
import {
  opensslCheckMany,
  opensslCheckPrivateKey,
  opensslPublicFromPrivate,
  opensslSignAndVerify,
} from "./tests/helpers/openssl.ts";
for (const spec of DATA_KEY_PAIR_SPECS) {
  if (spec === "RSA_4096" || spec === "RSA_3072") continue;
  const { publicKey, privateKey } = await generateKeyPair(spec);
  const derived = await opensslPublicFromPrivate(privateKey.expose());
  const check = await opensslCheckPrivateKey(privateKey.expose());
  const sv = await opensslSignAndVerify(privateKey.expose(), publicKey, spec);
  console.log(spec, derived.toHex() === publicKey.toHex(), check.ok, sv);
}
for (const spec of ["ECC_NIST_P256", "SM2"] as const) {
  const keys = await Promise.all(Array.from({ length: 1000 }, () => generateKeyPair(spec)));
  const t0 = performance.now();
  const res = await opensslCheckMany(keys.map((k) => k.privateKey.expose()));
  const ok = res.every((r, i) =>
    r.valid && r.derivedPublicKey.toHex() === keys[i]!.publicKey.toHex()
  );
  console.log(spec, "1000 checks", ok, (performance.now() - t0).toFixed(0), "ms");
}
const keys = await Promise.all(Array.from({ length: 300 }, () => generateKeyPair("SM2")));
for (const p of [1, 3, 4]) {
  const t0 = performance.now();
  await opensslCheckMany(keys.map((k) => k.privateKey.expose()), { parallelism: p });
  console.log("p", p, "300 checks", (performance.now() - t0).toFixed(0), "ms");
}
