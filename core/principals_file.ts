/**
 * The loader of `KMS_PRINCIPALS_FILE`, which declares principals (core/principals.ts) for CI
 * and containers: users, roles and account roots with one access key each and their inline
 * identity policies. Everything is checked before anything is written; errors name the entry
 * and field at fault and never quote a secret.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "./config.ts";
import type { Clock, CredentialStore } from "./ports.ts";
import {
  ACCESS_KEY_ID_PATTERN,
  ACCOUNT_ID_PATTERN,
  type IdentityPolicy,
  PATH_PATTERN,
  POLICY_NAME_PATTERN,
  PRINCIPAL_NAME_PATTERN,
  principalArn,
  type PrincipalKind,
  type PrincipalRecord,
  type PrincipalStore,
  SECRET_ACCESS_KEY_PATTERN,
} from "./principals.ts";
import { SecretBytes } from "./secret.ts";

const PolicyDocument = z.union([z.string(), z.record(z.string(), z.unknown())], {
  error: "must be a policy document (a JSON object) or its JSON text",
});

const Entry = z.strictObject({
  accountId: z.string().regex(ACCOUNT_ID_PATTERN, "must be 12 digits"),
  userName: z.string().regex(PRINCIPAL_NAME_PATTERN, "must match [\\w+=,.@-]{1,64}").optional(),
  roleName: z.string().regex(PRINCIPAL_NAME_PATTERN, "must match [\\w+=,.@-]{1,64}").optional(),
  root: z.literal(true, { error: "must be true when given" }).optional(),
  path: z.string().regex(PATH_PATTERN, 'must be "/" or start and end with "/"').optional(),
  accessKeyId: z.string().regex(
    ACCESS_KEY_ID_PATTERN,
    "must be 16 to 128 letters, digits or underscores (AWS form: AKIA and 16 more)",
  ),
  secretAccessKey: z.string().regex(
    SECRET_ACCESS_KEY_PATTERN,
    "must be 16 to 128 printable ASCII characters without spaces",
  ),
  enabled: z.boolean().optional(),
  policies: z.record(
    z.string().regex(POLICY_NAME_PATTERN, "policy names must match [\\w+=,.@-]{1,128}"),
    PolicyDocument,
  ).optional(),
});

const PrincipalsFile = z.strictObject({ principals: z.array(Entry) });

type Entry = z.infer<typeof Entry>;

/** What `loadPrincipalsFile` needs. */
export interface PrincipalsFileDeps {
  principals: PrincipalStore;
  credentials: Pick<CredentialStore, "getCredential" | "upsertCredential">;
  clock: Clock;
  /**
   * Checks one identity policy document (JSON text), e.g.
   * `(text) => parsePolicy(text, "identity")`.
   * @throws {Error} whose message says what is wrong.
   */
  validatePolicy(document: string): void;
}

/** What a load applied. */
export interface PrincipalsFileSummary {
  /** ARNs of the principals the file declares, in file order. */
  principals: string[];
  accessKeys: number;
  policies: number;
}

interface PlannedEntry {
  at: string;
  record: PrincipalRecord;
  accessKeyId: string;
  secretAccessKey: string;
  policies: IdentityPolicy[];
}

/**
 * Applies `KMS_PRINCIPALS_FILE` (its JSON text): creates or updates each
 * principal, its access key (secret replaced, stored wrapped) and its identity
 * policies (replaced by the file's set). Idempotent; principals and keys the
 * file no longer names are left as they are. Everything is checked before
 * anything is written.
 * @throws {ConfigError} naming the entry and field at fault; never quoting a secret.
 */
export async function loadPrincipalsFile(
  text: string,
  deps: PrincipalsFileDeps,
): Promise<PrincipalsFileSummary> {
  const plan = await _plan(_parseFile(text), deps);
  for (const entry of plan) {
    if (entry.record.kind !== "root") {
      await deps.principals.upsertPrincipal(entry.record);
      await deps.principals.replaceIdentityPolicies(entry.record.arn, entry.policies);
    }
    await deps.credentials.upsertCredential({
      accessKeyId: entry.accessKeyId,
      secretAccessKey: new SecretBytes(new TextEncoder().encode(entry.secretAccessKey)),
      accountId: entry.record.accountId,
      principalArn: entry.record.arn,
      enabled: entry.record.enabled,
      createdAt: entry.record.createdAt,
    });
  }
  return {
    principals: plan.map((entry) => entry.record.arn),
    accessKeys: plan.length,
    policies: plan.reduce((sum, entry) => sum + entry.policies.length, 0),
  };
}

/**
 * Checks the shape of a `KMS_PRINCIPALS_FILE` text without writing anything (a start runs it
 * before it touches the database; the store-dependent checks run in `loadPrincipalsFile`).
 * @throws {ConfigError} as `loadPrincipalsFile` does.
 */
