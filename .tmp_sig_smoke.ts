import {
  importSigningKey,
  importVerifyingKey,
  type MessageType,
  SIGNING_ALGORITHMS,
  type SigningKeySpec,
} from "./core/crypto/signatures.ts";
import { SecretBytes } from "./core/secret.ts";
import { createHash } from "node:crypto";
const files: Partial<Record<SigningKeySpec, string>> = {
  RSA_2048: "rsa_2048",
  RSA_3072: "rsa_3072",
  RSA_4096: "rsa_4096",
  ECC_NIST_P256: "ec_P-256",
  ECC_NIST_P384: "ec_P-384",
  ECC_NIST_P521: "ec_P-521",
  ECC_SECG_P256K1: "ec_secp256k1",
  ECC_NIST_EDWARDS25519: "ed25519",
};
const msg = new Uint8Array(256).fill(5);
for (const [spec, f] of Object.entries(files) as [SigningKeySpec, string][]) {
  const sk = await importSigningKey(
    spec,
    new SecretBytes(Deno.readFileSync(`/tmp/sig/keys/${f}.p8`)),
  );
  const vk = await importVerifyingKey(spec, Deno.readFileSync(`/tmp/sig/keys/${f}.spki`));
  for (const alg of SIGNING_ALGORITHMS[spec]) {
    const h = alg.endsWith("256") ? "sha256" : alg.endsWith("384") ? "sha384" : "sha512";
    const digest = new Uint8Array(createHash(h).update(msg).digest());
    const results: string[] = [];
    for (const mt of ["RAW", "DIGEST"] as MessageType[]) {
      const m = mt === "RAW" ? msg : digest;
      try {
        const s = await sk.sign(alg, m, mt);
        const ok = await vk.verify(alg, m, mt, s);
        let cross = "";
        if (alg !== "ED25519_PH_SHA_512" && alg !== "ED25519_SHA_512") {
          cross = String(
            await vk.verify(alg, mt === "RAW" ? digest : msg, mt === "RAW" ? "DIGEST" : "RAW", s),
          );
        }
        results.push(`${mt}:${ok}/${cross}`);
      } catch (e) {
        results.push(`${mt}:${(e as Error).name}:${(e as Error).message}`);
      }
    }
    console.log(spec, alg, results.join("  "));
  }
}
