/**
 * KMS_SEED_FILE end to end: keys of every spec with fixed ids, aliases, tags,
 * policies and grants; checked-in ciphertexts that keep decrypting across
 * restarts and fresh databases; fixed HMAC material; YAML; idempotent restarts;
 * malformed files that stop the start and write nothing.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import { ConfigError, parseConfig } from "../core/config.ts";
import { openService } from "../main.ts";
import { openDatabase } from "../storage/client.ts";
import { ADMIN, errorName, startServer, type TestServer } from "./helpers/server.ts";

const DATA = new URL("./testdata/seed/", import.meta.url);
const SEED_JSON = new URL("seed.json", DATA).pathname;
const SEED_YAML = new URL("seed.yaml", DATA).pathname;
const PRINCIPALS = new URL("principals.json", DATA).pathname;

interface SeedKey {
  keyId: string;
  keySpec?: string;
  keyUsage?: string;
  material?: string;
  enabled?: boolean;
  description?: string;
  aliases?: string[];
  policy?: unknown;
}
const SEED = JSON.parse(await Deno.readTextFile(SEED_JSON)) as {
  keys: SeedKey[];
  grants: { keyId: string; grantId?: string }[];
};
const CIPHERTEXTS = (JSON.parse(await Deno.readTextFile(new URL("ciphertexts.json", DATA))) as {
  ciphertexts: {
    keyId: string;
    plaintext: string;
    encryptionContext?: Record<string, string>;
    ciphertextBlob: string;
  }[];
}).ciphertexts;

const APP_KEY = "5eed0000-0000-4000-8000-000000000001";
const RSA_KEY = "5eed0000-0000-4000-8000-000000000006";
const ROOT_KEY_A = new Uint8Array(32).fill(1).toBase64();
const ROOT_KEY_B = new Uint8Array(32).fill(2).toBase64();
const MAC_MESSAGE = new TextEncoder().encode("message to authenticate");
const NODE_HASH: Record<string, string> = {
  HMAC_224: "sha224",
  HMAC_256: "sha256",
  HMAC_384: "sha384",
  HMAC_512: "sha512",
};

function seedKey(keyId: string): SeedKey {
  const key = SEED.keys.find((k) => k.keyId === keyId);
  if (key === undefined) throw new Error(`no seeded key ${keyId}`);
  return key;
}

async function decryptAll(client: KMSClient): Promise<void> {
  for (const c of CIPHERTEXTS) {
    const out = await client.send(
      new DecryptCommand({
        CiphertextBlob: Uint8Array.fromBase64(c.ciphertextBlob),
        EncryptionContext: c.encryptionContext,
      }),
    );
    assert.equal(out.KeyId, c.keyId);
    assert.equal(new TextDecoder().decode(out.Plaintext), c.plaintext);
  }
}

/** What a restart must leave exactly as it was. */
async function snapshot(client: KMSClient) {
  const keys = (await client.send(new ListKeysCommand({ Limit: 1000 }))).Keys ?? [];
  const aliases = (await client.send(new ListAliasesCommand({ Limit: 100 }))).Aliases ?? [];
  const grants: string[] = [];
  for (const key of keys) {
    const listed = await client.send(new ListGrantsCommand({ KeyId: key.KeyId }));
    for (const g of listed.Grants ?? []) grants.push(`${g.KeyId} ${g.GrantId} ${g.Name ?? ""}`);
  }
  const publicKey = await client.send(new GetPublicKeyCommand({ KeyId: RSA_KEY }));
  return {
    keys: keys.map((k) => k.KeyId).sort(),
    aliases: aliases.map((a) => `${a.AliasName} -> ${a.TargetKeyId}`).sort(),
    grants: grants.sort(),
    publicKey: publicKey.PublicKey?.toBase64(),
  };
}