export function checkPrincipalsFileText(text: string): void {
  _parseFile(text);
}

function _fail(message: string): never {
  throw new ConfigError(`KMS_PRINCIPALS_FILE: ${message}`);
}

function _parseFile(text: string): Entry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // V8 may quote a stretch of the text (a secret, perhaps): keep only the position.
    const where = /at position \d+(?: \(line \d+ column \d+\))?/.exec(String(e))?.[0];
    _fail(`not valid JSON${where === undefined ? "" : ` (${where})`}`);
  }
  const parsed = PrincipalsFile.safeParse(json);
  if (!parsed.success) {
    _fail(parsed.error.issues.slice(0, 5).map(_describeIssue).join("; "));
  }
  return parsed.data.principals;
}

function _describeIssue(issue: z.core.$ZodIssue): string {
  const at = fieldPath(issue.path);
  let message = issue.message;
  if (issue.code === "invalid_key") message = issue.issues[0]?.message ?? message;
  if (issue.code === "invalid_type" && / received undefined$/.test(message)) {
    message = "is required";
  }
  return at === "" ? message : `${at}: ${message}`;
}

/**
 * A zod issue's path as the principals and seed files' messages name a field:
 * `keys[2].tags["env"]`.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (typeof part === "string" && /^[A-Za-z_][\w]*$/.test(part)) {
      out += out === "" ? part : `.${part}`;
    } else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

async function _plan(entries: Entry[], deps: PrincipalsFileDeps): Promise<PlannedEntry[]> {
  const now = deps.clock.now();
  const seenArns = new Map<string, string>();
  const seenKeys = new Map<string, string>();
  const plan: PlannedEntry[] = [];
  for (const [i, entry] of entries.entries()) {
    const at = `principals[${i}]`;
    const kinds = [entry.userName, entry.roleName, entry.root].filter((v) => v !== undefined);
    if (kinds.length !== 1) _fail(`${at}: give exactly one of userName, roleName or "root": true`);
    const kind: PrincipalKind = entry.userName !== undefined
      ? "user"
      : entry.roleName !== undefined
      ? "role"
      : "root";
    if (kind === "root" && (entry.path !== undefined || entry.policies !== undefined)) {
      _fail(`${at}: an account root takes neither a path nor identity policies`);
    }
    const name = entry.userName ?? entry.roleName ?? "root";
    const path = entry.path ?? "/";
    const arn = principalArn(kind, entry.accountId, { name, path });
    const nameKey = `${entry.accountId}:${kind}:${name.toLowerCase()}`;
    const earlier = seenArns.get(nameKey);
    if (earlier !== undefined) _fail(`${at}: the same principal as ${earlier} (one entry each)`);
    seenArns.set(nameKey, at);
    const earlierKey = seenKeys.get(entry.accessKeyId);
    if (earlierKey !== undefined) _fail(`${at}.accessKeyId: also used by ${earlierKey}`);
    seenKeys.set(entry.accessKeyId, at);

    const existing = await deps.credentials.getCredential(entry.accessKeyId);
    if (existing !== null && existing.principalArn !== arn) {
      existing.secretAccessKey.wipe();
      _fail(
        `${at}.accessKeyId: ${entry.accessKeyId} already belongs to ${existing.principalArn}; ` +
          "an access key cannot move to another principal",
      );
    }
    existing?.secretAccessKey.wipe();
    if (kind !== "root") await _checkRename(at, arn, entry.accountId, kind, name, deps);

    const policies: IdentityPolicy[] = [];
    for (const [policyName, doc] of Object.entries(entry.policies ?? {})) {
      const document = typeof doc === "string" ? doc : JSON.stringify(doc);
      try {
        deps.validatePolicy(document);
      } catch (e) {
        _fail(`${at}.policies.${policyName}: ${e instanceof Error ? e.message : String(e)}`);
      }
      policies.push({ name: policyName, document });
    }
    plan.push({
      at,
      record: {
        arn,
        accountId: entry.accountId,
        kind,
        path,
        name,
        enabled: entry.enabled ?? true,
        createdAt: now,
      },
      accessKeyId: entry.accessKeyId,
      secretAccessKey: entry.secretAccessKey,
      policies,
    });
  }
  return plan;
}

/** IAM names are unique per account whatever their case and path. */
async function _checkRename(
  at: string,
  arn: string,
  accountId: string,
  kind: PrincipalKind,
  name: string,
  deps: PrincipalsFileDeps,
): Promise<void> {
  const clash = (await deps.principals.listPrincipals(accountId)).find((p) =>
    p.kind === kind && p.name.toLowerCase() === name.toLowerCase() && p.arn !== arn
  );
  if (clash !== undefined) {
    _fail(`${at}: ${kind} ${name} already exists as ${clash.arn} (names ignore case and path)`);
  }
}
