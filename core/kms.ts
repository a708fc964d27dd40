/**
 * The KMS service object: its ports, its in-memory view of keys and aliases,
 * and the one way every operation finds the key a request names.
 *
 * The data plane (Encrypt, Decrypt, GenerateDataKey*) is served from memory:
 * a key's record and unwrapped material are loaded once and kept in a bounded
 * cache that every state change made through this object updates after its
 * durable write.
 *
 * @module
 */
import {
  type DataKeyPairSpec,
  type GeneratedKeyPair,
  generateKeyPair,
  isRsaSpec,
} from "./crypto/key_pairs.ts";
import type { RsaKeyPairPool } from "./crypto/rsa_pool.ts";
import { AccessDeniedException, NotFoundException } from "./errors.ts";
import { aliasArn, keyArn, parseKeyIdentifier } from "./identifiers.ts";
import { LruMap } from "./lru.ts";
import type { Clock, Store } from "./ports.ts";
import { RecipientSealer } from "./recipient/recipient.ts";
import { AWS_NITRO_ENCLAVES_ROOT_G1_PEM, parseTrustedRoots } from "./recipient/attestation.ts";
import type { Caller, KeyMaterial, KeyRecord } from "./types.ts";

/** A key as the operations see it: its record plus its ARN. */
export interface LoadedKey {
  readonly record: KeyRecord;
  readonly arn: string;
}

/** What `new Kms()` needs. */
export interface KmsOptions {
  store: Store;
  clock: Clock;
  /** The region this KMS serves. */
  region: string;
  /** Bound of the key and material caches. */
  cacheSize?: number;
  /** Pre-generated RSA key pairs for GenerateDataKeyPair; without one, RSA pairs are made on demand. */
  rsaPool?: RsaKeyPairPool;
  /** Verifies `Recipient` attestation documents and seals responses to enclaves. */
  recipients?: RecipientSealer;
}

/** Where data key pairs come from: the RSA pool when there is one, else fresh generation. */
export interface KeyPairSource {
  generate(spec: DataKeyPairSpec): Promise<GeneratedKeyPair>;
}

/** How a KeyId field may be given for an operation. */
export interface ResolveOptions {
  /** Whether alias names and alias ARNs are accepted (AWS accepts them for crypto and DescribeKey). */
  allowAlias: boolean;
  /** The `kms:` action, for AccessDeniedException's message. */
  action: string;
}

/** The KMS: ports plus caches. Operations live in core/operations/. */
export class Kms {
  readonly store: Store;
  readonly clock: Clock;
  readonly region: string;
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

  constructor(options: KmsOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.region = options.region;
    const pool = options.rsaPool;
    this.keyPairs = {
      generate: (spec) =>
        pool !== undefined && isRsaSpec(spec) ? pool.take(spec) : generateKeyPair(spec),
    };
    this.recipients = options.recipients ??
      new RecipientSealer(
        parseTrustedRoots(AWS_NITRO_ENCLAVES_ROOT_G1_PEM),
        () => new Date(this.clock.now()),
      );
    const size = options.cacheSize ?? 10_000;
    this.#keys = new LruMap(size);
    this.#materials = new LruMap(size);
    this.#aliases = new LruMap(size);
    this.#prepared = new LruMap(size);
  }

  /** A key by id, from memory or the store; a key past its deletion date is deleted first. */
  async findKey(keyId: string): Promise<LoadedKey | null> {
    let loaded = this.#keys.get(keyId);
    if (loaded === undefined) {
      const record = await this.store.getKey(keyId);
      if (record === null) return null;
      loaded = this.#remember(record);
    }
    const { state, deletionDate } = loaded.record;
    if (state === "PendingDeletion" && deletionDate !== null && deletionDate <= this.clock.now()) {
      await this.deleteKeyNow(keyId);
      return null;
    }
    return loaded;
  }

  /** Writes a changed key durably, then updates memory. */
  async saveKey(record: KeyRecord): Promise<LoadedKey> {
    await this.store.updateKey(record);
    return this.#remember(record);
  }

  /** Records a newly created key in memory (after the store committed it). */
  rememberKey(record: KeyRecord): LoadedKey {
    return this.#remember(record);
  }

