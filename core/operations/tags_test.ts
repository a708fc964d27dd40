/**
 * The tag family (core/operations/tags.ts) in process: TagResource, UntagResource and
 * ListResourceTags on a KMS over `:memory:` (tests/helpers/in_process.ts). The HTTP tests
 * (tests/tags_test.ts) keep the protocol.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectionOf, withInProcessKms } from "../../tests/helpers/in_process.ts";

type Tag = { TagKey: string; TagValue: string };
const sorted = (tags: Tag[]) => [...tags].sort((a, b) => a.TagKey.localeCompare(b.TagKey));

Deno.test("TagResource adds and overwrites tags, UntagResource removes the named keys, ListResourceTags shows the result", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey", { Tags: [{ TagKey: "team", TagValue: "a" }] }))
      .KeyMetadata.KeyId;
    await call("TagResource", {
      KeyId,
      Tags: [{ TagKey: "team", TagValue: "b" }, { TagKey: "env", TagValue: "prod" }],
    });
    assert.deepEqual(sorted((await call("ListResourceTags", { KeyId })).Tags), [
      { TagKey: "env", TagValue: "prod" },
      { TagKey: "team", TagValue: "b" },
    ]);
    await call("UntagResource", { KeyId, TagKeys: ["team", "absent"] });
    assert.deepEqual((await call("ListResourceTags", { KeyId })).Tags, [
      { TagKey: "env", TagValue: "prod" },
    ]);
  }));

Deno.test("a tag key in the reserved aws: space is a TagException and adds no tag", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.equal(
      await rejectionOf(
        call("TagResource", { KeyId, Tags: [{ TagKey: "aws:reserved", TagValue: "x" }] }),
      ),
      "TagException",
    );
    assert.deepEqual((await call("ListResourceTags", { KeyId })).Tags, []);
  }));

Deno.test("ListResourceTags pages through every tag exactly once with Limit and Marker", () =>
  withInProcessKms(async ({ call }) => {
    const tags = Array.from({ length: 5 }, (_, i) => ({ TagKey: `k${i}`, TagValue: `v${i}` }));
    const KeyId = (await call("CreateKey", { Tags: tags })).KeyMetadata.KeyId;
    const listed: Tag[] = [];
    let Marker: string | undefined;
    do {
      const page = await call("ListResourceTags", {
        KeyId,
        Limit: 2,
        ...(Marker ? { Marker } : {}),
      });
      assert.ok(page.Tags.length <= 2);
      listed.push(...page.Tags);
      assert.equal(page.Truncated, page.NextMarker !== undefined);
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    assert.deepEqual(sorted(listed), tags);
  }));
