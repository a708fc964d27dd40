import { eccKeyPairPool } from "../core/crypto/key_pair_pool.ts";
import { closeCryptoWorkers } from "../core/crypto/crypto_workers.ts";
import { generateKeyPair } from "../core/crypto/key_pairs.ts";
const mainCpu = () => {
  const f = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000; // µs
};
const pool = eccKeyPairPool(256);
pool.start();
while (pool.stats().SM2.ready < 256) await new Promise((r) => setTimeout(r, 5));
for (const spec of ["ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519"] as const) {
  let n = 0, inline = 0; const c0 = mainCpu(); const end = performance.now() + 2000;
  while (performance.now() < end) {
    for (let i = 0; i < 4; i++) { if (pool.stats()[spec].ready === 0) inline++; (await pool.take(spec)).privateKey.wipe(); n++; }
    await new Promise((r) => setTimeout(r, 2));
  }
  const pooled = (mainCpu() - c0) / n;
  let m = 0; const c1 = mainCpu(); const e2 = performance.now() + 2000;
  while (performance.now() < e2) {
    for (let i = 0; i < 4; i++) { (await generateKeyPair(spec)).privateKey.wipe(); m++; }
    await new Promise((r) => setTimeout(r, 2));
  }
  console.log(spec, `pool: ${n} takes (${inline} inline), main µs/take ${pooled.toFixed(1)}; inline: ${m}, main µs/gen ${((mainCpu() - c1) / m).toFixed(1)}`);
}
await pool.close();
await closeCryptoWorkers();
