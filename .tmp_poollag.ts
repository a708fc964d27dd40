import { RsaKeyPairPool } from "./core/crypto/rsa_pool.ts";
import { generateKeyPair } from "./core/crypto/key_pairs.ts";
const concurrency = Number(Deno.args[0] ?? 1);
const load = Deno.args[1] === "load";
const usePool = Deno.args[2] !== "nopool";
const seconds = 8;
const lags: number[] = [];
let last = performance.now();
const probe = setInterval(() => {
  const now = performance.now();
  lags.push(now - last - 1);
  last = now;
}, 1);
const pool = new RsaKeyPairPool({ sizes: { RSA_2048: 16, RSA_3072: 6, RSA_4096: 3 }, concurrency });
if (usePool) pool.start();
let ops = 0;
const t0 = performance.now();
let stop = false;
const loadLoop = async () => {
  while (!stop) {
    await generateKeyPair("ECC_NIST_P256");
    ops++;
  }
};
const loaders = load ? [loadLoop(), loadLoop(), loadLoop(), loadLoop()] : [];
await new Promise((r) => setTimeout(r, seconds * 1000));
stop = true;
await Promise.all(loaders);
const st = pool.stats();
await pool.close();
clearInterval(probe);
lags.sort((a, b) => a - b);
const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(lags.length * p))]!.toFixed(2);
console.log(
  `conc=${concurrency} load=${load} pool=${usePool}: lag p50=${q(0.5)} p99=${q(0.99)} p999=${
    q(0.999)
  } max=${q(1)} ms; load ${
    (ops / seconds).toFixed(0)
  } P-256 ops/s; ready ${st.RSA_2048.ready}/${st.RSA_3072.ready}/${st.RSA_4096.ready}`,
);
