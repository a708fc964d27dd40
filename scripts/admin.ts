/**
 * The admin tool: `deno task admin <command>`. Manages principals, access
 * keys and identity policies, and reads the audit log, in the database the
 * server uses (same `KMS_DB_URL`, `KMS_ROOT_KEY` / `KMS_ROOT_KEY_FILE`).
 * Exit status: 0 done, 1 failed, 2 usage error.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { parseArgs } from "node:util";
import { parsePolicy } from "../core/access/policy.ts";
import { type ChainHead, fromHex } from "../core/audit/chain.ts";
import type { AuditChain } from "../core/audit/record.ts";
import { newAccessKeyId, newSecretAccessKey } from "../core/bootstrap.ts";
import { parseConfig } from "../core/config.ts";
import {
  ACCOUNT_ID_PATTERN,
  type ParsedPrincipalArn,
  parsePrincipalArn,
  PATH_PATTERN,
  POLICY_NAME_PATTERN,
  PRINCIPAL_NAME_PATTERN,
  principalArn,
  type PrincipalRecord,
} from "../core/principals.ts";
import { SecretBytes } from "../core/secret.ts";
import {
  type AuditFilter,
  SqliteAuditStore,
  type StoredAuditEvent,
} from "../storage/audit_store.ts";
import { openDatabase } from "../storage/client.ts";
import { migrate } from "../storage/migrate.ts";
import { SqlitePrincipalStore } from "../storage/principal_store.ts";
import { loadOrCreateKeyring } from "../storage/root_key_file.ts";
import type { RootKeyring } from "../storage/root_keyring.ts";
import { checkRootKeyring } from "../storage/root_key_table.ts";
import { SqliteStore } from "../storage/sqlite_store.ts";
import { backup, rootKeyRotate, rootKeyStatus, RootKeyUsageError } from "./admin_root_keys.ts";

/** Records per audit query when no --limit is given. */
const AUDIT_PAGE = 1000;

/** A mistake in the command line (exit status 2). */
class UsageError extends Error {}
/** A request that cannot be done (exit status 1). */
class Failure extends Error {}

interface Context {
  db: Client;
  store: SqliteStore;
  principals: SqlitePrincipalStore;
  dbUrl: string;
  keyring: RootKeyring;
}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  options?: Record<string, { type: "string" | "boolean" }>;
  /** How many positional arguments: [min, max]. */
  positionals: [number, number];
  run(ctx: Context, values: Values, args: string[]): Promise<void>;
}

const HELP = `Usage: deno task admin <command> [options]

Manages principals, access keys and identity policies in the KMS database and reads its audit
log. Configured by the server's environment: KMS_DB_URL, KMS_DB_AUTH_TOKEN, KMS_ROOT_KEY or
KMS_ROOT_KEY_FILE.

Principals (IAM-style users and roles; account roots always exist):
  principal create --account <id> (--user <name> | --role <name>) [--path /a/b/]
  principal list [--account <id>] [--json]
  principal disable <principal-arn>       its access keys stop working (within a second)
  principal enable <principal-arn>
Access keys (the secret is printed once, at creation):
  access-key create <principal-arn>       arn:aws:iam::<acct>:user/<name>, ...:role/<name>, ...:root
  access-key list [<principal-arn>] [--json]
  access-key disable <access-key-id>
  access-key enable <access-key-id>
Identity policies (users and roles; evaluated like IAM inline policies):
  policy put <principal-arn> <policy-name> <file | ->
  policy get <principal-arn> <policy-name>
  policy list <principal-arn>
  policy delete <principal-arn> <policy-name>
Audit log:
  audit list [--since <ISO time>] [--until <ISO time>] [--principal <arn>] [--key <key-arn>]
             [--operation <Name>] [--decision Allow|Deny] [--error <Code | *>] [--limit <n>]
             [--json]                     oldest first; --json prints the stored CloudTrail events
  audit verify [--head <c>:<seq>:<hash>]  checks the hash chains of the whole log (and that the
                                          heads an earlier verify printed are still there)
Root keys and backups (README "Rotating the root key", "Backup and restore"):
  root-key status [--json]                the keyring's keys, the database's, what each wraps
  root-key rotate [--batch <n>] [--pause-ms <ms>]
                                          re-wraps every stored value under the keyring's
                                          current key (resumable), then retires the others
  backup <path>                           consistent online copy of a local database file
                                          (the root keys are NOT in it: back them up apart)

Exit status: 0 done, 1 failed, 2 usage error.`;

