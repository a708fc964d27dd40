/**
 * The admin tool end to end: `deno run scripts/admin.ts ...` in its own
 * process against a temporary database, then the keys it made used over
 * SigV4 by a real server on the same database.
 */
import assert from "node:assert/strict";
import { ListKeysCommand } from "@aws-sdk/client-kms";
import { AuditEntry } from "../core/audit/entry.ts";
import { auditStatements, loadChainHead } from "../storage/audit_store.ts";
import { openDatabase } from "../storage/client.ts";
import { migrate } from "../storage/migrate.ts";
import { callerPath } from "../scripts/admin.ts";
import { startServer } from "./helpers/server.ts";
import { waitFor } from "./helpers/wait.ts";

const SCRIPT = new URL("../scripts/admin.ts", import.meta.url).pathname;
const ROOT_KEY = new Uint8Array(32).fill(5).toBase64();
const ALICE = "arn:aws:iam::444455556666:user/alice";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function admin(
  dir: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string | undefined> } = {},
): Promise<Run> {
  const env: Record<string, string> = {};
  const wanted = { KMS_DB_URL: `file:${dir}/kms.db`, KMS_ROOT_KEY: ROOT_KEY, ...options.env };
  for (const [name, value] of Object.entries(wanted)) if (value !== undefined) env[name] = value;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SCRIPT, ...args],
    env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

