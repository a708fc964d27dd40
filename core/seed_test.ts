import assert from "node:assert/strict";
import type { GrantRecord } from "./access/grants.ts";
import { ConfigError } from "./config.ts";
import { SecretBytes } from "./secret.ts";
import { loadSeedFile, type SeedDeps, type SeedStore } from "./seed.ts";
import { derivedGrantId } from "./seed_checks.ts";
import { parseSeedFile, seedFormat } from "./seed_file.ts";
import type { AliasRecord, KeyMaterial, KeyRecord, Tag } from "./types.ts";

const KEY_A = "5eed0000-0000-4000-8000-0000000000c1";
const KEY_B = "5eed0000-0000-4000-8000-0000000000c2";
const MATERIAL = new Uint8Array(32).fill(5).toBase64();

/** A store in memory that counts its writes. */
class MemoryStore implements SeedStore {
  keys = new Map<string, KeyRecord>();
  materials = new Map<string, Uint8Array>();
  tags = new Map<string, Map<string, string>>();
  aliases = new Map<string, AliasRecord>();
  grants = new Map<string, GrantRecord>();
  writes: string[] = [];

  getKey(keyId: string) {
    return Promise.resolve(this.keys.get(keyId) ?? null);
  }
  createKey(key: KeyRecord, material: KeyMaterial, tags: readonly Tag[]) {
    this.writes.push(`createKey ${key.keyId}`);
    this.keys.set(key.keyId, { ...key });
    this.materials.set(key.keyId, material.material.expose().slice());
    this.#putTags(key.keyId, tags);
    return Promise.resolve();
  }
  updateKey(key: KeyRecord) {
    this.writes.push(`updateKey ${key.keyId}`);
    this.keys.set(key.keyId, { ...key });
    return Promise.resolve();
  }
  getMaterial(keyId: string, version: number) {
    const bytes = this.materials.get(keyId);
    return Promise.resolve(
      bytes === undefined || version !== 1 ? null : {
        keyId,
        version,
        keyMaterialId: "0".repeat(64),
        material: new SecretBytes(bytes.slice()),
        createdAt: 0,
      },
    );
  }
  putTags(keyId: string, tags: readonly Tag[]) {
    this.writes.push(`putTags ${keyId}`);
    this.#putTags(keyId, tags);
    return Promise.resolve();
  }
  #putTags(keyId: string, tags: readonly Tag[]) {
    const map = this.tags.get(keyId) ?? new Map<string, string>();
    for (const tag of tags) map.set(tag.TagKey, tag.TagValue);
    this.tags.set(keyId, map);
  }
  getAlias(_accountId: string, _region: string, name: string) {
    return Promise.resolve(this.aliases.get(name) ?? null);
  }
  createAlias(alias: AliasRecord) {
    this.writes.push(`createAlias ${alias.name}`);
    if (this.aliases.has(alias.name)) return Promise.resolve(false);
    this.aliases.set(alias.name, alias);
    return Promise.resolve(true);
  }
  updateAlias(alias: AliasRecord) {
    this.writes.push(`updateAlias ${alias.name}`);
    this.aliases.set(alias.name, alias);
    return Promise.resolve();
  }
  getGrant(grantId: string) {
    return Promise.resolve(this.grants.get(grantId) ?? null);
  }
  createGrant(grant: GrantRecord) {
    this.writes.push(`createGrant ${grant.grantId}`);
    this.grants.set(grant.grantId, grant);
    return Promise.resolve(grant);
  }
  listTags(keyId: string) {
    const map = this.tags.get(keyId) ?? new Map<string, string>();
    return Promise.resolve([...map].map(([TagKey, TagValue]) => ({ TagKey, TagValue })));
  }
  deleteGrant(grantId: string) {
    this.writes.push(`deleteGrant ${grantId}`);
    return Promise.resolve(this.grants.delete(grantId));
  }
}

function depsOf(store: MemoryStore, users: string[] = []): SeedDeps {
  return {
    store,
    clock: { now: () => 1_700_000_000_000 },
    region: "eu-west-1",
    accountId: "111122223333",
    principalExists: (arn) => Promise.resolve(users.includes(arn)),
  };
}

