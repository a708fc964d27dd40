/**
 * Root-key rotation end to end, with real processes: `deno run main.ts` servers and
 * `deno run scripts/admin.ts root-key rotate` killed with SIGKILL mid-way, and a rotation run
 * under a continuous client load on two servers. Every key made before, during and after must
 * keep working; nothing may fail.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListKeysCommand,
  type ListKeysCommandOutput,
} from "@aws-sdk/client-kms";
import { RootKeyring } from "../storage/root_keyring.ts";
import { checkKey, type KeyFixture, KINDS, makeKey } from "./helpers/key_fixtures.ts";
import {
  failingKms,
  kmsEnv,
  type KmsProcess,
  runAdmin,
  startAdmin,
  startKms,
} from "./helpers/kms_process.ts";
import { REGION } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

interface World {
  dir: string;
  keyFile: string;
  env: Record<string, string>;
  /** base64 keys */
  a: string;
  b: string;
  idA: string;
  idB: string;
}

async function newWorld(): Promise<World> {
  const dir = await Deno.makeTempDir({ prefix: "kms-rootrot-" });
  const keyFile = `${dir}/root.keys`;
  const a = crypto.getRandomValues(new Uint8Array(32)).toBase64();
  const b = crypto.getRandomValues(new Uint8Array(32)).toBase64();
  const id = async (k: string) =>
    (await RootKeyring.fromBytes([Uint8Array.fromBase64(k)])).currentId;
  await writeKeyring(keyFile, [a]);
  return {
    dir,
    keyFile,
    // Keys of every spec (tests/helpers/key_fixtures.ts), SM2 among them, in us-east-1.
    env: { ...kmsEnv(`file:${dir}/kms.db`, keyFile), KMS_SM2_ALL_REGIONS: "true" },
    a,
    b,
    idA: await id(a),
    idB: await id(b),
  };
}

async function writeKeyring(path: string, keys: string[]): Promise<void> {
  // Replaced in one rename, as an operator's editor or `mv` would.
  await Deno.writeTextFile(`${path}.tmp`, keys.join("\n") + "\n", { mode: 0o600 });
  await Deno.rename(`${path}.tmp`, path);
}

/** Rows of `root-key status --json`, by root-key id. */
async function status(world: World): Promise<Map<string, { state: string; values: number }>> {
  const run = await runAdmin(world.env, ["root-key", "status", "--json"]);
  assert.equal(run.code, 0, run.output);
  const rows = new Map<string, { state: string; values: number }>();
  for (const line of run.output.split("\n").filter((l) => l.startsWith("{"))) {
    const row = JSON.parse(line);
    rows.set(row.rootKey, { state: row.state, values: Number(row.wrappedValues) });
  }
  return rows;
}

async function allKeyIds(client: KMSClient): Promise<string[]> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page: ListKeysCommandOutput = await client.send(
      new ListKeysCommand({ Limit: 1000, Marker: marker }),
    );
    ids.push(...page.Keys!.map((k) => k.KeyId!));
    marker = page.NextMarker;
  } while (marker !== undefined);
  return ids.sort();
}

/** Every fixture still works, and an access key made by the admin tool signs requests. */
async function checkAll(
  server: KmsProcess,
  fixtures: KeyFixture[],
  accessKey: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  for (const f of fixtures) await checkKey(server.client, f);
  const other = new KMSClient({
    endpoint: server.url,
    region: REGION,
    credentials: { ...accessKey },
    maxAttempts: 1,
  });
  try {
    const listed = await allKeyIds(other);
    for (const f of fixtures) assert.ok(listed.includes(f.keyId), `${f.keyId} lost`);
  } finally {
    other.destroy();
  }
}

async function accessKeyFor(
  world: World,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const run = await runAdmin(world.env, ["access-key", "create", "arn:aws:iam::111122223333:root"]);
  assert.equal(run.code, 0, run.output);
  return {
    accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(run.output)![1]!,
    secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(run.output)![1]!,
  };
}

