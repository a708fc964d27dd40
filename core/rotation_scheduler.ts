/**
 * Automatic key rotation: every `intervalMs` (60 s by default,
 * `KMS_ROTATION_CHECK_INTERVAL_MS`) the scheduler asks the store for keys
 * whose automatic rotation is due (enabled, the key Enabled, next rotation date
 * at or before the clock's now) and rotates each (core/operations/rotation.ts).
 * Disabled keys and keys pending deletion are not rotated; when a disabled key
 * is enabled again after its date passed, it is rotated at the next look.
 *
 * Several instances on one database run a scheduler each. Each rotation claims
 * the due date it read: the transaction that inserts the new material commits
 * only if the schedule still holds that date and the key is still at the
 * version read (storage/sqlite_rotation_store.ts), and it moves the date one period
 * on. Of instances racing for the same due rotation exactly one commits; the
 * others write nothing. So a key is rotated once per period, never twice.
 *
 * The next date after a rotation is the due date plus the period (the
 * schedule keeps its rhythm however late the look came), or now plus the
 * period when that too has passed (a key that was disabled for long).
 *
 * The scheduler's rotations are audited as CloudTrail's `RotateKey` events of
 * KMS itself, each in the transaction of its rotation.
 *
 * @module
 */
import { AuditEntry } from "./audit/entry.ts";
import {
  DAY_MS,
  oneAtATime,
  rotateKey,
  type RotationPorts,
  rotationSupport,
} from "./operations/rotation.ts";
import type { DueRotation } from "./rotation_store.ts";

/** How often the scheduler looks for due rotations, by default. */
export const ROTATION_CHECK_INTERVAL_MS = 60_000;

/** Most rotations one look makes (the next look continues). */
const BATCH = 100;

/** What one look did. */
export interface RotationRun {
  /** Keys rotated by this instance. */
  rotated: string[];
  /** Due rotations another instance (or a concurrent change) committed first. */
  lost: number;
}

/** Options of a RotationScheduler. */
export interface RotationSchedulerOptions {
  kms: RotationPorts;
  /** Milliseconds between looks; default ROTATION_CHECK_INTERVAL_MS. */
  intervalMs?: number | undefined;
  /** Whether rotations are audited (false when the service runs without an audit log). */
  audit?: boolean | undefined;
  /** Told of each look that rotated or lost something. */
  onRun?: ((run: RotationRun) => void) | undefined;
  /** A look that failed (the next one tries again). */
  onError?: ((error: unknown) => void) | undefined;
  /** Told after every look of the timer, whatever it did (tests wait for a number of looks). */
  onLook?: ((looks: number) => void) | undefined;
}

/** Rotates keys whose automatic rotation is due, on a timer. */
export class RotationScheduler {
  readonly #kms: RotationPorts;
  readonly #intervalMs: number;
  readonly #audit: boolean;
  readonly #onRun: (run: RotationRun) => void;
  readonly #onError: (error: unknown) => void;
  readonly #onLook: (looks: number) => void;
  #looks = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<RotationRun> | null = null;

  constructor(options: RotationSchedulerOptions) {
    this.#kms = options.kms;
    this.#intervalMs = options.intervalMs ?? ROTATION_CHECK_INTERVAL_MS;
    this.#audit = options.audit ?? true;
    this.#onRun = options.onRun ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#onLook = options.onLook ?? (() => {});
  }

  /** How many looks of the timer have finished (successful or not) since start. */
  get looks(): number {
    return this.#looks;
  }

  /** Starts looking every interval (the first look after one interval). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#running !== null) return;
      this.runDue().then(
        (run) => {
          if (run.rotated.length > 0 || run.lost > 0) this.#onRun(run);
        },
        (error) => this.#onError(error),
      ).finally(() => this.#onLook(++this.#looks));
    }, this.#intervalMs);
  }

  /** Stops the timer and waits for a look in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Rotates the keys due now (one batch); one look at a time per scheduler. */
  runDue(): Promise<RotationRun> {
    if (this.#running !== null) return this.#running;
    const running = this.#runDue().finally(() => {
      this.#running = null;
    });
    this.#running = running;
    return running;
  }

  async #runDue(): Promise<RotationRun> {
    const run: RotationRun = { rotated: [], lost: 0 };
    const due = await this.#kms.store.listDueRotations(this.#kms.clock.now(), BATCH);
    for (const rotation of due) {
      const outcome = await this.#rotate(rotation);
      if (outcome === "rotated") run.rotated.push(rotation.keyId);
      if (outcome === "lost") run.lost++;
    }
    return run;
  }

  #rotate(due: DueRotation): Promise<"rotated" | "lost" | "skipped"> {
    return oneAtATime(this.#kms, due.keyId, () => this.#rotateNow(due));
  }

  async #rotateNow(due: DueRotation): Promise<"rotated" | "lost" | "skipped"> {
    const kms = this.#kms;
    const key = await kms.findKey(due.keyId, { fresh: true });
    if (key === null || key.record.state !== "Enabled" || rotationSupport(key) !== "symmetric") {
      return "skipped";
    }
    const now = kms.clock.now();
    const period = due.periodDays * DAY_MS;
    const following = due.nextRotationDate + period;
    const audit = this.#audit
      ? new AuditEntry({
        time: now,
        requestId: crypto.randomUUID(),
        operation: "RotateKey",
        principal: null,
        sourceIp: "kms.amazonaws.com",
        userAgent: "kms.amazonaws.com",
        region: kms.region,
      })
      : undefined;
    audit?.addResource(key.arn);
    audit?.succeeded();
    const rotated = await rotateKey(kms, key.record, "AUTOMATIC", {
      audit,
      claim: {
        nextRotationDate: due.nextRotationDate,
        newNextRotationDate: following > now ? following : now + period,
      },
    });
    return rotated === null ? "lost" : "rotated";
  }
}