const FILE = {
  keys: [
    {
      keyId: KEY_A,
      material: MATERIAL,
      aliases: ["alias/a"],
      tags: { env: "unit" },
      enabled: true,
    },
    { keyId: KEY_B, keySpec: "ECC_NIST_EDWARDS25519" },
  ],
  grants: [{
    keyId: KEY_A,
    granteePrincipal: "arn:aws:iam::111122223333:role/r",
    operations: ["Decrypt", "Decrypt", "Encrypt"],
  }],
};

Deno.test("seedFormat reads .yaml and .yml as YAML, .json as JSON, and otherwise looks at the text", () => {
  assert.equal(seedFormat("{}", "seed.YAML"), "yaml");
  assert.equal(seedFormat("keys: []", "seed.yml"), "yaml");
  assert.equal(seedFormat("keys: []", "seed.json"), "json");
  assert.equal(seedFormat('  {"keys": []}', "seed"), "json");
  assert.equal(seedFormat("keys: []", undefined), "yaml");
});

Deno.test("parseSeedFile reads the same entries from JSON and YAML", () => {
  const yaml = [
    "keys:",
    `  - keyId: ${KEY_A}`,
    `    material: "${MATERIAL}"`,
    "    aliases: [alias/a]",
    "    tags: { env: unit }",
    "    enabled: true",
    `  - { keyId: ${KEY_B}, keySpec: ECC_NIST_EDWARDS25519 }`,
    "grants:",
    `  - keyId: ${KEY_A}`,
    "    granteePrincipal: arn:aws:iam::111122223333:role/r",
    "    operations: [Decrypt, Decrypt, Encrypt]",
  ].join("\n");
  assert.deepEqual(parseSeedFile(yaml, "s.yaml"), parseSeedFile(JSON.stringify(FILE), "s.json"));
  assert.deepEqual(parseSeedFile("{}"), { keys: [], grants: [] });
});

Deno.test("parseSeedFile errors name the entry and never quote the text", () => {
  const secret = "c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWI=";
  const cases: [string, string | undefined, RegExp][] = [
    [`{"keys": [{"keyId": "${KEY_A}", "material": "${secret}",}]}`, "s.json", /not valid JSON/],
    [`keys:\n  - material: ${secret}\n  bad`, "s.yaml", /not valid YAML \(line 3 column/],
    [`{"keys": [{"keyId": "${KEY_A}", "material": 5}]}`, undefined, /keys\[0\]\.material: /],
    [`{"keys": [{"keyId": "${KEY_A}", "secret": "${secret}"}]}`, undefined, /unknown field/],
  ];
  for (const [text, path, expected] of cases) {
    assert.throws(() => parseSeedFile(text, path), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^KMS_SEED_FILE: /);
      assert.match(e.message, expected);
      assert.ok(!e.message.includes(secret), e.message);
      return true;
    });
  }
});

Deno.test("parseSeedFile holds grants to CreateGrant's field limits: SourceArn, principal length, name", () => {
  const grant = (fields: Record<string, unknown>) =>
    JSON.stringify({
      grants: [{
        keyId: KEY_A,
        granteePrincipal: "arn:aws:iam::111122223333:role/r",
        operations: ["Decrypt"],
        ...fields,
      }],
    });
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { constraints: { SourceArn: "not-an-arn" } },
      /grants\[0\]\.constraints\.SourceArn: must be an ARN/,
    ],
    [
      { granteePrincipal: `arn:aws:iam::111122223333:role/${"r".repeat(250)}` },
      /grants\[0\]\.granteePrincipal: must be at most 256 characters/,
    ],
    [{ name: "n".repeat(257) }, /grants\[0\]\.name: must be 1 to 256 letters/],
  ];
  for (const [fields, expected] of cases) {
    assert.throws(() => parseSeedFile(grant(fields)), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, expected);
      return true;
    });
  }
  const arn = "arn:aws:s3:us-east-1:111122223333:bucket/b";
  assert.equal(
    parseSeedFile(grant({ constraints: { SourceArn: arn } })).grants[0]?.constraints?.SourceArn,
    arn,
  );
});

