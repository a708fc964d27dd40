/**
 * docs/ci.md as written: its shell recipe runs as one bash script, and its GitHub Actions job runs
 * step by step (every `run:` with the job's `env:`, except the `npm ci` step whose result this
 * checkout has), both on a free port instead of 8080, with the AWS CLI v2 that `.ci/run` installs
 * (/usr/bin/aws) first on PATH. Each must start the KMS in the background, see it ready, use it
 * and stop it cleanly.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "yaml";

const ROOT = new URL("../", import.meta.url).pathname;
const RECIPE = await Deno.readTextFile(new URL("../docs/ci.md", import.meta.url));

/** The first fenced block of `lang` after the heading `heading`. */
function blockAfter(heading: string, lang: string): string {
  const section = RECIPE.slice(RECIPE.indexOf(`\n${heading}\n`));
  const match = new RegExp("```" + lang + "\\n([\\s\\S]*?)\\n```").exec(section);
  if (match === null) throw new Error(`docs/ci.md has no ${lang} block after ${heading}`);
  return match[1]!;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A directory whose `aws` is the AWS CLI v2 of `.ci/run`, to put first on PATH. */
async function clientBin(dir: string): Promise<string> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin);
  await Deno.symlink("/usr/bin/aws", `${bin}/aws`);
  return `${bin}:${Deno.env.get("PATH") ?? ""}`;
}

async function bash(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("bash", {
    args: ["--noprofile", "--norc", "-eo", "pipefail", "-c", script],
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr) };
}

async function answers(url: string): Promise<boolean> {
  try {
    await (await fetch(url)).body?.cancel();
    return true;
  } catch {
    return false;
  }
}

Deno.test("the shell recipe of docs/ci.md starts a seeded KMS, waits for it, uses it and stops it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ci-recipe-" });
  try {
    const port = freePort();
    const env = {
      PATH: await clientBin(dir),
      HOME: Deno.env.get("HOME") ?? dir,
      RUNNER_TEMP: dir,
      KMS_PORT: String(port),
    };
    const { code, output } = await bash(blockAfter("## Shell", "sh"), ROOT, env);
    const log = await Deno.readTextFile(`${dir}/kms.log`).catch(() => "");
    assert.equal(code, 0, `${output}\n--- kms.log\n${log}`);
    assert.match(output, /"5eed0000-0000-4000-8000-0000000000c1"/, output);
    assert.match(output, /^hello$/m, output);
    assert.match(log, /"shutdown complete"/);
    assert.equal(await answers(`http://127.0.0.1:${port}/health`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  "working-directory"?: string;
}

Deno.test("the GitHub Actions job of docs/ci.md runs step by step: start, ready, CreateKey, stop", async () => {
  const workflow = parse(blockAfter("## GitHub Actions", "yaml")) as {
    jobs: { test: { env: Record<string, string>; steps: Step[] } };
  };
  const job = workflow.jobs.test;
  const dir = await Deno.makeTempDir({ prefix: "ci-workflow-" });
  const port = String(freePort());
  const env: Record<string, string> = {
    PATH: await clientBin(dir),
    HOME: Deno.env.get("HOME") ?? dir,
    RUNNER_TEMP: dir,
  };
  for (const [name, value] of Object.entries(job.env)) {
    env[name] = String(value).replaceAll("8080", port);
  }
  const ran: string[] = [];
  try {
    for (const step of job.steps) {
      if (step.run === undefined || step.run.trim() === "npm ci") continue;
      const cwd = step["working-directory"] === "edge-kms" ? ROOT : dir;
      const { code, output } = await bash(step.run, cwd, env);
      assert.equal(code, 0, `step "${step.name}" failed:\n${output}`);
      ran.push(step.name ?? "");
      if (step.name === "Test") assert.match(output, /^"[0-9a-f-]{36}"$/m, output);
    }
    assert.deepEqual(ran, ["Start the KMS", "Wait for the KMS", "Test", "Stop the KMS"]);
    assert.match(await Deno.readTextFile(`${dir}/kms.log`), /"shutdown complete"/);
    assert.equal(await answers(`http://127.0.0.1:${port}/health`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
