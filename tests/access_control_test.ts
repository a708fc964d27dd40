/**
 * Access control end to end through the AWS SDK: principals from
 * KMS_PRINCIPALS_FILE, key policies, identity policies, grants and
 * cross-account use, each decision as AWS makes it.
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { ACCOUNT_ID, errorName, REGION, startServer, type TestServer } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

const OTHER_ACCOUNT = "444455556666";
const BOB = {
  accessKeyId: "AKIABOBTEST000000001",
  secretAccessKey: "bob-secret-access-key-000000000000000000",
};
const BOB_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/bob`;
const CAROL = {
  accessKeyId: "AKIACAROLTEST0000001",
  secretAccessKey: "carol-secret-access-key-0000000000000000",
};
const CAROL_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/carol`;
const DAVE = {
  accessKeyId: "AKIADAVETEST00000001",
  secretAccessKey: "dave-secret-access-key-00000000000000000",
};
const DAVE_ARN = `arn:aws:iam::${OTHER_ACCOUNT}:user/dave`;
const OTHER_ROOT = {
  accessKeyId: "AKIAOTHERROOT0000001",
  secretAccessKey: "other-root-secret-access-key-0000000000",
};

const ALLOW_ALL_KMS = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }],
};

/** bob: no identity policy; carol: identity policy allowing kms:*; dave: another account's user with kms:*. */
const PRINCIPALS = {
  principals: [
    { accountId: ACCOUNT_ID, userName: "bob", ...BOB },
    { accountId: ACCOUNT_ID, userName: "carol", ...CAROL, policies: { kms: ALLOW_ALL_KMS } },
    { accountId: OTHER_ACCOUNT, userName: "dave", ...DAVE, policies: { kms: ALLOW_ALL_KMS } },
    { accountId: OTHER_ACCOUNT, root: true, ...OTHER_ROOT },
  ],
};

interface World {
  server: TestServer;
  admin: KMSClient;
  bob: KMSClient;
  carol: KMSClient;
  dave: KMSClient;
  otherRoot: KMSClient;
}

async function withWorld(fn: (world: World) => Promise<void>, dbUrl?: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-principals-" });
  const file = `${dir}/principals.json`;
  await Deno.writeTextFile(file, JSON.stringify(PRINCIPALS));
  const server = await startServer({
    env: { KMS_PRINCIPALS_FILE: file },
    ...(dbUrl === undefined ? {} : { dbUrl }),
  });
  try {
    await fn({
      server,
      admin: server.client,
      bob: server.clientFor(BOB),
      carol: server.clientFor(CAROL),
      dave: server.clientFor(DAVE),
      otherRoot: server.clientFor(OTHER_ROOT),
    });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function newKey(client: KMSClient, policy?: object): Promise<{ id: string; arn: string }> {
  const meta = (await client.send(
    new CreateKeyCommand(policy === undefined ? {} : { Policy: JSON.stringify(policy) }),
  )).KeyMetadata!;
  return { id: meta.KeyId!, arn: meta.Arn! };
}

function keyPolicy(...statements: object[]): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      ...statements,
    ],
  };
}

const CONTEXT = { purpose: "done-means" };

