/**
 * The benchmark's server subprocess (`bench_server.ts`, or `main.ts` itself,
 * in its own Deno process), CPU and memory accounting of processes from /proc,
 * and how many sockets listen on a port (request-serving workers with
 * `reusePort` each listen on their own).
 *
 * @module
 */
import { benchServerV8Flags } from "../../scripts/start_flags.ts";

/** Environment and flags of the server subprocess. */
export interface ServerOptions {
  /** Extra `deno run` flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  denoFlags: string[];
  env: Record<string, string>;
  /** A file that receives everything the server prints (appended), if set. */
  logFile?: string | undefined;
  /**
   * `bench`: bench_server.ts (the service plus the /__bench routes; default); `main`: main.ts as
   * the README starts it (then KMS_PORT must name a free port: see `freePort`).
   */
  script?: "bench" | "main" | undefined;
}

const SERVER_SCRIPT = new URL("./bench_server.ts", import.meta.url).pathname;
const MAIN_SCRIPT = new URL("../../main.ts", import.meta.url).pathname;
/** The port in bench_server.ts's first line or in main.ts's "KMS listening on" log line. */
const PORT_LINE = /^\{"port":(\d+)|KMS listening on http:\/\/[^"]*:(\d+)/;
const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** One garbage collection the server reported (`--v8-flags=--trace-gc`, BENCH_GC=1). */
export interface GcPause {
  /** The V8 isolate (the main thread's, a worker's). */
  isolate: string;
  kind: "Scavenge" | "Mark-Compact";
  /** Time the isolate was paused, ms (for an incremental mark-compact: its final pause). */
  ms: number;
  /** The largest incremental marking step before it, ms (0 for a scavenge). */
  stepMs: number;
}

const GC_LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|(?:Incremental )?Mark-Compact)\b.*? MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?:.*biggest step ([\d.]+) ms)?/;

/** The pause a `--trace-gc` line reports, or undefined for any other line. */
export function parseGcLine(line: string): GcPause | undefined {
  const m = GC_LINE.exec(line);
  if (m === null) return undefined;
  return {
    isolate: m[1]!,
    kind: m[2] === "Scavenge" ? "Scavenge" : "Mark-Compact",
    ms: Number(m[3]),
    stepMs: Number(m[4] ?? 0),
  };
}

