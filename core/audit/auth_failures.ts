/**
 * AuthFailureAggregator: the audit records of requests answered before anyone was authenticated
 * (no or a bad signature, an unknown access key, a body or target refused before SigV4), bounded.
 *
 * Such requests cost a client nothing, so one record each would let anyone grow the database
 * without limit. Instead, requests are grouped by source IP, claimed access key id and AWS error:
 * the first of a group is recorded at once, as it happened; the repeats within `windowMs` of it
 * become one more record, written when the window closes, whose `additionalEventData` holds
 * `requestCount` and the first and last times. A client that keeps failing thus writes at most two
 * records per window, whatever its rate.
 *
 * At most `maxGroups` groups are open; beyond that, new kinds of failure share one group per error
 * (grouped by the error alone), so the records per window stay bounded even when the source
 * address or access key id changes on every request.
 *
 * @module
 */
import type { AuditBuffer } from "./buffer.ts";
import type { AuditEntry } from "./entry.ts";

/** What groups a failed request. */
export interface AuthFailure {
  sourceIp: string | null;
  /** The access key id the request's SigV4 Credential claimed, if it named one. */
  accessKeyId: string | null;
  /** The AWS exception name the request got. */
  errorCode: string;
}

/** Tuning of an AuthFailureAggregator. */
export interface AuthFailureOptions {
  /** How long repeats are folded into one record, in ms. Default 60,000. */
  windowMs?: number;
  /** Most groups open at once (beyond it, groups by error alone). Default 1024. */
  maxGroups?: number;
  /** Epoch milliseconds now (tests). */
  now?: () => number;
}

interface Group {
  /** When the group's first request was recorded (epoch ms); its window ends `windowMs` later. */
  readonly opened: number;
  readonly groupedBy: readonly string[];
  /** Requests since the first (not yet recorded). */
  repeats: number;
  firstRepeat: number;
  /** The latest repeat: the record the aggregate is written as. */
  last: AuditEntry | null;
}

const BY_SOURCE = Object.freeze(["errorCode", "sourceIPAddress", "userIdentity.accessKeyId"]);
const BY_ERROR = Object.freeze(["errorCode"]);

/** Folds repeated unauthenticated failures into counted audit records (see the module doc). */
export class AuthFailureAggregator {
  readonly #sink: Pick<AuditBuffer, "push">;
  readonly #windowMs: number;
  readonly #maxGroups: number;
  readonly #now: () => number;
  /** Open groups in the order they were opened (so the first to expire comes first). */
  readonly #groups = new Map<string, Group>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(sink: Pick<AuditBuffer, "push">, options: AuthFailureOptions = {}) {
    this.#sink = sink;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxGroups = options.maxGroups ?? 1024;
    this.#now = options.now ?? Date.now;
  }

  /** Groups open now (diagnostics, tests). */
  get openGroups(): number {
    return this.#groups.size;
  }

  /**
   * Takes the finished entry of a request that failed before authentication: records it now when
   * it opens a group, else counts it. A returned promise is the audit buffer's backpressure.
   */
  record(entry: AuditEntry, failure: AuthFailure): void | Promise<void> {
    const waits: Promise<void>[] = [];
    this.#expire(this.#now(), waits);
    if (this.#closed) {
      waitOn(waits, this.#sink.push(entry.buffered()));
      return settle(waits);
    }
    let key = sourceKey(failure);
    let group = this.#groups.get(key);
    if (group === undefined && this.#groups.size >= this.#maxGroups) {
      key = errorKey(failure);
      group = this.#groups.get(key);
    }
    if (group === undefined) {
      const groupedBy = key.startsWith("e\u0000") ? BY_ERROR : BY_SOURCE;
      this.#groups.set(key, {
        opened: this.#now(),
        groupedBy,
        repeats: 0,
        firstRepeat: 0,
        last: null,
      });
      this.#arm();
      waitOn(waits, this.#sink.push(entry.buffered()));
    } else {
      if (group.repeats === 0) group.firstRepeat = entry.time;
      group.repeats++;
      group.last = entry;
    }
    return settle(waits);
  }

  /**
   * Writes every pending count now and stops the timer; later failures are recorded one by one.
   * Never rejects: a count the log refuses at shutdown is lost like any refused record, and the
   * shutdown goes on to close the log.
   */
  close(): void | Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const waits: Promise<void>[] = [];
    for (const group of this.#groups.values()) this.#write(group, waits);
    this.#groups.clear();
    return settle(waits)?.catch(() => {});
  }

  /** Writes and closes the groups whose window has ended. */
  #expire(now: number, waits: Promise<void>[]): void {
    for (const [key, group] of this.#groups) {
      if (group.opened + this.#windowMs > now) break;
      this.#write(group, waits);
      this.#groups.delete(key);
    }
  }

  #write(group: Group, waits: Promise<void>[]): void {
    if (group.last === null) return;
    group.last.setAggregate({
      count: group.repeats,
      firstTime: group.firstRepeat,
      lastTime: group.last.time,
      groupedBy: group.groupedBy,
    });
    let pushed: void | Promise<void>;
    try {
      pushed = this.#sink.push(group.last.buffered());
    } catch (error) {
      // Refused at once (the log is failing or closed): settled like a refusal after holding it.
      pushed = Promise.reject(error);
    }
    waitOn(waits, pushed);
  }

  /** Makes sure a timer closes the oldest group's window even when no request comes. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const oldest = this.#groups.values().next().value;
    if (oldest === undefined) return;
    const delay = Math.max(0, oldest.opened + this.#windowMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const waits: Promise<void>[] = [];
      this.#expire(this.#now(), waits);
      // No caller waits here: an aggregate the log refuses after holding it (backpressure, a
      // failed write) is lost like any refused record; its requests were answered already.
      settle(waits)?.catch(() => {});
      this.#arm();
    }, delay);
    Deno.unrefTimer(this.#timer);
  }
}

function sourceKey(failure: AuthFailure): string {
  return `s\u0000${failure.sourceIp ?? ""}\u0000${
    failure.accessKeyId ?? ""
  }\u0000${failure.errorCode}`;
}

function errorKey(failure: AuthFailure): string {
  return `e\u0000${failure.errorCode}`;
}

function waitOn(waits: Promise<void>[], pushed: void | Promise<void>): void {
  if (pushed !== undefined) waits.push(pushed);
}

function settle(waits: Promise<void>[]): void | Promise<void> {
  if (waits.length === 0) return;
  return Promise.all(waits).then(() => {});
}
