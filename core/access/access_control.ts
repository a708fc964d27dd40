/**
 * Authorisation of every request, as AWS KMS decides it: an explicit Deny in
 * the key policy or an identity policy wins; then an Allow from the key policy
 * (directly, or for the caller's account together with the caller's identity
 * policies); then a grant for the caller and operation whose constraints the
 * request meets. Account-level actions (CreateKey, ListKeys, ...) are decided
 * by identity policies alone (the account root may do everything in its own
 * account).
 *
 * Key policies are compiled once per key record (a policy change makes a new
 * record), identity policies once per credential load, grants are cached per
 * key and refreshed when a request carries a token of a grant not yet seen; so
 * a decision costs microseconds and no query on the hot path.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 * @module
 */
import { actionName, isGrantable, type KmsAction } from "../catalogue.ts";
import { AccessDeniedException } from "../errors.ts";
import { accountRootArn } from "../identifiers.ts";
import { LruMap } from "../lru.ts";
import type { Caller, KeyRecord, Tag } from "../types.ts";
import { decide } from "./decide.ts";
import {
  type Context,
  grantPermits,
  type GrantRecord,
  keyHexOf,
  readGrantToken,
} from "./grants.ts";
import { compilePolicyDocument, type PolicyDocument } from "./policy.ts";
import { conditionValues, type RequestConditions } from "./request_context.ts";

export { compilePolicyDocument, type PolicyDocument } from "./policy.ts";

/** What access control reads: grants, tags and aliases of keys. */
export interface AccessFacts {
  listGrantsOfKey(keyId: string): Promise<GrantRecord[]>;
  listTags(keyId: string): Promise<Tag[]>;
  aliasesOf(key: KeyRecord): Promise<string[]>;
}

/** How a request was allowed: by policy, or by these grants. */
export type Allowance = { via: "policy" } | { via: "grant"; grants: GrantRecord[] };

/** A key-level request to authorise. */
export interface KeyRequest {
  key: KeyRecord;
  arn: string;
  action: KmsAction;
  conditions?: RequestConditions;
}

/** The access-control part of the KMS. */
export class AccessControl {
  readonly #facts: AccessFacts;
  readonly #now: () => number;
  readonly #keyPolicies = new WeakMap<KeyRecord, PolicyDocument | null>();
  /** Grants per key, with when the entry stops being trusted (another instance may change them). */
  readonly #grants: LruMap<string, { grants: Promise<GrantRecord[]>; expires: number }>;
  readonly #tags: LruMap<string, Promise<Tag[]>>;
  readonly #aliases: LruMap<string, Promise<string[]>>;
  readonly #onPolicyError: (keyId: string, error: unknown) => void;

  constructor(options: {
    facts: AccessFacts;
    now: () => number;
    cacheSize?: number;
    onPolicyError?: (keyId: string, error: unknown) => void;
  }) {
    this.#facts = options.facts;
    this.#now = options.now;
    const size = options.cacheSize ?? 10_000;
    this.#grants = new LruMap(size);
    this.#tags = new LruMap(size);
    this.#aliases = new LruMap(size);
    this.#onPolicyError = options.onPolicyError ?? (() => {});
  }

  /** The compiled key policy of a key record; null when the stored policy no longer parses. */
  keyPolicy(record: KeyRecord): PolicyDocument | null {
    let doc = this.#keyPolicies.get(record);
    if (doc === undefined) {
      try {
        doc = compilePolicyDocument(record.policy, "key");
      } catch (error) {
        this.#onPolicyError(record.keyId, error);
        doc = null;
      }
      this.#keyPolicies.set(record, doc);
    }
    return doc;
  }

