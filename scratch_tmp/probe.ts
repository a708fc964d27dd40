import { eccKeyPairPool } from "/work/wt/pairs/core/crypto/key_pair_pool.ts";
import { closeCryptoWorkers } from "/work/wt/pairs/core/crypto/crypto_workers.ts";
import { generateKeyPair } from "/work/wt/pairs/core/crypto/key_pairs.ts";
const pool = eccKeyPairPool(128);
pool.start();
const t0 = performance.now();
while (pool.stats().SM2.ready < 128) await new Promise((r) => setTimeout(r, 5));
console.log("fill ms", performance.now() - t0, pool.stats());
for (const spec of ["ECC_SECG_P256K1", "SM2", "ECC_NIST_EDWARDS25519"] as const) {
  let c0 = process.cpuUsage(); let n = 0; let inline = 0;
  const end = performance.now() + 1000;
  while (performance.now() < end) {
    const ready = pool.stats()[spec].ready;
    if (ready === 0) inline++;
    const p = await pool.take(spec); p.privateKey.wipe(); n++;
    if (n % 8 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  const c = process.cpuUsage(c0);
  let r0 = process.cpuUsage(); let m = 0; const e2 = performance.now() + 500;
  while (performance.now() < e2) { (await generateKeyPair(spec)).privateKey.wipe(); m++; }
  const r = process.cpuUsage(r0);
  console.log(spec, "pool takes/s", n, "inline", inline, "proc cpu µs/take", ((c.user + c.system) / n).toFixed(1), "| inline gen/s", m * 2, "cpu µs", ((r.user + r.system) / m).toFixed(1));
}
await pool.close();
await closeCryptoWorkers();