Deno.test("loadSeedFile creates keys, aliases, tags and grants, and a second load writes nothing", async () => {
  const store = new MemoryStore();
  const text = JSON.stringify(FILE);
  const first = await loadSeedFile({ text }, depsOf(store));
  assert.deepEqual(first.created, [KEY_A, KEY_B]);
  assert.equal(first.aliases, 1);
  assert.equal(first.grants, 1);
  const a = store.keys.get(KEY_A)!;
  assert.equal(a.region, "eu-west-1");
  assert.equal(a.keyUsage, "ENCRYPT_DECRYPT");
  assert.deepEqual(store.materials.get(KEY_A), Uint8Array.fromBase64(MATERIAL));
  assert.equal(store.keys.get(KEY_B)!.keyUsage, "SIGN_VERIFY", "the spec's only usage");
  assert.equal(store.materials.get(KEY_B)!.length > 32, true, "a PKCS#8 key pair");
  const [grant] = [...store.grants.values()];
  assert.deepEqual(grant?.operations, ["Decrypt", "Encrypt"]);
  assert.equal(grant?.issuingAccount, "arn:aws:iam::111122223333:root");
  assert.equal(grant?.grantId, derivedGrantId(grant!));

  store.writes = [];
  const second = await loadSeedFile({ text }, depsOf(store));
  assert.deepEqual(second.unchanged, [KEY_A, KEY_B]);
  assert.deepEqual(store.writes, []);
  assert.equal(second.tags, 0);
});

Deno.test("loadSeedFile checks every entry before writing anything", async () => {
  const store = new MemoryStore();
  const text = JSON.stringify({
    keys: FILE.keys,
    grants: [...FILE.grants, { ...FILE.grants[0], keyId: KEY_B }],
  });
  await assert.rejects(
    () => loadSeedFile({ text }, depsOf(store)),
    /^ConfigError: KMS_SEED_FILE: grants\[1\]\.operations: Decrypt, Encrypt cannot be granted/,
  );
  assert.deepEqual(store.writes, []);
});

Deno.test("loadSeedFile accepts key policies naming existing principals only", async () => {
  const policy = {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::111122223333:user/u" },
      Action: "kms:Decrypt",
      Resource: "*",
    }],
  };
  const text = JSON.stringify({ keys: [{ keyId: KEY_A, policy }] });
  await assert.rejects(
    () => loadSeedFile({ text }, depsOf(new MemoryStore())),
    /keys\[0\]\.policy: names arn:aws:iam::111122223333:user\/u, which does not exist/,
  );
  const store = new MemoryStore();
  await loadSeedFile({ text }, depsOf(store, ["arn:aws:iam::111122223333:user/u"]));
  assert.deepEqual(JSON.parse(store.keys.get(KEY_A)!.policy), policy);
});

Deno.test("loadSeedFile moves an alias that points elsewhere and replaces a changed fixed-id grant", async () => {
  const store = new MemoryStore();
  const grantId = "cd".repeat(32);
  const grant = { keyId: KEY_A, grantId, granteePrincipal: "arn:aws:iam::111122223333:root" };
  await loadSeedFile({
    text: JSON.stringify({
      keys: [{ keyId: KEY_A, aliases: ["alias/x"] }, { keyId: KEY_B, keySpec: "HMAC_256" }],
      grants: [{ ...grant, operations: ["Decrypt"] }],
    }),
  }, depsOf(store));
  store.writes = [];
  await loadSeedFile({
    text: JSON.stringify({
      keys: [{ keyId: KEY_A }, { keyId: KEY_B, keySpec: "HMAC_256", aliases: ["alias/x"] }],
      grants: [{ ...grant, operations: ["Encrypt"] }],
    }),
  }, depsOf(store));
  assert.equal(store.aliases.get("alias/x")?.targetKeyId, KEY_B);
  assert.deepEqual(store.grants.get(grantId)?.operations, ["Encrypt"]);
  assert.deepEqual(store.writes, [
    "updateAlias alias/x",
    `deleteGrant ${grantId}`,
    `createGrant ${grantId}`,
  ]);
});

Deno.test("loadSeedFile keeps a key another instance seeded first", async () => {
  const store = new MemoryStore();
  const create = store.createKey.bind(store);
  store.createKey = async (key, material, tags) => {
    await create(key, material, tags);
    throw new Error("UNIQUE constraint failed: keys.key_id");
  };
  const summary = await loadSeedFile(
    { text: JSON.stringify({ keys: [{ keyId: KEY_A }] }) },
    depsOf(store),
  );
  assert.deepEqual(summary.unchanged, [KEY_A]);
  await assert.rejects(() =>
    loadSeedFile({ text: JSON.stringify({ keys: [{ keyId: KEY_B }] }) }, {
      ...depsOf(store),
      store: Object.assign(Object.create(store), {
        createKey: () => Promise.reject(new Error("disk full")),
      }),
    }), /disk full/);
});
