/**
 * Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant,
 * RevokeGrant. A grant is durable before CreateGrant answers and its token
 * authorises at once; a retired or revoked grant is deleted durably before the
 * call answers, so the very next request (also after a crash) no longer sees it.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
 * @module
 */
import { cutPage, decodeMarker, encodeMarker } from "./paging.ts";
import { accessDenied } from "../access/access_control.ts";
import {
  type Context,
  copyContext,
  type GrantConstraints,
  type GrantOperation,
  grantOperationsFor,
  type GrantRecord,
  isNoWiderThan,
  newGrantId,
  newGrantToken,
  readGrantToken,
} from "../access/grants.ts";
import { InvalidGrantIdException, NotFoundException, ValidationException } from "../errors.ts";
import { accountRootArn, keyArn } from "../identifiers.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import type { KeyCommits, KeyResolver, LoadedKey } from "../operation_ports.ts";
import type { GrantStore } from "../ports.ts";
import type { AccessControl } from "../access/access_control.ts";
import type { Caller } from "../types.ts";
import { dryRunSucceeded } from "./data_plane.ts";

/** What this family of operations uses of the KMS. */
export type GrantPorts = KeyResolver & KeyCommits & {
  readonly store: GrantStore;
  readonly access: Pick<AccessControl, "forgetGrants">;
};

/** CreateGrant's input after schema validation. */
export interface CreateGrantInput {
  KeyId: string;
  GranteePrincipal?: string | undefined;
  GranteeServicePrincipal?: string | undefined;
  RetiringPrincipal?: string | undefined;
  RetiringServicePrincipal?: string | undefined;
  Operations: GrantOperation[];
  Constraints?: {
    EncryptionContextEquals?: Context | undefined;
    EncryptionContextSubset?: Context | undefined;
    SourceArn?: string | undefined;
  } | undefined;
  GrantTokens?: string[] | undefined;
  Name?: string | undefined;
  DryRun?: boolean | undefined;
}

/** A grant as ListGrants and ListRetirableGrants answer it. */
export interface GrantListEntry {
  KeyId: string;
  GrantId: string;
  Name?: string;
  CreationDate: Date;
  GranteePrincipal?: string;
  GranteeServicePrincipal?: string;
  RetiringPrincipal?: string;
  RetiringServicePrincipal?: string;
  IssuingAccount: string;
  Operations: GrantOperation[];
  Constraints?: GrantConstraints;
}

/** The principals CreateGrant (and a seed file grant) accepts as grantee or retiring principal. */
export const IAM_PRINCIPAL =
  /^(?:arn:aws:iam::\d{12}:(?:root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)|arn:aws:sts::\d{12}:(?:assumed-role|federated-user)\/[\w+=,.@/:-]+)$/;
const MAX_CONSTRAINT_PAIRS = 8;
const MAX_CONSTRAINT_VALUE = 384;

function assertPrincipal(field: string, value: string | undefined): void {
  if (value !== undefined && !IAM_PRINCIPAL.test(value)) {
    throw new ValidationException(`${field} ${value} is not a valid principal ARN.`);
  }
}

/**
 * Normalises and checks grant constraints for a key of `keySpec` (CreateGrant's and the seed
 * file's): encryption-context constraints only on SYMMETRIC_DEFAULT keys, at most 8 pairs, values
 * of at most 384 characters.
 * @throws {ValidationException}
 */
export function checkedGrantConstraints(
  input: CreateGrantInput["Constraints"],
  keySpec: string,
): GrantConstraints | null {
  if (input === undefined) return null;
  const constraints: GrantConstraints = {};
  for (const name of ["EncryptionContextEquals", "EncryptionContextSubset"] as const) {
    const context = input[name];
    if (context === undefined) continue;
    if (keySpec !== "SYMMETRIC_DEFAULT") {
      throw new ValidationException(
        `${name} grant constraints are not supported for ${keySpec} KMS keys: their operations take no encryption context.`,
      );
    }
    const keys = Object.keys(context);
    if (keys.length > MAX_CONSTRAINT_PAIRS) {
      throw new ValidationException(
        `${name} can have at most ${MAX_CONSTRAINT_PAIRS} encryption context pairs.`,
      );
    }
    for (const k of keys) {
      if ((context[k] as string).length > MAX_CONSTRAINT_VALUE) {
        throw new ValidationException(
          `Encryption context values in ${name} cannot exceed ${MAX_CONSTRAINT_VALUE} characters.`,
        );
      }
    }
    constraints[name] = copyContext(context);
  }
  if (input.SourceArn !== undefined) constraints.SourceArn = input.SourceArn;
  return Object.keys(constraints).length === 0 ? null : constraints;
}

