import assert from "node:assert/strict";
import { ConfigError } from "./config.ts";
import {
  type IdentityPolicy,
  parsePrincipalArn,
  principalArn,
  type PrincipalRecord,
  type PrincipalStore,
  roleArn,
  rootPrincipal,
  userArn,
} from "./principals.ts";
import { loadPrincipalsFile, type PrincipalsFileDeps } from "./principals_file.ts";
import type { Credential } from "./types.ts";

Deno.test("userArn and roleArn format IAM ARNs with an optional path", () => {
  assert.equal(userArn("111122223333", "alice"), "arn:aws:iam::111122223333:user/alice");
  assert.equal(
    roleArn("111122223333", "app", "/service-role/"),
    "arn:aws:iam::111122223333:role/service-role/app",
  );
  assert.equal(principalArn("root", "444455556666"), "arn:aws:iam::444455556666:root");
  assert.equal(
    principalArn("user", "444455556666", { name: "bob", path: "/a/b/" }),
    "arn:aws:iam::444455556666:user/a/b/bob",
  );
});

Deno.test("parsePrincipalArn reads roots, users and roles with paths", () => {
  assert.deepEqual(parsePrincipalArn("arn:aws:iam::111122223333:root"), {
    accountId: "111122223333",
    kind: "root",
    path: "/",
    name: "root",
  });
  assert.deepEqual(parsePrincipalArn("arn:aws:iam::111122223333:user/alice"), {
    accountId: "111122223333",
    kind: "user",
    path: "/",
    name: "alice",
  });
  assert.deepEqual(parsePrincipalArn("arn:aws:iam::111122223333:role/a/b/my.app@x"), {
    accountId: "111122223333",
    kind: "role",
    path: "/a/b/",
    name: "my.app@x",
  });
});

Deno.test("parsePrincipalArn rejects what IAM would not issue", () => {
  for (
    const arn of [
      "arn:aws:iam::11112222333:root",
      "arn:aws:iam::111122223333:group/devs",
      "arn:aws:iam::111122223333:user/",
      "arn:aws:iam::111122223333:user/a/",
      "arn:aws:iam::111122223333:user//alice",
      "arn:aws:iam::111122223333:user/" + "x".repeat(65),
      "arn:aws:iam::111122223333:user/bad name",
      "arn:aws:sts::111122223333:assumed-role/app/session",
      "arn:aws:kms:us-east-1:111122223333:key/abc",
      "111122223333",
    ]
  ) {
    assert.equal(parsePrincipalArn(arn), null, arn);
  }
});

Deno.test("rootPrincipal is always enabled", () => {
  const root = rootPrincipal("444455556666");
  assert.equal(root.arn, "arn:aws:iam::444455556666:root");
  assert.equal(root.enabled, true);
});

/** In-memory stores, enough for the loader. */
function fakeDeps(validatePolicy: (text: string) => void = () => {}) {
  const principals = new Map<string, PrincipalRecord>();
  const policies = new Map<string, IdentityPolicy[]>();
  const credentials = new Map<string, Credential>();
  const store: Pick<
    PrincipalStore,
    "upsertPrincipal" | "listPrincipals" | "replaceIdentityPolicies"
  > = {
    upsertPrincipal(p) {
      const old = principals.get(p.arn);
      principals.set(p.arn, old === undefined ? p : { ...old, enabled: p.enabled });
      return Promise.resolve();
    },
    listPrincipals(accountId) {
      return Promise.resolve(
        [...principals.values()].filter((p) =>
          accountId === undefined || p.accountId === accountId
        ),
      );
    },
    replaceIdentityPolicies(arn, list) {
      policies.set(arn, [...list]);
      return Promise.resolve();
    },
  };
  const deps: PrincipalsFileDeps = {
    principals: store as PrincipalStore,
    credentials: {
      getCredential: (id) => Promise.resolve(credentials.get(id) ?? null),
      upsertCredential(c) {
        credentials.set(c.accessKeyId, c);
        return Promise.resolve();
      },
    },
    clock: { now: () => 1000 },
    validatePolicy,
  };
  return { deps, principals, policies, credentials };
}

const ALICE = {
  accountId: "444455556666",
  userName: "alice",
  accessKeyId: "AKIAALICE00000000001",
  secretAccessKey: "alice-secret-0000000000000000000000000000",
};