  /** Deletes a key, its material, aliases and tags for good. */
  async deleteKeyNow(keyId: string): Promise<void> {
    await this.store.deleteKey(keyId);
    this.#keys.delete(keyId);
    for (const material of this.#materials.get(keyId)?.values() ?? []) material.material.wipe();
    this.#materials.delete(keyId);
    this.#prepared.delete(keyId);
    this.#aliases.clear();
  }

  /** Deletes every key whose deletion date has passed; returns how many. */
  async purgeDueKeys(): Promise<number> {
    const due = await this.store.listKeysDueForDeletion(this.clock.now());
    for (const keyId of due) await this.deleteKeyNow(keyId);
    return due.length;
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
      const material = await this.material(keyId, version);
      if (material === null) throw new Error(`material ${version} of ${keyId} missing`);
      return await build(material);
    })();
    entries.set(slot, made);
    this.#prepared.set(keyId, entries);
    made.catch(() => entries.delete(slot));
    return made;
  }

  /** The key id an alias points to, or null. */
  async aliasTarget(accountId: string, aliasName: string): Promise<string | null> {
    const cacheKey = `${accountId}/${aliasName}`;
    const cached = this.#aliases.get(cacheKey);
    if (cached !== undefined) return cached;
    const alias = await this.store.getAlias(accountId, this.region, aliasName);
    if (alias === null) return null;
    this.#aliases.set(cacheKey, alias.targetKeyId);
    return alias.targetKeyId;
  }

  /** Forgets a cached alias after it changed. */
  forgetAlias(accountId: string, aliasName: string): void {
    this.#aliases.delete(`${accountId}/${aliasName}`);
  }

  /**
   * Finds the key a KeyId field names, as AWS resolves it for `caller`.
   * @throws {NotFoundException} unknown key or alias, or an alias where only keys are accepted.
   * @throws {AccessDeniedException} a key of another account.
   */
  async resolveKey(
    caller: Caller,
    keyIdInput: string,
    options: ResolveOptions,
  ): Promise<LoadedKey> {
    const id = parseKeyIdentifier(keyIdInput);
    if ((id.kind === "aliasName" || id.kind === "aliasArn") && !options.allowAlias) {
      throw new NotFoundException(`Invalid keyId '${keyIdInput}'`);
    }
    const accountId = id.kind === "keyArn" || id.kind === "aliasArn"
      ? id.accountId
      : caller.accountId;
    const region = id.kind === "keyArn" || id.kind === "aliasArn" ? id.region : this.region;
    if (accountId !== caller.accountId) throw accessDenied(caller, options.action, keyIdInput);
    if (region !== this.region) throw notFound(keyIdInput);
    let keyId: string;
    if (id.kind === "aliasName" || id.kind === "aliasArn") {
      const target = await this.aliasTarget(accountId, id.aliasName);
      if (target === null) {
        throw new NotFoundException(
          `Alias ${aliasArn(region, accountId, id.aliasName)} is not found.`,
        );
      }
      keyId = target;
    } else {
      keyId = id.keyId;
    }
    const key = await this.findKey(keyId);
    if (key === null || key.record.accountId !== accountId) {
      throw notFound(keyArn(region, accountId, keyId));
    }
    return key;
  }

  /**
   * Checks that a key found by id (as in a ciphertext) belongs to the caller's account.
   * @throws {AccessDeniedException} a key of another account.
   */
  assertOwnedBy(caller: Caller, key: LoadedKey, action: string): void {
    if (key.record.accountId !== caller.accountId) throw accessDenied(caller, action, key.arn);
  }

  #remember(record: KeyRecord): LoadedKey {
    const loaded = { record, arn: keyArn(record.region, record.accountId, record.keyId) };
    this.#keys.set(record.keyId, loaded);
    return loaded;
  }
}

function notFound(what: string): NotFoundException {
  return new NotFoundException(`Key '${what}' does not exist`);
}

function accessDenied(caller: Caller, action: string, resource: string): AccessDeniedException {
  return new AccessDeniedException(
    `User: ${caller.principalArn} is not authorized to perform: ${action} on resource: ${resource} because no resource-based policy allows the ${action} action`,
  );
}
