/**
 * The KMS service object: its ports, its in-memory view of keys and aliases,
 * and the one way every operation finds the key a request names.
 *
 * The data plane (Encrypt, Decrypt, GenerateDataKey*) is served from memory:
 * a key's record and unwrapped material are loaded once and kept in a bounded
 * cache that every state change made through this object updates after its
 * durable write. Changes made by other instances on the same database reach
 * it through `forgetForeignChanges` (core/coherence.ts), within the bound
 * documented there; operations that change a key read its record from the
 * store, not the cache, so they never write back another instance's
 * overwritten state.
 *
 * Operations (core/operations/) see it only through the small interfaces of
 * core/operation_ports.ts, each family naming the ones it uses; what it needs
 * of the operations (expiring imported material, a multi-Region primary's
 * deletion) is injected as a `KeyLifecycle`, so this module imports no operation.
 *
 * @module
 */
import { generateKeyPair } from "./crypto/key_pairs.ts";
import type { KeyPairPools } from "./crypto/key_pair_pool.ts";
import { AccessControl, type Allowance } from "./access/access_control.ts";
import type { RequestConditions } from "./access/request_context.ts";
import type { KeyUsageLog } from "./audit/ports.ts";
import type { AuditRecord } from "./audit/record.ts";
import { allowsCrossAccount, isStateChangingAction, type KmsAction } from "./catalogue.ts";
import type { ForeignChanges } from "./coherence.ts";
import { createAwsManagedKey, withAwsManagedConditions } from "./aws_managed_keys.ts";
import { AccessDeniedException, NotFoundException } from "./errors.ts";
import { aliasArn, invalidKeyId, keyArn, parseKeyIdentifier } from "./identifiers.ts";
import { LruMap } from "./lru.ts";
import type {
  Authorization,
  KeyCommits,
  KeyMaterials,
  KeyPairSource,
  KeyResolver,
  LoadedKey,
  Recipients,
  ResolveOptions,
} from "./operation_ports.ts";
import type { Clock, Store } from "./ports.ts";

export type { Authorization, KeyPairSource, LoadedKey, ResolveOptions } from "./operation_ports.ts";
import { RecipientSealer } from "./recipient/recipient.ts";
import { AWS_NITRO_ENCLAVES_ROOT_G1_PEM, parseTrustedRoots } from "./recipient/attestation.ts";
import type { Caller, KeyMaterial, KeyRecord } from "./types.ts";

/** What `new Kms()` needs. */
export interface KmsOptions {
  store: Store;
  clock: Clock;
  /** The region this KMS serves. */
  region: string;
  /** Bound of the key and material caches. */
  cacheSize?: number;
  /** Pre-generated key pairs for GenerateDataKeyPair; without them, pairs are made on demand. */
  keyPairPool?: KeyPairPools;
  /** Verifies `Recipient` attestation documents and seals responses to enclaves. */
  recipients?: RecipientSealer;
  /** Whether an IAM user or role ARN exists (key policies may name only existing ones). */
  principalExists?: (arn: string) => Promise<boolean>;
  /** The audit log's view for GetKeyLastUsage. */
  keyLastUsage?: KeyUsageLog | undefined;
  /** What operations do when a key's material expires or a key is deleted (core/operations/lifecycle.ts). */
  lifecycle: KeyLifecycle;
  /** SM2 outside China Regions too (`KMS_SM2_ALL_REGIONS`, core/region_profile.ts); default false. */
  sm2AllRegions?: boolean | undefined;
}

/**
 * The operations' rules the KMS applies while it finds and deletes keys, injected so that this
 * module imports no operation (core/operations/lifecycle.ts provides them).
 */
export interface KeyLifecycle {
  /** Whether a key's imported material is past its expiry at `now`. */
  materialExpired(record: KeyRecord, now: number): boolean;
  /** Deletes a key's expired imported material; resolves the key's record afterwards. */
  expireMaterial(kms: Kms, record: KeyRecord): Promise<KeyRecord>;
  /** Runs after a key is deleted for good (a multi-Region primary waiting on its last replica). */
  afterDeletion(kms: Kms, keyId: string): Promise<void>;
}

