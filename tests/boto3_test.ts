/**
 * boto3 (Debian's python3-boto3) against a real server. Skipped, and said so,
 * when boto3 is not installed; .ci/run installs it.
 */
import assert from "node:assert/strict";
import { awsClientEnv, withServer } from "./helpers/server.ts";

const PYTHON = "/usr/bin/python3";

async function hasBoto3(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(PYTHON, {
      args: ["-c", "import boto3"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return success;
  } catch {
    return false;
  }
}

const available = await hasBoto3();
if (!available && Deno.env.get("CI") === "true") {
  throw new Error("boto3 is required in CI (.ci/run installs Debian's python3-boto3)");
}

Deno.test({
  name: "boto3 creates a key and alias, generates a data key, decrypts it and gets AWS error codes",
  ignore: !available,
  fn: () =>
    withServer(async ({ url }) => {
      const script = new URL("./clients/boto3_roundtrip.py", import.meta.url).pathname;
      const output = await new Deno.Command(PYTHON, {
        args: [script],
        env: { KMS_URL: url, ...awsClientEnv() },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      const seen = JSON.parse(new TextDecoder().decode(output.stdout));
      assert.deepEqual(seen, {
        keyState: "Enabled",
        sameKey: true,
        length: 32,
        keyId: true,
        changedContext: "InvalidCiphertextException",
        missingAlias: "NotFoundException",
      });
    }),
});
