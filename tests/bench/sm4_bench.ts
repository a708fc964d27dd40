/**
 * What China Regions' symmetric path costs against the AES one, per call, in one process:
 * `npx -y deno@2.9.6 run -A tests/bench/sm4_bench.ts` (`ROUNDS`, `ITERATIONS` override the
 * defaults). Each round runs every case once, in alternation (A/B pairs in the same run, as the
 * shared machine's load drifts); the figures are CPU µs per call (`process.cpuUsage`, user +
 * system), min / median over the rounds, then wall µs per call for reference.
 *
 * Cases: `encryptWithKeyMaterial` / `decryptWithKeyMaterial` (core/crypto/symmetric.ts) under
 * 16-byte material (SM4-GCM, HKDF-SM3; core/crypto/sm4_symmetric.ts) and 32-byte material
 * (AES-256-GCM, HKDF-SHA256), for a 32-byte data key and a 4096-byte plaintext; and the SM4 block
 * cipher alone (`sm4EncryptBlocks`, one 16-byte block, key schedule included).
 *
 * @module
 */
import process from "node:process";
import { decodeCiphertextBlob } from "../../core/ciphertext_blob.ts";
import { sm4EncryptBlocks } from "../../core/crypto/sm4.ts";
import { decryptWithKeyMaterial, encryptWithKeyMaterial } from "../../core/crypto/symmetric.ts";
import { canonicalEncryptionContext } from "../../core/encryption_context.ts";
import { SecretBytes } from "../../core/secret.ts";

const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 9);
const ITERATIONS = Number(Deno.env.get("ITERATIONS") ?? 1000);
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const context = canonicalEncryptionContext({ purpose: "bench" });

interface Case {
  name: string;
  run: () => unknown;
  cpu: number[];
  wall: number[];
}

async function makeCases(): Promise<Case[]> {
  const cases: Case[] = [];
  for (const [cipher, bytes] of [["SM4-GCM", 16], ["AES-256-GCM", 32]] as const) {
    const material = new SecretBytes(crypto.getRandomValues(new Uint8Array(bytes)));
    for (const size of [32, 4096]) {
      const plaintext = crypto.getRandomValues(new Uint8Array(size));
      const seal = () =>
        encryptWithKeyMaterial({ keyId: KEY_ID, materialVersion: 1, material, plaintext, context });
      const blob = decodeCiphertextBlob(await seal());
      cases.push({ name: `${cipher} encrypt ${size} B`, run: seal, cpu: [], wall: [] });
      cases.push({
        name: `${cipher} decode + decrypt ${size} B`,
        run: () => decryptWithKeyMaterial(blob, { material, context }),
        cpu: [],
        wall: [],
      });
    }
  }
  const key = crypto.getRandomValues(new Uint8Array(16));
  const block = crypto.getRandomValues(new Uint8Array(16));
  cases.push({
    name: "SM4 one block (sm-crypto)",
    run: () => sm4EncryptBlocks(key, block),
    cpu: [],
    wall: [],
  });
  return cases;
}

async function round(c: Case): Promise<void> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await c.run();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(start);
  c.cpu.push((used.user + used.system) / ITERATIONS);
  c.wall.push((wall * 1000) / ITERATIONS);
}

function minMedian(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${sorted[0]!.toFixed(1)} / ${median.toFixed(1)}`;
}

const cases = await makeCases();
for (const c of cases) await round(c); // warm-up, discarded
for (const c of cases) [c.cpu.length, c.wall.length] = [0, 0];
for (let r = 0; r < ROUNDS; r++) for (const c of cases) await round(c);
console.log(`${ROUNDS} rounds of ${ITERATIONS} calls; µs per call, min / median`);
console.log(`${"case".padEnd(36)} ${"CPU µs".padStart(16)} ${"wall µs".padStart(16)}`);
for (const c of cases) {
  console.log(
    `${c.name.padEnd(36)} ${minMedian(c.cpu).padStart(16)} ${minMedian(c.wall).padStart(16)}`,
  );
}
