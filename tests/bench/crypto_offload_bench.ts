/**
 * The measurement behind `OFFLOADED` (core/crypto/signatures.ts): for each
 * Sign/Verify case, the same operation on the same key run in-process (the
 * synchronous engine on this thread) and through a `CryptoWorkerPool` (the
 * structured clone + postMessage round trip to a worker), 16 calls in flight
 * (BENCH_OFFLOAD_IN_FLIGHT) for BENCH_OFFLOAD_MS each (1500). It prints calls/s and CPU µs per call of
 * this process's main thread (from /proc/self/task/<pid>/stat) and of the
 * whole process (`process.cpuUsage`): main-thread µs is what a request-serving
 * thread saves, process µs what the round trip costs in all.
 *
 * Then the same for data key pairs of the pooled ECC specs: `generateKeyPair`
 * on this thread, a pair made on demand as an empty pool makes it
 * (`generateOffRequestThread`: by a running worker for secp256k1 and SM2,
 * inline for Ed25519), and a take from the
 * pool (`eccKeyPairPool` of 128, refilled by the workers in batches; the share
 * of takes it answered is printed; the rest were made by a worker on demand).
 *
 * Run: `npx -y deno@2.9.6 run -A tests/bench/crypto_offload_bench.ts`
 * (BENCH_OFFLOAD_WORKERS, default 2; BENCH_OFFLOAD_ONLY=sign:SM2,verify:RSA_2048,pairs:SM2
 * narrows it).
 *
 * @module
 */
import { CryptoWorkerPool } from "../../core/crypto/crypto_workers.ts";
import { generateKeyPair } from "../../core/crypto/key_pairs.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  ECC_SPECS,
  eccKeyPairPool,
  generateOffRequestThread,
} from "../../core/crypto/key_pair_pool.ts";
import {
  importSigningEngine,
  importVerifyingEngine,
  OFFLOADED,
  type SigningAlgorithmSpec,
  type SigningKeySpec,
} from "../../core/crypto/signatures.ts";

type Kind = "sign" | "verify";

const CASES: readonly [SigningKeySpec, SigningAlgorithmSpec][] = [
  ["ECC_NIST_P256", "ECDSA_SHA_256"],
  ["ECC_SECG_P256K1", "ECDSA_SHA_256"],
  ["SM2", "SM2DSA"],
  ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512"],
  ["RSA_2048", "RSASSA_PSS_SHA_256"],
];
const IN_FLIGHT = Number(Deno.env.get("BENCH_OFFLOAD_IN_FLIGHT") ?? 16);
const MS = Number(Deno.env.get("BENCH_OFFLOAD_MS") ?? 1500);
const ONLY = Deno.env.get("BENCH_OFFLOAD_ONLY")?.split(",");

/** CPU µs of this process's main thread so far (clock ticks of 10 ms). */
function mainThreadUs(): number {
  const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function processUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Calls `op` with IN_FLIGHT calls in flight for MS ms: calls/s and CPU µs per call. */
async function measure(op: () => Promise<unknown>) {
  let calls = 0;
  const [main0, process0, t0] = [mainThreadUs(), processUs(), performance.now()];
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() - t0 < MS) {
      await op();
      calls++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return {
    perSecond: calls / seconds,
    mainUs: (mainThreadUs() - main0) / calls,
    processUs: (processUs() - process0) / calls,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const pool = new CryptoWorkerPool({ size: Number(Deno.env.get("BENCH_OFFLOAD_WORKERS") ?? 2) });
const message = crypto.getRandomValues(new Uint8Array(256));
console.log(
  `${IN_FLIGHT} calls in flight, ${MS} ms each, ${pool.size} workers; load average ` +
    Deno.loadavg().join(" "),
);
console.log(
  "op      spec                   in-process/s  main µs  proc µs | worker/s  main µs  proc µs | OFFLOADED",
);
for (const [spec, algorithm] of CASES) {
  const pair = await generateKeyPair(spec as Exclude<SigningKeySpec, `ML_DSA_${string}`>);
  const pkcs8 = pair.privateKey.expose();
  const signer = importSigningEngine(spec, pkcs8);
  const signature = signer(algorithm, message.slice(), false);
  for (const kind of ["sign", "verify"] as Kind[]) {
    if (ONLY !== undefined && !ONLY.includes(`${kind}:${spec}`)) continue;
    let inline: () => Promise<unknown>;
    let offloaded: () => Promise<unknown>;
    if (kind === "sign") {
      const handle = await pool.register("signing", spec, pkcs8);
      inline = () => Promise.resolve(signer(algorithm, message.slice(), false));
      offloaded = () =>
        pool.sign(handle, { algorithm, message: message.slice(), prehashed: false });
    } else {
      const verifier = importVerifyingEngine(spec, pair.publicKey);
      const handle = await pool.register("verifying", spec, pair.publicKey);
      inline = () => Promise.resolve(verifier(algorithm, message, false, signature));
      offloaded = () => pool.verify(handle, { algorithm, message, prehashed: false, signature });
    }
    await measure(offloaded); // warm-up: workers started, keys imported, code optimised
    const a = await measure(inline);
    const b = await measure(offloaded);
    console.log(
      `${kind.padEnd(7)} ${spec.padEnd(21)}  ${fmt(a.perSecond).padStart(12)}  ${
        fmt(a.mainUs).padStart(7)
      }  ${fmt(a.processUs).padStart(7)} | ${fmt(b.perSecond).padStart(8)}  ${
        fmt(b.mainUs).padStart(7)
      }  ${fmt(b.processUs).padStart(7)} | ${OFFLOADED[spec][kind]}`,
    );
  }
  pair.privateKey.wipe();
}

console.log(
  "\npairs   spec                   inline/s  main µs  proc µs | worker/s  main µs  proc µs | " +
    "pool/s  main µs  proc µs  from pool",
);
// Both workers running (an empty pool asks only a running worker for a pair).
await Promise.all([pool.generatePairs("SM2", 1), pool.generatePairs("SM2", 1)]);
const pairs = eccKeyPairPool(128, undefined, () => pool);
pairs.start();
const wiped = (made: Promise<{ privateKey: { wipe(): void } }>) =>
  made.then((pair) => pair.privateKey.wipe());
for (const spec of ECC_SPECS) {
  if (ONLY !== undefined && !ONLY.includes(`pairs:${spec}`)) continue;
  await measure(() => wiped(generateOffRequestThread(pool, spec))); // warm-up
  const a = await measure(() => wiped(generateKeyPair(spec)));
  const b = await measure(() => wiped(generateOffRequestThread(pool, spec)));
  await pairs.take(spec).then((pair) => pair.privateKey.wipe()); // the pool starts filling
  await waitFor(() => pairs.stats()[spec].ready >= 128, `a full ${spec} pool`, {
    timeoutMs: 120_000,
  });
  const before = pairs.stats()[spec];
  const c = await measure(() => wiped(pairs.take(spec)));
  const after = pairs.stats()[spec];
  const pooled = after.pooledTakes - before.pooledTakes;
  const share = pooled / (pooled + after.onDemandTakes - before.onDemandTakes);
  const row = (r: Awaited<ReturnType<typeof measure>>) =>
    `${fmt(r.perSecond).padStart(8)}  ${fmt(r.mainUs).padStart(7)}  ${
      fmt(r.processUs).padStart(7)
    }`;
  console.log(
    `pairs   ${spec.padEnd(21)} ${row(a)} | ${row(b)} | ${row(c)}  ${fmt(share * 100)}%`,
  );
}
await pairs.close();
await pool.close();