/** The KMS: ports plus caches. Operations live in core/operations/. */
export class Kms implements KeyResolver, KeyMaterials, KeyCommits, Recipients {
  readonly store: Store;
  readonly clock: Clock;
  readonly region: string;
  readonly sm2AllRegions: boolean;
  readonly #keys: LruMap<string, LoadedKey>;
  /** Unwrapped material per key id, by version; wiped when the key is deleted. */
  readonly #materials: LruMap<string, Map<number, KeyMaterial>>;
  readonly #aliases: LruMap<string, string>;
  /** Objects built from a key's material (imported signing, MAC, ECDH keys), per key id. */
  readonly #prepared: LruMap<string, Map<string, Promise<unknown>>>;
  /** Data key pairs for GenerateDataKeyPair*. */
  readonly keyPairs: KeyPairSource;
  /** The one implementation of `Recipient`. */
  readonly recipients: RecipientSealer;
  /** Key policies, identity policies and grants. */
  readonly access: AccessControl;
  /** Whether an IAM user or role ARN exists. */
  readonly principalExists: (arn: string) => Promise<boolean>;
  /** The audit log's view for GetKeyLastUsage; absent without an audit log. */
  readonly keyLastUsage: KeyUsageLog | undefined;
  readonly #lifecycle: KeyLifecycle;
  /**
   * Bumped whenever another instance's changes are forgotten: a record or alias read from the
   * store before the bump is returned but not cached (it may predate the change).
   */
  #generation = 0;
  /** The KMS of every served region, this one included (`connectRegions`). */
  #peers: ReadonlyMap<string, Kms> = new Map();

  constructor(options: KmsOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.region = options.region;
    this.sm2AllRegions = options.sm2AllRegions ?? false;
    const pool = options.keyPairPool;
    this.keyPairs = {
      generate: (spec) => pool !== undefined ? pool.take(spec) : generateKeyPair(spec),
    };
    this.recipients = options.recipients ??
      new RecipientSealer(
        parseTrustedRoots(AWS_NITRO_ENCLAVES_ROOT_G1_PEM),
        () => new Date(this.clock.now()),
      );
    const size = options.cacheSize ?? 10_000;
    this.principalExists = options.principalExists ?? (() => Promise.resolve(true));
    this.keyLastUsage = options.keyLastUsage;
    this.#lifecycle = options.lifecycle;
    const store = this.store;
    this.access = new AccessControl({
      facts: {
        listGrantsOfKey: (keyId) => store.listGrantsOfKey(keyId),
        listTags: (keyId) => store.listTags(keyId),
        aliasesOf: async (key) =>
          (await store.listAliases(key.accountId, key.region, {
            limit: 1000,
            targetKeyId: key.keyId,
          })).map((alias) => alias.name),
      },
      now: () => this.clock.now(),
      cacheSize: size,
    });
    this.#keys = new LruMap(size);
    this.#materials = new LruMap(size);
    this.#aliases = new LruMap(size);
    this.#prepared = new LruMap(size);
  }

