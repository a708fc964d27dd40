/**
 * The app in one process, no sockets: 30,000 signed GenerateDataKey (OP=gdk)
 * or 4 KiB Encrypt (OP=enc) requests through `app.fetch`, 16 at a time, on a
 * durable file store. Prints µs per request; run it under
 * `deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof tests/bench/profile_app.ts`
 * to see where a request's time goes without HTTP or the load client. AUDIT=off opens the service
 * without its audit log.
 *
 * @module
 */
import { parseConfig } from "../../core/config.ts";
import { openService } from "../../main.ts";
import { presign } from "./signing.ts";
const ADMIN = {
  accessKeyId: "AKIABENCHADMIN000001",
  secretAccessKey: "bench-secret-access-key-000000000000000",
};
const dir = await Deno.makeTempDir({ prefix: "kms-profile-" });
const service = await openService(
  parseConfig({
    KMS_DB_URL: `file:${dir}/k.db`,
    KMS_ROOT_KEY: new Uint8Array(32).toBase64(),
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
  }),
  { log: () => {}, audit: Deno.env.get("AUDIT") !== "off" },
);
const target = { host: "127.0.0.1:8080", region: "us-east-1", ...ADMIN };
const toReq = (p: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> }) =>
  new Request("http://127.0.0.1:8080/", { method: "POST", headers: p.headers, body: p.body });
const created = await service.app.fetch(toReq(await presign(target, "CreateKey", {})));
const keyId = ((await created.json()) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
const op = Deno.env.get("OP") ?? "gdk";
const req = op === "gdk"
  ? await presign(target, "GenerateDataKey", {
    KeyId: keyId,
    KeySpec: "AES_256",
    EncryptionContext: { purpose: "bench" },
  })
  : await presign(target, "Encrypt", { KeyId: keyId, Plaintext: new Uint8Array(4096).toBase64() });
const n = 30000;
const t0 = performance.now();
for (let i = 0; i < n; i += 16) {
  await Promise.all(Array.from({ length: 16 }, async () => {
    const r = await service.app.fetch(toReq(req));
    await r.arrayBuffer();
  }));
}
console.log(op, ((performance.now() - t0) * 1000 / n).toFixed(1), "µs/op");
await service.close();
await Deno.remove(dir, { recursive: true });
