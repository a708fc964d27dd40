/**
 * Syscall counts per thread name of a server over a load window (a wrk run's, or any other
 * client's), from the kernel's syscall tracepoints through `perf stat --per-thread` (root or
 * perf_event_paranoid ≤ 1; no overhead on the traced threads beyond the tracepoint's counter).
 * Benchmarks only (scripts/workers_bench.ts with BENCH_PERF=1): the question they answer is
 * whether an isolate that serves fewer requests per event-loop turn makes more epoll_wait and
 * futex calls per request.
 *
 * @module
 */
import { onPath } from "./wrk.ts";

/** The groups counted, each the sum of its tracepoints. */
export const SYSCALL_GROUPS: Record<string, string[]> = {
  all: ["raw_syscalls:sys_enter"],
  epoll: ["syscalls:sys_enter_epoll_wait", "syscalls:sys_enter_epoll_pwait"],
  futex: ["syscalls:sys_enter_futex"],
  read: ["syscalls:sys_enter_read", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_readv"],
  write: [
    "syscalls:sys_enter_write",
    "syscalls:sys_enter_writev",
    "syscalls:sys_enter_sendto",
    "syscalls:sys_enter_sendmsg",
  ],
  disk: [
    "syscalls:sys_enter_pread64",
    "syscalls:sys_enter_pwrite64",
    "syscalls:sys_enter_fsync",
    "syscalls:sys_enter_fdatasync",
  ],
};

/** Per thread name (`comm`), per group: the count over the window. */
export type SyscallCounts = Map<string, Record<string, number>>;

/** A `perf stat` attached to a process until `stop`. */
export interface SyscallWindow {
  stop(): Promise<SyscallCounts>;
}

/** The path of `perf` on PATH, or undefined. */
export function perfPath(): string | undefined {
  return onPath("perf");
}

/** Starts counting the syscalls of every thread `pid` has now. */
export function countSyscalls(perf: string, pid: number): SyscallWindow {
  const events = Object.values(SYSCALL_GROUPS).flat();
  const child = new Deno.Command(perf, {
    args: ["stat", "-x", ",", "--per-thread", "-e", events.join(","), "-p", String(pid)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return {
    async stop() {
      child.kill("SIGINT");
      const { stderr } = await child.output();
      return parsePerfStat(new TextDecoder().decode(stderr));
    },
  };
}

/** The group of each tracepoint. */
const GROUP_OF = new Map(
  Object.entries(SYSCALL_GROUPS).flatMap(([group, events]) => events.map((e) => [e, group])),
);

/**
 * Parses `perf stat -x , --per-thread` lines (`comm-tid,count,,event,…`; `<not counted>` for a
 * thread that made none) into counts per thread name and group.
 */
export function parsePerfStat(output: string): SyscallCounts {
  const counts: SyscallCounts = new Map();
  for (const line of output.split("\n")) {
    const [thread, count, , event] = line.split(",");
    const group = GROUP_OF.get(event ?? "");
    const value = Number(count);
    if (thread === undefined || group === undefined || !Number.isFinite(value)) continue;
    const name = thread.replace(/-\d+$/, "");
    const row = counts.get(name) ?? {};
    row[group] = (row[group] ?? 0) + value;
    counts.set(name, row);
  }
  return counts;
}
