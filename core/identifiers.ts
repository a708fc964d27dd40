/**
 * KeyId inputs parsed once into a tagged union, and the only place ARNs are
 * formatted.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
 * @module
 */
import { NotFoundException } from "./errors.ts";

/** An AWS partition: `aws`, `aws-cn` or `aws-us-gov`. */
export type Partition = "aws" | "aws-cn" | "aws-us-gov";

/**
 * The partition a Region belongs to: `cn-*` is `aws-cn`, `us-gov-*` is `aws-us-gov`, any other
 * Region is `aws`. Every ARN this KMS writes or accepts names the partition of its Region.
 */
export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** A parsed `KeyId` request field. */
export type KeyIdentifier =
  | { kind: "keyId"; keyId: string }
  | { kind: "keyArn"; keyId: string; region: string; accountId: string }
  | { kind: "aliasName"; aliasName: string }
  | { kind: "aliasArn"; aliasName: string; region: string; accountId: string };

const KEY_ID =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/** True when `value` has the shape of a key id (UUID or `mrk-` + 32 hex). */
export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

/**
 * Parses a KeyId field as AWS accepts it: key id, key ARN, alias name or alias ARN. An ARN must
 * name the partition of its Region (`arn:aws-cn:kms:us-east-1:…` names no key anywhere).
 * @throws {NotFoundException} when the value is none of these (AWS answers so for unknown ids).
 */
export function parseKeyIdentifier(value: string): KeyIdentifier {
  if (value.startsWith("alias/")) return { kind: "aliasName", aliasName: value };
  const arn = KMS_ARN.exec(value);
  if (arn) {
    const [, partition, region, accountId, type, rest] = arn as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (partition !== partitionOf(region)) throw new NotFoundException(`Invalid arn ${value}`);
    if (type === "key" && isKeyId(rest)) return { kind: "keyArn", keyId: rest, region, accountId };
    if (type === "alias") {
      return { kind: "aliasArn", aliasName: `alias/${rest}`, region, accountId };
    }
  }
  if (isKeyId(value)) return { kind: "keyId", keyId: value };
  if (value.startsWith("arn:")) throw new NotFoundException(`Invalid arn ${value}`);
  throw invalidKeyId(value);
}

/**
 * AWS's NotFoundException for a KeyId that names no key in a form the operation takes: the value
 * unquoted, `Invalid keyId x`, as moto's AWS-checked answers write it.
 */
export function invalidKeyId(value: string): NotFoundException {
  return new NotFoundException(`Invalid keyId ${value}`);
}

/** `arn:<partition>:kms:<region>:<account>:key/<id>` (the partition of `region`). */
export function keyArn(region: string, accountId: string, keyId: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${accountId}:key/${keyId}`;
}

/** `arn:<partition>:kms:<region>:<account>:alias/<name>`; `aliasName` includes `alias/`. */
export function aliasArn(region: string, accountId: string, aliasName: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${accountId}:${aliasName}`;
}

/** The account root principal ARN, `arn:aws:iam::<account>:root`. */
export function accountRootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}