function constraintTypes(constraints: GrantConstraints | null): string[] | undefined {
  if (constraints === null) return undefined;
  const types: string[] = [];
  if (constraints.EncryptionContextEquals !== undefined) types.push("EncryptionContextEquals");
  if (constraints.EncryptionContextSubset !== undefined) types.push("EncryptionContextSubset");
  return types;
}

function checkGrantees(input: CreateGrantInput): void {
  if ((input.GranteePrincipal === undefined) === (input.GranteeServicePrincipal === undefined)) {
    throw new ValidationException(
      "You must specify either GranteePrincipal or GranteeServicePrincipal, but not both.",
    );
  }
  if (input.RetiringPrincipal !== undefined && input.RetiringServicePrincipal !== undefined) {
    throw new ValidationException(
      "You can specify either RetiringPrincipal or RetiringServicePrincipal, but not both.",
    );
  }
  if (input.GranteeServicePrincipal !== undefined) {
    if (input.Constraints?.SourceArn === undefined) {
      throw new ValidationException(
        "A grant for a GranteeServicePrincipal requires a SourceArn grant constraint.",
      );
    }
    if (input.RetiringPrincipal === undefined && input.RetiringServicePrincipal === undefined) {
      throw new ValidationException(
        "A grant for a GranteeServicePrincipal requires a RetiringPrincipal or RetiringServicePrincipal.",
      );
    }
  }
  assertPrincipal("GranteePrincipal", input.GranteePrincipal);
  assertPrincipal("RetiringPrincipal", input.RetiringPrincipal);
}

function checkOperations(operations: readonly GrantOperation[], key: LoadedKey): void {
  if (operations.length === 0) {
    throw new ValidationException("Operations must list at least one grant operation.");
  }
  const supported = grantOperationsFor(key.record);
  const unsupported = operations.filter((op) => !supported.includes(op));
  if (unsupported.length > 0) {
    throw new ValidationException(
      `Grant operations [${
        unsupported.join(", ")
      }] are not valid for ${key.arn}, a ${key.record.keySpec} key with key usage ${key.record.keyUsage}.`,
    );
  }
}

/**
 * CreateGrant. With a Name, a repeated request with the same parameters answers the existing
 * grant's id (and a new token). A grantee creating a grant through its own grant can create
 * no wider grant.
 * @throws {ValidationException} @throws {NotFoundException} @throws {AccessDeniedException}
 * @throws {KMSInvalidStateException} @throws {InvalidGrantTokenException}
 * @throws {DryRunOperationException}
 */
export async function createGrant(
  kms: GrantPorts,
  caller: Caller,
  input: CreateGrantInput,
): Promise<{ GrantToken: string; GrantId: string }> {
  checkGrantees(input);
  const operations = [...new Set(input.Operations)];
  const named = await kms.findNamedKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:CreateGrant",
  });
  const constraints = checkedGrantConstraints(input.Constraints, named.record.keySpec);
  const allowance = await kms.authorize(caller, named, {
    action: "kms:CreateGrant",
    conditions: {
      grantOperations: operations,
      granteePrincipal: input.GranteePrincipal ?? input.GranteeServicePrincipal,
      retiringPrincipal: input.RetiringPrincipal ?? input.RetiringServicePrincipal,
      grantConstraintTypes: constraintTypes(constraints),
    },
  });
  if (
    allowance.via === "grant" &&
    !allowance.grants.some((parent) => isNoWiderThan({ operations, constraints }, parent))
  ) {
    caller.audit?.setDecision("Deny");
    throw accessDenied(
      caller,
      "kms:CreateGrant",
      named.arn,
      "no resource-based policy allows (the grant is wider than the caller's own grant)",
    );
  }
  assertKeyStateAllows("CreateGrant", { arn: named.arn, state: named.record.state });
  checkOperations(operations, named);
  if (input.DryRun === true) dryRunSucceeded();
  const grant = await kms.commit(caller, (audit) =>
    kms.store.createGrant({
      grantId: newGrantId(),
      keyId: named.record.keyId,
      name: input.Name ?? null,
      granteePrincipal: input.GranteePrincipal ?? null,
      granteeServicePrincipal: input.GranteeServicePrincipal ?? null,
      retiringPrincipal: input.RetiringPrincipal ?? null,
      retiringServicePrincipal: input.RetiringServicePrincipal ?? null,
      issuingAccount: accountRootArn(named.record.accountId),
      operations,
      constraints,
      createdAt: kms.clock.now(),
    }, audit));
  kms.access.forgetGrants(named.record.keyId);
  return { GrantToken: newGrantToken(grant.grantId, grant.keyId), GrantId: grant.grantId };
}

