/**
 * The pure parts of the wrk load generator and its syscall counter (tests/bench/wrk.ts,
 * tests/bench/wrk_syscalls.ts): the Lua text they generate and the output they parse. No test
 * runs wrk or perf (benchmarks only; CI does not install them).
 *
 * @module
 */
import assert from "node:assert/strict";
import { luaString, parseWrkOutput, wrkScript } from "./wrk.ts";
import { parsePerfStat } from "./wrk_syscalls.ts";

/** Decodes a Lua string literal of the form luaString writes (printable bytes and `\ddd`). */
function decodeLua(literal: string): string {
  assert.ok(literal.startsWith('"') && literal.endsWith('"'));
  return literal.slice(1, -1).replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(+d));
}

Deno.test("luaString escapes quotes, backslashes and every non-printable byte, and nothing is lost", () => {
  const text = 'a"b\\c\r\n\x00\xff{"Plaintext":"QUJD"} ~';
  const literal = luaString(text);
  assert.equal(decodeLua(literal), text);
  // Nothing between the quotes could end the literal or start a Lua escape other than \ddd.
  const inner = literal.slice(1, -1);
  assert.doesNotMatch(inner, /"|\\(?!\d{3})/);
  assert.ok([...inner].every((c) => c >= " " && c <= "~"), "only printable ASCII between quotes");
});

Deno.test("wrkScript names Host and Content-Length once, as wrk.format expects, and keeps every other header", () => {
  const script = wrkScript([{
    method: "POST",
    path: "/",
    headers: {
      host: "127.0.0.1:9",
      "content-length": "2",
      "x-amz-target": "TrentService.Encrypt",
    },
    body: new TextEncoder().encode("{}"),
  }]);
  assert.match(script, /\["Host"\] = "127\.0\.0\.1:9"/);
  assert.match(script, /\["Content-Length"\] = "2"/);
  assert.match(script, /\["x-amz-target"\] = "TrentService\.Encrypt"/);
  assert.doesNotMatch(script, /\["host"\]|\["content-length"\]/);
  assert.match(script, /if status ~= 200 then/);
});

Deno.test("parseWrkOutput reads the result line, counts non-200 replies and converts units", () => {
  const output = [
    "Running 4s test @ http://127.0.0.1:9",
    'WRK_RESULT {"requests":1200,"non200":3,"socketErrors":1,"durationUs":4000000,' +
    '"p50Us":2500,"p99Us":12000,"cpuTicks":37,"servedBy":{"0":590,"1":610}}',
    "WRK_FIRST_ERROR 400 bad",
  ].join("\n");
  const result = parseWrkOutput(output);
  assert.deepEqual(result, {
    requests: 1200,
    non200: 3,
    socketErrors: 1,
    firstError: "400 bad",
    seconds: 4,
    p50Ms: 2.5,
    p99Ms: 12,
    cpuSeconds: 0.37,
    servedBy: { "0": 590, "1": 610 },
  });
  assert.throws(() => parseWrkOutput("Running 4s test"), /no result/);
});

Deno.test("parsePerfStat sums each thread name's tracepoints into their groups and skips threads not counted", () => {
  const output = [
    "worker-2-101,40,,syscalls:sys_enter_epoll_wait,1000,100.00,,",
    "worker-2-104,2,,syscalls:sys_enter_epoll_pwait,1000,100.00,,",
    "worker-2-101,300,,syscalls:sys_enter_recvfrom,1000,100.00,,",
    "worker-2-101,100,,syscalls:sys_enter_read,1000,100.00,,",
    "tokio-runtime-w-7,<not counted>,,syscalls:sys_enter_read,0,100.00,,",
    "V8 DefaultWorke-5,9,,syscalls:sys_enter_futex,1000,100.00,,",
  ].join("\n");
  const counts = parsePerfStat(output);
  assert.deepEqual(counts.get("worker-2"), { epoll: 42, read: 400 });
  assert.deepEqual(counts.get("V8 DefaultWorke"), { futex: 9 });
  assert.equal(counts.has("tokio-runtime-w"), false);
});
