/**
 * `KMS_SEED_FILE`: keys with fixed ids (and, for symmetric and HMAC keys, fixed
 * material), their aliases, tags and policies, and grants, applied idempotently
 * at start so a test suite's checked-in ciphertexts keep decrypting.
 *
 * Everything is checked (the file, then the file against the database) before
 * anything is written. A key that exists keeps its id, account, spec, usage and
 * material: a file that differs there is refused. Its description, policy and
 * enabled state follow the file where the file gives them; tags, aliases and
 * grants are upserted. Nothing the file no longer names is removed. Loading
 * the same file again writes nothing.
 *
 * @module
 */
import { compilePolicyDocument } from "./access/access_control.ts";
import type { GrantRecord } from "./access/grants.ts";
import { generateKeyPair } from "./crypto/key_pairs.ts";
import { HMAC_KEY_BYTES, type HmacKeySpec } from "./crypto/hmac.ts";
import { generateKeyMaterial } from "./key_material.ts";
import { isPolicyText, POLICY_MAX_LENGTH } from "./limits.ts";
import { firstUnknownPrincipal } from "./key_policy.ts";
import { algorithmsOf, KEY_SPECS, SYMMETRIC_KEY_BYTES } from "./key_spec.ts";
import type { KeyPairSource } from "./operation_ports.ts";
import { firstKeyMaterial, newKeyRecord } from "./new_key.ts";
import type { Clock, Store } from "./ports.ts";
import { SecretBytes } from "./secret.ts";
import { checkGrant, checkKeyAliases, checkTags, grantParameters } from "./seed_checks.ts";
import { parseSeedFile, seedError, type SeedFile, type SeedKeyEntry } from "./seed_file.ts";
import type { AliasRecord, KeyRecord, KeySpec, KeyUsage, Tag } from "./types.ts";

/** The store methods a seed needs. */
export type SeedStore = Pick<
  Store,
  | "getKey"
  | "createKey"
  | "updateKey"
  | "getMaterial"
  | "putTags"
  | "listTags"
  | "getAlias"
  | "createAlias"
  | "updateAlias"
  | "getGrant"
  | "createGrant"
  | "deleteGrant"
>;

/** What `loadSeedFile` needs. */
export interface SeedDeps {
  store: SeedStore;
  clock: Clock;
  /** The region keys and aliases are created in (`KMS_REGION`). */
  region: string;
  /** The account of keys that name none (`KMS_ACCOUNT_ID`). */
  accountId: string;
  /** Whether an IAM user or role a key policy names exists (AWS refuses policies naming others). */
  principalExists(arn: string): Promise<boolean>;
  /** Where asymmetric keys' pairs come from; default fresh generation. */
  keyPairs?: KeyPairSource;
}

/** What a load did. */
export interface SeedSummary {
  /** Key ids created, updated (description, policy or state) and left as they were. */
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Aliases created or pointed at their seeded key. */
  aliases: number;
  /** Tags written (new, or with a new value). */
  tags: number;
  /** Grants created or replaced. */
  grants: number;
}

interface PlannedKey {
  at: string;
  action: "create" | "update" | "keep";
  record: KeyRecord;
  /** Fixed material of a key to create, else undefined (generated). */
  material: Uint8Array | undefined;
  /** Tags to write: all of a new key's, those an existing key lacks or has other values of. */
  tags: Tag[];
}

interface Plan {
  keys: PlannedKey[];
  aliases: { record: AliasRecord; action: "create" | "update" }[];
  grants: { record: GrantRecord; replace: boolean }[];
}

/**
 * Applies a seed file (its text; `path` picks JSON or YAML by extension).
 * @throws {ConfigError} naming the entry and field at fault; never quoting key material.
 */
export async function loadSeedFile(
  file: { text: string; path?: string | undefined },
  deps: SeedDeps,
): Promise<SeedSummary> {
  const seed = parseSeedFile(file.text, file.path);
  const plan: Plan = { keys: [], aliases: [], grants: [] };
  try {
    await _plan(seed, plan, deps);
  } catch (error) {
    for (const key of plan.keys) key.material?.fill(0);
    throw error;
  }
  return await _apply(plan, deps);
}

