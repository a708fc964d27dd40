/**
 * A listener (routes/listener.ts) that uses up its own file descriptors on demand, for
 * tests/connections_test.ts. Prints `port <n>` once listening; then, for each line on stdin,
 * `exhaust` opens /dev/null until the descriptor limit is reached (prints `exhausted <count>`)
 * and `release` closes them again (prints `released`). The listener logs JSON lines on stdout.
 *
 * @module
 */
import { listen } from "../../routes/listener.ts";

const server = await listen(() => new Response("ok"), {
  hostname: "127.0.0.1",
  port: 0,
  log: (record) => console.log(JSON.stringify(record)),
  headersTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
  keepAliveTimeoutMs: 1_000,
  maxConnections: 4096,
  maxHeaderBytes: 16_384,
  watchdogIntervalMs: 500,
});
console.log(`port ${server.addr.port}`);

// As main.ts does: signal handling set up before descriptors run out (Deno 2.9.6 panics when it
// must set it up later, out of descriptors).
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

const held: Deno.FsFile[] = [];
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let rest = "";
for await (const chunk of lines) {
  const parts = (rest + chunk).split("\n");
  rest = parts.pop() ?? "";
  for (const command of parts) {
    if (command === "exhaust") {
      try {
        while (true) held.push(Deno.openSync("/dev/null"));
      } catch {
        console.log(`exhausted ${held.length}`);
      }
    } else if (command === "release") {
      for (const file of held.splice(0)) file.close();
      console.log("released");
    }
  }
}
