/**
 * The background work of a KMS, wired once for every served Region and used by
 * both entry points (main.ts through `openService`, deploy.ts through the same):
 *
 * - purging keys whose deletion date has passed (`Kms.purgeDueKeys`), in every
 *   Region, so multi-Region replicas in other Regions are purged too;
 * - expiring imported key material past its ValidTo, and import parameters
 *   past their 24 hours (`expireDueImportedMaterial`);
 * - automatic key rotation, one `RotationScheduler` per Region (its own
 *   interval, `KMS_ROTATION_CHECK_INTERVAL_MS`).
 *
 * Keys past their deletion date and expired material are also handled lazily
 * when a key is loaded; the sweep catches the keys nobody touches. Each Region's
 * `Kms` brings its clock, so tests move time with a manual clock and call
 * `runDue()` instead of waiting for a timer.
 *
 * @module
 */
import type { Kms } from "./kms.ts";
import { expireDueImportedMaterial } from "./operations/import.ts";
import { type RotationRun, RotationScheduler } from "./rotation_scheduler.ts";

/** How often purging and expiry look, by default. */
export const SWEEP_INTERVAL_MS = 60_000;

/** A structured log line (routes/app.ts's `LogSink` accepts it). */
export type BackgroundLog = (record: Record<string, unknown>) => void;

/** What one look did in one Region. */
export interface RegionRun {
  region: string;
  /** Keys deleted for good (their deletion date passed); undefined when the purge failed. */
  purged: number | undefined;
  /** Keys whose imported material expired; undefined when the expiry failed. */
  expired: number | undefined;
  /** The automatic rotations; undefined when the look failed. */
  rotation: RotationRun | undefined;
}

/** Options of `BackgroundWork`. */
export interface BackgroundOptions {
  /** The KMS of every served Region. */
  regions: Iterable<Kms>;
  /** Milliseconds between purge and expiry sweeps; default SWEEP_INTERVAL_MS. */
  sweepIntervalMs?: number | undefined;
  /** Milliseconds between rotation looks; default the scheduler's. */
  rotationIntervalMs?: number | undefined;
  /** Whether automatic rotations are audited (false without an audit log). */
  audit?: boolean | undefined;
  /** Where what the work did, and what failed, is told; default nowhere. */
  log?: BackgroundLog | undefined;
}

/** Purging, expiry and automatic rotation of every served Region, on timers or on demand. */
export class BackgroundWork {
  /** The automatic rotation schedulers, one per Region. */
  readonly rotationSchedulers: readonly RotationScheduler[];
  readonly #regions: readonly Kms[];
  readonly #sweepIntervalMs: number;
  readonly #log: BackgroundLog;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<unknown> | null = null;

  constructor(options: BackgroundOptions) {
    this.#regions = [...options.regions];
    this.#sweepIntervalMs = options.sweepIntervalMs ?? SWEEP_INTERVAL_MS;
    const log = options.log ?? (() => {});
    this.#log = log;
    this.rotationSchedulers = this.#regions.map((kms) =>
      new RotationScheduler({
        kms,
        intervalMs: options.rotationIntervalMs,
        audit: options.audit,
        onRun: (run) => logRotation(log, kms.region, run),
        onError: (error) => logFailure(log, "automatic key rotation failed", kms.region, error),
        // Tests on several processes wait for looks (tests/rotation_multi_instance_test.ts).
        onLook: (looks) =>
          log({ level: "debug", message: "rotation look", region: kms.region, looks }),
      })
    );
  }

  /** Starts the sweep timer and the rotation schedulers (each first looks after one interval). */
  start(): void {
    for (const scheduler of this.rotationSchedulers) scheduler.start();
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#sweeping === null) void this.#sweep();
    }, this.#sweepIntervalMs);
  }

  /** Stops the timers and waits for the work in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const scheduler of this.rotationSchedulers) await scheduler.stop();
    await this.#sweeping;
  }

  /**
   * Does now what is due in every Region: purges, expires, rotates. Failures are logged and
   * reported as an undefined count; the other Regions and tasks still run.
   */
  async runDue(): Promise<RegionRun[]> {
    await this.#sweeping;
    const sweep = await this.#sweep();
    const runs: RegionRun[] = [];
    for (const [i, scheduler] of this.rotationSchedulers.entries()) {
      const kms = this.#regions[i]!;
      const rotation = await scheduler.runDue().catch((error) => {
        logFailure(this.#log, "automatic key rotation failed", kms.region, error);
        return undefined;
      });
      if (rotation !== undefined) logRotation(this.#log, kms.region, rotation);
      runs.push({ ...sweep[i]!, rotation });
    }
    return runs;
  }

  /** One purge and expiry sweep over every Region, one at a time. */
  #sweep(): Promise<Omit<RegionRun, "rotation">[]> {
    const sweeping = (async () => {
      const runs: Omit<RegionRun, "rotation">[] = [];
      for (const kms of this.#regions) runs.push(await this.#sweepRegion(kms));
      return runs;
    })().finally(() => {
      this.#sweeping = null;
    });
    this.#sweeping = sweeping;
    return sweeping;
  }

  async #sweepRegion(kms: Kms): Promise<Omit<RegionRun, "rotation">> {
    const purged = await kms.purgeDueKeys().catch((error) => {
      logFailure(this.#log, "purge failed", kms.region, error);
      return undefined;
    });
    // Imported key material past its ValidTo (also expired lazily when a key is loaded).
    const expired = await expireDueImportedMaterial(kms).catch((error) => {
      logFailure(this.#log, "key material expiry failed", kms.region, error);
      return undefined;
    });
    return { region: kms.region, purged, expired };
  }
}

function logRotation(log: BackgroundLog, region: string, run: RotationRun): void {
  if (run.rotated.length === 0 && run.lost === 0) return;
  log({
    level: "info",
    message: "automatic key rotation",
    region,
    rotated: run.rotated,
    lost: run.lost,
  });
}

function logFailure(log: BackgroundLog, message: string, region: string, error: unknown): void {
  log({ level: "error", message, region, error: String(error) });
}