  /**
   * Authorises a request on a key.
   * @throws {AccessDeniedException} when neither policy nor grant allows it.
   * @throws {InvalidGrantTokenException} for a malformed grant token.
   */
  async authorizeKey(caller: Caller, request: KeyRequest): Promise<Allowance> {
    const tokens = this.#grantIdsOfTokens(caller, request.key.keyId);
    const conditions = request.conditions ?? {};
    const keyPolicy = this.keyPolicy(request.key);
    const identity = caller.identityPolicies ?? [];
    const needsTags = keyPolicy?.needsTags === true || identity.some((p) => p.needsTags);
    const needsAliases = keyPolicy?.needsAliases === true || identity.some((p) => p.needsAliases);
    const context = conditionValues(
      caller,
      {
        key: request.key,
        tags: needsTags ? await this.#tagsOf(request.key.keyId) : undefined,
        aliases: needsAliases ? await this.#aliasesOf(request.key) : undefined,
      },
      conditions,
      this.#now(),
    );
    const policyRequest = {
      principalArn: caller.principalArn,
      principalAccount: caller.accountId,
      action: request.action,
      resource: request.arn,
      context,
    };
    const input = {
      request: policyRequest,
      keyPolicy: keyPolicy?.compiled ?? null,
      keyAccount: request.key.accountId,
      callerIsAccountRoot: isAccountRoot(caller),
      identityPolicies: identity.map((p) => p.compiled),
      grantAllows: false,
    };
    const byPolicy = keyPolicy === null ? denyAll(input) : decide(input);
    if (byPolicy.allowed) return { via: "policy" };
    const operation = actionName(request.action);
    if (isGrantable(request.action) && !isExplicitDeny(byPolicy.reason)) {
      const grants = await this.#permittingGrants(request.key.keyId, tokens, {
        principalArn: caller.principalArn,
        operation,
        encryptionContext: conditions.encryptionContext,
      });
      if (grants.length > 0 && decide({ ...input, grantAllows: true }).allowed) {
        return { via: "grant", grants };
      }
    }
    throw accessDenied(caller, request.action, request.arn, byPolicy.reason);
  }

  /**
   * Authorises an account-level action (no key): identity policies alone.
   * @throws {AccessDeniedException}
   */
  authorizeAccount(
    caller: Caller,
    action: KmsAction,
    conditions: RequestConditions = {},
    resource = "*",
  ): void {
    const decision = decide({
      request: {
        principalArn: caller.principalArn,
        principalAccount: caller.accountId,
        action,
        resource,
        context: conditionValues(caller, null, conditions, this.#now()),
      },
      keyPolicy: null,
      keyAccount: null,
      callerIsAccountRoot: isAccountRoot(caller),
      identityPolicies: (caller.identityPolicies ?? []).map((p) => p.compiled),
      grantAllows: false,
    });
    if (!decision.allowed) throw accessDenied(caller, action, resource, decision.reason);
  }

  /** Whether a policy document lets `caller` do `action` on `key` (the lockout check). */
  policyAllows(caller: Caller, policy: PolicyDocument, key: KeyRecord, action: KmsAction): boolean {
    return decide({
      request: {
        principalArn: caller.principalArn,
        principalAccount: caller.accountId,
        action,
        resource: "*",
        context: conditionValues(caller, { key }, {}, this.#now()),
      },
      keyPolicy: policy.compiled,
      keyAccount: key.accountId,
      callerIsAccountRoot: isAccountRoot(caller),
      identityPolicies: (caller.identityPolicies ?? []).map((p) => p.compiled),
      grantAllows: false,
    }).allowed;
  }

  /**
   * The grants of a key, cached for at most `GRANTS_TTL_MS` (changes made through this process
   * are seen at once; another instance's within that bound).
   */
  grantsOf(keyId: string): Promise<GrantRecord[]> {
    const now = this.#now();
    const cached = this.#grants.get(keyId);
    if (cached !== undefined && cached.expires > now) return cached.grants;
    const grants = this.#facts.listGrantsOfKey(keyId);
    this.#grants.set(keyId, { grants, expires: now + GRANTS_TTL_MS });
    grants.catch(() => this.#grants.delete(keyId));
    return grants;
  }

  /** Forgets cached grants of a key after they changed. */
  forgetGrants(keyId: string): void {
    this.#grants.delete(keyId);
  }

  /** Forgets cached tags of a key after they changed. */
  forgetTags(keyId: string): void {
    this.#tags.delete(keyId);
  }

  /** Forgets cached aliases (of every key) after an alias changed. */
  forgetAliases(): void {
    this.#aliases.clear();
  }

  /** Forgets every cached grant, tag and alias list (another instance changed state). */
  forgetAll(): void {
    this.#grants.clear();
    this.#tags.clear();
    this.#aliases.clear();
  }

  async #permittingGrants(
    keyId: string,
    tokenGrantIds: readonly string[],
    request: { principalArn: string; operation: string; encryptionContext?: Context | undefined },
  ): Promise<GrantRecord[]> {
    let grants = await this.grantsOf(keyId);
    if (tokenGrantIds.some((id) => !grants.some((g) => g.grantId === id))) {
      // A token of a grant this process has not seen (made by another instance): reload once.
      this.forgetGrants(keyId);
      grants = await this.grantsOf(keyId);
    }
    return grants.filter((grant) => grantPermits(grant, request));
  }

  #grantIdsOfTokens(caller: Caller, keyId: string): string[] {
    const ids: string[] = [];
    for (const token of caller.grantTokens ?? []) {
      const claims = readGrantToken(token);
      if (claims.keyHex === keyHexOf(keyId)) ids.push(claims.grantId);
    }
    return ids;
  }

  #tagsOf(keyId: string): Promise<Tag[]> {
    let tags = this.#tags.get(keyId);
    if (tags === undefined) {
      tags = this.#facts.listTags(keyId);
      this.#tags.set(keyId, tags);
      tags.catch(() => this.#tags.delete(keyId));
    }
    return tags;
  }

  #aliasesOf(key: KeyRecord): Promise<string[]> {
    let aliases = this.#aliases.get(key.keyId);
    if (aliases === undefined) {
      aliases = this.#facts.aliasesOf(key);
      this.#aliases.set(key.keyId, aliases);
      aliases.catch(() => this.#aliases.delete(key.keyId));
    }
    return aliases;
  }
}

/** How long grants read from the store are trusted before they are read again. */
const GRANTS_TTL_MS = 1000;

/** Whether the caller is its account's root user. */
export function isAccountRoot(caller: Caller): boolean {
  return caller.principalArn === accountRootArn(caller.accountId);
}

function denyAll(_input: unknown): { allowed: false; reason: string } {
  return { allowed: false, reason: "no resource-based policy allows" };
}

function isExplicitDeny(reason: string): boolean {
  return reason.includes("explicit deny");
}

/** AWS's AccessDeniedException message for a denied action. */
export function accessDenied(
  caller: Caller,
  action: string,
  resource: string,
  reason: string,
): AccessDeniedException {
  const because = reason.includes("explicit deny")
    ? reason.includes("identity")
      ? "with an explicit deny in an identity-based policy"
      : "with an explicit deny in a resource-based policy"
    : reason.includes("identity")
    ? `because no identity-based policy allows the ${action} action`
    : `because no resource-based policy allows the ${action} action`;
  return new AccessDeniedException(
    `User: ${caller.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${because}`,
  );
}
