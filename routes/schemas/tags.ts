/**
 * Schemas of the tag operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html
 * @module
 */
import { z } from "zod";
import { KeyIdType, Limit, Marker, TagKey, TagList } from "./shared.ts";

/** TagResource. */
export const TagResourceRequest = z.object({ KeyId: KeyIdType, Tags: TagList });

/** UntagResource. */
export const UntagResourceRequest = z.object({
  KeyId: KeyIdType,
  TagKeys: z.array(TagKey),
});

/** ListResourceTags. */
export const ListResourceTagsRequest = z.object({
  KeyId: KeyIdType,
  Limit: Limit.optional(),
  Marker: Marker.optional(),
});
