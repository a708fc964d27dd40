import { generateKeyPair } from "./core/crypto/key_pairs.ts";
const keys = await Promise.all(Array.from({ length: 1000 }, () => generateKeyPair("SM2")));
const t0 = performance.now();
const dir = await Deno.makeTempDir();
await Promise.all(keys.map((k, i) => Deno.writeFile(`${dir}/${i}.der`, k.privateKey.expose())));
const script =
  'for f in "$@"; do openssl pkey -inform DER -in "$f" -check -pubout -outform DER -out "$f.out" 2>/dev/null; done';
const names = keys.map((_, i) => `${i}.der`);
const halves = [names.filter((_, i) => i % 2 === 0), names.filter((_, i) => i % 2 === 1)];
await Promise.all(
  halves.map((h) =>
    new Deno.Command("sh", { args: ["-c", script, "sh", ...h], cwd: dir }).output()
  ),
);
const outs = await Promise.all(names.map((n) => Deno.readFile(`${dir}/${n}.out`)));
console.log(
  "sh batch 1000:",
  (performance.now() - t0).toFixed(0),
  "ms",
  outs.filter((o) => o.length > 20).length,
);
await Deno.remove(dir, { recursive: true });
