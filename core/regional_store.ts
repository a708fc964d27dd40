/**
 * One region's view of the store. Every region shares one database, and key
 * ids are unique across it — except multi-Region keys: a primary and its
 * replicas share one `mrk-` id, one row per region. The store keeps those rows
 * apart under a regional storage id (`mrk-…@<region>`); this view maps the
 * public id to it on the way in and back on the way out, so core/ only ever
 * sees AWS's ids and each region's KMS only its own rows.
 *
 * Single-Region key ids pass through unchanged.
 *
 * @module
 */
import type { GrantRecord } from "./access/grants.ts";
import type { AuditRecord } from "./audit/record.ts";
import type { MultiRegionFamily } from "./multi_region_store.ts";
import type {
  ImportedMaterialRecord,
  ImportParameters,
  Page,
  PendingKeyMaterial,
  Store,
} from "./ports.ts";
import type {
  DueRotation,
  KeyRotation,
  MaterialVersionInfo,
  RotationSchedule,
} from "./rotation_store.ts";
import type { AliasRecord, Credential, KeyMaterial, KeyRecord, Tag } from "./types.ts";

const MULTI_REGION_KEY_ID = /^mrk-[0-9a-f]{32}$/;
const REGIONAL_ID = /^(mrk-[0-9a-f]{32})@[a-z0-9-]+$/;

/** Whether a key id is a multi-Region key's (`mrk-` and 32 hex digits). */
export function isMultiRegionKeyId(keyId: string): boolean {
  return MULTI_REGION_KEY_ID.test(keyId);
}

/** The id a key's row has in the store: `mrk-…@region` for multi-Region keys, else the id. */
export function storageKeyId(keyId: string, region: string): string {
  return isMultiRegionKeyId(keyId) ? `${keyId}@${region}` : keyId;
}

/** The public key id of a stored row's id (inverse of `storageKeyId`). */
export function publicKeyId(storedId: string): string {
  return REGIONAL_ID.exec(storedId)?.[1] ?? storedId;
}

/** The Store seen from one region (see the module comment). */
export class RegionalStore implements Store {
  readonly #store: Store;
  readonly #region: string;

  constructor(store: Store, region: string) {
    this.#store = store;
    this.#region = region;
  }

  /** The shared store underneath (for operations that span regions, such as ReplicateKey). */
  get shared(): Store {
    return this.#store;
  }

  #in(keyId: string): string {
    return storageKeyId(keyId, this.#region);
  }

  #key(record: KeyRecord): KeyRecord {
    return { ...record, keyId: this.#in(record.keyId) };
  }

  #material(material: KeyMaterial): KeyMaterial {
    return { ...material, keyId: this.#in(material.keyId) };
  }

