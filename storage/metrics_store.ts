/**
 * The `KeyStateCounter` port of core/metrics.ts on libSQL: one grouped count over `keys` per
 * scrape. With several instances on one database every instance reports the same totals.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import type { KeyStateCounter } from "../core/metrics.ts";

/** Counts keys by state with `SELECT state, COUNT(*) ... GROUP BY state`. */
export class SqliteKeyStateCounter implements KeyStateCounter {
  #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /** Keys per state, over all accounts and regions (states without keys are absent). */
  async countKeysByState(): Promise<ReadonlyMap<string, number>> {
    const result = await this.#db.execute("SELECT state, COUNT(*) AS n FROM keys GROUP BY state");
    const counts = new Map<string, number>();
    for (const row of result.rows) counts.set(String(row[0]), Number(row[1]));
    return counts;
  }
}
