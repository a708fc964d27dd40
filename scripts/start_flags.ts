/**
 * The V8 flags the server starts with, read from the one place that sets them for users: the
 * `start` task of deno.json (bin/edge-kms.mjs and the `compile` task repeat them; a test checks
 * they agree). Benchmarks start their servers with these flags so they measure what users run.
 *
 * @module
 */

const DENO_JSON = new URL("../deno.json", import.meta.url);

/** The words of a task's command line that are `--v8-flags=…`. */
export function v8FlagsOf(command: string): string[] {
  return command.split(/\s+/).filter((word) => word.startsWith("--v8-flags="));
}

/** The `--v8-flags=…` of deno.json's `start` task (none: an empty list). */
export function startV8Flags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(DENO_JSON)) as {
    tasks: Record<string, string | { command: string }>;
  };
  const start = config.tasks.start;
  return v8FlagsOf(typeof start === "string" ? start : start?.command ?? "");
}

/**
 * The V8 flags a benchmark's server starts with: those of `deno task start`, or none with
 * `BENCH_START_FLAGS=off` (to measure what they change, A/B).
 */
export function benchServerV8Flags(): string[] {
  return Deno.env.get("BENCH_START_FLAGS") === "off" ? [] : startV8Flags();
}
