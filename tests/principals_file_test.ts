/**
 * KMS_PRINCIPALS_FILE against a real (temporary file) database: idempotent
 * loading, secret and policy updates, refusals, secrets only ever stored
 * wrapped, and file-declared keys that authenticate over SigV4.
 */
import assert from "node:assert/strict";
import { ListKeysCommand } from "@aws-sdk/client-kms";
import { parsePolicy } from "../core/access/policy.ts";
import { ConfigError } from "../core/config.ts";
import { loadPrincipalsFile, type PrincipalsFileDeps } from "../core/principals_file.ts";
import { openDatabase } from "../storage/client.ts";
import { migrate } from "../storage/migrate.ts";
import { SqlitePrincipalStore } from "../storage/principal_store.ts";
import { RootKey } from "../storage/legacy_root_key.ts";
import { SqliteStore } from "../storage/sqlite_store.ts";
import { errorName, startServer } from "./helpers/server.ts";

const ROOT_KEY = new Uint8Array(32).fill(9);
const ALICE = {
  accountId: "444455556666",
  userName: "alice",
  accessKeyId: "AKIAALICEFILE0000001",
  secretAccessKey: "alice-first-secret-000000000000000000000",
};
const APP = {
  accountId: "444455556666",
  roleName: "app",
  path: "/service-role/",
  accessKeyId: "AKIAAPPFILE000000001",
  secretAccessKey: "app-secret-0000000000000000000000000000",
  policies: {
    Decrypt: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }],
    },
  },
};
const ROOT_2 = {
  accountId: "777788889999",
  root: true,
  accessKeyId: "AKIAROOTFILE00000001",
  secretAccessKey: "root-secret-000000000000000000000000000",
};

/** The SDK writes into the credentials object it is given: hand it a copy. */
function keyOf(entry: { accessKeyId: string; secretAccessKey: string }) {
  return { accessKeyId: entry.accessKeyId, secretAccessKey: entry.secretAccessKey };
}

function validatePolicy(text: string): void {
  parsePolicy(text, "identity");
}

