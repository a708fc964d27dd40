import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-kms";
import { errorName, withServer } from "./helpers/server.ts";

Deno.test("CreateKey's tags, TagResource and UntagResource show in ListResourceTags sorted by key", () =>
  withServer(async ({ client }) => {
    const KeyId =
      (await client.send(new CreateKeyCommand({ Tags: [{ TagKey: "team", TagValue: "core" }] })))
        .KeyMetadata!.KeyId!;
    await client.send(
      new TagResourceCommand({
        KeyId,
        Tags: [{ TagKey: "env", TagValue: "" }, { TagKey: "team", TagValue: "edge" }],
      }),
    );
    let r = await client.send(new ListResourceTagsCommand({ KeyId }));
    assert.deepEqual(r.Tags, [{ TagKey: "env", TagValue: "" }, {
      TagKey: "team",
      TagValue: "edge",
    }]);
    assert.equal(r.Truncated, false);
    await client.send(new UntagResourceCommand({ KeyId, TagKeys: ["team", "absent"] }));
    r = await client.send(new ListResourceTagsCommand({ KeyId }));
    assert.deepEqual(r.Tags, [{ TagKey: "env", TagValue: "" }]);
  }));

Deno.test("TagResource rejects aws: tag keys and more than 50 tags, changing nothing", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    assert.equal(
      await errorName(
        client.send(
          new TagResourceCommand({
            KeyId,
            Tags: [{ TagKey: "ok", TagValue: "1" }, { TagKey: "aws:x", TagValue: "1" }],
          }),
        ),
      ),
      "TagException",
    );
    const many = Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: "v" }));
    assert.equal(
      await errorName(client.send(new TagResourceCommand({ KeyId, Tags: many }))),
      "LimitExceededException",
    );
    assert.deepEqual((await client.send(new ListResourceTagsCommand({ KeyId }))).Tags, []);
    assert.equal(
      await errorName(
        client.send(new CreateKeyCommand({ Tags: [{ TagKey: "aws:reserved", TagValue: "x" }] })),
      ),
      "TagException",
    );
    assert.equal(
      await errorName(
        client.send(
          new TagResourceCommand({ KeyId, Tags: [{ TagKey: "x".repeat(129), TagValue: "v" }] }),
        ),
      ),
      "ValidationException",
    );
  }));

Deno.test("ListResourceTags pages with Limit and Marker", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const tags = Array.from({ length: 5 }, (_, i) => ({ TagKey: `k${i}`, TagValue: `v${i}` }));
    await client.send(new TagResourceCommand({ KeyId, Tags: tags }));
    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const r = await client.send(new ListResourceTagsCommand({ KeyId, Limit: 2, Marker }));
      seen.push(...r.Tags!.map((t) => t.TagKey!));
      Marker = r.NextMarker;
    } while (Marker !== undefined);
    assert.deepEqual(seen, ["k0", "k1", "k2", "k3", "k4"]);
  }));

Deno.test("TagResource on a key pending deletion gives KMSInvalidStateException", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    assert.equal(
      await errorName(
        client.send(new TagResourceCommand({ KeyId, Tags: [{ TagKey: "a", TagValue: "b" }] })),
      ),
      "KMSInvalidStateException",
    );
    const r = await client.send(new ListResourceTagsCommand({ KeyId }));
    assert.deepEqual(r.Tags, []);
  }));