const COMMANDS: Record<string, Command> = {
  "principal create": {
    usage: "principal create --account <id> (--user <name> | --role <name>) [--path /a/b/]",
    options: {
      account: { type: "string" },
      user: { type: "string" },
      role: { type: "string" },
      path: { type: "string" },
    },
    positionals: [0, 0],
    async run(ctx, v) {
      const accountId = required(v, "account");
      if (!ACCOUNT_ID_PATTERN.test(accountId)) throw new UsageError("--account must be 12 digits");
      if ((v.user === undefined) === (v.role === undefined)) {
        throw new UsageError("give exactly one of --user and --role");
      }
      const kind = v.user !== undefined ? "user" : "role";
      const name = String(v.user ?? v.role);
      if (!PRINCIPAL_NAME_PATTERN.test(name)) {
        throw new UsageError(`--${kind} must match [\\w+=,.@-]{1,64}`);
      }
      const path = typeof v.path === "string" ? v.path : "/";
      if (!PATH_PATTERN.test(path)) throw new UsageError('--path must be "/" or like /a/b/');
      const clash = (await ctx.principals.listPrincipals(accountId)).find((p) =>
        p.kind === kind && p.name.toLowerCase() === name.toLowerCase()
      );
      if (clash !== undefined) throw new Failure(`${kind} ${name} already exists: ${clash.arn}`);
      const arn = principalArn(kind, accountId, { name, path });
      await ctx.principals.upsertPrincipal({
        arn,
        accountId,
        kind,
        path,
        name,
        enabled: true,
        createdAt: Date.now(),
      });
      print(arn);
    },
  },
  "principal list": {
    usage: "principal list [--account <id>] [--json]",
    options: { account: { type: "string" }, json: { type: "boolean" } },
    positionals: [0, 0],
    async run(ctx, v) {
      const account = typeof v.account === "string" ? v.account : undefined;
      const rows: PrincipalRecord[] = await ctx.principals.listPrincipals(account);
      // Account roots have no row: show those that hold access keys.
      const roots = new Set<string>();
      for (const key of await ctx.principals.listAccessKeys()) {
        const parsed = parsePrincipalArn(key.principalArn);
        if (parsed?.kind === "root" && (account === undefined || parsed.accountId === account)) {
          roots.add(key.principalArn);
        }
      }
      for (const arn of roots) rows.push((await ctx.principals.getPrincipal(arn))!);
      rows.sort((a, b) => a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0);
      table(
        v.json === true,
        rows.map((p) => ({
          arn: p.arn,
          kind: p.kind,
          status: p.enabled ? "Enabled" : "Disabled",
          created: p.kind === "root" ? "-" : new Date(p.createdAt).toISOString(),
        })),
      );
    },
  },
  "principal disable": setPrincipalEnabled(false),
  "principal enable": setPrincipalEnabled(true),
  "access-key create": {
    usage: "access-key create <principal-arn>",
    positionals: [1, 1],
    async run(ctx, _v, [arn]) {
      const principal = await existingPrincipal(ctx, arn!);
      const accessKeyId = newAccessKeyId();
      const secret = newSecretAccessKey();
      await ctx.store.putCredential({
        accessKeyId,
        secretAccessKey: new SecretBytes(new TextEncoder().encode(secret)),
        accountId: principal.accountId,
        principalArn: principal.arn,
        enabled: true,
        createdAt: Date.now(),
      });
      if ((await ctx.store.getCredential(accessKeyId))?.principalArn !== principal.arn) {
        throw new Failure("the new access key id was already taken; run the command again");
      }
      console.error(`Created an access key for ${principal.arn} (the secret is shown only once).`);
      if (!principal.enabled) console.error("Note: the principal is disabled.");
      print(`AWS_ACCESS_KEY_ID=${accessKeyId}\nAWS_SECRET_ACCESS_KEY=${secret}`);
    },
  },
  "access-key list": {
    usage: "access-key list [<principal-arn>] [--json]",
    options: { json: { type: "boolean" } },
    positionals: [0, 1],
    async run(ctx, v, [arn]) {
      if (arn !== undefined) parseArn(arn);
      const states = new Map(
        (await ctx.principals.listPrincipals()).map((
          p,
        ) => [p.arn, p.enabled ? "Enabled" : "Disabled"]),
      );
      const keys = await ctx.principals.listAccessKeys(arn);
      table(
        v.json === true,
        keys.map((k) => ({
          accessKeyId: k.accessKeyId,
          status: k.enabled ? "Enabled" : "Disabled",
          principal: k.principalArn,
          principalStatus: parsePrincipalArn(k.principalArn)?.kind === "root"
            ? "Enabled"
            : states.get(k.principalArn) ?? "Missing",
          created: new Date(k.createdAt).toISOString(),
        })),
      );
    },
  },
  "access-key disable": setAccessKeyEnabled(false),
  "access-key enable": setAccessKeyEnabled(true),
  "policy put": {
    usage: "policy put <principal-arn> <policy-name> <file | ->",
    positionals: [3, 3],
    async run(ctx, _v, [arn, name, source]) {
      const principal = await policyHolder(ctx, arn!, name!);
      const document = source === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(callerPath(source!));
      try {
        validateIdentityPolicy(document);
      } catch (e) {
        throw new Failure(`policy ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      await ctx.principals.putIdentityPolicy(principal.arn, name!, document);
      print(`Put policy ${name} of ${principal.arn}`);
    },
  },
  "policy get": {
    usage: "policy get <principal-arn> <policy-name>",
    positionals: [2, 2],
    async run(ctx, _v, [arn, name]) {
      const principal = await policyHolder(ctx, arn!, name!);
      const document = await ctx.principals.getIdentityPolicy(principal.arn, name!);
      if (document === null) throw new Failure(`${principal.arn} has no policy ${name}`);
      print(document.trimEnd());
    },
  },
  "policy list": {
    usage: "policy list <principal-arn>",
    positionals: [1, 1],
    async run(ctx, _v, [arn]) {
      const principal = await existingPrincipal(ctx, arn!);
      for (const p of await ctx.principals.listIdentityPolicies(principal.arn)) print(p.name);
    },
  },
  "policy delete": {
    usage: "policy delete <principal-arn> <policy-name>",
    positionals: [2, 2],
    async run(ctx, _v, [arn, name]) {
      const principal = await policyHolder(ctx, arn!, name!);
      if (!await ctx.principals.deleteIdentityPolicy(principal.arn, name!)) {
        throw new Failure(`${principal.arn} has no policy ${name}`);
      }
      print(`Deleted policy ${name} of ${principal.arn}`);
    },
  },
  "audit list": {
    usage: "audit list [--since <ISO>] [--until <ISO>] [--principal <arn>] [--key <key-arn>] " +
      "[--operation <Name>] [--decision Allow|Deny] [--error <Code|*>] [--limit <n>] [--json]",
    options: {
      since: { type: "string" },
      until: { type: "string" },
      principal: { type: "string" },
      key: { type: "string" },
      operation: { type: "string" },
      decision: { type: "string" },
      error: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
    },
    positionals: [0, 0],
    async run(ctx, v) {
      const store = new SqliteAuditStore(ctx.db);
      const filter = auditFilter(v);
      const all = filter.limit === undefined;
      filter.limit ??= AUDIT_PAGE;
      const rows: StoredAuditEvent[] = [];
      // Without --limit, every matching record, a page at a time.
      for (let page = await store.query(filter);; page = await store.query(filter)) {
        if (v.json === true) { for (const row of page) print(row.json); }
        else rows.push(...page);
        const last = page.at(-1);
        if (!all || last === undefined || page.length < AUDIT_PAGE) break;
        filter.afterSeq = last.seq;
      }
      if (v.json === true) return;
      table(
        false,
        rows.map((r) => ({
          seq: String(r.seq),
          time: new Date(r.eventTime).toISOString(),
          operation: r.eventName,
          decision: r.decision ?? "-",
          result: r.errorCode ?? "OK",
          principal: r.principalArn ?? "-",
          keys: r.keyArns.length === 0 ? "-" : r.keyArns.join(","),
        })),
      );
    },
  },
  "audit export": {
    usage: "audit export [--since <ISO>] [--until <ISO>] [--out <file>]",
    options: { since: { type: "string" }, until: { type: "string" }, out: { type: "string" } },
    positionals: [0, 0],
    async run(ctx, v) {
      // JSON lines: one CloudTrail event per line, oldest first, as the log hashed it.
      const store = new SqliteAuditStore(ctx.db);
      const filter = auditFilter(v);
      filter.limit = AUDIT_PAGE;
      const out = typeof v.out === "string"
        ? await Deno.open(callerPath(v.out), { write: true, create: true, truncate: true })
        : null;
      const encoder = new TextEncoder();
      let count = 0;
      try {
        for (let page = await store.query(filter);; page = await store.query(filter)) {
          const text = page.map((row) => row.json + "\n").join("");
          if (out === null) await Deno.stdout.write(encoder.encode(text));
          else {
            const bytes = encoder.encode(text);
            for (let n = 0; n < bytes.length;) n += await out.write(bytes.subarray(n));
          }
          count += page.length;
          const last = page.at(-1);
          if (last === undefined || page.length < AUDIT_PAGE) break;
          filter.afterSeq = last.seq;
        }
        await out?.sync();
      } finally {
        out?.close();
      }
      if (out !== null) console.error(`Exported ${count} audit events to ${v.out}`);
    },
  },
  "audit verify": {
    usage: "audit verify [--head <chain>:<seq>:<hash>[,...]]",
    options: { head: { type: "string" } },
    positionals: [0, 0],
    async run(ctx, v) {
      const expectedHeads = typeof v.head === "string" ? chainHeads(v.head) : undefined;
      const result = await new SqliteAuditStore(ctx.db).verify(
        expectedHeads === undefined ? {} : { expectedHeads },
      );
      if (!result.ok) {
        throw new Failure(
          `audit log does not verify at seq ${result.seq} of chain ${result.chain} ` +
            `(${result.reason}); ${result.count} records before it verified`,
        );
      }
      const removed = result.removed === undefined
        ? ""
        : ` (${result.removed} older records removed by retention, checkpoints verified)`;
      print(
        `Audit log verified: ${result.count} records${removed}, hash chains intact. ` +
          `Heads ${result.heads.map((h) => `${h.chain}:${h.seq}:${h.hash}`).join(",")}`,
      );
    },
  },
};

COMMANDS["root-key status"] = {
  usage: "root-key status [--json]",
  options: { json: { type: "boolean" } },
  positionals: [0, 0],
  run: (ctx, v) => rootKeyStatus(ctx, v.json === true),
};
COMMANDS["root-key rotate"] = {
  usage: "root-key rotate [--batch <n>] [--pause-ms <ms>]",
  options: { batch: { type: "string" }, "pause-ms": { type: "string" } },
  positionals: [0, 0],
  run: (ctx, v) =>
    rootKeyRotate(ctx, {
      batch: v.batch as string | undefined,
      pauseMs: v["pause-ms"] as string | undefined,
    }),
};
COMMANDS["backup"] = {
  usage: "backup <path>",
  positionals: [1, 1],
  run: (ctx, _v, [path]) => backup(ctx, callerPath(path!)),
};

function setPrincipalEnabled(enabled: boolean): Command {
  const verb = enabled ? "enable" : "disable";
  return {
    usage: `principal ${verb} <principal-arn>`,
    positionals: [1, 1],
    async run(ctx, _v, [arn]) {
      if (parseArn(arn!).kind === "root") {
        throw new Failure(`an account root cannot be ${verb}d; ${verb} its access keys instead`);
      }
      if (!await ctx.principals.setPrincipalEnabled(arn!, enabled)) {
        throw new Failure(`no such principal: ${arn}`);
      }
      print(`${enabled ? "Enabled" : "Disabled"} ${arn}`);
    },
  };
}

function setAccessKeyEnabled(enabled: boolean): Command {
  return {
    usage: `access-key ${enabled ? "enable" : "disable"} <access-key-id>`,
    positionals: [1, 1],
    async run(ctx, _v, [id]) {
      const credential = await ctx.store.getCredential(id!);
      if (credential === null) throw new Failure(`no such access key: ${id}`);
      credential.secretAccessKey.wipe();
      await ctx.store.setCredentialEnabled(id!, enabled);
      print(`${enabled ? "Enabled" : "Disabled"} access key ${id}`);
    },
  };
}

/** Checks an identity policy document as the server will read it. */
function validateIdentityPolicy(document: string): void {
  parsePolicy(document, "identity");
}

function parseArn(arn: string): ParsedPrincipalArn {
  const parsed = parsePrincipalArn(arn);
  if (parsed === null) {
    throw new UsageError(
      `not a principal ARN: ${arn} (arn:aws:iam::<account>:user/<name>, ...:role/<name>, ...:root)`,
    );
  }
  return parsed;
}

async function existingPrincipal(ctx: Context, arn: string): Promise<PrincipalRecord> {
  parseArn(arn);
  const principal = await ctx.principals.getPrincipal(arn);
  if (principal === null) throw new Failure(`no such principal: ${arn}`);
  return principal;
}

async function policyHolder(ctx: Context, arn: string, name: string): Promise<PrincipalRecord> {
  if (parseArn(arn).kind === "root") {
    throw new UsageError("an account root has no identity policies (it may do everything)");
  }
  if (!POLICY_NAME_PATTERN.test(name)) {
    throw new UsageError("policy names must match [\\w+=,.@-]{1,128}");
  }
  return await existingPrincipal(ctx, arn);
}

function auditFilter(v: Values): AuditFilter {
  const filter: AuditFilter = {};
  if (typeof v.since === "string") filter.since = isoTime(v.since, "--since");
  if (typeof v.until === "string") filter.until = isoTime(v.until, "--until");
  if (typeof v.principal === "string") filter.principalArn = v.principal;
  if (typeof v.key === "string") filter.keyArn = v.key;
  if (typeof v.operation === "string") filter.operation = v.operation;
  if (typeof v.error === "string") filter.errorCode = v.error;
  if (v.decision !== undefined) {
    if (v.decision !== "Allow" && v.decision !== "Deny") {
      throw new UsageError("--decision must be Allow or Deny");
    }
    filter.decision = v.decision;
  }
  if (typeof v.limit === "string") {
    const limit = Number(v.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UsageError("--limit must be a positive integer");
    }
    filter.limit = limit;
  }
  return filter;
}

/** `<seq>:<hex hash>` as `audit verify` printed it. */
/** `<chain>:<seq>:<hex hash>[,...]` as `audit verify` printed it. */
function chainHeads(value: string): Map<AuditChain, ChainHead> {
  const heads = new Map<AuditChain, ChainHead>();
  for (const part of value.split(",")) {
    const m = /^([01]):(\d+):([0-9a-f]{64})$/i.exec(part.trim());
    if (m === null) {
      throw new UsageError(
        "--head must be <chain>:<seq>:<64 hex digits>[,...], as verify prints it",
      );
    }
    heads.set(Number(m[1]) as AuditChain, { seq: Number(m[2]), hash: fromHex(m[3]!) });
  }
  return heads;
}

function isoTime(value: string, option: string): number {
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(`${option} must be an ISO 8601 time, e.g. 2025-01-31T12:00:00Z`);
  }
  return time;
}

function required(v: Values, name: string): string {
  const value = v[name];
  if (typeof value !== "string") throw new UsageError(`--${name} is required`);
  return value;
}

function print(text: string): void {
  console.log(text);
}

/** Rows as aligned columns, or one JSON object per line. */
function table(json: boolean, rows: Record<string, string>[]): void {
  if (json) {
    for (const row of rows) print(JSON.stringify(row));
    return;
  }
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const labels = columns.map((c) => c.replace(/[A-Z]/g, " $&").toUpperCase());
  const widths = columns.map((c, i) =>
    Math.max(labels[i]!.length, ...rows.map((r) => r[c]!.length))
  );
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join("  ").trimEnd();
  print(line(labels));
  for (const row of rows) print(line(columns.map((c) => row[c]!)));
}

async function openContext(rotating = false): Promise<Context> {
  const config = parseConfig(Deno.env.toObject());
  const db = await openDatabase(config.dbUrl, config.dbAuthToken);
  try {
    await migrate(db);
    const principals = new SqlitePrincipalStore(db);
    if (config.rootKey === undefined && !await exists(config.rootKeyFile)) {
      // Creating a root key is for a fresh database only: with data, it could never unwrap it.
      if ((await principals.listAccessKeys()).length > 0) {
        throw new Failure(
          `root key file ${config.rootKeyFile} not found; ` +
            "set KMS_ROOT_KEY or KMS_ROOT_KEY_FILE as for the server",
        );
      }
    }
    const keyring = await loadOrCreateKeyring({
      rootKey: config.rootKey,
      rootKeysPrevious: config.rootKeysPrevious,
      rootKeyFile: config.rootKeyFile,
    });
    await checkRootKeyring(db, keyring, Date.now(), { rotating });
    const store = new SqliteStore(db, keyring);
    if (!await store.rootKeyMatches()) {
      throw new Failure(
        "the root key (KMS_ROOT_KEY / KMS_ROOT_KEY_FILE) is not the one this database was written with",
      );
    }
    return { db, store, principals, dbUrl: config.dbUrl, keyring };
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * A file argument as the caller meant it: `deno task` runs this script from the project root, so a
 * relative path is resolved against the directory the task was started in (`INIT_CWD`).
 */
export function callerPath(path: string, initCwd = Deno.env.get("INIT_CWD")): string {
  if (path.startsWith("/") || initCwd === undefined || initCwd === "") return path;
  return `${initCwd.replace(/\/+$/, "")}/${path}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Runs one command line; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      print(HELP);
      return argv.length === 0 ? 2 : 0;
    }
    const name = `${argv[0]} ${argv[1] ?? ""}`;
    // One-word commands (backup) take their arguments from the second word on.
    const command = COMMANDS[name] ?? COMMANDS[argv[0]!];
    if (command === undefined) throw new UsageError(`unknown command: ${name.trim()}`);
    let parsed;
    try {
      parsed = parseArgs({
        args: argv.slice(COMMANDS[name] === undefined ? 1 : 2),
        options: { ...command.options, help: { type: "boolean", short: "h" } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError(
        `${e instanceof Error ? e.message : String(e)}\nUsage: deno task admin ${command.usage}`,
      );
    }
    if (parsed.values.help === true) {
      print(`Usage: deno task admin ${command.usage}`);
      return 0;
    }
    const [min, max] = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(`wrong number of arguments\nUsage: deno task admin ${command.usage}`);
    }
    const ctx = await openContext(command === COMMANDS["root-key rotate"]);
    try {
      await command.run(ctx, parsed.values as Values, parsed.positionals);
    } finally {
      ctx.store.close();
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RootKeyUsageError) {
      console.error(`admin: ${e.message}\nRun 'deno task admin --help' for the commands.`);
      return 2;
    }
    console.error(`admin: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
