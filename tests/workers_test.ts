/**
 * KMS_WORKERS=2 (isolates.ts): the real server as a child process with two request-serving
 * isolates on one port. Each reply names its isolate (`x-kms-isolate`); a connection stays
 * with the isolate that accepted it, so a Deno.HttpClient whose connection landed on isolate i
 * talks to isolate i.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import { kmsEnv, type KmsProcess, startKms } from "./helpers/kms_process.ts";
import { ACCOUNT_ID } from "./helpers/server.ts";
import { signRequest } from "./helpers/signed_fetch.ts";
import { waitFor } from "./helpers/wait.ts";
import { openDatabase } from "../storage/client.ts";
import { SqliteAuditStore } from "../storage/audit_store.ts";

/** A reply, with the isolate that served it. */
interface Reply {
  status: number;
  type: string | undefined;
  body: Record<string, unknown>;
  isolate: string | null;
  requestId: string | null;
}

/** Clients pinned to the isolates of one server (a keep-alive connection each). */
class Pinned {
  readonly #url: string;
  readonly #clients = new Map<string, Deno.HttpClient>();
  readonly #spare: Deno.HttpClient[] = [];

  constructor(url: string) {
    this.#url = url;
  }

  /** A client whose connection is served by `isolate` (fresh connections until one lands). */
  async client(isolate: string): Promise<Deno.HttpClient> {
    const known = this.#clients.get(isolate);
    if (known !== undefined) return known;
    for (let attempt = 0; attempt < 64; attempt++) {
      const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
      const response = await fetch(`${this.#url}/health`, { client });
      await response.body?.cancel();
      const served = response.headers.get("x-kms-isolate") ?? "none";
      if (!this.#clients.has(served)) this.#clients.set(served, client);
      else this.#spare.push(client);
      if (served === isolate) return client;
    }
    throw new Error(`no connection landed on isolate ${isolate} in 64 attempts`);
  }

  /** GETs `path` (/ready, /health) on the connection of `isolate`: status and serving isolate. */
  async get(isolate: string, path: string): Promise<{ status: number; isolate: string | null }> {
    const response = await fetch(`${this.#url}${path}`, { client: await this.client(isolate) });
    await response.body?.cancel();
    return { status: response.status, isolate: response.headers.get("x-kms-isolate") };
  }

  /** Which isolates the first connections landed on. */
  isolates(): string[] {
    return [...this.#clients.keys()].sort();
  }

  /** Sends a signed KMS request on the connection of `isolate`. */
  async call(isolate: string, operation: string, body: unknown): Promise<Reply> {
    const client = await this.client(isolate);
    const parts = await signRequest(this.#url, JSON.stringify(body), {
      target: `TrentService.${operation}`,
    });
    const response = await fetch(this.#url, {
      method: "POST",
      headers: parts.headers,
      body: parts.body,
      client,
    });
    const json = await response.json() as Record<string, unknown>;
    return {
      status: response.status,
      type: json.__type as string | undefined,
      body: json,
      isolate: response.headers.get("x-kms-isolate"),
      requestId: response.headers.get("x-amzn-requestid"),
    };
  }

  /**
   * `call` on `isolate`, checked to have been served there; a connection that was closed and
   * landed elsewhere is replaced and the call repeated (only for reads: they change nothing).
   */
  async read(isolate: string, operation: string, body: unknown): Promise<Reply> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const reply = await this.call(isolate, operation, body);
      if (reply.isolate === isolate) return reply;
      this.#clients.delete(isolate);
    }
    throw new Error(`${operation} was never served by isolate ${isolate}`);
  }

  close(): void {
    for (const client of [...this.#clients.values(), ...this.#spare]) client.close();
    this.#clients.clear();
    this.#spare.length = 0;
  }
}

async function withServer(
  env: Record<string, string>,
  body: (kms: KmsProcess, pinned: Pinned) => Promise<void>,
): Promise<void> {
  const kms = await startKms(env);
  const pinned = new Pinned(kms.url);
  try {
    await body(kms, pinned);
  } finally {
    pinned.close();
    await kms.stop();
  }
}

function serverEnv(dir: string): Record<string, string> {
  return {
    ...kmsEnv(`file:${dir}/kms.db`, `${dir}/root.key`),
    KMS_WORKERS: "2",
    KMS_LOG_LEVEL: "debug",
    KMS_ROTATION_CHECK_INTERVAL_MS: "100",
  };
}

const ok = (reply: Reply, what: string) =>
  assert.deepEqual(reply.status, 200, `${what}: ${JSON.stringify(reply.body)}`);

/** The JSON log lines a server printed that have `message`. */
function logLines(kms: KmsProcess, message: string): Record<string, unknown>[] {
  return kms.lines()
    .filter((line) => line.startsWith("{") && line.includes(message))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.message === message);
}

