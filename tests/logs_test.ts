import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import { parseConfig } from "../core/config.ts";
import { openService } from "../main.ts";
import { ACCOUNT_ID, ADMIN, errorName, REGION } from "./helpers/server.ts";

const REPO_ROOT = new URL("../", import.meta.url);

/** The secrets a test plants; none may appear in a log line in any encoding. */
interface Canaries {
  rootKey: Uint8Array;
  adminSecret: string;
  principalSecret: string;
  wrongSecret: string;
  metricsToken: string;
  plaintext: string;
}

function newCanaries(): Canaries {
  const tag = crypto.randomUUID().slice(0, 8);
  return {
    rootKey: crypto.getRandomValues(new Uint8Array(32)),
    adminSecret: `canary-admin-secret-${tag}-0000000000`,
    principalSecret: `canary-principal-secret-${tag}-00000`,
    wrongSecret: `canary-wrong-secret-${tag}-000000000`,
    metricsToken: `canary-metrics-token-${tag}`,
    plaintext: `canary-plaintext-${tag}-do-not-log`,
  };
}

const PRINCIPAL = {
  accessKeyId: "AKIACANARYUSER000001",
  arn: `arn:aws:iam::${ACCOUNT_ID}:user/canary`,
};

/**
 * How `bytes` could show up in text: as they are (when UTF-8), hex, and base64 / base64url at
 * each of the three alignments it can have inside a longer encoded value (the groups touching the
 * edges are dropped, as they mix in neighbouring bytes).
 */
function encodings(bytes: Uint8Array): string[] {
  const forms = [new TextDecoder().decode(bytes), bytes.toHex(), bytes.toHex().toUpperCase()];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = new Uint8Array(shift + bytes.length);
    shifted.set(bytes, shift);
    const base64 = shifted.toBase64();
    const core = base64.slice(4, base64.length - 4);
    forms.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms.filter((form) => form.length >= 12);
}

function assertNoCanary(text: string, secrets: Record<string, Uint8Array | string>): void {
  for (const [name, secret] of Object.entries(secrets)) {
    const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    for (const form of encodings(bytes)) {
      assert.ok(!text.includes(form), `the logs contain ${name} (as "${form}")`);
    }
  }
}

function canarySecrets(c: Canaries, extra: Record<string, Uint8Array> = {}) {
  return {
    "the root key": c.rootKey,
    "the admin secret access key": c.adminSecret,
    "a principal's secret access key": c.principalSecret,
    "a wrong secret used to sign": c.wrongSecret,
    "the metrics token": c.metricsToken,
    "an Encrypt plaintext": c.plaintext,
    ...extra,
  };
}

