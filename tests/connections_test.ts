/**
 * Connection abuse against the listener (routes/listener.ts): idle connections, slowloris,
 * descriptor exhaustion under a lowered `ulimit -n`, oversized headers, slow bodies, idle
 * keep-alive connections, shutdown with a request in flight.
 *
 * The child-process tests run main.ts as deployed. Sizes are bounded for CI; deeper runs by
 * environment: CONN_IDLE (idle connections, default 3000, fewer when this process's own
 * descriptor limit is low), CONN_SLOWLORIS (default 500), CONN_SERVER_FDS (the server's
 * `ulimit -n`, default 1024). Tests assert behaviour (survives, closes, serves again), never a
 * time bound; measured times are printed as `figure:` lines (README "Connections and limits").
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateKeyCommand, GenerateDataKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { ConfigError, DEFAULT_CONNECTION_LIMITS, parseConfig } from "../core/config.ts";
import { connectionBound, descriptorLimit, listen, MIN_FD_RESERVE } from "../routes/listener.ts";
import { kmsEnv, type KmsProcess, startKms } from "./helpers/kms_process.ts";
import { waitFor } from "./helpers/wait.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function envNumber(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  return raw === undefined || raw === "" ? fallback : Number(raw);
}

/** A connection attempt bounded by `timeoutMs` (a full backlog leaves a connect pending). */
async function connectWithin(port: number, timeoutMs: number): Promise<Deno.TcpConn | null> {
  const attempt = Deno.connect({ hostname: "127.0.0.1", port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const conn = await Promise.race([attempt.catch(() => null), late]);
  clearTimeout(timer);
  if (conn === null) attempt.then((c) => c.close(), () => {});
  return conn;
}

/** Resolves with the time a connection was closed by the peer (EOF, reset or any reply). */
async function closedAt(conn: Deno.TcpConn): Promise<number> {
  const buffer = new Uint8Array(4096);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
    }
  } catch {
    // reset by the server: closed
  }
  return performance.now();
}

