/**
 * An in-process KMS for the tests beside core/operations: the real service of `openService`
 * (main.ts) over a `:memory:` database, with a `ManualClock` the test moves, driven through the
 * operation table's handlers (`op.handler(kms, caller, input)`) with no HTTP, no SigV4 and no
 * listener. Inputs are given as on the wire (JSON: base64 for blobs) and go through the
 * operation's own schema first, so a test sees exactly what a request would reach.
 *
 * The table is the one stable seam while the operations' own signatures change: this file is its
 * only importer among the tests.
 *
 * @module
 */
import { parseConfig } from "../../core/config.ts";
import type { Kms } from "../../core/kms.ts";
import type { Caller } from "../../core/types.ts";
import { openService, type Service } from "../../main.ts";
import { DISPATCH_TABLE } from "../../routes/dispatch_table.ts";
import { ACCOUNT_ID, ADMIN, ManualClock, REGION } from "./server.ts";

/** The account root of the test account: allowed everything by default key policies. */
export const ROOT_CALLER: Readonly<Caller> = {
  accessKeyId: ADMIN.accessKeyId,
  accountId: ACCOUNT_ID,
  principalArn: `arn:aws:iam::${ACCOUNT_ID}:root`,
  region: REGION,
};

/** What a result of the table holds (Uint8Array, SecretBytes, Date values as the core made them). */
// deno-lint-ignore no-explicit-any
export type Result = Record<string, any>;

/** An in-process KMS and the means to call its operations. */
export interface InProcessKms {
  service: Service;
  /** The default Region's KMS. */
  kms: Kms;
  /** The lifecycle clock (deletion dates, rotation); starts at 2025-01-01. */
  clock: ManualClock;
  /**
   * Calls `operation` with `input` (wire shape) as `caller` (default the account root).
   * @throws the operation's typed error (named as AWS names it) or the schema's ValidationException.
   */
  call(operation: string, input?: Record<string, unknown>, caller?: Caller): Promise<Result>;
  close(): Promise<void>;
}

const TEST_ROOT_KEY = new Uint8Array(32).fill(5).toBase64();

/** The error a schema's rejection is answered with (routes/errors.ts maps it to 400). */
class ValidationException extends Error {
  override name = "ValidationException";
}

/** Options of `openInProcessKms`. */
export interface InProcessOptions {
  /** KMS_* settings added or overridden. */
  env?: Record<string, string>;
  clock?: ManualClock;
  /** IAM users of the test account that exist (KMS_PRINCIPALS_FILE), e.g. to name in a policy. */
  users?: string[];
}

/** The Caller of IAM user `userName` of the test account (one of `users`). */
export function userCaller(userName: string): Caller {
  return {
    ...ROOT_CALLER,
    accessKeyId: accessKeyIdOf(userName),
    principalArn: `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`,
  };
}

function accessKeyIdOf(userName: string): string {
  return `AKIA${userName.toUpperCase().replace(/[^A-Z0-9]/g, "").padEnd(16, "0").slice(0, 16)}`;
}

/** Writes a principals file naming `users`; returns its path and directory. */
async function principalsFile(users: string[]): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "kms-in-process-" });
  const path = `${dir}/principals.json`;
  const principals = users.map((userName) => ({
    accountId: ACCOUNT_ID,
    userName,
    accessKeyId: accessKeyIdOf(userName),
    secretAccessKey: `${userName}-secret-access-key-0000000000000000`,
  }));
  await Deno.writeTextFile(path, JSON.stringify({ principals }));
  return { path, dir };
}

/** Opens a KMS over `:memory:`. */
export async function openInProcessKms(options: InProcessOptions = {}): Promise<InProcessKms> {
  const clock = options.clock ?? new ManualClock(Date.UTC(2025, 0, 1));
  const users = options.users?.length ? await principalsFile(options.users) : undefined;
  const config = parseConfig({
    KMS_DB_URL: ":memory:",
    KMS_ROOT_KEY: TEST_ROOT_KEY,
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    KMS_ACCOUNT_ID: ACCOUNT_ID,
    KMS_REGION: REGION,
    KMS_PORT: "0",
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
    // The scheduler is driven by the test (`runDue()`), not by a timer.
    KMS_ROTATION_CHECK_INTERVAL_MS: "86400000",
    ...(users ? { KMS_PRINCIPALS_FILE: users.path } : {}),
    ...options.env,
  });
  const service = await openService(config, { log: () => {}, clock }).finally(async () => {
    if (users) await Deno.remove(users.dir, { recursive: true });
  });
  const call = async (
    name: string,
    input: Record<string, unknown> = {},
    caller: Caller = ROOT_CALLER,
  ): Promise<Result> => {
    const op = DISPATCH_TABLE.get(name);
    if (op === undefined) throw new Error(`no operation ${name} in the table`);
    const parsed = op.schema.safeParse(input);
    if (!parsed.success) throw new ValidationException(parsed.error.message);
    const kms = service.regions.get(caller.region) ?? service.kms;
    return await op.handler(kms, { ...caller }, parsed.data) as Result;
  };
  return { service, kms: service.kms, clock, call, close: () => service.close() };
}

/** Runs `fn` against a fresh in-process KMS and closes it afterwards. */
export async function withInProcessKms(
  fn: (kms: InProcessKms) => Promise<void>,
  options?: InProcessOptions,
): Promise<void> {
  const opened = await openInProcessKms(options);
  try {
    await fn(opened);
  } finally {
    await opened.close();
  }
}

/** The AWS error name a call was rejected with (fails when it succeeded). */
export async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).name;
  }
  throw new Error("expected the call to be rejected");
}
