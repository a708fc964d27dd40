/**
 * In-process key pair rates per `DataKeyPairSpec`: the raw library baseline
 * (`rawGenerateAndExport`) and `generateKeyPair` (generate + OpenSSL-layout
 * DER), one call at a time and with several calls in flight.
 *
 * Usage: `deno run --allow-all tests/bench/raw_key_pairs.ts [seconds] [spec ...]`
 * (default 2 s per measurement; all specs, RSA included).
 *
 * @module
 */
import {
  DATA_KEY_PAIR_SPECS,
  type DataKeyPairSpec,
  generateKeyPair,
} from "../../core/crypto/key_pairs.ts";
import { rawGenerateAndExport } from "./key_pair_baseline.ts";

/** Calls per second of `fn` over `seconds`, keeping `inFlight` calls running. */
export async function measureRate(
  fn: () => Promise<unknown>,
  options: { seconds: number; inFlight: number },
): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let calls = 0;
  const start = performance.now();
  const end = start + options.seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      await fn();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, loop));
  return calls / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const seconds = Number(Deno.args[0] ?? 2);
  const requested = Deno.args.slice(1) as DataKeyPairSpec[];
  const specs = requested.length > 0 ? requested : DATA_KEY_PAIR_SPECS;
  console.log("spec                    raw x1  ours x1  ratio |  raw x4  ours x4  ratio  (ops/s)");
  for (const spec of specs) {
    const row: number[] = [];
    for (const inFlight of [1, 4]) {
      const options = { seconds, inFlight };
      const raw = await measureRate(() => rawGenerateAndExport(spec), options);
      const ours = await measureRate(() => generateKeyPair(spec), options);
      row.push(raw, ours);
    }
    const [raw1, ours1, raw4, ours4] = row as [number, number, number, number];
    const cell = (n: number) => n.toFixed(n < 100 ? 1 : 0).padStart(7);
    console.log(
      `${spec.padEnd(22)} ${cell(raw1)}  ${cell(ours1)}  ${(ours1 / raw1).toFixed(2)}  | ` +
        `${cell(raw4)}  ${cell(ours4)}  ${(ours4 / raw4).toFixed(2)}`,
    );
  }
}

if (import.meta.main) await main();
