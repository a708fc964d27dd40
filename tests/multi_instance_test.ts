/**
 * Several instances on one database: two `deno run main.ts` processes share
 * one SQLite file and are driven concurrently through the AWS SDK. Nothing
 * written through one may be lost or corrupted by the other, every ciphertext
 * decrypts on both, the audit log holds every call and verifies; and a change
 * made on one (a disabled key, a revoked grant, a new key policy) is in
 * effect on the other within the bound core/coherence.ts documents (1 s).
 *
 * @module
 */
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  type ListAliasesCommandOutput,
  ListGrantsCommand,
  ListKeysCommand,
  type ListKeysCommandOutput,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import assert from "node:assert/strict";
import { SqliteAuditStore } from "../storage/audit_store.ts";
import { openDatabase } from "../storage/client.ts";
import { ACCOUNT_ID, ADMIN, REGION } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_KEY = new Uint8Array(32).fill(9).toBase64();

const BOB = {
  accessKeyId: "AKIABOBMULTI00000001",
  secretAccessKey: "bob-multi-secret-access-key-00000000000",
};
const BOB_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/bob`;

/** One `deno run main.ts` process. */
interface Instance {
  name: string;
  url: string;
  /** A client with the admin credential; `as(bob)` one with bob's. */
  client: KMSClient;
  as(credentials: { accessKeyId: string; secretAccessKey: string }): KMSClient;
  /** Stops the process with SIGTERM (it flushes its audit buffer) and waits for it. */
  stop(): Promise<void>;
  /** What it printed, for failure messages. */
  output(): string;
}

/** A database file shared by instances, and the principals file they load. */
interface World {
  dir: string;
  dbUrl: string;
  principalsFile: string;
}

async function newWorld(): Promise<World> {
  const dir = await Deno.makeTempDir({ prefix: "kms-multi-" });
  const principalsFile = `${dir}/principals.json`;
  await Deno.writeTextFile(
    principalsFile,
    JSON.stringify({
      principals: [{
        accountId: ACCOUNT_ID,
        userName: "bob",
        accessKeyId: BOB.accessKeyId,
        secretAccessKey: BOB.secretAccessKey,
      }],
    }),
  );
  return { dir, dbUrl: `file:${dir}/kms.db`, principalsFile };
}

/** Starts `deno run main.ts` on `world`'s database; resolves once it listens. */
async function startInstance(world: World, name: string): Promise<Instance> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "main.ts"],
    cwd: ROOT,
    env: {
      KMS_DB_URL: world.dbUrl,
      KMS_ROOT_KEY: ROOT_KEY,
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_ACCOUNT_ID: ACCOUNT_ID,
      KMS_REGION: REGION,
      KMS_HOST: "127.0.0.1",
      KMS_PORT: "0",
      KMS_PRINCIPALS_FILE: world.principalsFile,
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let listening: (url: string) => void;
  const url = new Promise<string>((resolve) => listening = resolve);
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const found = /KMS listening on (http:\/\/[^"\s]+)/.exec(line);
        if (found?.[1] !== undefined) listening(found[1]);
      }
    }
    if (rest !== "") lines.push(rest);
  };
  const drained = Promise.all([read(child.stdout), read(child.stderr)]);
  const output = () => lines.slice(-40).join("\n");
  const exited = child.status.then(async (status) => {
    await drained;
    throw new Error(`${name} exited (${status.code}) before listening:\n${output()}`);
  });
  const listeningUrl = await Promise.race([url, exited]);
  exited.catch(() => {});
  const clients: KMSClient[] = [];
  const as = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const client = new KMSClient({
      endpoint: listeningUrl,
      region: REGION,
      // A copy: the SDK marks the object it is given.
      credentials: { ...credentials },
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  let stopped: Promise<void> | null = null;
  return {
    name,
    url: listeningUrl,
    client: as(ADMIN),
    as,
    output,
    stop() {
      stopped ??= (async () => {
        for (const client of clients) client.destroy();
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const status = await child.status;
        await drained;
        assert.equal(status.code, 0, `${name} did not stop cleanly:\n${output()}`);
      })();
      return stopped;
    },
  };
}

/** Two instances on one fresh database, started at the same time; stopped and removed after `fn`. */
async function withTwoInstances(
  fn: (a: Instance, b: Instance, world: World) => Promise<void>,
): Promise<void> {
  const world = await newWorld();
  const started = await Promise.allSettled([startInstance(world, "A"), startInstance(world, "B")]);
  const instances = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  try {
    for (const s of started) if (s.status === "rejected") throw s.reason;
    const [a, b] = instances as [Instance, Instance];
    await fn(a, b, world);
  } finally {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await Deno.remove(world.dir, { recursive: true });
  }
}

/** Runs `tasks` with at most `limit` at a time. */
async function pool(limit: number, tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** Every key id of the account, through one instance. */
async function listAllKeys(client: KMSClient, onCall: () => void): Promise<Set<string>> {
  const ids = new Set<string>();
  let marker: string | undefined;
  do {
    onCall();
    const page: ListKeysCommandOutput = await client.send(
      new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const key of page.Keys ?? []) ids.add(key.KeyId!);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return ids;
}

/** Every alias name -> target key id, through one instance. */
async function listAllAliases(
  client: KMSClient,
  onCall: () => void,
): Promise<Map<string, string>> {
  const aliases = new Map<string, string>();
  let marker: string | undefined;
  do {
    onCall();
    const page: ListAliasesCommandOutput = await client.send(
      new ListAliasesCommand({ Limit: 100, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const alias of page.Aliases ?? []) {
      if (alias.TargetKeyId !== undefined) aliases.set(alias.AliasName!, alias.TargetKeyId);
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return aliases;
}

const KEYS_PER_INSTANCE = 20;
const CONTESTED_ALIASES = 20;

Deno.test("two instances on one database file: 200+ concurrent operations each lose nothing, every ciphertext decrypts on both, the audit log holds every call and verifies", async () => {
  await withTwoInstances(async (a, b, world) => {
    const instances = [a, b] as const;
    /** SDK calls made, each of which must leave exactly one audit record. */
    let calls = 0;
    /** Per instance, the operations it served. */
    const served = new Map<string, number>([["A", 0], ["B", 0]]);
    /** One SDK call on `instance`, counted. */
    const on = <T>(instance: Instance, call: (client: KMSClient) => Promise<T>): Promise<T> => {
      calls++;
      served.set(instance.name, (served.get(instance.name) ?? 0) + 1);
      return call(instance.client);
    };

    interface Created {
      keyId: string;
      alias: string;
      ciphertexts: { blob: Uint8Array; plaintext: Uint8Array }[];
      keptGrant: string;
    }
    const created: Created[] = [];
    const aliasWinners = new Map<string, string>();

    /** One key's life, driven from `own` (which creates it) and `other`. */
    const lifeOfKey = (own: Instance, other: Instance, n: number) => async () => {
      const meta = (await on(
        own,
        (k) => k.send(new CreateKeyCommand({ Description: `${own.name}-${n}` })),
      )).KeyMetadata!;
      const keyId = meta.KeyId!;
      // Usable on the other instance at once.
      const first = new TextEncoder().encode(`first ${own.name} ${n}`);
      const firstBlob = (await on(
        other,
        (k) => k.send(new EncryptCommand({ KeyId: keyId, Plaintext: first })),
      )).CiphertextBlob!;
      const alias = `alias/multi-${own.name}-${n}`;
      await on(
        own,
        (k) => k.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })),
      );
      const ciphertexts = [{ blob: firstBlob, plaintext: first }];
      for (let i = 0; i < 3; i++) {
        const plaintext = new TextEncoder().encode(`${own.name} ${n} ${i}`);
        // Through the alias on the other instance (created on this one a moment ago), and by id.
        const by = i === 0 ? other : own;
        const blob = (await on(
          by,
          (k) =>
            k.send(new EncryptCommand({ KeyId: i === 0 ? alias : keyId, Plaintext: plaintext })),
        )).CiphertextBlob!;
        const decrypted = (await on(
          by === own ? other : own,
          (k) => k.send(new DecryptCommand({ CiphertextBlob: blob })),
        )).Plaintext;
        assert.deepEqual(decrypted, plaintext);
        ciphertexts.push({ blob, plaintext });
      }
      const grant = (name: string) =>
        on(
          own,
          (k) =>
            k.send(
              new CreateGrantCommand({
                KeyId: keyId,
                GranteePrincipal: BOB_ARN,
                Operations: ["Encrypt", "Decrypt"],
                Name: name,
              }),
            ),
        );
      const kept = await grant(`kept-${n}`);
      const revoked = await grant(`revoked-${n}`);
      await on(
        other,
        (k) => k.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: revoked.GrantId! })),
      );
      created.push({ keyId, alias, ciphertexts, keptGrant: kept.GrantId! });
    };

    // Both instances create the same alias names at the same time: exactly one wins each.
    const contested = (n: number) => async () => {
      const name = `alias/contested-${n}`;
      const targets = await Promise.all(instances.map(async (instance) => {
        const keyId = (await on(
          instance,
          (k) => k.send(new CreateKeyCommand({ Description: `contested-${instance.name}-${n}` })),
        )).KeyMetadata!.KeyId!;
        created.push({ keyId, alias: "", ciphertexts: [], keptGrant: "" });
        return keyId;
      }));
      const outcomes = await Promise.allSettled(
        instances.map((instance, i) =>
          on(
            instance,
            (k) => k.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: targets[i] })),
          )
        ),
      );
      const won = outcomes.flatMap((o, i) => o.status === "fulfilled" ? [targets[i]!] : []);
      assert.equal(won.length, 1, `exactly one CreateAlias of ${name} succeeds`);
      for (const o of outcomes) {
        if (o.status === "rejected") {
          assert.equal((o.reason as Error).name, "AlreadyExistsException");
        }
      }
      // And both instances point it at the other key in turn: the last UpdateAlias wins.
      await on(
        a,
        (k) => k.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: targets[1] })),
      );
      await on(
        b,
        (k) => k.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: targets[0] })),
      );
      aliasWinners.set(name, targets[0]!);
    };

    const started = performance.now();
    const tasks: (() => Promise<void>)[] = [];
    for (let n = 0; n < KEYS_PER_INSTANCE; n++) {
      tasks.push(lifeOfKey(a, b, n), lifeOfKey(b, a, n));
    }
    for (let n = 0; n < CONTESTED_ALIASES; n++) tasks.push(contested(n));
    await pool(16, tasks);
    const elapsed = performance.now() - started;
    console.log(
      `  ${calls} operations (A served ${served.get("A")}, B ${served.get("B")}) in ` +
        `${elapsed.toFixed(0)} ms`,
    );
    assert.ok((served.get("A") ?? 0) >= 200 && (served.get("B") ?? 0) >= 200);

    // Nothing lost: every key and alias on both instances, every ciphertext decrypts on both.
    const expectedAliases = new Map<string, string>(aliasWinners);
    for (const c of created) if (c.alias !== "") expectedAliases.set(c.alias, c.keyId);
    for (const instance of instances) {
      const keys = await listAllKeys(instance.client, () => calls++);
      for (const c of created) assert.ok(keys.has(c.keyId), `${instance.name} lists ${c.keyId}`);
      assert.equal(keys.size, created.length);
      const aliases = await listAllAliases(instance.client, () => calls++);
      for (const [name, target] of expectedAliases) {
        assert.equal(aliases.get(name), target, `${instance.name}: ${name}`);
      }
      assert.equal(aliases.size, expectedAliases.size);
      for (const c of created) {
        for (const { blob, plaintext } of c.ciphertexts) {
          const decrypted = (await on(
            instance,
            (k) => k.send(new DecryptCommand({ CiphertextBlob: blob })),
          )).Plaintext;
          assert.deepEqual(decrypted, plaintext);
        }
        if (c.keptGrant === "") continue;
        const grants = (await on(
          instance,
          (k) => k.send(new ListGrantsCommand({ KeyId: c.keyId })),
        )).Grants!;
        assert.deepEqual(grants.map((g) => g.GrantId), [c.keptGrant]);
      }
    }
    assert.equal(created.length, 2 * KEYS_PER_INSTANCE + 2 * CONTESTED_ALIASES);

    // The audit log: one record per call, from both processes, both chains intact.
    await Promise.all([a.stop(), b.stop()]);
    const db = await openDatabase(world.dbUrl);
    try {
      const verified = await new SqliteAuditStore(db).verify();
      assert.ok(verified.ok, `audit log verifies: ${JSON.stringify(verified)}`);
      assert.equal(verified.count, calls, "one audit record per call, none lost");
    } finally {
      db.close();
    }
  });
});

/** Calls `attempt` until it fails with `expected`; resolves the milliseconds that took. */
async function timeUntil(expected: string, attempt: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      await attempt();
    } catch (error) {
      const name = (error as Error).name;
      assert.equal(name, expected, `failed with ${name}, not ${expected}`);
      return performance.now() - started;
    }
    assert.ok(performance.now() - started < 5000, `still no ${expected} after 5 s`);
  }
}

const BOUND_MS = 1000;

Deno.test("a key disabled, a grant revoked or a key policy changed on one instance is in effect on the other within 1 second", async () => {
  await withTwoInstances(async (a, b) => {
    const bobOnB = b.as(BOB);
    const plaintext = new Uint8Array([1, 2, 3]);
    const measured: Record<string, number[]> = { disable: [], revoke: [], policy: [] };
    for (let round = 0; round < 3; round++) {
      const newKey = async () =>
        (await a.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      // Each key is used on B first, so B has its record, grants and policy in memory.
      const warm = async (client: KMSClient, keyId: string) => {
        for (let i = 0; i < 5; i++) {
          await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }));
        }
      };

      const disabled = await newKey();
      await warm(b.client, disabled);
      await a.client.send(new DisableKeyCommand({ KeyId: disabled }));
      measured.disable!.push(
        await timeUntil(
          "DisabledException",
          () => b.client.send(new EncryptCommand({ KeyId: disabled, Plaintext: plaintext })),
        ),
      );

      const granted = await newKey();
      const { GrantId } = await a.client.send(
        new CreateGrantCommand({
          KeyId: granted,
          GranteePrincipal: BOB_ARN,
          Operations: ["Encrypt"],
        }),
      );
      await warm(bobOnB, granted);
      await a.client.send(new RevokeGrantCommand({ KeyId: granted, GrantId }));
      measured.revoke!.push(
        await timeUntil(
          "AccessDeniedException",
          () => bobOnB.send(new EncryptCommand({ KeyId: granted, Plaintext: plaintext })),
        ),
      );

      const governed = await newKey();
      await warm(b.client, governed);
      await a.client.send(
        new PutKeyPolicyCommand({
          KeyId: governed,
          PolicyName: "default",
          Policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
                Action: "kms:*",
                Resource: "*",
              },
              {
                Effect: "Deny",
                Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
                Action: "kms:Encrypt",
                Resource: "*",
              },
            ],
          }),
        }),
      );
      measured.policy!.push(
        await timeUntil(
          "AccessDeniedException",
          () => b.client.send(new EncryptCommand({ KeyId: governed, Plaintext: plaintext })),
        ),
      );
    }
    const worst = (values: number[]) => Math.max(...values);
    console.log(
      "  in effect on the other instance after (ms): " +
        Object.entries(measured).map(([what, values]) =>
          `${what} ${values.map((v) => v.toFixed(0)).join("/")}`
        ).join(", "),
    );
    for (const [what, values] of Object.entries(measured)) {
      assert.ok(worst(values) < BOUND_MS, `${what}: ${worst(values).toFixed(0)} ms`);
    }
  });
});

Deno.test("a change of a key on one instance never writes back what another instance changed a moment before", async () => {
  await withTwoInstances(async (a, b, world) => {
    const keyId = (await a.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    // B holds the key's record in memory.
    await b.client.send(new DescribeKeyCommand({ KeyId: keyId }));
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Sid: "changed on A",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
        Action: "kms:*",
        Resource: "*",
      }],
    });
    await a.client.send(
      new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: policy }),
    );
    // At once, before B can have heard of it: a change of another field of the same key on B.
    await b.client.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: "on B" }));
    // What is stored holds both changes: A's policy was not written back by B.
    const db = await openDatabase(world.dbUrl);
    try {
      const { rows } = await db.execute({
        sql: "SELECT policy, description FROM keys WHERE key_id = ?",
        args: [keyId],
      });
      assert.equal(rows[0]?.policy, policy, "the database keeps A's policy");
      assert.equal(rows[0]?.description, "on B");
    } finally {
      db.close();
    }
    // And both instances come to answer what is stored (waiting, not sleeping, for B to hear).
    for (const instance of [a, b]) {
      await waitFor(async () => {
        const stored = await instance.client.send(
          new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }),
        );
        const described = await instance.client.send(new DescribeKeyCommand({ KeyId: keyId }));
        return stored.Policy === policy && described.KeyMetadata?.Description === "on B";
      }, `${instance.name} answers A's policy and B's description`);
    }
  });
});
