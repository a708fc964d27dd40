import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import { ConfigError } from "../core/config.ts";
import { DEPLOY_DEFAULTS, parseDeployConfig } from "../deploy.ts";
import { databaseDriver } from "../storage/client.ts";
import { startHranaServer } from "./helpers/hrana_server.ts";
import { ACCOUNT_ID, ADMIN, REGION } from "./helpers/server.ts";

const REPO_ROOT = new URL("../", import.meta.url);
const ROOT_KEY = new Uint8Array(32).fill(11).toBase64();

const DEPLOY_ENV = {
  KMS_DB_URL: "libsql://kms-example.turso.io",
  KMS_DB_AUTH_TOKEN: "token",
  KMS_ROOT_KEY: ROOT_KEY,
  KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
  KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
};

Deno.test("databaseDriver picks the native driver for local files and memory, the web client for remote URLs", () => {
  for (
    const url of [
      ":memory:",
      "file::memory:?cache=private",
      "file:./data/kms.db",
      "file:///var/kms.db",
    ]
  ) {
    assert.equal(databaseDriver(url), "native", url);
  }
  for (
    const url of [
      "libsql://kms-example.turso.io",
      "https://kms-example.turso.io",
      "http://127.0.0.1:8080",
      "wss://kms-example.turso.io",
      "ws://127.0.0.1:8080",
    ]
  ) {
    assert.equal(databaseDriver(url), "web", url);
  }
});

Deno.test("parseDeployConfig takes a remote database, the root key and the admin credential from the environment", () => {
  const config = parseDeployConfig(DEPLOY_ENV);
  assert.equal(config.dbUrl, "libsql://kms-example.turso.io");
  assert.equal(config.dbAuthToken, "token");
  assert.equal(config.rootKey, ROOT_KEY);
  assert.equal(config.adminAccessKeyId, ADMIN.accessKeyId);
  assert.equal(config.adminSecretAccessKey, ADMIN.secretAccessKey);
  // Isolates: no worker threads, no background RSA generation, unless asked for.
  assert.equal(config.cryptoWorkers, 0);
  assert.deepEqual(config.rsaPoolSizes, { RSA_2048: 0, RSA_3072: 0, RSA_4096: 0 });
  assert.equal(DEPLOY_DEFAULTS.KMS_CRYPTO_WORKERS, "0");
  const tuned = parseDeployConfig({
    ...DEPLOY_ENV,
    KMS_CRYPTO_WORKERS: "2",
    KMS_RSA_POOL_2048: "4",
  });
  assert.equal(tuned.cryptoWorkers, 2);
  assert.equal(tuned.rsaPoolSizes.RSA_2048, 4);
  // Empty variables (as dashboards leave them) count as unset.
  assert.equal(parseDeployConfig({ ...DEPLOY_ENV, KMS_CRYPTO_WORKERS: "" }).cryptoWorkers, 0);
});

Deno.test("parseDeployConfig refuses a local database, a missing root key and a missing admin credential", () => {
  const refused = (env: Record<string, string | undefined>, pattern: RegExp) =>
    assert.throws(
      () => parseDeployConfig(env),
      (e) => e instanceof ConfigError && pattern.test(e.message),
    );
  refused(
    { ...DEPLOY_ENV, KMS_DB_URL: undefined },
    /KMS_DB_URL must name a remote libSQL database/,
  );
  refused({ ...DEPLOY_ENV, KMS_DB_URL: "file:./data/kms.db" }, /KMS_DB_URL/);
  refused({ ...DEPLOY_ENV, KMS_DB_URL: ":memory:" }, /KMS_DB_URL/);
  refused({ ...DEPLOY_ENV, KMS_ROOT_KEY: undefined }, /KMS_ROOT_KEY must be set/);
  refused({ ...DEPLOY_ENV, KMS_ROOT_KEY: "" }, /KMS_ROOT_KEY must be set/);
  refused(
    { ...DEPLOY_ENV, KMS_ADMIN_ACCESS_KEY_ID: undefined, KMS_ADMIN_SECRET_ACCESS_KEY: undefined },
    /KMS_ADMIN_ACCESS_KEY_ID and KMS_ADMIN_SECRET_ACCESS_KEY must be set/,
  );
});

Deno.test("deploy.ts reaches the native libSQL driver only through a dynamic import it never runs for remote URLs", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "deploy.ts"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { specifier: string; code?: unknown; isDynamic?: boolean }[];
    }[];
  };
  // Type-only imports carry no `code` dependency: only runtime imports are listed here.
  const runtime = info.modules.flatMap((module) =>
    (module.dependencies ?? [])
      .filter((d) => d.code !== undefined && /^@libsql\/client(\/|$)/.test(d.specifier))
      .map((d) => ({
        from: module.specifier.slice(REPO_ROOT.href.length),
        specifier: d.specifier,
        dynamic: d.isDynamic === true,
      }))
  );
  assert.deepEqual(runtime.sort((a, b) => a.specifier.localeCompare(b.specifier)), [
    { from: "storage/client.ts", specifier: "@libsql/client", dynamic: true },
    { from: "storage/client.ts", specifier: "@libsql/client/web", dynamic: false },
  ]);
});

