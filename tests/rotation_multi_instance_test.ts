/**
 * Two `deno run main.ts` processes on one database, each with its automatic
 * rotation scheduler looking every 5 ms, never rotate the same key twice in
 * one period. Each logs its looks at debug level ("rotation look"), so the test
 * waits for a number of looks, not for a time. Their lifecycle clock is moved through the test-only
 * KMS_TEST_CLOCK_OFFSET_FILE (main.ts): both read the same offset file.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  type KMSClient,
  ListKeyRotationsCommand,
  type RotationsListEntry,
} from "@aws-sdk/client-kms";
import { type KmsProcess, startKms } from "./helpers/kms_process.ts";
import { ACCOUNT_ID, ADMIN, REGION } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

const ROOT_KEY = new Uint8Array(32).fill(11).toBase64();
const DAY = 86_400_000;
const KEYS = 24;

/** A server on `dbUrl` whose scheduler looks every 5 ms, its clock moved by `offsetFile`. */
function startInstance(dbUrl: string, offsetFile: string): Promise<KmsProcess> {
  return startKms({
    KMS_DB_URL: dbUrl,
    KMS_ROOT_KEY: ROOT_KEY,
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    KMS_ACCOUNT_ID: ACCOUNT_ID,
    KMS_REGION: REGION,
    KMS_HOST: "127.0.0.1",
    KMS_PORT: "0",
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
    KMS_ROTATION_CHECK_INTERVAL_MS: "5",
    KMS_TEST_CLOCK_OFFSET_FILE: offsetFile,
    KMS_LOG_LEVEL: "debug",
  });
}

async function rotationsOf(client: KMSClient, KeyId: string): Promise<RotationsListEntry[]> {
  return (await client.send(new ListKeyRotationsCommand({ KeyId, Limit: 1000 }))).Rotations ?? [];
}

/** The keys rotated by an instance, from its "automatic key rotation" log lines. */
function rotatedBy(instance: KmsProcess): { rotated: string[]; lost: number } {
  const rotated: string[] = [];
  let lost = 0;
  for (const line of instance.lines()) {
    if (!line.includes('"automatic key rotation"')) continue;
    const record = JSON.parse(line) as { rotated: string[]; lost: number };
    rotated.push(...record.rotated);
    lost += record.lost;
  }
  return { rotated, lost };
}

/** How many looks the instance's scheduler has logged ("rotation look", debug level). */
function looksOf(instance: KmsProcess): number {
  let looks = 0;
  for (const line of instance.lines()) {
    if (!line.includes('"rotation look"')) continue;
    looks = Math.max(looks, (JSON.parse(line) as { looks: number }).looks);
  }
  return looks;
}

/** Waits until both instances' schedulers have looked `more` more times than now. */
async function untilLookedAgain(instances: KmsProcess[], more: number): Promise<void> {
  const targets = instances.map((instance) => looksOf(instance) + more);
  await waitFor(
    () => instances.every((instance, i) => looksOf(instance) >= targets[i]!),
    `${more} more looks of each scheduler`,
  );
}

/** Waits until every key has `count` rotations. */
async function untilRotated(client: KMSClient, keys: string[], count: number): Promise<void> {
  for (const KeyId of keys) {
    await waitFor(
      async () => (await rotationsOf(client, KeyId)).length >= count,
      `key ${KeyId} rotated ${count} times`,
    );
  }
}

Deno.test("two instances on one database never rotate the same key twice in one period", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-rotation-multi-" });
  const offsetFile = `${dir}/clock-offset-ms`;
  await Deno.writeTextFile(offsetFile, "0");
  const dbUrl = `file:${dir}/kms.db`;
  // One instance first (it applies the migrations and creates the admin), then the other.
  const a = await startInstance(dbUrl, offsetFile);
  let b: KmsProcess | undefined;
  try {
    b = await startInstance(dbUrl, offsetFile);
    const keys: string[] = [];
    const ciphertexts = new Map<string, Uint8Array>();
    for (let i = 0; i < KEYS; i++) {
      const client = i % 2 === 0 ? a.client : b.client;
      const KeyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await client.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
      const { CiphertextBlob } = await client.send(
        new EncryptCommand({ KeyId, Plaintext: new TextEncoder().encode(KeyId) }),
      );
      keys.push(KeyId);
      ciphertexts.set(KeyId, CiphertextBlob!);
    }
    for (const [period, offset] of [[1, 91 * DAY], [2, 182 * DAY]] as const) {
      await Deno.writeTextFile(offsetFile, String(offset));
      await untilRotated(a.client, keys, period);
      // Both schedulers keep looking (every 5 ms): give them many more chances to double up.
      await untilLookedAgain([a, b], 50);
      for (const KeyId of keys) {
        const rotations = await rotationsOf(period === 1 ? b.client : a.client, KeyId);
        assert.equal(rotations.length, period, `key ${KeyId} in period ${period}`);
        assert.ok(rotations.every((r) => r.RotationType === "AUTOMATIC"));
      }
    }
    // Each rotation was made, and logged, by exactly one of the two instances.
    const byA = rotatedBy(a);
    const byB = rotatedBy(b);
    const all = [...byA.rotated, ...byB.rotated].sort();
    assert.deepEqual(all, [...keys, ...keys].sort());
    // And they did race for them: claims were lost (several dozen per run here), never doubled.
    assert.ok(byA.lost + byB.lost > 0, "the two schedulers never raced");
    // Every ciphertext made before the rotations decrypts on both instances.
    for (const [KeyId, CiphertextBlob] of ciphertexts) {
      for (const client of [a.client, b.client]) {
        const out = await client.send(new DecryptCommand({ CiphertextBlob }));
        assert.equal(new TextDecoder().decode(out.Plaintext), KeyId);
      }
    }
  } finally {
    await b?.stop();
    await a.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
