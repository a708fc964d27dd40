/**
 * TagResource, UntagResource, ListResourceTags and the tag rules CreateKey shares.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html
 * @module
 */
import { cutPage, decodeMarker, encodeMarker } from "./paging.ts";
import { LimitExceededException, TagException } from "../errors.ts";
import { assertKeyStateAllows } from "../key_state.ts";
import type { KeyCommits, KeyResolver } from "../operation_ports.ts";
import type { TagStore } from "../ports.ts";
import type { AccessControl } from "../access/access_control.ts";
import { MAX_TAGS_PER_KEY } from "../limits.ts";
import type { Caller, Tag } from "../types.ts";

/** What this family of operations uses of the KMS. */
export type TagPorts = KeyResolver & KeyCommits & {
  readonly store: TagStore;
  readonly access: Pick<AccessControl, "forgetTags">;
};

/**
 * Checks tags as AWS does: no reserved `aws:` prefix, at most 50.
 * @throws {TagException} a reserved tag key.
 * @throws {LimitExceededException} more than 50 tags.
 */
export function validateTags(tags: readonly Tag[]): void {
  for (const tag of tags) {
    if (tag.TagKey.toLowerCase().startsWith("aws:")) {
      throw new TagException("Tag keys beginning with 'aws:' are reserved for AWS use.");
    }
  }
  if (new Set(tags.map((t) => t.TagKey)).size > MAX_TAGS_PER_KEY) {
    throw new LimitExceededException(`A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
  }
}

/**
 * Adds or overwrites tags on a key.
 * @throws {NotFoundException} @throws {KMSInvalidStateException} @throws {TagException} @throws {LimitExceededException}
 */
export async function tagResource(
  kms: TagPorts,
  caller: Caller,
  input: { KeyId: string; Tags: Tag[] },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:TagResource",
    conditions: { requestTags: input.Tags, tagKeys: input.Tags.map((tag) => tag.TagKey) },
  });
  assertKeyStateAllows("TagResource", { arn: key.arn, state: key.record.state });
  validateTags(input.Tags);
  const existing = await kms.store.listTags(key.record.keyId);
  const keys = new Set([...existing.map((t) => t.TagKey), ...input.Tags.map((t) => t.TagKey)]);
  if (keys.size > MAX_TAGS_PER_KEY) {
    throw new LimitExceededException(`A KMS key can have at most ${MAX_TAGS_PER_KEY} tags.`);
  }
  await kms.commit(caller, (audit) => kms.store.putTags(key.record.keyId, input.Tags, audit));
  kms.access.forgetTags(key.record.keyId);
  return {};
}

/**
 * Removes tags from a key; unknown tag keys are ignored as AWS does.
 * @throws {NotFoundException} @throws {KMSInvalidStateException} @throws {TagException}
 */
export async function untagResource(
  kms: TagPorts,
  caller: Caller,
  input: { KeyId: string; TagKeys: string[] },
): Promise<Record<string, never>> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:UntagResource",
    conditions: { tagKeys: input.TagKeys },
  });
  assertKeyStateAllows("UntagResource", { arn: key.arn, state: key.record.state });
  if (input.TagKeys.some((k) => k.toLowerCase().startsWith("aws:"))) {
    throw new TagException("Tag keys beginning with 'aws:' are reserved for AWS use.");
  }
  await kms.commit(
    caller,
    (audit) => kms.store.removeTags(key.record.keyId, input.TagKeys, audit),
  );
  kms.access.forgetTags(key.record.keyId);
  return {};
}

/** ListResourceTags' answer. */
export interface ListResourceTagsResult {
  Tags: Tag[];
  NextMarker?: string;
  Truncated: boolean;
}

/**
 * Lists a key's tags, sorted by key, paged by Limit (default 50) and Marker.
 * @throws {NotFoundException} @throws {InvalidMarkerException}
 */
export async function listResourceTags(
  kms: TagPorts,
  caller: Caller,
  input: { KeyId: string; Limit?: number | undefined; Marker?: string | undefined },
): Promise<ListResourceTagsResult> {
  const key = await kms.resolveKey(caller, input.KeyId, {
    allowAlias: false,
    action: "kms:ListResourceTags",
  });
  const tags = await kms.store.listTags(key.record.keyId);
  const start = input.Marker === undefined ? 0 : decodeIndexMarker(input.Marker, tags.length);
  const limit = input.Limit ?? 50;
  const { shown, end } = cutPage(
    tags.slice(start),
    limit,
    (_, count) => encodeMarker("tags", start + count),
  );
  return { Tags: shown, ...end };
}

function decodeIndexMarker(marker: string, length: number): number {
  return decodeMarker(marker, "tags", (position) => {
    const index = /^\d+$/.test(position) ? Number(position) : NaN;
    return Number.isSafeInteger(index) && index <= length ? index : undefined;
  });
}
