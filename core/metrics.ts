/**
 * In-process metrics in the Prometheus text exposition format (version 0.0.4): requests and
 * errors (by AWS exception name) per operation, a fixed-bucket latency histogram per operation,
 * requests refused before authentication (by AWS exception name), keys by key state (counted at
 * scrape time through the `KeyStateCounter` port), the event loop's lag (core/event_loop_lag.ts:
 * a histogram and the largest lag; only when asked for) and the process's resident memory and JS
 * heap.
 *
 * Labels hold only operation names, exception names and key states, never a key id, principal or
 * anything from a request body, so a scrape shows no secret and its series stay few.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 * @module
 */
import { EventLoopLag, LAG_BUCKETS } from "./event_loop_lag.ts";
import type { KeyState } from "./types.ts";

/** Upper bounds (seconds) of the latency histogram's buckets; `+Inf` is implied. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

const KEY_STATE_SET = {
  Creating: true,
  Enabled: true,
  Disabled: true,
  PendingDeletion: true,
  PendingImport: true,
  PendingReplicaDeletion: true,
  Unavailable: true,
  Updating: true,
} as const satisfies Record<KeyState, true>;

/** Every AWS key state, in the order a scrape lists them (each appears, 0 when no key has it). */
export const KEY_STATES: readonly KeyState[] = Object.freeze(
  Object.keys(KEY_STATE_SET) as KeyState[],
);

/** Port: how many keys are in each state right now (one cheap grouped count per scrape). */
export interface KeyStateCounter {
  countKeysByState(): Promise<ReadonlyMap<string, number>>;
}

/** One answered request, as the metrics see it. */
export interface RequestObservation {
  /** The operation name (a known operation, or `Unknown`). */
  operation: string;
  /** The AWS exception name of a failed request; undefined when it succeeded. */
  exception: string | undefined;
  /** Wall-clock time from receiving the request to having its reply, in seconds. */
  seconds: number;
}

class Histogram {
  readonly counts: number[] = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    // Per-bucket (not cumulative) counts; rendering accumulates them.
    const index = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    if (index >= 0) this.counts[index]!++;
  }
}

/** The counters and histograms of one process; `render` writes them in the text format. */
export class Metrics {
  readonly #lag: EventLoopLag | undefined;
  readonly #requests = new Map<string, number>();
  readonly #errors = new Map<string, Map<string, number>>();
  readonly #latency = new Map<string, Histogram>();
  readonly #authFailures = new Map<string, number>();
  readonly #throttled = new Map<string, number>();

  /**
   * `eventLoopLag`: sample this isolate's event-loop lag (an unref'd timer, stopped by `close`)
   * and render it.
   */
  constructor(options: { eventLoopLag?: boolean } = {}) {
    this.#lag = options.eventLoopLag === true ? new EventLoopLag() : undefined;
    this.#lag?.start();
  }

  /** Stops the event-loop lag sampler (the figures stay). */
  close(): void {
    this.#lag?.stop();
  }

  /** Counts one answered request. */
  observe(observation: RequestObservation): void {
    const { operation, exception, seconds } = observation;
    this.#requests.set(operation, (this.#requests.get(operation) ?? 0) + 1);
    if (exception !== undefined) {
      let byName = this.#errors.get(operation);
      if (byName === undefined) this.#errors.set(operation, byName = new Map());
      byName.set(exception, (byName.get(exception) ?? 0) + 1);
    }
    let histogram = this.#latency.get(operation);
    if (histogram === undefined) this.#latency.set(operation, histogram = new Histogram());
    histogram.observe(seconds);
  }

  /**
   * Counts one request answered before its caller was authenticated, by the AWS exception it got
   * (MissingAuthenticationTokenException, InvalidSignatureException, ...).
   */
  authFailure(exception: string): void {
    this.#authFailures.set(exception, (this.#authFailures.get(exception) ?? 0) + 1);
  }

  /** Counts one request of `operation` answered ThrottlingException (core/quotas.ts). */
  throttled(operation: string): void {
    this.#throttled.set(operation, (this.#throttled.get(operation) ?? 0) + 1);
  }

  /** Requests refused before authentication with `exception` so far (tests, diagnostics). */
  authFailures(exception: string): number {
    return this.#authFailures.get(exception) ?? 0;
  }

  /** Requests counted for `operation` so far (tests, diagnostics). */
  requests(operation: string): number {
    return this.#requests.get(operation) ?? 0;
  }