async function _plan(seed: SeedFile, plan: Plan, deps: SeedDeps): Promise<void> {
  const now = deps.clock.now();
  const seen = new Map<string, string>();
  for (const [i, entry] of seed.keys.entries()) {
    const at = `keys[${i}]`;
    const earlier = seen.get(entry.keyId);
    if (earlier !== undefined) throw seedError(`${at}.keyId: also the key id of ${earlier}`);
    seen.set(entry.keyId, at);
    plan.keys.push(await _planKey(at, entry, deps, now));
  }
  plan.aliases = await checkKeyAliases(seed.keys, plan.keys.map((k) => k.record), {
    store: deps.store,
    region: deps.region,
    now,
  });
  const planned = new Map(plan.keys.map((k) => [k.record.keyId, k.record]));
  const grantIds = new Map<string, string>();
  for (const [i, entry] of seed.grants.entries()) {
    const at = `grants[${i}]`;
    const key = planned.get(entry.keyId) ?? await deps.store.getKey(entry.keyId);
    if (key === null) {
      throw seedError(`${at}.keyId: no key ${entry.keyId} in this file or the database`);
    }
    const record = checkGrant(at, entry, { key, now });
    const earlier = grantIds.get(record.grantId);
    if (earlier !== undefined) throw seedError(`${at}: the same grant as ${earlier}`);
    grantIds.set(record.grantId, at);
    const existing = await deps.store.getGrant(record.grantId);
    if (existing === null || !_sameGrant(existing, record)) {
      plan.grants.push({ record, replace: existing !== null });
    }
  }
}

async function _apply(plan: Plan, deps: SeedDeps): Promise<SeedSummary> {
  const summary: SeedSummary = {
    created: [],
    updated: [],
    unchanged: [],
    aliases: plan.aliases.length,
    tags: 0,
    grants: plan.grants.length,
  };
  for (const key of plan.keys) {
    const { record } = key;
    if (key.action === "create") {
      const material = key.material === undefined
        ? await generateKeyMaterial(
          record.keySpec,
          deps.keyPairs ?? { generate: generateKeyPair },
          record.region,
        )
        : new SecretBytes(key.material);
      try {
        await deps.store.createKey(record, firstKeyMaterial(record, material), key.tags);
      } catch (error) {
        // Another instance seeding the same database created it first: keep that one.
        const now = await deps.store.getKey(record.keyId);
        if (now === null || now.keySpec !== record.keySpec) throw error;
        summary.unchanged.push(record.keyId);
        continue;
      } finally {
        material.wipe();
      }
      summary.created.push(record.keyId);
    } else {
      if (key.action === "update") await deps.store.updateKey(record);
      if (key.tags.length > 0) await deps.store.putTags(record.keyId, key.tags);
      (key.action === "update" ? summary.updated : summary.unchanged).push(record.keyId);
    }
    summary.tags += key.tags.length;
  }
  for (const alias of plan.aliases) {
    if (alias.action === "update" || !await deps.store.createAlias(alias.record)) {
      await deps.store.updateAlias(alias.record);
    }
  }
  for (const grant of plan.grants) {
    if (grant.replace) await deps.store.deleteGrant(grant.record.grantId);
    await deps.store.createGrant(grant.record);
  }
  return summary;
}

