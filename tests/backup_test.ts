/**
 * `deno task admin backup` end to end: a backup taken while a real server takes writes, restored
 * into a new server (same root keyring) per the README's procedure; every key whose creation
 * was acknowledged before the backup began must be there and decrypt what it encrypted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from "@aws-sdk/client-kms";
import { backupDatabase, BackupError } from "../storage/backup.ts";
import { openDatabase } from "../storage/client.ts";
import { kmsEnv, type KmsProcess, runAdmin, startKms } from "./helpers/kms_process.ts";
import { waitFor } from "./helpers/wait.ts";

Deno.test({
  name: "backup under load: restored into a new server, every key acknowledged before the " +
    "backup began decrypts its ciphertexts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kms-backup-" });
    const keyFile = `${dir}/root.key`;
    const env = kmsEnv(`file:${dir}/live/kms.db`, keyFile);
    await Deno.mkdir(`${dir}/live`); // a server refuses a missing directory (README "Start-up checks")
    const servers: KmsProcess[] = [];
    try {
      const live = await startKms(env);
      servers.push(live);
      const acked: { keyId: string; blob: Uint8Array; plain: Uint8Array; at: number }[] = [];
      const failures: string[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          try {
            const keyId = (await live.client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
            const plain = crypto.getRandomValues(new Uint8Array(24));
            const out = await live.client.send(
              new EncryptCommand({ KeyId: keyId, Plaintext: plain }),
            );
            acked.push({ keyId, blob: out.CiphertextBlob!, plain, at: performance.now() });
          } catch (e) {
            failures.push(String(e));
          }
        }
      };
      const load = [worker(), worker(), worker()];
      // Enough acknowledged keys before the backup begins (none may fail meanwhile).
      await waitFor(() => acked.length > 20 || failures.length > 0, "21 acknowledged keys");
      const began = performance.now();
      const backup = await runAdmin(env, ["backup", `${dir}/backup.db`]);
      const ended = performance.now();
      // Clients keep writing after the backup too (those keys are not in it).
      const ackedAtEnd = acked.length;
      await waitFor(() => acked.length > ackedAtEnd + 2 || failures.length > 0, "writes after it");
      stop = true;
      await Promise.all(load);
      assert.equal(backup.code, 0, backup.output);
      assert.match(backup.output, /integrity check ok/);
      assert.match(backup.output, /The root keys are NOT in it/);
      assert.deepEqual(failures, []);
      const before = acked.filter((a) => a.at < began);
      const during = acked.filter((a) => a.at >= began && a.at <= ended).length;
      assert.ok(before.length > 20, `only ${before.length} keys before the backup`);
      assert.equal((await Deno.stat(`${dir}/backup.db`)).mode! & 0o777, 0o600);
      // A second backup to the same path is refused.
      const again = await runAdmin(env, ["backup", `${dir}/backup.db`]);
      assert.equal(again.code, 1);
      assert.match(again.output, /exists; name a new file/);
      await live.stop();

      // Restore: copy the file into place (no -wal or -shm beside it), same root keyring.
      await Deno.mkdir(`${dir}/restored`);
      await Deno.copyFile(`${dir}/backup.db`, `${dir}/restored/kms.db`);
      const restored = await startKms({ ...env, KMS_DB_URL: `file:${dir}/restored/kms.db` });
      servers.push(restored);
      for (const a of before) {
        const back = await restored.client.send(new DecryptCommand({ CiphertextBlob: a.blob }));
        assert.deepEqual(back.Plaintext, a.plain);
        assert.ok(back.KeyId!.endsWith(a.keyId));
      }
      console.log(
        `backup under load: ${before.length} keys acknowledged before it, ${during} while it ` +
          `ran (${(ended - began).toFixed(0)} ms with the admin process), all restored`,
      );
    } finally {
      for (const server of servers) await server.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("backupDatabase refuses remote and in-memory databases and existing files", async () => {
  const db = await openDatabase(":memory:");
  const dir = await Deno.makeTempDir({ prefix: "kms-backup-" });
  try {
    for (const url of [":memory:", "libsql://example.turso.io", "https://db.example"]) {
      await assert.rejects(backupDatabase(db, url, `${dir}/x.db`), BackupError);
    }
    await Deno.writeTextFile(`${dir}/taken.db`, "");
    await assert.rejects(
      backupDatabase(db, `file:${dir}/kms.db`, `${dir}/taken.db`),
      /exists; name a new file/,
    );
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