async function loadError(doc: unknown, deps = fakeDeps().deps): Promise<string> {
  const text = typeof doc === "string" ? doc : JSON.stringify(doc);
  const error = await loadPrincipalsFile(text, deps).then(() => null, (e) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  return error.message;
}

Deno.test("loadPrincipalsFile declares users, roles and roots with their keys", async () => {
  const { deps, principals, credentials, policies } = fakeDeps();
  const summary = await loadPrincipalsFile(
    JSON.stringify({
      principals: [
        { ...ALICE, path: "/team/", policies: { ReadOnly: { Version: "2012-10-17" } } },
        {
          accountId: "444455556666",
          roleName: "app",
          accessKeyId: "AKIAAPP0000000000001",
          secretAccessKey: "app-secret-00000000000000000000000000000",
          enabled: false,
        },
        {
          accountId: "777788889999",
          root: true,
          accessKeyId: "AKIAROOT000000000009",
          secretAccessKey: "root-secret-0000000000000000000000000000",
        },
      ],
    }),
    deps,
  );
  assert.deepEqual(summary, {
    principals: [
      "arn:aws:iam::444455556666:user/team/alice",
      "arn:aws:iam::444455556666:role/app",
      "arn:aws:iam::777788889999:root",
    ],
    accessKeys: 3,
    policies: 1,
  });
  assert.equal(principals.size, 2);
  assert.equal(principals.get("arn:aws:iam::444455556666:role/app")?.enabled, false);
  assert.deepEqual(policies.get("arn:aws:iam::444455556666:user/team/alice"), [
    { name: "ReadOnly", document: '{"Version":"2012-10-17"}' },
  ]);
  const root = credentials.get("AKIAROOT000000000009");
  assert.equal(root?.principalArn, "arn:aws:iam::777788889999:root");
  assert.equal(root?.accountId, "777788889999");
  assert.equal(credentials.get("AKIAAPP0000000000001")?.enabled, false);
});

Deno.test("loadPrincipalsFile names the entry and field at fault", async () => {
  const cases: [unknown, RegExp][] = [
    [
      { principals: [ALICE, { ...ALICE, accountId: "12" }] },
      /principals\[1\]\.accountId: must be 12 digits/,
    ],
    [
      { principals: [{ ...ALICE, accessKeyId: "short" }] },
      /principals\[0\]\.accessKeyId: must be 16 to 128/,
    ],
    [
      { principals: [{ ...ALICE, secretAccessKey: "has spaces in it 0000" }] },
      /principals\[0\]\.secretAccessKey: must be/,
    ],
    [{ principals: [{ ...ALICE, userName: "bad name" }] }, /principals\[0\]\.userName: must match/],
    [{ principals: [{ ...ALICE, path: "team" }] }, /principals\[0\]\.path: must be "\/"/],
    [
      { principals: [{ ...ALICE, roleName: "app" }] },
      /principals\[0\]: give exactly one of userName, roleName/,
    ],
    [{ principals: [{ ...ALICE, userName: undefined }] }, /principals\[0\]: give exactly one/],
    [
      { principals: [{ ...ALICE, secretAccessKey: undefined }] },
      /principals\[0\]\.secretAccessKey: is required/,
    ],
    [{ principals: [{ ...ALICE, extra: 1 }] }, /principals\[0\]: Unrecognized key: "extra"/],
    [{ principals: [{ ...ALICE, policies: { "bad name": {} } }] }, /policy names must match/],
    [
      { principals: [{ ...ALICE, policies: { p: 5 } }] },
      /principals\[0\]\.policies\.p: must be a policy document/,
    ],
    [
      { principals: [{ ...ALICE, userName: undefined, root: true, policies: {} }] },
      /an account root takes neither/,
    ],
    [
      { principals: [ALICE, { ...ALICE, accessKeyId: "AKIAALICE00000000002" }] },
      /principals\[1\]: the same principal as principals\[0\]/,
    ],
    [
      { principals: [ALICE, { ...ALICE, userName: "ALICE" }] },
      /principals\[1\]: the same principal/,
    ],
    [
      { principals: [ALICE, { ...ALICE, userName: "bob" }] },
      /principals\[1\]\.accessKeyId: also used by principals\[0\]/,
    ],
    [{ users: [] }, /principals: is required/],
    [[], /expected object/],
  ];
  for (const [doc, expected] of cases) {
    const message = await loadError(doc);
    assert.match(message, /^KMS_PRINCIPALS_FILE: /);
    assert.match(message, expected);
  }
});

Deno.test("loadPrincipalsFile never quotes a secret, even from broken JSON", async () => {
  const secret = "very-secret-value-0000000000000000000000";
  const broken = `{"principals":[{"secretAccessKey":"${secret}" "x"}]}`;
  const message = await loadError(broken);
  assert.match(message, /not valid JSON \(at position \d+/);
  assert.ok(!message.includes(secret));
  assert.ok(!(await loadError(`${secret}`)).includes(secret));
  assert.ok(
    !(await loadError({ principals: [{ ...ALICE, secretAccessKey: "x y" + secret }] })).includes(
      secret,
    ),
  );
});

Deno.test("loadPrincipalsFile reports policy errors with their entry and name", async () => {
  const { deps } = fakeDeps((text) => {
    if (text.includes("Bad")) throw new Error("Policy contains a statement with no Effect");
  });
  const message = await loadError(
    { principals: [{ ...ALICE, policies: { Ok: {}, Broken: { Bad: 1 } } }] },
    deps,
  );
  assert.equal(
    message,
    "KMS_PRINCIPALS_FILE: principals[0].policies.Broken: Policy contains a statement with no Effect",
  );
});

Deno.test("loadPrincipalsFile writes nothing when any entry is wrong", async () => {
  const { deps, principals, credentials } = fakeDeps();
  await loadError({ principals: [ALICE, { ...ALICE, userName: "bob", accountId: "x" }] }, deps);
  assert.equal(principals.size, 0);
  assert.equal(credentials.size, 0);
});

Deno.test("loadPrincipalsFile refuses to move an access key to another principal", async () => {
  const { deps } = fakeDeps();
  await loadPrincipalsFile(JSON.stringify({ principals: [ALICE] }), deps);
  const message = await loadError({ principals: [{ ...ALICE, userName: "bob" }] }, deps);
  assert.match(
    message,
    /principals\[0\]\.accessKeyId: AKIAALICE00000000001 already belongs to arn:aws:iam::444455556666:user\/alice/,
  );
});

Deno.test("loadPrincipalsFile refuses a second principal of the same name under another path", async () => {
  const { deps } = fakeDeps();
  await loadPrincipalsFile(JSON.stringify({ principals: [ALICE] }), deps);
  const message = await loadError(
    { principals: [{ ...ALICE, path: "/x/", accessKeyId: "AKIAALICE00000000009" }] },
    deps,
  );
  assert.match(message, /user alice already exists as arn:aws:iam::444455556666:user\/alice/);
});