Deno.test("a second principal without a grant is denied every cryptographic operation", () =>
  withWorld(async ({ admin, bob }) => {
    const key = await newKey(admin);
    const blob = (await admin.send(
      new EncryptCommand({ KeyId: key.id, Plaintext: new Uint8Array([1]) }),
    )).CiphertextBlob!;
    const calls: [string, () => Promise<unknown>][] = [
      [
        "Encrypt",
        () => bob.send(new EncryptCommand({ KeyId: key.id, Plaintext: new Uint8Array(1) })),
      ],
      ["Decrypt", () => bob.send(new DecryptCommand({ CiphertextBlob: blob }))],
      [
        "ReEncrypt",
        () => bob.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: key.id })),
      ],
      [
        "GenerateDataKey",
        () => bob.send(new GenerateDataKeyCommand({ KeyId: key.id, NumberOfBytes: 32 })),
      ],
      [
        "GenerateDataKeyWithoutPlaintext",
        () =>
          bob.send(
            new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.id, KeySpec: "AES_256" }),
          ),
      ],
      [
        "GenerateDataKeyPair",
        () =>
          bob.send(new GenerateDataKeyPairCommand({ KeyId: key.id, KeyPairSpec: "ECC_NIST_P256" })),
      ],
      ["GenerateDataKeyPairWithoutPlaintext", () =>
        bob.send(
          new GenerateDataKeyPairWithoutPlaintextCommand({
            KeyId: key.id,
            KeyPairSpec: "ECC_NIST_P256",
          }),
        )],
      ["DescribeKey", () => bob.send(new DescribeKeyCommand({ KeyId: key.id }))],
      ["CreateKey", () => bob.send(new CreateKeyCommand({}))],
    ];
    for (const [name, call] of calls) {
      assert.equal(await errorName(call()), "AccessDeniedException", name);
    }
  }));

Deno.test("a grant for GenerateDataKeyPair and Decrypt allows exactly those, under its constraint, until retired", () =>
  withWorld(async ({ admin, bob }) => {
    const key = await newKey(admin);
    const { GrantToken, GrantId } = await admin.send(
      new CreateGrantCommand({
        KeyId: key.arn,
        GranteePrincipal: BOB_ARN,
        RetiringPrincipal: BOB_ARN,
        Operations: ["GenerateDataKeyPair", "Decrypt"],
        Constraints: { EncryptionContextSubset: CONTEXT },
      }),
    );
    assert.match(GrantId!, /^[0-9a-f]{64}$/);
    const pair = await bob.send(
      new GenerateDataKeyPairCommand({
        KeyId: key.id,
        KeyPairSpec: "ECC_NIST_P256",
        EncryptionContext: CONTEXT,
        GrantTokens: [GrantToken!],
      }),
    );
    const opened = await bob.send(
      new DecryptCommand({
        CiphertextBlob: pair.PrivateKeyCiphertextBlob,
        EncryptionContext: CONTEXT,
      }),
    );
    assert.deepEqual(opened.Plaintext, pair.PrivateKeyPlaintext);
    const denied: [string, () => Promise<unknown>][] = [
      [
        "GDKP without the context",
        () =>
          bob.send(new GenerateDataKeyPairCommand({ KeyId: key.id, KeyPairSpec: "ECC_NIST_P256" })),
      ],
      ["GDKP with another context", () =>
        bob.send(
          new GenerateDataKeyPairCommand({
            KeyId: key.id,
            KeyPairSpec: "ECC_NIST_P256",
            EncryptionContext: { purpose: "other" },
          }),
        )],
      ["GDKP without plaintext", () =>
        bob.send(
          new GenerateDataKeyPairWithoutPlaintextCommand({
            KeyId: key.id,
            KeyPairSpec: "ECC_NIST_P256",
            EncryptionContext: CONTEXT,
          }),
        )],
      ["Encrypt", () =>
        bob.send(
          new EncryptCommand({
            KeyId: key.id,
            Plaintext: new Uint8Array(1),
            EncryptionContext: CONTEXT,
          }),
        )],
      ["GenerateDataKey", () =>
        bob.send(
          new GenerateDataKeyCommand({
            KeyId: key.id,
            NumberOfBytes: 16,
            EncryptionContext: CONTEXT,
          }),
        )],
      ["DescribeKey", () => bob.send(new DescribeKeyCommand({ KeyId: key.id }))],
    ];
    for (const [name, call] of denied) {
      assert.equal(await errorName(call()), "AccessDeniedException", name);
    }
    await bob.send(new RetireGrantCommand({ GrantToken }));
    assert.equal(
      await errorName(
        bob.send(
          new GenerateDataKeyPairCommand({
            KeyId: key.id,
            KeyPairSpec: "ECC_NIST_P256",
            EncryptionContext: CONTEXT,
          }),
        ),
      ),
      "AccessDeniedException",
    );
    assert.equal(
      await errorName(
        bob.send(
          new DecryptCommand({
            CiphertextBlob: pair.PrivateKeyCiphertextBlob,
            EncryptionContext: CONTEXT,
          }),
        ),
      ),
      "AccessDeniedException",
    );
  }));

