/**
 * The behaviour of SqlitePrincipalStore, run against `:memory:` and a
 * temporary file database.
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { type PrincipalRecord, roleArn, userArn } from "../core/principals.ts";
import { SecretBytes } from "../core/secret.ts";
import { openDatabase } from "./client.ts";
import { migrate } from "./migrate.ts";
import { SqlitePrincipalStore } from "./principal_store.ts";
import { RootKey } from "./legacy_root_key.ts";
import { SqliteStore } from "./sqlite_store.ts";

const ACCOUNT = "111122223333";
const OTHER = "444455556666";

const BACKENDS = [{ name: "memory", file: false }, { name: "file", file: true }];

async function withStore(
  file: boolean,
  fn: (s: { principals: SqlitePrincipalStore; store: SqliteStore; db: Client }) => Promise<void>,
): Promise<void> {
  const dir = file ? await Deno.makeTempDir({ prefix: "kms-principals-" }) : undefined;
  const db = await openDatabase(dir === undefined ? ":memory:" : `file:${dir}/kms.db`);
  await migrate(db);
  const store = new SqliteStore(db, await RootKey.fromBytes(new Uint8Array(32).fill(1)));
  try {
    await fn({ principals: new SqlitePrincipalStore(db), store, db });
  } finally {
    store.close();
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  }
}

function user(name: string, overrides: Partial<PrincipalRecord> = {}): PrincipalRecord {
  const accountId = overrides.accountId ?? ACCOUNT;
  const path = overrides.path ?? "/";
  return {
    arn: userArn(accountId, name, path),
    accountId,
    kind: "user",
    path,
    name,
    enabled: true,
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

for (const backend of BACKENDS) {
  const test = (name: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(`SqlitePrincipalStore (${backend.name}): ${name}`, async () => {
      await withStore(backend.file, fn);
    });

  test("upsertPrincipal inserts, then updates only the enabled state", async ({ principals }) => {
    const alice = user("alice", { path: "/team/" });
    await principals.upsertPrincipal(alice);
    assert.deepEqual(await principals.getPrincipal(alice.arn), alice);
    await principals.upsertPrincipal({ ...alice, enabled: false, createdAt: 5 });
    assert.deepEqual(await principals.getPrincipal(alice.arn), { ...alice, enabled: false });
  });

  test("getPrincipal synthesizes account roots and answers null for unknown ARNs", async ({ principals }) => {
    const root = await principals.getPrincipal(`arn:aws:iam::${OTHER}:root`);
    assert.equal(root?.kind, "root");
    assert.equal(root?.enabled, true);
    assert.equal(root?.accountId, OTHER);
    assert.equal(await principals.getPrincipal(userArn(ACCOUNT, "nobody")), null);
    assert.equal(await principals.getPrincipal("arn:aws:kms:us-east-1:111122223333:key/x"), null);
  });

  test("listPrincipals orders by ARN and filters by account", async ({ principals }) => {
    const app = { ...user("app"), kind: "role" as const, arn: roleArn(ACCOUNT, "app") };
    await principals.upsertPrincipal(user("bob"));
    await principals.upsertPrincipal(app);
    await principals.upsertPrincipal(user("carol", { accountId: OTHER }));
    assert.deepEqual(
      (await principals.listPrincipals()).map((p) => p.arn),
      [roleArn(ACCOUNT, "app"), userArn(ACCOUNT, "bob"), userArn(OTHER, "carol")],
    );
    assert.deepEqual((await principals.listPrincipals(OTHER)).map((p) => p.name), ["carol"]);
  });

  test("user names are unique per account whatever their case and path", async ({ principals }) => {
    await principals.upsertPrincipal(user("Dave"));
    await assert.rejects(principals.upsertPrincipal(user("dave", { path: "/x/" })));
    await principals.upsertPrincipal(user("dave", { accountId: OTHER }));
  });

  test("setPrincipalEnabled reports whether the principal exists", async ({ principals }) => {
    const erin = user("erin");
    await principals.upsertPrincipal(erin);
    assert.equal(await principals.setPrincipalEnabled(erin.arn, false), true);
    assert.equal((await principals.getPrincipal(erin.arn))?.enabled, false);
    assert.equal(await principals.setPrincipalEnabled(userArn(ACCOUNT, "ghost"), false), false);
  });

  test("identity policies: put, get, list, replace and delete", async ({ principals }) => {
    const frank = user("frank");
    await principals.upsertPrincipal(frank);
    await principals.putIdentityPolicy(frank.arn, "b", '{"v":1}');
    await principals.putIdentityPolicy(frank.arn, "a", '{"v":2}');
    await principals.putIdentityPolicy(frank.arn, "b", '{"v":3}');
    assert.deepEqual(await principals.listIdentityPolicies(frank.arn), [
      { name: "a", document: '{"v":2}' },
      { name: "b", document: '{"v":3}' },
    ]);
    assert.equal(await principals.getIdentityPolicy(frank.arn, "b"), '{"v":3}');
    assert.equal(await principals.getIdentityPolicy(frank.arn, "c"), null);
    await principals.replaceIdentityPolicies(frank.arn, [{ name: "c", document: "{}" }]);
    assert.deepEqual(await principals.listIdentityPolicies(frank.arn), [
      { name: "c", document: "{}" },
    ]);
    assert.equal(await principals.deleteIdentityPolicy(frank.arn, "c"), true);
    assert.equal(await principals.deleteIdentityPolicy(frank.arn, "c"), false);
    assert.deepEqual(await principals.listIdentityPolicies(frank.arn), []);
  });

  test("identity policies need an existing user or role", async ({ principals }) => {
    await assert.rejects(principals.putIdentityPolicy(userArn(ACCOUNT, "ghost"), "p", "{}"));
  });

  test("listAccessKeys lists keys without secrets, per principal or all", async ({ principals, store }) => {
    const gina = user("gina");
    await principals.upsertPrincipal(gina);
    for (
      const [id, arn] of [["AKIAGINA000000000002", gina.arn], [
        "AKIAGINA000000000001",
        gina.arn,
      ], ["AKIAROOT000000000001", `arn:aws:iam::${ACCOUNT}:root`]] as const
    ) {
      await store.putCredential({
        accessKeyId: id,
        secretAccessKey: new SecretBytes(new TextEncoder().encode("s".repeat(40))),
        accountId: ACCOUNT,
        principalArn: arn,
        enabled: true,
        createdAt: 7,
      });
    }
    await store.setCredentialEnabled("AKIAGINA000000000002", false);
    const keys = await principals.listAccessKeys(gina.arn);
    assert.deepEqual(keys, [
      {
        accessKeyId: "AKIAGINA000000000001",
        principalArn: gina.arn,
        accountId: ACCOUNT,
        enabled: true,
        createdAt: 7,
      },
      {
        accessKeyId: "AKIAGINA000000000002",
        principalArn: gina.arn,
        accountId: ACCOUNT,
        enabled: false,
        createdAt: 7,
      },
    ]);
    assert.equal((await principals.listAccessKeys()).length, 3);
    assert.ok(!JSON.stringify(await principals.listAccessKeys()).includes("s".repeat(40)));
  });

  test("identityOf gives state and policies; roots are enabled; unknown is null", async ({ principals }) => {
    const hank = user("hank");
    await principals.upsertPrincipal(hank);
    await principals.putIdentityPolicy(hank.arn, "p", "{}");
    assert.deepEqual(await principals.identityOf(hank.arn), {
      enabled: true,
      policies: [{ name: "p", document: "{}" }],
    });
    await principals.setPrincipalEnabled(hank.arn, false);
    assert.equal((await principals.identityOf(hank.arn))?.enabled, false);
    assert.deepEqual(await principals.identityOf(`arn:aws:iam::${OTHER}:root`), {
      enabled: true,
      policies: [],
    });
    assert.equal(await principals.identityOf(userArn(ACCOUNT, "ghost")), null);
    assert.equal(await principals.identityOf("not-an-arn"), null);
  });

  test("upsertPrincipal refuses account roots", async ({ principals }) => {
    await assert.rejects(
      principals.upsertPrincipal({ ...user("x"), kind: "root" }),
      /account roots are not stored/,
    );
  });
}
