/**
 * The V8 flags of `deno task start` (README "Memory") reach every way the server is started:
 * the `compile` task bakes the same ones into the binary, `npx edge-kms` (bin/edge-kms.mjs)
 * passes them to the server it starts, and the README names them. That `deno task start` itself
 * still starts and serves with them is tests/ci_recipe_test.ts (docs/ci.md runs it).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startV8Flags, v8FlagsOf } from "../scripts/start_flags.ts";
import { waitFor } from "./helpers/wait.ts";
import { ADMIN } from "./helpers/server.ts";

const ROOT = new URL("../", import.meta.url);

function tasks(): Record<string, string | { command: string }> {
  return JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks;
}

function command(task: string | { command: string } | undefined): string {
  return typeof task === "string" ? task : task?.command ?? "";
}

Deno.test("the start task sets V8 flags, and the compile task bakes the same ones into the binary", () => {
  const start = v8FlagsOf(command(tasks().start));
  assert.notEqual(start.length, 0);
  assert.deepEqual(v8FlagsOf(command(tasks().compile)), start);
});

Deno.test("the README's start flags section names each V8 flag of the start task", () => {
  const readme = Deno.readTextFileSync(new URL("README.md", ROOT));
  for (const flag of startV8Flags()) assert.ok(readme.includes(flag), flag);
});

/** The command line of the first child process of `pid`. */
function childCommandLine(pid: number): string[] | undefined {
  try {
    const children = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
    if (children === "") return undefined;
    const child = children.split(" ")[0];
    return Deno.readTextFileSync(`/proc/${child}/cmdline`).split("\0").filter((s) => s !== "");
  } catch {
    return undefined;
  }
}

Deno.test("npx edge-kms starts the server with the V8 flags of the start task, and it serves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-kms-flags-" });
  const child = new Deno.Command("node", {
    args: [new URL("bin/edge-kms.mjs", ROOT).pathname],
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? dir,
      EDGE_KMS_CACHE_DIR: `${dir}/cache`,
      KMS_DB_URL: "file:./data/kms.db",
      KMS_HOST: "127.0.0.1",
      KMS_PORT: "0",
      KMS_WORKERS: "1",
      KMS_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([read(child.stdout), read(child.stderr)]);
  let exited = false;
  void child.status.then(() => exited = true);
  try {
    let url = "";
    await waitFor(
      () => {
        if (exited) throw new Error(`edge-kms exited:\n${output}`);
        url = /KMS listening on (http:\/\/[^"\s]+)/.exec(output)?.[1] ?? "";
        return url !== "";
      },
      "edge-kms to listen",
      { timeoutMs: 90_000 },
    );
    const args = childCommandLine(child.pid);
    assert.ok(args !== undefined, "the server process");
    const flags = startV8Flags();
    assert.notEqual(flags.length, 0);
    for (const flag of flags) assert.ok(args.includes(flag), `${flag} in ${args.join(" ")}`);
    const health = await fetch(`${url}/health`);
    await health.body?.cancel();
    assert.equal(health.status, 200);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true });
  }
});