Deno.test("64 parallel CreateGrant calls with one Name yield exactly one GrantId", () =>
  withWorld(async ({ admin }) => {
    const key = await newKey(admin);
    const results = await Promise.all(
      Array.from({ length: 64 }, () =>
        admin.send(
          new CreateGrantCommand({
            KeyId: key.id,
            GranteePrincipal: BOB_ARN,
            Operations: ["Decrypt"],
            Name: "one-grant",
          }),
        )),
    );
    assert.equal(new Set(results.map((r) => r.GrantId)).size, 1);
    assert.equal(new Set(results.map((r) => r.GrantToken)).size, 64, "every token is new");
    const listed = await admin.send(new ListGrantsCommand({ KeyId: key.id }));
    assert.equal(listed.Grants!.length, 1);
    assert.equal(listed.Grants![0]!.Name, "one-grant");
    assert.equal(listed.Grants![0]!.IssuingAccount, `arn:aws:iam::${ACCOUNT_ID}:root`);
  }));

Deno.test("a grantee with CreateGrant cannot create a wider grant", () =>
  withWorld(async ({ admin, bob }) => {
    const key = await newKey(admin);
    const { GrantToken } = await admin.send(
      new CreateGrantCommand({
        KeyId: key.id,
        GranteePrincipal: BOB_ARN,
        Operations: ["Decrypt", "CreateGrant"],
        Constraints: { EncryptionContextSubset: { tenant: "a" } },
      }),
    );
    const child = (operations: ("Decrypt" | "Encrypt")[], constraints?: object) =>
      bob.send(
        new CreateGrantCommand({
          KeyId: key.arn,
          GranteePrincipal: CAROL_ARN,
          Operations: operations,
          GrantTokens: [GrantToken!],
          ...(constraints === undefined ? {} : { Constraints: constraints }),
        }),
      );
    assert.equal(
      await errorName(child(["Encrypt"], { EncryptionContextSubset: { tenant: "a" } })),
      "AccessDeniedException",
    );
    assert.equal(await errorName(child(["Decrypt"])), "AccessDeniedException");
    assert.equal(
      await errorName(child(["Decrypt"], { EncryptionContextSubset: { tenant: "b" } })),
      "AccessDeniedException",
    );
    const ok = await child(["Decrypt"], { EncryptionContextEquals: { tenant: "a", app: "x" } });
    assert.match(ok.GrantId!, /^[0-9a-f]{64}$/);
  }));

Deno.test("a revoked grant stops working at once and stays revoked after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-revoke-" });
  const dbUrl = `file:${dir}/kms.db`;
  let keyId = "";
  let grantId = "";
  try {
    await withWorld(async ({ admin, bob }) => {
      keyId = (await newKey(admin)).id;
      const grant = await admin.send(
        new CreateGrantCommand({
          KeyId: keyId,
          GranteePrincipal: BOB_ARN,
          Operations: ["Encrypt"],
        }),
      );
      grantId = grant.GrantId!;
      await bob.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) }));
      await admin.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: grantId }));
      assert.equal(
        await errorName(
          bob.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) })),
        ),
        "AccessDeniedException",
      );
    }, dbUrl);
    await withWorld(async ({ admin, bob }) => {
      assert.deepEqual((await admin.send(new ListGrantsCommand({ KeyId: keyId }))).Grants, []);
      assert.equal(
        await errorName(
          bob.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) })),
        ),
        "AccessDeniedException",
      );
      assert.equal(
        await errorName(admin.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: grantId }))),
        "NotFoundException",
      );
    }, dbUrl);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an invalid grant token is InvalidGrantTokenException", () =>
  withWorld(async ({ admin }) => {
    const key = await newKey(admin);
    assert.equal(
      await errorName(
        admin.send(
          new EncryptCommand({
            KeyId: key.id,
            Plaintext: new Uint8Array(1),
            GrantTokens: ["not-a-grant-token"],
          }),
        ),
      ),
      "InvalidGrantTokenException",
    );
  }));

