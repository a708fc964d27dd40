/**
 * Where a request's garbage comes from: the app in one process (no sockets,
 * as `profile_app.ts`), OP=gdk (GenerateDataKey, default), enc or dec (4 KiB),
 * N requests (ALLOC_REQUESTS, 20,000) 16 at a time after a warm-up of 2,000,
 * under V8's sampling heap profiler (node:inspector, `HeapProfiler`, every
 * 4 KiB allocated on average, objects the GC already collected included).
 * Prints the bytes allocated per request in all, then by function (self) and by
 * module, largest first, and the scavenges and mark-compacts this caused
 * (`--v8-flags=--trace-gc` is not needed: counted from `performance` entries
 * when the runtime gives them, else not shown). AUDIT=off opens the service
 * without its audit log; LOG=on writes the access lines (to /dev/null).
 *
 *   deno run -A tests/bench/alloc_profile.ts
 *
 * Sampling is statistical: figures below ~1% of the total are noise.
 *
 * @module
 */
import { Session } from "node:inspector";
import { parseConfig } from "../../core/config.ts";
import { openService } from "../../main.ts";
import { presign } from "./signing.ts";

const ADMIN = {
  accessKeyId: "AKIABENCHADMIN000001",
  secretAccessKey: "bench-secret-access-key-000000000000000",
};

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(
      method,
      params ?? {},
      (error: Error | null, result: unknown) => error ? reject(error) : resolve(result as T),
    )
  );
}

function shortUrl(url: string): string {
  const root = new URL("../../", import.meta.url).href;
  if (url.startsWith(root)) return url.slice(root.length);
  const npm = /node_modules\/(?:\.deno\/)?([^/]+(?:\/[^/]+)?)/.exec(url);
  if (npm !== null) return `npm:${npm[1]}`;
  if (url === "") return "(native/runtime)";
  return url.replace(/^ext:/, "ext:");
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-alloc-" });
  const sink = Deno.env.get("LOG") === "on"
    ? Deno.openSync("/dev/null", { write: true })
    : undefined;
  const utf8 = new TextEncoder();
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
    {
      log: sink === undefined
        ? () => {}
        : (record) => sink.writeSync(utf8.encode(JSON.stringify(record) + "\n")),
      audit: Deno.env.get("AUDIT") !== "off",
    },
  );
  try {
    const target = { host: "127.0.0.1:8080", region: "us-east-1", ...ADMIN };
    const toRequest = (p: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> }) =>
      new Request("http://127.0.0.1:8080/", { method: "POST", headers: p.headers, body: p.body });
    const call = async (operation: string, payload: unknown) => {
      const response = await service.app.fetch(
        toRequest(await presign(target, operation, payload)),
      );
      return await response.json() as Record<string, unknown>;
    };
    const keyId = ((await call("CreateKey", {})).KeyMetadata as { KeyId: string }).KeyId;
    const plaintext = crypto.getRandomValues(new Uint8Array(4096)).toBase64();
    const op = Deno.env.get("OP") ?? "gdk";
    const signed = op === "gdk"
      ? await presign(target, "GenerateDataKey", {
        KeyId: keyId,
        KeySpec: "AES_256",
        EncryptionContext: { purpose: "bench" },
      })
      : op === "enc"
      ? await presign(target, "Encrypt", { KeyId: keyId, Plaintext: plaintext })
      : await presign(target, "Decrypt", {
        CiphertextBlob: (await call("Encrypt", { KeyId: keyId, Plaintext: plaintext }))
          .CiphertextBlob,
      });
    let refused = 0;
    let firstRefusal: string | undefined;
    const run = async (n: number) => {
      for (let i = 0; i < n; i += 16) {
        await Promise.all(Array.from({ length: 16 }, async () => {
          const response = await service.app.fetch(toRequest(signed));
          if (response.status !== 200) {
            refused++;
            firstRefusal ??= `${response.status} ${await response.text()}`;
          }
          await response.arrayBuffer().catch(() => {});
        }));
      }
    };
    const n = Number(Deno.env.get("ALLOC_REQUESTS") ?? 20_000);
    await run(2_000);
    const session = new Session();
    session.connect();
    await post(session, "HeapProfiler.enable");
    await post(session, "HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await run(n);
    const { profile } = await post<{ profile: { head: ProfileNode } }>(
      session,
      "HeapProfiler.stopSampling",
    );
    session.disconnect();
    report(profile.head, n, op);
    if (refused > 0) console.log(`\n${refused} requests refused; first: ${firstRefusal}`);
  } finally {
    await service.close();
    sink?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function report(head: ProfileNode, n: number, op: string): void {
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  const visit = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const module = shortUrl(url);
    const fn = `${functionName || "(anonymous)"} ${module}:${lineNumber + 1}`;
    if (node.selfSize > 0) {
      total += node.selfSize;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
      byModule.set(module, (byModule.get(module) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child);
  };
  visit(head);
  const perRequest = (bytes: number) => (bytes / n).toFixed(0).padStart(7);
  console.log(`${op}: ${n} requests, ${(total / n / 1024).toFixed(1)} KiB allocated per request`);
  console.log("\nBy module, bytes per request:");
  for (const [module, bytes] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`${perRequest(bytes)}  ${module}`);
  }
  console.log("\nBy function (self), bytes per request:");
  for (const [fn, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${perRequest(bytes)}  ${fn}`);
  }
}

if (import.meta.main) await main();
