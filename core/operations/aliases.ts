/**
 * CreateAlias, UpdateAlias, DeleteAlias, ListAliases and AWS's alias name rules.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
 * @module
 */
import { cutPage, decodeMarker, encodeMarker } from "./paging.ts";
import {
  AlreadyExistsException,
  InvalidAliasNameException,
  NotAuthorizedException,
  NotFoundException,
  ValidationException,
} from "../errors.ts";
import { aliasArn } from "../identifiers.ts";
import {
  awsManagedServiceOf,
  isAwsAliasName,
  PREDEFINED_AWS_ALIASES,
} from "../aws_managed_keys.ts";
import type { KmsAction } from "../catalogue.ts";
import { assertKeyStateAllows, assertUpdateAliasDestinationAllows } from "../key_state.ts";
import type { KeyCommits, KeyResolver } from "../operation_ports.ts";
import type { AliasStore } from "../ports.ts";
import type { AliasRecord, Caller } from "../types.ts";

/** What this family of operations uses of the KMS. */
export type AliasPorts = KeyResolver & KeyCommits & {
  readonly store: AliasStore;
  forgetAlias(accountId: string, aliasName: string): void;
};

const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

/**
 * AWS's answer to an alias name without the `alias/` prefix, word for word (a ValidationException,
 * as quoted from AWS in aws-controllers-k8s/community#1878).
 */
const MISSING_ALIAS_PREFIX = `Alias must start with the prefix "alias/". ` +
  "Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html";

/** The message of CreateAlias, UpdateAlias and DeleteAlias on an alias name under `alias/aws/`. */
const RESERVED_AWS_ALIAS =
  `Alias names beginning with "alias/aws/" are reserved for AWS managed keys.`;

/** AWS's answer to an alias name or alias ARN given as an alias's target (moto's tests of AWS). */
const ALIAS_TARGETS_ALIAS = "Aliases must refer to keys. Not aliases";

/**
 * Checks an alias name as AWS does: `alias/` then letters, digits, `/`, `_`, `-`; `alias/aws/` is
 * reserved (AWS answers NotAuthorizedException for its predefined aliases, moto's tests of AWS).
 * @throws {ValidationException} no `alias/` prefix. @throws {InvalidAliasNameException}
 * @throws {NotAuthorizedException} a predefined AWS alias.
 */
export function validateAliasName(name: string): void {
  if (!name.startsWith("alias/")) throw new ValidationException(MISSING_ALIAS_PREFIX);
  if (awsManagedServiceOf(name) !== undefined) {
    throw new NotAuthorizedException(RESERVED_AWS_ALIAS);
  }
  if (isAwsAliasName(name)) {
    throw new InvalidAliasNameException(RESERVED_AWS_ALIAS);
  }
  if (!ALIAS_NAME.test(name)) {
    throw new InvalidAliasNameException(
      `Alias ${name} must contain only alphanumeric characters, forward slashes (/), underscores (_) and dashes (-) after "alias/".`,
    );
  }
}

/**
 * Refuses an alias (name or ARN) as the target of an alias, as AWS does.
 * @throws {ValidationException}
 */
function assertTargetIsKey(targetKeyId: string): void {
  if (targetKeyId.startsWith("alias/") || ALIAS_ARN.test(targetKeyId)) {
    throw new ValidationException(ALIAS_TARGETS_ALIAS);
  }
}

const ALIAS_ARN = /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//;

/**
 * CreateAlias: a new name for a key of the caller's account.
 * @throws {InvalidAliasNameException} @throws {AlreadyExistsException} @throws {NotFoundException} @throws {KMSInvalidStateException}
 * @throws {ValidationException} a name without `alias/`, or an alias as the target.
 */
export async function createAlias(
  kms: AliasPorts,
  caller: Caller,
  input: { AliasName: string; TargetKeyId: string },
): Promise<Record<string, never>> {
  validateAliasName(input.AliasName);
  assertTargetIsKey(input.TargetKeyId);
  authorizeOnAlias(kms, caller, "kms:CreateAlias", input.AliasName);
  const key = await kms.resolveKey(caller, input.TargetKeyId, {
    allowAlias: false,
    action: "kms:CreateAlias",
  });
  assertKeyStateAllows("CreateAlias", { arn: key.arn, state: key.record.state });
  const now = kms.clock.now();
  await kms.commit(caller, async (audit) => {
    const created = await kms.store.createAlias({
      accountId: caller.accountId,
      region: kms.region,
      name: input.AliasName,
      targetKeyId: key.record.keyId,
      createdAt: now,
      updatedAt: now,
    }, audit);
    // Thrown inside the commit: the audit record did not commit with it, so it is still to write.
    if (!created) throw aliasExists(kms, caller, input.AliasName);
  });
  kms.forgetAlias(caller.accountId, input.AliasName);
  return {};
}

/**
 * The alias side of CreateAlias, UpdateAlias and DeleteAlias: identity policies decide on
 * the alias ARN (the key side is the key policy's).
 * @throws {AccessDeniedException}
 */
function authorizeOnAlias(kms: AliasPorts, caller: Caller, action: KmsAction, name: string): void {
  kms.authorizeAccount(caller, action, {}, aliasArn(kms.region, caller.accountId, name));
}

function aliasExists(kms: AliasPorts, caller: Caller, name: string): AlreadyExistsException {
  return new AlreadyExistsException(
    `An alias with the name ${aliasArn(kms.region, caller.accountId, name)} already exists`,
  );
}

async function existingAlias(kms: AliasPorts, caller: Caller, name: string): Promise<AliasRecord> {
  validateAliasName(name);
  const alias = await kms.store.getAlias(caller.accountId, kms.region, name);
  if (alias === null) {
    throw new NotFoundException(
      `Alias ${aliasArn(kms.region, caller.accountId, name)} is not found.`,
    );
  }
  return alias;
}