/** Whether process `pid` is alive (Linux /proc; true elsewhere: the signed client decides). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    return true;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function serverEnv(extra: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "kms-conn-" });
  return {
    dir,
    env: { ...kmsEnv(`file:${dir}/kms.db`, `${dir}/root.key`), ...extra },
  };
}

async function stopServer(kms: KmsProcess, dir: string) {
  await kms.stop();
  await Deno.remove(dir, { recursive: true });
}

Deno.test("idle connections beyond the descriptor limit are refused or closed; the process lives and serves a signed client after", async () => {
  const ownLimit = descriptorLimit() ?? 1024;
  // This process needs a descriptor per connection too: lower the server's limit when ours is low.
  const serverFds = Math.min(envNumber("CONN_SERVER_FDS", 1024), Math.floor((ownLimit - 256) / 3));
  const idle = Math.min(envNumber("CONN_IDLE", 3000), ownLimit - 256);
  assert.ok(idle > serverFds, `the test must open more connections (${idle}) than ${serverFds}`);
  const headersTimeoutMs = 2_000;
  const { dir, env } = await serverEnv({
    KMS_HEADERS_TIMEOUT_MS: String(headersTimeoutMs),
    KMS_KEEPALIVE_TIMEOUT_MS: "2000",
  });
  const kms = await startKms(env, { fdLimit: serverFds });
  const conns: Deno.TcpConn[] = [];
  try {
    const key = await kms.client.send(new CreateKeyCommand({}));
    const port = Number(new URL(kms.url).port);
    let refused = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < idle) {
        next++;
        const conn = await connectWithin(port, 3_000);
        if (conn === null) refused++;
        else conns.push(conn);
      }
    }));
    const closes = conns.map(closedAt);
    let closed = 0;
    for (const close of closes) close.then(() => closed++);
    assert.ok(alive(kms.pid), `the server died holding ${conns.length} connections`);
    // Every idle connection is closed by the server (bound or header timeout), none kept.
    await waitFor(() => closed === conns.length, "the server to close idle connections", {
      timeoutMs: 120_000,
    });
    const allClosedMs = performance.now() - started;
    assert.ok(alive(kms.pid), "the server died");
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const reply = await kms.client.send(
        new GenerateDataKeyCommand({ KeyId: key.KeyMetadata!.KeyId!, KeySpec: "AES_256" }),
      );
      latencies.push(performance.now() - t);
      assert.equal(reply.Plaintext?.length, 32);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `figure: ${idle} idle connections, server ulimit -n ${serverFds}: ${conns.length} accepted, ` +
        `${refused} not accepted within 3 s, all closed after ${Math.round(allClosedMs)} ms; ` +
        `then GenerateDataKey p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (200 sequential)`,
    );
    // Served again: all 200 calls above succeeded (their latency is a printed figure, not a bound).
    assert.doesNotMatch(kms.output(), /Uncaught|Too many open files/);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await stopServer(kms, dir);
  }
});

Deno.test("slowloris connections are closed by the header timeout, and not before it", async () => {
  const count = envNumber("CONN_SLOWLORIS", 500);
  const headersTimeoutMs = 2_000;
  const { dir, env } = await serverEnv({ KMS_HEADERS_TIMEOUT_MS: String(headersTimeoutMs) });
  const kms = await startKms(env);
  const conns: Deno.TcpConn[] = [];
  try {
    const port = Number(new URL(kms.url).port);
    const lifetimes: number[] = [];
    const runs: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      const start = performance.now();
      const closed = closedAt(conn);
      runs.push((async () => {
        // A header line every 500 ms, never the blank line that ends the header section.
        let open = true;
        closed.then(() => open = false);
        try {
          await conn.write(encoder.encode(`POST / HTTP/1.1\r\nHost: kms\r\n`));
          for (let line = 0; open; line++) {
            await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 500))]);
            if (open) await conn.write(encoder.encode(`x-slow-${line}: a\r\n`));
          }
        } catch {
          // the server closed it mid-write
        }
        lifetimes.push((await closed) - start);
      })());
    }
    // Deadline-based: every connection's close is awaited, for at most 60 s past the timeout.
    await waitFor(() => lifetimes.length === count, `${count} slowloris connections to be closed`, {
      timeoutMs: 60_000 + headersTimeoutMs,
    });
    await Promise.all(runs);
    lifetimes.sort((a, b) => a - b);
    const max = lifetimes.at(-1)!;
    console.log(
      `figure: ${count} slowloris connections, header timeout ${headersTimeoutMs} ms: closed after ` +
        `min ${Math.round(lifetimes[0]!)} ms, p50 ${Math.round(percentile(lifetimes, 50))} ms, ` +
        `max ${Math.round(max)} ms`,
    );
    assert.equal(lifetimes.length, count);
    // Each client keeps sending header lines, so only the header timeout can have closed them (the
    // wait above is the proof); none was cut before that timeout. How soon after it is a figure.
    assert.ok(lifetimes[0]! >= headersTimeoutMs * 0.8, `closed after ${lifetimes[0]} ms`);
    assert.ok(alive(kms.pid));
    await kms.client.send(new ListKeysCommand({}));
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await stopServer(kms, dir);
  }
});

/** Sends `raw` on a fresh connection and reads the reply until the server closes it. */
async function rawExchange(port: number, raw: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(raw)).catch(() => {});
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        chunks.push(buffer.slice(0, n));
      }
    } catch { /* reset after the reply */ }
    return chunks.map((c) => decoder.decode(c)).join("");
  } finally {
    conn.close();
  }
}

/** A listener on 127.0.0.1 serving `fetch`, with short limits for tests. */
function testListener(
  fetch: Parameters<typeof listen>[0],
  limits: Partial<typeof DEFAULT_CONNECTION_LIMITS> = {},
) {
  return listen(fetch, {
    hostname: "127.0.0.1",
    port: 0,
    log: () => {},
    ...DEFAULT_CONNECTION_LIMITS,
    ...limits,
  });
}

