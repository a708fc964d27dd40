import { generateKeyPair } from "../core/crypto/key_pairs.ts";
import { CryptoWorkerPool } from "../core/crypto/crypto_workers.ts";
import { importSigningEngine, importVerifyingEngine, type SigningKeySpec, type SigningAlgorithmSpec } from "../core/crypto/signatures.ts";
const KEYS = JSON.parse(Deno.readTextFileSync("core/crypto/testdata/signing_test_keys.json")).keys;
{ const p = await generateKeyPair("SM2"); KEYS.SM2 = { pkcs8: p.privateKey.expose().toHex(), spki: p.publicKey.toHex() }; }
const only = Deno.env.get("ONLY");
const mainCpu = () => {
  const f = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const procCpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
const pool = new CryptoWorkerPool({ size: Number(Deno.env.get("W") ?? 2) });
const cases: [SigningKeySpec, SigningAlgorithmSpec, "sign" | "verify"][] = [
  ["ECC_NIST_P256", "ECDSA_SHA_256", "sign"], ["ECC_SECG_P256K1", "ECDSA_SHA_256", "sign"], ["SM2", "SM2DSA", "sign"],
  ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "sign"], ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "verify"],
  ["RSA_2048", "RSASSA_PSS_SHA_256", "verify"], ["ECC_SECG_P256K1", "ECDSA_SHA_256", "verify"], ["ECC_NIST_P256", "ECDSA_SHA_256", "verify"],
];
const msg = crypto.getRandomValues(new Uint8Array(256));
async function run(label: string, op: () => Promise<unknown>) {
  const ms = 1500; let n = 0; const c0 = mainCpu(), p0 = procCpu(); const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, async () => { while (performance.now() - t0 < ms) { await op(); n++; } }));
  const s = (performance.now() - t0) / 1000;
  return `${label} ${Math.round(n / s)}/s main ${((mainCpu() - c0) / n).toFixed(0)}µs proc ${((procCpu() - p0) / n).toFixed(0)}µs`;
}
for (const [spec, alg, kind] of cases) {
  if (only && !only.split(",").includes(`${kind}:${spec}`)) continue;
  const pk = Uint8Array.fromHex(KEYS[spec].pkcs8), spki = Uint8Array.fromHex(KEYS[spec].spki);
  const signer = importSigningEngine(spec, pk);
  const sig = signer(alg, msg.slice(), false);
  let inline: () => Promise<unknown>, off: () => Promise<unknown>;
  if (kind === "sign") {
    const h = await pool.register("signing", spec, pk);
    inline = () => Promise.resolve(signer(alg, msg.slice(), false));
    off = () => pool.sign(h, { algorithm: alg, message: msg.slice(), prehashed: false });
  } else {
    const v = importVerifyingEngine(spec, spki);
    const h = await pool.register("verifying", spec, spki);
    inline = () => Promise.resolve(v(alg, msg, false, sig));
    off = () => pool.verify(h, { algorithm: alg, message: msg, prehashed: false, signature: sig });
  }
  await run("warm", off);
  console.log(`${kind} ${spec}: ${await run("in-process", inline)} | ${await run("worker", off)}`);
}
await pool.close();