/** A running `bench_server.ts`. */
export class ServerProcess {
  readonly port: number;
  readonly pid: number;
  /** Which script runs: bench_server.ts (with the /__bench routes) or main.ts. */
  readonly script: "bench" | "main";
  readonly #child: Deno.ChildProcess;
  readonly #tail: string[];
  /** Lines printed so far that mention workers (how many serve requests). */
  readonly facts: string[];
  /** Every garbage collection reported so far (only with `--trace-gc`), in order. */
  readonly gc: GcPause[];
  readonly #drained: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    tail: string[],
    drained: Promise<void>,
    facts: string[],
    script: "bench" | "main",
    gc: GcPause[],
  ) {
    this.gc = gc;
    this.script = script;
    this.#child = child;
    this.port = port;
    this.pid = child.pid;
    this.#tail = tail;
    this.facts = facts;
    this.#drained = drained;
  }

  /** The command line that starts the server. */
  static commandLine(options: ServerOptions): string[] {
    const script = options.script === "main" ? MAIN_SCRIPT : SERVER_SCRIPT;
    // The V8 flags of `deno task start` (scripts/start_flags.ts): the bench measures what users run.
    return [Deno.execPath(), "run", "-A", ...benchServerV8Flags(), ...options.denoFlags, script];
  }

  /** Spawns the server and waits until it listens. */
  static async start(options: ServerOptions): Promise<ServerProcess> {
    const [command, ...args] = ServerProcess.commandLine(options);
    const child = new Deno.Command(command!, {
      args,
      cwd: REPO_ROOT,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const tail: string[] = [];
    const facts: string[] = [];
    const gc: GcPause[] = [];
    const log = options.logFile === undefined
      ? undefined
      : await Deno.open(options.logFile, { create: true, append: true });
    const utf8 = new TextEncoder();
    const remember = (line: string) => {
      const pause = parseGcLine(line);
      if (pause !== undefined) {
        gc.push(pause);
        log?.writeSync(utf8.encode(line + "\n"));
        return;
      }
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (facts.length < 20 && /worker/i.test(line) && !line.includes('"message":"request"')) {
        facts.push(line);
      }
      log?.writeSync(utf8.encode(line + "\n"));
    };
    let resolvePort: (port: number) => void = () => {};
    const portKnown = new Promise<number>((resolve) => resolvePort = resolve);
    const drainStdout = (async () => {
      for await (const line of lines(child.stdout)) {
        remember(line);
        const port = PORT_LINE.exec(line);
        if (port !== null) resolvePort(Number(port[1] ?? port[2]));
      }
    })();
    const drainStderr = (async () => {
      for await (const line of lines(child.stderr)) remember(line);
    })();
    const drained = Promise.all([drainStdout, drainStderr]).then(() => log?.close());
    const exited = child.status.then((status) => {
      throw new Error(`server exited (${status.code}) before listening:\n${tail.join("\n")}`);
    });
    const port = await Promise.race([portKnown, exited]);
    exited.catch(() => {});
    return new ServerProcess(child, port, tail, drained, facts, options.script ?? "bench", gc);
  }

  /** The last lines the server printed. */
  tail(): string {
    return this.#tail.join("\n");
  }

  /** SIGTERM, then waits for the exit (the server closes its store first). */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await this.#drained;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
  if (pending !== "") yield pending;
}

/** A TCP port free on 127.0.0.1 right now (for a server that must be told its port). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * How many sockets listen on `port` (/proc/net/tcp and tcp6, state LISTEN): one per
 * request-serving worker when they share the port with `reusePort`; NaN off Linux.
 */
export function listeningSockets(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      if (table.endsWith("tcp")) return Number.NaN;
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; state 0A is LISTEN.
      if (fields[1]?.endsWith(`:${hex}`) && fields[3] === "0A") count++;
    }
  }
  return count;
}

/** Memory of a process from /proc/<pid>/status: resident now and its peak (VmHWM), MiB. */
export function residentMemory(pid: number): { rssMb: number; peakMb: number } {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
  } catch {
    return { rssMb: Number.NaN, peakMb: Number.NaN };
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Busy CPU seconds of the whole machine, all processes (user, nice, system, irq, softirq,
 * steal from /proc/stat): less this benchmark's own processes, what others took.
 */
export function machineBusySeconds(): number {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1)
      .map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) +
      (steal ?? 0)) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The load average line of /proc/loadavg (1, 5, 15 minutes), or "n/a". */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}

/** User + system CPU seconds of a process (all threads) or of one of its threads. */
export function cpuSeconds(pid: number | "self", thread?: number): number {
  const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  try {
    const stat = Deno.readTextFileSync(path);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here (0-based 11, 12).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The `x-kms-isolate` header of a `GET /ready` on a new connection, or undefined. */
async function isolateOfNewConnection(port: number): Promise<string | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET /ready HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`,
    ));
    let reply = "";
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      reply += new TextDecoder().decode(buf.subarray(0, n));
    }
    return /\r\nx-kms-isolate:\s*(\S+)/i.exec(reply)?.[1];
  } finally {
    conn.close();
  }
}

/**
 * Waits until every isolate answers: /ready turns 200 once the first isolate listens, and
 * connections the kernel spreads before the others join their port all go to the first (a
 * measure taken then, or a client pool that keeps its connections, loads one isolate alone).
 */
export async function waitForIsolates(port: number, workers: number): Promise<void> {
  if (workers < 2) return;
  const seen = new Set<string>();
  const deadline = Date.now() + 60_000;
  while (seen.size < workers) {
    const isolate = await isolateOfNewConnection(port);
    if (isolate !== undefined) seen.add(isolate);
    if (Date.now() > deadline) {
      throw new Error(`only isolates ${[...seen].join(", ")} of ${workers} answered within 60 s`);
    }
  }
}
