/**
 * The condition context of one request: every condition key a policy may
 * test, with the request's values. Keys are lowercased (IAM condition key
 * names are case-insensitive, and so is the `<context-key>` part of
 * `kms:EncryptionContext:<context-key>`); values are lists, a single-valued key
 * having one value. A key with no value in this request is absent.
 *
 * The context is built lazily, once: a request that no policy condition (or policy variable)
 * looks at, such as one allowed by an unconditional key policy statement, never builds it.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 * @module
 */
import type { AttestedEnclave } from "../recipient/attestation.ts";
import type { Caller, KeyRecord, Tag } from "../types.ts";
import type { Context } from "./grants.ts";

/** Request values that only some operations have. */
export interface RequestConditions {
  encryptionContext?: Context | undefined;
  encryptionAlgorithm?: string | undefined;
  signingAlgorithm?: string | undefined;
  macAlgorithm?: string | undefined;
  keyAgreementAlgorithm?: string | undefined;
  dataKeyPairSpec?: string | undefined;
  messageType?: string | undefined;
  /** CreateKey's requested spec, usage and origin (for keys that do not exist yet). */
  keySpec?: string | undefined;
  keyUsage?: string | undefined;
  keyOrigin?: string | undefined;
  multiRegion?: boolean | undefined;
  /** The AWS service the request came through (`kms:ViaService`, core/aws_managed_keys.ts). */
  viaService?: string | undefined;
  /** The alias name the request named the key by (`kms:RequestAlias`). */
  requestAlias?: string | undefined;
  grantOperations?: readonly string[] | undefined;
  granteePrincipal?: string | undefined;
  retiringPrincipal?: string | undefined;
  grantConstraintTypes?: readonly string[] | undefined;
  recipient?: AttestedEnclave | undefined;
  reEncryptOnSameKey?: boolean | undefined;
  bypassPolicyLockoutSafetyCheck?: boolean | undefined;
  /** EnableKeyRotation's RotationPeriodInDays (`kms:RotationPeriodInDays`), when given. */
  rotationPeriodInDays?: number | undefined;
  /** Tag keys of TagResource / UntagResource / CreateKey (`aws:TagKeys`). */
  tagKeys?: readonly string[] | undefined;
  /** Tags of CreateKey / TagResource (`aws:RequestTag/<key>`). */
  requestTags?: readonly Tag[] | undefined;
  /** GetParametersForImport's `kms:WrappingAlgorithm` and `kms:WrappingKeySpec`. */
  wrappingAlgorithm?: string | undefined;
  wrappingKeySpec?: string | undefined;
  /** ImportKeyMaterial's `kms:ExpirationModel` and `kms:ValidTo` (epoch seconds). */
  expirationModel?: string | undefined;
  validTo?: string | undefined;
}

/** Facts of the key a request acts on that policies may test. */
export interface ResourceFacts {
  key: KeyRecord;
  /** Tags of the key, when a policy tests `aws:ResourceTag/...`. */
  tags?: readonly Tag[] | undefined;
  /** Alias names of the key, when a policy tests `kms:ResourceAliases`. */
  aliases?: readonly string[] | undefined;
}

/** The condition context: lowercased key -> values. */
export type ConditionValues = ReadonlyMap<string, string[]>;

/** A read-only map built by `build` on its first read, then kept. */
class LazyMap<K, V> implements ReadonlyMap<K, V> {
  #build: (() => Map<K, V>) | undefined;
  #built: Map<K, V> | undefined;

  constructor(build: () => Map<K, V>) {
    this.#build = build;
  }

  #map(): Map<K, V> {
    if (this.#built === undefined) {
      this.#built = this.#build!();
      this.#build = undefined;
    }
    return this.#built;
  }

  /** Whether the map was built (a read happened). */
  get built(): boolean {
    return this.#built !== undefined;
  }

  get size(): number {
    return this.#map().size;
  }
  get(key: K): V | undefined {
    return this.#map().get(key);
  }
  has(key: K): boolean {
    return this.#map().has(key);
  }
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#map()) callback.call(thisArg, value, key, this);
  }
  entries(): MapIterator<[K, V]> {
    return this.#map().entries();
  }
  keys(): MapIterator<K> {
    return this.#map().keys();
  }
  values(): MapIterator<V> {
    return this.#map().values();
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map()[Symbol.iterator]();
  }
}

const bool = (value: boolean): string => (value ? "true" : "false");

/**
 * The condition context of a request on `resource` (null for account-level actions), built on its
 * first read (`now` is taken when this is called).
 */
export function conditionValues(
  caller: Caller,
  resource: ResourceFacts | null,
  request: RequestConditions,
  now: number,
): ConditionValues & { readonly built: boolean } {
  return new LazyMap(() => buildConditionValues(caller, resource, request, now));
}