/**
 * UpdateAlias: points an existing alias at another key of the same spec and usage.
 * @throws {NotFoundException} @throws {KMSInvalidStateException}
 * @throws {ValidationException} a key of another type, or an alias as the target.
 */
export async function updateAlias(
  kms: AliasPorts,
  caller: Caller,
  input: { AliasName: string; TargetKeyId: string },
): Promise<Record<string, never>> {
  const alias = await existingAlias(kms, caller, input.AliasName);
  assertTargetIsKey(input.TargetKeyId);
  authorizeOnAlias(kms, caller, "kms:UpdateAlias", input.AliasName);
  const key = await kms.resolveKey(caller, input.TargetKeyId, {
    allowAlias: false,
    action: "kms:UpdateAlias",
  });
  assertUpdateAliasDestinationAllows({ arn: key.arn, state: key.record.state });
  const current = await kms.findKey(alias.targetKeyId);
  if (current !== null) await kms.authorize(caller, current, { action: "kms:UpdateAlias" });
  if (
    current !== null &&
    (current.record.keySpec !== key.record.keySpec ||
      current.record.keyUsage !== key.record.keyUsage)
  ) {
    throw new ValidationException(
      `Alias ${input.AliasName} points to a ${current.record.keySpec} ${current.record.keyUsage} key; the new target key must have the same key spec and key usage.`,
    );
  }
  await kms.commit(caller, (audit) =>
    kms.store.updateAlias({
      ...alias,
      targetKeyId: key.record.keyId,
      updatedAt: kms.clock.now(),
    }, audit));
  kms.forgetAlias(caller.accountId, input.AliasName);
  return {};
}

/**
 * DeleteAlias.
 * @throws {NotFoundException} @throws {InvalidAliasNameException}
 */
export async function deleteAlias(
  kms: AliasPorts,
  caller: Caller,
  input: { AliasName: string },
): Promise<Record<string, never>> {
  const alias = await existingAlias(kms, caller, input.AliasName);
  authorizeOnAlias(kms, caller, "kms:DeleteAlias", input.AliasName);
  const key = await kms.findKey(alias.targetKeyId);
  if (key !== null) await kms.authorize(caller, key, { action: "kms:DeleteAlias" });
  await kms.commit(
    caller,
    (audit) => kms.store.deleteAlias(alias.accountId, alias.region, alias.name, audit),
  );
  kms.forgetAlias(caller.accountId, input.AliasName);
  return {};
}

/** One entry of ListAliases; a predefined AWS alias with no key yet has only name and ARN. */
export interface AliasListEntry {
  AliasName: string;
  AliasArn: string;
  TargetKeyId?: string;
  CreationDate?: Date;
  LastUpdatedDate?: Date;
}

/**
 * ListAliases: the caller's aliases by name, optionally of one key (key id or key ARN), paged.
 * @throws {NotFoundException} @throws {InvalidMarkerException}
 */
export async function listAliases(
  kms: AliasPorts,
  caller: Caller,
  input: { KeyId?: string | undefined; Limit?: number | undefined; Marker?: string | undefined },
): Promise<{ Aliases: AliasListEntry[]; NextMarker?: string; Truncated: boolean }> {
  kms.authorizeAccount(caller, "kms:ListAliases");
  const targetKeyId = input.KeyId === undefined
    ? undefined
    : (await kms.findNamedKey(caller, input.KeyId, {
      allowAlias: false,
      action: "kms:ListAliases",
    }))
      .record.keyId;
  const limit = input.Limit ?? 50;
  const after = input.Marker === undefined ? undefined : decodeAliasMarker(input.Marker);
  const rows = await kms.store.listAliases(caller.accountId, kms.region, {
    limit: limit + 1,
    after,
    targetKeyId,
  });
  const entries: ListedAlias[] = targetKeyId === undefined
    ? withPredefinedAliases(rows, after, limit + 1)
    : rows;
  const { shown, end } = cutPage(entries, limit, (last) => encodeMarker("alias", last.name));
  const aliases = shown.map((a) => listEntry(kms.region, caller.accountId, a));
  return { Aliases: aliases, ...end };
}

/** A stored alias, or a predefined AWS alias with no key yet (a name only). */
type ListedAlias = AliasRecord | { name: string };

/**
 * The first `count` of the stored aliases (`rows`, the first `count` after `after`) merged with
 * the predefined AWS aliases after `after` that have no key yet, by name. AWS lists those too,
 * without TargetKeyId; a stored alias of the same name wins.
 */
function withPredefinedAliases(
  rows: readonly AliasRecord[],
  after: string | undefined,
  count: number,
): ListedAlias[] {
  const stored = new Set(rows.map((row) => row.name));
  const predefined = PREDEFINED_AWS_ALIASES
    .filter((name) => (after === undefined || name > after) && !stored.has(name))
    .map((name) => ({ name }));
  return [...rows, ...predefined]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, count);
}

function listEntry(region: string, accountId: string, alias: ListedAlias): AliasListEntry {
  if (!("targetKeyId" in alias)) {
    return { AliasName: alias.name, AliasArn: aliasArn(region, accountId, alias.name) };
  }
  return {
    AliasName: alias.name,
    AliasArn: aliasArn(alias.region, alias.accountId, alias.name),
    TargetKeyId: alias.targetKeyId,
    CreationDate: new Date(alias.createdAt),
    LastUpdatedDate: new Date(alias.updatedAt),
  };
}

function decodeAliasMarker(marker: string): string {
  return decodeMarker(marker, "alias", (name) => name.startsWith("alias/") ? name : undefined);
}