function listEntry(grant: GrantRecord, region: string, accountId: string): GrantListEntry {
  const entry: GrantListEntry = {
    KeyId: keyArn(region, accountId, grant.keyId),
    GrantId: grant.grantId,
    CreationDate: new Date(grant.createdAt),
    IssuingAccount: grant.issuingAccount,
    Operations: [...grant.operations],
  };
  if (grant.name !== null) entry.Name = grant.name;
  if (grant.granteePrincipal !== null) entry.GranteePrincipal = grant.granteePrincipal;
  if (grant.granteeServicePrincipal !== null) {
    entry.GranteeServicePrincipal = grant.granteeServicePrincipal;
  }
  if (grant.retiringPrincipal !== null) entry.RetiringPrincipal = grant.retiringPrincipal;
  if (grant.retiringServicePrincipal !== null) {
    entry.RetiringServicePrincipal = grant.retiringServicePrincipal;
  }
  if (grant.constraints !== null) entry.Constraints = grant.constraints;
  return entry;
}

const GRANT_ID = /^[0-9a-f]{64}$/;

function assertGrantId(grantId: string): void {
  if (!GRANT_ID.test(grantId)) throw new InvalidGrantIdException(`Invalid grant ID ${grantId}.`);
}

function decodeGrantMarker(marker: string): string {
  return decodeMarker(marker, "grant", (grantId) => GRANT_ID.test(grantId) ? grantId : undefined);
}

/** One page of grants, AWS's paging shape. */
function page(
  grants: GrantRecord[],
  limit: number,
  entry: (grant: GrantRecord) => GrantListEntry,
): { Grants: GrantListEntry[]; NextMarker?: string; Truncated: boolean } {
  const { shown, end } = cutPage(grants, limit, (last) => encodeMarker("grant", last.grantId));
  return { Grants: shown.map(entry), ...end };
}

/**
 * ListGrants: the grants of a key, optionally one grant or one grantee, Limit 1..100 (default 50).
 * @throws {NotFoundException} @throws {AccessDeniedException} @throws {InvalidGrantIdException}
 * @throws {InvalidMarkerException}
 */
export async function listGrants(
  kms: GrantPorts,
  caller: Caller,
  input: {
    KeyId: string;
    Limit?: number | undefined;
    Marker?: string | undefined;
    GrantId?: string | undefined;
    GranteePrincipal?: string | undefined;
  },
): Promise<{ Grants: GrantListEntry[]; NextMarker?: string; Truncated: boolean }> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:ListGrants",
  });
  if (input.GrantId !== undefined) assertGrantId(input.GrantId);
  const after = input.Marker === undefined ? "" : decodeGrantMarker(input.Marker);
  const limit = Math.min(input.Limit ?? 50, 100);
  const grants = (await kms.store.listGrantsOfKey(key.record.keyId)).filter((grant) =>
    grant.grantId > after &&
    (input.GrantId === undefined || grant.grantId === input.GrantId) &&
    (input.GranteePrincipal === undefined || grant.granteePrincipal === input.GranteePrincipal)
  );
  return page(grants, limit, (grant) => listEntry(grant, key.record.region, key.record.accountId));
}

/**
 * ListRetirableGrants: grants whose retiring principal is RetiringPrincipal, on any key.
 * @throws {AccessDeniedException} @throws {InvalidMarkerException} @throws {ValidationException}
 */