async function withDatabase(
  fn: (t: {
    deps: PrincipalsFileDeps;
    store: SqliteStore;
    principals: SqlitePrincipalStore;
    dir: string;
    load(doc: unknown): ReturnType<typeof loadPrincipalsFile>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-principals-file-" });
  const db = await openDatabase(`file:${dir}/kms.db`);
  await migrate(db);
  const store = new SqliteStore(db, await RootKey.fromBytes(ROOT_KEY.slice()));
  const principals = new SqlitePrincipalStore(db);
  const deps: PrincipalsFileDeps = {
    principals,
    credentials: store,
    clock: { now: () => 1_700_000_000_000 },
    validatePolicy,
  };
  try {
    await fn({
      deps,
      store,
      principals,
      dir,
      load: (doc) => loadPrincipalsFile(JSON.stringify(doc), deps),
    });
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const secretOf = async (store: SqliteStore, id: string) =>
  new TextDecoder().decode((await store.getCredential(id))!.secretAccessKey.expose());

Deno.test("KMS_PRINCIPALS_FILE: loading twice gives the same principals, keys and policies", () =>
  withDatabase(async ({ principals, store, load }) => {
    const doc = { principals: [ALICE, APP, ROOT_2] };
    const first = await load(doc);
    const snapshot = async () => ({
      principals: await principals.listPrincipals(),
      keys: await principals.listAccessKeys(),
      policies: await principals.listIdentityPolicies(
        "arn:aws:iam::444455556666:role/service-role/app",
      ),
    });
    const before = await snapshot();
    assert.deepEqual(await load(doc), first);
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual(first.principals, [
      "arn:aws:iam::444455556666:user/alice",
      "arn:aws:iam::444455556666:role/service-role/app",
      "arn:aws:iam::777788889999:root",
    ]);
    assert.equal(before.principals.length, 2);
    assert.equal(before.keys.length, 3);
    assert.deepEqual(before.policies.map((p) => p.name), ["Decrypt"]);
    assert.equal(await secretOf(store, ALICE.accessKeyId), ALICE.secretAccessKey);
    const root = await store.getCredential(ROOT_2.accessKeyId);
    assert.equal(root?.accountId, "777788889999");
    assert.equal(root?.principalArn, "arn:aws:iam::777788889999:root");
  }));

Deno.test("KMS_PRINCIPALS_FILE: a changed secret replaces the stored one", () =>
  withDatabase(async ({ store, load }) => {
    await load({ principals: [ALICE] });
    const second = "alice-second-secret-00000000000000000000";
    await load({ principals: [{ ...ALICE, secretAccessKey: second }] });
    assert.equal(await secretOf(store, ALICE.accessKeyId), second);
  }));

Deno.test("KMS_PRINCIPALS_FILE: the file's policies replace the principal's set", () =>
  withDatabase(async ({ principals, load }) => {
    const arn = "arn:aws:iam::444455556666:role/service-role/app";
    await load({ principals: [APP] });
    await principals.putIdentityPolicy(arn, "AddedByHand", '{"Statement":[]}');
    const other = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "kms:*", Resource: "*" }],
    };
    await load({ principals: [{ ...APP, policies: { Other: other } }] });
    assert.deepEqual(await principals.listIdentityPolicies(arn), [
      { name: "Other", document: JSON.stringify(other) },
    ]);
    await load({ principals: [{ ...APP, policies: undefined }] });
    assert.deepEqual(await principals.listIdentityPolicies(arn), []);
  }));

Deno.test("KMS_PRINCIPALS_FILE: enabled false disables principal and key; reloading re-enables", () =>
  withDatabase(async ({ principals, store, load }) => {
    await load({ principals: [{ ...ALICE, enabled: false }] });
    const arn = "arn:aws:iam::444455556666:user/alice";
    assert.equal((await principals.getPrincipal(arn))?.enabled, false);
    assert.equal((await store.getCredential(ALICE.accessKeyId))?.enabled, false);
    await load({ principals: [ALICE] });
    assert.equal((await principals.getPrincipal(arn))?.enabled, true);
    assert.equal((await store.getCredential(ALICE.accessKeyId))?.enabled, true);
  }));

Deno.test("KMS_PRINCIPALS_FILE: bad entries are refused with the entry, field and reason", () =>
  withDatabase(async ({ principals, load }) => {
    const cases: [unknown, string][] = [
      [
        { principals: [ALICE, APP, { ...ROOT_2, accessKeyId: "AKIA-BAD" }] },
        "KMS_PRINCIPALS_FILE: principals[2].accessKeyId: must be 16 to 128 letters, digits or " +
        "underscores (AWS form: AKIA and 16 more)",
      ],
      [
        { principals: [{ ...APP, policies: { Broken: { Version: "2012-10-17" } } }] },
        "KMS_PRINCIPALS_FILE: principals[0].policies.Broken: " +
        "Policy is missing the required Statement element.",
      ],
      [
        { principals: [ALICE, { ...ALICE, userName: "bob" }] },
        "KMS_PRINCIPALS_FILE: principals[1].accessKeyId: also used by principals[0]",
      ],
      [
        { principals: [{ ...ALICE, userName: "alice", roleName: "alice" }] },
        'KMS_PRINCIPALS_FILE: principals[0]: give exactly one of userName, roleName or "root": true',
      ],
    ];
    for (const [doc, message] of cases) {
      await assert.rejects(load(doc), (e) => e instanceof ConfigError && e.message === message);
    }
    assert.deepEqual(await principals.listPrincipals(), []);
    assert.deepEqual(await principals.listAccessKeys(), []);
  }));

Deno.test("KMS_PRINCIPALS_FILE: secrets reach the database only wrapped under the root key", () =>
  withDatabase(async ({ store, dir, load }) => {
    // Raw rows first, then the raw bytes of every database file (main, WAL, shared memory).
    await load({ principals: [ALICE, APP, ROOT_2] });
    store.close();
    const db = await openDatabase(`file:${dir}/kms.db`);
    try {
      const rows = await db.execute("SELECT access_key_id, wrapped_secret FROM credentials");
      assert.equal(rows.rows.length, 3);
      for (const row of rows.rows) {
        const wrapped = new Uint8Array(row["wrapped_secret"] as ArrayBuffer);
        assert.equal(wrapped[0], 1, "wrapped format version");
        const text = new TextDecoder("latin1").decode(wrapped);
        for (const e of [ALICE, APP, ROOT_2]) assert.ok(!text.includes(e.secretAccessKey));
      }
    } finally {
      db.close();
    }
    for await (const entry of Deno.readDir(dir)) {
      const bytes = new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${entry.name}`));
      for (const e of [ALICE, APP, ROOT_2]) {
        assert.ok(!bytes.includes(e.secretAccessKey), `${e.accessKeyId} secret in ${entry.name}`);
      }
    }
  }));

Deno.test("KMS_PRINCIPALS_FILE: refuses to move an existing access key to another principal", () =>
  withDatabase(async ({ load }) => {
    await load({ principals: [ALICE] });
    await assert.rejects(
      load({ principals: [{ ...ALICE, userName: "mallory" }] }),
      /principals\[0\]\.accessKeyId: AKIAALICEFILE0000001 already belongs to arn:aws:iam::444455556666:user\/alice; an access key cannot move to another principal/,
    );
  }));

Deno.test("KMS_PRINCIPALS_FILE: a declared key signs requests to the KMS", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-principals-e2e-" });
  const rootKey = new Uint8Array(32).fill(3);
  const db = await openDatabase(`file:${dir}/kms.db`);
  await migrate(db);
  const store = new SqliteStore(db, await RootKey.fromBytes(rootKey.slice()));
  await loadPrincipalsFile(JSON.stringify({ principals: [ROOT_2] }), {
    principals: new SqlitePrincipalStore(db),
    credentials: store,
    clock: { now: () => Date.now() },
    validatePolicy,
  });
  store.close();
  const server = await startServer({ dbUrl: `file:${dir}/kms.db`, rootKey: rootKey.toBase64() });
  try {
    const client = server.clientFor(keyOf(ROOT_2));
    const keys = await client.send(new ListKeysCommand({}));
    assert.deepEqual(keys.Keys, []);
    const wrong = server.clientFor({ ...keyOf(ROOT_2), secretAccessKey: "x".repeat(40) });
    assert.equal(await errorName(wrong.send(new ListKeysCommand({}))), "InvalidSignatureException");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KMS_PRINCIPALS_FILE is applied at start-up, and again on each start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-principals-start-" });
  const file = `${dir}/principals.json`;
  const start = () =>
    startServer({
      dbUrl: `file:${dir}/kms.db`,
      env: { KMS_PRINCIPALS_FILE: file },
    });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ principals: [ROOT_2, APP] }));
    let server = await start();
    try {
      assert.deepEqual(
        (await server.clientFor(keyOf(ROOT_2)).send(new ListKeysCommand({}))).Keys,
        [],
      );
    } finally {
      await server.close();
    }
    const rotated = { ...ROOT_2, secretAccessKey: "root-rotated-secret-00000000000000000000" };
    await Deno.writeTextFile(file, JSON.stringify({ principals: [rotated, APP] }));
    server = await start();
    try {
      assert.deepEqual(
        (await server.clientFor(keyOf(rotated)).send(new ListKeysCommand({}))).Keys,
        [],
      );
      assert.equal(
        await errorName(server.clientFor(keyOf(ROOT_2)).send(new ListKeysCommand({}))),
        "InvalidSignatureException",
      );
    } finally {
      await server.close();
    }
    await Deno.writeTextFile(file, JSON.stringify({ principals: [{ ...APP, accountId: "1" }] }));
    await assert.rejects(
      start(),
      /KMS_PRINCIPALS_FILE: principals\[0\]\.accountId: must be 12 digits/,
    );
    await Deno.remove(file);
    await assert.rejects(start(), /principals\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
