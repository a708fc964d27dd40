import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  EncryptCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-kms";
import { errorName, withServer } from "./helpers/server.ts";

Deno.test("CreateAlias names a key; ListAliases shows it with ARN and dates", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(
      new CreateAliasCommand({ AliasName: "alias/my-app/key_1", TargetKeyId: KeyId }),
    );
    const { Aliases, Truncated } = await client.send(new ListAliasesCommand({ Limit: 100 }));
    assert.equal(Truncated, false);
    // Besides AWS's predefined aliases (alias/aws/..., tests/aws_managed_keys_test.ts), the one.
    const mine = Aliases!.filter((alias) => !alias.AliasName!.startsWith("alias/aws/"));
    assert.equal(mine.length, 1);
    const [a] = mine;
    assert.equal(a!.AliasName, "alias/my-app/key_1");
    assert.equal(a!.AliasArn, "arn:aws:kms:us-east-1:111122223333:alias/my-app/key_1");
    assert.equal(a!.TargetKeyId, KeyId);
    assert.ok(a!.CreationDate instanceof Date);
    assert.ok(a!.LastUpdatedDate instanceof Date);
    const enc = await client.send(
      new EncryptCommand({ KeyId: "alias/my-app/key_1", Plaintext: new Uint8Array([1]) }),
    );
    assert.match(enc.KeyId!, new RegExp(KeyId));
  }));

Deno.test("CreateAlias rejects a taken name, a missing prefix, the reserved alias/aws/ prefix and bad characters", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new CreateAliasCommand({ AliasName: "alias/taken", TargetKeyId: KeyId }));
    assert.equal(
      await errorName(
        client.send(new CreateAliasCommand({ AliasName: "alias/taken", TargetKeyId: KeyId })),
      ),
      "AlreadyExistsException",
    );
    assert.equal(
      await errorName(
        client.send(new CreateAliasCommand({ AliasName: "taken2", TargetKeyId: KeyId })),
      ),
      "ValidationException",
    );
    for (const AliasName of ["alias/aws/mine", "alias/"]) {
      assert.equal(
        await errorName(client.send(new CreateAliasCommand({ AliasName, TargetKeyId: KeyId }))),
        "InvalidAliasNameException",
        AliasName,
      );
    }
    assert.equal(
      await errorName(
        client.send(new CreateAliasCommand({ AliasName: "alias/sp ace", TargetKeyId: KeyId })),
      ),
      "ValidationException",
    );
    assert.equal(
      await errorName(
        client.send(
          new CreateAliasCommand({
            AliasName: "alias/x",
            TargetKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
          }),
        ),
      ),
      "NotFoundException",
    );
    assert.equal(
      await errorName(
        client.send(new CreateAliasCommand({ AliasName: "alias/y", TargetKeyId: "alias/taken" })),
      ),
      "ValidationException", // AWS: "Aliases must refer to keys. Not aliases"
    );
  }));

Deno.test("CreateAlias on a key pending deletion gives KMSInvalidStateException", () =>
  withServer(async ({ client }) => {
    const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    assert.equal(
      await errorName(
        client.send(new CreateAliasCommand({ AliasName: "alias/late", TargetKeyId: KeyId })),
      ),
      "KMSInvalidStateException",
    );
  }));

Deno.test("UpdateAlias points an alias at another key; DeleteAlias removes it", () =>
  withServer(async ({ client }) => {
    const a = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const b = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await client.send(new CreateAliasCommand({ AliasName: "alias/moving", TargetKeyId: a }));
    await client.send(new UpdateAliasCommand({ AliasName: "alias/moving", TargetKeyId: b }));
    const enc = await client.send(
      new EncryptCommand({ KeyId: "alias/moving", Plaintext: new Uint8Array([1]) }),
    );
    assert.match(enc.KeyId!, new RegExp(b));
    assert.equal(
      await errorName(
        client.send(new UpdateAliasCommand({ AliasName: "alias/none", TargetKeyId: b })),
      ),
      "NotFoundException",
    );
    await client.send(new DeleteAliasCommand({ AliasName: "alias/moving" }));
    assert.equal(
      await errorName(
        client.send(new EncryptCommand({ KeyId: "alias/moving", Plaintext: new Uint8Array([1]) })),
      ),
      "NotFoundException",
    );
    assert.equal(
      await errorName(client.send(new DeleteAliasCommand({ AliasName: "alias/moving" }))),
      "NotFoundException",
    );
  }));

Deno.test("ListAliases filters by KeyId and pages with Limit and Marker", () =>
  withServer(async ({ client }) => {
    const a = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
    const b = (await client.send(new CreateKeyCommand({}))).KeyMetadata!;
    for (const n of ["a1", "a2", "a3"]) {
      await client.send(new CreateAliasCommand({ AliasName: `alias/${n}`, TargetKeyId: a.KeyId }));
    }
    await client.send(new CreateAliasCommand({ AliasName: "alias/b1", TargetKeyId: b.KeyId }));
    const ofB = await client.send(new ListAliasesCommand({ KeyId: b.Arn }));
    assert.deepEqual(ofB.Aliases!.map((x) => x.AliasName), ["alias/b1"]);
    const names: string[] = [];
    let Marker: string | undefined;
    do {
      const r = await client.send(new ListAliasesCommand({ KeyId: a.KeyId, Limit: 2, Marker }));
      names.push(...r.Aliases!.map((x) => x.AliasName!));
      Marker = r.NextMarker;
      assert.equal(r.Truncated, Marker !== undefined);
    } while (Marker !== undefined);
    assert.deepEqual(names, ["alias/a1", "alias/a2", "alias/a3"]);
    assert.equal(
      await errorName(client.send(new ListAliasesCommand({ Marker: "zzz" }))),
      "InvalidMarkerException",
    );
  }));