  /** The exposition text: every family with `# HELP` and `# TYPE`, series sorted by label. */
  render(keyStates: ReadonlyMap<string, number>): string {
    const lines: string[] = [];
    family(lines, "kms_requests_total", "counter", "KMS API requests answered, by operation.");
    for (const [operation, count] of sorted(this.#requests)) {
      lines.push(`kms_requests_total${labels({ operation })} ${count}`);
    }
    family(
      lines,
      "kms_request_errors_total",
      "counter",
      "KMS API requests answered with an error, by operation and AWS exception name.",
    );
    for (const [operation, byName] of sorted(this.#errors)) {
      for (const [exception, count] of sorted(byName)) {
        lines.push(`kms_request_errors_total${labels({ operation, exception })} ${count}`);
      }
    }
    family(
      lines,
      "kms_request_duration_seconds",
      "histogram",
      "Time from receiving a KMS API request to having its reply, by operation.",
    );
    for (const [operation, histogram] of sorted(this.#latency)) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += histogram.counts[i]!;
        lines.push(
          `kms_request_duration_seconds_bucket${
            labels({ operation, le: formatNumber(bound) })
          } ${cumulative}`,
        );
      });
      lines.push(
        `kms_request_duration_seconds_bucket${
          labels({ operation, le: "+Inf" })
        } ${histogram.count}`,
        `kms_request_duration_seconds_sum${labels({ operation })} ${formatNumber(histogram.sum)}`,
        `kms_request_duration_seconds_count${labels({ operation })} ${histogram.count}`,
      );
    }
    family(
      lines,
      "kms_auth_failures_total",
      "counter",
      "KMS API requests answered before the caller was authenticated, by AWS exception name.",
    );
    for (const [exception, count] of sorted(this.#authFailures)) {
      lines.push(`kms_auth_failures_total${labels({ exception })} ${count}`);
    }
    family(
      lines,
      "kms_throttled_requests_total",
      "counter",
      "KMS API requests past AWS's request quota (KMS_QUOTAS=aws), by operation.",
    );
    for (const [operation, count] of sorted(this.#throttled)) {
      lines.push(`kms_throttled_requests_total${labels({ operation })} ${count}`);
    }
    family(lines, "kms_keys", "gauge", "KMS keys by key state (all accounts and regions).");
    const states = [...KEY_STATES, ...[...keyStates.keys()].filter((s) => !isKnownState(s))];
    for (const state of states) {
      lines.push(`kms_keys${labels({ state })} ${keyStates.get(state) ?? 0}`);
    }
    this.#renderLag(lines);
    renderMemory(lines);
    return lines.join("\n") + "\n";
  }

  #renderLag(lines: string[]): void {
    if (this.#lag === undefined) return;
    const lag = this.#lag.snapshot();
    family(
      lines,
      "kms_event_loop_lag_seconds",
      "histogram",
      "How late a timer of this isolate fired: the time its event loop was held by other work.",
    );
    let cumulative = 0;
    LAG_BUCKETS.forEach((bound, i) => {
      cumulative += lag.counts[i]!;
      lines.push(
        `kms_event_loop_lag_seconds_bucket${labels({ le: formatNumber(bound) })} ${cumulative}`,
      );
    });
    lines.push(
      `kms_event_loop_lag_seconds_bucket${labels({ le: "+Inf" })} ${lag.count}`,
      `kms_event_loop_lag_seconds_sum ${formatNumber(lag.sum)}`,
      `kms_event_loop_lag_seconds_count ${lag.count}`,
    );
    family(lines, "kms_event_loop_lag_max_seconds", "gauge", "Largest event-loop lag since start.");
    lines.push(`kms_event_loop_lag_max_seconds ${formatNumber(lag.max)}`);
  }
}

/** Resident memory and JS heap of the process, when the runtime tells them. */
function renderMemory(lines: string[]): void {
  let usage: Deno.MemoryUsage;
  try {
    usage = Deno.memoryUsage();
  } catch {
    return;
  }
  family(lines, "process_resident_memory_bytes", "gauge", "Resident memory of the process.");
  lines.push(`process_resident_memory_bytes ${usage.rss}`);
  family(lines, "kms_heap_used_bytes", "gauge", "JS heap in use in this isolate.");
  lines.push(`kms_heap_used_bytes ${usage.heapUsed}`);
}

/** The content type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function isKnownState(state: string): boolean {
  return Object.hasOwn(KEY_STATE_SET, state);
}

function family(lines: string[], name: string, type: string, help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function sorted<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

function labels(values: Record<string, string>): string {
  const pairs = Object.entries(values).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return `{${pairs.join(",")}}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