  /**
   * A key by id, from memory or the store (`fresh`: from the store, as operations that change
   * the key need it); a key past its deletion date is deleted first.
   */
  async findKey(keyId: string, options: { fresh?: boolean } = {}): Promise<LoadedKey | null> {
    let loaded = options.fresh === true ? undefined : this.#keys.get(keyId);
    if (loaded === undefined) {
      const generation = this.#generation;
      const record = await this.store.getKey(keyId);
      if (record === null) {
        if (generation === this.#generation) this.#forgetMaterial(keyId);
        return null;
      }
      loaded = generation === this.#generation ? this.#remember(record) : loadedKey(record);
    }
    // A key lives in one region; another region's KMS does not know it.
    if (loaded.record.region !== this.region) return null;
    const { state, deletionDate } = loaded.record;
    if (state === "PendingDeletion" && deletionDate !== null && deletionDate <= this.clock.now()) {
      await this.deleteKeyNow(keyId);
      return null;
    }
    if (this.#lifecycle.materialExpired(loaded.record, this.clock.now())) {
      return loadedKey(await this.#lifecycle.expireMaterial(this, loaded.record));
    }
    return loaded;
  }

  /** Writes a changed key durably (with the request's audit record), then updates memory. */
  async saveKey(caller: Caller, record: KeyRecord): Promise<LoadedKey> {
    await this.commit(caller, (audit) => this.store.updateKey(record, audit));
    return this.#remember(record);
  }

  /**
   * Runs a state-changing write with the request's audit record, so both commit in one
   * transaction; afterwards the record is marked written (routes then do not buffer it).
   */
  async commit<T>(
    caller: Caller,
    write: (audit: AuditRecord | undefined) => Promise<T>,
  ): Promise<T> {
    const entry = caller.audit;
    const result = await write(entry?.record());
    entry?.markWritten();
    return result;
  }

  /** Tells this KMS the KMS of every served region (multi-Region keys span them). */
  connectRegions(peers: ReadonlyMap<string, Kms>): void {
    this.#peers = peers;
  }

  /** The KMS serving `region`, when this process serves it. */
  peer(region: string): Kms | undefined {
    return region === this.region ? this : this.#peers.get(region);
  }

  /** Forgets a cached key record (another region's KMS of this process changed the key). */
  forgetKey(keyId: string): void {
    this.#keys.delete(keyId);
  }

  /** Records a newly created key in memory (after the store committed it). */
  rememberKey(record: KeyRecord): LoadedKey {
    return this.#remember(record);
  }

  /** Deletes a key, its material, aliases and tags for good. */
  async deleteKeyNow(keyId: string): Promise<void> {
    await this.store.deleteKey(keyId);
    this.#keys.delete(keyId);
    this.#forgetMaterial(keyId);
    this.#aliases.clear();
    this.access.forgetGrants(keyId);
    this.access.forgetTags(keyId);
    this.access.forgetAliases();
    await this.#lifecycle.afterDeletion(this, keyId);
  }

  /**
   * Forgets what other instances changed (core/coherence.ts calls it): every cached key record,
   * alias, grant, tag and alias list on a data change, and the material of deleted keys (all
   * material, unwiped, when the deleted keys are not known: live keys' may be in use).
   */
  forgetForeignChanges(changes: ForeignChanges): void {
    if (changes.data) {
      this.#generation++;
      this.#keys.clear();
      this.#aliases.clear();
      this.access.forgetAll();
    }
    if (changes.deletedKeys === "unknown") {
      this.#materials.clear();
      this.#prepared.clear();
    } else {
      for (const keyId of changes.deletedKeys) this.#forgetMaterial(keyId);
    }
  }

  /** Wipes and forgets a key's cached material (imported material deleted or re-imported). */
  forgetKeyMaterial(keyId: string): void {
    this.#forgetMaterial(keyId);
  }

  /** Wipes and forgets a deleted key's material and what was built from it. */
  #forgetMaterial(keyId: string): void {
    for (const material of this.#materials.get(keyId)?.values() ?? []) material.material.wipe();
    this.#materials.delete(keyId);
    this.#prepared.delete(keyId);
  }

  /**
   * Deletes every key of this region whose deletion date has passed; returns how many. Other
   * regions' keys are left to their own KMS, so that one's caches forget them too.
   */
  async purgeDueKeys(): Promise<number> {
    const due = await this.store.listKeysDueForDeletion(this.clock.now());
    let purged = 0;
    for (const keyId of due) {
      if ((await this.store.getKey(keyId))?.region !== this.region) continue;
      await this.deleteKeyNow(keyId);
      purged++;
    }
    return purged;
  }

  /** A version of a key's material, from memory or the store. */
  async material(keyId: string, version: number): Promise<KeyMaterial | null> {
    const cached = this.#materials.get(keyId)?.get(version);
    if (cached !== undefined) return cached;
    const material = await this.store.getMaterial(keyId, version);
    if (material === null) return null;
    const versions = this.#materials.get(keyId) ?? new Map<number, KeyMaterial>();
    versions.set(version, material);
    this.#materials.set(keyId, versions);
    return material;
  }

  /**
   * A version of a key's material that must exist (the key's record names it).
   * @throws {Error} when it is missing: the store lost what a record refers to.
   */
  async requiredMaterial(keyId: string, version: number): Promise<KeyMaterial> {
    const material = await this.material(keyId, version);
    if (material === null) throw new Error(`material ${version} of ${keyId} missing`);
    return material;
  }

  /**
   * An object built once from a version of a key's material (an imported signing key, a MAC
   * key, the public key) and kept beside it: `kind` names what `build` makes. A failed build is
   * not kept.
   * @throws {Error} when the material version does not exist.
   */
  prepared<T>(
    keyId: string,
    version: number,
    kind: string,
    build: (material: KeyMaterial) => Promise<T>,
  ): Promise<T> {
    const slot = `${kind}/${version}`;
    const entries = this.#prepared.get(keyId) ?? new Map<string, Promise<unknown>>();
    const cached = entries.get(slot);
    if (cached !== undefined) return cached as Promise<T>;
    const made = (async () => {
      return await build(await this.requiredMaterial(keyId, version));
    })();
    entries.set(slot, made);
    this.#prepared.set(keyId, entries);
    made.catch(() => entries.delete(slot));
    return made;
  }

  /** The key id an alias points to, or null (`fresh`: read from the store, not memory). */
  async aliasTarget(
    accountId: string,
    aliasName: string,
    options: { fresh?: boolean } = {},
  ): Promise<string | null> {
    const cacheKey = `${accountId}/${aliasName}`;
    const cached = options.fresh === true ? undefined : this.#aliases.get(cacheKey);
    if (cached !== undefined) return cached;
    const generation = this.#generation;
    const alias = await this.store.getAlias(accountId, this.region, aliasName);
    if (alias === null) return null;
    if (generation === this.#generation) this.#aliases.set(cacheKey, alias.targetKeyId);
    return alias.targetKeyId;
  }

  /** Forgets a cached alias after it changed. */
  forgetAlias(accountId: string, aliasName: string): void {
    this.#aliases.delete(`${accountId}/${aliasName}`);
    this.access.forgetAliases();
  }

  /**
   * Finds the key a KeyId field names, as AWS resolves it for `caller`, and authorises the
   * request on it. Bare key ids and alias names are looked up in the caller's account; key
   * ARNs and alias ARNs may name another account's key, which its key policy must then allow.
   * @throws {NotFoundException} unknown key or alias of the caller's account, or an alias
   *   where only keys are accepted.
   * @throws {AccessDeniedException} not allowed, or an unknown key of another account (the
   *   same answer, so another account learns nothing of which keys exist).
   */
  async resolveKey(
    caller: Caller,
    keyIdInput: string,
    options: ResolveOptions,
  ): Promise<LoadedKey> {
    return (await this.resolveAndAuthorize(caller, keyIdInput, options)).key;
  }

  /** `resolveKey`, also answering how the request was allowed (by policy or by which grants). */
  async resolveAndAuthorize(
    caller: Caller,
    keyIdInput: string,
    options: ResolveOptions,
  ): Promise<{ key: LoadedKey; allowance: Allowance }> {
    const key = await this.findNamedKey(caller, keyIdInput, options);
    const id = parseKeyIdentifier(keyIdInput);
    const requestAlias = id.kind === "aliasName" || id.kind === "aliasArn"
      ? id.aliasName
      : undefined;
    const allowance = await this.authorize(caller, key, {
      ...options,
      conditions: { requestAlias, ...options.conditions },
    });
    return { key, allowance };
  }

  /**
   * Finds the key a KeyId field names without authorising (the caller authorises).
   * @throws {NotFoundException} @throws {AccessDeniedException}
   */
  async findNamedKey(
    caller: Caller,
    keyIdInput: string,
    options: { allowAlias: boolean; action: KmsAction },
  ): Promise<LoadedKey> {
    const id = parseKeyIdentifier(keyIdInput);
    if ((id.kind === "aliasName" || id.kind === "aliasArn") && !options.allowAlias) {
      throw invalidKeyId(keyIdInput);
    }
    const accountId = id.kind === "keyArn" || id.kind === "aliasArn"
      ? id.accountId
      : caller.accountId;
    const region = id.kind === "keyArn" || id.kind === "aliasArn" ? id.region : this.region;
    const foreign = accountId !== caller.accountId;
    if (foreign && !allowsCrossAccount(options.action)) {
      throw accessDenied(caller, options.action, keyIdInput);
    }
    if (region !== this.region) {
      if (foreign) throw accessDenied(caller, options.action, keyIdInput);
      throw notFound(keyIdInput);
    }
    // A change is decided on the stored record: a cached one may miss another instance's change.
    const fresh = isStateChangingAction(options.action);
    let keyId: string;
    if (id.kind === "aliasName" || id.kind === "aliasArn") {
      let target = await this.aliasTarget(accountId, id.aliasName, { fresh });
      // A predefined alias/aws/<service> of the caller's account: its AWS managed key, made now.
      if (target === null && !foreign) {
        target = await createAwsManagedKey(this, accountId, id.aliasName);
      }
      if (target === null) {
        if (foreign) throw accessDenied(caller, options.action, keyIdInput);
        throw new NotFoundException(
          `Alias ${aliasArn(region, accountId, id.aliasName)} is not found.`,
        );
      }
      keyId = target;
    } else {
      keyId = id.keyId;
    }
    const key = await this.findKey(keyId, { fresh });
    if (key === null || key.record.accountId !== accountId) {
      if (foreign) throw accessDenied(caller, options.action, keyArn(region, accountId, keyId));
      throw notFound(keyArn(region, accountId, keyId));
    }
    return key;
  }

  /**
   * Authorises a request on a key found by other means (a ciphertext's key id) and records
   * the decision in the request's audit entry.
   * @throws {AccessDeniedException} @throws {InvalidGrantTokenException}
   */
  async authorize(caller: Caller, key: LoadedKey, request: Authorization): Promise<Allowance> {
    caller.audit?.addResource(key.arn);
    try {
      const allowance = await this.access.authorizeKey(caller, {
        key: key.record,
        arn: key.arn,
        action: request.action,
        conditions: withAwsManagedConditions(key.record, request.conditions ?? {}),
      });
      caller.audit?.setDecision("Allow");
      return allowance;
    } catch (error) {
      if (error instanceof AccessDeniedException) caller.audit?.setDecision("Deny");
      throw error;
    }
  }

  /**
   * Authorises an account-level action (CreateKey, ListKeys, ListAliases, GenerateRandom, ...).
   * @throws {AccessDeniedException}
   */
  authorizeAccount(
    caller: Caller,
    action: KmsAction,
    conditions: RequestConditions = {},
    resource = "*",
  ): void {
    try {
      this.access.authorizeAccount(caller, action, conditions, resource);
      caller.audit?.setDecision("Allow");
    } catch (error) {
      if (error instanceof AccessDeniedException) caller.audit?.setDecision("Deny");
      throw error;
    }
  }

  #remember(record: KeyRecord): LoadedKey {
    const loaded = loadedKey(record);
    this.#keys.set(record.keyId, loaded);
    return loaded;
  }
}

function loadedKey(record: KeyRecord): LoadedKey {
  return { record, arn: keyArn(record.region, record.accountId, record.keyId) };
}

function notFound(what: string): NotFoundException {
  return new NotFoundException(`Key '${what}' does not exist`);
}

function accessDenied(caller: Caller, action: string, resource: string): AccessDeniedException {
  return new AccessDeniedException(
    `User: ${caller.principalArn} is not authorized to perform: ${action} on resource: ${resource} because no resource-based policy allows the ${action} action`,
  );
}
