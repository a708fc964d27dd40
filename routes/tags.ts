/**
 * Tag operations: schema -> core function.
 *
 * @module
 */
import { listResourceTags, tagResource, untagResource } from "../core/operations/tags.ts";
import { type FamilyTable, operation } from "./operation_entry.ts";
import {
  ListResourceTagsRequest,
  TagResourceRequest,
  UntagResourceRequest,
} from "./schemas/tags.ts";

/** The tag family of the operation table. */
export const TAG_OPERATIONS: FamilyTable<"tags"> = {
  TagResource: operation(TagResourceRequest, tagResource),
  UntagResource: operation(UntagResourceRequest, untagResource),
  ListResourceTags: operation(ListResourceTagsRequest, listResourceTags),
};