Deno.test({
  name: "root-key rotation: SIGKILL of the admin tool and of the server mid-way loses no key; " +
    "the old key retires and the new key alone serves; the old key alone is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const world = await newWorld();
    const servers: KmsProcess[] = [];
    try {
      const first = await startKms(world.env);
      servers.push(first);
      const fixtures: KeyFixture[] = [];
      for (const kind of KINDS) fixtures.push(await makeKey(first.client, kind));
      for (let i = 0; i < 40; i++) fixtures.push(await makeKey(first.client, KINDS[0]!));
      const accessKeys = [await accessKeyFor(world), await accessKeyFor(world)];
      // Principals' secrets too: a user with an access key.
      assert.equal(
        (await runAdmin(world.env, [
          "principal",
          "create",
          "--account",
          "111122223333",
          "--user",
          "u",
        ]))
          .code,
        0,
      );
      assert.equal(
        (await runAdmin(world.env, ["access-key", "create", "arn:aws:iam::111122223333:user/u"]))
          .code,
        0,
      );

      // A keyring without the key in use is refused on SIGHUP; the server keeps its keyring.
      await writeKeyring(world.keyFile, [world.b]);
      first.signal("SIGHUP");
      const refusedReload = (await first.waitFor(/root keyring reload refused.*/))[0];
      assert.match(refusedReload, new RegExp(`lacks root key ${world.idA}`));
      await checkKey(first.client, fixtures[0]!);

      // The new key first, the old one kept; SIGHUP: the server writes under the new key.
      await writeKeyring(world.keyFile, [world.b, world.a]);
      first.signal("SIGHUP");
      await first.waitFor(/root keyring reloaded/);
      fixtures.push(await makeKey(first.client, KINDS[0]!));
      const before = await status(world);
      assert.equal(before.get(world.idB)?.values, 1);
      const total = before.get(world.idA)!.values + 1;

      // 1. The admin tool dies (SIGKILL) after a few batches.
      const rotation = startAdmin(world.env, [
        "root-key",
        "rotate",
        "--batch",
        "4",
        "--pause-ms",
        "50",
      ]);
      await rotation.waitFor(/re-wrapped/);
      await rotation.kill();
      for (const key of [world.a, world.b]) assert.ok(!first.output().includes(key));
      const partial = await status(world);
      assert.ok(partial.get(world.idA)!.values > 0, "the rotation was not killed mid-way");
      assert.ok(partial.get(world.idB)!.values > 1, "nothing was re-wrapped before the kill");
      assert.equal(partial.get(world.idA)!.values + partial.get(world.idB)!.values, total);
      assert.equal(partial.get(world.idA)!.state, "retiring");

      // 2. The server dies too; a new one (cold caches: everything read from the database) serves
      //    the half-rotated database.
      await first.kill();
      const second = await startKms(world.env);
      servers.push(second);
      await checkAll(second, fixtures, accessKeys[0]!);

      // 3. The rotation resumes; the server is killed while it runs; the rotation finishes.
      const resumed = startAdmin(world.env, [
        "root-key",
        "rotate",
        "--batch",
        "4",
        "--pause-ms",
        "20",
      ]);
      await resumed.waitFor(/re-wrapped/);
      await second.kill();
      const done = await resumed.done();
      assert.equal(done.code, 0, done.output);
      assert.match(done.output, new RegExp(`Retired root keys ${world.idA}`));
      const after = await status(world);
      assert.equal(after.get(world.idA)?.state, "retired");
      assert.equal(after.get(world.idA)?.values ?? 0, 0);
      assert.equal(after.get(world.idB)?.values, total);

      // 4. The new key alone: everything works.
      await writeKeyring(world.keyFile, [world.b]);
      const third = await startKms(world.env);
      servers.push(third);
      await checkAll(third, fixtures, accessKeys[1]!);
      await third.stop();

      // 5. The old key alone: refused at start, naming ids and no key.
      await writeKeyring(world.keyFile, [world.a]);
      const refused = await failingKms(world.env);
      assert.match(refused, new RegExp(`lacks root key ${world.idB}`));
      for (const key of [world.a, world.b]) assert.ok(!refused.includes(key), "a key was printed");
    } finally {
      for (const server of servers) await server.kill();
      await Deno.remove(world.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "root-key rotation under load on two servers: zero failed requests, zero lost keys",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const world = await newWorld();
    const servers: KmsProcess[] = [];
    try {
      const first = await startKms(world.env);
      servers.push(first);
      const keys: string[] = [];
      const ciphertexts: { keyId: string; blob: Uint8Array; plain: Uint8Array }[] = [];
      for (let i = 0; i < 300; i++) {
        keys.push((await first.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
      }
      await writeKeyring(world.keyFile, [world.b, world.a]);
      first.signal("SIGHUP");
      await first.waitFor(/root keyring reloaded/);
      // A second instance with cold caches; each one's writes make the other re-read from the
      // database (core/coherence.ts), so reads of half-rotated rows happen all the time.
      const second = await startKms(world.env);
      servers.push(second);

      let stop = false;
      let ok = 0;
      const failures: string[] = [];
      const worker = async (client: KMSClient, n: number) => {
        for (let i = 0; !stop; i++) {
          try {
            if (i % 10 === n % 10) {
              keys.push((await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
            }
            const keyId = keys[Math.floor(Math.random() * keys.length)]!;
            const plain = crypto.getRandomValues(new Uint8Array(16));
            const out = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: plain }));
            const back = await client.send(
              new DecryptCommand({ CiphertextBlob: out.CiphertextBlob }),
            );
            assert.deepEqual(back.Plaintext, plain);
            const dataKey = await client.send(
              new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }),
            );
            const data = await client.send(
              new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }),
            );
            assert.deepEqual(data.Plaintext, dataKey.Plaintext);
            ciphertexts.push({ keyId, blob: out.CiphertextBlob!, plain });
            ok += 5;
          } catch (e) {
            failures.push(String(e));
          }
        }
      };
      const load = [0, 1, 2, 3].map((n) => worker((n % 2 === 0 ? first : second).client, n));
      await waitFor(() => ok >= 20 || failures.length > 0, "load on both instances");
      const started = performance.now();
      const okBefore = ok;
      const rotation = await runAdmin(world.env, [
        "root-key",
        "rotate",
        "--batch",
        "5",
        "--pause-ms",
        "10",
      ]);
      const seconds = (performance.now() - started) / 1000;
      const during = ok - okBefore;
      const okAfter = ok;
      await waitFor(() => ok > okAfter || failures.length > 0, "requests after the rotation");
      stop = true;
      await Promise.all(load);
      assert.equal(rotation.code, 0, rotation.output);
      assert.deepEqual(failures, [], `${failures.length} failed requests`);
      console.log(
        `rotation under load: ${seconds.toFixed(2)} s; ${during} requests succeeded while it ran ` +
          `(${ok} in all), 0 failed`,
      );

      // Keys created on either server after the final count went under the new key anyway;
      // a second run finds nothing left.
      const again = await runAdmin(world.env, ["root-key", "rotate"]);
      assert.equal(again.code, 0, again.output);
      await first.stop();
      await second.stop();

      await writeKeyring(world.keyFile, [world.b]);
      const third = await startKms(world.env);
      servers.push(third);
      assert.deepEqual(await allKeyIds(third.client), [...new Set(keys)].sort());
      for (const c of ciphertexts) {
        const back = await third.client.send(new DecryptCommand({ CiphertextBlob: c.blob }));
        assert.deepEqual(back.Plaintext, c.plain);
        assert.ok(back.KeyId!.endsWith(c.keyId));
      }
    } finally {
      for (const server of servers) await server.kill();
      await Deno.remove(world.dir, { recursive: true });
    }
  },
});
