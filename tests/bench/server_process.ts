/**
 * The benchmark's server subprocess (`bench_server.ts` in its own Deno
 * process) and CPU accounting of processes from /proc.
 *
 * @module
 */

/** Environment and flags of the server subprocess. */
export interface ServerOptions {
  /** Extra `deno run` flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  denoFlags: string[];
  env: Record<string, string>;
  /** A file that receives everything the server prints (appended), if set. */
  logFile?: string | undefined;
}

const SERVER_SCRIPT = new URL("./bench_server.ts", import.meta.url).pathname;
const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** A running `bench_server.ts`. */
export class ServerProcess {
  readonly port: number;
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  readonly #tail: string[];
  readonly #drained: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    tail: string[],
    drained: Promise<void>,
  ) {
    this.#child = child;
    this.port = port;
    this.pid = child.pid;
    this.#tail = tail;
    this.#drained = drained;
  }

  /** The command line that starts the server. */
  static commandLine(options: ServerOptions): string[] {
    return [Deno.execPath(), "run", "-A", ...options.denoFlags, SERVER_SCRIPT];
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
    const log = options.logFile === undefined
      ? undefined
      : await Deno.open(options.logFile, { create: true, append: true });
    const utf8 = new TextEncoder();
    const remember = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      log?.writeSync(utf8.encode(line + "\n"));
    };
    let resolvePort: (port: number) => void = () => {};
    const portKnown = new Promise<number>((resolve) => resolvePort = resolve);
    const drainStdout = (async () => {
      for await (const line of lines(child.stdout)) {
        remember(line);
        if (line.startsWith('{"port"')) resolvePort((JSON.parse(line) as { port: number }).port);
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
    return new ServerProcess(child, port, tail, drained);
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