export async function listRetirableGrants(
  kms: GrantPorts,
  caller: Caller,
  input: {
    Limit?: number | undefined;
    Marker?: string | undefined;
    RetiringPrincipal?: string | undefined;
  },
): Promise<{ Grants: GrantListEntry[]; NextMarker?: string; Truncated: boolean }> {
  if (input.RetiringPrincipal === undefined) {
    throw new ValidationException("RetiringPrincipal is required.");
  }
  kms.authorizeAccount(caller, "kms:ListRetirableGrants");
  const after = input.Marker === undefined ? undefined : decodeGrantMarker(input.Marker);
  const limit = Math.min(input.Limit ?? 50, 100);
  const grants = await kms.store.listRetirableGrants(input.RetiringPrincipal, {
    limit: limit + 1,
    after,
  });
  const withKeys: { grant: GrantRecord; key: LoadedKey | null }[] = [];
  for (const grant of grants) withKeys.push({ grant, key: await kms.findKey(grant.keyId) });
  return page(grants, limit, (grant) => {
    const key = withKeys.find((w) => w.grant === grant)?.key;
    return listEntry(
      grant,
      key?.record.region ?? kms.region,
      key?.record.accountId ?? caller.accountId,
    );
  });
}

/** Who may retire a grant without a policy: its retiring principal, its grantee (with RetireGrant), its account. */
function mayRetire(caller: Caller, grant: GrantRecord): boolean {
  return grant.retiringPrincipal === caller.principalArn ||
    (grant.granteePrincipal === caller.principalArn && grant.operations.includes("RetireGrant")) ||
    grant.issuingAccount === caller.principalArn;
}

/**
 * RetireGrant: by GrantToken, or by KeyId and GrantId. Allowed to the grant's retiring
 * principal, its grantee when the grant lists RetireGrant, the account that owns the grant,
 * and principals a key policy or identity policy allows `kms:RetireGrant`.
 * @throws {InvalidGrantTokenException} @throws {InvalidGrantIdException} @throws {NotFoundException}
 * @throws {AccessDeniedException} @throws {ValidationException} @throws {DryRunOperationException}
 */
export async function retireGrant(
  kms: GrantPorts,
  caller: Caller,
  input: {
    GrantToken?: string | undefined;
    KeyId?: string | undefined;
    GrantId?: string | undefined;
    DryRun?: boolean | undefined;
  },
): Promise<Record<string, never>> {
  let grantId: string;
  if (input.GrantToken !== undefined) {
    grantId = readGrantToken(input.GrantToken).grantId;
  } else if (input.KeyId !== undefined && input.GrantId !== undefined) {
    assertGrantId(input.GrantId);
    grantId = input.GrantId;
  } else {
    throw new ValidationException("Specify either GrantToken, or both KeyId and GrantId.");
  }
  const named = input.KeyId === undefined
    ? undefined
    : await kms.findNamedKey(caller, input.KeyId, { allowAlias: false, action: "kms:RetireGrant" });
  const grant = await kms.store.getGrant(grantId);
  if (grant === null || (named !== undefined && grant.keyId !== named.record.keyId)) {
    throw new NotFoundException(`Grant ID ${grantId} not found.`);
  }
  const key = named ?? await kms.findKey(grant.keyId);
  if (key === null) throw new NotFoundException(`Grant ID ${grantId} not found.`);
  if (mayRetire(caller, grant)) {
    caller.audit?.addResource(key.arn);
    caller.audit?.setDecision("Allow");
  } else {
    await kms.authorize(caller, key, { action: "kms:RetireGrant" });
  }
  if (input.DryRun === true) dryRunSucceeded();
  await kms.commit(caller, (audit) => kms.store.deleteGrant(grantId, audit));
  kms.access.forgetGrants(grant.keyId);
  return {};
}

/**
 * RevokeGrant: deletes a grant of a key; decided by the key policy (and identity policies).
 * @throws {NotFoundException} @throws {InvalidGrantIdException} @throws {AccessDeniedException}
 * @throws {DryRunOperationException}
 */
export async function revokeGrant(
  kms: GrantPorts,
  caller: Caller,
  input: { KeyId: string; GrantId: string; DryRun?: boolean | undefined },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:RevokeGrant",
  });
  assertGrantId(input.GrantId);
  const grant = await kms.store.getGrant(input.GrantId);
  if (grant === null || grant.keyId !== key.record.keyId) {
    throw new NotFoundException(`Grant ID ${input.GrantId} not found.`);
  }
  if (input.DryRun === true) dryRunSucceeded();
  await kms.commit(caller, (audit) => kms.store.deleteGrant(input.GrantId, audit));
  kms.access.forgetGrants(key.record.keyId);
  return {};
}
