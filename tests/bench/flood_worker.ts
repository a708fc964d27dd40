/**
 * The unsigned flooders of `unsigned_flood_bench.ts`, on their own thread so that their I/O never
 * delays the signed client's event loop. Messages in: `{port, clients}` (prepare), `"resume"`,
 * `"pause"`, `"stop"`. While resumed, `clients` concurrent loops send 1 MB bodies that are costly
 * to parse (an array nested 500,000 deep, an object with 60,000 keys), without credentials, each
 * as soon as the previous one was answered. Messages out: `{resumed: true}` once the first
 * `clients` requests of a resume were answered (the flood is at pace), `{paused: true}` once every
 * loop has stopped, and on `"stop"` `{requests, answers}` (answers counted by status and AWS
 * error type, or connection error).
 *
 * @module
 */
/// <reference lib="deno.worker" />

/** Bodies of about 1 MB that are costly to parse. */
export function floodBodies(): Uint8Array<ArrayBuffer>[] {
  const utf8 = new TextEncoder();
  const depth = 500_000;
  const keys: string[] = [];
  for (let i = 0; i < 60_000; i++) keys.push(`"k${i}":${i}`);
  return [
    utf8.encode("[".repeat(depth) + "]".repeat(depth)),
    utf8.encode(`{${keys.join(",")}}`),
  ];
}

let paused = true;
let requests = 0;
const answers: Record<string, number> = {};

async function sendOne(port: number, body: Uint8Array<ArrayBuffer>): Promise<void> {
  let key: string;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "TrentService.CreateKey",
      },
      body,
    });
    key = `${response.status} ${response.headers.get("x-amzn-errortype") ?? "-"}`;
    await response.arrayBuffer();
  } catch (error) {
    key = `connection error: ${(error as Error).name}`;
  }
  answers[key] = (answers[key] ?? 0) + 1;
  requests++;
}

/** Runs `clients` loops until paused; posts `{resumed}` once the first round is answered. */
async function flood(port: number, clients: number, bodies: Uint8Array<ArrayBuffer>[]) {
  const target = requests + clients;
  let announced = false;
  await Promise.all(Array.from({ length: clients }, async (_, n) => {
    for (let i = n; !paused; i++) {
      await sendOne(port, bodies[i % bodies.length]!);
      if (!announced && requests >= target) {
        announced = true;
        self.postMessage({ resumed: true });
      }
    }
  }));
  self.postMessage({ paused: true });
}

if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  let setup: { port: number; clients: number; bodies: Uint8Array<ArrayBuffer>[] } | undefined;
  self.onmessage = (event: MessageEvent<{ port: number; clients: number } | string>) => {
    const message = event.data;
    if (typeof message === "object") {
      setup = { ...message, bodies: floodBodies() };
    } else if (message === "resume" && setup !== undefined) {
      paused = false;
      void flood(setup.port, setup.clients, setup.bodies);
    } else if (message === "pause") {
      paused = true;
    } else if (message === "stop") {
      self.postMessage({ requests, answers });
      self.close();
    }
  };
}