Deno.test("CreateGrant refuses operations the key does not support and constraints on asymmetric keys", () =>
  withWorld(async ({ admin }) => {
    const key = await newKey(admin);
    assert.equal(
      await errorName(
        admin.send(
          new CreateGrantCommand({
            KeyId: key.id,
            GranteePrincipal: BOB_ARN,
            Operations: ["Sign"],
          }),
        ),
      ),
      "ValidationException",
    );
    const signing = (await admin.send(
      new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }),
    )).KeyMetadata!.KeyId!;
    assert.equal(
      await errorName(
        admin.send(
          new CreateGrantCommand({
            KeyId: signing,
            GranteePrincipal: BOB_ARN,
            Operations: ["Sign"],
            Constraints: { EncryptionContextEquals: { a: "b" } },
          }),
        ),
      ),
      "ValidationException",
    );
    assert.deepEqual((await admin.send(new ListGrantsCommand({ KeyId: key.id }))).Grants, []);
  }));

Deno.test("DryRun on CreateGrant, RetireGrant and RevokeGrant changes nothing", () =>
  withWorld(async ({ admin }) => {
    const key = await newKey(admin);
    assert.equal(
      await errorName(
        admin.send(
          new CreateGrantCommand({
            KeyId: key.id,
            GranteePrincipal: BOB_ARN,
            Operations: ["Decrypt"],
            DryRun: true,
          }),
        ),
      ),
      "DryRunOperationException",
    );
    assert.deepEqual((await admin.send(new ListGrantsCommand({ KeyId: key.id }))).Grants, []);
    const { GrantId, GrantToken } = await admin.send(
      new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: BOB_ARN, Operations: ["Decrypt"] }),
    );
    assert.equal(
      await errorName(admin.send(new RevokeGrantCommand({ KeyId: key.id, GrantId, DryRun: true }))),
      "DryRunOperationException",
    );
    assert.equal(
      await errorName(admin.send(new RetireGrantCommand({ GrantToken, DryRun: true }))),
      "DryRunOperationException",
    );
    assert.equal((await admin.send(new ListGrantsCommand({ KeyId: key.id }))).Grants!.length, 1);
  }));

Deno.test("ListRetirableGrants lists a retiring principal's grants; the grantee retires by key and grant id", () =>
  withWorld(async ({ admin, carol }) => {
    const key = await newKey(admin);
    const { GrantId } = await admin.send(
      new CreateGrantCommand({
        KeyId: key.id,
        GranteePrincipal: BOB_ARN,
        RetiringPrincipal: CAROL_ARN,
        Operations: ["Decrypt"],
      }),
    );
    const listed = await carol.send(
      new ListRetirableGrantsCommand({ RetiringPrincipal: CAROL_ARN }),
    );
    assert.deepEqual(listed.Grants!.map((g) => g.GrantId), [GrantId]);
    assert.equal(listed.Grants![0]!.KeyId, key.arn);
    await carol.send(new RetireGrantCommand({ KeyId: key.arn, GrantId }));
    assert.deepEqual((await admin.send(new ListGrantsCommand({ KeyId: key.id }))).Grants, []);
  }));