async function _planKey(
  at: string,
  entry: SeedKeyEntry,
  deps: SeedDeps,
  now: number,
): Promise<PlannedKey> {
  const keySpec = entry.keySpec ?? "SYMMETRIC_DEFAULT";
  const keyUsage = entry.keyUsage ?? _defaultUsage(at, keySpec);
  if (algorithmsOf(keySpec, keyUsage) === undefined) {
    throw seedError(
      `${at}.keyUsage: ${keyUsage} is not a usage of ${keySpec} keys ` +
        `(they allow ${Object.keys(KEY_SPECS[keySpec].usages).join(", ")})`,
    );
  }
  const material = _material(at, entry, keySpec);
  const accountId = entry.accountId ?? deps.accountId;
  const policy = entry.policy === undefined
    ? undefined
    : await _policy(`${at}.policy`, entry.policy, deps);
  const tags = checkTags(`${at}.tags`, entry.tags);
  const existing = await deps.store.getKey(entry.keyId);
  if (existing === null) {
    const record = newKeyRecord({
      keyId: entry.keyId,
      accountId,
      region: deps.region,
      now,
      description: entry.description,
      keySpec,
      keyUsage,
      origin: "AWS_KMS",
      policy,
      enabled: entry.enabled,
    });
    return { at, action: "create", record, material, tags };
  }
  const id = entry.keyId;
  if (existing.accountId !== accountId || existing.region !== deps.region) {
    throw seedError(
      `${at}: key ${id} already exists in account ${existing.accountId}, region ` +
        `${existing.region} (this file puts it in ${accountId}, ${deps.region})`,
    );
  }
  if (existing.keySpec !== keySpec || existing.keyUsage !== keyUsage) {
    throw seedError(
      `${at}.keySpec: key ${id} already exists as ${existing.keySpec} with usage ` +
        `${existing.keyUsage}; a key's spec and usage cannot change (this file says ${keySpec}, ` +
        `${keyUsage})`,
    );
  }
  if (material !== undefined) await _checkSameMaterial(at, id, material, deps);
  const record = { ...existing };
  if (entry.description !== undefined) record.description = entry.description;
  if (policy !== undefined) record.policy = policy;
  if (entry.enabled !== undefined && (record.state === "Enabled" || record.state === "Disabled")) {
    record.state = entry.enabled ? "Enabled" : "Disabled";
  }
  const changed = record.description !== existing.description ||
    record.policy !== existing.policy || record.state !== existing.state;
  const stored = new Map((await deps.store.listTags(id)).map((t) => [t.TagKey, t.TagValue]));
  const newTags = tags.filter((t) => stored.get(t.TagKey) !== t.TagValue);
  return { at, action: changed ? "update" : "keep", record, material: undefined, tags: newTags };
}

/** ENCRYPT_DECRYPT where the spec allows it (AWS's default), else the spec's only usage. */
function _defaultUsage(at: string, keySpec: KeySpec): KeyUsage {
  const usages = Object.keys(KEY_SPECS[keySpec].usages) as KeyUsage[];
  if (usages.includes("ENCRYPT_DECRYPT")) return "ENCRYPT_DECRYPT";
  if (usages.length === 1) return usages[0]!;
  throw seedError(`${at}.keyUsage: is required for ${keySpec} keys (one of ${usages.join(", ")})`);
}

function _material(at: string, entry: SeedKeyEntry, keySpec: KeySpec): Uint8Array | undefined {
  if (entry.material === undefined) return undefined;
  const size = keySpec === "SYMMETRIC_DEFAULT"
    ? SYMMETRIC_KEY_BYTES
    : HMAC_KEY_BYTES[keySpec as HmacKeySpec];
  if (size === undefined) {
    throw seedError(
      `${at}.material: only SYMMETRIC_DEFAULT and HMAC keys take fixed material; ` +
        `a ${keySpec} key's pair is generated when it is first seeded`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(entry.material.replace(/\s+/g, ""));
  } catch {
    throw seedError(`${at}.material: is not valid base64`);
  }
  if (bytes.length !== size) {
    bytes.fill(0);
    throw seedError(
      `${at}.material: ${keySpec} keys take ${size} bytes of material (base64), got ${bytes.length}`,
    );
  }
  return bytes;
}

async function _checkSameMaterial(
  at: string,
  keyId: string,
  material: Uint8Array,
  deps: SeedDeps,
): Promise<void> {
  const stored = await deps.store.getMaterial(keyId, 1);
  const same = stored !== null && _equalBytes(stored.material.expose(), material);
  stored?.material.wipe();
  material.fill(0);
  if (!same) {
    throw seedError(
      `${at}.material: key ${keyId} already exists with other key material; seeded material ` +
        "cannot change (start from an empty database to seed new material)",
    );
  }
}

function _equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

async function _policy(at: string, doc: unknown, deps: SeedDeps): Promise<string> {
  const text = typeof doc === "string" ? doc : JSON.stringify(doc, null, 2);
  if (!isPolicyText(text)) {
    throw seedError(
      `${at}: must be 1 to ${POLICY_MAX_LENGTH} characters of tab, line feed, carriage return ` +
        "or U+0020..U+00FF",
    );
  }
  let policy;
  try {
    policy = compilePolicyDocument(text, "key").compiled;
  } catch (e) {
    throw seedError(`${at}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const unknown = await firstUnknownPrincipal(policy, (arn) => deps.principalExists(arn));
  if (unknown !== undefined) {
    throw seedError(
      `${at}: names ${unknown}, which does not exist (declare it in KMS_PRINCIPALS_FILE)`,
    );
  }
  return text;
}

function _sameGrant(a: GrantRecord, b: GrantRecord): boolean {
  return grantParameters(a) === grantParameters(b);
}