/** A running deploy.ts process (net and env permissions only) and an SDK client for it. */
interface DeployProcess {
  url: string;
  client: KMSClient;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `deno run --allow-net --allow-env deploy.ts`: no file access, no native addons. */
async function startDeploy(env: Record<string, string>): Promise<DeployProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "deploy.ts"],
    cwd: REPO_ROOT,
    env: {
      KMS_ACCOUNT_ID: ACCOUNT_ID,
      KMS_REGION: REGION,
      KMS_HOST: "127.0.0.1",
      KMS_PORT: "0",
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let resolvePort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => resolvePort = resolve);
  const read = (stream: ReadableStream<Uint8Array>) =>
    (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        const listening = /KMS listening on http:\/\/[^:]+:(\d+)/.exec(text);
        if (listening !== null) resolvePort(Number(listening[1]));
      }
    })();
  const drained = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status.then((status) => {
    throw new Error(`deploy.ts exited (${status.code}) before listening:\n${text}`);
  });
  const url = `http://127.0.0.1:${await Promise.race([port, exited])}`;
  exited.catch(() => {});
  const client = new KMSClient({
    endpoint: url,
    region: REGION,
    credentials: ADMIN,
    maxAttempts: 1,
  });
  return {
    url,
    client,
    output: () => text,
    async stop() {
      client.destroy();
      child.kill("SIGTERM");
      // SIGTERM flushes the audit log and closes the store, then exits 0.
      assert.equal((await child.status).code, 0, text);
      await drained;
    },
  };
}

/** Keys, aliases and data keys through deploy.ts; a second process on the same database decrypts. */
async function exerciseDeploy(env: Record<string, string>): Promise<void> {
  const first = await startDeploy(env);
  let blob: Uint8Array;
  const alias = `alias/deploy-test-${crypto.randomUUID()}`;
  try {
    const keyId = (await first.client.send(new CreateKeyCommand({ Description: "deploy test" })))
      .KeyMetadata!.KeyId!;
    await first.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    blob = (await first.client.send(
      new EncryptCommand({ KeyId: alias, Plaintext: new TextEncoder().encode("on the edge") }),
    )).CiphertextBlob!;
    const dataKey = await first.client.send(
      new GenerateDataKeyCommand({ KeyId: alias, KeySpec: "AES_256" }),
    );
    assert.equal(dataKey.Plaintext?.length, 32);
    const metrics = await (await fetch(new URL("/metrics", first.url))).text();
    assert.match(metrics, /^kms_requests_total\{operation="CreateKey"\} 1$/m);
  } finally {
    await first.stop();
  }
  assert.match(
    first.output(),
    /"message":"request","requestId":"[^"]+","operation":"CreateKey","status":200/,
  );
  const second = await startDeploy(env);
  try {
    const decrypted = await second.client.send(new DecryptCommand({ CiphertextBlob: blob }));
    assert.equal(new TextDecoder().decode(decrypted.Plaintext), "on the edge");
  } finally {
    await second.stop();
  }
}

Deno.test("deploy.ts serves KMS requests from a libSQL server over HTTP with only net and env permissions (local Hrana stand-in)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-deploy-" });
  const token = "stand-in-auth-token";
  const remote = startHranaServer(`${dir}/remote.db`, { token });
  try {
    await exerciseDeploy({
      KMS_DB_URL: remote.url,
      KMS_DB_AUTH_TOKEN: token,
      KMS_ROOT_KEY: ROOT_KEY,
    });
    assert.ok(remote.pipelines > 0);
    // Without the token the server refuses, and the entry does not start.
    await assert.rejects(
      startDeploy({ KMS_DB_URL: remote.url, KMS_ROOT_KEY: ROOT_KEY }),
      /exited \(1\) before listening/,
    );
  } finally {
    await remote.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const REMOTE_URL = Deno.env.get("KMS_TEST_REMOTE_DB_URL");

Deno.test({
  name: REMOTE_URL === undefined
    ? "deploy.ts against a real remote libSQL database (SKIPPED: set KMS_TEST_REMOTE_DB_URL, and KMS_TEST_REMOTE_DB_AUTH_TOKEN if needed, to run it)"
    : "deploy.ts serves KMS requests from the remote libSQL database KMS_TEST_REMOTE_DB_URL through the web client",
  ignore: REMOTE_URL === undefined,
  async fn() {
    const env: Record<string, string> = {
      KMS_DB_URL: REMOTE_URL!,
      // A fixed key, so the test runs again on the same database; override for a database
      // written under another root key.
      KMS_ROOT_KEY: Deno.env.get("KMS_TEST_REMOTE_ROOT_KEY") ?? ROOT_KEY,
    };
    const token = Deno.env.get("KMS_TEST_REMOTE_DB_AUTH_TOKEN");
    if (token !== undefined) env.KMS_DB_AUTH_TOKEN = token;
    await exerciseDeploy(env);
  },
});