function buildConditionValues(
  caller: Caller,
  resource: ResourceFacts | null,
  request: RequestConditions,
  now: number,
): Map<string, string[]> {
  const values = new Map<string, string[]>();
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) values.set(key, [value]);
  };
  set("aws:principalarn", caller.principalArn);
  set("aws:principalaccount", caller.accountId);
  set("aws:principaltype", principalType(caller));
  set("aws:username", userName(caller.principalArn));
  set("kms:calleraccount", caller.accountId);
  set("aws:sourceip", caller.sourceIp);
  set("aws:securetransport", bool(caller.secureTransport === true));
  set("aws:currenttime", new Date(now).toISOString());
  set("aws:epochtime", String(Math.floor(now / 1000)));
  set("aws:requestedregion", caller.region);
  set("aws:useragent", caller.userAgent);
  if (resource !== null) {
    const key = resource.key;
    set("kms:keyspec", key.keySpec);
    set("kms:customermasterkeyspec", key.keySpec);
    set("kms:keyusage", key.keyUsage);
    set("kms:customermasterkeyusage", key.keyUsage);
    set("kms:keyorigin", key.origin);
    set("aws:resourceaccount", key.accountId);
    for (const tag of resource.tags ?? []) {
      set(`aws:resourcetag/${tag.TagKey.toLowerCase()}`, tag.TagValue);
    }
    if (resource.aliases !== undefined) values.set("kms:resourcealiases", [...resource.aliases]);
  } else {
    set("kms:keyspec", request.keySpec);
    set("kms:customermasterkeyspec", request.keySpec);
    set("kms:keyusage", request.keyUsage);
    set("kms:customermasterkeyusage", request.keyUsage);
    set("kms:keyorigin", request.keyOrigin);
  }
  if (request.multiRegion !== undefined) set("kms:multiregion", bool(request.multiRegion));
  if (request.encryptionContext !== undefined) {
    const keys = Object.keys(request.encryptionContext);
    for (const key of keys) {
      set(`kms:encryptioncontext:${key.toLowerCase()}`, request.encryptionContext[key]);
    }
    if (keys.length > 0) values.set("kms:encryptioncontextkeys", keys);
  }
  set("kms:encryptionalgorithm", request.encryptionAlgorithm);
  set("kms:signingalgorithm", request.signingAlgorithm);
  set("kms:macalgorithm", request.macAlgorithm);
  set("kms:keyagreementalgorithm", request.keyAgreementAlgorithm);
  set("kms:datakeypairspec", request.dataKeyPairSpec);
  set("kms:messagetype", request.messageType);
  set("kms:requestalias", request.requestAlias);
  set("kms:viaservice", request.viaService);
  if (request.grantOperations !== undefined) {
    values.set("kms:grantoperations", [...request.grantOperations]);
  }
  set("kms:granteeprincipal", request.granteePrincipal);
  set("kms:retiringprincipal", request.retiringPrincipal);
  if (request.grantConstraintTypes !== undefined) {
    values.set("kms:grantconstrainttype", [...request.grantConstraintTypes]);
  }
  if (request.grantOperations !== undefined) set("kms:grantisforawsresource", "false");
  if (request.recipient !== undefined) {
    const pcrs = request.recipient.pcrs;
    const pcr0 = pcrs.get(0);
    if (pcr0 !== undefined) set("kms:recipientattestation:imagesha384", pcr0.toHex());
    for (const [index, value] of pcrs) set(`kms:recipientattestation:pcr${index}`, value.toHex());
  }
  if (request.reEncryptOnSameKey !== undefined) {
    set("kms:reencryptonsamekey", bool(request.reEncryptOnSameKey));
  }
  if (request.bypassPolicyLockoutSafetyCheck !== undefined) {
    set("kms:bypasspolicylockoutsafetycheck", bool(request.bypassPolicyLockoutSafetyCheck));
  }
  if (request.rotationPeriodInDays !== undefined) {
    set("kms:rotationperiodindays", String(request.rotationPeriodInDays));
  }
  if (request.tagKeys !== undefined) values.set("aws:tagkeys", [...request.tagKeys]);
  for (const tag of request.requestTags ?? []) {
    set(`aws:requesttag/${tag.TagKey.toLowerCase()}`, tag.TagValue);
  }
  set("kms:wrappingalgorithm", request.wrappingAlgorithm);
  set("kms:wrappingkeyspec", request.wrappingKeySpec);
  set("kms:expirationmodel", request.expirationModel);
  set("kms:validto", request.validTo);
  return values;
}

function principalType(caller: Caller): string {
  if (caller.principalArn.endsWith(":root")) return "Account";
  if (caller.principalArn.includes(":role/")) return "AssumedRole";
  return "User";
}

function userName(arn: string): string | undefined {
  const match = /:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}