Deno.test("an identity policy allows a same-account user when the key policy delegates to the account", () =>
  withWorld(async ({ admin, carol, bob }) => {
    const key = await newKey(admin);
    await carol.send(new EncryptCommand({ KeyId: key.id, Plaintext: new Uint8Array(1) }));
    const own = await newKey(carol);
    assert.ok(own.arn.includes(`:${ACCOUNT_ID}:key/`));
    const restrictive = await newKey(admin, {
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
        Action: "kms:*",
        Resource: "*",
      }, {
        Effect: "Deny",
        Principal: { AWS: CAROL_ARN },
        Action: "kms:Encrypt",
        Resource: "*",
      }],
    });
    assert.equal(
      await errorName(
        carol.send(new EncryptCommand({ KeyId: restrictive.id, Plaintext: new Uint8Array(1) })),
      ),
      "AccessDeniedException",
    );
    const direct = await newKey(
      admin,
      keyPolicy({
        Effect: "Allow",
        Principal: { AWS: BOB_ARN },
        Action: ["kms:Encrypt", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "kms:EncryptionContext:purpose": "direct" } },
      }),
    );
    await bob.send(
      new EncryptCommand({
        KeyId: direct.id,
        Plaintext: new Uint8Array(1),
        EncryptionContext: { purpose: "direct" },
      }),
    );
    assert.equal(
      await errorName(
        bob.send(new EncryptCommand({ KeyId: direct.id, Plaintext: new Uint8Array(1) })),
      ),
      "AccessDeniedException",
    );
  }));

Deno.test("PutKeyPolicy: lockout check, bypass, GetKeyPolicy and ListKeyPolicies", () =>
  withWorld(async ({ admin }) => {
    const key = await newKey(admin);
    const defaultPolicy = JSON.parse(
      (await admin.send(new GetKeyPolicyCommand({ KeyId: key.id, PolicyName: "default" }))).Policy!,
    );
    assert.equal(defaultPolicy.Statement[0].Principal.AWS, `arn:aws:iam::${ACCOUNT_ID}:root`);
    assert.deepEqual(
      (await admin.send(new ListKeyPoliciesCommand({ KeyId: key.id }))).PolicyNames,
      ["default"],
    );
    const lockout = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: BOB_ARN }, Action: "kms:*", Resource: "*" }],
    });
    assert.equal(
      await errorName(admin.send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: lockout }))),
      "MalformedPolicyDocumentException",
    );
    assert.equal(
      await errorName(admin.send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: "{not json" }))),
      "MalformedPolicyDocumentException",
    );
    assert.deepEqual(
      JSON.parse((await admin.send(new GetKeyPolicyCommand({ KeyId: key.id }))).Policy!),
      defaultPolicy,
      "a refused policy changes nothing",
    );
    await admin.send(
      new PutKeyPolicyCommand({
        KeyId: key.id,
        Policy: lockout,
        BypassPolicyLockoutSafetyCheck: true,
      }),
    );
    assert.equal(
      await errorName(admin.send(new DescribeKeyCommand({ KeyId: key.id }))),
      "AccessDeniedException",
    );
  }));

