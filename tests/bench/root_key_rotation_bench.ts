/**
 * How long `deno task admin root-key rotate` takes for N keys: fills a fresh database file with
 * N symmetric keys (and N/10 access keys) under root key A, then runs the admin command with
 * keyring [new key, previous key] for each batch size given.
 *
 *   deno run --allow-all tests/bench/root_key_rotation_bench.ts [N=10000] [batch sizes=100,1000]
 *
 * @module
 */
import { SecretBytes } from "../../core/secret.ts";
import type { KeyRecord } from "../../core/types.ts";
import { openDatabase } from "../../storage/client.ts";
import { migrate } from "../../storage/migrate.ts";
import { RootKeyring } from "../../storage/root_keyring.ts";
import { checkRootKeyring } from "../../storage/root_key_table.ts";
import { SqliteStore } from "../../storage/sqlite_store.ts";

const n = Number(Deno.args[0] ?? 10_000);
const batches = (Deno.args[1] ?? "100,1000").split(",").map(Number);
const dir = await Deno.makeTempDir({ prefix: "kms-rotbench-" });
const keys = [crypto.getRandomValues(new Uint8Array(32)).toBase64()];
const dbUrl = `file:${dir}/kms.db`;
try {
  const db = await openDatabase(dbUrl);
  await migrate(db);
  const ring = await RootKeyring.fromBytes([Uint8Array.fromBase64(keys[0]!)]);
  await checkRootKeyring(db, ring, Date.now());
  const store = new SqliteStore(db, ring);
  const filling = performance.now();
  for (let from = 0; from < n; from += 500) {
    const work: Promise<void>[] = [];
    for (let i = from; i < Math.min(n, from + 500); i++) {
      const keyId = crypto.randomUUID();
      const key = {
        keyId,
        accountId: "111122223333",
        region: "us-east-1",
        createdAt: Date.now(),
        description: "",
        keySpec: "SYMMETRIC_DEFAULT",
        keyUsage: "ENCRYPT_DECRYPT",
        origin: "AWS_KMS",
        state: "Enabled",
        deletionDate: null,
        pendingWindowInDays: null,
        policy: "{}",
        currentMaterialVersion: 1,
      } as KeyRecord;
      const material = {
        keyId,
        version: 1,
        keyMaterialId: crypto.randomUUID(),
        material: new SecretBytes(crypto.getRandomValues(new Uint8Array(32))),
        createdAt: Date.now(),
      };
      work.push(store.createKey(key, material, []));
      if (i % 10 === 0) {
        work.push(store.putCredential({
          accessKeyId: `AKIABENCH${String(i).padStart(11, "0")}`,
          secretAccessKey: new SecretBytes(crypto.getRandomValues(new Uint8Array(30))),
          accountId: "111122223333",
          principalArn: "arn:aws:iam::111122223333:root",
          enabled: true,
          createdAt: Date.now(),
        }));
      }
    }
    await Promise.all(work);
  }
  store.close();
  const values = n + Math.ceil(n / 10);
  console.log(
    `filled ${n} keys + ${Math.ceil(n / 10)} access keys in ` +
      `${((performance.now() - filling) / 1000).toFixed(1)} s`,
  );
  await Deno.writeTextFile(`${dir}/root.keys`, "");
  for (const batch of batches) {
    // A fresh key each time, the previous one kept.
    keys.unshift(crypto.getRandomValues(new Uint8Array(32)).toBase64());
    await Deno.writeTextFile(`${dir}/root.keys`, `${keys[0]}\n${keys[1]}\n`);
    const started = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "scripts/admin.ts", "root-key", "rotate", "--batch", `${batch}`],
      cwd: new URL("../../", import.meta.url),
      env: { KMS_DB_URL: dbUrl, KMS_ROOT_KEY_FILE: `${dir}/root.keys` },
      stdout: "piped",
      stderr: "null",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    if (!out.success) throw new Error(new TextDecoder().decode(out.stdout));
    console.log(
      `root-key rotate --batch ${batch}: ${values} values in ${seconds.toFixed(2)} s ` +
        `(${Math.round(values / seconds)} values/s, process start included)`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
