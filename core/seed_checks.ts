/**
 * The checks a seed file's tags, aliases and grants pass, with the rules of
 * TagResource, CreateAlias and CreateGrant, and the records they become.
 *
 * @module
 */
import { hash } from "node:crypto";
import {
  canonicalJson,
  type GrantConstraints,
  grantOperationsFor,
  type GrantRecord,
} from "./access/grants.ts";
import { accountRootArn } from "./identifiers.ts";
import { ALIAS_NAME_MAX_LENGTH, TAG_KEY_MAX_LENGTH, TAG_VALUE_MAX_LENGTH } from "./limits.ts";
import { ValidationException } from "./errors.ts";
import { validateAliasName } from "./operations/aliases.ts";
import { checkedGrantConstraints, IAM_PRINCIPAL } from "./operations/grants.ts";
import { validateTags } from "./operations/tags.ts";
import type { AliasStore } from "./ports.ts";
import { seedError, type SeedGrantEntry, type SeedKeyEntry } from "./seed_file.ts";
import type { AliasRecord, KeyRecord, Tag } from "./types.ts";

/**
 * A key entry's tags as a list, checked as TagResource checks them.
 * @throws {ConfigError}
 */
export function checkTags(at: string, tags: SeedKeyEntry["tags"]): Tag[] {
  if (tags === undefined) return [];
  const list = Array.isArray(tags)
    ? tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }))
    : Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  for (const [i, tag] of list.entries()) {
    const where = Array.isArray(tags) ? `${at}[${i}]` : `${at}[${JSON.stringify(tag.TagKey)}]`;
    if (tag.TagKey.length < 1 || tag.TagKey.length > TAG_KEY_MAX_LENGTH) {
      throw seedError(`${where}: tag keys are 1 to ${TAG_KEY_MAX_LENGTH} characters`);
    }
    if (tag.TagValue.length > TAG_VALUE_MAX_LENGTH) {
      throw seedError(`${where}: tag values are at most ${TAG_VALUE_MAX_LENGTH} characters`);
    }
  }
  try {
    validateTags(list);
  } catch (e) {
    throw seedError(`${at}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return list;
}

/** An alias to create, or one to point at its seeded key. */
export interface PlannedAlias {
  record: AliasRecord;
  action: "create" | "update";
}

/**
 * The aliases of the key entries (`records[i]` is the key of `entries[i]`), checked as
 * CreateAlias checks them; aliases already pointing at their key are left out.
 * @throws {ConfigError}
 */
export async function checkKeyAliases(
  entries: readonly SeedKeyEntry[],
  records: readonly KeyRecord[],
  options: { store: Pick<AliasStore, "getAlias">; region: string; now: number },
): Promise<PlannedAlias[]> {
  const seen = new Map<string, string>();
  const planned: PlannedAlias[] = [];
  for (const [i, entry] of entries.entries()) {
    const key = records[i]!;
    for (const [j, name] of (entry.aliases ?? []).entries()) {
      const at = `keys[${i}].aliases[${j}]`;
      if (name.length > ALIAS_NAME_MAX_LENGTH) {
        throw seedError(`${at}: alias names are at most ${ALIAS_NAME_MAX_LENGTH} characters`);
      }
      try {
        validateAliasName(name);
      } catch (e) {
        throw seedError(`${at}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const earlier = seen.get(`${key.accountId}:${name}`);
      if (earlier !== undefined) throw seedError(`${at}: ${name} is also ${earlier}`);
      seen.set(`${key.accountId}:${name}`, at);
      const existing = await options.store.getAlias(key.accountId, options.region, name);
      if (existing === null) {
        planned.push({
          action: "create",
          record: {
            accountId: key.accountId,
            region: options.region,
            name,
            targetKeyId: key.keyId,
            createdAt: options.now,
            updatedAt: options.now,
          },
        });
      } else if (existing.targetKeyId !== key.keyId) {
        planned.push({
          action: "update",
          record: { ...existing, targetKeyId: key.keyId, updatedAt: options.now },
        });
      }
    }
  }
  return planned;
}

/**
 * A grant entry on `key` as the grant to store, checked as CreateGrant checks one. Without a
 * `grantId` its id is derived from its key and parameters, so reloading the file finds it.
 * @throws {ConfigError}
 */
export function checkGrant(
  at: string,
  entry: SeedGrantEntry,
  options: { key: KeyRecord; now: number },
): GrantRecord {
  const { key } = options;
  for (const field of ["granteePrincipal", "retiringPrincipal"] as const) {
    const value = entry[field];
    if (value !== undefined && !IAM_PRINCIPAL.test(value)) {
      throw seedError(
        `${at}.${field}: must be an IAM principal ARN (arn:aws:iam::<account>:root, ` +
          ":user/<name> or :role/<name>)",
      );
    }
  }
  const operations = [...new Set(entry.operations)];
  const supported = grantOperationsFor(key);
  const unsupported = operations.filter((op) => !supported.includes(op));
  if (unsupported.length > 0) {
    throw seedError(
      `${at}.operations: ${unsupported.join(", ")} cannot be granted on key ${key.keyId}, ` +
        `a ${key.keySpec} key with usage ${key.keyUsage} (it allows ${supported.join(", ")})`,
    );
  }
  const constraints = _constraints(`${at}.constraints`, entry.constraints, key);
  const grant: Omit<GrantRecord, "grantId"> = {
    keyId: key.keyId,
    name: entry.name ?? null,
    granteePrincipal: entry.granteePrincipal,
    granteeServicePrincipal: null,
    retiringPrincipal: entry.retiringPrincipal ?? null,
    retiringServicePrincipal: null,
    issuingAccount: accountRootArn(key.accountId),
    operations,
    constraints,
    createdAt: options.now,
  };
  return { grantId: entry.grantId ?? derivedGrantId(grant), ...grant };
}

/** A grant id from a grant's key and parameters: SHA-256 over their canonical JSON. */
export function derivedGrantId(grant: Omit<GrantRecord, "grantId" | "createdAt">): string {
  return hash("sha256", "edge-kms/seed-grant/v1\n" + grantParameters(grant), "hex");
}

/**
 * A seeded grant's key and parameters as canonical JSON (operations sorted): two grants with the
 * same text are the same grant to the seed file.
 */
export function grantParameters(grant: Omit<GrantRecord, "grantId" | "createdAt">): string {
  return canonicalJson({
    keyId: grant.keyId,
    name: grant.name,
    granteePrincipal: grant.granteePrincipal,
    retiringPrincipal: grant.retiringPrincipal,
    operations: [...grant.operations].sort(),
    constraints: grant.constraints,
  });
}

/** A seed grant's constraints, checked as CreateGrant checks them. @throws {ConfigError} */
function _constraints(
  at: string,
  input: SeedGrantEntry["constraints"],
  key: KeyRecord,
): GrantConstraints | null {
  try {
    return checkedGrantConstraints(input, key.keySpec);
  } catch (error) {
    if (error instanceof ValidationException) throw seedError(`${at}: ${error.message}`);
    throw error;
  }
}