Deno.test("another account uses a shared key by key ARN or alias ARN, never by bare id or alias name", () =>
  withWorld(async ({ admin, dave, otherRoot }) => {
    const key = await newKey(
      admin,
      keyPolicy({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` },
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
        Resource: "*",
      }),
    );
    await admin.send(new CreateAliasCommand({ AliasName: "alias/shared", TargetKeyId: key.id }));
    const aliasArn = `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/shared`;
    for (const client of [dave, otherRoot]) {
      const blob = (await client.send(
        new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array([7]) }),
      )).CiphertextBlob!;
      assert.deepEqual(
        (await client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext,
        new Uint8Array([7]),
      );
      await client.send(new GenerateDataKeyCommand({ KeyId: aliasArn, NumberOfBytes: 16 }));
      assert.equal(
        await errorName(
          client.send(new EncryptCommand({ KeyId: key.id, Plaintext: new Uint8Array(1) })),
        ),
        "NotFoundException",
      );
      assert.equal(
        await errorName(
          client.send(new EncryptCommand({ KeyId: "alias/shared", Plaintext: new Uint8Array(1) })),
        ),
        "NotFoundException",
      );
      assert.equal(
        await errorName(client.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn }))),
        "AccessDeniedException",
      );
    }
    assert.equal(
      (await admin.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!.KeyState,
      "Enabled",
    );
  }));

Deno.test("another account gets the same AccessDeniedException for a missing key as for a key it may not use", () =>
  withWorld(async ({ admin, dave }) => {
    const key = await newKey(admin);
    const missing = key.arn.replace(/key\/.*/, "key/00000000-0000-4000-8000-000000000000");
    const messages: string[] = [];
    for (const KeyId of [key.arn, missing]) {
      try {
        await dave.send(new DescribeKeyCommand({ KeyId }));
        assert.fail("expected AccessDeniedException");
      } catch (error) {
        assert.equal((error as Error).name, "AccessDeniedException");
        messages.push((error as Error).message.replace(KeyId, "<key>"));
      }
    }
    assert.equal(messages[0], messages[1]);
  }));

Deno.test("a denied call changes nothing", () =>
  withWorld(async ({ admin, bob }) => {
    const key = await newKey(admin);
    assert.equal(
      await errorName(bob.send(new ScheduleKeyDeletionCommand({ KeyId: key.id }))),
      "AccessDeniedException",
    );
    assert.equal(
      await errorName(
        bob.send(new CreateAliasCommand({ AliasName: "alias/bob", TargetKeyId: key.id })),
      ),
      "AccessDeniedException",
    );
    assert.equal(
      await errorName(
        bob.send(
          new CreateGrantCommand({
            KeyId: key.id,
            GranteePrincipal: BOB_ARN,
            Operations: ["Decrypt"],
          }),
        ),
      ),
      "AccessDeniedException",
    );
    assert.equal(
      (await admin.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!.KeyState,
      "Enabled",
    );
    assert.deepEqual((await admin.send(new ListAliasesCommand({ KeyId: key.id }))).Aliases, []);
    assert.deepEqual((await admin.send(new ListGrantsCommand({ KeyId: key.id }))).Grants, []);
  }));

Deno.test("a grant lets another account's user use a key its key policy does not share", () =>
  withWorld(async ({ admin, dave }) => {
    const key = await newKey(admin);
    assert.equal(
      await errorName(
        dave.send(new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array(1) })),
      ),
      "AccessDeniedException",
    );
    await admin.send(
      new CreateGrantCommand({
        KeyId: key.id,
        GranteePrincipal: DAVE_ARN,
        Operations: ["Encrypt"],
      }),
    );
    await dave.send(new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array(1) }));
    assert.equal(
      await errorName(dave.send(new DecryptCommand({ CiphertextBlob: new Uint8Array(8) }))),
      "InvalidCiphertextException",
    );
  }));

Deno.test("a key policy may not name a principal that does not exist", () =>
  withWorld(async ({ admin }) => {
    const policy = JSON.stringify(keyPolicy({
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/nobody` },
      Action: "kms:Encrypt",
      Resource: "*",
    }));
    assert.equal(
      await errorName(admin.send(new CreateKeyCommand({ Policy: policy }))),
      "MalformedPolicyDocumentException",
    );
  }));

Deno.test("a grant revoked through one instance stops working on another within a second", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-two-instances-" });
  const dbUrl = `file:${dir}/kms.db`;
  try {
    await withWorld(async ({ admin }) => {
      await withWorld(async ({ bob }) => {
        const keyId = (await newKey(admin)).id;
        const { GrantId } = await admin.send(
          new CreateGrantCommand({
            KeyId: keyId,
            GranteePrincipal: BOB_ARN,
            Operations: ["Encrypt"],
          }),
        );
        await bob.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) }));
        await admin.send(new RevokeGrantCommand({ KeyId: keyId, GrantId }));
        // Other instances trust a revocation they have not seen for at most 1 s.
        await waitFor(
          async () =>
            await bob.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(1) }))
              .then(() => "ok", (e) => e.name) === "AccessDeniedException",
          "the other instance to deny the revoked grant",
        );
      }, dbUrl);
    }, dbUrl);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
