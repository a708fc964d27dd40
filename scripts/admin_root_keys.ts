/**
 * The admin tool's root-key and backup commands (wired in scripts/admin.ts):
 * `root-key status`, `root-key rotate [--batch <n>] [--pause-ms <ms>]`, `backup <path>`.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { backupDatabase } from "../storage/backup.ts";
import type { RootKeyring } from "../storage/root_keyring.ts";
import { rotateRootKey } from "../storage/root_key_rotation.ts";
import { listRootKeys, rootKeyUsage } from "../storage/root_key_table.ts";

/** What the commands need of the admin tool's context. */
export interface RootKeyContext {
  db: Client;
  dbUrl: string;
  keyring: RootKeyring;
}

/** A bad option value (the admin tool exits 2). */
export class RootKeyUsageError extends Error {}
/** A command that could not finish (exit 1). */
export class RootKeyFailure extends Error {}

/** `root-key status`: the keyring's ids, the database's root keys, and what each wraps. */
export async function rootKeyStatus(ctx: RootKeyContext, json: boolean): Promise<void> {
  const rows = await listRootKeys(ctx.db);
  const usage = await rootKeyUsage(ctx.db);
  const ids = new Set([...rows.map((r) => r.keyId), ...ctx.keyring.ids, ...usage.keys()]);
  const lines = [...ids].map((id) => {
    const row = rows.find((r) => r.keyId === id);
    return {
      rootKey: id,
      inKeyring: id === "legacy"
        ? "-"
        : id === ctx.keyring.currentId
        ? "current"
        : ctx.keyring.has(id)
        ? "previous"
        : "no",
      state: row?.state ?? "-",
      wrappedValues: String(usage.get(id) ?? 0),
      retired: row?.retiredAt == null ? "-" : new Date(row.retiredAt).toISOString(),
    };
  });
  if (json) {
    for (const line of lines) console.log(JSON.stringify(line));
    return;
  }
  const columns = Object.keys(lines[0]!) as (keyof typeof lines[0])[];
  const labels = columns.map((c) => c.replace(/[A-Z]/g, " $&").toUpperCase());
  const widths = columns.map((c, i) =>
    Math.max(labels[i]!.length, ...lines.map((l) => l[c].length))
  );
  const show = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(show(labels));
  for (const line of lines) console.log(show(columns.map((c) => line[c])));
}

/** `root-key rotate`: re-wraps everything under the current key; retires the others. */
export async function rootKeyRotate(
  ctx: RootKeyContext,
  options: { batch?: string | undefined; pauseMs?: string | undefined },
): Promise<void> {
  const batchSize = positiveInt(options.batch, "--batch", 100, 1, 10_000);
  const pauseMs = positiveInt(options.pauseMs, "--pause-ms", 0, 0, 60_000);
  const started = performance.now();
  const result = await rotateRootKey(ctx.db, ctx.keyring, {
    batchSize,
    pauseMs,
    onProgress: (p) => {
      const parts = Object.entries(p.byColumn).map(([label, n]) => `${label} ${n}`).join(", ");
      // One line per batch: tests and operators watch it move.
      console.error(`root-key rotate: ${p.rewrapped}/${p.total} re-wrapped (${parts})`);
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  for (const failure of result.failures) {
    console.error(`root-key rotate: not re-wrapped: ${failure}`);
  }
  if (result.remaining > 0) {
    throw new RootKeyFailure(
      `${result.remaining} stored values are still under other root keys after re-wrapping ` +
        `${result.rewrapped} in ${seconds} s; nothing was retired. Run the command again ` +
        "(it continues where it stopped).",
    );
  }
  console.log(
    `Re-wrapped ${result.rewrapped} stored values in ${seconds} s; every stored value is under ` +
      `root key ${ctx.keyring.currentId}.`,
  );
  if (result.retired.length > 0) {
    console.log(
      `Retired root keys ${result.retired.join(", ")}: remove them from every server's ` +
        "keyring, then restart (or SIGHUP) the servers. Keep their backup copies as long as " +
        "you keep database backups taken before now.",
    );
  } else {
    console.log("No other root key was in use.");
  }
}

/** `backup <path>`: a consistent copy of a local database file, taken online. */
export async function backup(ctx: RootKeyContext, path: string): Promise<void> {
  let summary;
  try {
    summary = await backupDatabase(ctx.db, ctx.dbUrl, path);
  } catch (e) {
    throw new RootKeyFailure(e instanceof Error ? e.message : String(e));
  }
  const keys = [...summary.rootKeys].map(([id, n]) => `${id} (${n})`).join(", ") || "none";
  console.log(
    `Backed up ${summary.keys} keys (${summary.materials} material versions) and ` +
      `${summary.credentials} access keys to ${summary.path} ` +
      `(${summary.bytes} bytes, ${summary.ms.toFixed(0)} ms); integrity check ok.`,
  );
  console.log(
    `The backup holds key material wrapped under root keys ${keys}. The root keys are NOT ` +
      "in it: restoring it needs a keyring holding them, backed up separately.",
  );
}

function positiveInt(
  value: string | undefined,
  option: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RootKeyUsageError(`${option} must be an integer ${min}..${max}`);
  }
  return n;
}