async function principalsFile(dir: string, c: Canaries): Promise<string> {
  const path = `${dir}/principals.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      principals: [{
        accountId: ACCOUNT_ID,
        userName: "canary",
        accessKeyId: PRINCIPAL.accessKeyId,
        secretAccessKey: c.principalSecret,
        policies: {
          All: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }],
          },
        },
      }],
    }),
  );
  return path;
}

function serverEnv(dir: string, c: Canaries, principals: string): Record<string, string> {
  return {
    KMS_DB_URL: `file:${dir}/kms.db`,
    KMS_ROOT_KEY: c.rootKey.toBase64(),
    KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    KMS_ADMIN_SECRET_ACCESS_KEY: c.adminSecret,
    KMS_ACCOUNT_ID: ACCOUNT_ID,
    KMS_REGION: REGION,
    KMS_HOST: "127.0.0.1",
    KMS_PORT: "0",
    KMS_LOG_LEVEL: "debug",
    KMS_PRINCIPALS_FILE: principals,
    KMS_METRICS_TOKEN: c.metricsToken,
    KMS_RSA_POOL_2048: "0",
    KMS_RSA_POOL_3072: "0",
    KMS_RSA_POOL_4096: "0",
  };
}

function client(url: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  return new KMSClient({ endpoint: url, region: REGION, credentials, maxAttempts: 1 });
}

/**
 * Drives calls that carry every canary, succeeding and failing; returns the data keys the KMS
 * generated (secrets too) and how many KMS API requests were sent.
 */
async function exercise(url: string, c: Canaries): Promise<{ dataKey: Uint8Array; calls: number }> {
  const admin = client(url, { accessKeyId: ADMIN.accessKeyId, secretAccessKey: c.adminSecret });
  const user = client(url, {
    accessKeyId: PRINCIPAL.accessKeyId,
    secretAccessKey: c.principalSecret,
  });
  const forged = client(url, {
    accessKeyId: PRINCIPAL.accessKeyId,
    secretAccessKey: c.wrongSecret,
  });
  const swapped = client(url, {
    accessKeyId: ADMIN.accessKeyId,
    secretAccessKey: c.principalSecret,
  });
  const unknown = client(url, {
    accessKeyId: "AKIAUNKNOWN000000001",
    secretAccessKey: c.principalSecret,
  });
  const plaintext = new TextEncoder().encode(c.plaintext);
  try {
    const keyId = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await admin.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext })))
      .CiphertextBlob!;
    const decrypted = await admin.send(new DecryptCommand({ CiphertextBlob: blob }));
    assert.deepEqual(decrypted.Plaintext, plaintext);
    const dataKey =
      (await user.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" })))
        .Plaintext!;
    await user.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }));
    const tampered = blob.slice();
    tampered[tampered.length - 1]! ^= 1;
    assert.equal(
      await errorName(admin.send(new DecryptCommand({ CiphertextBlob: tampered }))),
      "InvalidCiphertextException",
    );
    const tooLong = new TextEncoder().encode(c.plaintext.repeat(200));
    assert.equal(
      await errorName(admin.send(new EncryptCommand({ KeyId: keyId, Plaintext: tooLong }))),
      "ValidationException",
    );
    for (const bad of [forged, swapped]) {
      assert.equal(
        await errorName(bad.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }))),
        "InvalidSignatureException",
      );
    }
    assert.equal(
      await errorName(unknown.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }))),
      "UnrecognizedClientException",
    );
    await admin.send(new DisableKeyCommand({ KeyId: keyId }));
    assert.equal(
      await errorName(admin.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }))),
      "DisabledException",
    );
    // A body that is not JSON, holding the plaintext, unsigned (refused by SigV4 before parsing).
    const raw = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "TrentService.Encrypt",
      },
      body:
        `{"KeyId": "${keyId}", "Plaintext": "${plaintext.toBase64()}", "Secret": "${c.principalSecret}"`,
    });
    assert.equal(raw.status, 403);
    await raw.body?.cancel();
    for (const token of [c.wrongSecret, c.metricsToken]) {
      const scrape = await fetch(new URL("/metrics", url), {
        headers: { authorization: `Bearer ${token}` },
      });
      await scrape.body?.cancel();
    }
    return { dataKey, calls: 13 };
  } finally {
    for (const c of [admin, user, forged, swapped, unknown]) c.destroy();
  }
}

Deno.test("every KMS request writes one access line: request id, operation, status, exception, duration, principal, source IP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-logs-" });
  const records: Record<string, unknown>[] = [];
  const config = parseConfig({
    ...serverEnv(dir, newCanaries(), ""),
    KMS_PRINCIPALS_FILE: "",
    KMS_METRICS_TOKEN: "",
    KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
  });
  const service = await openService(config, { log: (record) => records.push(record) });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    service.app.fetch,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const admin = client(url, ADMIN);
  try {
    const created = await admin.send(new CreateKeyCommand({}));
    const failed = await admin.send(new DecryptCommand({ CiphertextBlob: new Uint8Array(40) }))
      .then(
        () => assert.fail("Decrypt of zeros succeeded"),
        (error: { name: string; $metadata: { requestId?: string } }) => error,
      );
    const access = records.filter((r) => r.message === "request");
    assert.equal(access.length, 2);
    const [ok, error] = access as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(ok.level, "info");
    assert.equal(ok.requestId, created.$metadata.requestId);
    assert.equal(ok.operation, "CreateKey");
    assert.equal(ok.status, 200);
    assert.equal(ok.exception, undefined);
    assert.equal(typeof ok.durationMs, "number");
    assert.equal(ok.principalArn, `arn:aws:iam::${ACCOUNT_ID}:root`);
    assert.equal(ok.sourceIp, "127.0.0.1");
    assert.equal(error.requestId, failed.$metadata.requestId);
    assert.equal(error.operation, "Decrypt");
    assert.equal(error.status, 400);
    assert.equal(error.exception, failed.name);
    assert.deepEqual(
      Object.keys(error).sort(),
      [
        "durationMs",
        "exception",
        "level",
        "message",
        "operation",
        "principalArn",
        "requestId",
        "sourceIp",
        "status",
      ],
    );
  } finally {
    admin.destroy();
    await server.shutdown();
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("logs never contain a plaintext, the root key, a secret access key or a data key", async () => {
  const c = newCanaries();
  const dir = await Deno.makeTempDir({ prefix: "kms-logs-" });
  const lines: string[] = [];
  const config = parseConfig(serverEnv(dir, c, await principalsFile(dir, c)));
  // As jsonLog writes them, minus the time stamp.
  const service = await openService(config, {
    log: (record) => lines.push(JSON.stringify(record)),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    service.app.fetch,
  );
  try {
    const { dataKey, calls } = await exercise(`http://127.0.0.1:${server.addr.port}`, c);
    const access = lines.map((l) => JSON.parse(l)).filter((r) => r.message === "request");
    assert.equal(access.length, calls);
    assert.ok(access.some((r) => r.principalArn === PRINCIPAL.arn));
    assert.ok(access.some((r) => r.exception === "InvalidSignatureException"));
    assertNoCanary(lines.join("\n"), canarySecrets(c, { "a generated data key": dataKey }));
  } finally {
    await server.shutdown();
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the main.ts process prints no plaintext, root key or secret on stdout or stderr", async () => {
  const c = newCanaries();
  const dir = await Deno.makeTempDir({ prefix: "kms-logs-main-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
      "--allow-sys",
      "main.ts",
    ],
    cwd: REPO_ROOT,
    env: serverEnv(dir, c, await principalsFile(dir, c)),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  let resolvePort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => resolvePort = resolve);
  const readOut = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      const listening = /KMS listening on http:\/\/[^:]+:(\d+)/.exec(stdout);
      if (listening !== null) resolvePort(Number(listening[1]));
    }
  })();
  const readErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const exited = child.status.then((status) => {
    throw new Error(`main.ts exited (${status.code}) before listening:\n${stdout}\n${stderr}`);
  });
  let dataKey: Uint8Array = new Uint8Array();
  try {
    const url = `http://127.0.0.1:${await Promise.race([port, exited])}`;
    exited.catch(() => {});
    ({ dataKey } = await exercise(url, c));
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Promise.all([readOut, readErr]);
    await Deno.remove(dir, { recursive: true });
  }
  const records = stdout.trim().split("\n").map((line) =>
    JSON.parse(line) as Record<string, unknown>
  );
  assert.ok(records.filter((r) => r.message === "request").length >= 13, stdout);
  assert.ok(records.every((r) => typeof r.time === "string" && typeof r.level === "string"));
  assertNoCanary(stdout + stderr, canarySecrets(c, { "a generated data key": dataKey }));
});