  /** Ids of another region's multi-Region keys are not this region's. */
  #ownIds(ids: readonly string[]): string[] {
    return ids
      .filter((id) => !REGIONAL_ID.test(id) || id.endsWith(`@${this.#region}`))
      .map(publicKeyId);
  }

  createKey(
    key: KeyRecord,
    material: KeyMaterial | null,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<void> {
    return this.#store.createKey(
      this.#key(key),
      material === null ? null : this.#material(material),
      tags,
      audit,
    );
  }

  /** AWS managed keys are single-Region: their ids pass through. */
  createAwsManagedKey(
    key: KeyRecord,
    material: KeyMaterial,
    alias: AliasRecord,
    rotation: RotationSchedule,
  ): Promise<boolean> {
    return this.#store.createAwsManagedKey(key, material, alias, rotation);
  }

  async getKey(keyId: string): Promise<KeyRecord | null> {
    return outKey(await this.#store.getKey(this.#in(keyId)));
  }

  async listKeys(accountId: string, region: string, page: Page): Promise<KeyRecord[]> {
    const after = page.after === undefined ? undefined : this.#in(page.after);
    const rows = await this.#store.listKeys(accountId, region, { ...page, after });
    return rows.map((row) => outKey(row)!);
  }

  updateKey(key: KeyRecord, audit?: AuditRecord): Promise<void> {
    return this.#store.updateKey(this.#key(key), audit);
  }

  async getMaterial(keyId: string, version: number): Promise<KeyMaterial | null> {
    const material = await this.#store.getMaterial(this.#in(keyId), version);
    return material === null ? null : { ...material, keyId };
  }

  deleteKey(keyId: string): Promise<void> {
    return this.#store.deleteKey(this.#in(keyId));
  }

  async listKeysDueForDeletion(now: number): Promise<string[]> {
    return this.#ownIds(await this.#store.listKeysDueForDeletion(now));
  }

  putTags(keyId: string, tags: readonly Tag[], audit?: AuditRecord): Promise<void> {
    return this.#store.putTags(this.#in(keyId), tags, audit);
  }

  removeTags(keyId: string, tagKeys: readonly string[], audit?: AuditRecord): Promise<void> {
    return this.#store.removeTags(this.#in(keyId), tagKeys, audit);
  }

  listTags(keyId: string): Promise<Tag[]> {
    return this.#store.listTags(this.#in(keyId));
  }

  createAlias(alias: AliasRecord, audit?: AuditRecord): Promise<boolean> {
    return this.#store.createAlias(this.#alias(alias), audit);
  }

  async getAlias(accountId: string, region: string, name: string): Promise<AliasRecord | null> {
    return outAlias(await this.#store.getAlias(accountId, region, name));
  }

  updateAlias(alias: AliasRecord, audit?: AuditRecord): Promise<void> {
    return this.#store.updateAlias(this.#alias(alias), audit);
  }

  deleteAlias(
    accountId: string,
    region: string,
    name: string,
    audit?: AuditRecord,
  ): Promise<void> {
    return this.#store.deleteAlias(accountId, region, name, audit);
  }

  async listAliases(
    accountId: string,
    region: string,
    options: Page & { targetKeyId?: string | undefined },
  ): Promise<AliasRecord[]> {
    const targetKeyId = options.targetKeyId === undefined
      ? undefined
      : this.#in(options.targetKeyId);
    const rows = await this.#store.listAliases(accountId, region, { ...options, targetKeyId });
    return rows.map((row) => outAlias(row)!);
  }

  #alias(alias: AliasRecord): AliasRecord {
    return { ...alias, targetKeyId: this.#in(alias.targetKeyId) };
  }

  getCredential(accessKeyId: string): Promise<Credential | null> {
    return this.#store.getCredential(accessKeyId);
  }

  putCredential(credential: Credential): Promise<void> {
    return this.#store.putCredential(credential);
  }

  upsertCredential(credential: Credential): Promise<void> {
    return this.#store.upsertCredential(credential);
  }

  setCredentialEnabled(accessKeyId: string, enabled: boolean): Promise<void> {
    return this.#store.setCredentialEnabled(accessKeyId, enabled);
  }

  countCredentials(): Promise<number> {
    return this.#store.countCredentials();
  }

  async createGrant(grant: GrantRecord, audit?: AuditRecord): Promise<GrantRecord> {
    const stored = await this.#store.createGrant(
      { ...grant, keyId: this.#in(grant.keyId) },
      audit,
    );
    return outGrant(stored);
  }

  async getGrant(grantId: string): Promise<GrantRecord | null> {
    const grant = await this.#store.getGrant(grantId);
    return grant === null ? null : outGrant(grant);
  }

  async listGrantsOfKey(keyId: string): Promise<GrantRecord[]> {
    return (await this.#store.listGrantsOfKey(this.#in(keyId))).map(outGrant);
  }

  async listRetirableGrants(principal: string, page: Page): Promise<GrantRecord[]> {
    return (await this.#store.listRetirableGrants(principal, page)).map(outGrant);
  }

  deleteGrant(grantId: string, audit?: AuditRecord): Promise<boolean> {
    return this.#store.deleteGrant(grantId, audit);
  }

  // --- imported key material -------------------------------------------------------------

  putImportParameters(parameters: ImportParameters, audit?: AuditRecord): Promise<void> {
    return this.#store.putImportParameters(
      { ...parameters, keyId: this.#in(parameters.keyId) },
      audit,
    );
  }

  async getImportParameters(tokenId: string): Promise<ImportParameters | null> {
    const parameters = await this.#store.getImportParameters(tokenId);
    return parameters === null ? null : { ...parameters, keyId: publicKeyId(parameters.keyId) };
  }

  listImportedMaterial(keyId: string): Promise<ImportedMaterialRecord[]> {
    return this.#store.listImportedMaterial(this.#in(keyId));
  }

  putPendingKeyMaterial(
    key: KeyRecord,
    pending: PendingKeyMaterial,
    description: string | null,
    audit?: AuditRecord,
  ): Promise<boolean> {
    return this.#store.putPendingKeyMaterial(
      this.#key(key),
      { ...pending, keyId: this.#in(pending.keyId) },
      description,
      audit,
    );
  }

  async getPendingKeyMaterial(keyId: string): Promise<PendingKeyMaterial | null> {
    const pending = await this.#store.getPendingKeyMaterial(this.#in(keyId));
    return pending === null ? null : { ...pending, keyId };
  }

  deletePendingKeyMaterial(keyId: string, audit?: AuditRecord): Promise<void> {
    return this.#store.deletePendingKeyMaterial(this.#in(keyId), audit);
  }

  importKeyMaterial(
    key: KeyRecord,
    material: KeyMaterial,
    imported: ImportedMaterialRecord,
    audit?: AuditRecord,
  ): Promise<void> {
    return this.#store.importKeyMaterial(this.#key(key), this.#material(material), imported, audit);
  }

  deleteImportedKeyMaterial(
    key: KeyRecord,
    options?: { onlyIfValidTo?: number; audit?: AuditRecord | undefined },
  ): Promise<boolean> {
    return this.#store.deleteImportedKeyMaterial(this.#key(key), options);
  }

  async listKeysWithExpiredMaterial(now: number): Promise<string[]> {
    return this.#ownIds(await this.#store.listKeysWithExpiredMaterial(now));
  }

  deleteExpiredImportParameters(now: number): Promise<void> {
    return this.#store.deleteExpiredImportParameters(now);
  }

  // --- rotation ----------------------------------------------------------------------------

  async getRotationSchedule(keyId: string): Promise<RotationSchedule | null> {
    const schedule = await this.#store.getRotationSchedule(this.#in(keyId));
    return schedule === null ? null : { ...schedule, keyId };
  }

  putRotationSchedule(schedule: RotationSchedule, audit?: AuditRecord): Promise<void> {
    return this.#store.putRotationSchedule(
      { ...schedule, keyId: this.#in(schedule.keyId) },
      audit,
    );
  }

  rotateKeyMaterial(rotation: KeyRotation, audit?: AuditRecord): Promise<boolean> {
    return this.#store.rotateKeyMaterial(
      { ...rotation, key: this.#key(rotation.key), material: this.#material(rotation.material) },
      audit,
    );
  }

  async listMaterialVersions(
    keyId: string,
    page: { limit: number; after?: number | undefined },
  ): Promise<MaterialVersionInfo[]> {
    return (await this.#store.listMaterialVersions(this.#in(keyId), page)).map((version) => ({
      ...version,
      keyId,
    }));
  }

  async listDueRotations(now: number, limit: number): Promise<DueRotation[]> {
    const due = await this.#store.listDueRotations(now, limit);
    const own = new Set(this.#ownIds(due.map((rotation) => rotation.keyId)));
    return due
      .map((rotation) => ({ ...rotation, keyId: publicKeyId(rotation.keyId) }))
      .filter((rotation) => own.has(rotation.keyId));
  }

  // --- multi-Region keys (public ids, explicit regions) ---------------------------------------

  getMultiRegionFamily(keyId: string): Promise<MultiRegionFamily | null> {
    return this.#store.getMultiRegionFamily(keyId);
  }

  replicateKey(
    sourceRegion: string,
    replica: KeyRecord,
    tags: readonly Tag[],
    audit?: AuditRecord,
  ): Promise<boolean> {
    return this.#store.replicateKey(
      sourceRegion,
      { ...replica, keyId: storageKeyId(replica.keyId, replica.region) },
      tags,
      audit,
    );
  }

  setPrimaryRegion(keyId: string, region: string, audit?: AuditRecord): Promise<void> {
    return this.#store.setPrimaryRegion(keyId, region, audit);
  }

  appendAudit(records: readonly AuditRecord[]): Promise<void> {
    return this.#store.appendAudit(records);
  }

  /** The shared store is closed by its owner, never through a regional view. */
  close(): void {}
}

function outKey(record: KeyRecord | null): KeyRecord | null {
  return record === null ? null : { ...record, keyId: publicKeyId(record.keyId) };
}

function outAlias(alias: AliasRecord | null): AliasRecord | null {
  return alias === null ? null : { ...alias, targetKeyId: publicKeyId(alias.targetKeyId) };
}

function outGrant(grant: GrantRecord): GrantRecord {
  return { ...grant, keyId: publicKeyId(grant.keyId) };
}
