/**
 * What mechanism (b) of issue 15 scope 1 would add per request: the main thread keeps the
 * listener and hands each request (method, path, headers, raw body, source IP) to a worker
 * isolate, which posts the reply (status, headers, body) back. Measures the CPU µs per round
 * trip of that hand-off alone (structured clone both ways, no KMS work), main thread and whole
 * process (all threads), at a concurrency of 16 requests in flight.
 *
 *   npx -y deno@2.9.6 run --allow-all scripts/isolate_message_cost.ts
 *
 * @module
 */
const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 50_000);
const CONCURRENCY = 16;

const workerSource = `
self.onmessage = (event) => {
  const { id, body } = event.data;
  const reply = new Uint8Array(body.byteLength + 200);
  self.postMessage({
    id,
    status: 200,
    headers: [["content-type", "application/x-amz-json-1.1"], ["x-amzn-requestid", crypto.randomUUID()]],
    body: reply,
  }, [reply.buffer]);
};`;
const url = URL.createObjectURL(new Blob([workerSource], { type: "application/javascript" }));
const worker = new Worker(url, { type: "module" });
const pending = new Map<number, () => void>();
worker.onmessage = (event: MessageEvent<{ id: number }>) => {
  pending.get(event.data.id)?.();
  pending.delete(event.data.id);
};
const headers: [string, string][] = [
  ["host", "127.0.0.1:8080"],
  ["content-type", "application/x-amz-json-1.1"],
  ["x-amz-target", "TrentService.GenerateDataKey"],
  ["x-amz-date", "20261207T170000Z"],
  ["x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  [
    "authorization",
    "AWS4-HMAC-SHA256 Credential=AKIAADMINTEST0000001/20261207/us-east-1/kms/aws4_request, " +
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "a".repeat(64),
  ],
  ["content-length", "64"],
  ["user-agent", "aws-sdk-js/3"],
];
let next = 0;
function roundTrip(): Promise<void> {
  const id = next++;
  const body = new TextEncoder().encode(
    JSON.stringify({ KeyId: crypto.randomUUID(), KeySpec: "AES_256" }),
  );
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker.postMessage(
      { id, method: "POST", path: "/", headers, body, ip: "127.0.0.1" },
      [body.buffer],
    );
  });
}
/** CPU µs (user + system, 10 ms ticks) of /proc/<path>/stat. */
function cpuUs(path: string): number {
  const stat = Deno.readTextFileSync(`/proc/${path}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}
async function run(rounds: number): Promise<void> {
  let left = rounds;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (left-- > 0) await roundTrip();
  }));
}
await run(5_000); // warm-up
const process0 = cpuUs("self");
const main0 = cpuUs(`self/task/${Deno.pid}`);
const t0 = performance.now();
await run(ROUNDS);
const seconds = (performance.now() - t0) / 1000;
const process1 = cpuUs("self");
const main1 = cpuUs(`self/task/${Deno.pid}`);
const processUs = (process1 - process0) / ROUNDS;
console.log(
  `${ROUNDS} round trips in ${seconds.toFixed(2)} s: main thread ${
    ((main1 - main0) / ROUNDS).toFixed(1)
  } ` +
    `CPU µs, all threads ${processUs.toFixed(1)} CPU µs per request`,
);
worker.terminate();
