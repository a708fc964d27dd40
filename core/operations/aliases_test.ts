/**
 * The alias family (core/operations/aliases.ts) in process: CreateAlias, UpdateAlias,
 * DeleteAlias and ListAliases on a KMS over `:memory:` (tests/helpers/in_process.ts). The HTTP
 * tests (tests/aliases_test.ts) keep the protocol.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PREDEFINED_AWS_ALIASES } from "../aws_managed_keys.ts";
import { rejectionOf, withInProcessKms } from "../../tests/helpers/in_process.ts";

Deno.test("an alias names its key for Encrypt and DescribeKey; UpdateAlias points it at another key", () =>
  withInProcessKms(async ({ call }) => {
    const first = (await call("CreateKey")).KeyMetadata.KeyId;
    const second = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("CreateAlias", { AliasName: "alias/app", TargetKeyId: first });
    const Plaintext = new TextEncoder().encode("x").toBase64();
    assert.equal(
      (await call("Encrypt", { KeyId: "alias/app", Plaintext })).KeyId.endsWith(first),
      true,
    );
    await call("UpdateAlias", { AliasName: "alias/app", TargetKeyId: second });
    assert.equal((await call("DescribeKey", { KeyId: "alias/app" })).KeyMetadata.KeyId, second);
  }));

Deno.test("CreateAlias of a name already taken is an AlreadyExistsException and keeps the first target", () =>
  withInProcessKms(async ({ call }) => {
    const first = (await call("CreateKey")).KeyMetadata.KeyId;
    const second = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("CreateAlias", { AliasName: "alias/taken", TargetKeyId: first });
    assert.equal(
      await rejectionOf(call("CreateAlias", { AliasName: "alias/taken", TargetKeyId: second })),
      "AlreadyExistsException",
    );
    assert.equal((await call("DescribeKey", { KeyId: "alias/taken" })).KeyMetadata.KeyId, first);
  }));

Deno.test("alias names without the alias/ prefix or in the reserved alias/aws/ space are refused and not created", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    assert.deepEqual(
      await failureOf(call("CreateAlias", { AliasName: "app", TargetKeyId: KeyId })),
      {
        name: "ValidationException",
        message: 'Alias must start with the prefix "alias/". ' +
          "Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
      },
    );
    assert.equal(
      await rejectionOf(call("CreateAlias", { AliasName: "alias/aws/mine", TargetKeyId: KeyId })),
      "InvalidAliasNameException",
    );
    assert.deepEqual((await call("ListAliases", { KeyId })).Aliases, []);
  }));

Deno.test("an alias cannot target an alias, by name or ARN: AWS's ValidationException, nothing created or changed", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("CreateAlias", { AliasName: "alias/first", TargetKeyId: KeyId });
    const firstArn = (await call("ListAliases", { KeyId })).Aliases[0].AliasArn;
    const refused = {
      name: "ValidationException",
      message: "Aliases must refer to keys. Not aliases",
    };
    for (const TargetKeyId of ["alias/first", firstArn]) {
      assert.deepEqual(
        await failureOf(call("CreateAlias", { AliasName: "alias/second", TargetKeyId })),
        refused,
        TargetKeyId,
      );
      assert.deepEqual(
        await failureOf(call("UpdateAlias", { AliasName: "alias/first", TargetKeyId })),
        refused,
        TargetKeyId,
      );
    }
    const aliases = (await call("ListAliases", { KeyId })).Aliases;
    assert.deepEqual(aliases.map((a: { AliasName: string }) => a.AliasName), ["alias/first"]);
    assert.equal(aliases[0].TargetKeyId, KeyId);
  }));

Deno.test("a KeyId that is no key id, ARN or alias is AWS's NotFoundException 'Invalid keyId x', unquoted", () =>
  withInProcessKms(async ({ call }) => {
    assert.deepEqual(await failureOf(call("DescribeKey", { KeyId: "not-a-key" })), {
      name: "NotFoundException",
      message: "Invalid keyId not-a-key",
    });
    await call("CreateAlias", {
      AliasName: "alias/named",
      TargetKeyId: (await call("CreateKey")).KeyMetadata.KeyId,
    });
    // An alias where only a key is taken (EnableKey takes no alias).
    assert.deepEqual(await failureOf(call("EnableKey", { KeyId: "alias/named" })), {
      name: "NotFoundException",
      message: "Invalid keyId alias/named",
    });
  }));

/** The error an operation rejects with, name and message. */
async function failureOf(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error("the call succeeded");
}

Deno.test("DeleteAlias removes the name and leaves the key; a deleted alias is not found", () =>
  withInProcessKms(async ({ call }) => {
    const KeyId = (await call("CreateKey")).KeyMetadata.KeyId;
    await call("CreateAlias", { AliasName: "alias/gone", TargetKeyId: KeyId });
    await call("DeleteAlias", { AliasName: "alias/gone" });
    assert.equal(
      await rejectionOf(call("DescribeKey", { KeyId: "alias/gone" })),
      "NotFoundException",
    );
    assert.equal(
      await rejectionOf(call("DeleteAlias", { AliasName: "alias/gone" })),
      "NotFoundException",
    );
    assert.equal((await call("DescribeKey", { KeyId })).KeyMetadata.KeyState, "Enabled");
  }));

Deno.test("ListAliases pages through every alias, AWS's predefined ones included, exactly once and filters by KeyId", () =>
  withInProcessKms(async ({ call }) => {
    const a = (await call("CreateKey")).KeyMetadata.KeyId;
    const b = (await call("CreateKey")).KeyMetadata.KeyId;
    const names = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const AliasName = `alias/page-${i}`;
      await call("CreateAlias", { AliasName, TargetKeyId: i < 3 ? a : b });
      names.add(AliasName);
    }
    const listed: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await call("ListAliases", { Limit: 2, ...(Marker ? { Marker } : {}) });
      assert.ok(page.Aliases.length <= 2);
      listed.push(...page.Aliases.map((alias: { AliasName: string }) => alias.AliasName));
      assert.equal(page.Truncated, page.NextMarker !== undefined);
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    assert.equal(listed.length, 5 + PREDEFINED_AWS_ALIASES.length);
    assert.deepEqual(new Set(listed), new Set([...names, ...PREDEFINED_AWS_ALIASES]));
    const ofB = (await call("ListAliases", { KeyId: b })).Aliases.map(
      (alias: { AliasName: string; TargetKeyId: string }) => [alias.AliasName, alias.TargetKeyId],
    );
    assert.deepEqual(ofB, [["alias/page-3", b], ["alias/page-4", b]]);
  }));
