/**
 * Principals: account roots, IAM-style users and roles, their access keys and
 * inline identity policies, and the ARN rules for them. `KMS_PRINCIPALS_FILE`,
 * which declares principals for CI and containers, is loaded by
 * core/principals_file.ts.
 *
 * A role's access keys act as the role itself (there is no STS here).
 * Account roots always exist and are always enabled; the store keeps rows for
 * users and roles only.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
 * @module
 */
import { accountRootArn } from "./identifiers.ts";

/** What kind of principal an ARN names. */
export type PrincipalKind = "user" | "role" | "root";

/** A principal as stored (roots are synthesized). Times are epoch milliseconds. */
export interface PrincipalRecord {
  arn: string;
  accountId: string;
  kind: PrincipalKind;
  /** IAM path, `/` or `/a/b/`; always `/` for a root. */
  path: string;
  /** User or role name; `root` for an account root. */
  name: string;
  enabled: boolean;
  createdAt: number;
}

/** An inline identity policy of a principal: its name and JSON document. */
export interface IdentityPolicy {
  name: string;
  document: string;
}

/** An access key without its secret. */
export interface AccessKeyInfo {
  accessKeyId: string;
  principalArn: string;
  accountId: string;
  enabled: boolean;
  createdAt: number;
}

/** Users, roles and their identity policies; access keys as read-only rows. */
export interface PrincipalStore {
  /** The principal of `arn`, a synthesized enabled record for an account root, or null. */
  getPrincipal(arn: string): Promise<PrincipalRecord | null>;
  /** Inserts a user or role, or updates the enabled state of the one with that ARN. */
  upsertPrincipal(principal: PrincipalRecord): Promise<void>;
  /** Users and roles ordered by ARN, optionally of one account. */
  listPrincipals(accountId?: string): Promise<PrincipalRecord[]>;
  /** Resolves false when there is no such user or role. */
  setPrincipalEnabled(arn: string, enabled: boolean): Promise<boolean>;
  putIdentityPolicy(arn: string, name: string, document: string): Promise<void>;
  getIdentityPolicy(arn: string, name: string): Promise<string | null>;
  /** Resolves false when there was no such policy. */
  deleteIdentityPolicy(arn: string, name: string): Promise<boolean>;
  /** Policies ordered by name. */
  listIdentityPolicies(arn: string): Promise<IdentityPolicy[]>;
  /** Replaces every identity policy of `arn` with `policies`, in one transaction. */
  replaceIdentityPolicies(arn: string, policies: readonly IdentityPolicy[]): Promise<void>;
  /** Access keys ordered by principal ARN and access key id, optionally of one principal. */
  listAccessKeys(principalArn?: string): Promise<AccessKeyInfo[]>;
  /**
   * Enabled state and identity policies of a principal, read together (an
   * account root: enabled, no policies); null for a user or role that does not exist.
   */
  identityOf(arn: string): Promise<{ enabled: boolean; policies: IdentityPolicy[] } | null>;
}

/** A 12-digit AWS account id. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** IAM user and role names: `[\w+=,.@-]{1,64}`. */
export const PRINCIPAL_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** IAM paths: `/`, or `/` + printable ASCII + `/`, at most 512 characters. */
export const PATH_PATTERN = /^(\/|\/[\u0021-\u007E]{1,510}\/)$/;
/** IAM inline policy names: `[\w+=,.@-]{1,128}`. */
export const POLICY_NAME_PATTERN = /^[\w+=,.@-]{1,128}$/;
/** IAM's AccessKeyId constraint (`[\w]+`, 16..128); AWS issues `AKIA` + 16 upper-case characters. */
export const ACCESS_KEY_ID_PATTERN = /^\w{16,128}$/;
/** Secret access keys: 16..128 printable ASCII characters (AWS issues 40). */
export const SECRET_ACCESS_KEY_PATTERN = /^[\u0021-\u007E]{16,128}$/;

const PRINCIPAL_ARN =
  /^arn:aws:iam::(\d{12}):(?:(root)|(user|role)(\/(?:[\u0021-\u007E]*\/)?)([^/]+))$/;

/** `arn:aws:iam::<account>:user<path><name>` (`path` `/` or `/a/b/`). */
export function userArn(accountId: string, name: string, path = "/"): string {
  return `arn:aws:iam::${accountId}:user${path}${name}`;
}

/** `arn:aws:iam::<account>:role<path><name>` (`path` `/` or `/a/b/`). */
export function roleArn(accountId: string, name: string, path = "/"): string {
  return `arn:aws:iam::${accountId}:role${path}${name}`;
}

/** The ARN of a user, role or (kind `root`) account root. */
export function principalArn(
  kind: PrincipalKind,
  accountId: string,
  options: { name?: string; path?: string } = {},
): string {
  if (kind === "root") return accountRootArn(accountId);
  const name = options.name ?? "";
  return kind === "user"
    ? userArn(accountId, name, options.path)
    : roleArn(accountId, name, options.path);
}

/** The parts of an IAM principal ARN, when it is a valid root, user or role ARN. */
export interface ParsedPrincipalArn {
  accountId: string;
  kind: PrincipalKind;
  path: string;
  name: string;
}

/** Parses a root, user or role ARN under IAM's name and path rules; anything else gives null. */
export function parsePrincipalArn(arn: string): ParsedPrincipalArn | null {
  const m = PRINCIPAL_ARN.exec(arn);
  if (m === null) return null;
  const accountId = m[1]!;
  if (m[2] !== undefined) return { accountId, kind: "root", path: "/", name: "root" };
  const path = m[4]!;
  const name = m[5]!;
  if (!PATH_PATTERN.test(path) || !PRINCIPAL_NAME_PATTERN.test(name)) {
    return null;
  }
  return { accountId, kind: m[3] as "user" | "role", path, name };
}

/** The record of an account root: it always exists and is always enabled. */
export function rootPrincipal(accountId: string): PrincipalRecord {
  return {
    arn: accountRootArn(accountId),
    accountId,
    kind: "root",
    path: "/",
    name: "root",
    enabled: true,
    createdAt: 0,
  };
}