async function ok(dir: string, args: string[], stdin?: string): Promise<string> {
  const run = await admin(dir, args, stdin === undefined ? {} : { stdin });
  assert.equal(run.code, 0, `admin ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

function credentialsFrom(stdout: string): { accessKeyId: string; secretAccessKey: string } {
  const accessKeyId = /^AWS_ACCESS_KEY_ID=(\S+)$/m.exec(stdout)?.[1];
  const secretAccessKey = /^AWS_SECRET_ACCESS_KEY=(\S+)$/m.exec(stdout)?.[1];
  assert.ok(accessKeyId !== undefined && secretAccessKey !== undefined, stdout);
  return { accessKeyId, secretAccessKey };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kms-admin-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("admin: create a user and an access key; lists never show the secret; disable", () =>
  withDir(async (dir) => {
    assert.equal(
      (await ok(dir, ["principal", "create", "--account", "444455556666", "--user", "alice"]))
        .trim(),
      ALICE,
    );
    const created = await admin(dir, ["access-key", "create", ALICE]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /shown only once/);
    const { accessKeyId, secretAccessKey } = credentialsFrom(created.stdout);
    assert.match(accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(secretAccessKey.length, 40);

    const principals = await ok(dir, ["principal", "list"]);
    assert.match(principals, /arn:aws:iam::444455556666:user\/alice\s+user\s+Enabled/);
    for (const args of [["access-key", "list"], ["access-key", "list", ALICE, "--json"]]) {
      const listed = await ok(dir, args);
      assert.ok(listed.includes(accessKeyId), listed);
      assert.ok(!listed.includes(secretAccessKey), "a list shows the secret");
    }
    const json = (await ok(dir, ["access-key", "list", "--json"])).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(json.map((k) => [k.accessKeyId, k.status, k.principalStatus]), [
      [accessKeyId, "Enabled", "Enabled"],
    ]);

    assert.match(await ok(dir, ["principal", "disable", ALICE]), /^Disabled /);
    assert.match(await ok(dir, ["principal", "list", "--account", "444455556666"]), /Disabled/);
    assert.match(await ok(dir, ["access-key", "disable", accessKeyId]), /^Disabled access key/);
    const after = JSON.parse((await ok(dir, ["access-key", "list", "--json", ALICE])).trim());
    assert.deepEqual([after.status, after.principalStatus], ["Disabled", "Disabled"]);
    assert.match(await ok(dir, ["principal", "enable", ALICE]), /^Enabled /);
  }));

Deno.test("admin: roles with paths, account roots, and identity policies", () =>
  withDir(async (dir) => {
    const role = "arn:aws:iam::444455556666:role/service-role/app";
    assert.equal(
      (await ok(dir, [
        "principal",
        "create",
        "--account",
        "444455556666",
        "--role",
        "app",
        "--path",
        "/service-role/",
      ])).trim(),
      role,
    );
    const rootKey = credentialsFrom(
      await ok(dir, ["access-key", "create", "arn:aws:iam::777788889999:root"]),
    );
    assert.match(await ok(dir, ["principal", "list"]), /arn:aws:iam::777788889999:root\s+root/);
    assert.ok((await ok(dir, ["access-key", "list", "arn:aws:iam::777788889999:root"]))
      .includes(rootKey.accessKeyId));

    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }],
    });
    const policyFile = `${dir}/policy.json`;
    await Deno.writeTextFile(policyFile, policy);
    await ok(dir, ["policy", "put", role, "Decrypt", policyFile]);
    await ok(dir, ["policy", "put", role, "FromStdin", "-"], policy);
    assert.equal(await ok(dir, ["policy", "list", role]), "Decrypt\nFromStdin\n");
    assert.equal((await ok(dir, ["policy", "get", role, "Decrypt"])).trim(), policy);
    await ok(dir, ["policy", "delete", role, "FromStdin"]);
    assert.equal(await ok(dir, ["policy", "list", role]), "Decrypt\n");

    const missing = await admin(dir, ["policy", "get", role, "FromStdin"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /has no policy FromStdin/);
    const notJson = await admin(dir, ["policy", "put", role, "Bad", "-"], { stdin: "{nope" });
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /policy Bad: The policy document is not valid JSON/);
    const withPrincipal = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" }],
    });
    const refused = await admin(dir, ["policy", "put", role, "Bad", "-"], { stdin: withPrincipal });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /must not specify a Principal/);
    assert.equal(await ok(dir, ["policy", "list", role]), "Decrypt\n");
    const onRoot = await admin(dir, ["policy", "put", "arn:aws:iam::777788889999:root", "P", "-"], {
      stdin: policy,
    });
    assert.equal(onRoot.code, 2);
  }));

Deno.test("admin: usage errors exit 2, failures exit 1, --help exits 0", () =>
  withDir(async (dir) => {
    const help = await admin(dir, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /access-key create <principal-arn>/);
    assert.match(help.stdout, /audit verify/);
    const usage: string[][] = [
      [],
      ["principal"],
      ["principal", "frobnicate"],
      ["principal", "create", "--account", "444455556666"],
      ["principal", "create", "--account", "4444", "--user", "a"],
      ["principal", "create", "--account", "444455556666", "--user", "a", "--role", "b"],
      ["principal", "create", "--account", "444455556666", "--user", "bad name"],
      ["principal", "create", "--account", "444455556666", "--user", "a", "--path", "x"],
      ["principal", "create", "--unknown"],
      ["access-key", "create"],
      ["access-key", "create", "arn:aws:iam::444455556666:group/devs"],
      ["audit", "list", "--since", "yesterday"],
      ["audit", "list", "--decision", "Maybe"],
      ["audit", "list", "--limit", "0"],
    ];
    for (const args of usage) {
      const run = await admin(dir, args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    }
    const failures: string[][] = [
      ["access-key", "create", "arn:aws:iam::444455556666:user/nobody"],
      ["access-key", "disable", "AKIANOSUCHKEY0000000"],
      ["principal", "disable", "arn:aws:iam::444455556666:user/nobody"],
      ["principal", "disable", "arn:aws:iam::444455556666:root"],
    ];
    for (const args of failures) {
      const run = await admin(dir, args);
      assert.equal(run.code, 1, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^admin: /);
    }
    await ok(dir, ["principal", "create", "--account", "444455556666", "--user", "Dup"]);
    const duplicate = await admin(dir, [
      "principal",
      "create",
      "--account",
      "444455556666",
      "--user",
      "dup",
    ]);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /already exists/);
  }));

Deno.test("admin: a wrong or missing root key is refused before any key is read or written", () =>
  withDir(async (dir) => {
    await ok(dir, ["access-key", "create", "arn:aws:iam::444455556666:root"]);
    const wrong = await admin(dir, ["access-key", "list"], {
      env: { KMS_ROOT_KEY: new Uint8Array(32).fill(6).toBase64() },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /root key .* is not the one this database was written with/);
    const missing = await admin(dir, ["access-key", "list"], {
      env: { KMS_ROOT_KEY: undefined, KMS_ROOT_KEY_FILE: `${dir}/absent.key` },
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /root key file .*absent\.key not found/);
    assert.ok(
      !await exists(`${dir}/absent.key`),
      "no root key is created for a database with data",
    );
  }));

Deno.test("admin: keys it creates sign requests; a disabled key stops working", () =>
  withDir(async (dir) => {
    const root = "arn:aws:iam::444455556666:root";
    const key = credentialsFrom(await ok(dir, ["access-key", "create", root]));
    const server = await startServer({ dbUrl: `file:${dir}/kms.db`, rootKey: ROOT_KEY });
    try {
      const client = server.clientFor(key);
      assert.deepEqual((await client.send(new ListKeysCommand({}))).Keys, []);
      await ok(dir, ["access-key", "disable", key.accessKeyId]);
      // The credential cache trusts what it read for at most 1 s.
      await waitFor(
        async () =>
          await client.send(new ListKeysCommand({})).then(() => "ok", (e) => e.name) ===
            "UnrecognizedClientException",
        "the disabled key to be refused",
      );
    } finally {
      await server.close();
    }
  }));

Deno.test("admin: disabling a principal stops its access keys; enabling restores them", () =>
  withDir(async (dir) => {
    await ok(dir, ["principal", "create", "--account", "111122223333", "--user", "bob"]);
    const bob = "arn:aws:iam::111122223333:user/bob";
    const key = credentialsFrom(await ok(dir, ["access-key", "create", bob]));
    const server = await startServer({ dbUrl: `file:${dir}/kms.db`, rootKey: ROOT_KEY });
    try {
      const client = server.clientFor(key);
      const signedIn = async () =>
        await client.send(new ListKeysCommand({})).then(() => "ok", (e) => e.name);
      // A user without identity policies authenticates; what it may do is the policies' affair.
      assert.notEqual(await signedIn(), "UnrecognizedClientException");
      await ok(dir, ["principal", "disable", bob]);
      await waitFor(
        async () => await signedIn() === "UnrecognizedClientException",
        "the disabled principal's key to be refused",
      );
      await ok(dir, ["principal", "enable", bob]);
      await waitFor(
        async () => await signedIn() !== "UnrecognizedClientException",
        "the enabled principal's key to be accepted again",
      );
    } finally {
      await server.close();
    }
  }));

Deno.test("admin: audit list filters the log; audit verify checks its hash chain", () =>
  withDir(async (dir) => {
    const t0 = Date.parse("2025-01-01T00:00:00Z");
    const key1 = "arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111";
    const key2 = "arn:aws:kms:us-east-1:111122223333:key/22222222-2222-2222-2222-222222222222";
    const entry = (
      offsetMs: number,
      operation: string,
      arn: string,
      keyArn: string | null,
      denied: boolean,
    ) => {
      const e = new AuditEntry({
        time: t0 + offsetMs,
        requestId: crypto.randomUUID(),
        operation,
        principal: { arn, accountId: "111122223333", accessKeyId: "AKIAAUDITTEST0000001" },
        sourceIp: "127.0.0.1",
        userAgent: "test",
        region: "us-east-1",
      });
      if (keyArn !== null) e.addResource(keyArn);
      e.setDecision(denied ? "Deny" : "Allow");
      if (denied) e.failed("AccessDeniedException", "denied");
      else e.succeeded();
      return e.record();
    };
    const db = await openDatabase(`file:${dir}/kms.db`);
    try {
      await migrate(db);
      const records = [
        entry(0, "Encrypt", ALICE, key1, false),
        entry(3_600_000, "Decrypt", "arn:aws:iam::111122223333:user/bob", key2, true),
        entry(7_200_000, "ListKeys", "arn:aws:iam::111122223333:root", null, false),
      ];
      await db.batch(auditStatements(1, await loadChainHead(db, 1), records).statements, "write");
    } finally {
      db.close();
    }

    const lines = (args: string[]) =>
      ok(dir, ["audit", "list", "--json", ...args]).then((out) =>
        out.trim() === "" ? [] : out.trim().split("\n").map((l) => JSON.parse(l).eventName)
      );
    assert.deepEqual(await lines([]), ["Encrypt", "Decrypt", "ListKeys"]);
    assert.deepEqual(await lines(["--principal", "arn:aws:iam::111122223333:user/bob"]), [
      "Decrypt",
    ]);
    assert.deepEqual(await lines(["--key", key1]), ["Encrypt"]);
    assert.deepEqual(await lines(["--operation", "ListKeys"]), ["ListKeys"]);
    assert.deepEqual(await lines(["--decision", "Deny"]), ["Decrypt"]);
    assert.deepEqual(await lines(["--error", "*"]), ["Decrypt"]);
    assert.deepEqual(
      await lines(["--since", "2025-01-01T00:30:00Z", "--until", "2025-01-01T02:00:00Z"]),
      ["Decrypt"],
    );
    assert.deepEqual(await lines(["--limit", "2"]), ["Encrypt", "Decrypt"]);
    // audit export: JSON lines of the CloudTrail events, to stdout or a file, by time range.
    const exported = await ok(dir, ["audit", "export"]);
    assert.deepEqual(
      exported.trim().split("\n").map((l) => JSON.parse(l).eventName),
      ["Encrypt", "Decrypt", "ListKeys"],
    );
    assert.equal(
      JSON.parse(exported.split("\n")[1]!).userIdentity.arn,
      "arn:aws:iam::111122223333:user/bob",
    );
    await ok(dir, [
      "audit",
      "export",
      "--since",
      "2025-01-01T00:30:00Z",
      "--out",
      `${dir}/x.jsonl`,
    ]);
    assert.deepEqual(
      (await Deno.readTextFile(`${dir}/x.jsonl`)).trim().split("\n").map((l) =>
        JSON.parse(l).eventName
      ),
      ["Decrypt", "ListKeys"],
    );
    const text = await ok(dir, ["audit", "list"]);
    assert.match(text, /^SEQ\s+TIME\s+OPERATION\s+DECISION\s+RESULT\s+PRINCIPAL\s+KEYS$/m);
    assert.match(
      text,
      /Decrypt\s+Deny\s+AccessDeniedException\s+arn:aws:iam::111122223333:user\/bob/,
    );

    const verified = await ok(dir, ["audit", "verify"]);
    assert.match(verified, /3 records/);
    const head = /Heads (\S+)/.exec(verified)?.[1];
    assert.ok(head !== undefined, verified);
    await ok(dir, ["audit", "verify", "--head", head]);

    const tamper = await openDatabase(`file:${dir}/kms.db`);
    try {
      await tamper.execute(
        "UPDATE audit_log SET event = replace(event, 'AccessDeniedException', 'x') WHERE seq = 2",
      );
    } finally {
      tamper.close();
    }
    const broken = await admin(dir, ["audit", "verify"]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /does not verify at seq 2/);
  }));

Deno.test("admin: a relative file argument is read from the directory the task was started in", () => {
  assert.equal(callerPath("policy.json", "/home/me/project"), "/home/me/project/policy.json");
  assert.equal(callerPath("a/b.json", "/home/me/"), "/home/me/a/b.json");
  assert.equal(callerPath("/abs/policy.json", "/home/me"), "/abs/policy.json");
  assert.equal(callerPath("policy.json", ""), "policy.json");
});