const ROOT_POLICY = {
  Version: "2012-10-17",
  Statement: [{
    Sid: "root",
    Effect: "Allow",
    Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
    Action: "kms:*",
    Resource: "*",
  }],
};
const DENY_ENCRYPT_POLICY = {
  ...ROOT_POLICY,
  Statement: [...ROOT_POLICY.Statement, {
    Sid: "no-encrypt",
    Effect: "Deny",
    Principal: "*",
    Action: "kms:Encrypt",
    Resource: "*",
  }],
};
const PLAINTEXT = new Uint8Array([1, 2, 3, 4]).toBase64();

Deno.test("KMS_WORKERS=2: two isolates serve one port, see each other's changes at once, run the duties once", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "kms-workers-" });
  try {
    await withServer(serverEnv(dir), async (kms, pinned) => {
      await t.step("requests are served by both isolates", async () => {
        await pinned.client("0");
        await pinned.client("1");
        assert.deepEqual(pinned.isolates(), ["0", "1"]);
        for (const isolate of ["0", "1"]) {
          assert.deepEqual(await pinned.get(isolate, "/ready"), { status: 200, isolate });
          assert.deepEqual(await pinned.get(isolate, "/health"), { status: 200, isolate });
        }
        assert.deepEqual(logLines(kms, "KMS listening on " + kms.url)[0]?.workers, 2);
      });

      const created = await pinned.call("0", "CreateKey", {});
      ok(created, "CreateKey");
      const keyId = (created.body.KeyMetadata as { KeyId: string }).KeyId;
      const other = await pinned.call("0", "CreateKey", {});
      ok(other, "CreateKey");
      const otherArn = (other.body.KeyMetadata as { Arn: string }).Arn;

      // Each round: the cache of `reader` is warmed, `writer` changes the key, and the very next
      // request on `reader` must see the change (a stale cache would answer as before).
      for (const [writer, reader] of [["0", "1"], ["1", "0"], ["0", "1"], ["1", "0"]] as const) {
        await t.step(`DisableKey on isolate ${writer} is seen at once on ${reader}`, async () => {
          ok(await pinned.read(reader, "Encrypt", { KeyId: keyId, Plaintext: PLAINTEXT }), "warm");
          ok(await pinned.call(writer, "DisableKey", { KeyId: keyId }), "DisableKey");
          const refused = await pinned.read(reader, "Encrypt", {
            KeyId: keyId,
            Plaintext: PLAINTEXT,
          });
          assert.deepEqual(refused.type, "DisabledException");
          ok(await pinned.call(writer, "EnableKey", { KeyId: keyId }), "EnableKey");
          ok(await pinned.read(reader, "Encrypt", { KeyId: keyId, Plaintext: PLAINTEXT }), "again");
        });

        await t.step(
          `an alias made on isolate ${writer} is seen at once on ${reader}`,
          async () => {
            const alias = `alias/workers-${writer}-${crypto.randomUUID()}`;
            const before = await pinned.read(reader, "Encrypt", {
              KeyId: alias,
              Plaintext: PLAINTEXT,
            });
            assert.deepEqual(before.type, "NotFoundException");
            ok(
              await pinned.call(writer, "CreateAlias", { AliasName: alias, TargetKeyId: keyId }),
              "CreateAlias",
            );
            ok(
              await pinned.read(reader, "Encrypt", { KeyId: alias, Plaintext: PLAINTEXT }),
              "via alias",
            );
            ok(
              await pinned.call(writer, "UpdateAlias", { AliasName: alias, TargetKeyId: otherArn }),
              "UpdateAlias",
            );
            const moved = await pinned.read(reader, "Encrypt", {
              KeyId: alias,
              Plaintext: PLAINTEXT,
            });
            ok(moved, "via moved alias");
            assert.deepEqual(moved.body.KeyId, otherArn);
          },
        );

        await t.step(
          `a key policy put on isolate ${writer} applies at once on ${reader}`,
          async () => {
            ok(
              await pinned.read(reader, "Encrypt", { KeyId: keyId, Plaintext: PLAINTEXT }),
              "warm",
            );
            const deny = {
              KeyId: keyId,
              PolicyName: "default",
              Policy: JSON.stringify(DENY_ENCRYPT_POLICY),
            };
            ok(await pinned.call(writer, "PutKeyPolicy", deny), "PutKeyPolicy deny");
            const denied = await pinned.read(reader, "Encrypt", {
              KeyId: keyId,
              Plaintext: PLAINTEXT,
            });
            assert.deepEqual(denied.type, "AccessDeniedException");
            const allow = {
              KeyId: keyId,
              PolicyName: "default",
              Policy: JSON.stringify(ROOT_POLICY),
            };
            ok(await pinned.call(writer, "PutKeyPolicy", allow), "PutKeyPolicy allow");
            ok(
              await pinned.read(reader, "Encrypt", { KeyId: keyId, Plaintext: PLAINTEXT }),
              "allowed",
            );
          },
        );
      }

      await t.step("the background duties run in one isolate only", async () => {
        const started = logLines(kms, "isolate started");
        assert.deepEqual(started.map((r) => [r.isolate, r.duties]).sort(), [[0, true], [1, false]]);
        // The rotation scheduler looks every 100 ms where it runs: several looks, all in one.
        await waitFor(() => logLines(kms, "rotation look").length >= 3, "three rotation looks");
        const looks = logLines(kms, "rotation look");
        assert.deepEqual(new Set(looks.map((r) => r.isolate)), new Set([0]));
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KMS_WORKERS=2: SIGTERM drains both isolates and every acknowledged CreateKey is stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-workers-" });
  try {
    const acknowledged: string[] = [];
    let stopped: Promise<void> | undefined;
    await withServer(serverEnv(dir), async (kms, pinned) => {
      await pinned.client("0");
      await pinned.client("1");
      // Writers on both isolates; SIGTERM once some were acknowledged, others in flight.
      const writer = async (isolate: "0" | "1") => {
        for (let i = 0; i < 200; i++) {
          let reply: Reply;
          try {
            reply = await pinned.call(isolate, "CreateKey", { Description: `w${isolate}-${i}` });
          } catch {
            return; // the connection was closed by the drain: not acknowledged
          }
          if (reply.status !== 200) return; // refused while stopping: not acknowledged
          acknowledged.push((reply.body.KeyMetadata as { KeyId: string }).KeyId);
          if (acknowledged.length === 10) stopped = kms.stop();
        }
      };
      await Promise.all([writer("0"), writer("1"), writer("0"), writer("1")]);
      await stopped;
      const complete = logLines(kms, "shutdown complete");
      assert.deepEqual(complete.length, 2, kms.output());
      assert.deepEqual(logLines(kms, "shutdown incomplete").length, 0);
    });
    assert(acknowledged.length >= 10);
    // One isolate on the same database: every acknowledged key is there.
    await withServer({ ...serverEnv(dir), KMS_WORKERS: "1" }, async (kms) => {
      for (const keyId of acknowledged) {
        const described = await kms.client.send(new DescribeKeyCommand({ KeyId: keyId }));
        assert.deepEqual(described.KeyMetadata?.KeyId, keyId);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KMS_WORKERS=2: both isolates write through the main thread's one writer; on SIGTERM every isolate's buffered audit records are stored before it closes, in one chain that verifies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kms-workers-" });
  try {
    const answered: string[] = [];
    await withServer(serverEnv(dir), async (kms, pinned) => {
      const listening = logLines(kms, "KMS listening on " + kms.url)[0];
      assert.deepEqual([listening?.workers, listening?.writer], [2, "shared"]);
      const created = await pinned.call("0", "CreateKey", {});
      ok(created, "CreateKey");
      const keyId = (created.body.KeyMetadata as { KeyId: string }).KeyId;
      answered.push(created.requestId!);
      // Encrypt's records are buffered (batched mode: written every 100 ms or 512 rows) in the
      // isolate that served it. SIGTERM comes while both isolates are answering Encrypts, as in
      // the drain test above: the last records of both are still in their buffers then.
      let stopped: Promise<void> | undefined;
      const encrypter = async (isolate: "0" | "1") => {
        for (let i = 0; i < 400; i++) {
          let reply: Reply;
          try {
            reply = await pinned.call(isolate, "Encrypt", { KeyId: keyId, Plaintext: PLAINTEXT });
          } catch {
            return; // the connection was closed by the drain: not answered
          }
          if (reply.status !== 200) return; // refused while stopping
          answered.push(reply.requestId!);
          if (answered.length === 60) stopped = kms.stop();
        }
      };
      await Promise.all([encrypter("0"), encrypter("1"), encrypter("0"), encrypter("1")]);
      await stopped;
      assert.deepEqual(logLines(kms, "shutdown complete").length, 2, kms.output());
      assert.deepEqual(logLines(kms, "audit records not written at shutdown"), []);
    });
    const db = await openDatabase(`file:${dir}/kms.db`);
    try {
      const store = new SqliteAuditStore(db);
      const stored = new Set((await store.query({ limit: 10_000 })).map((e) => e.requestId));
      assert.deepEqual(answered.filter((id) => !stored.has(id)), []);
      const verified = await store.verify();
      assert.ok(verified.ok, JSON.stringify(verified));
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