async function withSeededServer(
  env: Record<string, string>,
  fn: (server: TestServer) => Promise<void>,
  options: { dbUrl?: string; rootKey?: string } = {},
): Promise<void> {
  const server = await startServer({ ...options, env });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-seed-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("KMS_SEED_FILE creates keys of every spec with their fixed ids, aliases, tags, policy and grants", async () => {
  await withSeededServer({ KMS_SEED_FILE: SEED_JSON }, async ({ client }) => {
    const listed = (await client.send(new ListKeysCommand({}))).Keys?.map((k) => k.KeyId).sort();
    assert.deepEqual(listed, SEED.keys.map((k) => k.keyId).sort());
    const specs = new Set<string>();
    for (const key of SEED.keys) {
      const { KeyMetadata: m } = await client.send(new DescribeKeyCommand({ KeyId: key.keyId }));
      assert.equal(m?.KeyId, key.keyId);
      assert.equal(m?.KeySpec, key.keySpec ?? "SYMMETRIC_DEFAULT");
      if (key.keyUsage !== undefined) assert.equal(m?.KeyUsage, key.keyUsage);
      assert.equal(m?.Enabled, key.enabled ?? true);
      assert.equal(m?.Description, key.description ?? "");
      assert.equal(m?.Origin, "AWS_KMS");
      specs.add(m?.KeySpec ?? "");
    }
    assert.equal(specs.size, 17, "the seed file covers every key spec");

    const aliases = await client.send(new ListAliasesCommand({ KeyId: APP_KEY }));
    assert.deepEqual(aliases.Aliases?.map((a) => a.AliasName).sort(), seedKey(APP_KEY).aliases);
    const byAlias = await client.send(new DescribeKeyCommand({ KeyId: "alias/seed/mac" }));
    assert.equal(byAlias.KeyMetadata?.KeyId, "5eed0000-0000-4000-8000-000000000003");

    const tags = await client.send(new ListResourceTagsCommand({ KeyId: APP_KEY }));
    assert.deepEqual(tags.Tags, [
      { TagKey: "env", TagValue: "test" },
      { TagKey: "team", TagValue: "payments" },
    ]);
    const macTags = await client.send(new ListResourceTagsCommand({ KeyId: SEED.keys[2]!.keyId }));
    assert.deepEqual(macTags.Tags, [{ TagKey: "purpose", TagValue: "webhooks" }]);

    const policy = await client.send(new GetKeyPolicyCommand({ KeyId: APP_KEY }));
    assert.deepEqual(JSON.parse(policy.Policy ?? ""), seedKey(APP_KEY).policy);
    const defaultPolicy = await client.send(new GetKeyPolicyCommand({ KeyId: RSA_KEY }));
    assert.equal(JSON.parse(defaultPolicy.Policy ?? "").Id, "key-default-1");

    const grants = await client.send(new ListGrantsCommand({ KeyId: APP_KEY }));
    assert.equal(grants.Grants?.length, 1);
    const grant = grants.Grants![0]!;
    assert.equal(grant.GrantId, SEED.grants[0]!.grantId);
    assert.equal(grant.Name, "ci-decrypt");
    assert.equal(grant.GranteePrincipal, "arn:aws:iam::111122223333:role/ci");
    assert.equal(grant.RetiringPrincipal, "arn:aws:iam::111122223333:root");
    assert.equal(grant.IssuingAccount, "arn:aws:iam::111122223333:root");
    assert.deepEqual(grant.Operations, ["Decrypt", "Encrypt", "GenerateDataKey"]);
    assert.deepEqual(grant.Constraints, { EncryptionContextSubset: { purpose: "test" } });
    const macGrants = await client.send(new ListGrantsCommand({ KeyId: SEED.grants[1]!.keyId }));
    assert.equal(macGrants.Grants?.length, 1);
    assert.match(macGrants.Grants![0]!.GrantId ?? "", /^[0-9a-f]{64}$/);
    assert.equal(macGrants.Grants![0]!.GranteePrincipal, "arn:aws:iam::444455556666:root");
  });
});

Deno.test("a seed file applied on every restart changes nothing, and checked-in ciphertexts keep decrypting", async () => {
  await withTempDir(async (dir) => {
    const dbUrl = `file:${dir}/kms.db`;
    const env = { KMS_SEED_FILE: SEED_JSON };
    let first: Awaited<ReturnType<typeof snapshot>> | undefined;
    for (let run = 0; run < 3; run++) {
      await withSeededServer(env, async ({ client }) => {
        await decryptAll(client);
        const now = await snapshot(client);
        if (first === undefined) first = now;
        else assert.deepEqual(now, first, `restart ${run} changed the seeded state`);
      }, { dbUrl, rootKey: ROOT_KEY_A });
    }
    assert.equal(first?.keys.length, SEED.keys.length);
    assert.equal(first?.grants.length, SEED.grants.length);
    const logged: Record<string, unknown>[] = [];
    const config = parseConfig({
      KMS_DB_URL: dbUrl,
      KMS_ROOT_KEY: ROOT_KEY_A,
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
      ...env,
    });
    const service = await openService(config, { log: (record) => void logged.push(record) });
    await service.close();
    assert.deepEqual(logged.find((r) => r.message === "seed file applied"), {
      level: "info",
      message: "seed file applied",
      path: SEED_JSON,
      keysCreated: 0,
      keysUpdated: 0,
      keysUnchanged: SEED.keys.length,
      aliases: 0,
      tags: 0,
      grants: 0,
    });
  });
  // Another database under another root key: the material comes from the file, not the database.
  await withSeededServer({ KMS_SEED_FILE: SEED_JSON }, async ({ client }) => {
    await decryptAll(client);
    const out = await client.send(
      new EncryptCommand({ KeyId: "alias/seed/app", Plaintext: new Uint8Array([1, 2, 3]) }),
    );
    assert.equal(out.KeyId, `arn:aws:kms:us-east-1:111122223333:key/${APP_KEY}`);
  }, { rootKey: ROOT_KEY_B });
});

Deno.test("HMAC keys seeded with fixed material give the MAC node:crypto computes from it", async () => {
  await withSeededServer({ KMS_SEED_FILE: SEED_JSON }, async ({ client }) => {
    for (const key of SEED.keys.filter((k) => k.keySpec?.startsWith("HMAC_"))) {
      const spec = key.keySpec!;
      const request = new GenerateMacCommand({
        KeyId: key.keyId,
        MacAlgorithm: `HMAC_SHA_${spec.slice(5)}` as "HMAC_SHA_256",
        Message: MAC_MESSAGE,
      });
      if (key.enabled === false) {
        assert.equal(await errorName(client.send(request)), "DisabledException");
        continue;
      }
      const { Mac } = await client.send(request);
      const expected = createHmac(NODE_HASH[spec]!, Uint8Array.fromBase64(key.material!))
        .update(MAC_MESSAGE).digest();
      assert.deepEqual(Mac, new Uint8Array(expected), spec);
    }
  });
});

Deno.test("a YAML seed file works, and a principals-file user reaches a seeded key through its seeded grant", async () => {
  const env = { KMS_SEED_FILE: SEED_YAML, KMS_PRINCIPALS_FILE: PRINCIPALS };
  await withSeededServer(env, async (server) => {
    const { client } = server;
    const data = "5eed0000-0000-4000-8000-0000000000a1";
    const mac = "5eed0000-0000-4000-8000-0000000000a2";
    const aliases = await client.send(new ListAliasesCommand({ KeyId: data }));
    assert.deepEqual(aliases.Aliases?.map((a) => a.AliasName), ["alias/yaml/data"]);
    const tags = await client.send(new ListResourceTagsCommand({ KeyId: data }));
    assert.deepEqual(tags.Tags, [{ TagKey: "env", TagValue: "yaml" }]);
    const signer = await client.send(
      new DescribeKeyCommand({ KeyId: "5eed0000-0000-4000-8000-0000000000a3" }),
    );
    assert.equal(signer.KeyMetadata?.KeySpec, "ECC_NIST_EDWARDS25519");
    assert.equal(signer.KeyMetadata?.KeyUsage, "SIGN_VERIFY");
    const { Mac } = await client.send(
      new GenerateMacCommand({ KeyId: mac, MacAlgorithm: "HMAC_SHA_512", Message: MAC_MESSAGE }),
    );
    const material = SEED.keys.find((k) => k.keySpec === "HMAC_512")!.material!;
    const expected = createHmac("sha512", Uint8Array.fromBase64(material)).update(MAC_MESSAGE);
    assert.deepEqual(Mac, new Uint8Array(expected.digest()));

    const app = server.clientFor({
      accessKeyId: "AKIASEEDAPPUSER00001",
      secretAccessKey: "seed-app-user-secret-00000000000000000000",
    });
    const grants = await client.send(new ListGrantsCommand({ KeyId: data }));
    assert.equal(grants.Grants?.[0]?.GrantId, `5eed${"0".repeat(58)}a1`);
    const sealed = await app.send(
      new EncryptCommand({ KeyId: data, Plaintext: new TextEncoder().encode("via grant") }),
    );
    const opened = await app.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.equal(new TextDecoder().decode(opened.Plaintext), "via grant");
    const described = await app.send(new DescribeKeyCommand({ KeyId: data }));
    assert.equal(described.KeyMetadata?.KeyId, data);
    assert.equal(
      await errorName(
        app.send(
          new GenerateMacCommand({
            KeyId: mac,
            MacAlgorithm: "HMAC_SHA_512",
            Message: MAC_MESSAGE,
          }),
        ),
      ),
      "AccessDeniedException",
    );
  });
});

// ---------------------------------------------------------------------------
// Refusals: the start fails, naming the entry, and nothing is written.

const VALID_KEY = {
  keyId: "5eed0000-0000-4000-8000-0000000000f1",
  material: "7TwQNRuaxo6zgeB8gFVLPVZQtJUku4qcfSRuME8D/OE=",
  aliases: ["alias/valid"],
  tags: { env: "test" },
};
const HMAC_MATERIAL = "j4a5ATKlQTkqtHBemQwhSPLKzde8E1G3AoYuxG6v2Wo=";

function serviceConfig(dir: string, seedFile: string, env: Record<string, string> = {}) {
  return parseConfig({
    KMS_DB_URL: `file:${dir}/kms.db`,
    KMS_ROOT_KEY: ROOT_KEY_A,
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    KMS_ACCOUNT_ID: "111122223333",
    KMS_REGION: "us-east-1",
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
    KMS_SEED_FILE: seedFile,
    ...env,
  });
}

/** Starts a service on `dir` with `content` as the seed file; resolves the start's error. */
async function startFailure(dir: string, content: string, fileName: string): Promise<ConfigError> {
  const path = `${dir}/${fileName}`;
  await Deno.writeTextFile(path, content);
  try {
    const service = await openService(serviceConfig(dir, path), { log: () => {} });
    await service.close();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  throw new Error(`the seed file ${fileName} was accepted`);
}

async function rowCounts(dir: string, keyIds: readonly string[] = []) {
  // A start refused before writing anything leaves no database at all: nothing stored.
  const none = { keys: 0, aliases: 0, tags: 0, grants: 0, present: [] as string[] };
  if (!await Deno.stat(`${dir}/kms.db`).then(() => true, () => false)) return none;
  const db = await openDatabase(`file:${dir}/kms.db`);
  try {
    const count = async (table: string) =>
      Number((await db.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
    const present = [];
    for (const id of keyIds) {
      const row = (await db.execute({ sql: "SELECT 1 FROM keys WHERE key_id = ?", args: [id] }))
        .rows[0];
      if (row !== undefined) present.push(id);
    }
    return {
      keys: await count("keys"),
      aliases: await count("aliases"),
      tags: await count("tags"),
      grants: await count("grants"),
      present,
    };
  } finally {
    db.close();
  }
}

const key = (extra: Record<string, unknown>) => ({
  keyId: "5eed0000-0000-4000-8000-0000000000f2",
  ...extra,
});

const MALFORMED: { name: string; file: unknown; expected: RegExp }[] = [
  {
    name: "unknown key spec",
    file: { keys: [VALID_KEY, key({ keySpec: "AES_128" })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.keySpec: must be one of SYMMETRIC_DEFAULT, RSA_2048/,
  },
  {
    name: "misspelt field",
    file: { keys: [VALID_KEY, key({ materiel: HMAC_MATERIAL })] },
    expected: /^KMS_SEED_FILE: keys\[1\]: unknown field "materiel"$/,
  },
  {
    name: "key id that is not a UUID",
    file: { keys: [VALID_KEY, { keyId: "my-key" }] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.keyId: must be a key id/,
  },
  {
    name: "HMAC material of the wrong size",
    file: { keys: [VALID_KEY, key({ keySpec: "HMAC_384", material: HMAC_MATERIAL })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.material: HMAC_384 keys take 48 bytes .*got 32$/,
  },
  {
    name: "material that is not base64",
    file: { keys: [VALID_KEY, key({ material: "not base64!" })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.material: is not valid base64$/,
  },
  {
    name: "material for an asymmetric key",
    file: {
      keys: [
        VALID_KEY,
        key({ keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", material: HMAC_MATERIAL }),
      ],
    },
    expected: /^KMS_SEED_FILE: keys\[1\]\.material: only SYMMETRIC_DEFAULT and HMAC keys/,
  },
  {
    name: "usage the spec does not allow",
    file: { keys: [VALID_KEY, key({ keySpec: "HMAC_256", keyUsage: "ENCRYPT_DECRYPT" })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.keyUsage: ENCRYPT_DECRYPT is not a usage of HMAC_256/,
  },
  {
    name: "ambiguous usage",
    file: { keys: [VALID_KEY, key({ keySpec: "ECC_NIST_P256" })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.keyUsage: is required for ECC_NIST_P256 keys/,
  },
  {
    name: "duplicate key id",
    file: { keys: [VALID_KEY, { keyId: VALID_KEY.keyId }] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.keyId: also the key id of keys\[0\]$/,
  },
  {
    name: "reserved alias",
    file: { keys: [VALID_KEY, key({ aliases: ["alias/aws/s3"] })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.aliases\[0\]: Alias names beginning with "alias\/aws\/"/,
  },
  {
    name: "alias given twice",
    file: { keys: [VALID_KEY, key({ aliases: ["alias/valid"] })] },
    expected:
      /^KMS_SEED_FILE: keys\[1\]\.aliases\[0\]: alias\/valid is also keys\[0\]\.aliases\[0\]/,
  },
  {
    name: "reserved tag key",
    file: { keys: [VALID_KEY, key({ tags: { "aws:owner": "me" } })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.tags: Tag keys beginning with 'aws:' are reserved/,
  },
  {
    name: "policy that is not a policy",
    file: { keys: [VALID_KEY, key({ policy: { Statement: "everything" } })] },
    expected: /^KMS_SEED_FILE: keys\[1\]\.policy: /,
  },
  {
    name: "policy naming a user that does not exist",
    file: {
      keys: [
        VALID_KEY,
        key({
          policy: {
            Version: "2012-10-17",
            Statement: [{
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::111122223333:user/ghost" },
              Action: "kms:*",
              Resource: "*",
            }],
          },
        }),
      ],
    },
    expected:
      /^KMS_SEED_FILE: keys\[1\]\.policy: names arn:aws:iam::111122223333:user\/ghost, which does not exist/,
  },
  {
    name: "grant on a key nobody declared",
    file: {
      keys: [VALID_KEY],
      grants: [{
        keyId: "5eed0000-0000-4000-8000-0000000000ff",
        granteePrincipal: "arn:aws:iam::111122223333:root",
        operations: ["Decrypt"],
      }],
    },
    expected: /^KMS_SEED_FILE: grants\[0\]\.keyId: no key 5eed0000-0000-4000-8000-0000000000ff/,
  },
  {
    name: "grant operation the key cannot do",
    file: {
      keys: [VALID_KEY],
      grants: [{
        keyId: VALID_KEY.keyId,
        granteePrincipal: "arn:aws:iam::111122223333:root",
        operations: ["Decrypt", "Sign"],
      }],
    },
    expected: /^KMS_SEED_FILE: grants\[0\]\.operations: Sign cannot be granted on key/,
  },
  {
    name: "grant to something that is not a principal",
    file: {
      keys: [VALID_KEY],
      grants: [{ keyId: VALID_KEY.keyId, granteePrincipal: "bob", operations: ["Decrypt"] }],
    },
    expected: /^KMS_SEED_FILE: grants\[0\]\.granteePrincipal: must be an IAM principal ARN/,
  },
  {
    name: "grant id that is not 64 hex digits",
    file: {
      keys: [VALID_KEY],
      grants: [{
        keyId: VALID_KEY.keyId,
        grantId: "g1",
        granteePrincipal: "arn:aws:iam::111122223333:root",
        operations: ["Decrypt"],
      }],
    },
    expected: /^KMS_SEED_FILE: grants\[0\]\.grantId: must be 64 lower-case hex digits$/,
  },
  {
    name: "top level that is a list",
    file: [VALID_KEY],
    expected: /^KMS_SEED_FILE: must be an object with `keys` and\/or `grants`$/,
  },
];

Deno.test("a malformed seed file stops the start with a message naming the entry, and writes nothing", async () => {
  for (const c of MALFORMED) {
    await withTempDir(async (dir) => {
      const error = await startFailure(dir, JSON.stringify(c.file, null, 2), "seed.json");
      assert.match(error.message, c.expected, c.name);
      assert.ok(!error.message.includes(VALID_KEY.material), `${c.name}: quotes material`);
      assert.ok(!error.message.includes(HMAC_MATERIAL), `${c.name}: quotes material`);
      assert.deepEqual(await rowCounts(dir), {
        keys: 0,
        aliases: 0,
        tags: 0,
        grants: 0,
        present: [],
      });
    });
  }
});

Deno.test("a seed file that is not valid JSON or YAML is refused with its position, not its text", async () => {
  await withTempDir(async (dir) => {
    const material = VALID_KEY.material;
    const json = await startFailure(dir, `{"keys": [{"material": "${material}" }`, "seed.json");
    assert.match(json.message, /^KMS_SEED_FILE: not valid JSON/);
    assert.ok(!json.message.includes(material));
    const yaml = await startFailure(
      dir,
      `keys:\n  - keyId: ${VALID_KEY.keyId}\n    material: ${material}\n   bad: indent\n`,
      "seed.yml",
    );
    assert.match(yaml.message, /^KMS_SEED_FILE: not valid YAML \(line 4 column \d+\): /);
    assert.ok(!yaml.message.includes(material));
    const duplicate = await startFailure(
      dir,
      `keys:\n  - keyId: ${VALID_KEY.keyId}\n    keyId: ${VALID_KEY.keyId}\n`,
      "seed.yaml",
    );
    assert.match(duplicate.message, /^KMS_SEED_FILE: not valid YAML \(line 3 column 5\): .*unique/);
    const number = await startFailure(
      dir,
      `keys:\n  - keyId: ${VALID_KEY.keyId}\n    accountId: 111122223333\n`,
      "seed.yaml",
    );
    assert.match(number.message, /keys\[0\]\.accountId: .*received number \(quote it in YAML\)/);
    assert.deepEqual(await rowCounts(dir), {
      keys: 0,
      aliases: 0,
      tags: 0,
      grants: 0,
      present: [],
    });
  });
});

Deno.test("an unreadable seed file stops the start naming the path", async () => {
  await withTempDir(async (dir) => {
    const config = serviceConfig(dir, `${dir}/missing.json`);
    await assert.rejects(
      () => openService(config, { log: () => {} }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith(`KMS_SEED_FILE: cannot read ${dir}/missing`),
    );
  });
});

Deno.test("a restart refuses a seed file that changes a seeded key's material, spec or account, and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const first = `${dir}/first.json`;
    await Deno.writeTextFile(first, JSON.stringify({ keys: [VALID_KEY] }));
    const service = await openService(serviceConfig(dir, first), { log: () => {} });
    await service.close();
    const newKey = "5eed0000-0000-4000-8000-0000000000f9";
    const changes: { name: string; entry: Record<string, unknown>; expected: RegExp }[] = [
      {
        name: "material",
        entry: { ...VALID_KEY, material: HMAC_MATERIAL },
        expected:
          /^KMS_SEED_FILE: keys\[1\]\.material: key \S+ already exists with other key material/,
      },
      {
        name: "spec",
        entry: { keyId: VALID_KEY.keyId, keySpec: "HMAC_256" },
        expected: /^KMS_SEED_FILE: keys\[1\]\.keySpec: key \S+ already exists as SYMMETRIC_DEFAULT/,
      },
      {
        name: "account",
        entry: { keyId: VALID_KEY.keyId, accountId: "444455556666" },
        expected: /^KMS_SEED_FILE: keys\[1\]: key \S+ already exists in account 111122223333/,
      },
    ];
    for (const change of changes) {
      const file = { keys: [{ keyId: newKey, aliases: ["alias/new"] }, change.entry] };
      const error = await startFailure(dir, JSON.stringify(file), "changed.json");
      assert.match(error.message, change.expected, change.name);
      assert.ok(!error.message.includes(HMAC_MATERIAL));
      assert.deepEqual(await rowCounts(dir, [newKey, VALID_KEY.keyId]), {
        keys: 1,
        aliases: 1,
        tags: 1,
        grants: 0,
        present: [VALID_KEY.keyId],
      }, change.name);
    }
  });
});

Deno.test("a restart applies the file's new description, policy, enabled state, tags, aliases and grants", async () => {
  await withTempDir(async (dir) => {
    const dbUrl = `file:${dir}/kms.db`;
    const path = `${dir}/seed.json`;
    const other = "5eed0000-0000-4000-8000-0000000000f3";
    const grantId = "ab".repeat(32);
    const grant = {
      keyId: VALID_KEY.keyId,
      grantId,
      granteePrincipal: "arn:aws:iam::111122223333:role/ci",
      operations: ["Decrypt"],
    };
    await Deno.writeTextFile(
      path,
      JSON.stringify({ keys: [VALID_KEY, { keyId: other }], grants: [grant] }),
    );
    await withSeededServer({ KMS_SEED_FILE: path }, async () => {}, { dbUrl, rootKey: ROOT_KEY_A });

    const policy = {
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::111122223333:root" },
        Action: "kms:*",
        Resource: "*",
      }],
    };
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        keys: [
          {
            ...VALID_KEY,
            aliases: [],
            description: "now described",
            enabled: false,
            policy,
            tags: { team: "x" },
          },
          { keyId: other, aliases: ["alias/valid"] },
        ],
        grants: [{ ...grant, operations: ["Decrypt", "Encrypt"] }],
      }),
    );
    await withSeededServer({ KMS_SEED_FILE: path }, async ({ client }) => {
      const { KeyMetadata: m } = await client.send(
        new DescribeKeyCommand({ KeyId: VALID_KEY.keyId }),
      );
      assert.equal(m?.Description, "now described");
      assert.equal(m?.Enabled, false);
      const stored = await client.send(new GetKeyPolicyCommand({ KeyId: VALID_KEY.keyId }));
      assert.deepEqual(JSON.parse(stored.Policy ?? ""), policy);
      const tags = await client.send(new ListResourceTagsCommand({ KeyId: VALID_KEY.keyId }));
      assert.deepEqual(tags.Tags, [
        { TagKey: "env", TagValue: "test" },
        { TagKey: "team", TagValue: "x" },
      ]);
      const alias = await client.send(new DescribeKeyCommand({ KeyId: "alias/valid" }));
      assert.equal(alias.KeyMetadata?.KeyId, other);
      const grants = await client.send(new ListGrantsCommand({ KeyId: VALID_KEY.keyId }));
      assert.deepEqual(grants.Grants?.map((g) => [g.GrantId, g.Operations]), [
        [grantId, ["Decrypt", "Encrypt"]],
      ]);
    }, { dbUrl, rootKey: ROOT_KEY_A });
  });
});
