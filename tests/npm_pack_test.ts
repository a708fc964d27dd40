/**
 * `npx edge-kms` from a packed tarball: `npm pack` of this repository, `npm install` of the
 * tarball in an empty directory, `npx edge-kms` started there (the Deno binary comes from the
 * `deno` npm package), then a round trip with the AWS SDK and a clean stop on SIGTERM.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { waitFor } from "./helpers/wait.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CREDENTIALS = {
  accessKeyId: "AKIAPACKTEST0000001",
  secretAccessKey: "pack-test-secret-0000",
};

/** Runs a command to completion; its stdout. Throws with its output when it fails. */
async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${stdout}${stderr}`);
  }
  return stdout;
}

/** Collects a child's output lines as they arrive. */
function collectLines(child: Deno.ChildProcess): { lines: string[]; done: Promise<void> } {
  const lines: string[] = [];
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest !== "") lines.push(rest);
  };
  return { lines, done: Promise.all([read(child.stdout), read(child.stderr)]).then(() => {}) };
}

Deno.test("npm pack, npm install in an empty directory, npx edge-kms: the SDK encrypts and decrypts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edge-kms-pack-" });
  try {
    const packed = await run("npm", ["pack", "--pack-destination", dir, ROOT], ROOT);
    const tarball = packed.trim().split("\n").at(-1)!;
    assert.match(tarball, /^edge-kms-.*\.tgz$/);
    const app = `${dir}/app`;
    await Deno.mkdir(app);
    await Deno.writeTextFile(`${app}/package.json`, '{ "private": true }\n');
    await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", `${dir}/${tarball}`],
      app,
    );

    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? dir,
      EDGE_KMS_CACHE_DIR: `${dir}/cache`,
      KMS_DB_URL: "file:./data/kms.db",
      KMS_PORT: "0",
      KMS_ADMIN_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      KMS_ADMIN_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      KMS_RSA_POOL_2048: "0",
      KMS_RSA_POOL_3072: "0",
      KMS_RSA_POOL_4096: "0",
    };
    // setsid: npx, its shell and node form one process group, stopped together like a Ctrl-C.
    const child = new Deno.Command("setsid", {
      args: ["npx", "--no-install", "edge-kms"],
      cwd: app,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = collectLines(child);
    let exited = false;
    child.status.then(() => exited = true);
    const printed = (text: string) => output.lines.some((line) => line.includes(text));
    try {
      let url = "";
      await waitFor(
        () => {
          if (exited && !printed("KMS listening on")) {
            throw new Error(`npx edge-kms exited:\n${output.lines.join("\n")}`);
          }
          const line = output.lines.find((l) => l.includes("KMS listening on"));
          url = /KMS listening on (http:\/\/[^"\s]+)/.exec(line ?? "")?.[1] ?? "";
          return url !== "";
        },
        "npx edge-kms to listen",
        { timeoutMs: 90_000 },
      );

      const kms = new KMSClient({ endpoint: url, region: "us-east-1", credentials: CREDENTIALS });
      try {
        const key = await kms.send(new CreateKeyCommand({}));
        const plaintext = new TextEncoder().encode("from a packed tarball");
        const sealed = await kms.send(
          new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: plaintext }),
        );
        const opened = await kms.send(
          new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }),
        );
        assert.deepEqual(opened.Plaintext, plaintext);
      } finally {
        kms.destroy();
      }
      // The store is relative to the caller's directory, not to the installed package.
      assert.ok((await Deno.stat(`${app}/data/kms.db`)).isFile);
    } finally {
      Deno.kill(-child.pid, "SIGTERM");
      await waitFor(
        () => printed("shutdown complete") || printed("shutdown incomplete"),
        "the server to stop",
        { timeoutMs: 30_000 },
      );
      await output.done;
      await child.status;
    }
    assert.ok(printed("shutdown complete"), output.lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
