/**
 * The shapes policy conditions are compiled with and evaluated against, shared by the condition
 * compiler (conditions.ts) and the value patterns (patterns.ts).
 *
 * @module
 */

/**
 * The condition values of one request, exactly as evaluation reads them:
 *
 * - Keys: the full condition-key name in LOWER CASE, e.g. `"kms:calleraccount"`,
 *   `"kms:encryptioncontext:" + contextKey.toLowerCase()`, `"aws:resourcetag/" + tagKey.toLowerCase()`,
 *   `"kms:recipientattestation:pcr1"`. A key the request does not have is simply not in the map
 *   (an empty array is treated as absent too).
 * - Values: non-empty arrays of strings in their original case. Single-valued keys have one
 *   element; multivalued keys (`kms:encryptioncontextkeys` with the encryption-context keys in their
 *   original case, `kms:grantoperations`, `kms:resourcealiases`, `aws:tagkeys`) have one per value.
 * - Booleans as `"true"` / `"false"`; numbers as decimal strings (`"365"`, `"1546257599.0"`);
 *   times (`aws:currenttime`) as ISO 8601 (`new Date(t).toISOString()`) or epoch seconds
 *   (`aws:epochtime`); `aws:sourceip` as dotted IPv4 or textual IPv6.
 * - Two encryption-context keys that differ only in case land in the same condition key; keep both
 *   values (AWS advises against such contexts; appending lets a Deny on either value apply).
 *
 * `conditionContext` (conditions.ts) builds a map in this form from ordinary values.
 */
export type ConditionContext = ReadonlyMap<string, readonly string[]>;

/** Options for compiling values that may contain policy variables. */
export interface CompileOptions {
  /** `${...}` policy variables are expanded only for policy Version 2012-10-17. */
  readonly variables: boolean;
  /**
   * Refuse `ForAllValues:` on `kms:EncryptionContext:*` and `aws:RequestTag/*` as AWS KMS does for
   * key policies ("OverlyPermissiveCondition"):
   * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#set-operators
   */
  readonly keyPolicy?: boolean;
}
