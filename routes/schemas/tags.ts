/**
 * Schemas of the tag operations.
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html
 * @module
 */
import { z } from "zod";
import type { listResourceTags, tagResource, untagResource } from "../../core/operations/tags.ts";
import { type InputOf, KeyIdType, Limit, Marker, requestOf, TagKey, TagList } from "./shared.ts";

/** TagResource. */
export const TagResourceRequest = requestOf<InputOf<typeof tagResource>>()(
  z.object({ KeyId: KeyIdType, Tags: TagList }),
);

/** UntagResource. */
export const UntagResourceRequest = requestOf<InputOf<typeof untagResource>>()(z.object({
  KeyId: KeyIdType,
  TagKeys: z.array(TagKey),
}));

/** ListResourceTags. */
export const ListResourceTagsRequest = requestOf<InputOf<typeof listResourceTags>>()(z.object({
  KeyId: KeyIdType,
  Limit: Limit.optional(),
  Marker: Marker.optional(),
}));
