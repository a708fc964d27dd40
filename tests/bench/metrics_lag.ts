/**
 * Event-loop lag of a server that has no `/__bench/lag` route (main.ts itself): read from its
 * `GET /metrics` (`kms_event_loop_lag_seconds`, core/event_loop_lag.ts) before and after a
 * window, as a `LagReport` of that window. Quantiles are the upper bound of the histogram bucket
 * they fall in (0.5 ms steps up to 5 ms); the maximum is exact when the server's largest lag grew
 * during the window, else the bound of the highest bucket that got a sample. With several
 * request-serving workers, each isolate has its own figures and the scrape shows the one that
 * answered it.
 *
 * @module
 */
import { LAG_BUCKETS, lagQuantile, type LagSnapshot } from "../../core/event_loop_lag.ts";
import type { LagReport } from "./bench_server.ts";

/** The lag histogram in a `/metrics` text; undefined when the server does not export it. */
export function parseLagSnapshot(text: string): LagSnapshot | undefined {
  const cumulative = [
    ...text.matchAll(/^kms_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm),
  ]
    .map((m) => Number(m[2]));
  if (cumulative.length !== LAG_BUCKETS.length + 1) return undefined;
  const counts = cumulative.map((n, i) => n - (i === 0 ? 0 : cumulative[i - 1]!));
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  return {
    counts,
    sum: value("kms_event_loop_lag_seconds_sum"),
    count: value("kms_event_loop_lag_seconds_count"),
    max: value("kms_event_loop_lag_max_seconds"),
  };
}

/** Fetches `/metrics` of the server at `base`; its lag histogram, or undefined. */
export async function scrapeLag(base: string): Promise<LagSnapshot | undefined> {
  try {
    const response = await fetch(`${base}/metrics`);
    return parseLagSnapshot(await response.text());
  } catch {
    return undefined;
  }
}

/** The lag of the window between two scrapes, in the bench's `LagReport` shape (ms). */
export function lagReportBetween(
  before: LagSnapshot | undefined,
  after: LagSnapshot | undefined,
): LagReport {
  const none: LagReport = {
    maxMs: Number.NaN,
    maxOwnMs: Number.NaN,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    p999Ms: Number.NaN,
    ownP99Ms: Number.NaN,
    samples: 0,
    over5ms: 0,
    events: [],
    worst: [],
  };
  if (after === undefined) return none;
  const delta = after.counts.map((n, i) => n - (before?.counts[i] ?? 0));
  const samples = delta.reduce((a, b) => a + b, 0);
  if (samples === 0) return none;
  const highest = delta.findLastIndex((n) => n > 0);
  const maxMs = before !== undefined && after.max > before.max
    ? after.max * 1000
    : (LAG_BUCKETS[highest] ?? Infinity) * 1000;
  const fiveMs = LAG_BUCKETS.indexOf(0.005);
  return {
    ...none,
    maxMs,
    // A bucket's bound may exceed the exact maximum that fell in it.
    p50Ms: Math.min(maxMs, lagQuantile(after, before, 0.5) * 1000),
    p99Ms: Math.min(maxMs, lagQuantile(after, before, 0.99) * 1000),
    p999Ms: Math.min(maxMs, lagQuantile(after, before, 0.999) * 1000),
    samples,
    over5ms: delta.slice(fiveMs + 1).reduce((a, b) => a + b, 0),
  };
}
