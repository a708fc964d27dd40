import { signRequest } from "../tests/helpers/signed_fetch.ts";
const url = Deno.args[0]!;
async function call(op: string, body: unknown) {
  const p = await signRequest(url, JSON.stringify(body), { target: `TrentService.${op}` });
  const r = await fetch(url, { method: "POST", headers: p.headers, body: p.body });
  return await r.json();
}
const k = await call("CreateKey", {});
const parts = await signRequest(url, JSON.stringify({ KeyId: k.KeyMetadata.KeyId, KeySpec: "AES_256" }), { target: "TrentService.GenerateDataKey" });
const run = async (ms: number) => { const end = Date.now() + ms; let n = 0;
await Promise.all(Array.from({ length: 16 }, async () => { while (Date.now() < end) { const r = await fetch(url, { method: "POST", headers: parts.headers, body: parts.body }); await r.arrayBuffer(); n++; } })); return n; };
await run(1500);
await Deno.writeTextFile("/tmp/wexp/go", "1");
const n = await run(5000);
console.log("requests", n);