Deno.test("an oversized header or header section gets an AWS JSON error, not an empty 400", async () => {
  let reached = 0;
  const server = await testListener(() => {
    reached++;
    return new Response("{}");
  }, { maxHeaderBytes: 8192 });
  try {
    const oneHeader = `x-big: ${"a".repeat(10_000)}\r\n`;
    const manyHeaders = Array.from({ length: 200 }, (_, i) => `x-h${i}: ${"b".repeat(60)}\r\n`)
      .join("");
    for (const headers of [oneHeader, manyHeaders]) {
      const reply = await rawExchange(
        server.addr.port,
        `POST / HTTP/1.1\r\nHost: kms\r\ncontent-length: 2\r\n${headers}\r\n{}`,
      );
      const [head, body] = reply.split("\r\n\r\n");
      assert.match(head!, /^HTTP\/1\.1 413 /);
      assert.match(head!, /content-type: application\/x-amz-json-1\.1/i);
      assert.deepEqual(JSON.parse(body!), {
        __type: "RequestEntityTooLargeException",
        message: "Request header section must not exceed 8192 bytes.",
      });
    }
    assert.equal(reached, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("malformed HTTP gets an AWS JSON SerializationException", async () => {
  const server = await testListener(() => new Response("{}"));
  try {
    const reply = await rawExchange(server.addr.port, "NOT HTTP AT ALL\r\n\r\n");
    const [head, body] = reply.split("\r\n\r\n");
    assert.match(head!, /^HTTP\/1\.1 400 /);
    assert.equal(JSON.parse(body!).__type, "SerializationException");
  } finally {
    await server.shutdown();
  }
});

Deno.test("the app sees the peer address, method, URL, headers and body as Deno.serve passes them", async () => {
  const server = await testListener(async (request, env) =>
    Response.json({
      ip: env.remoteAddr.hostname,
      method: request.method,
      url: request.url,
      target: request.headers.get("x-amz-target"),
      body: await request.text(),
    }, { status: 201, headers: { "x-amzn-requestid": "r-1" } })
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const sized = await fetch(`${base}/path?q=1`, {
      method: "POST",
      headers: { "x-amz-target": "TrentService.ListKeys" },
      body: '{"a":1}',
    });
    assert.equal(sized.status, 201);
    assert.equal(sized.headers.get("x-amzn-requestid"), "r-1");
    assert.deepEqual(await sized.json(), {
      ip: "127.0.0.1",
      method: "POST",
      url: `${base}/path?q=1`,
      target: "TrentService.ListKeys",
      body: '{"a":1}',
    });
    // A chunked body (no content-length) reaches the app as a stream.
    const chunked = await fetch(base, {
      method: "POST",
      body: ReadableStream.from([encoder.encode('{"b":'), encoder.encode("2}")]),
    });
    assert.equal((await chunked.json()).body, '{"b":2}');
  } finally {
    await server.shutdown();
  }
});

Deno.test("a body the app refuses unread still gets the app's reply, then the connection closes", async () => {
  const server = await testListener(async (request) => {
    await request.body?.cancel();
    return new Response('{"__type":"RequestEntityTooLargeException"}', { status: 413 });
  });
  try {
    const reply = await rawExchange(
      server.addr.port,
      `POST / HTTP/1.1\r\nHost: kms\r\ncontent-length: 5000000\r\n\r\n${"x".repeat(70_000)}`,
    );
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /connection: close/i);
    assert.match(reply, /RequestEntityTooLargeException/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("idle keep-alive connections and slow bodies are closed by their timeouts", async () => {
  const server = await testListener(async (request) => new Response(await request.text()), {
    keepAliveTimeoutMs: 300,
    headersTimeoutMs: 1_000,
    requestTimeoutMs: 1_500,
  });
  try {
    // Keep-alive: one request answered, then nothing: the server closes the connection.
    const idle = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await idle.write(encoder.encode("GET / HTTP/1.1\r\nHost: kms\r\n\r\n"));
    const closedIdle = closedAt(idle);
    let idleClosed = false;
    closedIdle.then(() => idleClosed = true);
    await waitFor(() => idleClosed, "the idle keep-alive connection to be closed", {
      timeoutMs: 30_000,
    });
    idle.close();
    // Slow body: 1 MB announced, one byte sent every 200 ms: it never completes, so only the request
    // timeout can close the connection (the waitFor deadline below fails the test otherwise).
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await slow.write(
      encoder.encode("POST / HTTP/1.1\r\nHost: kms\r\ncontent-length: 1000000\r\n\r\n"),
    );
    let slowClosed = false;
    const closedSlow = closedAt(slow).then(() => slowClosed = true);
    const giveUp = Date.now() + 30_000;
    while (!slowClosed && Date.now() < giveUp) {
      await Promise.race([closedSlow, new Promise((resolve) => setTimeout(resolve, 200))]);
      if (!slowClosed) await slow.write(encoder.encode("a")).catch(() => {});
    }
    await waitFor(() => slowClosed, "the slow body's connection to be closed", {
      timeoutMs: 30_000,
    });
    slow.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("shutdown stops accepting and lets the request in flight finish", async () => {
  let release = () => {};
  const released = new Promise<void>((resolve) => release = resolve);
  let arrived = false;
  const server = await testListener(async () => {
    arrived = true;
    await released;
    return new Response("done");
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const inFlight = fetch(url, { method: "POST", body: "{}" });
  await waitFor(() => arrived, "the request to reach the app", { timeoutMs: 30_000 });
  const stopped = server.shutdown(30_000);
  await assert.rejects(
    () => fetch(url).then((r) => r.body?.cancel()),
    "a new connection after shutdown was accepted",
  );
  release();
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.equal(await reply.text(), "done");
  await stopped;
  assert.equal(server.connections(), 0);
});

Deno.test("the connection bound stays below the descriptor limit", () => {
  // A quarter of the limit stays free beyond the descriptors open at start.
  assert.equal(connectionBound(4096, 1024, 40), 1024 - 40 - 256);
  assert.equal(connectionBound(4096, 256, 40), 256 - 40 - MIN_FD_RESERVE);
  assert.equal(connectionBound(100, 1024, 40), 100);
  assert.equal(connectionBound(4096, undefined, 40), 4096);
  assert.equal(connectionBound(4096, 64, 40), 1);
});

Deno.test("connection limits come from KMS_* variables with documented defaults", () => {
  assert.deepEqual(parseConfig({}).connectionLimits, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    maxConnections: 4096,
    maxHeaderBytes: 16_384,
    turnBudgetMs: 0,
  });
  assert.deepEqual(
    parseConfig({
      KMS_HEADERS_TIMEOUT_MS: "1000",
      KMS_REQUEST_TIMEOUT_MS: "2000",
      KMS_KEEPALIVE_TIMEOUT_MS: "300",
      KMS_MAX_CONNECTIONS: "50",
      KMS_MAX_HEADER_BYTES: "4096",
      KMS_TURN_BUDGET_MS: "2",
    }).connectionLimits,
    {
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 300,
      maxConnections: 50,
      maxHeaderBytes: 4096,
      turnBudgetMs: 2,
    },
  );
  // The turn budget takes fractions of a millisecond, written as plain decimals.
  assert.equal(parseConfig({ KMS_TURN_BUDGET_MS: "1.5" }).connectionLimits.turnBudgetMs, 1.5);
  for (
    const bad of [
      { KMS_TURN_BUDGET_MS: "1e1" },
      { KMS_TURN_BUDGET_MS: ".5" },
      { KMS_TURN_BUDGET_MS: "abc" },
      { KMS_HEADERS_TIMEOUT_MS: "0" },
      { KMS_REQUEST_TIMEOUT_MS: "abc" },
      { KMS_MAX_CONNECTIONS: "-1" },
      { KMS_MAX_HEADER_BYTES: "10" },
      { KMS_TURN_BUDGET_MS: "-1" },
      { KMS_HEADERS_TIMEOUT_MS: "5000", KMS_REQUEST_TIMEOUT_MS: "4000" },
    ]
  ) {
    assert.throws(() => parseConfig(bad), ConfigError, JSON.stringify(bad));
  }
});

Deno.test("out of descriptors: the process lives, logs it, and accepts again once descriptors are free", async () => {
  const fixture = new URL("./helpers/emfile_server.ts", import.meta.url).pathname;
  const child = new Deno.Command("bash", {
    args: ["-c", `ulimit -n 256 && exec "$0" run --allow-all "$1"`, Deno.execPath(), fixture],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
  })();
  const stdin = child.stdin.getWriter();
  const seen = (pattern: RegExp) => lines.some((line) => pattern.test(line));
  const conns: Deno.TcpConn[] = [];
  try {
    await waitFor(() => seen(/^port \d+$/), "the fixture to listen", { timeoutMs: 60_000 });
    const port = Number(lines.find((line) => /^port /.test(line))!.slice(5));
    const url = `http://127.0.0.1:${port}/`;
    const served = async () => {
      try {
        const reply = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        return reply.status === 200 && await reply.text() === "ok";
      } catch {
        return false;
      }
    };
    assert.ok(await served());
    await stdin.write(encoder.encode("exhaust\n"));
    await waitFor(() => seen(/^exhausted \d+$/), "the fixture to use up its descriptors", {
      timeoutMs: 30_000,
    });
    // Connections now wait to be accepted; accepting them fails with EMFILE.
    for (let i = 0; i < 20; i++) {
      const conn = await connectWithin(port, 2_000);
      if (conn !== null) conns.push(conn);
    }
    await waitFor(() => seen(/"listener: /), "the listener to log the problem", {
      timeoutMs: 30_000,
    });
    assert.ok(alive(child.pid), "the process died out of descriptors");
    await stdin.write(encoder.encode("release\n"));
    await waitFor(() => seen(/^released$/), "the fixture to free its descriptors", {
      timeoutMs: 30_000,
    });
    const deadline = Date.now() + 60_000;
    let ok = false;
    while (!ok && Date.now() < deadline) ok = await served();
    assert.ok(ok, `not served again after the descriptors were freed:\n${lines.join("\n")}`);
    console.log(`figure: listener log while out of descriptors:\n${lines.join("\n")}`);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await stdin.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await reading;
  }
});
