/**
 * AWS's field limits that more than one layer checks: the request schemas
 * (routes/schemas/*), the operations (core/operations/*) and the seed file's
 * checks (core/seed*.ts). Each limit is written here once; the schemas build
 * their zod types from these values, the seed checks test the same values.
 *
 * @see ../../shared/reference/kms.smithy.json (PolicyType, TagKeyType, TagValueType,
 *   AliasNameType, DescriptionType, GrantNameType, PrincipalIdType, GrantConstraints)
 * @module
 */

/** AWS's PolicyType pattern: tab, LF, CR and U+0020..U+00FF, at least one character. */
// deno-lint-ignore no-control-regex -- AWS's PolicyType pattern allows tab, LF and CR
export const POLICY_CHARACTERS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;

/** PolicyType: at most 131072 characters. */
export const POLICY_MAX_LENGTH = 131_072;

/** Whether `text` is a PolicyType value: 1..131072 characters of `POLICY_CHARACTERS`. */
export function isPolicyText(text: string): boolean {
  return text.length <= POLICY_MAX_LENGTH && POLICY_CHARACTERS.test(text);
}

/** TagKeyType: 1..128 characters. */
export const TAG_KEY_MAX_LENGTH = 128;

/** TagValueType: 0..256 characters. */
export const TAG_VALUE_MAX_LENGTH = 256;

/** AWS's quota of tags per KMS key. */
export const MAX_TAGS_PER_KEY = 50;

/** AliasNameType: 1..256 characters. */
export const ALIAS_NAME_MAX_LENGTH = 256;

/** AliasNameType's and GrantNameType's pattern: letters, digits, `:`, `/`, `_`, `-`. */
export const NAME_CHARACTERS = /^[a-zA-Z0-9:/_-]+$/;

/** GrantNameType: 1..256 characters of `NAME_CHARACTERS`. */
export const GRANT_NAME_MAX_LENGTH = 256;

/** PrincipalIdType (a grant's grantee or retiring principal): 1..256 characters. */
export const PRINCIPAL_ID_MAX_LENGTH = 256;

/** A grant's SourceArn constraint: 20..512 characters, an ARN naming a 12-digit account. */
export const SOURCE_ARN_MIN_LENGTH = 20;
export const SOURCE_ARN_MAX_LENGTH = 512;
export const SOURCE_ARN = /^arn:aws[a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$/;

/** DescriptionType: 0..8192 characters. */
export const DESCRIPTION_MAX_LENGTH = 8192;
