/**
 * The ChangeFeed of core/coherence.ts on migrations/0005_change_counter.sql.
 *
 * Every transaction of the store that changes state bumps `change_counter`
 * by one: the store's WriteQueue runs `statement` (an UPDATE ... RETURNING)
 * first in it, whichever instance commits it, and hands this counter the
 * value it returned. A value more than one past the last value seen means
 * other instances committed in between; a look (`changes`, one primary-key
 * read) that finds the counter past the last value seen means the same. The
 * values seen only grow, so a look racing a commit can report a change too
 * many (caches dropped for nothing), never one too few. This process's own
 * changes never count as foreign: a busy single instance keeps its caches.
 *
 * Deleted keys are listed by a trigger in `key_deletions`; a look reads the
 * ones deleted since the last look (by anyone: wiping material of a key this
 * process deleted itself again is harmless).
 *
 * Only the store's writes bump the counter. The principal store and the
 * credentials it serves are not cached here: CredentialCache trusts an entry
 * for 1 s, which bounds those alone.
 *
 * @module
 */
import type { Client, InStatement, ResultSet } from "@libsql/client";
import type { ChangeFeed, ForeignChanges } from "../core/coherence.ts";
import type { CommitObserver } from "./write_queue.ts";

/** The bump of the counter, added first to each transaction that changes state. */
const BUMP = "UPDATE change_counter SET data = data + 1 WHERE id = 1 RETURNING data";

const READ = "SELECT data, (SELECT coalesce(max(seq), 0) FROM key_deletions) AS deletions " +
  "FROM change_counter WHERE id = 1";

/** Most deleted key ids one look lists (more is "unknown": every material is dropped). */
const MAX_DELETIONS = 1000;

/** A CommitObserver that only bumps the counter: every store gets at least this one. */
export const BUMP_CHANGE_COUNTER: CommitObserver = Object.freeze({
  statement: BUMP,
  committed() {},
});

/** Tells other instances' changes from this process's own. */
export class SqliteChangeCounter implements ChangeFeed, CommitObserver {
  readonly #db: Pick<Client, "execute">;
  /** The counter value this process has accounted for: its caches reflect every change up to it. */
  #seen: number | null = null;
  /** A commit found changes of other instances: reported by the next look. */
  #foreign = false;
  /** The last key_deletions seq reported. */
  #deletionsReported = 0;

  readonly statement: InStatement = BUMP;

  constructor(db: Pick<Client, "execute">) {
    this.#db = db;
  }

  /** Reads the value this process starts from: call before anything is cached. */
  async start(): Promise<void> {
    const now = await this.#read();
    this.#seen = now.data;
    this.#foreign = false;
    this.#deletionsReported = now.deletions;
  }

  /** The WriteQueue committed a transaction whose bump returned `result`. */
  committed(result: ResultSet): void {
    const value = Number(result.rows[0]?.["data"]);
    if (!Number.isSafeInteger(value)) return;
    if (this.#seen === null || value - 1 > this.#seen) this.#foreign = true;
    this.#seen = Math.max(this.#seen ?? value, value);
  }

  /** What other instances changed since the last call: one read (two after a key deletion). */
  async changes(): Promise<ForeignChanges | null> {
    const now = await this.#read();
    const data = this.#foreign || this.#seen === null || now.data > this.#seen;
    this.#foreign = false;
    this.#seen = Math.max(this.#seen ?? now.data, now.data);
    let deletedKeys: ForeignChanges["deletedKeys"] = [];
    if (now.deletions > this.#deletionsReported) {
      deletedKeys = await this.#deletedSince(this.#deletionsReported, now.deletions);
      this.#deletionsReported = now.deletions;
    }
    if (!data && deletedKeys.length === 0) return null;
    return { data, deletedKeys };
  }

  async #deletedSince(after: number, upTo: number): Promise<ForeignChanges["deletedKeys"]> {
    if (upTo - after > MAX_DELETIONS) return "unknown";
    const result = await this.#db.execute({
      sql: "SELECT seq, key_id FROM key_deletions WHERE seq > ? AND seq <= ? ORDER BY seq",
      args: [after, upTo],
    });
    // Rows pruned before this look (the table keeps the newest 10000): not a complete list.
    const first = result.rows[0];
    if (first === undefined || Number(first["seq"]) !== after + 1) return "unknown";
    return result.rows.map((row) => String(row["key_id"]));
  }

  async #read(): Promise<{ data: number; deletions: number }> {
    const result = await this.#db.execute(READ);
    const row = result.rows[0];
    if (row === undefined) throw new Error("change_counter is missing its row");
    return { data: Number(row["data"]), deletions: Number(row["deletions"]) };
  }
}
