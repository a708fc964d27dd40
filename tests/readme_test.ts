/**
 * README.md as a test: every fenced block in a language this test runs (`sh`, `ts`, `python`)
 * runs, in the order of the README, against a real server (main.ts as a child process on a file
 * database, regions us-east-1 and eu-west-1, the admin credential of tests/helpers/server.ts in
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, its database in `KMS_DB_URL`/`KMS_ROOT_KEY_FILE` for
 * the admin tool), with the clients `.ci/run` installs first on PATH: the AWS CLI v2 at
 * /usr/bin/aws, boto3 through /usr/bin/python3, OpenSSL. Blocks run in one scratch directory that
 * mirrors the project's top-level entries (so `npx -y deno@2.9.6 task ...` finds deno.json and
 * files a block writes stay out of the checkout); `http://127.0.0.1:8080` is replaced by the
 * server's address, nothing else.
 *
 * A block that is not meant to run has `<!-- no-run: reason -->` before it (blank lines
 * between are allowed). Blocks
 * in other languages (json, yaml, output without a language) are data and never run. New blocks
 * are found by the same scan, so they are covered as soon as they are written.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { kmsEnv, startKms } from "./helpers/kms_process.ts";
import { ADMIN } from "./helpers/server.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const RUNNABLE = new Set(["sh", "ts", "python"]);

/** A fenced block of the README: its language, text, line and the no-run reason before it. */
export interface Block {
  lang: string;
  text: string;
  line: number;
  noRun: string | null;
}

/** Every fenced block of `markdown`, in order. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((line, j) => j > i && line === "```");
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code block`);
    let previous = i - 1;
    while (previous > 0 && lines[previous]!.trim() === "") previous--;
    const before = /^<!-- no-run: (.+) -->$/.exec(lines[previous] ?? "");
    blocks.push({
      lang: open[1]!,
      text: lines.slice(i + 1, end).join("\n"),
      line: i + 1,
      noRun: before?.[1] ?? null,
    });
    i = end;
  }
  return blocks;
}

/** A scratch directory whose entries link to the project's (deno.json, node_modules, scripts...). */
async function scratchProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "readme-" });
  for await (const entry of Deno.readDir(ROOT)) {
    if ([".git", "data", "dist", "tests"].includes(entry.name)) continue;
    await Deno.symlink(`${ROOT}${entry.name}`, `${dir}/${entry.name}`);
  }
  await Deno.mkdir(`${dir}/bin-clients`);
  await Deno.symlink("/usr/bin/aws", `${dir}/bin-clients/aws`);
  await Deno.symlink("/usr/bin/python3", `${dir}/bin-clients/python3`);
  return dir;
}

/** The command that runs `block` (written to a file in `dir` first when needed). */
async function commandFor(block: Block, dir: string, index: number): Promise<string[]> {
  if (block.lang === "sh") {
    return ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", block.text];
  }
  if (block.lang === "python") return ["python3", "-c", block.text];
  const file = `${dir}/readme_block_${index}.ts`;
  await Deno.writeTextFile(file, block.text);
  return [Deno.execPath(), "run", "--allow-all", "--no-check", file];
}

Deno.test("README.md marks every block it does not run with a reason, and runs the rest", () => {
  const blocks = fencedBlocks(README);
  const run = blocks.filter((b) => RUNNABLE.has(b.lang) && b.noRun === null);
  const skipped = blocks.filter((b) => b.noRun !== null);
  assert.ok(run.length >= 6, `only ${run.length} runnable blocks`);
  for (const block of skipped) assert.ok(RUNNABLE.has(block.lang), `README.md:${block.line}`);
  assert.ok(skipped.length <= 12, `${skipped.length} blocks marked no-run: keep that list short`);
});

Deno.test("README.md's commands use npx -y deno@2.9.6, never a bare deno", () => {
  for (const block of fencedBlocks(README).filter((b) => b.lang === "sh")) {
    for (const line of block.text.split("\n")) {
      assert.doesNotMatch(line, /(^|[\s;&|(])deno (run|task|test|compile|deploy) /, line);
    }
  }
});

Deno.test("every runnable block of README.md runs as written against a real server", async (t) => {
  const dir = await scratchProject();
  const server = await startKms({
    ...kmsEnv(`file:${dir}/kms.db`, `${dir}/root.key`),
    KMS_REGIONS: "us-east-1,eu-west-1",
  });
  try {
    const env: Record<string, string> = {
      PATH: `${dir}/bin-clients:${Deno.env.get("PATH") ?? ""}`,
      HOME: Deno.env.get("HOME") ?? dir,
      AWS_ACCESS_KEY_ID: ADMIN.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      KMS_DB_URL: `file:${dir}/kms.db`,
      KMS_ROOT_KEY_FILE: `${dir}/root.key`,
      NO_COLOR: "1",
    };
    const blocks = fencedBlocks(README).filter((b) => RUNNABLE.has(b.lang) && b.noRun === null);
    for (const [index, block] of blocks.entries()) {
      const text = block.text.replaceAll("http://127.0.0.1:8080", server.url);
      await t.step(`README.md:${block.line} (${block.lang})`, async () => {
        const [cmd, ...args] = await commandFor({ ...block, text }, dir, index);
        const out = await new Deno.Command(cmd!, {
          args,
          cwd: dir,
          env,
          clearEnv: true,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const d = new TextDecoder();
        const output = d.decode(out.stdout) + d.decode(out.stderr);
        assert.equal(out.code, 0, `README.md:${block.line} failed:\n${text}\n---\n${output}`);
      });
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README.md's principals file: its ci user creates a key and encrypts; no admin credential is made", async () => {
  const json = fencedBlocks(README).find((b) =>
    b.lang === "json" && b.text.includes('"principals"')
  );
  assert.ok(json !== undefined, "README.md has no principals file example");
  const dir = await Deno.makeTempDir({ prefix: "readme-principals-" });
  const env: Record<string, string> = {
    ...kmsEnv(`file:${dir}/kms.db`, `${dir}/root.key`),
    KMS_PRINCIPALS_FILE: `${dir}/principals.json`,
  };
  delete env.KMS_ADMIN_ACCESS_KEY_ID;
  delete env.KMS_ADMIN_SECRET_ACCESS_KEY;
  await Deno.writeTextFile(env.KMS_PRINCIPALS_FILE!, json.text);
  const server = await startKms(env);
  const file = JSON.parse(json.text) as {
    principals: { userName?: string; accessKeyId: string; secretAccessKey: string }[];
  };
  const ci = file.principals.find((p) => p.userName === "ci")!;
  const kms = new KMSClient({
    endpoint: server.url,
    region: "us-east-1",
    credentials: { accessKeyId: ci.accessKeyId, secretAccessKey: ci.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    await server.waitFor(/no admin credential was created/);
    assert.ok(!server.lines().some((line) => line.includes("AWS_SECRET_ACCESS_KEY=")));
    const key = await kms.send(new CreateKeyCommand({}));
    const plaintext = new TextEncoder().encode("ci");
    const sealed = await kms.send(
      new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: plaintext }),
    );
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    assert.deepEqual(opened.Plaintext, plaintext);
  } finally {
    kms.destroy();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
